/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading and writing single links.  A write is a temporary link in the
 * key's own directory, stamped with utimensat(AT_SYMLINK_NOFOLLOW), then
 * renamed over the key: rename(2) replaces the name atomically, so a
 * reader sees the old or the new link, never neither and never a link
 * without its stamp.  Directories are walked one component at a time with
 * O_NOFOLLOW, so a planted symbolic link cannot lead a key outside the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

/* A link replaced between lstat and readlink: try again.  A reader that is
 * preempted between its two calls while writers keep renaming can lose
 * many rounds in a row; giving up then reports a live key as unreadable. */
#define READ_RETRIES 1024

uint64_t
sf_stamp_of(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * STATEFS_NS_PER_S + (uint64_t)st->st_mtim.tv_nsec;
}

static int
open_dir_at(int dfd, const char *name, int create, int *created)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd >= 0 ? fd : -errno;
	if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	*created = 1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int
sf_open_parent(struct statefs *sf, const char *path, int create,
	       const char **base, int *created_depth)
{
	char comp[STATEFS_PATH_MAX + 1];
	const char *p = path, *slash;
	int dfd, fd, depth, created = 0;

	if (created_depth)
		*created_depth = -1;
	dfd = fcntl(sf->root_fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -errno;
	for (depth = 0; (slash = strchr(p, '/')) != NULL; depth++, p = slash + 1) {
		if ((size_t)(slash - p) > STATEFS_KEY_MAX) {
			close(dfd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = '\0';
		fd = open_dir_at(dfd, comp, create, &created);
		close(dfd);
		if (fd < 0)
			return fd;
		if (created && created_depth && *created_depth < 0)
			*created_depth = depth;
		dfd = fd;
	}
	*base = p;
	return dfd;
}

void
sf_remove_dirs(struct statefs *sf, const char *path, int from)
{
	char buf[STATEFS_PATH_MAX + 1];
	char *slash;
	int depth = 0;

	if (from < 0 || strlen(path) > STATEFS_PATH_MAX)
		return;
	strcpy(buf, path);
	for (slash = buf; (slash = strchr(slash, '/')) != NULL; slash++)
		depth++;
	/* depth = number of directories above the key; remove deepest first */
	while (depth-- > from) {
		slash = strrchr(buf, '/');
		*slash = '\0';
		if (unlinkat(sf->root_fd, buf, AT_REMOVEDIR) < 0)
			return;
	}
}

static int
read_once(int dfd, const char *name, struct statefs_entry *e, struct stat *st)
{
	ssize_t n;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISLNK(st->st_mode))
		return -EEXIST;
	n = readlinkat(dfd, name, e->value, sizeof(e->value));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(e->value))
		return -E2BIG;
	e->value[n] = '\0';
	e->stamp_ns = sf_stamp_of(st);
	e->tombstone = strcmp(e->value, STATEFS_TOMBSTONE) == 0;
	return 0;
}

/*
 * Value and stamp must come from the same link: a writer may rename a new
 * link over the name between lstat and readlink, so check the inode and
 * stamp again afterwards.  Vanishing (tombstone collection) is a valid
 * "absent".
 */
int
sf_read_at(int dfd, const char *name, struct statefs_entry *e)
{
	struct stat st, again;
	int i, ret;

	for (i = 0; i < READ_RETRIES; i++) {
		ret = read_once(dfd, name, e, &st);
		if (ret == -EINVAL)	/* no longer a link: replaced, retry */
			continue;
		if (ret < 0)
			return ret;
		if (fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (again.st_ino == st.st_ino && sf_stamp_of(&again) == e->stamp_ns)
			return 0;
	}
	return -EAGAIN;
}

int
sf_write_at(int dfd, const char *name, const char *value, uint64_t stamp_ns)
{
	struct timespec ts[2];
	char tmp[STATEFS_KEY_MAX + 32];
	int ret;

	snprintf(tmp, sizeof(tmp), SF_TMP_PREFIX "%ld.%s", (long)getpid(), name);
	unlinkat(dfd, tmp, 0);	/* left over by a crashed process of our pid */
	if (symlinkat(value, dfd, tmp) < 0)
		return -errno;
	ts[0].tv_sec = (time_t)(stamp_ns / STATEFS_NS_PER_S);
	ts[0].tv_nsec = (long)(stamp_ns % STATEFS_NS_PER_S);
	ts[1] = ts[0];
	if (utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0 ||
	    renameat(dfd, tmp, dfd, name) < 0) {
		ret = -errno;
		unlinkat(dfd, tmp, 0);
		return ret;
	}
	return 0;
}

int
statefs_read(struct statefs *sf, const char *path, struct statefs_entry *e)
{
	const char *base;
	int dfd, ret;

	if (strlen(path) > STATEFS_PATH_MAX)
		return -ENAMETOOLONG;
	dfd = sf_open_parent(sf, path, 0, &base, NULL);
	if (dfd < 0)
		return dfd == -ENOTDIR || dfd == -ELOOP ? -ENOENT : dfd;
	ret = sf_read_at(dfd, base, e);
	close(dfd);
	if (ret == 0)
		strcpy(e->path, path);
	return ret;
}

int
statefs_get(struct statefs *sf, const char *path, char *buf, size_t size,
	    uint64_t *stamp_ns)
{
	struct statefs_entry e;
	size_t len;
	int ret = statefs_read(sf, path, &e);

	if (ret < 0)
		return ret;
	if (e.tombstone)
		return -ENOENT;
	len = strlen(e.value);
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, e.value, len + 1);
	if (stamp_ns)
		*stamp_ns = e.stamp_ns;
	return (int)len;
}

int
statefs_is_dir(struct statefs *sf, const char *path)
{
	struct stat st;

	if (path[0] == '\0')
		return 1;
	if (fstatat(sf->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

int
statefs_is_member(struct statefs *sf, const char *res, const char *host)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;
	int ret;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0 ||
	    statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return 0;
	statefs_resource_keyf(key, sizeof(key), res, "data-%s", host);
	ret = statefs_read(sf, key, &e);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0 || e.tombstone)
		return ret < 0 ? ret : 0;
	/* An evicted host's own links stay (only it may delete them), but it
	 * is no member of anything any more. */
	ret = statefs_is_evicted(sf, host, NULL, 0);
	return ret < 0 ? ret : !ret;
}

int
statefs_is_evicted(struct statefs *sf, const char *host, char *by, size_t size)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;
	int ret;

	if (statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return 0;
	snprintf(key, sizeof(key), "evicted/%s", host);
	ret = statefs_read(sf, key, &e);
	if (ret == -ENOENT || (ret == 0 && e.tombstone))
		return 0;
	if (ret < 0)
		return ret;
	if (by && size)
		snprintf(by, size, "%s", e.value);
	return 1;
}
