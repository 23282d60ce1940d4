/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node-private small files at the root (.clock, .counters): regular
 * files, never reached through a link, read whole and rewritten in place
 * while their owner holds flock(2) on them, so that no reader sees half a
 * write.  Nothing here is fsync'ed: both are rebuilt from nothing after a
 * crash, and the files that use them say why that is safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefs/internal.h"

int
sf_small_open(struct statefs *sf, const char *name, int flags)
{
	int fd = openat(sf->root_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int
sf_small_lock(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int
sf_small_open_locked(struct statefs *sf, const char *name, int flags, int op)
{
	int fd = sf_small_open(sf, name, flags), ret;

	if (fd < 0)
		return fd;
	ret = sf_small_lock(fd, op);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

ssize_t
sf_small_read(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size, 0);

	return n < 0 ? -errno : n;
}

int
sf_small_rewrite(int fd, const char *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, 0);

	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EIO;
	return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}
