/*
 * pub: publish a snapshot from the real-time worker to slow readers (console,
 * HTTP /state) without ever making the worker wait.
 *
 * A triple buffer of `size`-byte snapshots.  The writer (one thread: the
 * worker) calls pub_write(): a copy and one atomic exchange, no lock, no
 * allocation, no wait.  Readers (any number of threads) call pub_read(): they
 * get the newest complete snapshot, never a torn one; readers share a mutex
 * among themselves only.
 */
#ifndef ME_RT_PUB_H
#define ME_RT_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pub;

/* A publisher of size-byte snapshots; NULL with errno EINVAL (size 0 or
 * above PUB_MAX_SIZE) or ENOMEM. */
#define PUB_MAX_SIZE ((size_t)1 << 26)
struct pub *pub_new(size_t size);
void pub_free(struct pub *p);
/* Writer: publish a copy of src (size bytes). */
void pub_write(struct pub *p, const void *src);
/* Reader: copy the newest snapshot into dst; false (dst untouched) when
 * nothing has been published yet. */
bool pub_read(struct pub *p, void *dst);
/* As pub_read(), returning the snapshot's generation: 1 for the first
 * pub_write(), 2 for the second, ...; 0 (dst untouched) when nothing yet.
 * A reader that sees the same generation twice knows nothing changed. */
uint64_t pub_read_gen(struct pub *p, void *dst);
size_t pub_size(const struct pub *p);

#endif
