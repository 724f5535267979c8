/*
 * attach: `mystery-engine attach`, the console of a running instrument.
 *
 * The same console as a foreground instance (every panel and key), linked
 * to the instrument through the control socket instead of the worker: the
 * snapshots it draws come over the socket, its keys go back as commands,
 * reload and presets are asked of the instrument.  q or d detaches and the
 * instrument plays on; Q stops it after a confirmation; a hang-up of the
 * terminal (an SSH link closed) only detaches.  Main thread.
 */
#ifndef ME_UI_ATTACH_H
#define ME_UI_ATTACH_H

#include <stdbool.h>

#include "cfg/cli.h"
#include "cfg/config.h"

/* `mystery-engine attach`: returns the exit status (enum ctl_status). */
int attach_main(const struct config *cfg, const struct cli_options *opts);

/*
 * Before running the instrument on a terminal: when an instance with the
 * same configuration (or on the socket named by --socket or
 * control.socket) already answers, says so in one line on stderr and
 * attaches to it, like tmux's `new -A`.  Returns true with *rc the exit
 * status when it did; false when the instrument should start.
 */
bool attach_if_running(const struct config *cfg, const struct cli_options *opts, int *rc);

#endif
