/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw inotify over the state tree (see watch.h for why not statefs's feed).
 * The tree is shallow (at most four levels) and small, so the watch
 * descriptor table is a plain array searched linearly.  New directories
 * are watched as they appear and reported whole, so that keys created in
 * them before the watch was added are not missed.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clusterd/watch.h"

#define WATCH_MASK	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
#define WATCH_DIRS_MAX	65536

struct wdir {
	int wd;
	char path[256];		/* relative to the root, "" for the root */
};

struct gossip_watch {
	int fd;
	char root[PATH_MAX];
	struct wdir *dirs;
	size_t n_dirs, cap_dirs;
	char buf[64 * 1024] __attribute__((aligned(8)));
	size_t len, pos;	/* unread events are buf[pos..len) */
};

static int add_tree(struct gossip_watch *w, const char *rel);

static int
add_dir(struct gossip_watch *w, const char *rel)
{
	char full[PATH_MAX + 256];
	int wd;

	snprintf(full, sizeof(full), "%s/%s", w->root, rel);
	wd = inotify_add_watch(w->fd, full, WATCH_MASK & ~IN_ONLYDIR);
	if (wd < 0)
		return -errno;
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd) {
			snprintf(w->dirs[i].path, sizeof(w->dirs[i].path), "%s", rel);
			return 0;
		}
	if (w->n_dirs == w->cap_dirs) {
		size_t cap = w->cap_dirs ? w->cap_dirs * 2 : 64;
		struct wdir *d;

		if (cap > WATCH_DIRS_MAX)
			return -ENOSPC;
		d = realloc(w->dirs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		w->dirs = d;
		w->cap_dirs = cap;
	}
	w->dirs[w->n_dirs].wd = wd;
	snprintf(w->dirs[w->n_dirs].path, sizeof(w->dirs[0].path), "%s", rel);
	w->n_dirs++;
	return 0;
}

static int
add_tree(struct gossip_watch *w, const char *rel)
{
	char full[PATH_MAX + 256], sub[512];
	struct dirent *de;
	DIR *d;
	int ret = add_dir(w, rel);

	if (ret < 0)
		return ret;
	snprintf(full, sizeof(full), "%s/%s", w->root, rel);
	d = opendir(full);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL && ret == 0) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (strlen(sub) < sizeof(w->dirs[0].path))
			ret = add_tree(w, sub);
	}
	closedir(d);
	return ret;
}

int
gossip_watch_open(const char *root, struct gossip_watch **wp)
{
	struct gossip_watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	snprintf(w->root, sizeof(w->root), "%s", root);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return -errno;
	}
	ret = add_tree(w, "");
	if (ret < 0) {
		gossip_watch_close(w);
		return ret;
	}
	*wp = w;
	return 0;
}

int
gossip_watch_fd(const struct gossip_watch *w)
{
	return w->fd;
}

static const char *
dir_of(struct gossip_watch *w, int wd)
{
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd)
			return w->dirs[i].path;
	return NULL;
}

/* One event: 1 with a path, 0 if filtered out. */
static int
one_event(struct gossip_watch *w, const struct inotify_event *ev, char *path, size_t size)
{
	const char *dir;
	int n;

	if (ev->mask & IN_Q_OVERFLOW) {
		path[0] = '\0';
		return 1;
	}
	if (ev->len == 0 || ev->name[0] == '.' || !(dir = dir_of(w, ev->wd)))
		return 0;
	n = snprintf(path, size, "%s%s%s", dir, dir[0] ? "/" : "", ev->name);
	if (n < 0 || (size_t)n >= size)
		return 0;
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
		add_tree(w, path);
	return 1;
}

int
gossip_watch_next(struct gossip_watch *w, char *path, size_t size)
{
	for (;;) {
		const struct inotify_event *ev;
		ssize_t n;

		if (w->pos >= w->len) {
			n = read(w->fd, w->buf, sizeof(w->buf));
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -errno;
			w->len = (size_t)n;
			w->pos = 0;
			if (n == 0)
				return 0;
		}
		if (w->len - w->pos < sizeof(*ev))
			return -EPROTO;
		ev = (const struct inotify_event *)(w->buf + w->pos);
		if (ev->len > w->len - w->pos - sizeof(*ev))
			return -EPROTO;
		w->pos += sizeof(*ev) + ev->len;
		if (one_event(w, ev, path, size))
			return 1;
	}
}

void
gossip_watch_close(struct gossip_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->dirs);
	free(w);
}
