/*
 * app_learn: MIDI learn as the running program wires it (see app_impl.h).
 * The worker's sink notes each CC that reaches the engine; a console (or
 * the control socket) asks to learn a parameter, a thread of its own waits
 * up to 20 s for the next CC, maps it in the learned map (saved atomically
 * in the state folder, ops/learn) and asks the main thread for a reload,
 * which lays the map over the configuration like every reload does.
 * Threads: the sink runs on the worker; app_learn_start and
 * app_learn_apply on the main thread; requests on the readers' threads.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app_impl.h"
#include "core/midi.h"
#include "core/param.h"
#include "rt/log.h"
#include "rt/rtclock.h"

void app_learn_sink_events(void *ctx, const struct event *ev, size_t n, int64_t now)
{
	struct app_learn *l = ctx;
	(void)now;
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == EV_INPUT && ev[i].u.input.kind == MIDI_CC) {
			atomic_store_explicit(&l->cc, ev[i].u.input.number, memory_order_relaxed);
			atomic_fetch_add_explicit(&l->seen, 1, memory_order_release);
		}
}

static void learn_owners(struct app_learn *l, const struct engine_config *c)
{
	for (int cc = 0; cc < 128; cc++)
		atomic_store(&l->owner[cc], learn_owner(c, cc));
}

void app_learn_say(struct app_learn *l, const char *fmt, ...)
{
	int64_t now = rtclock_real_ns();
	pthread_mutex_lock(&l->lock);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof l->msg, fmt, ap);
	va_end(ap);
	l->msg_at_ns = now;
	pthread_mutex_unlock(&l->lock);
	log_info("learn", "%s", l->msg);
}

/* Waits (20 s at most) for the next CC and maps it to the parameter being
 * learned; the main thread's reload then applies it. */
static void *learn_main(void *arg)
{
	struct app *a = arg;
	struct app_learn *l = &a->learn;
	unsigned seen = atomic_load_explicit(&l->seen, memory_order_acquire);
	int p = -1;
	for (int i = 0; i < 2000; i++) {
		p = atomic_load(&l->param);
		if (p < 0)
			return NULL; /* cancelled */
		if (atomic_load_explicit(&l->seen, memory_order_acquire) != seen) {
			int cc = atomic_load(&l->cc), before = atomic_load(&l->owner[cc]);
			char err[512];
			pthread_mutex_lock(&l->lock);
			struct learn_map m = l->map;
			learn_map_set(&m, p, cc);
			int rc = learn_save(a->state_dir, &m, err, sizeof err);
			if (rc == 0)
				l->map = m;
			pthread_mutex_unlock(&l->lock);
			atomic_store(&l->param, -1);
			if (rc != 0) {
				app_learn_say(l, "CC %d not learned for %s: %.100s", cc,
				              param_table[p].name, err);
				return NULL;
			}
			pthread_kill(a->main_thread, SIGHUP);
			if (before == p)
				app_learn_say(l, "CC %d already moves %s", cc, param_table[p].name);
			else
				app_learn_say(l, "CC %d now moves %s (before: %s)", cc,
				              param_table[p].name,
				              before >= 0 ? param_table[before].name : "nothing");
			return NULL;
		}
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_exchange(&l->param, -1) >= 0)
		app_learn_say(l, "no controller moved within 20 s: nothing learned for %s",
		              param_table[p].name);
	return NULL;
}

int app_learn_request(struct app *a, int param, char *msg, size_t n)
{
	struct app_learn *l = &a->learn;
	static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
	if (param < 0 || param >= P_COUNT) {
		bool was = atomic_exchange(&l->param, -1) >= 0;
		if (was)
			app_learn_say(l, "learning cancelled");
		snprintf(msg, n, "%s", was ? "learning cancelled" : "not learning");
		return 0;
	}
	if (!atomic_load(&a->midi)) {
		snprintf(msg, n, "no MIDI input: nothing to learn from (see midi.input_port)");
		return -1;
	}
	pthread_mutex_lock(&start_lock);
	if (atomic_exchange(&l->param, param) < 0) {
		if (l->thread_on)
			pthread_join(l->thread, NULL);
		l->thread_on = pthread_create(&l->thread, NULL, learn_main, a) == 0;
		if (!l->thread_on)
			atomic_store(&l->param, -1);
	}
	pthread_mutex_unlock(&start_lock);
	if (atomic_load(&l->param) < 0) {
		snprintf(msg, n, "cannot start learning: out of threads");
		return -1;
	}
	snprintf(msg, n, "learning %s: move a controller", param_table[param].name);
	log_info("learn", "learning %s: waiting for a controller", param_table[param].name);
	return 0;
}

void app_learn_start(struct app *a)
{
	struct app_learn *l = &a->learn;
	char err[1024];
	config_state_dir(a->cfg, a->state_dir, sizeof a->state_dir);
	if (learn_load(a->state_dir, &l->map, err, sizeof err) != 0)
		log_error("learn", "%s: starting with the configuration's mapping only", err);
	else if (learn_map_count(&l->map) > 0)
		log_info("learn", "%d learned controller%s from %s/%s", learn_map_count(&l->map),
		         learn_map_count(&l->map) == 1 ? "" : "s", a->state_dir, LEARN_FILE);
	learn_apply(&a->cfg->engine, &l->map);
	learn_owners(l, &a->cfg->engine);
}

void app_learn_apply(struct app *a, struct engine_config *eng)
{
	pthread_mutex_lock(&a->learn.lock);
	learn_apply(eng, &a->learn.map);
	pthread_mutex_unlock(&a->learn.lock);
	learn_owners(&a->learn, eng);
}

void app_learn_stop(struct app *a)
{
	atomic_store(&a->learn.param, -1);
	if (a->learn.thread_on)
		pthread_join(a->learn.thread, NULL);
	a->learn.thread_on = false;
}
