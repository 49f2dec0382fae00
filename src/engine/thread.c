/*
 * thread.c — pthread wrappers that abort on misuse (conventions 8 and 14), the single-waiter
 * park, the calling thread's scheduling settings, and clocks.
 * Any thread may call any function here.
 */
#define _GNU_SOURCE /* pthread_setname_np, SCHED_BATCH */
#include "alc/thread.h"

#include "alc/error.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

/* Prints a fatal message to stderr and aborts. */
_Noreturn void alc_panic(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("alc: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void check(int rc, const char *what) {
    if (rc != 0) alc_panic("%s failed: %s", what, strerror(rc));
}

/* Initialises m (error-checking in debug builds). */
void alc_mutex_init(alc_mutex *m) {
    pthread_mutexattr_t a;
    check(pthread_mutexattr_init(&a), "pthread_mutexattr_init");
#ifndef NDEBUG
    check(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), "pthread_mutexattr_settype");
#endif
    check(pthread_mutex_init(&m->m, &a), "pthread_mutex_init");
    pthread_mutexattr_destroy(&a);
}

void alc_mutex_deinit(alc_mutex *m) { check(pthread_mutex_destroy(&m->m), "pthread_mutex_destroy"); }
void alc_mutex_lock(alc_mutex *m) { check(pthread_mutex_lock(&m->m), "pthread_mutex_lock"); }
void alc_mutex_unlock(alc_mutex *m) { check(pthread_mutex_unlock(&m->m), "pthread_mutex_unlock"); }

/* Initialises c to measure timeouts on CLOCK_MONOTONIC. */
void alc_cond_init(alc_cond *c) {
    pthread_condattr_t a;
    check(pthread_condattr_init(&a), "pthread_condattr_init");
    check(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), "pthread_condattr_setclock");
    check(pthread_cond_init(&c->c, &a), "pthread_cond_init");
    pthread_condattr_destroy(&a);
}

void alc_cond_deinit(alc_cond *c) { check(pthread_cond_destroy(&c->c), "pthread_cond_destroy"); }
void alc_cond_signal(alc_cond *c) { check(pthread_cond_signal(&c->c), "pthread_cond_signal"); }
void alc_cond_broadcast(alc_cond *c) { check(pthread_cond_broadcast(&c->c), "pthread_cond_broadcast"); }
void alc_cond_wait(alc_cond *c, alc_mutex *m) { check(pthread_cond_wait(&c->c, &m->m), "pthread_cond_wait"); }

/* The single-waiter park; see thread.h. */
void alc_park_init(alc_park *p) {
    if (sem_init(&p->sem, 0, 0) != 0) alc_panic("sem_init failed: %s", strerror(errno));
}

void alc_park_deinit(alc_park *p) {
    if (sem_destroy(&p->sem) != 0) alc_panic("sem_destroy failed: %s", strerror(errno));
}

void alc_park_wake(alc_park *p) {
    /* EOVERFLOW would need SEM_VALUE_MAX wakes nobody waited for; the waiter's predicate loop
     * does not need more than one, so it is not an error */
    if (sem_post(&p->sem) != 0 && errno != EOVERFLOW) alc_panic("sem_post failed: %s", strerror(errno));
}

void alc_park_wait(alc_park *p, alc_mutex *m) {
    alc_mutex_unlock(m);
    if (sem_wait(&p->sem) != 0 && errno != EINTR) alc_panic("sem_wait failed: %s", strerror(errno));
    alc_mutex_lock(m);
}

/* Waits at most rel_ns; true if signalled (or spurious), false on time-out. m held. */
bool alc_cond_timedwait_ns(alc_cond *c, alc_mutex *m, int64_t rel_ns) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (rel_ns < 0) rel_ns = 0;
    int64_t ns = (int64_t)ts.tv_nsec + rel_ns % 1000000000;
    ts.tv_sec += (time_t)(rel_ns / 1000000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    int rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
    if (rc == ETIMEDOUT) return false;
    check(rc, "pthread_cond_timedwait");
    return true;
}

/* What a new thread needs before it runs fn: its name, set from inside (a thread naming
 * itself is one prctl; naming another thread means writing /proc/self/task/<tid>/comm, about
 * 10 µs on the creating thread, which for sessions is the reader). Owned by the new thread. */
typedef struct thread_start {
    void *(*fn)(void *);
    void *arg;
    char name[16];
} thread_start;

static void *thread_trampoline(void *p) {
    thread_start st = *(thread_start *)p;
    free(p);
    if (st.name[0]) pthread_setname_np(pthread_self(), st.name); /* best effort: a debugging aid */
    return st.fn(st.arg);
}

/* Starts a thread; see thread.h. Returns ALC_OK, ALC_E_LIMIT or ALC_E_NOMEM. */
int alc_thread_start(pthread_t *out, void *(*fn)(void *), void *arg, size_t stack_size,
                     const char *name, bool detached) {
    thread_start *st = malloc(sizeof *st);
    if (!st) return ALC_E_NOMEM;
    st->fn = fn;
    st->arg = arg;
    snprintf(st->name, sizeof st->name, "%s", name ? name : "");
    pthread_attr_t a;
    pthread_t t;
    check(pthread_attr_init(&a), "pthread_attr_init");
    if (stack_size) check(pthread_attr_setstacksize(&a, stack_size), "pthread_attr_setstacksize");
    if (detached) check(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), "pthread_attr_setdetachstate");
    /* new threads never take the process's stop signals: only the main thread does */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&t, &a, thread_trampoline, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        free(st);
        return ALC_E_LIMIT;
    }
    if (out) *out = t;
    return ALC_OK;
}

/* The kernel's struct sched_attr (sched_setattr(2)); glibc has no wrapper for it. */
typedef struct sched_attr_v1 {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
} sched_attr_v1;

/* Sets only the policy, with pthread_setschedparam, where sched_getattr/sched_setattr are not
 * available (an old kernel, a seccomp filter); the same rule: only SCHED_OTHER/BATCH threads. */
#if defined(__linux__)
static void set_policy_only(int policy) {
    int cur = sched_getscheduler(0);
    if (cur < 0 || policy < 0) return;
    cur &= ~SCHED_RESET_ON_FORK;
    if (cur != SCHED_OTHER && cur != SCHED_BATCH) return;
    struct sched_param sp = {.sched_priority = 0};
    (void)pthread_setschedparam(pthread_self(), policy, &sp);
}
#endif

/* Sets the calling thread's fair-class policy (SCHED_OTHER or SCHED_BATCH; -1 keeps the
 * current one) and time slice (0: the kernel's default), keeping its nice and
 * SCHED_RESET_ON_FORK (sched_getattr reads them). Only a thread that is SCHED_OTHER or
 * SCHED_BATCH is changed: a server started under chrt --idle or a realtime policy keeps it.
 * sched_setattr rather than pthread_setschedparam: only it sets or drops a custom slice. Where
 * those calls are refused, the policy alone is set (set_policy_only) and the slice is left as
 * it is. Best effort otherwise: a refused call changes nothing. */
static void set_fair_policy(int policy, uint64_t slice_ns) {
#if defined(__linux__) && defined(SYS_sched_setattr) && defined(SYS_sched_getattr)
    /* two system calls: this runs at the start of every session thread */
    sched_attr_v1 a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0u) != 0) {
        set_policy_only(policy);
        return;
    }
    if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) return;
    if (policy >= 0) a.sched_policy = (uint32_t)policy;
    a.size = sizeof a;
    a.sched_flags &= 0x01u; /* keep SCHED_FLAG_RESET_ON_FORK (linux/sched.h), nothing else */
    a.sched_runtime = slice_ns;
    a.sched_deadline = a.sched_period = 0;
    a.sched_util_min = a.sched_util_max = 0;
    if (syscall(SYS_sched_setattr, 0, &a, 0u) != 0) set_policy_only(policy);
#elif defined(__linux__)
    (void)slice_ns;
    set_policy_only(policy);
#else
    (void)policy;
    (void)slice_ns;
#endif
}

/* A short slice for the calling thread, policy unchanged; see thread.h. */
void alc_thread_short_slice(uint64_t ns) { set_fair_policy(-1, ns); }

/* The Lua threads' policy, with the default slice; see thread.h. */
void alc_thread_lua_policy(bool batch) { set_fair_policy(batch ? SCHED_BATCH : SCHED_OTHER, 0); }

/* Lowers the calling thread to nice 19; see thread.h. */
void alc_thread_wind_down(void) {
#if defined(__linux__)
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19); /* per thread on Linux; best effort */
#endif
}

void alc_thread_join(pthread_t t) { check(pthread_join(t, NULL), "pthread_join"); }

int64_t alc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t alc_now_ms(void) { return alc_now_ns() / 1000000; }

int64_t alc_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void alc_sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}
