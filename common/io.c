/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * read(2) and write(2) may transfer fewer bytes than asked and may be
 * interrupted; the loops live here once instead of at every call site.
 * One loop a direction: a negative offset means the file position
 * (read/write), any other the offset (pread/pwrite).
 */
#include "common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static ssize_t
io_read_loop(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = off < 0 ? read(fd, p + done, len - done) :
			    pread(fd, p + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int
io_write_loop(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = off < 0 ? write(fd, p + done, len - done) :
			    pwrite(fd, p + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

ssize_t
io_read_full(int fd, void *buf, size_t len)
{
	return io_read_loop(fd, buf, len, -1);
}

ssize_t
io_pread_full(int fd, void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : io_read_loop(fd, buf, len, off);
}

int
io_write_full(int fd, const void *buf, size_t len)
{
	return io_write_loop(fd, buf, len, -1);
}

int
io_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	return off < 0 ? -EINVAL : io_write_loop(fd, buf, len, off);
}

int
io_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}
