/*
 * http_fake: the HTTP API in front of a synthetic, moving instrument, for
 * black-box tests of the server without audio or MIDI.
 *
 *   http_fake [--control] [--rate N] [--presets DIR] [--port P]
 *
 * Listens on 127.0.0.1 (port 0: any free one), prints "port N" on stdout,
 * and runs until SIGTERM or SIGINT.  A ticker thread plays a note every
 * 10 ms (note_on counter, latency histogram, a step moving); commands from
 * the API change its parameters with their source; presets load from and
 * save to DIR with the real preset code.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/param.h"
#include "rt/hist.h"
#include "ops/http.h"
#include "rt/log.h"
#include "ops/preset.h"

struct fake {
	pthread_mutex_t lock;
	struct snapshot snap;
	struct hist *latency, *lateness;
	const char *presets;
	atomic_bool stop;
};

static void apply(struct fake *f, const struct command *c)
{
	struct engine_state *e = &f->snap.eng;
	if (c->type == CMD_SET_PARAM && c->param < P_COUNT) {
		e->value[c->param] = param_clamp((enum param_id)c->param, c->value);
		e->source[c->param] = c->source;
		if (c->param == P_TEMPO)
			e->tempo_now = e->value[P_TEMPO];
		if (c->param == P_SEQUENCE_LENGTH)
			e->n_steps = (int)e->value[P_SEQUENCE_LENGTH];
	} else if (c->type == CMD_SET_STEP && c->step >= 0 && c->step < ENGINE_MAX_STEPS) {
		e->steps[c->step] = c->step_data;
	}
}

static bool snapshot(void *ctx, struct snapshot *out)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	*out = f->snap;
	pthread_mutex_unlock(&f->lock);
	return true;
}

static bool command(void *ctx, const struct command *c)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	apply(f, c);
	pthread_mutex_unlock(&f->lock);
	return true;
}

static int load(void *ctx, const char *name, char *err, size_t errlen)
{
	struct fake *f = ctx;
	struct preset p;
	struct command cmds[PRESET_MAX_COMMANDS];
	if (!f->presets) {
		snprintf(err, errlen, "no preset directory");
		return PRESET_ERR_NOT_FOUND;
	}
	int rc = preset_load(f->presets, name, &p, err, errlen);
	if (rc)
		return rc;
	size_t n = preset_commands(&p, cmds, PRESET_MAX_COMMANDS);
	for (size_t i = 0; i < n; i++)
		command(f, &cmds[i]);
	return 0;
}

static int save(void *ctx, const char *name, char *err, size_t errlen)
{
	struct fake *f = ctx;
	if (!f->presets) {
		snprintf(err, errlen, "no preset directory");
		return PRESET_ERR_IO;
	}
	struct snapshot *s = malloc(sizeof *s);
	if (!s)
		return PRESET_ERR_NOMEM;
	snapshot(f, s);
	int rc = preset_save(f->presets, name, &s->eng, err, errlen);
	free(s);
	return rc;
}

static void *ticker(void *arg)
{
	struct fake *f = arg;
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (uint64_t i = 0; !atomic_load(&f->stop); i++) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&f->lock);
		struct snapshot *s = &f->snap;
		s->seq++;
		s->uptime_ns += 10 * NS_PER_MS;
		s->eng.t = s->uptime_ns;
		s->midi_in[MIDI_NOTE_ON]++;
		s->notes_played++;
		s->eng.notes++;
		s->eng.play_step = (int)(i % (uint64_t)(s->eng.n_steps > 0 ? s->eng.n_steps : 1));
		s->voices_active = (int)(i % 5);
		pthread_mutex_unlock(&f->lock);
		hist_add(f->latency, (int64_t)(200 + i % 800) * 1000);
		hist_add(f->lateness, (int64_t)(i % 50) * 1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct fake f;
	struct http_options o = {"127.0.0.1", 0, false, 5};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--control") == 0)
			o.allow_control = true;
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			o.max_writes_per_s = atoi(argv[++i]);
		else if (strcmp(argv[i], "--presets") == 0 && i + 1 < argc)
			f.presets = argv[++i];
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			o.port = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: http_fake [--control] [--rate N] [--presets DIR] "
			                "[--port P]\n");
			return 2;
		}
	}
	pthread_mutex_init(&f.lock, NULL);
	for (int i = 0; i < P_COUNT; i++)
		f.snap.eng.value[i] = param_table[i].def;
	f.snap.eng.tempo_now = f.snap.eng.value[P_TEMPO];
	f.snap.eng.n_steps = (int)f.snap.eng.value[P_SEQUENCE_LENGTH];
	f.snap.eng.pending_scale = -1;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		f.snap.eng.steps[k] = (struct engine_step){0.8, (int8_t)(k % 7), 96, 0.5, 1};
		f.snap.eng.step_fired_t[k] = -1;
	}
	f.snap.link_midi = LINK_CONNECTED;
	f.snap.voices_max = 16;
	f.snap.inq_cap = 1024;
	f.latency = hist_new();
	f.lateness = hist_new();

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	log_set_level(LOG_WARN);

	struct http_link link = {snapshot, command, f.latency, f.lateness, load, &f, save};
	char err[256];
	struct http *h = http_start(&o, &link, err, sizeof err);
	if (!h) {
		fprintf(stderr, "http_fake: %s\n", err);
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, ticker, &f);
	printf("port %d\n", http_port(h));
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	http_stop(h);
	hist_free(f.latency);
	hist_free(f.lateness);
	pthread_mutex_destroy(&f.lock);
	return 0;
}
