/*
 * app: running the instrument (the default mode of mystery-engine).
 * Main thread; returns the process exit status.
 */
#ifndef ME_SRC_APP_H
#define ME_SRC_APP_H

#include "cfg/cli.h"
#include "cfg/config.h"

/*
 * Runs until SIGTERM or SIGINT; SIGHUP re-reads the configuration (same file
 * and --set overrides; one with errors changes nothing).  Returns 0 after a
 * clean stop.
 */
int app_run(const struct config *cfg, const struct cli_options *opts);

#endif
