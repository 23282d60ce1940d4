/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page's bearer token, read from a file.  Why a file: an
 * option's value is in /proc/PID/cmdline, which every local user can
 * read (ps), and an environment variable leaks to every child and to
 * /proc/PID/environ of the same user.  The file is refused unless only
 * its owner can use it, and the message says how to fix that, so a token
 * never silently sits in a world-readable file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/status/http.h"

/* 0 if @st may hold a secret of this process, else -errno with @err set. */
static int
check_mode(const char *path, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "token file '%s' is not a regular file", path);
		return -EINVAL;
	}
	if (st->st_mode & 077) {
		snprintf(err, errlen, "token file '%s' is accessible by group or others "
			 "(mode %04o); run: chmod 600 '%s'", path,
			 (unsigned)(st->st_mode & 07777), path);
		return -EPERM;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(err, errlen, "token file '%s' belongs to uid %u, not to this user "
			 "(uid %u) or root; run: chown %u '%s'", path, (unsigned)st->st_uid,
			 (unsigned)geteuid(), (unsigned)geteuid(), path);
		return -EPERM;
	}
	return 0;
}

/* One line, a final newline allowed; it is compared with a header, so visible ASCII. */
static int
check_token(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "token file '%s' is empty", path);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f) {
			snprintf(err, errlen, "token file '%s': the token must be one line "
				 "of visible ASCII (no spaces)", path);
			return -EINVAL;
		}
	return 0;
}

int
http_token_read(const char *path, char *buf, size_t buflen, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open token file '%s': %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat token file '%s': %s", path, strerror(-ret));
		goto out;
	}
	ret = check_mode(path, &st, err, errlen);
	if (ret < 0)
		goto out;
	n = read(fd, buf, buflen);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read token file '%s': %s", path, strerror(-ret));
		goto out;
	}
	if ((size_t)n == buflen) {
		snprintf(err, errlen, "token file '%s' is longer than %zu bytes", path,
			 buflen - 1);
		ret = -EFBIG;
		goto out;
	}
	buf[n] = '\0';
	ret = check_token(path, buf, (size_t)n, err, errlen);
out:
	close(fd);
	return ret;
}
