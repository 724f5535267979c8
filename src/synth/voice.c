/*
 * voice: the voice allocator of the sound plan.
 *
 * A fixed array of slots, each holding the node id of its latest note and
 * the time span of that note, and a fixed list of released nodes still
 * fading out.  Allocation looks for a slot that is over at the new note's
 * start; failing that it steals the slot that started earliest (the oldest
 * note) and reports it, so that the caller releases it.  Node ids cycle
 * through a range and skip any id still sounding.  Pure logic on injected
 * times: deterministic and unit-tested.  Owner thread only; never
 * allocates.
 */
#include "synth/voice.h"

#include <stdbool.h>

void voice_init(struct voice_alloc *va, int n, int32_t first_node, int32_t last_node)
{
	if (n < 1)
		n = 1;
	if (n > VOICE_MAX)
		n = VOICE_MAX;
	if (last_node < first_node)
		last_node = first_node;
	va->n = n;
	va->first_node = first_node;
	va->last_node = last_node;
	va->next_node = first_node;
	va->allocs = 0;
	va->steals = 0;
	voice_reset(va);
}

static int busy_at(const struct voice_slot *s, int64_t t)
{
	return s->node != 0 && s->end > t && s->start <= t;
}

/* A voice that starts later than t (scheduled ahead) is busy too. */
static int taken_at(const struct voice_slot *s, int64_t t)
{
	return s->node != 0 && s->end > t;
}

static bool node_in_use(const struct voice_alloc *va, int32_t id)
{
	for (int i = 0; i < va->n; i++)
		if (va->v[i].node == id)
			return true;
	for (int i = 0; i < va->n_fading; i++)
		if (va->fading[i].node == id)
			return true;
	return false;
}

static int32_t next_node(struct voice_alloc *va)
{
	int32_t id = va->next_node;
	/* At most n + n_fading ids are reserved: one of the next ones is free. */
	for (int tries = 0; tries <= va->n + va->n_fading; tries++) {
		id = va->next_node;
		va->next_node = id >= va->last_node ? va->first_node : id + 1;
		if (!node_in_use(va, id))
			break;
	}
	return id;
}

/* Drops the fades that are over at t. */
static void prune_fading(struct voice_alloc *va, int64_t t)
{
	int k = 0;
	for (int i = 0; i < va->n_fading; i++)
		if (va->fading[i].end > t)
			va->fading[k++] = va->fading[i];
	va->n_fading = k;
}

int32_t voice_alloc(struct voice_alloc *va, int64_t start, int64_t end, struct voice_slot *stolen)
{
	int pick = -1;
	int oldest = 0;

	stolen->node = 0;
	stolen->start = stolen->end = 0;
	prune_fading(va, start);
	for (int i = 0; i < va->n; i++) {
		struct voice_slot *s = &va->v[i];
		if (!taken_at(s, start)) {
			pick = i;
			break;
		}
		if (s->start < va->v[oldest].start)
			oldest = i;
	}
	if (pick < 0) {
		pick = oldest;
		*stolen = va->v[pick];
		va->steals++;
	}
	/* Chosen while the slot still holds the node it replaces. */
	int32_t id = next_node(va);
	va->v[pick].node = id;
	va->v[pick].start = start;
	va->v[pick].end = end > start ? end : start + 1;
	va->allocs++;
	return id;
}

void voice_fade(struct voice_alloc *va, int32_t node, int64_t start, int64_t until)
{
	if (node == 0)
		return;
	int at = va->n_fading;
	if (at == VOICE_FADING_MAX) {
		at = 0;
		for (int i = 1; i < va->n_fading; i++)
			if (va->fading[i].end < va->fading[at].end)
				at = i;
	} else {
		va->n_fading++;
	}
	va->fading[at].node = node;
	va->fading[at].start = start;
	va->fading[at].end = until > start ? until : start + 1;
}

int voice_in_use(const struct voice_alloc *va, int64_t t)
{
	int n = 0;
	for (int i = 0; i < va->n; i++)
		n += busy_at(&va->v[i], t);
	for (int i = 0; i < va->n_fading; i++)
		n += busy_at(&va->fading[i], t);
	return n;
}

int voice_release_all(struct voice_alloc *va, int64_t t, struct voice_slot *out, int cap)
{
	int n = 0;
	for (int i = 0; i < va->n; i++) {
		if (taken_at(&va->v[i], t)) {
			if (n < cap)
				out[n] = va->v[i];
			n++;
		}
		va->v[i].node = 0;
		va->v[i].start = 0;
		va->v[i].end = 0;
	}
	return n;
}

void voice_reset(struct voice_alloc *va)
{
	for (int i = 0; i < VOICE_MAX; i++) {
		va->v[i].node = 0;
		va->v[i].start = 0;
		va->v[i].end = 0;
	}
	va->n_fading = 0;
}
