/*
 * main.c — the alc executable: argument handling, protection of the protocol stream, signal
 * set-up, then the MCP server on stdio. Single-threaded until alc_server_run starts threads.
 */
#include "alc/cli.h"
#include "alc/config.h"
#include "alc/error.h"
#include "alc/replay.h"
#include "alc/server.h"
#include "alc/version.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sub-commands; each lives in src/cli/<name>.c. */
static const alc_cli_command commands[] = {
    {"run", alc_cli_run, "run a Lua strategy file and answer its prompts from the shell"},
    {"advice", alc_cli_advice, "run an installed strategy package on a task"},
    {"replay", alc_cli_replay, "replay a recorded transcript against a fresh server"},
    {"init", alc_cli_init, "install the bundled strategy packages into $ALC_HOME"},
    {NULL, NULL, NULL},
};

static void usage(FILE *to) {
    fputs("usage: alc [--help] [--version] [--record FILE]\n"
          "       alc COMMAND [ARGS...]\n"
          "\n"
          "With no arguments alc serves the Model Context Protocol (MCP) over stdio:\n"
          "JSON-RPC requests, one per line, on stdin; replies on stdout.\n"
          "Add it to an MCP host as the command `alc`. See README.md for the tools,\n"
          "the Lua API and the environment variables (ALC_HOME, ALC_MAX_MEMORY, ...).\n",
          to);
    if (commands[0].name) fputs("\ncommands:\n", to);
    for (const alc_cli_command *c = commands; c->name; c++) fprintf(to, "  %-10s %s\n", c->name, c->summary);
}

/* Runs a sub-command with the configuration loaded. */
static int run_command(const alc_cli_command *c, int argc, char **argv) {
    alc_config cfg;
    char err[256];
    if (alc_config_load(&cfg, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "alc: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int rc = c->fn(&cfg, argc, argv);
    alc_config_deinit(&cfg);
    return rc;
}

static void on_stop_signal(int sig) {
    (void)sig;
    alc_server_request_stop();
}

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] != '-') {
        for (const alc_cli_command *c = commands; c->name; c++)
            if (strcmp(argv[1], c->name) == 0) return run_command(c, argc - 1, argv + 1);
        fprintf(stderr, "alc: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) { printf("alc %s\n", ALC_VERSION); return 0; }
        if (strcmp(argv[i], "--record") == 0) { /* record.c reads ALC_RECORD */
            if (i + 1 >= argc) { fputs("alc: --record needs a FILE\n", stderr); return 2; }
            if (setenv("ALC_RECORD", argv[++i], 1) != 0) { perror("alc: --record"); return 2; }
            continue;
        }
        if (strncmp(argv[i], "--record=", 9) == 0) {
            if (setenv("ALC_RECORD", argv[i] + 9, 1) != 0) { perror("alc: --record"); return 2; }
            continue;
        }
        fprintf(stderr, "alc: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    /* Protect the protocol stream: the real stdout becomes proto_fd, and fd 1 points at
     * stderr so that a stray printf or io.write cannot corrupt JSON-RPC. */
    fflush(stdout);
    int proto_fd = dup(STDOUT_FILENO);
    if (proto_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perror("alc: cannot set up the protocol stream");
        return 1;
    }
    /* Likewise for input: the reader gets its own copy of stdin and fd 0 becomes /dev/null,
     * so a script calling io.read() cannot steal protocol bytes. */
    int in_fd = dup(STDIN_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (in_fd < 0 || devnull < 0 || dup2(devnull, STDIN_FILENO) < 0) {
        perror("alc: cannot set up the protocol stream");
        return 1;
    }
    close(devnull);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit makes writes fail with EFBIG instead */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the reader's read() returns EINTR and sees the flag */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    alc_config cfg;
    char err[256];
    if (alc_config_load(&cfg, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "alc: %s\n", err);
        close(proto_fd);
        return 2;
    }
    int rc = alc_server_run(&cfg, in_fd, proto_fd);
    close(in_fd);
    alc_config_deinit(&cfg);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc: %s\n", alc_err_message(rc));
        return 1;
    }
    return 0;
}
