/*
 * render: the offline renderer, `mystery-engine render`.
 *
 * Design: one loop (render_run) owns the engine.  It advances virtual time
 * in RENDER_CHUNK_NS steps; a MIDI file's messages are fed to the core at
 * their own times, after the events before them have been taken, so every
 * sink sees events in time order.  Events come out through one fixed buffer
 * of RENDER_EVENT_BUF and go to each sink in turn: the JSON-lines event log
 * (evlog_format(), the same lines the live --events writes) and the scsynth
 * score (osc_score), whose messages come from the sound plan (sc_plan) the
 * live backend uses too.  --pause-at presses the pause key at given times.
 * Nothing grows with the rendered length, so memory stays constant.  render_main parses the
 * subcommand's options, opens the input and the sinks, runs, and reports.  Main thread only.
 */
#include "render/render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/evlog.h"
#include "cfg/cli.h"
#include "cfg/config.h"
#include "synth/osc_score.h"
#include "synth/sc_plan.h"
#include "render/smf_input.h"
#include "synth/synth.h"

extern char **environ;

static const char *const error_text[RENDER_E_COUNT] = {
    [RENDER_OK] = "no error",
    [RENDER_E_NOMEM] = "out of memory",
    [RENDER_E_SINK] = "an output failed",
};

const char *render_strerror(enum render_error err)
{
	if ((unsigned)err >= RENDER_E_COUNT)
		return "unknown error";
	return error_text[err];
}

/* The loop's working state. */
struct run {
	struct engine *e;
	const struct render_params *p;
	struct render_stats *st;
	struct event buf[RENDER_EVENT_BUF];
	size_t failed;
};

/* Takes every event before `to` from the core and hands it to the sinks. */
static int drain(struct run *r, int64_t to)
{
	size_t n;

	do {
		n = engine_advance(r->e, to, r->buf, RENDER_EVENT_BUF);
		for (size_t i = 0; i < n; i++) {
			const struct event *ev = &r->buf[i];
			r->st->events++;
			if (ev->type == EV_NOTE)
				r->st->notes++;
			for (size_t k = 0; k < r->p->n_sinks; k++) {
				const struct render_sink *s = &r->p->sinks[k];
				if (s->ops->event(s->ctx, ev) < 0) {
					r->failed = k;
					return -1;
				}
			}
		}
	} while (n == RENDER_EVENT_BUF);
	return 0;
}

static int play(struct run *r)
{
	const struct render_params *p = r->p;
	int64_t t = 0;
	size_t pause = 0;

	while (t < p->duration) {
		int64_t next =
		    p->duration - t > RENDER_CHUNK_NS ? t + RENDER_CHUNK_NS : p->duration;
		for (;;) {
			int64_t tm = p->input != NULL ? smf_input_peek_time(p->input) : INT64_MAX;
			int64_t tp = pause < p->n_pauses ? p->pauses[pause] : INT64_MAX;
			struct engine_input in;
			memset(&in, 0, sizeof(in));
			if (tp < tm && tp < next) {
				/* the pause key, as the console sends it */
				in.kind = INPUT_COMMAND;
				in.t = tp;
				in.u.cmd.type = CMD_PAUSE;
				in.u.cmd.source = SRC_KEY;
				pause++;
			} else if (tm < next) {
				struct smf_input_event mev;
				smf_input_next(p->input, &mev);
				in.kind = INPUT_MIDI;
				in.t = mev.t;
				in.u.midi = mev.msg;
				r->st->inputs++;
			} else {
				break;
			}
			if (drain(r, in.t) < 0)
				return -1;
			engine_input(r->e, &in);
		}
		if (drain(r, next) < 0)
			return -1;
		t = next;
	}
	return 0;
}

enum render_error render_run(const struct engine_config *cfg, const struct render_params *p,
                             struct render_stats *st, size_t *failed)
{
	enum render_error err = RENDER_OK;
	struct run *r;

	memset(st, 0, sizeof(*st));
	r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->e = engine_new(cfg, p->seed);
	if (r == NULL || r->e == NULL) {
		err = RENDER_E_NOMEM;
	} else {
		r->p = p;
		r->st = st;
		if (play(r) < 0) {
			err = RENDER_E_SINK;
			if (failed != NULL)
				*failed = r->failed;
		}
	}
	for (size_t k = 0; k < p->n_sinks; k++) {
		const struct render_sink *s = &p->sinks[k];
		if (s->ops->finish(s->ctx, p->duration) < 0 && err == RENDER_OK) {
			err = RENDER_E_SINK;
			if (failed != NULL)
				*failed = k;
		}
	}
	if (r != NULL) {
		if (r->e != NULL)
			engine_free(r->e);
		free(r);
	}
	return err;
}

/* ---- The JSON-lines event log ---------------------------------------- */

struct evlog_sink {
	struct render_sink sink;
	FILE *out;
	const char *name;
	const struct engine_config *cfg;
	char line[EVLOG_LINE_MAX];
	char err[256];
};

static int evlog_sink_event(void *ctx, const struct event *ev)
{
	struct evlog_sink *s = ctx;
	size_t n;

	if (!evlog_logged(ev->type))
		return 0;
	n = evlog_format(ev, s->cfg, 0, s->line, sizeof(s->line));
	if (n == 0 || n >= sizeof(s->line)) {
		snprintf(s->err, sizeof(s->err),
		         "%s: a %s event does not fit "
		         "a log line",
		         s->name, event_type_name(ev->type));
		return -1;
	}
	if (fwrite(s->line, 1, n, s->out) != n) {
		snprintf(s->err, sizeof(s->err), "%s: %s", s->name, strerror(errno));
		return -1;
	}
	return 0;
}

static int evlog_sink_finish(void *ctx, int64_t end)
{
	struct evlog_sink *s = ctx;

	(void)end;
	if (fflush(s->out) != 0 || ferror(s->out)) {
		snprintf(s->err, sizeof(s->err), "%s: %s", s->name, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

static const char *evlog_sink_error(void *ctx)
{
	struct evlog_sink *s = ctx;
	return s->err;
}

static const struct render_sink_ops evlog_sink_ops = {
    .name = "events",
    .event = evlog_sink_event,
    .finish = evlog_sink_finish,
    .error = evlog_sink_error,
};

struct render_sink *render_evlog_new(FILE *out, const char *name, const struct engine_config *cfg)
{
	struct evlog_sink *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->out = out;
	s->name = name;
	s->cfg = cfg;
	s->sink.ops = &evlog_sink_ops;
	s->sink.ctx = s;
	return &s->sink;
}

void render_evlog_free(struct render_sink *sink)
{
	if (sink != NULL)
		free(sink->ctx);
}

/* ---- The scsynth score ------------------------------------------------ */

/*
 * The score plays what the live backend would send for the same events:
 * the same plan (sc_plan.h: voices, steals, pause) and the same message
 * bytes.  A stolen voice's release may come up to SC_PLAN_LEAD_MAX_NS
 * before the event that caused it, and a live event's commands come
 * latency_ms after it, so commands wait in a small queue sorted by time
 * (stable: equal times keep their order) until no later event can give an
 * earlier one; the score file is then written in time order.
 */
#define SCORE_QUEUE 512

struct score_sink {
	struct osc_score *score;
	const char *name;
	struct sc_plan plan;
	struct sc_cmd queue[SCORE_QUEUE];
	size_t queued;
	char err[256];
};

static int score_fail(struct score_sink *s, enum osc_score_err e)
{
	snprintf(s->err, sizeof(s->err), "%s: %s: %s", s->name, osc_score_strerror(e),
	         osc_score_error(s->score));
	return -1;
}

static int score_write(struct score_sink *s, const struct sc_cmd *c)
{
	uint8_t msg[SC_PLAN_MSG_MAX];
	size_t len = sc_plan_message(c, msg, sizeof(msg));
	enum osc_score_err e =
	    osc_score_message(s->score, (double)c->t / (double)NS_PER_SEC, msg, len);
	return e == OSC_SCORE_OK ? 0 : score_fail(s, e);
}

/* Writes the queued commands timed before `before`. */
static int score_flush(struct score_sink *s, int64_t before)
{
	size_t k = 0;
	while (k < s->queued && s->queue[k].t < before) {
		if (score_write(s, &s->queue[k]) < 0)
			return -1;
		k++;
	}
	memmove(s->queue, s->queue + k, (s->queued - k) * sizeof(s->queue[0]));
	s->queued -= k;
	return 0;
}

static int score_queue(struct score_sink *s, const struct sc_cmd *c)
{
	/* Full (a flood of events within a few ms): the earliest goes now. */
	if (s->queued == SCORE_QUEUE && score_flush(s, s->queue[0].t + 1) < 0)
		return -1;
	size_t i = s->queued;
	while (i > 0 && s->queue[i - 1].t > c->t)
		i--;
	memmove(s->queue + i + 1, s->queue + i, (s->queued - i) * sizeof(s->queue[0]));
	s->queue[i] = *c;
	s->queued++;
	return 0;
}

static int score_sink_event(void *ctx, const struct event *ev)
{
	struct score_sink *s = ctx;
	struct sc_cmd cmd[SC_PLAN_CMD_MAX];
	size_t n = sc_plan_event(&s->plan, ev, cmd, SC_PLAN_CMD_MAX);

	for (size_t i = 0; i < n; i++)
		if (score_queue(s, &cmd[i]) < 0)
			return -1;
	/* Events come in time order: no later one gives a command before this. */
	return score_flush(s, ev->t - SC_PLAN_LEAD_MAX_NS);
}

static int score_sink_finish(void *ctx, int64_t end)
{
	struct score_sink *s = ctx;
	enum osc_score_err e;

	if (s->score == NULL)
		return 0;
	if (score_flush(s, INT64_MAX) < 0)
		return -1;
	/* Room for the last notes' release and the reverb tail. */
	e = osc_score_close(s->score, (double)end / (double)NS_PER_SEC + 2.0);
	s->score = NULL;
	if (e != OSC_SCORE_OK) {
		snprintf(s->err, sizeof(s->err), "%s: %s", s->name, osc_score_strerror(e));
		return -1;
	}
	return 0;
}

static const char *score_sink_error(void *ctx)
{
	struct score_sink *s = ctx;
	return s->err;
}

static const struct render_sink_ops score_sink_ops = {
    .name = "score",
    .event = score_sink_event,
    .finish = score_sink_finish,
    .error = score_sink_error,
};

struct render_sink *render_score_new(const char *path, int sample_rate,
                                     const struct sc_plan_settings *ps, enum osc_score_err *err)
{
	struct render_sink *rs = calloc(1, sizeof(*rs));
	struct score_sink *s = calloc(1, sizeof(*s));
	*err = OSC_SCORE_E_NOMEM;
	if (rs != NULL && s != NULL) {
		sc_plan_init(&s->plan, ps);
		s->name = path;
		s->score = osc_score_open(path, sample_rate, ps->mix, ps->volume, err);
	}
	if (s == NULL || s->score == NULL) {
		free(s);
		free(rs);
		return NULL;
	}
	rs->ops = &score_sink_ops;
	rs->ctx = s;
	return rs;
}

void render_score_free(struct render_sink *rs)
{
	if (rs == NULL)
		return;
	struct score_sink *s = rs->ctx;
	if (s->score != NULL)
		osc_score_close(s->score, 0);
	free(s);
	free(rs);
}

/* ---- render_main --------------------------------------------------------- */

#define PROG "mystery-engine"

/* Renders the score into a WAV file with scsynth's non-realtime mode. */
static int run_scsynth(const char *score, const char *wav, int rate, bool quiet)
{
	char rate_s[16];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	snprintf(rate_s, sizeof(rate_s), "%d", rate);
	char *args[] = {"scsynth", "-N",    (char *)score, "_", (char *)wav, rate_s,
	                "WAV",     "int16", "-o",          "2", NULL};
	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	rc = posix_spawnp(&pid, "scsynth", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, PROG ": render: cannot run scsynth: %s\n", strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": render: scsynth: %s\n", strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr,
		        PROG ": render: scsynth -N failed to render "
		             "%s (status %d)\n",
		        wav, status);
		return -1;
	}
	return 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int render_main(const struct config *cfg0, const struct cli_options *opts)
{
	struct render_sink sinks[2];
	struct render_sink *evsink = NULL;
	struct render_sink *score = NULL;
	struct render_params p = {0};
	struct render_stats st;
	struct smf_input *input = NULL;
	struct config *cfg = NULL;
	FILE *events = NULL;
	char score_tmp[] = "/tmp/mystery-engine-render-XXXXXX";
	const char *score_path = NULL;
	bool score_is_tmp = false;
	size_t failed = 0;
	int rc = 1;

	/* the command line, checked by cli_parse() */
	const struct {
		double seconds;
		uint64_t seed;
		const char *input, *events, *score, *wav;
	} o = {opts->render_seconds,
	       opts->seed_set ? opts->seed : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32,
	       opts->render_input,
	       opts->events_path,
	       opts->render_score,
	       opts->render_wav};

	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, PROG ": render: out of memory\n");
		goto out;
	}
	*cfg = *cfg0;

	if (o.input != NULL) {
		enum smf_input_error err;
		char detail[256];
		input = smf_input_open(o.input, &err, detail, sizeof(detail));
		if (input == NULL) {
			fprintf(stderr, PROG ": render: %s: %s: %s\n", o.input,
			        smf_input_strerror(err), detail);
			goto out;
		}
	}

	if (o.events != NULL) {
		if (strcmp(o.events, "-") == 0) {
			events = stdout;
		} else {
			events = fopen(o.events, "w");
			if (events == NULL) {
				fprintf(stderr,
				        PROG ": render: cannot write "
				             "%s: %s\n",
				        o.events, strerror(errno));
				goto out;
			}
		}
		evsink = render_evlog_new(events, o.events, &cfg->engine);
		if (evsink == NULL) {
			fprintf(stderr, PROG ": render: out of memory\n");
			goto out;
		}
		sinks[p.n_sinks++] = *evsink;
	}

	score_path = o.score;
	if (score_path == NULL && o.wav != NULL) {
		int fd = mkstemp(score_tmp);
		if (fd < 0) {
			fprintf(stderr,
			        PROG ": render: cannot create a "
			             "temporary score: %s\n",
			        strerror(errno));
			goto out;
		}
		close(fd);
		score_path = score_tmp;
		score_is_tmp = true;
	}
	int rate = cfg->synth.sample_rate >= 8000 ? cfg->synth.sample_rate : 48000;
	if (score_path != NULL) {
		enum osc_score_err e;
		struct sc_plan_settings ps;
		/* What the live backend would play with this configuration. */
		struct synth_settings set;
		synth_settings_from_config(&set, cfg);
		synth_plan_settings(&set, &ps);
		score = render_score_new(score_path, rate, &ps, &e);
		if (score == NULL) {
			fprintf(stderr, PROG ": render: cannot write %s: %s\n", score_path,
			        osc_score_strerror(e));
			goto out;
		}
		sinks[p.n_sinks++] = *score;
	}

	p.duration = (int64_t)llround(o.seconds * (double)NS_PER_SEC);
	p.seed = o.seed;
	p.input = input;
	p.sinks = sinks;
	p.pauses = opts->render_pauses;
	p.n_pauses = (size_t)opts->n_render_pauses;

	double cpu0 = cpu_seconds();
	enum render_error err = render_run(&cfg->engine, &p, &st, &failed);
	double cpu = cpu_seconds() - cpu0;
	if (err == RENDER_E_SINK) {
		const struct render_sink *s = &sinks[failed];
		fprintf(stderr, PROG ": render: cannot write %s\n", s->ops->error(s->ctx));
		goto out;
	} else if (err != RENDER_OK) {
		fprintf(stderr, PROG ": render: %s\n", render_strerror(err));
		goto out;
	}
	if (opts->verbosity >= 0)
		fprintf(stderr,
		        PROG ": render: %.3f s of music in %.3f s of "
		             "CPU: %llu events, %llu notes, %llu MIDI inputs, seed "
		             "%llu\n",
		        o.seconds, cpu, (unsigned long long)st.events, (unsigned long long)st.notes,
		        (unsigned long long)st.inputs, (unsigned long long)o.seed);
	if (o.wav != NULL && run_scsynth(score_path, o.wav, rate, opts->verbosity <= 0) < 0)
		goto out;
	rc = 0;
out:
	render_score_free(score);
	if (score_is_tmp)
		unlink(score_tmp);
	if (events != NULL && events != stdout && fclose(events) != 0 && rc == 0) {
		fprintf(stderr, PROG ": render: cannot write %s: %s\n", o.events, strerror(errno));
		rc = 1;
	}
	render_evlog_free(evsink);
	smf_input_close(input);
	free(cfg);
	return rc;
}
