/* Unit tests for the thread wrappers (include/alc/thread.h): the single-waiter park. */
#include "alc/thread.h"

#include "helpers.h"

#include <signal.h>
#include <stdatomic.h>

typedef struct {
    alc_mutex mu;
    alc_park park;
    int value;        /* guarded by mu */
    int seen;         /* guarded by mu */
    atomic_int turns; /* waits the waiter made */
} parked;

static void *wait_for_value(void *arg) {
    parked *p = arg;
    alc_mutex_lock(&p->mu);
    while (p->value == 0) {
        atomic_fetch_add(&p->turns, 1);
        alc_park_wait(&p->park, &p->mu);
    }
    p->seen = p->value;
    alc_mutex_unlock(&p->mu);
    return NULL;
}

static void parked_init(parked *p) {
    memset(p, 0, sizeof *p);
    alc_mutex_init(&p->mu);
    alc_park_init(&p->park);
}

static void parked_deinit(parked *p) {
    alc_park_deinit(&p->park);
    alc_mutex_deinit(&p->mu);
}

Test(thread, park_wake_before_the_wait_is_not_lost) {
    parked p;
    parked_init(&p);
    alc_mutex_lock(&p.mu);
    p.value = 7;
    alc_mutex_unlock(&p.mu);
    alc_park_wake(&p.park);
    /* the waiter starts after the wake: its predicate is already true, and the counted wake
     * left behind makes a later wait return at once instead of hanging */
    wait_for_value(&p);
    cr_assert_eq(p.seen, 7);
    alc_mutex_lock(&p.mu);
    alc_park_wait(&p.park, &p.mu); /* consumes the stored wake; would block forever without it */
    alc_mutex_unlock(&p.mu);
    parked_deinit(&p);
}

Test(thread, park_wakes_a_sleeping_waiter_from_another_thread) {
    for (int round = 0; round < 200; round++) {
        parked p;
        parked_init(&p);
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, wait_for_value, &p), 0);
        if (round % 2) alc_sleep_ms(1); /* half the time the waiter is asleep before the wake */
        alc_mutex_lock(&p.mu);
        p.value = round + 1;
        alc_mutex_unlock(&p.mu);
        alc_park_wake(&p.park);
        alc_thread_join(t);
        cr_assert_eq(p.seen, round + 1);
        parked_deinit(&p);
    }
}

static void on_usr1(int sig) { (void)sig; }

Test(thread, park_treats_a_signal_as_a_spurious_wake) {
    struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART: sem_wait returns EINTR */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    parked p;
    parked_init(&p);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, wait_for_value, &p), 0);
    while (atomic_load(&p.turns) == 0) alc_sleep_ms(1);
    /* a signal that lands inside sem_wait makes the waiter go round its loop again (one that
     * lands just before it does not): signal until it has, for at most 2 s */
    for (int i = 0; i < 2000 && atomic_load(&p.turns) < 2; i++) {
        pthread_kill(t, SIGUSR1);
        alc_sleep_ms(1);
    }
    cr_assert_geq(atomic_load(&p.turns), 2);
    alc_mutex_lock(&p.mu);
    cr_assert_eq(p.seen, 0);
    p.value = 42;
    alc_mutex_unlock(&p.mu);
    alc_park_wake(&p.park);
    alc_thread_join(t);
    cr_assert_eq(p.seen, 42);
    parked_deinit(&p);
}
