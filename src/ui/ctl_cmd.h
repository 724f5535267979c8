/*
 * ctl_cmd: `mystery-engine ctl COMMAND`, one command to the running
 * instrument over its control socket, for scripts and for an operator
 * without a terminal.
 *
 *   status | get PARAM | set PARAM VALUE | preset save|load NAME | reload |
 *   pause | resume        (--json anywhere: the answer as one JSON object)
 *
 * Exit status: enum ctl_status (0 ok, 1 refused or failed, 2 usage, 69 no
 * running instance, 77 permission denied).  Main thread.
 */
#ifndef ME_UI_CTL_CMD_H
#define ME_UI_CTL_CMD_H

#include "cfg/cli.h"
#include "cfg/config.h"

int ctl_cmd_main(const struct config *cfg, const struct cli_options *opts);

/*
 * The control socket a client should use: opts->socket, else the one
 * running instance found among the candidate paths.  0 with path set, or an
 * enum ctl_status after printing why on stderr (prefix "mystery-engine
 * WHAT: ").
 */
int ctl_cmd_locate(const struct config *cfg, const struct cli_options *opts, const char *what,
                   char *path, size_t n);

#endif
