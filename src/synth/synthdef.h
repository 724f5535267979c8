/*
 * synthdef: SuperCollider synth definitions written by our own code.
 *
 * A tiny graph builder (constants, named parameters, UGens whose inputs are
 * constants or outputs of earlier UGens) and a writer for the binary
 * "SCgf" version 2 file format that scsynth loads with /d_recv.  The
 * project's three defs (me_voice, me_fx, me_rec) are built here; see
 * doc/synth.md for their parameters and graphs.
 */
#ifndef ME_SYNTH_SYNTHDEF_H
#define ME_SYNTH_SYNTHDEF_H

#include <stddef.h>
#include <stdint.h>

#define SYNTHDEF_MAX_CONSTS 64
#define SYNTHDEF_MAX_PARAMS 16
#define SYNTHDEF_MAX_UGENS 48
#define SYNTHDEF_MAX_INPUTS 32
#define SYNTHDEF_MAX_OUTPUTS 16
#define SYNTHDEF_NAME_MAX 255 /* a pstring holds at most 255 bytes */

/* Calculation rates as the file format numbers them. */
enum synthdef_rate {
	SYNTHDEF_SCALAR = 0,
	SYNTHDEF_CONTROL = 1,
	SYNTHDEF_AUDIO = 2,
	SYNTHDEF_DEMAND = 3
};

/* Operator numbers of BinaryOpUGen and UnaryOpUGen (the special index). */
enum synthdef_op {
	SYNTHDEF_OP_ADD = 0,
	SYNTHDEF_OP_SUB = 1,
	SYNTHDEF_OP_MUL = 2,
	SYNTHDEF_OP_SOFTCLIP = 43 /* unary */
};

/* EnvGen's doneAction that frees the synth when the envelope ends. */
#define SYNTHDEF_DONE_FREE_SELF 2

/* Seconds a sound parameter (cutoff, reverb mix, volume) takes to glide
 * to a new value, in a straight line: the spacing of the core's fade ticks,
 * so a fade's staircase plays as one continuous line. */
#define SYNTHDEF_LAG_S 0.1f

enum synthdef_err {
	SYNTHDEF_OK = 0,
	SYNTHDEF_E_FULL,  /* a table of the builder is full */
	SYNTHDEF_E_NAME,  /* a name is empty or longer than 255 bytes */
	SYNTHDEF_E_INPUT, /* an input names a UGen or output that does not exist */
	SYNTHDEF_E_SPACE, /* the output buffer is too small */
	SYNTHDEF_E_NOMEM,
	SYNTHDEF_E_IO /* writing the file failed (see errno) */
};

/* One UGen input: a constant (ugen = -1, index into the constants) or an
 * output of an earlier UGen. */
struct synthdef_in {
	int32_t ugen;
	int32_t index;
};

struct synthdef_ugen {
	const char *name; /* class name, a string literal */
	uint8_t rate;     /* enum synthdef_rate */
	int16_t special;
	int n_in, n_out;
	struct synthdef_in in[SYNTHDEF_MAX_INPUTS];
	uint8_t out_rate[SYNTHDEF_MAX_OUTPUTS];
};

struct synthdef_param {
	const char *name;
	float value; /* initial value */
};

/* A def under construction.  Errors are sticky: the first one is kept in
 * err and every later call is a no-op, so a builder checks once at the end. */
struct synthdef {
	const char *name;
	int n_consts, n_params, n_ugens;
	float consts[SYNTHDEF_MAX_CONSTS];
	struct synthdef_param params[SYNTHDEF_MAX_PARAMS];
	struct synthdef_ugen ugens[SYNTHDEF_MAX_UGENS];
	enum synthdef_err err;
};

void synthdef_init(struct synthdef *d, const char *name);
/* The constant v (interned: equal values share one slot). */
struct synthdef_in synthdef_const(struct synthdef *d, float v);
/* Declares a parameter; all parameters must be declared before
 * synthdef_controls() adds the one Control UGen that outputs them. */
void synthdef_param(struct synthdef *d, const char *name, float value);
/* Adds the Control UGen (control rate, one output per parameter); returns
 * its UGen index (the input of parameter k is {index, k}). */
int synthdef_controls(struct synthdef *d);
/* Adds a UGen whose outputs all have its rate; returns its index or -1. */
int synthdef_ugen(struct synthdef *d, const char *cls, enum synthdef_rate rate, int special,
                  int n_out, int n_in, const struct synthdef_in *in);
/* Output k of UGen u as an input. */
struct synthdef_in synthdef_out(int u, int k);
/* Index of the named parameter, or -1. */
int synthdef_param_index(const struct synthdef *d, const char *name);

/* Bytes needed to write these defs as one file. */
size_t synthdef_size(const struct synthdef *const *defs, int n);
/* Writes "SCgf", version 2 and the defs into buf (cap bytes). */
enum synthdef_err synthdef_write(const struct synthdef *const *defs, int n, uint8_t *buf,
                                 size_t cap, size_t *len);

/* The project's defs, in the order me_voice, me_fx, me_rec. */
#define SYNTHDEF_COUNT 3
extern const char *const synthdef_names[SYNTHDEF_COUNT];
enum synthdef_err synthdef_build_voice(struct synthdef *d);
enum synthdef_err synthdef_build_fx(struct synthdef *d);
enum synthdef_err synthdef_build_rec(struct synthdef *d);
/* All three defs as one SCgf file in a malloc'd buffer (free() it). */
enum synthdef_err synthdef_build_all(uint8_t **buf, size_t *len);
/* Writes that file to path. */
enum synthdef_err synthdef_write_file(const char *path);

/* The voices' audio bus (where me_fx reads) and the node layout, shared by
 * the live backend and the score writer: a voice group at the head of the
 * root node 0, the effect synth after it, a recorder at the tail of 0;
 * voices are numbered from 1000 (sc_plan.h). */
#define SYNTHDEF_FX_BUS 16
#define SYNTHDEF_GROUP_VOICES 900
#define SYNTHDEF_NODE_FX 901
#define SYNTHDEF_NODE_REC 902

/* The output meter in me_fx: replies PATH node id peakL rmsL peakR rmsR to
 * every notified client METER_HZ times a second. */
#define SYNTHDEF_METER_PATH "/me_meter"
#define SYNTHDEF_METER_HZ 5
#define SYNTHDEF_METER_ID 1001

/* Equal temperament, A4 = MIDI 69 = 440 Hz. */
double synthdef_freq_of(int pitch);
/* Amplitude of one voice for a MIDI velocity 0..127 (0 for 0). */
double synthdef_amp_of(int velocity);

const char *synthdef_strerror(enum synthdef_err e);

#endif
