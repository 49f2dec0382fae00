/*
 * pkg_git.c — runs `git clone --depth 1` for alc_pkg_install: fork + execve of the git binary
 * found on PATH (never a shell), stdin from /dev/null, stdout and stderr into a pipe that is read
 * for the error message, and a deadline after which the child's process group is killed.
 *
 * Everything the child needs (argv, envp, the fds) is prepared before fork, so the child only
 * makes async-signal-safe calls (setpgid, dup2, close, execve, _exit) — required because the
 * server forks while session threads run. No global state; any thread.
 */
#include "pkg_internal.h"

#include "alc/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Returns new path of an executable `git` on PATH, or NULL. */
static char *find_git(void) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *s = path; *s;) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0 && n < 4000 && s[0] == '/') {
            char cand[4096];
            snprintf(cand, sizeof cand, "%.*s/git", (int)n, s);
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) return strdup(cand);
        }
        if (!e) break;
        s = e + 1;
    }
    return NULL;
}

/* Returns new environment: the current one with GIT_TERMINAL_PROMPT=0 and, unless the user
 * set GIT_SSH_COMMAND, a batch-mode ssh (no password prompts). Entries are borrowed except the
 * added literals. */
static char **child_env(void) {
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **env = malloc((n + 3) * sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    bool has_ssh = false;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "GIT_TERMINAL_PROMPT=", 20) == 0) continue;
        if (strncmp(environ[i], "GIT_SSH_COMMAND=", 16) == 0) has_ssh = true;
        env[k++] = environ[i];
    }
    env[k++] = "GIT_TERMINAL_PROMPT=0";
    if (!has_ssh) env[k++] = "GIT_SSH_COMMAND=ssh -o BatchMode=yes";
    env[k] = NULL;
    return env;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Last non-empty line of buf[0..n) with control characters replaced, into out. */
static void last_line(const char *buf, size_t n, char *out, size_t outlen) {
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
    size_t start = n;
    while (start > 0 && buf[start - 1] != '\n' && buf[start - 1] != '\r') start--;
    size_t k = 0;
    for (size_t i = start; i < n && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)buf[i];
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    if (outlen) out[k] = '\0';
}

/* Clones url into dest; see pkg_internal.h. */
int alc__pkg_git_clone(const char *url, const char *dest, int timeout_ms, char *err, size_t errlen) {
    char *git = find_git();
    if (!git) {
        snprintf(err, errlen, "git is not installed (no executable 'git' on PATH); install git, or give an absolute path to a local directory instead of a URL");
        return ALC_E_NOT_FOUND;
    }
    char **env = child_env();
    int pfd[2] = {-1, -1};
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    long maxfd = sysconf(_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > 65536) maxfd = 65536;
    int rc = ALC_E_IO;
    pid_t pid = -1;
    if (!env || devnull < 0 || pipe(pfd) != 0) {
        snprintf(err, errlen, "cannot start git: %s", env ? strerror(errno) : "out of memory");
        goto done;
    }
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
    char *const argv[] = {
        git, "-c", "protocol.ext.allow=never", "clone", "--depth", "1", "--quiet", "--", (char *)url, (char *)dest, NULL,
    };
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start git: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        // child: async-signal-safe calls only
        setpgid(0, 0);
        dup2(devnull, STDIN_FILENO);
        dup2(pfd[1], STDOUT_FILENO);
        dup2(pfd[1], STDERR_FILENO);
        for (long fd = 3; fd < maxfd; fd++) close((int)fd);
        execve(git, argv, env);
        _exit(127);
    }
    setpgid(pid, pid);  // also from the parent, so the group exists before any kill below
    close(pfd[1]);
    pfd[1] = -1;

    char out[4096];
    size_t used = 0;
    long long deadline = now_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) { timed_out = true; break; }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        if (used == sizeof out) {  // keep the tail: the error is at the end
            memmove(out, out + sizeof out / 2, sizeof out / 2);
            used = sizeof out / 2;
        }
        ssize_t r = read(pfd[0], out + used, sizeof out - used);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;  // EOF: git (and its children) closed the pipe
        used += (size_t)r;
    }
    int status = 0;
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) { status = -1; break; }
        if (now_ms() >= deadline) { timed_out = true; break; }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        snprintf(err, errlen, "git clone of %s did not finish within %d s and was stopped", url, timeout_ms / 1000);
        rc = ALC_E_TIMEOUT;
        goto done;
    }
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = ALC_OK;
        goto done;
    }
    char line[512];
    last_line(out, used, line, sizeof line);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127 && !line[0])
        snprintf(err, errlen, "cannot run %s", git);
    else if (status != -1 && WIFEXITED(status))
        snprintf(err, errlen, "git clone of %s failed (exit status %d): %s", url, WEXITSTATUS(status), line[0] ? line : "(no message)");
    else
        snprintf(err, errlen, "git clone of %s failed: %s", url, line[0] ? line : "killed by a signal");
    rc = ALC_E_IO;
done:
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    if (devnull >= 0) close(devnull);
    free(env);
    free(git);
    return rc;
}
