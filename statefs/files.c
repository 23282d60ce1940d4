/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The regular files of a resource directory: logfiles (log-NNNNNNNNN-HOST)
 * and the node-private status files beside them (.driver-status,
 * .engine-status, .log-durable, ...).  They are no keys - no stamps, never
 * gossiped - but they live in the tree, so their paths are built here and
 * nowhere else: a resource name and one component of a file name, checked,
 * relative to the root the tree was opened at, never following a link
 * (neither the directory's nor the file's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefs/internal.h"

/* @name is one component of a file name: not empty, no '/', not . or .. */
static int
name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* The key of the directory of @res ("resource-RES"), or -EINVAL. */
static int
res_key(const char *res, char path[STATEFS_PATH_MAX + 1])
{
	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0)
		return -EINVAL;
	return statefs_resource_key(path, STATEFS_PATH_MAX + 1, res);
}

/* The directory resource-RES, opened without following a link. */
static int
res_dir(const struct statefs *sf, const char *res)
{
	char path[STATEFS_PATH_MAX + 1];
	int fd;

	if (res_key(res, path) < 0)
		return -EINVAL;
	fd = openat(sf->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The directory of @res for @name, or -errno. */
static int
file_dir(const struct statefs *sf, const char *res, const char *name)
{
	return name_ok(name) ? res_dir(sf, res) : -EINVAL;
}

int
statefs_file_open(const struct statefs *sf, const char *res, const char *name, int flags,
		  mode_t mode)
{
	int dfd = file_dir(sf, res, name), fd;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		fd = -errno;
	close(dfd);
	return fd;
}

int
statefs_file_stat(const struct statefs *sf, const char *res, const char *name, struct stat *st)
{
	int dfd = file_dir(sf, res, name), ret = 0;

	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		ret = -errno;
	close(dfd);
	return ret;
}

int
statefs_file_unlink(const struct statefs *sf, const char *res, const char *name)
{
	int dfd = file_dir(sf, res, name), ret = 0;

	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, name, 0) < 0)
		ret = -errno;
	close(dfd);
	return ret;
}

int
statefs_file_truncate(const struct statefs *sf, const char *res, const char *name, uint64_t len)
{
	int fd = statefs_file_open(sf, res, name, O_WRONLY, 0), ret = 0;

	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)len) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int
statefs_file_rename(const struct statefs *sf, const char *res, const char *from, const char *to)
{
	int dfd = name_ok(to) ? file_dir(sf, res, from) : -EINVAL, ret = 0;

	if (dfd < 0)
		return dfd;
	if (renameat(dfd, from, dfd, to) < 0)
		ret = -errno;
	close(dfd);
	return ret;
}

int
statefs_resource_dir(const struct statefs *sf, const char *res, int create)
{
	char path[STATEFS_PATH_MAX + 1];

	if (res_key(res, path) < 0)
		return -EINVAL;
	if (create && mkdirat(sf->root_fd, path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return res_dir(sf, res);
}

int
statefs_resource_path(const char *root, const char *res, const char *name, char *buf,
		      size_t size)
{
	char key[STATEFS_PATH_MAX + 1];
	int n;

	if (res_key(res, key) < 0 || (name && !name_ok(name)))
		return -EINVAL;
	if (name)
		n = snprintf(buf, size, "%s/%s/%s", root, key, name);
	else
		n = snprintf(buf, size, "%s/%s", root, key);
	return (size_t)n >= size ? -ENAMETOOLONG : 0;
}
