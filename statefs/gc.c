/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tombstone collection.  A tombstone must outlive the moment every member
 * has seen it, else a peer that still has the live link would propagate
 * it back.  "Seen" is approximated the way MARS does it: every member's
 * heartbeat (the stamp of actual-HOST/time) is newer than the tombstone
 * by a safety window.  A member that never beats, or a dead one, would
 * block collection forever, so keep_ns is the upper bound after which a
 * tombstone goes regardless.  Membership links (ips/) are only collected
 * by age, because a removed member does not beat any more.
 *
 * Also swept: ".tmp." links left by a process killed between symlink and
 * rename, once their change time (real time) is older than the window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

struct gc_ctx {
	struct statefs *sf;
	uint64_t oldest_beat_ns;	/* min heartbeat over members, 0 if any lacks one */
	uint64_t bound_ns;		/* tombstones older than this go */
	uint64_t ips_bound_ns;		/* the same for ips/ */
	uint64_t tmp_bound_ns;		/* ctime bound for .tmp. leftovers */
	char **paths;			/* collected paths */
	size_t n, cap;
};

static uint64_t
sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static int
member_visit(const struct statefs_entry *e, void *arg)
{
	struct gc_ctx *g = arg;
	struct statefs_entry beat;
	char key[STATEFS_PATH_MAX + 1];

	if (strncmp(e->path, "ips/ip-", 7) != 0)
		return 0;
	snprintf(key, sizeof(key), "actual-%s/time", e->path + 7);
	if (statefs_read(g->sf, key, &beat) < 0 || beat.tombstone)
		g->oldest_beat_ns = 0;
	else if (beat.stamp_ns < g->oldest_beat_ns)
		g->oldest_beat_ns = beat.stamp_ns;
	return 0;
}

static int
gc_bounds(struct gc_ctx *g, const struct statefs_gc_params *p)
{
	uint64_t now = p->now_ns, aged;
	int ret = 0;

	if (!now)
		ret = statefs_clock_now(g->sf, &now);
	if (ret < 0)
		return ret;
	g->oldest_beat_ns = UINT64_MAX;
	ret = statefs_list(g->sf, "ips", 0, member_visit, g);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (g->oldest_beat_ns == UINT64_MAX)
		g->oldest_beat_ns = 0;	/* no members: age alone decides */
	aged = sub_floor(now, p->keep_ns);
	g->ips_bound_ns = sub_floor(aged, p->window_ns);
	g->bound_ns = sub_floor(aged > g->oldest_beat_ns ? aged : g->oldest_beat_ns,
				p->window_ns);
	g->tmp_bound_ns = sub_floor(statefs_realtime_ns(), p->window_ns);
	return 0;
}

static int
gc_push(struct gc_ctx *g, const char *path)
{
	char **grown;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		grown = realloc(g->paths, g->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		g->paths = grown;
	}
	g->paths[g->n] = strdup(path);
	if (!g->paths[g->n])
		return -ENOMEM;
	g->n++;
	return 0;
}

static uint64_t
ctime_ns(const struct stat *st)
{
	return (uint64_t)st->st_ctim.tv_sec * STATEFS_NS_PER_S + (uint64_t)st->st_ctim.tv_nsec;
}

static int
gc_due(const struct gc_ctx *g, const char *path, const struct statefs_entry *e)
{
	uint64_t bound = strncmp(path, "ips/", 4) == 0 ? g->ips_bound_ns : g->bound_ns;

	return e->tombstone && e->stamp_ns < bound;
}

static int
gc_visit(struct statefs *sf, const struct sf_item *it, void *arg)
{
	struct gc_ctx *g = arg;
	struct statefs_entry e;

	if (!S_ISLNK(it->st->st_mode))
		return 0;
	if (strncmp(it->name, SF_TMP_PREFIX, strlen(SF_TMP_PREFIX)) == 0)
		return ctime_ns(it->st) < g->tmp_bound_ns ? gc_push(g, it->path) : 0;
	if (it->name[0] == '.' || sf_read_at(it->dfd, it->name, &e) < 0)
		return 0;
	return gc_due(g, it->path, &e) ? gc_push(g, it->path) : 0;
}

/* Under the lock: remove @path if it is still what the walk saw. */
static int
gc_remove(struct gc_ctx *g, const char *path)
{
	struct statefs_entry e;
	const char *base;
	int dfd, ret, removed = 0;

	dfd = sf_open_parent(g->sf, path, 0, &base, NULL);
	if (dfd < 0)
		return 0;
	ret = sf_read_at(dfd, base, &e);
	if (ret == 0 && (base[0] == '.' || gc_due(g, path, &e)))
		removed = unlinkat(dfd, base, 0) == 0 && base[0] != '.';
	close(dfd);
	if (removed)
		sf_remove_dirs(g->sf, path, 0);
	return removed;
}

static int
gc_collect(struct gc_ctx *g)
{
	int ret = sf_lock(g->sf), removed = 0;
	size_t i;

	if (ret < 0)
		return ret;
	for (i = 0; i < g->n; i++)
		removed += gc_remove(g, g->paths[i]);
	sf_unlock(g->sf);
	return removed;
}

int
statefs_gc(struct statefs *sf, const struct statefs_gc_params *params)
{
	static const struct statefs_gc_params defaults = {
		.keep_ns = STATEFS_GC_KEEP_NS, .window_ns = STATEFS_GC_WINDOW_NS,
	};
	struct gc_ctx g = { .sf = sf };
	int ret;

	ret = gc_bounds(&g, params ? params : &defaults);
	if (ret == 0)
		ret = sf_walk(sf, "", SF_WALK_PRIVATE, gc_visit, &g);
	if (ret == 0)
		ret = gc_collect(&g);
	while (g.n > 0)
		free(g.paths[--g.n]);
	free(g.paths);
	return ret;
}
