/*
 * spawn_shim.c — LD_PRELOAD shim used by scripts/test to run the servers that `alc replay`
 * starts under valgrind memcheck, while the replay client itself runs natively.
 *
 * Why: `alc replay` starts its server with posix_spawn("/proc/self/exe"). Under
 * `valgrind --trace-children=yes` that path names valgrind's own tool binary, which cannot be
 * started that way, so valgrind cannot simply wrap the replay. This shim interposes posix_spawn
 * in the replay process: a spawn of "/proc/self/exe" becomes a spawn of valgrind with the real
 * executable and the same arguments, file actions, attributes and environment (minus
 * LD_PRELOAD). Every other spawn passes through unchanged.
 *
 * Settings (read in the replay process): VG_SHIM_VALGRIND (default /usr/bin/valgrind),
 * VG_SHIM_LOGDIR (required: valgrind writes vg.<pid>.log there). Valgrind exits 99 on any
 * error or definite leak, which the replay reports as a failed server.
 *
 * Test-only code, never linked into alc. Threads: posix_spawn may be called from any thread;
 * the shim keeps no state but the resolved real function.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
    spawn_fn real = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
    if (!real) return 38; /* ENOSYS */
    const char *logdir = getenv("VG_SHIM_LOGDIR");
    if (!logdir || strcmp(path, "/proc/self/exe") != 0) return real(pid, path, fa, attr, argv, envp);
    static char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return real(pid, path, fa, attr, argv, envp);
    exe[n] = '\0';
    const char *vg = getenv("VG_SHIM_VALGRIND");
    if (!vg || !*vg) vg = "/usr/bin/valgrind";
    static char logopt[PATH_MAX + 32];
    snprintf(logopt, sizeof logopt, "--log-file=%s/vg.%%p.log", logdir);
    const char *opts[] = {vg, "--quiet", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite",
                          "--errors-for-leak-kinds=definite", "--track-origins=no", "--num-callers=30", logopt, exe};
    size_t no = sizeof opts / sizeof *opts, na = 0, ne = 0;
    while (argv[na]) na++;
    while (envp && envp[ne]) ne++;
    char **nargv = calloc(no + na + 1, sizeof *nargv);
    char **nenv = calloc(ne + 1, sizeof *nenv);
    if (!nargv || !nenv) {
        free(nargv);
        free(nenv);
        return 12; /* ENOMEM */
    }
    size_t k = 0;
    for (size_t i = 0; i < no; i++) nargv[k++] = (char *)opts[i];
    for (size_t i = 1; i < na; i++) nargv[k++] = argv[i]; /* argv[0] is replaced by exe */
    nargv[k] = NULL;
    k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0) nenv[k++] = envp[i];
    nenv[k] = NULL;
    int rc = real(pid, vg, fa, attr, nargv, nenv);
    free(nargv);
    free(nenv);
    return rc;
}
