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

/* `alc run FILE.lua | -e CODE ...` (src/cli/run.c): runs a script, answers its prompts. */
int alc_cli_run(const alc_config *cfg, int argc, char **argv);
/* `alc advice STRATEGY --task TEXT ...` (src/cli/run.c): runs an installed strategy. */
int alc_cli_advice(const alc_config *cfg, int argc, char **argv);
/* `alc init [--force]` (src/cli/init.c): installs the bundled collection into $ALC_HOME. */
int alc_cli_init(const alc_config *cfg, int argc, char **argv);

#endif
