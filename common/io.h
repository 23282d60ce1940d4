/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole-buffer read and write over file descriptors, retrying short
 * transfers and EINTR, so that callers see either all bytes, a clean end
 * of file, or an errno.
 */
#ifndef MARS_COMMON_IO_H
#define MARS_COMMON_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read up to @len bytes into @buf, stopping early only at end of file.
 * Returns the number of bytes read (less than @len only at end of file)
 * or -errno.
 */
ssize_t io_read_full(int fd, void *buf, size_t len);

/*
 * The same at file offset @off (pread), leaving the file position alone.
 * Fails with -ESPIPE on pipes and sockets, -EINVAL on a negative @off.
 */
ssize_t io_pread_full(int fd, void *buf, size_t len, off_t off);

/* Write all @len bytes of @buf.  Returns 0 or -errno. */
int io_write_full(int fd, const void *buf, size_t len);

/* The same at file offset @off (pwrite), leaving the file position alone. */
int io_pwrite_full(int fd, const void *buf, size_t len, off_t off);

/* fsync the directory @dir, so that a name created or renamed in it is
 * durable.  Returns 0 or -errno. */
int io_fsync_dir(const char *dir);

#endif /* MARS_COMMON_IO_H */
