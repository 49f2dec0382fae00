/*
 * thread.h — thin wrappers over pthread mutexes, condition variables and threads; a
 * condition variable for one waiter (alc_park); the calling thread's scheduling settings.
 *
 * Misuse aborts: every lock/unlock/wait failure calls alc_panic(). In debug builds
 * (!NDEBUG) mutexes are PTHREAD_MUTEX_ERRORCHECK so that double locks and unlocks by a
 * non-owner abort at once. Condition variables measure time on CLOCK_MONOTONIC.
 * All functions may be called from any thread.
 */
#ifndef ALC_THREAD_H
#define ALC_THREAD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct alc_mutex { pthread_mutex_t m; } alc_mutex;
typedef struct alc_cond { pthread_cond_t c; } alc_cond;
typedef struct alc_park { sem_t sem; } alc_park;

/* Prints "alc: fatal: <msg>" to stderr and aborts. Never returns. */
_Noreturn void alc_panic(const char *fmt, ...);

void alc_mutex_init(alc_mutex *m);
void alc_mutex_deinit(alc_mutex *m);
void alc_mutex_lock(alc_mutex *m);
void alc_mutex_unlock(alc_mutex *m);

void alc_cond_init(alc_cond *c);
void alc_cond_deinit(alc_cond *c);
void alc_cond_signal(alc_cond *c);
void alc_cond_broadcast(alc_cond *c);
/* Waits on c; m must be held. Spurious wake-ups happen: always wait in a predicate loop. */
void alc_cond_wait(alc_cond *c, alc_mutex *m);
/* Waits at most rel_ns nanoseconds. Returns true if woken, false on time-out. m must be held. */
bool alc_cond_timedwait_ns(alc_cond *c, alc_mutex *m, int64_t rel_ns);

/*
 * A condition variable for exactly one waiting thread, built on a semaphore: a session's park.
 * Same contract as alc_cond: the waiter holds m, tests its predicate in a loop and calls
 * alc_park_wait, which unlocks m, sleeps until a wake (or a signal: EINTR counts as a spurious
 * wake-up) and locks m again; whoever changes the predicate does so under m, then calls
 * alc_park_wake (with or without m held). Wakes are counted, so one that comes before the wait
 * is not lost; an extra one costs the waiter one more turn of its loop.
 * Why not alc_cond: pthread_cond_wait re-locks the mutex marked as contended, so the next unlock
 * always makes a futex system call, even with nobody waiting. Here the re-lock is a plain lock.
 * On the pause/resume path that is one system call in three (measured: bench throughput).
 */
void alc_park_init(alc_park *p);
void alc_park_deinit(alc_park *p);
void alc_park_wake(alc_park *p);
void alc_park_wait(alc_park *p, alc_mutex *m);

/*
 * Starts a detached-or-joinable thread running fn(arg) with the given stack size (0 = default)
 * and a name (at most 15 bytes are used; the thread sets it itself before calling fn). Returns
 * ALC_OK, ALC_E_LIMIT when the system refuses another thread, or ALC_E_NOMEM. If detached is
 * true, *out may be NULL.
 */
int alc_thread_start(pthread_t *out, void *(*fn)(void *), void *arg, size_t stack_size,
                     const char *name, bool detached);
/* Lowers the calling thread to nice 19 (Linux: per thread): it still makes progress on a busy
 * machine, but a thread that is woken (the reader, the writer, a session answering a call)
 * gets the CPU before it. One way for an unprivileged thread. For a session thread whose
 * last reply is out: what is left (closing Lua, the session log, topping up the warm pool)
 * must not delay anybody's answer; the warm pool's builder. Best effort. */
void alc_thread_wind_down(void);
/* Sets the calling thread's policy for running Lua: SCHED_BATCH when batch (Linux; same nice,
 * no privilege needed), else SCHED_OTHER; either way with the default time slice, not one
 * inherited from the creating thread (see alc_thread_short_slice). A thread under another
 * policy (the server started with chrt --idle or a realtime policy) is left as it is. Under SCHED_BATCH a thread
 * that is woken no longer preempts the one running, it waits for that one to block or for the
 * next scheduler tick: when the reader wakes a session with an answer, it finishes the lines it
 * has already read (waking their sessions too) instead of being switched out after each one;
 * the sessions then run one after another. Best effort. */
void alc_thread_lua_policy(bool batch);
/* Asks for a short time slice (ns) for the calling thread, keeping its policy and nice (Linux
 * 6.12+ reads sched_runtime as the slice of a normal thread; older kernels ignore it; a thread
 * that is not SCHED_OTHER or SCHED_BATCH is left alone). Under
 * EEVDF a woken thread with a shorter slice than the running one may cut that one's slice
 * short. For the reader: a cancel (or any request) it wakes up for is read at once even when a
 * Lua thread is busy on the same CPU. Best effort. */
void alc_thread_short_slice(uint64_t ns);
/* Joins t; aborts on failure. */
void alc_thread_join(pthread_t t);

/* Monotonic clock in nanoseconds / milliseconds. */
int64_t alc_now_ns(void);
int64_t alc_now_ms(void);
/* Wall clock: Unix time in milliseconds. */
int64_t alc_wall_ms(void);
/* Sleeps for ms milliseconds (restarts on EINTR). */
void alc_sleep_ms(int64_t ms);

#endif
