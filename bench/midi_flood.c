/*
 * midi_flood: floods the MIDI input with controller messages through a pty
 * (the Teensy's stand-in) into the real input thread (midi_in, raw) and the
 * coalescing queue (inq), with a consumer thread that drains the queue on
 * a fixed period like the worker does.  Prints, per run and as the median
 * of the runs: memory (RSS) at start and end, the deepest the queue got,
 * drops, how many controllers ended at their last value, and latencies:
 *   input   note written to the pty -> stamped by the input thread
 *   queue   stamped -> drained by the consumer (every input)
 *   total   note written -> drained
 *
 *   bench/midi_flood [-s SECONDS] [-r RUNS] [-n CC_PER_SECOND] [-p PERIOD_US]
 *                    [-R PRIORITY] [-w]
 *
 * Defaults: 20 s, 3 runs, 10000 CC/s, 1000 us.  Notes go at 100/s on top.
 * -R runs the input thread and the consumer under SCHED_FIFO, as the
 * service may on the Pi; without it they compete with everything else.
 * -w lets the consumer sleep until its deadline or the next message
 * (inq_arm + poll on inq_wake_fd) instead of only until its deadline.
 * Build without sanitizers for meaningful figures.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt/hist.h"
#include "rt/inq.h"
#include "dev/midi_in.h"
#include "rt/rtclock.h"

#define KEYS 128 /* 16 channels x 8 controllers */
#define MAX_NOTES 200000

struct run {
	int seconds, cc_rate;
	int64_t period_ns;
	struct inq *q;
	int master;
	_Atomic int producing, consuming;
	int last_sent[KEYS];
	int last_seen[KEYS];
	int64_t *note_write; /* write time of note i */
	long rss_warm;       /* after the first second */
	long rss_last;       /* at the last write */
	int notes_sent, notes_seen, notes_late_order;
	struct hist input, queue, total;
};

static long rss_kib(void);
static long rss_kib(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = -1;
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int rt_prio, use_wake;

static void *consumer(void *arg)
{
	struct run *r = arg;
	if (rt_prio > 0) {
		struct sched_param sp = {.sched_priority = rt_prio};
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
			fprintf(stderr, "midi_flood: SCHED_FIFO refused for the consumer\n");
	}
	static struct engine_input in[4096];
	memset(in, 0, sizeof in);
	int64_t next = rtclock_mono_ns();
	int last_note = -1;
	while (atomic_load(&r->consuming)) {
		int64_t now0 = rtclock_mono_ns();
		while (next <= now0)
			next += r->period_ns;
		if (use_wake) {
			/* sleep to the deadline or the next message, like a worker may */
			if (inq_arm(r->q)) {
				struct pollfd p = {.fd = inq_wake_fd(r->q), .events = POLLIN};
				int64_t d = next - now0;
				struct timespec ts = {d / NS_PER_SEC, d % NS_PER_SEC};
				ppoll(&p, 1, &ts, NULL);
				inq_disarm(r->q);
			}
		} else {
			rtclock_sleep_until(next);
		}
		size_t n;
		while ((n = inq_drain(r->q, in, 4096)) > 0) {
			int64_t now = rtclock_mono_ns();
			for (size_t i = 0; i < n; i++) {
				const struct midi_msg *m = &in[i].u.midi;
				hist_add(&r->queue, now - in[i].t);
				if (m->kind == MIDI_CC) {
					int k = (m->channel - 1) * 8 + m->number;
					if (k >= 0 && k < KEYS)
						r->last_seen[k] = m->value;
				} else if (m->kind == MIDI_NOTE_ON) {
					int id = (m->value - 1) * 128 + m->number;
					if (id < 0 || id >= MAX_NOTES)
						continue;
					if (id <= last_note)
						r->notes_late_order++;
					last_note = id;
					r->notes_seen++;
					hist_add(&r->input, in[i].t - r->note_write[id]);
					hist_add(&r->total, now - r->note_write[id]);
				}
			}
		}
	}
	return NULL;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *producer(void *arg)
{
	struct run *r = arg;
	unsigned s = 2024;
	int per_ms = r->cc_rate / 1000;
	int64_t start = rtclock_mono_ns(), next = start;
	int64_t end = start + (int64_t)r->seconds * NS_PER_SEC;
	for (int tick = 0; next < end; tick++) {
		/* a random phase in each millisecond, as a real device has */
		s = s * 1103515245u + 12345u;
		next = start + (int64_t)(tick + 1) * NS_PER_MS + (int64_t)((s >> 8) % 1000) * 1000;
		rtclock_sleep_until(next);
		if (tick == 1000)
			r->rss_warm = rss_kib();
		uint8_t buf[3 * 1000];
		size_t len = 0;
		for (int i = 0; i < per_ms && len + 3 <= sizeof buf; i++) {
			s = s * 1103515245u + 12345u;
			int k = (int)((s >> 16) % KEYS);
			int v = (int)((s >> 8) % 128);
			buf[len++] = (uint8_t)(0xB0 | (k / 8));
			buf[len++] = (uint8_t)(k % 8);
			buf[len++] = (uint8_t)v;
			r->last_sent[k] = v;
		}
		if (write_all(r->master, buf, len) < 0)
			break;
		if (tick % 10 == 0 && r->notes_sent < MAX_NOTES) {
			int id = r->notes_sent;
			uint8_t note[3] = {0x90, (uint8_t)(id % 128),
			                   (uint8_t)(1 + id / 128 % 127)};
			r->note_write[id] = rtclock_mono_ns();
			r->notes_sent++;
			if (write_all(r->master, note, 3) < 0)
				break;
		}
	}
	r->rss_last = rss_kib();
	atomic_store(&r->producing, 0);
	return NULL;
}

struct result {
	long rss_start, rss_warm, rss_last, rss_end, rss_max;
	uint32_t max_depth, cap;
	uint64_t drops, coalesced, deferred, messages;
	int last_ok, notes_sent, notes_seen, out_of_order;
	double in50, in99, q50, q99, t50, t99, tmax;
};

static int one_run(int seconds, int cc_rate, int64_t period_ns, struct result *res)
{
	static struct run r;
	memset(&r, 0, sizeof r);
	r.seconds = seconds;
	r.cc_rate = cc_rate;
	r.period_ns = period_ns;
	/* touch the bench's own buffers now, so that RSS shows the engine side */
	r.note_write = calloc(MAX_NOTES, sizeof *r.note_write);
	memset(r.note_write, 0xff, MAX_NOTES * sizeof *r.note_write);
	for (int k = 0; k < KEYS; k++)
		r.last_sent[k] = r.last_seen[k] = -1;
	hist_init(&r.input);
	hist_init(&r.queue);
	hist_init(&r.total);

	char slave[128], spec[160];
	r.master = posix_openpt(O_RDWR | O_NOCTTY);
	if (r.master < 0 || grantpt(r.master) || unlockpt(r.master) ||
	    ptsname_r(r.master, slave, sizeof slave)) {
		perror("midi_flood: pty");
		return -1;
	}
	snprintf(spec, sizeof spec, "raw:%s", slave);
	r.q = inq_new(1024);
	enum midi_in_err err;
	/* The input thread inherits the scheduling of the thread that starts
	 * it: SCHED_FIFO for the start with -R, then back to normal. */
	struct sched_param fifo = {.sched_priority = rt_prio}, normal = {0};
	if (rt_prio > 0 && pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) != 0)
		fprintf(stderr, "midi_flood: SCHED_FIFO refused for the input thread\n");
	struct midi_in *mi = midi_in_start(spec, r.q, NULL, &err);
	if (rt_prio > 0)
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
	if (!mi) {
		fprintf(stderr, "midi_flood: %s\n", midi_in_strerror(err));
		return -1;
	}
	while (midi_in_state(mi) != LINK_CONNECTED)
		rtclock_sleep_until(rtclock_mono_ns() + NS_PER_MS);

	atomic_store(&r.producing, 1);
	atomic_store(&r.consuming, 1);
	pthread_t pc, pp;
	pthread_create(&pc, NULL, consumer, &r);
	res->rss_start = rss_kib();
	res->rss_max = res->rss_start;
	pthread_create(&pp, NULL, producer, &r);
	while (atomic_load(&r.producing)) {
		rtclock_sleep_until(rtclock_mono_ns() + 100 * NS_PER_MS);
		long now = rss_kib();
		if (now > res->rss_max)
			res->rss_max = now;
	}
	pthread_join(pp, NULL);
	rtclock_sleep_until(rtclock_mono_ns() + 100 * NS_PER_MS); /* let it settle */
	atomic_store(&r.consuming, 0);
	pthread_join(pc, NULL);
	res->rss_end = rss_kib();
	res->rss_warm = r.rss_warm;
	res->rss_last = r.rss_last;

	struct inq_stats qs;
	inq_get_stats(r.q, &qs);
	struct midi_in_stats ms;
	midi_in_get_stats(mi, &ms);
	res->max_depth = qs.max_depth;
	res->cap = qs.cap;
	res->drops = qs.dropped_notes + qs.dropped_other;
	res->coalesced = qs.coalesced;
	res->deferred = qs.deferred;
	res->messages = ms.messages[MIDI_CC] + ms.messages[MIDI_NOTE_ON];
	res->last_ok = 0;
	for (int k = 0; k < KEYS; k++)
		res->last_ok += r.last_seen[k] == r.last_sent[k];
	res->notes_sent = r.notes_sent;
	res->notes_seen = r.notes_seen;
	res->out_of_order = r.notes_late_order;
	res->in50 = hist_quantile(&r.input, 0.5) / 1e3;
	res->in99 = hist_quantile(&r.input, 0.99) / 1e3;
	res->q50 = hist_quantile(&r.queue, 0.5) / 1e3;
	res->q99 = hist_quantile(&r.queue, 0.99) / 1e3;
	res->t50 = hist_quantile(&r.total, 0.5) / 1e3;
	res->t99 = hist_quantile(&r.total, 0.99) / 1e3;
	res->tmax = hist_quantile(&r.total, 1.0) / 1e3;
	midi_in_stop(mi);
	inq_free(r.q);
	close(r.master);
	free(r.note_write);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int seconds = 20, runs = 3, rate = 10000, period_us = 1000, c;
	while ((c = getopt(argc, argv, "s:r:n:p:R:w")) != -1) {
		switch (c) {
		case 's':
			seconds = atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'n':
			rate = atoi(optarg);
			break;
		case 'p':
			period_us = atoi(optarg);
			break;
		case 'R':
			rt_prio = atoi(optarg);
			break;
		case 'w':
			use_wake = 1;
			break;
		default:
			fprintf(stderr,
			        "usage: %s [-s SECONDS] [-r RUNS] [-n CC_PER_SECOND] "
			        "[-p PERIOD_US] [-R PRIORITY] [-w]\n",
			        argv[0]);
			return 2;
		}
	}
	if (seconds < 1 || runs < 1 || runs > 50 || rate < 1000 || rate > 1000000 ||
	    period_us < 10) {
		fprintf(stderr, "midi_flood: -s >= 1, -r 1..50, -n 1000..1000000, -p >= 10\n");
		return 2;
	}
	printf("midi_flood: %d CC/s + 100 notes/s for %d s, %d runs, consumer every %d us%s, %s\n",
	       rate, seconds, runs, period_us, use_wake ? " or on wake-up" : "",
	       rt_prio > 0 ? "SCHED_FIFO" : "normal scheduling");
	double m[7][50];
	for (int i = 0; i < runs; i++) {
		struct result r;
		if (one_run(seconds, rate, (int64_t)period_us * 1000, &r) < 0)
			return 1;
		printf("run %d: rss KiB: flood 1 s %ld, last second %ld (before %ld, after %ld); "
		       "queue max depth %u of %u; drops %lu; "
		       "coalesced %lu, parked %lu of %lu messages; last value %d/%d controllers; "
		       "notes %d/%d, %d out of order\n",
		       i + 1, r.rss_warm, r.rss_last, r.rss_start, r.rss_end, r.max_depth, r.cap,
		       (unsigned long)r.drops, (unsigned long)r.coalesced,
		       (unsigned long)r.deferred, (unsigned long)r.messages, r.last_ok, KEYS,
		       r.notes_seen, r.notes_sent, r.out_of_order);
		printf("       latency us: input p50 %.0f p99 %.0f | queue p50 %.0f p99 %.0f | "
		       "total p50 %.0f p99 %.0f max %.0f\n",
		       r.in50, r.in99, r.q50, r.q99, r.t50, r.t99, r.tmax);
		double v[7] = {r.in50, r.in99, r.q50, r.q99, r.t50, r.t99, r.tmax};
		for (int k = 0; k < 7; k++)
			m[k][i] = v[k];
	}
	printf("median of %d runs, us: input p50 %.0f p99 %.0f | queue p50 %.0f p99 %.0f | "
	       "total p50 %.0f p99 %.0f max %.0f\n",
	       runs, median(m[0], runs), median(m[1], runs), median(m[2], runs), median(m[3], runs),
	       median(m[4], runs), median(m[5], runs), median(m[6], runs));
	return 0;
}
