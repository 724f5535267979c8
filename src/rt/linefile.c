/*
 * linefile: whole lines or nothing (see linefile.h).  After a failed write
 * the file holds what it held before plus `done` bytes of buf; the bytes
 * after the last '\n' among them are cut off (ftruncate) and the offset is
 * put back at the new end, for a descriptor without O_APPEND.
 */
#include "rt/linefile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static size_t count_lines(const char *buf, size_t n)
{
	size_t k = 0;
	for (const char *p = buf; (p = memchr(p, '\n', n - (size_t)(p - buf))) != NULL; p++)
		k++;
	return k;
}

int linefile_write(int fd, const char *buf, size_t n, size_t *lines)
{
	size_t done = 0;
	int e = 0;
	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
		done += (size_t)w;
	}
	size_t whole = done;
	if (e) {
		while (whole > 0 && buf[whole - 1] != '\n')
			whole--;
		struct stat st;
		if (whole < done && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size >= (off_t)(done - whole)) {
			off_t keep = st.st_size - (off_t)(done - whole);
			if (ftruncate(fd, keep) == 0)
				lseek(fd, keep, SEEK_SET);
		}
	}
	*lines = count_lines(buf, whole);
	return e;
}
