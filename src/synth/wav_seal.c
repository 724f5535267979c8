/*
 * wav_seal: sealing a recording whose writer died (see wav_seal.h).  The
 * synth's control thread calls it when a managed scsynth that was recording
 * is replaced; any thread.
 */
#include "synth/wav_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int wav_seal(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = -1;
	uint8_t h[4096];
	struct stat st;
	ssize_t got;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	got = pread(fd, h, sizeof h, 0);
	if (got < 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) {
		snprintf(err, errlen, "%s: not a RIFF/WAVE file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > UINT32_MAX) {
		snprintf(err, errlen, "%s: larger than a WAV header can describe", path);
		goto out;
	}
	size_t len = (size_t)st.st_size, pos = 12, frame = 0;
	while (pos + 8 <= (size_t)got) {
		const uint8_t *ck = h + pos;
		size_t size = le32(ck + 4), body = pos + 8;
		if (memcmp(ck, "fmt ", 4) == 0 && body + 16 <= (size_t)got) {
			frame = le16(ck + 8 + 12); /* block align */
		} else if (memcmp(ck, "data", 4) == 0) {
			if (frame == 0 || body > len) {
				snprintf(err, errlen, "%s: no format before the samples", path);
				goto out;
			}
			uint32_t data = (uint32_t)((len - body) / frame * frame);
			uint32_t riff = (uint32_t)(len - 8);
			if (size == data && le32(h + 4) == riff) {
				rc = 0;
				goto out;
			}
			uint8_t v[4];
			put_le32(v, riff);
			bool ok = pwrite(fd, v, 4, 4) == 4;
			put_le32(v, data);
			ok = ok && pwrite(fd, v, 4, (off_t)(pos + 4)) == 4;
			if (!ok || fsync(fd) < 0) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				goto out;
			}
			rc = 1;
			goto out;
		}
		pos = body + size + (size & 1);
	}
	snprintf(err, errlen, "%s: no samples within its first %zu bytes", path, sizeof h);
out:
	close(fd);
	return rc;
}
