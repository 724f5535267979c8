/*
 * synth: the backend table, the settings, and the silent "none" backend.
 *
 * A backend is a const struct synth_ops; synth_open() copies the settings
 * into struct synth and lets the backend fill priv.  The wrappers only
 * dispatch, so the worker's calls cost one indirect call each.  "none"
 * counts the notes it was given and never fails.  Threads: as in synth.h.
 */
#include "synth/synth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "cfg/config.h"
#include "dev/devspec.h"
#include "synth/sc_plan.h"
#include "synth/synth_sc.h"

const char *synth_fault_text(enum synth_fault f)
{
	switch (f) {
	case SYNTH_FAULT_NONE:
		return "";
	case SYNTH_FAULT_NO_SCSYNTH:
		return "scsynth is not installed (Debian package supercollider-server): "
		       "checking again every second";
	case SYNTH_FAULT_NO_JACKD:
		return "no JACK server runs and jackd is not installed (Debian package jackd2)";
	case SYNTH_FAULT_JACK_DOWN:
		return "the JACK server does not run";
	case SYNTH_FAULT_PORT_TAKEN:
		return "another program holds the server's UDP port";
	case SYNTH_FAULT_SERVER_EXITS:
		return "scsynth keeps exiting (see its lines in the log)";
	case SYNTH_FAULT_NO_ANSWER:
		return "the server does not answer";
	case SYNTH_FAULT_DEFS:
		return "the server refuses the synth defs";
	case SYNTH_FAULT_SILENT:
		return "notes should sound but the output is silent";
	case SYNTH_FAULT_NO_METER:
		return "the server answers but its audio does not run";
	case SYNTH_FAULT_COUNT:
		break;
	}
	return "?";
}

const char *synth_fault_name(enum synth_fault f)
{
	switch (f) {
	case SYNTH_FAULT_NONE:
		return "";
	case SYNTH_FAULT_NO_SCSYNTH:
		return "no scsynth";
	case SYNTH_FAULT_NO_JACKD:
		return "no jackd";
	case SYNTH_FAULT_JACK_DOWN:
		return "JACK down";
	case SYNTH_FAULT_PORT_TAKEN:
		return "port taken";
	case SYNTH_FAULT_SERVER_EXITS:
		return "scsynth exits";
	case SYNTH_FAULT_NO_ANSWER:
		return "no answer";
	case SYNTH_FAULT_DEFS:
		return "defs refused";
	case SYNTH_FAULT_SILENT:
		return "silent";
	case SYNTH_FAULT_NO_METER:
		return "audio stopped";
	case SYNTH_FAULT_COUNT:
		break;
	}
	return "?";
}

const char *synth_strerror(enum synth_err e)
{
	switch (e) {
	case SYNTH_OK:
		return "no error";
	case SYNTH_E_BACKEND:
		return "synth: unknown backend (expected \"supercollider\" or \"none\")";
	case SYNTH_E_SETTINGS:
		return "synth: a setting is out of range or malformed";
	case SYNTH_E_ADDRESS:
		return "synth: the server address does not resolve (expected HOST:PORT)";
	case SYNTH_E_SOCKET:
		return "synth: cannot open a UDP socket";
	case SYNTH_E_PROGRAM:
		return "synth: jackd or scsynth not found (install the Debian packages jackd2 and "
		       "supercollider-server)";
	case SYNTH_E_THREAD:
		return "synth: cannot start a thread";
	case SYNTH_E_NOMEM:
		return "synth: out of memory";
	}
	return "synth: unknown error";
}

/* --- the "none" backend --------------------------------------------------- */

struct none_state {
	atomic_uint_fast64_t notes;
};

static enum synth_err none_open(struct synth *s)
{
	s->priv = calloc(1, sizeof(struct none_state));
	return s->priv ? SYNTH_OK : SYNTH_E_NOMEM;
}

static int none_wait_ready(struct synth *s, int timeout_ms)
{
	return 0;
}

static void none_events(struct synth *s, const struct event *ev, size_t n, int64_t now_ns)
{
	struct none_state *ns = s->priv;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == EV_NOTE)
			atomic_fetch_add(&ns->notes, 1);
}

static void none_release_all(struct synth *s)
{
}

static void none_status(struct synth *s, struct synth_status *out)
{
	struct none_state *ns = s->priv;
	memset(out, 0, sizeof *out);
	out->backend = "none";
	out->link = LINK_OFF;
	out->voices = s->set.voices;
	out->notes = atomic_load(&ns->notes);
	out->watchdog_ok = true;
}

static void none_close(struct synth *s)
{
	free(s->priv);
	s->priv = NULL;
}

const struct synth_ops synth_none_ops = {
    .name = "none",
    .open = none_open,
    .wait_ready = none_wait_ready,
    .events = none_events,
    .release_all = none_release_all,
    .status = none_status,
    .close = none_close,
};

/* --- table and settings --------------------------------------------------- */

static const struct synth_ops *const backends[] = {&synth_sc_ops, &synth_none_ops, &synth_midi_ops};

const struct synth_ops *synth_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

void synth_settings_from_config(struct synth_settings *set, const struct config *cfg)
{
	memset(set, 0, sizeof *set);
	set->heartbeat_ms = SYNTH_HEARTBEAT_MS;
	snprintf(set->server, sizeof set->server, "%s", cfg->synth.server);
	set->port = cfg->synth.port;
	set->voices = cfg->synth.voices;
	set->lookahead_ms = cfg->synth.lookahead_ms;
	set->latency_ms = cfg->synth.latency_ms;
	set->server_latency_ms = cfg->synth.server_latency_ms;
	set->sample_rate = cfg->synth.sample_rate;
	set->jack_period = cfg->synth.jack_period;
	set->jack_driver = cfg->synth.jack_driver == CONFIG_JACK_ALSA    ? SYNTH_JACK_ALSA
	                   : cfg->synth.jack_driver == CONFIG_JACK_DUMMY ? SYNTH_JACK_DUMMY
	                                                                 : SYNTH_JACK_AUTO;
	snprintf(set->jack_name, sizeof set->jack_name, "%.63s", cfg->synth.jack_name);
	snprintf(set->audio_device, sizeof set->audio_device, "%.79s", cfg->synth.audio_device);
	set->cutoff = cfg->engine.filter_cutoff;
	set->reverb_mix = cfg->engine.reverb_mix;
	set->volume = cfg->engine.master_volume;
	set->attack = cfg->engine.attack;
	set->release = cfg->engine.release;
	set->midi_channel = cfg->midi.out_channel;
}

void synth_plan_settings(const struct synth_settings *set, struct sc_plan_settings *ps)
{
	memset(ps, 0, sizeof *ps);
	ps->voices = set->voices;
	ps->lookahead_ns = (int64_t)set->lookahead_ms * NS_PER_MS;
	ps->latency_ns = (int64_t)set->latency_ms * NS_PER_MS;
	ps->cutoff = set->cutoff;
	ps->mix = set->reverb_mix;
	ps->volume = set->volume;
	ps->attack = set->attack;
	ps->release = set->release;
}

const struct synth_ops *synth_parse_spec(const char *spec, struct synth_settings *set)
{
	static const char sc[] = "supercollider";
	if (!spec)
		return NULL;
	if (strcmp(spec, "none") == 0)
		return &synth_none_ops;
	if (strcmp(spec, "midi") == 0)
		return &synth_midi_ops;
	if (strcmp(spec, sc) == 0) {
		snprintf(set->server, sizeof set->server, "managed");
		return &synth_sc_ops;
	}
	if (strncmp(spec, sc, sizeof sc - 1) == 0 && spec[sizeof sc - 1] == ':') {
		const char *hp = spec + sizeof sc;
		char host[DEVSPEC_HOST_MAX];
		int port;
		if (devspec_host_port(hp, host, sizeof host, &port) != 0 ||
		    strlen(hp) >= sizeof set->server)
			return NULL;
		snprintf(set->server, sizeof set->server, "%s", hp);
		return &synth_sc_ops;
	}
	return NULL;
}

struct synth *synth_open(const struct synth_ops *ops, const struct synth_settings *set,
                         enum synth_err *err)
{
	enum synth_err e = SYNTH_OK;
	struct synth *s = NULL;
	if (!ops) {
		e = SYNTH_E_BACKEND;
		goto out;
	}
	if (set->voices < 1 || set->voices > 64 || set->latency_ms < 0 || set->latency_ms > 1000 ||
	    set->port < 1 || set->port > 65535 || set->sample_rate < 8000 ||
	    set->jack_period < 16 || set->heartbeat_ms < 0 || set->server_latency_ms < 0 ||
	    set->server_latency_ms > 1000) {
		e = SYNTH_E_SETTINGS;
		goto out;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		e = SYNTH_E_NOMEM;
		goto out;
	}
	s->ops = ops;
	s->set = *set;
	if (s->set.heartbeat_ms == 0)
		s->set.heartbeat_ms = 1000;
	e = ops->open(s);
	if (e != SYNTH_OK) {
		free(s);
		s = NULL;
	}
out:
	if (err)
		*err = e;
	return s;
}

int synth_wait_ready(struct synth *s, int timeout_ms)
{
	return s->ops->wait_ready(s, timeout_ms);
}

void synth_events(struct synth *s, const struct event *ev, size_t n, int64_t now_ns)
{
	s->ops->events(s, ev, n, now_ns);
}

void synth_release_all(struct synth *s)
{
	s->ops->release_all(s);
}

void synth_status(struct synth *s, struct synth_status *out)
{
	s->ops->status(s, out);
}

void synth_watch(struct synth *s, int64_t now_ns)
{
	if (s->ops->watch)
		s->ops->watch(s, now_ns);
}

void synth_close(struct synth *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}
