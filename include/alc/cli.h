/*
 * cli.h — the sub-commands of the alc executable (src/cli). Each takes the arguments after
 * its name (argv[0] is the sub-command name), runs on the main thread, and returns the
 * process exit status. main.c dispatches to them through its table.
 */
#ifndef ALC_CLI_H
#define ALC_CLI_H

#include "alc/config.h"

typedef int (*alc_cli_fn)(const alc_config *cfg, int argc, char **argv);

typedef struct alc_cli_command {
    const char *name;
    alc_cli_fn fn;
    const char *summary;   /* one line for `alc --help` */
} alc_cli_command;

#endif
