/*
 * Tests of the SynthDef writer: a small def byte for byte against bytes
 * derived by hand from the SCgf v2 format, and the structure of the
 * project's three defs as scsynth will read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synthdef.h"
#include "testlib.h"

/* --- a reader of the format, independent of the writer ----------------- */

struct rd {
	const uint8_t *p;
	size_t len, pos;
	int bad;
};

static uint32_t rd_u(struct rd *r, int n)
{
	uint32_t v = 0;
	if (r->pos + (size_t)n > r->len) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v = v << 8 | r->p[r->pos++];
	return v;
}

static int32_t rd_i32(struct rd *r)
{
	return (int32_t)rd_u(r, 4);
}

static float rd_f32(struct rd *r)
{
	uint32_t u = rd_u(r, 4);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static void rd_str(struct rd *r, char *out)
{
	int n = (int)rd_u(r, 1);
	if (r->pos + (size_t)n > r->len) {
		r->bad = 1;
		out[0] = 0;
		return;
	}
	memcpy(out, r->p + r->pos, (size_t)n);
	out[n] = 0;
	r->pos += (size_t)n;
}

struct p_ugen {
	char name[256];
	int rate, n_in, n_out, special;
	int32_t in_u[SYNTHDEF_MAX_INPUTS], in_i[SYNTHDEF_MAX_INPUTS];
	int out_rate[SYNTHDEF_MAX_OUTPUTS];
};

struct p_def {
	char name[256];
	int n_consts, n_params, n_names, n_ugens, variants;
	float consts[SYNTHDEF_MAX_CONSTS], values[SYNTHDEF_MAX_PARAMS];
	char pnames[SYNTHDEF_MAX_PARAMS][256];
	int pindex[SYNTHDEF_MAX_PARAMS];
	struct p_ugen ugens[SYNTHDEF_MAX_UGENS];
};

/* Parses one def; 0 on success. */
static int parse_def(struct rd *r, struct p_def *d)
{
	rd_str(r, d->name);
	d->n_consts = rd_i32(r);
	if (d->n_consts < 0 || d->n_consts > SYNTHDEF_MAX_CONSTS)
		return -1;
	for (int i = 0; i < d->n_consts; i++)
		d->consts[i] = rd_f32(r);
	d->n_params = rd_i32(r);
	if (d->n_params < 0 || d->n_params > SYNTHDEF_MAX_PARAMS)
		return -1;
	for (int i = 0; i < d->n_params; i++)
		d->values[i] = rd_f32(r);
	d->n_names = rd_i32(r);
	if (d->n_names < 0 || d->n_names > SYNTHDEF_MAX_PARAMS)
		return -1;
	for (int i = 0; i < d->n_names; i++) {
		rd_str(r, d->pnames[i]);
		d->pindex[i] = rd_i32(r);
	}
	d->n_ugens = rd_i32(r);
	if (d->n_ugens < 0 || d->n_ugens > SYNTHDEF_MAX_UGENS)
		return -1;
	for (int i = 0; i < d->n_ugens; i++) {
		struct p_ugen *u = &d->ugens[i];
		rd_str(r, u->name);
		u->rate = (int)rd_u(r, 1);
		u->n_in = rd_i32(r);
		u->n_out = rd_i32(r);
		u->special = (int16_t)rd_u(r, 2);
		if (u->n_in < 0 || u->n_in > SYNTHDEF_MAX_INPUTS || u->n_out < 0 ||
		    u->n_out > SYNTHDEF_MAX_OUTPUTS)
			return -1;
		for (int k = 0; k < u->n_in; k++) {
			u->in_u[k] = rd_i32(r);
			u->in_i[k] = rd_i32(r);
		}
		for (int k = 0; k < u->n_out; k++)
			u->out_rate[k] = (int)rd_u(r, 1);
	}
	d->variants = (int16_t)rd_u(r, 2);
	return r->bad ? -1 : 0;
}

static struct p_def *parse_all(const uint8_t *buf, size_t len, int *n)
{
	struct rd r = {buf, len, 0, 0};
	*n = 0;
	if (len < 10 || memcmp(buf, "SCgf", 4) != 0)
		return NULL;
	r.pos = 4;
	if (rd_i32(&r) != 2)
		return NULL;
	int count = (int)rd_u(&r, 2);
	struct p_def *defs = calloc((size_t)(count ? count : 1), sizeof *defs);
	for (int i = 0; i < count; i++)
		if (parse_def(&r, &defs[i]) != 0) {
			free(defs);
			return NULL;
		}
	if (r.pos != len) { /* every byte belongs to a def */
		free(defs);
		return NULL;
	}
	*n = count;
	return defs;
}

static const struct p_ugen *find_ugen(const struct p_def *d, const char *name, int nth)
{
	for (int i = 0; i < d->n_ugens; i++)
		if (strcmp(d->ugens[i].name, name) == 0 && nth-- == 0)
			return &d->ugens[i];
	return NULL;
}

static int param_of(const struct p_def *d, const char *name)
{
	for (int i = 0; i < d->n_names; i++)
		if (strcmp(d->pnames[i], name) == 0)
			return d->pindex[i];
	return -1;
}

/* Rate of what input k of u carries (constants are scalar). */
static int input_rate(const struct p_def *d, const struct p_ugen *u, int k)
{
	if (u->in_u[k] == -1)
		return SYNTHDEF_SCALAR;
	return d->ugens[u->in_u[k]].out_rate[u->in_i[k]];
}

/* Input k of u is parameter `name` of the def (an output of Control). */
static int input_is_param(const struct p_def *d, const struct p_ugen *u, int k, const char *name)
{
	int32_t src = u->in_u[k];
	return src >= 0 && strcmp(d->ugens[src].name, "Control") == 0 &&
	       u->in_i[k] == param_of(d, name);
}

static float const_input(const struct p_def *d, const struct p_ugen *u, int k)
{
	return u->in_u[k] == -1 ? d->consts[u->in_i[k]] : -12345.0f;
}

/* --- tests ------------------------------------------------------------- */

/*
 * "tiny": amp = 0.5; Out.ar(0, SinOsc.ar(440, 0) * amp).  The expected
 * bytes, from the format (big-endian; pstring = length byte + chars):
 */
/* clang-format off */
static const uint8_t tiny_bytes[] = {
	'S', 'C', 'g', 'f', 0, 0, 0, 2,	/* magic, version 2 */
	0, 1,				/* one def */
	4, 't', 'i', 'n', 'y',		/* name */
	0, 0, 0, 2,			/* 2 constants: */
	0x43, 0xDC, 0, 0,		/*   440.0f */
	0, 0, 0, 0,			/*   0.0f */
	0, 0, 0, 1, 0x3F, 0, 0, 0,	/* 1 parameter value: 0.5f */
	0, 0, 0, 1, 3, 'a', 'm', 'p', 0, 0, 0, 0,	/* 1 name: "amp" -> 0 */
	0, 0, 0, 4,			/* 4 UGens */
	/* 0: Control, control rate, 0 inputs, 1 output, special 0, out rate 1 */
	7, 'C', 'o', 'n', 't', 'r', 'o', 'l', 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1,
	/* 1: SinOsc.ar, 2 inputs (const 0 = 440, const 1 = 0), 1 output */
	6, 'S', 'i', 'n', 'O', 's', 'c', 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 2,
	/* 2: BinaryOpUGen.ar, special 2 (*), inputs UGen 1 out 0, UGen 0 out 0 */
	12, 'B', 'i', 'n', 'a', 'r', 'y', 'O', 'p', 'U', 'G', 'e', 'n', 2,
	0, 0, 0, 2, 0, 0, 0, 1, 0, 2,
	0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	/* 3: Out.ar, 2 inputs (const 1 = bus 0, UGen 2 out 0), no outputs */
	3, 'O', 'u', 't', 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
	0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0,
	0, 0,				/* no variants */
};
/* clang-format on */

static void build_tiny(struct synthdef *d)
{
	synthdef_init(d, "tiny");
	synthdef_param(d, "amp", 0.5f);
	int c = synthdef_controls(d);
	struct synthdef_in f = synthdef_const(d, 440.0f);
	struct synthdef_in z = synthdef_const(d, 0.0f);
	struct synthdef_in in_sin[] = {f, z};
	int s = synthdef_ugen(d, "SinOsc", SYNTHDEF_AUDIO, 0, 1, 2, in_sin);
	struct synthdef_in in_mul[] = {synthdef_out(s, 0), synthdef_out(c, 0)};
	int m = synthdef_ugen(d, "BinaryOpUGen", SYNTHDEF_AUDIO, SYNTHDEF_OP_MUL, 1, 2, in_mul);
	struct synthdef_in in_out[] = {z, synthdef_out(m, 0)};
	synthdef_ugen(d, "Out", SYNTHDEF_AUDIO, 0, 0, 2, in_out);
}

static void test_tiny_bytes(void)
{
	struct synthdef *d = malloc(sizeof *d);
	build_tiny(d);
	CU_ASSERT_EQUAL(d->err, SYNTHDEF_OK);
	const struct synthdef *defs[] = {d};
	uint8_t buf[512];
	size_t len = 0;
	CU_ASSERT_EQUAL(synthdef_size(defs, 1), sizeof tiny_bytes);
	CU_ASSERT_EQUAL(synthdef_write(defs, 1, buf, sizeof buf, &len), SYNTHDEF_OK);
	CU_ASSERT_EQUAL(len, sizeof tiny_bytes);
	CU_ASSERT(memcmp(buf, tiny_bytes, sizeof tiny_bytes) == 0);
	/* too small a buffer: refused, and the size needed is reported */
	CU_ASSERT_EQUAL(synthdef_write(defs, 1, buf, 20, &len), SYNTHDEF_E_SPACE);
	CU_ASSERT_EQUAL(len, sizeof tiny_bytes);
	free(d);
}

static void test_builder_errors(void)
{
	struct synthdef *d = malloc(sizeof *d);
	char longname[300];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	synthdef_init(d, longname);
	CU_ASSERT_EQUAL(d->err, SYNTHDEF_E_NAME);

	/* an input naming a UGen that comes later is refused */
	synthdef_init(d, "fwd");
	struct synthdef_in ahead[] = {synthdef_out(3, 0)};
	CU_ASSERT_EQUAL(synthdef_ugen(d, "Saw", SYNTHDEF_AUDIO, 0, 1, 1, ahead), -1);
	CU_ASSERT_EQUAL(d->err, SYNTHDEF_E_INPUT);
	/* ... and the error sticks: later calls do nothing */
	struct synthdef_in c = synthdef_const(d, 1.0f);
	struct synthdef_in ok[] = {c};
	CU_ASSERT_EQUAL(synthdef_ugen(d, "Saw", SYNTHDEF_AUDIO, 0, 1, 1, ok), -1);
	const struct synthdef *defs[] = {d};
	uint8_t buf[64];
	CU_ASSERT_EQUAL(synthdef_write(defs, 1, buf, sizeof buf, NULL), SYNTHDEF_E_INPUT);

	/* an output index past the UGen's outputs */
	synthdef_init(d, "out_of_range");
	struct synthdef_in c2[] = {synthdef_const(d, 1.0f)};
	int s = synthdef_ugen(d, "Saw", SYNTHDEF_AUDIO, 0, 1, 1, c2);
	CU_ASSERT_EQUAL(s, 0);
	struct synthdef_in bad_out[] = {synthdef_out(s, 1)};
	CU_ASSERT_EQUAL(synthdef_ugen(d, "LPF", SYNTHDEF_AUDIO, 0, 1, 1, bad_out), -1);
	CU_ASSERT_EQUAL(d->err, SYNTHDEF_E_INPUT);

	/* too many distinct constants */
	synthdef_init(d, "consts");
	for (int i = 0; i <= SYNTHDEF_MAX_CONSTS; i++)
		synthdef_const(d, (float)i);
	CU_ASSERT_EQUAL(d->err, SYNTHDEF_E_FULL);
	/* equal constants share a slot */
	synthdef_init(d, "shared");
	struct synthdef_in a = synthdef_const(d, 0.25f);
	struct synthdef_in b = synthdef_const(d, 0.25f);
	CU_ASSERT_EQUAL(a.index, b.index);
	CU_ASSERT_EQUAL(d->n_consts, 1);
	CU_ASSERT(strcmp(synthdef_strerror(SYNTHDEF_E_INPUT), synthdef_strerror(SYNTHDEF_E_FULL)) !=
	          0);
	free(d);
}

/* Checks that every input of every UGen names something that exists and
 * comes earlier, and that Control has one output per parameter. */
static void check_graph(const struct p_def *d)
{
	CU_ASSERT_EQUAL(d->n_names, d->n_params);
	for (int i = 0; i < d->n_names; i++)
		CU_ASSERT_EQUAL(d->pindex[i], i);
	CU_ASSERT_EQUAL(d->variants, 0);
	const struct p_ugen *ctl = find_ugen(d, "Control", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT_EQUAL(ctl->n_out, d->n_params);
	CU_ASSERT_EQUAL(ctl->rate, SYNTHDEF_CONTROL);
	for (int i = 0; i < d->n_ugens; i++) {
		const struct p_ugen *u = &d->ugens[i];
		CU_ASSERT(u->rate >= SYNTHDEF_SCALAR && u->rate <= SYNTHDEF_DEMAND);
		for (int k = 0; k < u->n_in; k++) {
			if (u->in_u[k] == -1) {
				CU_ASSERT(u->in_i[k] >= 0 && u->in_i[k] < d->n_consts);
			} else {
				CU_ASSERT(u->in_u[k] >= 0 && u->in_u[k] < i);
				if (u->in_u[k] >= 0 && u->in_u[k] < i)
					CU_ASSERT(u->in_i[k] >= 0 &&
					          u->in_i[k] < d->ugens[u->in_u[k]].n_out);
			}
			/* a control-rate UGen never reads an audio-rate signal */
			if (u->rate == SYNTHDEF_CONTROL && u->in_u[k] >= 0 && u->in_u[k] < i)
				CU_ASSERT(input_rate(d, u, k) != SYNTHDEF_AUDIO);
		}
	}
}

static void test_project_defs(void)
{
	uint8_t *buf;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(synthdef_build_all(&buf, &len), SYNTHDEF_OK);
	int n;
	struct p_def *defs = parse_all(buf, len, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(defs);
	CU_ASSERT_EQUAL(n, SYNTHDEF_COUNT);
	for (int i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(defs[i].name, synthdef_names[i]);
		check_graph(&defs[i]);
	}

	/* me_voice: its parameters, in order, with audible defaults */
	const struct p_def *v = &defs[0];
	const char *vp[] = {"freq", "amp", "dur", "cutoff", "out", "atk", "rel", "gate"};
	CU_ASSERT_EQUAL(v->n_params, 8);
	for (int i = 0; i < 8 && i < v->n_params; i++)
		CU_ASSERT_STRING_EQUAL(v->pnames[i], vp[i]);
	CU_ASSERT(v->values[param_of(v, "amp")] > 0);
	CU_ASSERT(v->values[param_of(v, "atk")] <= 0.001f); /* sharp onsets */
	CU_ASSERT_EQUAL(v->values[param_of(v, "out")], (float)SYNTHDEF_FX_BUS);
	/* the envelope frees the synth when the note ends */
	const struct p_ugen *env = find_ugen(v, "EnvGen", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env);
	CU_ASSERT_EQUAL(env->rate, SYNTHDEF_AUDIO);
	CU_ASSERT_EQUAL(const_input(v, env, 4), (float)SYNTHDEF_DONE_FREE_SELF);
	CU_ASSERT(input_is_param(v, env, 1, "amp")); /* levelScale */
	/* a gate of 1 lets the envelope run; -1 - T forces a T s release */
	CU_ASSERT(input_is_param(v, env, 0, "gate"));
	CU_ASSERT_EQUAL(v->values[param_of(v, "gate")], 1.0f);
	CU_ASSERT_EQUAL(const_input(v, env, 7), -99.0f); /* no release node */
	CU_ASSERT_EQUAL(const_input(v, env, 6), 3.0f);   /* three stages */
	CU_ASSERT(input_is_param(v, env, 10, "atk"));
	CU_ASSERT(input_is_param(v, env, 14, "dur"));
	CU_ASSERT(input_is_param(v, env, 18, "rel"));
	CU_ASSERT_EQUAL(env->n_in, 5 + 4 + 3 * 4);
	/* OffsetOut (sample-accurate starts) to the 'out' bus, two audio channels */
	const struct p_ugen *oo = find_ugen(v, "OffsetOut", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(oo);
	CU_ASSERT_EQUAL(oo->rate, SYNTHDEF_AUDIO);
	CU_ASSERT_EQUAL(oo->n_in, 3);
	CU_ASSERT(input_is_param(v, oo, 0, "out"));
	CU_ASSERT_EQUAL(input_rate(v, oo, 1), SYNTHDEF_AUDIO);
	CU_ASSERT_EQUAL(input_rate(v, oo, 2), SYNTHDEF_AUDIO);
	/* the filter follows cutoff (through a clip that keeps it stable),
	 * gliding to each new value in SYNTHDEF_LAG_S */
	const struct p_ugen *f = find_ugen(v, "RLPF", 0);
	const struct p_ugen *clip = find_ugen(v, "Clip", 0);
	const struct p_ugen *lag = find_ugen(v, "VarLag", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(clip);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lag);
	CU_ASSERT(input_is_param(v, clip, 0, "cutoff"));
	CU_ASSERT_EQUAL(&v->ugens[f->in_u[1]], lag);
	CU_ASSERT_EQUAL(&v->ugens[lag->in_u[0]], clip);
	CU_ASSERT_EQUAL(const_input(v, lag, 1), SYNTHDEF_LAG_S);
	CU_ASSERT_EQUAL(&v->ugens[lag->in_u[2]], clip); /* starts at the note's cutoff */
	CU_ASSERT_EQUAL(lag->rate, SYNTHDEF_CONTROL);
	CU_ASSERT_EQUAL(input_rate(v, f, 0), SYNTHDEF_AUDIO);

	/* me_fx: reads the voices' bus, reverb, volume, safety clip, Out */
	const struct p_def *fx = &defs[1];
	CU_ASSERT_EQUAL(fx->values[param_of(fx, "in")], (float)SYNTHDEF_FX_BUS);
	CU_ASSERT_EQUAL(fx->values[param_of(fx, "out")], 0.0f);
	CU_ASSERT(param_of(fx, "mix") >= 0 && param_of(fx, "volume") >= 0);
	const struct p_ugen *in = find_ugen(fx, "In", 0);
	const struct p_ugen *rev = find_ugen(fx, "FreeVerb2", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rev);
	CU_ASSERT_EQUAL(in->n_out, 2);
	CU_ASSERT(input_is_param(fx, in, 0, "in"));
	CU_ASSERT_EQUAL(rev->n_out, 2);
	CU_ASSERT_EQUAL(const_input(fx, rev, 2), 1.0f); /* fully wet: mixed below */
	CU_ASSERT_EQUAL(&fx->ugens[rev->in_u[0]], in);
	CU_ASSERT_EQUAL(&fx->ugens[rev->in_u[1]], in);
	CU_ASSERT_EQUAL(rev->in_i[0], 0);
	CU_ASSERT_EQUAL(rev->in_i[1], 1);
	const struct p_ugen *sc0 = find_ugen(fx, "UnaryOpUGen", 0);
	const struct p_ugen *sc1 = find_ugen(fx, "UnaryOpUGen", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc1);
	CU_ASSERT_EQUAL(sc0->special, SYNTHDEF_OP_SOFTCLIP);
	/* mix and volume glide (VarLag) and scale at audio rate, so that a
	 * change is interpolated across each control block */
	const struct p_ugen *lag_mix = find_ugen(fx, "VarLag", 0);
	const struct p_ugen *lag_vol = find_ugen(fx, "VarLag", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lag_mix);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lag_vol);
	CU_ASSERT(input_is_param(fx, &fx->ugens[lag_mix->in_u[0]], 0, "mix"));
	CU_ASSERT(input_is_param(fx, &fx->ugens[lag_vol->in_u[0]], 0, "volume"));
	CU_ASSERT_EQUAL(const_input(fx, lag_mix, 1), SYNTHDEF_LAG_S);
	CU_ASSERT_EQUAL(const_input(fx, lag_vol, 1), SYNTHDEF_LAG_S);
	/* gate 0 fades the output out in SYNTHDEF_LAG_S, then frees me_fx */
	const struct p_ugen *stop = find_ugen(fx, "EnvGen", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
	CU_ASSERT(input_is_param(fx, stop, 0, "gate"));
	CU_ASSERT_EQUAL(fx->values[param_of(fx, "gate")], 1.0f);
	CU_ASSERT_EQUAL(const_input(fx, stop, 4), (float)SYNTHDEF_DONE_FREE_SELF);
	CU_ASSERT_EQUAL(const_input(fx, stop, 5), 1.0f);            /* starts at full level */
	CU_ASSERT_EQUAL(const_input(fx, stop, 7), 1.0f);            /* holds at node 1 */
	CU_ASSERT_EQUAL(const_input(fx, stop, 13), 0.0f);           /* releases to 0 ... */
	CU_ASSERT_EQUAL(const_input(fx, stop, 14), SYNTHDEF_LAG_S); /* ... in lag */
	for (int k = 0; k < 2; k++) {
		const struct p_ugen *sc = find_ugen(fx, "UnaryOpUGen", k);
		const struct p_ugen *vol = &fx->ugens[sc->in_u[0]];
		CU_ASSERT_EQUAL(vol->special, SYNTHDEF_OP_MUL);
		CU_ASSERT_EQUAL(vol->rate, SYNTHDEF_AUDIO);
		/* the gain: the gliding volume times the stop's fade-out */
		const struct p_ugen *gain = &fx->ugens[vol->in_u[1]];
		CU_ASSERT_EQUAL(gain->rate, SYNTHDEF_CONTROL);
		CU_ASSERT_EQUAL(gain->special, SYNTHDEF_OP_MUL);
		CU_ASSERT_EQUAL(&fx->ugens[gain->in_u[0]], lag_vol);
		CU_ASSERT_EQUAL(&fx->ugens[gain->in_u[1]], stop);
		const struct p_ugen *sum = &fx->ugens[vol->in_u[0]];
		CU_ASSERT_EQUAL(sum->special, SYNTHDEF_OP_ADD);
		CU_ASSERT_EQUAL(&fx->ugens[sum->in_u[1]], in); /* + dry */
		CU_ASSERT_EQUAL(sum->in_i[1], k);
		const struct p_ugen *wet = &fx->ugens[sum->in_u[0]];
		CU_ASSERT_EQUAL(wet->special, SYNTHDEF_OP_MUL);
		CU_ASSERT_EQUAL(&fx->ugens[wet->in_u[1]], lag_mix);
		const struct p_ugen *diff = &fx->ugens[wet->in_u[0]];
		CU_ASSERT_EQUAL(diff->special, SYNTHDEF_OP_SUB); /* wet - dry */
		CU_ASSERT_EQUAL(&fx->ugens[diff->in_u[0]], rev);
		CU_ASSERT_EQUAL(diff->in_i[0], k);
		CU_ASSERT_EQUAL(&fx->ugens[diff->in_u[1]], in);
	}
	const struct p_ugen *out = find_ugen(fx, "Out", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(&fx->ugens[out->in_u[1]], sc0);
	CU_ASSERT_EQUAL(&fx->ugens[out->in_u[2]], sc1);
	CU_ASSERT(input_is_param(fx, out, 0, "out"));

	/* me_rec: DiskOut of the two channels of bus 'in' into buffer 'buf' */
	const struct p_def *rec = &defs[2];
	const struct p_ugen *disk = find_ugen(rec, "DiskOut", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
	CU_ASSERT_EQUAL(disk->n_in, 3);
	CU_ASSERT(input_is_param(rec, disk, 0, "buf"));
	CU_ASSERT_EQUAL(input_rate(rec, disk, 1), SYNTHDEF_AUDIO);
	CU_ASSERT_EQUAL(input_rate(rec, disk, 2), SYNTHDEF_AUDIO);

	free(defs);
	free(buf);
}

/* Building twice gives the same bytes: constants are interned in a fixed
 * order. */
static void test_deterministic(void)
{
	uint8_t *a, *b;
	size_t la, lb;
	CU_ASSERT_EQUAL_FATAL(synthdef_build_all(&a, &la), SYNTHDEF_OK);
	CU_ASSERT_EQUAL_FATAL(synthdef_build_all(&b, &lb), SYNTHDEF_OK);
	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
	free(a);
	free(b);
}

static void test_write_file(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/me.scsyndef", testlib_tmpdir());
	CU_ASSERT_EQUAL_FATAL(synthdef_write_file(path), SYNTHDEF_OK);
	uint8_t *want;
	size_t len;
	CU_ASSERT_EQUAL_FATAL(synthdef_build_all(&want, &len), SYNTHDEF_OK);
	FILE *f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	uint8_t *got = malloc(len + 16);
	size_t n = fread(got, 1, len + 16, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, len);
	CU_ASSERT(n == len && memcmp(got, want, len) == 0);
	free(got);
	free(want);
	snprintf(path, sizeof path, "%s/no/such/dir/me.scsyndef", testlib_tmpdir());
	CU_ASSERT_EQUAL(synthdef_write_file(path), SYNTHDEF_E_IO);
}

static void test_pitch_velocity(void)
{
	CU_ASSERT_DOUBLE_EQUAL(synthdef_freq_of(69), 440.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(synthdef_freq_of(81), 880.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(synthdef_freq_of(60), 261.6256, 1e-3);
	CU_ASSERT_EQUAL(synthdef_amp_of(0), 0.0);
	double prev = 0;
	for (int v = 1; v <= 127; v++) {
		double a = synthdef_amp_of(v);
		CU_ASSERT(a > prev);
		prev = a;
	}
	CU_ASSERT(synthdef_amp_of(127) <= 0.3 + 1e-9);
	CU_ASSERT_EQUAL(synthdef_amp_of(500), synthdef_amp_of(127));
}

TEST_SUITE(synthdef, NULL, NULL, TEST_CASE(test_tiny_bytes), TEST_CASE(test_builder_errors),
           TEST_CASE(test_project_defs), TEST_CASE(test_deterministic), TEST_CASE(test_write_file),
           TEST_CASE(test_pitch_velocity))
