/*
 * preset: named snapshots of the parameters and the step pattern, saved as
 * libconfig text files DIR/NAME.preset in the state directory.
 *
 * Saving is atomic: the text goes to DIR/.NAME.tmp.PID, is fsync'ed, renamed
 * over DIR/NAME.preset and the directory is fsync'ed, so a power cut or a
 * kill leaves the old or the new preset, never a mixture.  Loading parses the
 * whole file and checks every value against the parameter table before it
 * returns anything: a damaged file is an error naming file, line and key and
 * is never applied.  Only regular files are read, without following a
 * symbolic link and without blocking: a FIFO, a device or a link under a
 * preset's name is refused at once.  A loaded preset reaches the core only
 * as commands (preset_commands), like every other input.
 *
 * Control threads only (main, console, HTTP): these functions allocate and do
 * file I/O, never call them on the real-time worker.
 */
#ifndef ME_OPS_PRESET_H
#define ME_OPS_PRESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"

#define PRESET_NAME_MAX 64 /* characters of a name, without the NUL */
#define PRESET_SUFFIX ".preset"
#define PRESET_VERSION 1
/* Commands one preset turns into, at most: every parameter and every step. */
#define PRESET_MAX_COMMANDS (P_COUNT + ENGINE_MAX_STEPS)

enum preset_err {
	PRESET_OK = 0,
	PRESET_ERR_NAME = -1,      /* not [A-Za-z0-9_-]{1,64} */
	PRESET_ERR_NOT_FOUND = -2, /* no such preset */
	PRESET_ERR_IO = -3,        /* the directory or a file cannot be read or written */
	PRESET_ERR_SYNTAX = -4,    /* not libconfig text (damaged, truncated) */
	PRESET_ERR_INVALID = -5,   /* a key is unknown, mistyped or out of range */
	PRESET_ERR_NOMEM = -6,
	PRESET_ERR_NOT_REGULAR = -7, /* a FIFO, device, directory or symbolic link */
};

/* A parsed preset: only what the file lists is applied. */
struct preset {
	uint32_t mask; /* bit (1u << param_id) for each listed parameter */
	double value[P_COUNT];
	int n_steps; /* entries of steps[] listed; 0: the pattern is kept */
	struct engine_step steps[ENGINE_MAX_STEPS];
};

const char *preset_strerror(int err);

/* Whether name is [A-Za-z0-9_-]{1,64}: no path can hide in it. */
bool preset_name_ok(const char *name);

/* Creates dir (and missing parents) with mode 0755; 0 or a preset_err. */
int preset_dir_ensure(const char *dir, char *err, size_t errlen);

/*
 * Saves the parameters and the pattern of st as DIR/NAME.preset, atomically
 * (see above).  Stale temporary files that killed saves of the same name left
 * behind are removed.  0 or a preset_err with the reason in err.
 */
int preset_save(const char *dir, const char *name, const struct engine_state *st, char *err,
                size_t errlen);

/* The libconfig text preset_save() writes for st; malloc'ed, NULL on ENOMEM. */
char *preset_format(const struct engine_state *st);

/*
 * Loads DIR/NAME.preset into *out.  *out is written only on success; on
 * failure err says what and where ("FILE:LINE: KEY: problem").
 */
int preset_load(const char *dir, const char *name, struct preset *out, char *err, size_t errlen);
/*
 * The atomic write presets use, for any small text file of the state
 * folder: written to DIR/.STEM.tmp.PID, fsync'ed, renamed over DIR/FILE,
 * the folder fsync'ed.  0 or PRESET_ERR_IO with the reason in err.
 */
int preset_write_atomic(const char *dir, const char *stem, const char *file, const char *text,
                        char *err, size_t errlen);
/* The careful read presets use (regular files only, no link followed, never
 * waits on a FIFO, at most PRESET_FILE_MAX bytes): 0 with a malloc'ed
 * NUL-terminated text, or a preset_err with the reason in err. */
int preset_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);
/* The same for any file path. */
int preset_load_file(const char *path, struct preset *out, char *err, size_t errlen);

/*
 * The commands that apply p: the mode first (a mode brings its own profile),
 * then every other listed parameter as CMD_SET_PARAM from SRC_PRESET, then
 * one CMD_SET_STEP per listed step.  Returns the number written, at most cap
 * (PRESET_MAX_COMMANDS always suffices).
 */
size_t preset_commands(const struct preset *p, struct command *out, size_t cap);

/*
 * Names of the presets in dir, sorted, into names[0..cap); returns how many
 * there are (possibly more than cap), or a negative preset_err.  A missing
 * directory has none.
 */
int preset_list(const char *dir, char (*names)[PRESET_NAME_MAX + 1], int cap);

#endif
