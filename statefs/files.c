/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The regular files of a resource directory: logfiles (log-NNNNNNNNN-HOST)
 * and the node-private status files beside them (.driver-status,
 * .engine-status, .log-durable, ...).  They are no keys - no stamps, never
 * gossiped - but they live in the tree, so their paths are built here and
 * nowhere else: a resource name and one component of a file name, checked,
 * relative to the root the tree was opened at, never following a link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefs/internal.h"

/* "resource-RES/NAME" into @buf; -EINVAL for names that are no names. */
static int
file_path(char *buf, size_t size, const char *res, const char *name)
{
	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0 || !*name ||
	    strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(buf, size, "resource-%s/%s", res, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int
statefs_file_open(const struct statefs *sf, const char *res, const char *name, int flags,
		  mode_t mode)
{
	char path[STATEFS_FILE_PATH_MAX + 1];
	int ret = file_path(path, sizeof(path), res, name), fd;

	if (ret < 0)
		return ret;
	fd = openat(sf->root_fd, path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

int
statefs_file_stat(const struct statefs *sf, const char *res, const char *name, struct stat *st)
{
	char path[STATEFS_FILE_PATH_MAX + 1];
	int ret = file_path(path, sizeof(path), res, name);

	if (ret < 0)
		return ret;
	return fstatat(sf->root_fd, path, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int
statefs_file_unlink(const struct statefs *sf, const char *res, const char *name)
{
	char path[STATEFS_FILE_PATH_MAX + 1];
	int ret = file_path(path, sizeof(path), res, name);

	if (ret < 0)
		return ret;
	return unlinkat(sf->root_fd, path, 0) < 0 ? -errno : 0;
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
	char a[STATEFS_FILE_PATH_MAX + 1], b[STATEFS_FILE_PATH_MAX + 1];
	int ret = file_path(a, sizeof(a), res, from);

	if (ret == 0)
		ret = file_path(b, sizeof(b), res, to);
	if (ret < 0)
		return ret;
	return renameat(sf->root_fd, a, sf->root_fd, b) < 0 ? -errno : 0;
}

int
statefs_resource_dir(const struct statefs *sf, const char *res, int create)
{
	char path[STATEFS_PATH_MAX + 1];
	int fd;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "resource-%s", res);
	if (create && mkdirat(sf->root_fd, path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(sf->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
