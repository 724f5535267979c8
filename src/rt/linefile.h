/*
 * linefile: appends whole lines to a file, or loses them whole.
 *
 * A write the file cannot take (a full disk, a file size limit) may leave
 * part of a line behind.  In a regular file that part is cut off again, so
 * the file never holds a torn line: a reader of JSON lines never meets one,
 * a later write starts at a line's beginning, and the writer knows how many
 * lines it lost.  A pipe cannot be cut: there a part written stays.
 * Stateless: any thread may call it on its own descriptor.
 */
#ifndef ME_RT_LINEFILE_H
#define ME_RT_LINEFILE_H

#include <stddef.h>

/* Writes the n bytes of buf, whole lines each ending in '\n', to fd
 * (O_APPEND or not).  Returns 0 when all of it was written, else the errno
 * of the failure (EIO for a write that wrote nothing and said no error);
 * *lines gets how many lines of buf are in the file whole. */
int linefile_write(int fd, const char *buf, size_t n, size_t *lines);

#endif
