/*
 * router: what a MIDI message means under the configured mapping.
 *
 * A mapped CC sets its parameter: 0..127 spread over the knob's own range
 * (mapping.ccs.NAME = { cc; min; max; curve; }) or else the parameter's, along
 * the curve (exponential for tempo and cutoff), and over the entries the
 * config defines for the selectors (scale_select, mode, palette).  A note in
 * a trigger_step range presses step note - first (the engine sounds and edits
 * it).  midi.channel
 * filters channel messages (0 = omni).  Pure; any thread.
 */
#ifndef ME_CORE_ROUTER_H
#define ME_CORE_ROUTER_H

#include "core/engine.h"

enum route_kind {
	ROUTE_PARAM,    /* set param to value */
	ROUTE_TRIGGER,  /* press a step button: sound and edit step */
	ROUTE_RELEASE,  /* note off of a trigger note: nothing to do */
	ROUTE_RESERVED, /* a CC mapped on purpose to nothing */
	ROUTE_FILTERED, /* on another channel than midi.channel */
	ROUTE_REALTIME, /* clock, start, stop ...: the engine keeps its own time */
	ROUTE_UNMAPPED, /* nothing in the mapping: counted and ignored */
	ROUTE_KIND_COUNT
};

struct route {
	enum route_kind kind;
	int param;    /* ROUTE_PARAM: enum param_id */
	double value; /* ROUTE_PARAM: value in the parameter's units */
	int step;     /* ROUTE_TRIGGER: pattern step */
};

/* Number of choices of a selector parameter under cfg (0 for other parameters). */
int router_choices(const struct engine_config *cfg, int param);
/*
 * Value a CC value 0..127 of controller cc gives its parameter under cfg:
 * over the knob's own range and curve when the mapping gives one, else over
 * the parameter's whole range (selectors: equal zones per entry).
 */
double router_cc_value(const struct engine_config *cfg, int cc, int cc_value);
void router_resolve(const struct engine_config *cfg, const struct midi_msg *m, struct route *r);
const char *router_kind_name(enum route_kind k);

#endif
