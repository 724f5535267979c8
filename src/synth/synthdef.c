/*
 * synthdef: builds the project's SuperCollider synth definitions and writes
 * them in the binary SCgf version 2 format, so no sclang is needed.
 *
 * Design: a def is a fixed-size struct (constants, parameters, UGens in
 * topological order: an input may only name an earlier UGen).  Builder calls
 * record the first error and then do nothing, so a def is checked once at
 * the end.  The writer is a plain big-endian serialiser over a caller
 * buffer; synthdef_build_all() wraps it for the three defs of the project.
 * Constants are interned one statement at a time: C leaves the evaluation
 * order inside one initializer unspecified, and the constant table's order
 * is part of the bytes we promise.
 *
 * Threads: any; no shared state (the builders only touch their argument).
 */
#include "synth/synthdef.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const synthdef_names[SYNTHDEF_COUNT] = {"me_voice", "me_fx", "me_rec"};

static void fail(struct synthdef *d, enum synthdef_err e)
{
	if (d->err == SYNTHDEF_OK)
		d->err = e;
}

static int name_ok(const char *s)
{
	return s && *s && strlen(s) <= SYNTHDEF_NAME_MAX;
}

void synthdef_init(struct synthdef *d, const char *name)
{
	memset(d, 0, sizeof *d);
	d->name = name;
	if (!name_ok(name))
		fail(d, SYNTHDEF_E_NAME);
}

struct synthdef_in synthdef_const(struct synthdef *d, float v)
{
	struct synthdef_in in = {-1, 0};
	for (int i = 0; i < d->n_consts; i++) {
		/* bitwise equality: 0.0 and -0.0 stay distinct */
		if (memcmp(&d->consts[i], &v, sizeof v) == 0) {
			in.index = i;
			return in;
		}
	}
	if (d->n_consts >= SYNTHDEF_MAX_CONSTS) {
		fail(d, SYNTHDEF_E_FULL);
		return in;
	}
	in.index = d->n_consts;
	d->consts[d->n_consts++] = v;
	return in;
}

void synthdef_param(struct synthdef *d, const char *name, float value)
{
	if (d->err)
		return;
	if (!name_ok(name)) {
		fail(d, SYNTHDEF_E_NAME);
		return;
	}
	if (d->n_params >= SYNTHDEF_MAX_PARAMS || d->n_params >= SYNTHDEF_MAX_OUTPUTS) {
		fail(d, SYNTHDEF_E_FULL);
		return;
	}
	d->params[d->n_params].name = name;
	d->params[d->n_params].value = value;
	d->n_params++;
}

int synthdef_param_index(const struct synthdef *d, const char *name)
{
	for (int i = 0; i < d->n_params; i++)
		if (strcmp(d->params[i].name, name) == 0)
			return i;
	return -1;
}

int synthdef_ugen(struct synthdef *d, const char *cls, enum synthdef_rate rate, int special,
                  int n_out, int n_in, const struct synthdef_in *in)
{
	if (d->err)
		return -1;
	if (!name_ok(cls)) {
		fail(d, SYNTHDEF_E_NAME);
		return -1;
	}
	if (d->n_ugens >= SYNTHDEF_MAX_UGENS || n_in < 0 || n_in > SYNTHDEF_MAX_INPUTS ||
	    n_out < 0 || n_out > SYNTHDEF_MAX_OUTPUTS) {
		fail(d, SYNTHDEF_E_FULL);
		return -1;
	}
	for (int i = 0; i < n_in; i++) {
		const struct synthdef_in *p = &in[i];
		int ok = p->ugen == -1 ? p->index >= 0 && p->index < d->n_consts
		                       : p->ugen >= 0 && p->ugen < d->n_ugens && p->index >= 0 &&
		                             p->index < d->ugens[p->ugen].n_out;
		if (!ok) {
			fail(d, SYNTHDEF_E_INPUT);
			return -1;
		}
	}
	struct synthdef_ugen *u = &d->ugens[d->n_ugens];
	u->name = cls;
	u->rate = (uint8_t)rate;
	u->special = (int16_t)special;
	u->n_in = n_in;
	u->n_out = n_out;
	if (n_in)
		memcpy(u->in, in, (size_t)n_in * sizeof *in);
	for (int k = 0; k < n_out; k++)
		u->out_rate[k] = (uint8_t)rate;
	return d->n_ugens++;
}

int synthdef_controls(struct synthdef *d)
{
	return synthdef_ugen(d, "Control", SYNTHDEF_CONTROL, 0, d->n_params, 0, NULL);
}

struct synthdef_in synthdef_out(int u, int k)
{
	struct synthdef_in in = {u, k};
	return in;
}

/* --- writer ------------------------------------------------------------ */

struct writer {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct writer *w, const void *src, size_t n)
{
	if (w->p && w->len + n <= w->cap)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_i16(struct writer *w, int16_t v)
{
	uint16_t u = (uint16_t)v;
	uint8_t b[2] = {(uint8_t)(u >> 8), (uint8_t)u};
	put(w, b, 2);
}

static void put_i32(struct writer *w, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
	put(w, b, 4);
}

static void put_f32(struct writer *w, float f)
{
	int32_t v;
	memcpy(&v, &f, sizeof v);
	put_i32(w, v);
}

static void put_pstring(struct writer *w, const char *s)
{
	size_t n = strlen(s);
	put_u8(w, (uint8_t)n);
	put(w, s, n);
}

static void put_def(struct writer *w, const struct synthdef *d)
{
	put_pstring(w, d->name);
	put_i32(w, d->n_consts);
	for (int i = 0; i < d->n_consts; i++)
		put_f32(w, d->consts[i]);
	put_i32(w, d->n_params);
	for (int i = 0; i < d->n_params; i++)
		put_f32(w, d->params[i].value);
	put_i32(w, d->n_params);
	for (int i = 0; i < d->n_params; i++) {
		put_pstring(w, d->params[i].name);
		put_i32(w, i);
	}
	put_i32(w, d->n_ugens);
	for (int i = 0; i < d->n_ugens; i++) {
		const struct synthdef_ugen *u = &d->ugens[i];
		put_pstring(w, u->name);
		put_u8(w, u->rate);
		put_i32(w, u->n_in);
		put_i32(w, u->n_out);
		put_i16(w, u->special);
		for (int k = 0; k < u->n_in; k++) {
			put_i32(w, u->in[k].ugen);
			put_i32(w, u->in[k].index);
		}
		for (int k = 0; k < u->n_out; k++)
			put_u8(w, u->out_rate[k]);
	}
	put_i16(w, 0); /* no variants */
}

static void put_file(struct writer *w, const struct synthdef *const *defs, int n)
{
	put(w, "SCgf", 4);
	put_i32(w, 2);
	put_i16(w, (int16_t)n);
	for (int i = 0; i < n; i++)
		put_def(w, defs[i]);
}

size_t synthdef_size(const struct synthdef *const *defs, int n)
{
	struct writer w = {NULL, 0, 0};
	put_file(&w, defs, n);
	return w.len;
}

enum synthdef_err synthdef_write(const struct synthdef *const *defs, int n, uint8_t *buf,
                                 size_t cap, size_t *len)
{
	if (n < 0 || n > INT16_MAX)
		return SYNTHDEF_E_FULL;
	for (int i = 0; i < n; i++)
		if (defs[i]->err)
			return defs[i]->err;
	struct writer w = {buf, 0, cap};
	put_file(&w, defs, n);
	if (len)
		*len = w.len;
	return w.len <= cap ? SYNTHDEF_OK : SYNTHDEF_E_SPACE;
}

/* --- the project's defs ------------------------------------------------ */

static struct synthdef_in param_in(const struct synthdef *d, int control, const char *name)
{
	return synthdef_out(control, synthdef_param_index(d, name));
}

/* VarLag.kr(in, SYNTHDEF_LAG_S, start = in): a control that glides in a
 * straight line to each new value instead of jumping. */
static int glide(struct synthdef *d, struct synthdef_in in)
{
	struct synthdef_in lag = synthdef_const(d, SYNTHDEF_LAG_S);
	struct synthdef_in in_lag[] = {in, lag, in};
	return synthdef_ugen(d, "VarLag", SYNTHDEF_CONTROL, 0, 1, 3, in_lag);
}

/*
 * me_voice: one note that frees itself.
 *   osc  = Saw.ar(freq) * 0.35 + SinOsc.ar(freq, pi/2) * 0.65
 *   filt = RLPF.ar(osc, VarLag.kr(Clip.kr(cutoff, 20, 18000), lag), 0.35)
 *   env  = EnvGen.ar(gate, amp, 0, 1, 2, Env([0, 1, 1, 0], [atk, dur, rel],
 *                    [lin, lin, -4]))
 *   OffsetOut.ar(out, [filt * env, filt * env])
 * The sine starts at its peak (phase pi/2) and the attack is short, so the
 * first sample of a note is already clearly above silence.  The envelope
 * has no release node: it runs its fixed course unless the gate is set to
 * -1 - T, EnvGen's forced release, which takes it from where it is to 0 in
 * T seconds along the release curve (a stolen voice, a pause).
 */
enum synthdef_err synthdef_build_voice(struct synthdef *d)
{
	synthdef_init(d, synthdef_names[0]);
	synthdef_param(d, "freq", 220.0f);
	synthdef_param(d, "amp", 0.2f);
	synthdef_param(d, "dur", 0.25f);
	synthdef_param(d, "cutoff", 2000.0f);
	synthdef_param(d, "out", (float)SYNTHDEF_FX_BUS);
	synthdef_param(d, "atk", 0.001f);
	synthdef_param(d, "rel", 0.3f);
	synthdef_param(d, "gate", 1.0f);
	int c = synthdef_controls(d);
	struct synthdef_in freq = param_in(d, c, "freq");

	struct synthdef_in phase = synthdef_const(d, (float)(M_PI / 2));
	struct synthdef_in saw_gain = synthdef_const(d, 0.35f);
	struct synthdef_in sin_gain = synthdef_const(d, 0.65f);
	struct synthdef_in lo = synthdef_const(d, 20.0f);
	struct synthdef_in hi = synthdef_const(d, 18000.0f);
	struct synthdef_in rq = synthdef_const(d, 0.35f);
	struct synthdef_in zero = synthdef_const(d, 0.0f);
	struct synthdef_in one = synthdef_const(d, 1.0f);
	struct synthdef_in done = synthdef_const(d, (float)SYNTHDEF_DONE_FREE_SELF);
	struct synthdef_in three = synthdef_const(d, 3.0f);
	struct synthdef_in none = synthdef_const(d, -99.0f);
	struct synthdef_in curve_shape = synthdef_const(d, 5.0f);
	struct synthdef_in curve = synthdef_const(d, -4.0f);

	struct synthdef_in in_saw[] = {freq};
	int saw = synthdef_ugen(d, "Saw", SYNTHDEF_AUDIO, 0, 1, 1, in_saw);
	struct synthdef_in in_sin[] = {freq, phase};
	int sine = synthdef_ugen(d, "SinOsc", SYNTHDEF_AUDIO, 0, 1, 2, in_sin);
	struct synthdef_in in_m1[] = {synthdef_out(saw, 0), saw_gain};
	int m1 = synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_MUL, 1, 2, in_m1);
	struct synthdef_in in_mix[] = {synthdef_out(sine, 0), sin_gain, synthdef_out(m1, 0)};
	int mix = synthdef_ugen(d, "MulAdd", SYNTHDEF_AUDIO, 0, 1, 3, in_mix);
	struct synthdef_in in_clip[] = {param_in(d, c, "cutoff"), lo, hi};
	int cut = synthdef_ugen(d, "Clip", SYNTHDEF_CONTROL, 0, 1, 3, in_clip);
	int cut_lag = glide(d, synthdef_out(cut, 0));
	struct synthdef_in in_filt[] = {synthdef_out(mix, 0), synthdef_out(cut_lag, 0), rq};
	int filt = synthdef_ugen(d, "RLPF", SYNTHDEF_AUDIO, 0, 1, 3, in_filt);
	/* clang-format off */
	struct synthdef_in in_env[] = {
		param_in(d, c, "gate"), param_in(d, c, "amp"), zero, one, done,
		/* Env: initial level, stages, release node, loop node */
		zero, three, none, none,
		/* level, time, shape, curve for each stage */
		one, param_in(d, c, "atk"), one, zero,
		one, param_in(d, c, "dur"), one, zero,
		zero, param_in(d, c, "rel"), curve_shape, curve,
	};
	/* clang-format on */
	int env = synthdef_ugen(d, "EnvGen", SYNTHDEF_AUDIO, 0, 1,
	                        (int)(sizeof in_env / sizeof in_env[0]), in_env);
	struct synthdef_in in_sig[] = {synthdef_out(filt, 0), synthdef_out(env, 0)};
	int sig = synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_MUL, 1, 2, in_sig);
	struct synthdef_in in_out[] = {param_in(d, c, "out"), synthdef_out(sig, 0),
	                               synthdef_out(sig, 0)};
	synthdef_ugen(d, "OffsetOut", SYNTHDEF_AUDIO, 0, 0, 3, in_out);
	return d->err;
}

/*
 * The output meter: SendPeakRMS.ar([l, r], SYNTHDEF_METER_HZ, 0,
 * SYNTHDEF_METER_ID, SYNTHDEF_METER_PATH).  scsynth sends every notified
 * client "PATH node id peakL rmsL peakR rmsR" that many times a second,
 * each over the samples since the previous reply (no peak lag).  Its
 * inputs: rate, lag, reply id, channel count, the channels, then the
 * path's length and its characters, one constant each.
 */
static void synthdef_meter(struct synthdef *d, int left, int right)
{
	static const char path[] = SYNTHDEF_METER_PATH;
	struct synthdef_in in[SYNTHDEF_MAX_INPUTS];
	int n = 0;
	in[n++] = synthdef_const(d, (float)SYNTHDEF_METER_HZ);
	in[n++] = synthdef_const(d, 0.0f);
	in[n++] = synthdef_const(d, (float)SYNTHDEF_METER_ID);
	in[n++] = synthdef_const(d, 2.0f);
	in[n++] = synthdef_out(left, 0);
	in[n++] = synthdef_out(right, 0);
	in[n++] = synthdef_const(d, (float)(sizeof path - 1));
	for (size_t i = 0; i + 1 < sizeof path && n < SYNTHDEF_MAX_INPUTS; i++)
		in[n++] = synthdef_const(d, (float)(unsigned char)path[i]);
	synthdef_ugen(d, "SendPeakRMS", SYNTHDEF_AUDIO, 0, 0, n, in);
}

/*
 * me_fx: the master effect after all voices.
 *   dry    = In.ar(in, 2)
 *   wet    = FreeVerb2.ar(dry[0], dry[1], 1, room, damp)
 *   m      = VarLag.kr(Clip.kr(mix, 0, 1), lag)
 *   v      = VarLag.kr(Clip.kr(volume, 0, 1), lag)
 *          * EnvGen.kr(gate, doneAction 2, Env([1, 1, 0], [0, lag], releaseNode 1))
 *   o      = softclip(((wet - dry) * m + dry) * v)
 *   Out.ar(out, o)
 *   the output meter on o, after the fade (synthdef_meter)
 * FreeVerb2 reads its own mix once per control block, so a change would
 * step every 64 samples: the reverb runs fully wet and the dry/wet blend is
 * made here, where a control-rate factor is interpolated across each block.
 * Setting gate to 0 fades the whole output out in `lag` and then frees the
 * synth: the program's stop, timed by the server itself.
 * softclip is linear below 0.5 and stays inside -1..1 above: a safety net
 * that, unlike a look-ahead limiter, adds no delay.
 */
enum synthdef_err synthdef_build_fx(struct synthdef *d)
{
	synthdef_init(d, synthdef_names[1]);
	synthdef_param(d, "in", (float)SYNTHDEF_FX_BUS);
	synthdef_param(d, "mix", 0.33f);
	synthdef_param(d, "volume", 0.8f);
	synthdef_param(d, "out", 0.0f);
	synthdef_param(d, "room", 0.7f);
	synthdef_param(d, "damp", 0.5f);
	synthdef_param(d, "gate", 1.0f);
	int c = synthdef_controls(d);
	struct synthdef_in zero = synthdef_const(d, 0.0f);
	struct synthdef_in one = synthdef_const(d, 1.0f);
	struct synthdef_in done = synthdef_const(d, (float)SYNTHDEF_DONE_FREE_SELF);
	struct synthdef_in two = synthdef_const(d, 2.0f);
	struct synthdef_in none = synthdef_const(d, -99.0f);
	struct synthdef_in lag = synthdef_const(d, SYNTHDEF_LAG_S);

	struct synthdef_in in_in[] = {param_in(d, c, "in")};
	int bus = synthdef_ugen(d, "In", SYNTHDEF_AUDIO, 0, 2, 1, in_in);
	struct synthdef_in in_rev[] = {synthdef_out(bus, 0), synthdef_out(bus, 1), one,
	                               param_in(d, c, "room"), param_in(d, c, "damp")};
	int rev = synthdef_ugen(d, "FreeVerb2", SYNTHDEF_AUDIO, 0, 2, 5, in_rev);
	struct synthdef_in in_mix[] = {param_in(d, c, "mix"), zero, one};
	int mix_clip = synthdef_ugen(d, "Clip", SYNTHDEF_CONTROL, 0, 1, 3, in_mix);
	int mix = glide(d, synthdef_out(mix_clip, 0));
	struct synthdef_in in_vol[] = {param_in(d, c, "volume"), zero, one};
	int vol_clip = synthdef_ugen(d, "Clip", SYNTHDEF_CONTROL, 0, 1, 3, in_vol);
	int vol_lag = glide(d, synthdef_out(vol_clip, 0));
	/* clang-format off */
	struct synthdef_in in_env[] = {
		param_in(d, c, "gate"), one, zero, one, done,
		/* Env: initial level 1, two stages, release node 1, no loop */
		one, two, one, none,
		one, zero, one, zero,	/* to 1 at once (linear) */
		zero, lag, one, zero,	/* on release: to 0 in lag (linear) */
	};
	/* clang-format on */
	int env = synthdef_ugen(d, "EnvGen", SYNTHDEF_CONTROL, 0, 1,
	                        (int)(sizeof in_env / sizeof in_env[0]), in_env);
	struct synthdef_in in_gain[] = {synthdef_out(vol_lag, 0), synthdef_out(env, 0)};
	int vol =
	    synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_CONTROL, SYNTHDEF_OP_MUL, 1, 2, in_gain);
	int ch[2];
	for (int k = 0; k < 2; k++) {
		struct synthdef_in in_diff[] = {synthdef_out(rev, k), synthdef_out(bus, k)};
		int diff = synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_SUB, 1, 2,
		                         in_diff);
		struct synthdef_in in_wet[] = {synthdef_out(diff, 0), synthdef_out(mix, 0)};
		int wet =
		    synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_MUL, 1, 2, in_wet);
		struct synthdef_in in_sum[] = {synthdef_out(wet, 0), synthdef_out(bus, k)};
		int sum =
		    synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_ADD, 1, 2, in_sum);
		struct synthdef_in in_mul[] = {synthdef_out(sum, 0), synthdef_out(vol, 0)};
		int m =
		    synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_MUL, 1, 2, in_mul);
		struct synthdef_in in_sc[] = {synthdef_out(m, 0)};
		ch[k] = synthdef_ugen(d, "UnaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_SOFTCLIP, 1, 1,
		                      in_sc);
	}
	struct synthdef_in in_out[] = {param_in(d, c, "out"), synthdef_out(ch[0], 0),
	                               synthdef_out(ch[1], 0)};
	synthdef_ugen(d, "Out", SYNTHDEF_AUDIO, 0, 0, 3, in_out);
	synthdef_meter(d, ch[0], ch[1]);
	return d->err;
}

/*
 * me_rec: DiskOut.ar(buf, In.ar(in, 2)), run at the tail of the root group
 * to record the master output into a buffer opened with /b_write.  DiskOut
 * has one output (frames written).
 */
enum synthdef_err synthdef_build_rec(struct synthdef *d)
{
	synthdef_init(d, synthdef_names[2]);
	synthdef_param(d, "buf", 0.0f);
	synthdef_param(d, "in", 0.0f);
	int c = synthdef_controls(d);
	struct synthdef_in in_in[] = {param_in(d, c, "in")};
	int bus = synthdef_ugen(d, "In", SYNTHDEF_AUDIO, 0, 2, 1, in_in);
	struct synthdef_in in_disk[] = {param_in(d, c, "buf"), synthdef_out(bus, 0),
	                                synthdef_out(bus, 1)};
	synthdef_ugen(d, "DiskOut", SYNTHDEF_AUDIO, 0, 1, 3, in_disk);
	return d->err;
}

enum synthdef_err synthdef_build_all(uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	struct synthdef *d = malloc(SYNTHDEF_COUNT * sizeof *d);
	if (!d)
		return SYNTHDEF_E_NOMEM;
	enum synthdef_err e = synthdef_build_voice(&d[0]);
	if (!e)
		e = synthdef_build_fx(&d[1]);
	if (!e)
		e = synthdef_build_rec(&d[2]);
	const struct synthdef *defs[SYNTHDEF_COUNT] = {&d[0], &d[1], &d[2]};
	if (!e) {
		size_t n = synthdef_size(defs, SYNTHDEF_COUNT);
		*buf = malloc(n);
		if (!*buf)
			e = SYNTHDEF_E_NOMEM;
		else
			e = synthdef_write(defs, SYNTHDEF_COUNT, *buf, n, len);
		if (e) {
			free(*buf);
			*buf = NULL;
			*len = 0;
		}
	}
	free(d);
	return e;
}

enum synthdef_err synthdef_write_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	enum synthdef_err e = synthdef_build_all(&buf, &len);
	if (e)
		return e;
	FILE *f = fopen(path, "wb");
	if (!f) {
		free(buf);
		return SYNTHDEF_E_IO;
	}
	size_t n = fwrite(buf, 1, len, f);
	free(buf);
	int closed = fclose(f);
	return n == len && closed == 0 ? SYNTHDEF_OK : SYNTHDEF_E_IO;
}

double synthdef_freq_of(int pitch)
{
	return 440.0 * pow(2.0, (pitch - 69) / 12.0);
}

/* A square law from velocity to amplitude, at most 0.3 per voice so that a
 * few overlapping voices stay below the soft clipper's knee. */
double synthdef_amp_of(int velocity)
{
	if (velocity <= 0)
		return 0.0;
	if (velocity > 127)
		velocity = 127;
	double v = velocity / 127.0;
	return 0.3 * v * v;
}

const char *synthdef_strerror(enum synthdef_err e)
{
	switch (e) {
	case SYNTHDEF_OK:
		return "no error";
	case SYNTHDEF_E_FULL:
		return "synthdef: too many constants, parameters, UGens, inputs or outputs";
	case SYNTHDEF_E_NAME:
		return "synthdef: a name is empty or longer than 255 bytes";
	case SYNTHDEF_E_INPUT:
		return "synthdef: a UGen input names a constant, UGen or output that does not "
		       "exist";
	case SYNTHDEF_E_SPACE:
		return "synthdef: output buffer too small";
	case SYNTHDEF_E_NOMEM:
		return "synthdef: out of memory";
	case SYNTHDEF_E_IO:
		return "synthdef: could not write the file";
	}
	return "synthdef: unknown error";
}
