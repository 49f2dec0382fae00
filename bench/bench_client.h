/*
 * bench_client.h — the pipe client shared by the benchmark programs: start a server process
 * behind two pipes (optionally pinned to one CPU), write request lines, read reply lines, scan
 * replies cheaply, take timestamps and percentiles.
 *
 * Benchmark-only code (bench/ tree, never linked into alc). Plain C11 + POSIX.
 *
 * Threads: one alc_bench_proc may be used by two threads at once only in this split: one thread
 * calls alc_bench_send, the other alc_bench_recv. Everything else from one thread while no other
 * call on the same object runs. Sample sets are single-threaded.
 */
#ifndef ALC_BENCH_CLIENT_H
#define ALC_BENCH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct alc_bench_proc alc_bench_proc;

/* ---- clocks, CPUs, memory ------------------------------------------------------------- */

uint64_t alc_bench_now_ns(void);
void alc_bench_sleep_ms(int ms);
int alc_bench_pin_self(int cpu);
int alc_bench_ncpus(void);
long alc_bench_rss_kib(pid_t pid);
long alc_bench_threads(pid_t pid);
long alc_bench_mem_available_kib(void);

/* ---- processes ------------------------------------------------------------------------ */

alc_bench_proc *alc_bench_spawn(const char *const argv[], const char *const *env_extra, int cpu,
                                const char *stderr_path);
pid_t alc_bench_pid(const alc_bench_proc *p);
int alc_bench_send(alc_bench_proc *p, const char *line, size_t len);
const char *alc_bench_recv(alc_bench_proc *p, int timeout_ms, size_t *len);
const char *alc_bench_recv_id(alc_bench_proc *p, long long id, int timeout_ms, size_t *len);
int alc_bench_initialize(alc_bench_proc *p, int timeout_ms);
int alc_bench_close_stdin(alc_bench_proc *p);
int alc_bench_wait(alc_bench_proc *p, int timeout_ms, int *exit_status);
void alc_bench_free(alc_bench_proc *p);

/* ---- reply scanning ------------------------------------------------------------------- */

long long alc_bench_line_id(const char *line, size_t len);
bool alc_bench_line_has(const char *line, size_t len, const char *needle);
bool alc_bench_text_field(const char *line, size_t len, const char *key, char *out, size_t outlen);

/* ---- samples -------------------------------------------------------------------------- */

typedef struct alc_bench_samples {
    uint64_t *v;   /* nanoseconds */
    size_t n, cap;
    bool sorted;
} alc_bench_samples;

void alc_bench_samples_add(alc_bench_samples *s, uint64_t ns);
uint64_t alc_bench_samples_pct(alc_bench_samples *s, double pct);
void alc_bench_samples_free(alc_bench_samples *s);

/* Prints "fatal: ..." on stderr and exits with status 1. */
void alc_bench_die(const char *fmt, ...);

#endif
