/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Listing keys with their values and stamps: what "marsadm view" reads and
 * what gossip will send.  Only keys of tree format 1 are shown; anything
 * else under the root (logfiles, status files, a stray file) is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

struct list_ctx {
	unsigned flags;
	statefs_list_fn fn;
	void *arg;
};

/* Gossip sends what this node may write, and all tombstones. */
static int
sendable(const struct statefs *sf, const struct statefs_keyinfo *ki,
	 const struct statefs_entry *e)
{
	return e->tombstone || ki->owner[0] == '\0' || strcmp(ki->owner, sf->host) == 0;
}

static int
list_visit(struct statefs *sf, const struct sf_item *it, void *arg)
{
	struct list_ctx *lc = arg;
	struct statefs_keyinfo ki;
	struct statefs_entry e;
	int ret;

	if (!S_ISLNK(it->st->st_mode) || statefs_key_check(it->path, &ki) < 0)
		return 0;
	ret = sf_read_at(it->dfd, it->name, &e);
	if (ret == -ENOENT || ret == -EEXIST || ret == -EISDIR)
		return 0;	/* changed under us: no longer a link */
	if (ret < 0)
		return ret;
	if (e.tombstone && !(lc->flags & STATEFS_LIST_TOMBSTONES))
		return 0;
	if ((lc->flags & STATEFS_LIST_SENDABLE) && !sendable(sf, &ki, &e))
		return 0;
	strcpy(e.path, it->path);
	return lc->fn(&e, lc->arg);
}

int
statefs_list(struct statefs *sf, const char *subtree, unsigned flags,
	     statefs_list_fn fn, void *arg)
{
	struct list_ctx lc = { .flags = flags, .fn = fn, .arg = arg };

	return sf_walk(sf, subtree, 0, list_visit, &lc);
}

static int
open_subdir(struct statefs *sf, const char *dir)
{
	int fd;

	if (dir[0] == '\0')
		fd = fcntl(sf->root_fd, F_DUPFD_CLOEXEC, 0);
	else
		fd = openat(sf->root_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd >= 0 ? fd : (errno == ENOTDIR ? -ENOENT : -errno);
}

static int
is_subdir(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The names in @dir ("" = root), private ones skipped, in byte order. */
static int
list_names(struct statefs *sf, const char *dir,
	   int (*visit)(int dfd, const char *name, void *arg), void *arg)
{
	size_t i, n;
	char **names;
	int dfd, ret;

	dfd = open_subdir(sf, dir);
	if (dfd < 0)
		return dfd;
	ret = sf_read_names(dfd, &names, &n);
	for (i = 0; ret == 0 && i < n; i++)
		if (names[i][0] != '.')
			ret = visit(dfd, names[i], arg);
	sf_names_free(names, n);
	close(dfd);
	return ret;
}

struct files_ctx {
	int (*fn)(const char *name, uint64_t size_bytes, void *arg);
	void *arg;
};

static int
files_visit(int dfd, const char *name, void *arg)
{
	struct files_ctx *fc = arg;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return fc->fn(name, (uint64_t)st.st_size, fc->arg);
}

int
statefs_list_files(struct statefs *sf, const char *dir,
		   int (*fn)(const char *name, uint64_t size_bytes, void *arg), void *arg)
{
	struct files_ctx fc = { .fn = fn, .arg = arg };

	return list_names(sf, dir, files_visit, &fc);
}

struct dirs_ctx {
	const char *prefix;
	size_t plen;
	int (*fn)(const char *name, void *arg);
	void *arg;
};

static int
dirs_visit(int dfd, const char *name, void *arg)
{
	struct dirs_ctx *dc = arg;

	if (strncmp(name, dc->prefix, dc->plen) || !name[dc->plen] || !is_subdir(dfd, name))
		return 0;
	return dc->fn(name + dc->plen, dc->arg);
}

int
statefs_list_dirs(struct statefs *sf, const char *dir, const char *prefix,
		  int (*fn)(const char *name, void *arg), void *arg)
{
	struct dirs_ctx dc = { .prefix = prefix, .plen = strlen(prefix), .fn = fn, .arg = arg };

	return list_names(sf, dir, dirs_visit, &dc);
}
