/*
 * voice: the voice allocator of the live synth backend.
 *
 * A fixed array of slots, each holding the node id of its latest note and
 * the time span of that note.  Allocation looks for a slot that is over at
 * the new note's start; failing that it steals the slot that started
 * earliest (the oldest note) and reports its node so that the caller frees
 * it at the same instant.  Pure logic on injected times: deterministic and
 * unit-tested.  Owner thread only (the worker); never allocates.
 */
#include "rt/voice.h"

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

static int32_t next_node(struct voice_alloc *va)
{
	int32_t id = va->next_node;
	va->next_node = id >= va->last_node ? va->first_node : id + 1;
	return id;
}

int32_t voice_alloc(struct voice_alloc *va, int64_t start, int64_t end, int32_t *stolen)
{
	int pick = -1;
	int oldest = 0;

	*stolen = 0;
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
		*stolen = va->v[pick].node;
		va->steals++;
	}
	va->v[pick].node = next_node(va);
	va->v[pick].start = start;
	va->v[pick].end = end > start ? end : start + 1;
	va->allocs++;
	return va->v[pick].node;
}

int voice_in_use(const struct voice_alloc *va, int64_t t)
{
	int n = 0;
	for (int i = 0; i < va->n; i++)
		n += busy_at(&va->v[i], t);
	return n;
}

int voice_release_all(struct voice_alloc *va, int64_t t, int32_t *nodes, int cap)
{
	int n = 0;
	for (int i = 0; i < va->n; i++) {
		if (taken_at(&va->v[i], t)) {
			if (n < cap)
				nodes[n] = va->v[i].node;
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
}
