/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Depth-first walk over the tree, names in byte order so that listings
 * (and gossip digests built from them) are deterministic.  Each directory
 * is read completely before its entries are visited, so a visitor may
 * remove what it is shown.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
sf_names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

static int
names_push(char ***names, size_t *n, size_t *cap, const char *name)
{
	char **grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		grown = realloc(*names, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*names = grown;
	}
	(*names)[*n] = strdup(name);
	if (!(*names)[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int
sf_read_names(int dfd, char ***names, size_t *n)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	int fd, ret = 0;

	*names = NULL;
	*n = 0;
	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	rewinddir(dir);
	while (ret == 0 && (de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			ret = names_push(names, n, &cap, de->d_name);
	closedir(dir);
	if (ret < 0) {
		sf_names_free(*names, *n);
		*names = NULL;
		*n = 0;
		return ret;
	}
	if (*n > 1)	/* an empty directory leaves *names NULL: no qsort(NULL) */
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

struct walk {
	struct statefs *sf;
	unsigned flags;
	sf_visit_fn fn;
	void *arg;
};

static int walk_dir(struct walk *w, int dfd, const char *path, int depth);

static int
join_path(char *buf, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	if (dl + 1 + nl > STATEFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (dl) {
		memcpy(buf, dir, dl);
		buf[dl++] = '/';
	}
	memcpy(buf + dl, name, nl + 1);
	return 0;
}

static int
walk_entry(struct walk *w, int dfd, const char *dir, const char *name, int depth)
{
	char path[STATEFS_PATH_MAX + 1];
	struct sf_item it;
	struct stat st;
	int fd, ret;

	if (name[0] == '.' && !(w->flags & SF_WALK_PRIVATE))
		return 0;
	if (join_path(path, dir, name) < 0)
		return 0;	/* cannot be a key; nothing to visit */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode)) {
		it = (struct sf_item){ .dfd = dfd, .name = name, .path = path, .st = &st };
		return w->fn(w->sf, &it, w->arg);
	}
	if (depth + 1 >= SF_MAX_DEPTH || name[0] == '.' || strcmp(name, "lost+found") == 0)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = walk_dir(w, fd, path, depth + 1);
	close(fd);
	return ret;
}

static int
walk_dir(struct walk *w, int dfd, const char *path, int depth)
{
	char **names;
	size_t i, n;
	int ret = sf_read_names(dfd, &names, &n);

	for (i = 0; ret == 0 && i < n; i++)
		ret = walk_entry(w, dfd, path, names[i], depth);
	sf_names_free(names, n);
	return ret;
}

int
sf_walk(struct statefs *sf, const char *subtree, unsigned flags, sf_visit_fn fn, void *arg)
{
	struct walk w = { .sf = sf, .flags = flags, .fn = fn, .arg = arg };
	const char *p;
	int fd, ret, depth = 0;

	if (strlen(subtree) > STATEFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (subtree[0] == '\0')
		fd = fcntl(sf->root_fd, F_DUPFD_CLOEXEC, 0);
	else
		fd = openat(sf->root_fd, subtree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	for (p = subtree; *p; p++)
		depth += *p == '/';
	ret = walk_dir(&w, fd, subtree, subtree[0] ? depth + 1 : 0);
	close(fd);
	return ret;
}
