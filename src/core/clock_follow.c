/*
 * clock_follow: the least-squares line through the last pulses (see
 * clock_follow.h).  Each pulse refits the window (96 points and the 24 of
 * the change detector: about a thousand flops) relative to the newest pulse, so the doubles stay
 * small and nothing accumulates over hours.  Pure; any thread that owns it.
 */
#include "core/clock_follow.h"

#include <math.h>
#include <string.h>

void clock_follow_reset(struct clock_follow *f)
{
	memset(f, 0, sizeof *f);
	f->last_t = INT64_MIN;
}

void clock_follow_restart(struct clock_follow *f)
{
	double period = f->period;
	clock_follow_reset(f);
	f->period = period;
}

struct line {
	double a, b, rms, sxx; /* t - t_newest = a + b (p - p_newest) */
};

/* Least squares through the newest m pulses, relative to the newest. */
static struct line fit(const struct clock_follow *f, int m, int64_t t0, int64_t p0)
{
	struct line l = {0};
	double sx = 0, sy = 0;
	for (int j = 1; j <= m; j++) {
		int i = (f->head + CLOCK_FOLLOW_WINDOW - j) % CLOCK_FOLLOW_WINDOW;
		sx += (double)(f->p[i] - p0);
		sy += (double)(f->t[i] - t0);
	}
	double mx = sx / m, my = sy / m, sxy = 0;
	for (int j = 1; j <= m; j++) {
		int i = (f->head + CLOCK_FOLLOW_WINDOW - j) % CLOCK_FOLLOW_WINDOW;
		double x = (double)(f->p[i] - p0) - mx, y = (double)(f->t[i] - t0) - my;
		l.sxx += x * x;
		sxy += x * y;
	}
	if (!(l.sxx > 0))
		return l;
	l.b = sxy / l.sxx;
	l.a = my - l.b * mx;
	double ss = 0;
	for (int j = 1; j <= m; j++) {
		int i = (f->head + CLOCK_FOLLOW_WINDOW - j) % CLOCK_FOLLOW_WINDOW;
		double r = (double)(f->t[i] - t0) - (l.a + l.b * (double)(f->p[i] - p0));
		ss += r * r;
	}
	l.rms = sqrt(ss / m);
	return l;
}

static void refit(struct clock_follow *f)
{
	int newest = (f->head + CLOCK_FOLLOW_WINDOW - 1) % CLOCK_FOLLOW_WINDOW;
	int64_t t0 = f->t[newest], p0 = f->p[newest];
	struct line l = fit(f, f->n, t0, p0);
	if (f->n > CLOCK_FOLLOW_SHORT + CLOCK_FOLLOW_SHORT / 2) {
		struct line s = fit(f, CLOCK_FOLLOW_SHORT, t0, p0);
		double sigma =
		    s.rms > CLOCK_FOLLOW_JITTER_FLOOR_NS ? s.rms : CLOCK_FOLLOW_JITTER_FLOOR_NS;
		double d = fabs(s.b - l.b);
		if (s.sxx > 0 && d > CLOCK_FOLLOW_SIGMAS * sigma / sqrt(s.sxx) &&
		    d > CLOCK_FOLLOW_CHANGE_MIN * l.b) {
			f->n = CLOCK_FOLLOW_SHORT; /* the tempo changed: keep the new pulses */
			f->changes++;
			l = s;
		}
	}
	if (!(l.sxx > 0))
		return;
	double lo = 60e9 / (CLOCK_FOLLOW_BPM_MAX * CLOCK_FOLLOW_PPQN);
	double hi = 60e9 / (CLOCK_FOLLOW_BPM_MIN * CLOCK_FOLLOW_PPQN);
	f->t_ref = t0;
	f->p_ref = p0;
	f->a = l.a;
	f->period = l.b < lo ? lo : l.b > hi ? hi : l.b;
	f->jitter = l.rms;
	f->valid = f->n >= CLOCK_FOLLOW_MIN;
}

void clock_follow_pulse(struct clock_follow *f, int64_t t)
{
	f->t[f->head] = t;
	f->p[f->head] = f->count++;
	f->head = (f->head + 1) % CLOCK_FOLLOW_WINDOW;
	if (f->n < CLOCK_FOLLOW_WINDOW)
		f->n++;
	f->last_t = t;
	if (f->n >= 2)
		refit(f);
}

int64_t clock_follow_time(const struct clock_follow *f, double pulse)
{
	return f->t_ref + llround(f->a + f->period * (pulse - (double)f->p_ref));
}

double clock_follow_bpm(const struct clock_follow *f)
{
	return f->period > 0 ? 60e9 / (f->period * CLOCK_FOLLOW_PPQN) : 0;
}
