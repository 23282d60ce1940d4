/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading and replacing the authorized_keys file clusterd manages
 * (authfile.h).  sshd reads the file at every login, so it must never see
 * half of it, and a power cut right after a change must leave either the
 * old file or the new one: the new contents go to a temporary file that
 * is fsynced before it is renamed over the old, and the directory is
 * fsynced after.  The file keeps its mode and owner, since sshd's
 * StrictModes refuses a file that another user could write.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/gossip/authfile.h"
#include "common/io.h"

void
authfile_release(struct authfile *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

int
authfile_read(const char *path, struct authfile *f)
{
	ssize_t n;
	int fd, ret = 0;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &f->st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(f->st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if (f->st.st_size > AUTHFILE_MAX) {
		ret = -EFBIG;
		goto out;
	}
	f->buf = malloc((size_t)f->st.st_size + 1);
	if (!f->buf) {
		ret = -ENOMEM;
		goto out;
	}
	n = io_read_full(fd, f->buf, (size_t)f->st.st_size);
	if (n < 0) {
		ret = (int)n;
		goto out;
	}
	f->len = (size_t)n;
	f->buf[n] = '\0';
out:
	close(fd);
	return ret;
}

/* Make the rename durable: fsync the directory that holds @path. */
static int
sync_dir(const char *path)
{
	char copy[4096];

	snprintf(copy, sizeof(copy), "%s", path);
	return io_fsync_dir(dirname(copy));
}

/* The temporary file's mode and owner: @st's, or 0600 and ours.  Without
 * CAP_CHOWN (the shipped unit drops it) a file of another owner becomes
 * ours, root's, which sshd's StrictModes accepts for any account. */
static int
set_owner(int fd, const struct stat *st)
{
	if (fchmod(fd, st ? st->st_mode & 07777 : 0600) < 0)
		return -errno;
	if (st && (st->st_uid != geteuid() || st->st_gid != getegid()) &&
	    fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
		return -errno;
	return 0;
}

int
authfile_replace(const char *path, const char *buf, size_t len, const struct stat *st)
{
	char tmp[4096];
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.mars-clusterd", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	ret = set_owner(fd, st);
	if (ret == 0)
		ret = io_write_full(fd, buf, len);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	return sync_dir(path);
}
