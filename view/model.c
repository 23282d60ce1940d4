/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading the view model of one replica: one pass over its resource's
 * keys for the plain facts, one over its version links (which need the
 * designated primary already known), one over the local logfiles, then,
 * for this node's own replica, its driver and engine status files
 * (status_files.c), then the derived amounts and lag.  What only this
 * node can know (its files, its device, its daemon's status) is used
 * only for its own replica: another host's amounts come from the tree,
 * so every node says the same about it.  Nothing here writes and nothing
 * prints.
 */
#include "view/view.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"

static const char *const todo_keys[TODO_COUNT] = {
	[TODO_ATTACH] = "attach", [TODO_CONNECT] = "connect",
	[TODO_SYNC] = "sync", [TODO_REPLAY] = "allow-replay",
};

/* If @s is @prefix followed by this view's host, return what follows it. */
static const char *
own(const struct view_res *v, const char *s, const char *prefix)
{
	size_t pl = strlen(prefix), hl = strlen(v->host);

	if (strncmp(s, prefix, pl) || strncmp(s + pl, v->host, hl))
		return NULL;
	return s + pl + hl;
}

/* A replay link's value by the shared codec; r->valid 0 if it is not one. */
static void
parse_replay(const char *value, struct view_replay *r)
{
	struct mars_replaylink rl;

	memset(r, 0, sizeof(*r));
	if (mars_replaylink_parse(value, strlen(value), &rl) < 0)
		return;
	r->lognr = rl.log.nr;
	memcpy(r->origin, rl.log.host, sizeof(rl.log.host));
	r->pos_bytes = rl.pos_bytes;
	r->len_bytes = rl.len_bytes;
	r->valid = 1;
}

static struct view_log *
log_get(struct view_res *v, uint64_t nr)
{
	struct view_log *grown;
	size_t i;

	for (i = 0; i < v->n_logs; i++)
		if (v->logs[i].nr == nr)
			return &v->logs[i];
	if (v->n_logs == v->cap_logs) {
		v->cap_logs = v->cap_logs ? v->cap_logs * 2 : 16;
		grown = realloc(v->logs, v->cap_logs * sizeof(*grown));
		if (!grown)
			return NULL;
		v->logs = grown;
	}
	memset(&v->logs[v->n_logs], 0, sizeof(*v->logs));
	v->logs[v->n_logs].nr = nr;
	return &v->logs[v->n_logs++];
}

static void
add_member(struct view_res *v, const char *host)
{
	if (v->n_members < VIEW_MAX_MEMBERS)
		snprintf(v->members[v->n_members++], sizeof(v->members[0]), "%s", host);
}

static void
load_todo_actual(struct view_res *v, const char *rel, const char *value)
{
	const char *k;
	int i;

	k = own(v, rel, "todo-");
	for (i = 0; k && *k == '/' && i < TODO_COUNT; i++)
		if (!strcmp(k + 1, todo_keys[i]))
			v->todo[i] = !strcmp(value, "1");
	k = strncmp(rel, "actual-", 7) ? NULL : strchr(rel, '/');
	if (k && !strcmp(k, "/is-primary") && !strcmp(value, "1"))
		v->n_actual_primaries++;
	k = own(v, rel, "actual-");
	for (i = 0; k && !strncmp(k, "/acted-", 7) && i < TODO_COUNT; i++)
		if (!strcmp(k + 7, todo_keys[i]))
			v->acted[i] = !strcmp(value, "1");
	if (k && !strcmp(k, "/is-attached"))
		v->is_attached = !strcmp(value, "1");
	if (k && !strcmp(k, "/is-primary"))
		v->is_primary = !strcmp(value, "1");
}

static int
load_visit(const struct statefs_entry *e, void *arg)
{
	struct view_res *v = arg;
	const char *rel = strchr(e->path, '/') + 1, *k;

	if (!strcmp(rel, "size"))
		parse_u64(e->value, &v->size_bytes);
	else if (!strcmp(rel, "primary") && strcmp(e->value, STATEFS_NONE) &&
		 statefs_name_check(STATEFS_NAME_HOST, e->value, NULL) == 0)
		memcpy(v->primary, e->value, strlen(e->value) + 1);	/* checked length */
	else if (!strncmp(rel, "data-", 5))
		add_member(v, rel + 5);
	if ((k = own(v, rel, "data-")) != NULL && !*k) {
		v->member = 1;
		snprintf(v->data, sizeof(v->data), "%s", e->value);
	}
	if ((k = own(v, rel, "syncstatus-")) != NULL && !*k)
		parse_u64(e->value, &v->syncstatus_bytes);
	if ((k = own(v, rel, "replay-")) != NULL && !*k) {
		parse_replay(e->value, &v->replay);
		v->replay_stamp_ns = e->stamp_ns;
	}
	if ((k = own(v, rel, "syncpos-")) != NULL && !*k)
		parse_replay(e->value, &v->syncpos);
	load_todo_actual(v, rel, e->value);
	return 0;
}

static int
version_visit(const struct statefs_entry *e, void *arg)
{
	struct view_res *v = arg;
	const char *rel = strchr(e->path, '/') + 1;
	struct mars_logname vn;
	struct mars_version mv;
	struct view_log *l;

	if (mars_vername_parse(rel, strlen(rel), &vn) < 0)
		return 0;
	l = log_get(v, vn.nr);
	if (!l)
		return -ENOMEM;
	if (!l->version[0])
		snprintf(l->version, sizeof(l->version), "%s", e->value);
	if (v->primary[0] && !strcmp(vn.host, v->primary)) {
		l->in_primary = 1;
		l->primary_bytes = mars_version_parse(e->value, strlen(e->value), &mv) == 0 ?
				   mv.self.len_bytes : 0;
	}
	return 0;
}

static int
file_visit(const char *name, uint64_t size, void *arg)
{
	struct view_res *v = arg;
	struct mars_logname ln;
	struct view_log *l;

	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return 0;
	l = log_get(v, ln.nr);
	if (!l)
		return -ENOMEM;
	l->local = 1;
	l->local_bytes = size;
	memcpy(l->origin, ln.host, sizeof(ln.host));
	return 0;
}

/* ---- derived facts ---------------------------------------------------------- */

static enum view_beat
beat_of(struct statefs *sf, const struct view_res *v, const char *host)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;

	snprintf(key, sizeof(key), "actual-%s/time", host);
	if (statefs_read(sf, key, &e) < 0 || e.tombstone)
		return BEAT_NONE;
	return e.stamp_ns + v->in.silent_ns >= v->in.now_ns ? BEAT_FRESH : BEAT_STALE;
}

/* resource-RES/KEY-HOST... as an entry; 0 if live. */
static int
res_read(struct statefs *sf, const struct view_res *v, struct statefs_entry *e,
	 const char *fmt, const char *arg)
{
	char key[STATEFS_PATH_MAX + STATEFS_NAME_MAX + 16], rel[STATEFS_PATH_MAX + 1];

	snprintf(rel, sizeof(rel), fmt, arg);
	if (statefs_resource_keyf(key, STATEFS_PATH_MAX + 1, v->name, "%s", rel) < 0)
		return -ENAMETOOLONG;
	if (statefs_read(sf, key, e) < 0 || e->tombstone)
		return -ENOENT;
	return 0;
}

/* The fetcher's remote size of logfile @l, if it works on it now. */
static uint64_t
fetch_remote(const struct view_res *v, const struct view_log *l)
{
	struct mars_logname ln;

	if (v->drv.state != DRV_FRESH || !v->drv.fetching ||
	    mars_logname_parse(v->drv.fetch_name, strlen(v->drv.fetch_name), &ln) < 0)
		return 0;
	return ln.nr == l->nr ? v->drv.fetch_remote_bytes : 0;
}

static uint64_t
max3(uint64_t a, uint64_t b, uint64_t c)
{
	a = a > b ? a : b;
	return a > c ? a : c;
}

/*
 * The amount cursors, from the replay link's logfile on.  This node's
 * files are another host's only in content, not in progress: for another
 * host all that is known is its lag behind the primary, which counts as
 * both to fetch and to replay.
 */
static void
derive_amounts(struct view_res *v)
{
	int designated = view_designated(v);
	const struct view_log *l;
	uint64_t known;
	size_t i;

	if (!v->replay.valid)
		return;
	v->newest_nr = v->replay.lognr;
	v->replay_pos_bytes = v->replay.pos_bytes;
	if (!v->in.local) {
		v->replay_rest_bytes = v->fetch_rest_bytes = v->work_rest_bytes = v->lag_bytes;
		return;
	}
	for (i = 0; i < v->n_logs; i++) {
		l = &v->logs[i];
		known = max3(l->local_bytes, l->in_primary && !designated ? l->primary_bytes : 0,
			     fetch_remote(v, l));
		if (l->nr < v->replay.lognr || (!l->local && !known))
			continue;
		v->fetch_pos_bytes += l->local_bytes;
		v->fetch_size_bytes += known;
		v->newest_nr = l->nr > v->newest_nr ? l->nr : v->newest_nr;
	}
	v->fetch_rest_bytes = v->fetch_size_bytes - v->fetch_pos_bytes;
	if (v->fetch_pos_bytes > v->replay_pos_bytes)
		v->replay_rest_bytes = v->fetch_pos_bytes - v->replay_pos_bytes;
	if (v->fetch_size_bytes > v->replay_pos_bytes)
		v->work_rest_bytes = v->fetch_size_bytes - v->replay_pos_bytes;
}

/*
 * Orphan (secondary): the replay link's logfile is here but shorter than
 * the replay position, or it is not here while fetch is on and it cannot
 * come any more - deleted cluster-wide, or replay had been in it already.
 */
static void
derive_orphan(struct statefs *sf, struct view_res *v)
{
	const struct view_log *l = NULL;
	struct statefs_entry e;
	char name[STATEFS_NAME_MAX + 32], key[STATEFS_PATH_MAX + 1];
	size_t i;

	if (!v->in.local || !v->member || !v->replay.valid || v->is_primary == 1 ||
	    view_designated(v))
		return;
	for (i = 0; i < v->n_logs; i++)
		if (v->logs[i].nr == v->replay.lognr && v->logs[i].local)
			l = &v->logs[i];
	if (l) {
		v->orphan = l->local_bytes < v->replay.pos_bytes;
		return;
	}
	mars_logname_format(name, sizeof(name), v->replay.lognr, v->replay.origin);	/* parsed */
	statefs_resource_keyf(key, sizeof(key), v->name, "%s", name);
	v->log_tombstoned = statefs_read(sf, key, &e) == 0 && e.tombstone;
	v->orphan = v->todo[TODO_CONNECT] == 1 && (v->replay.pos_bytes > 0 || v->log_tombstoned);
}

/*
 * The logfile this node logs to as primary is longer than its log: zeros
 * are preallocated after the log end (docs/logfile-format.md 1.1).  Its
 * amount is the driver's log end, not the file's size.
 */
static void
derive_logging_bytes(struct view_res *v)
{
	struct mars_logname ln;

	if (v->drv.state != DRV_FRESH || !v->drv.logging ||
	    mars_logname_parse(v->drv.log_name, strlen(v->drv.log_name), &ln) < 0)
		return;
	for (size_t i = 0; i < v->n_logs; i++) {
		struct view_log *l = &v->logs[i];

		if (l->local && l->nr == ln.nr && !strcmp(l->origin, ln.host) &&
		    l->local_bytes > v->drv.log_end_bytes)
			l->local_bytes = v->drv.log_end_bytes;
	}
}

/* Bytes of local logfile @nr, 0 if this node holds none. */
static uint64_t
local_size(const struct view_res *v, uint64_t nr)
{
	for (size_t i = 0; i < v->n_logs; i++)
		if (v->logs[i].nr == nr && v->logs[i].local)
			return v->logs[i].local_bytes;
	return 0;
}

/*
 * lag_bytes: from this replica's replay position @r to the primary's @p,
 * the rest of @r's logfile plus the logfiles in between as this node
 * holds them (a lower bound where it holds none).
 */
static uint64_t
lag_between(const struct view_res *v, const struct view_replay *r, const struct view_replay *p)
{
	uint64_t lag, sz;

	if (r->lognr > p->lognr)
		return 0;
	if (r->lognr == p->lognr)
		return p->pos_bytes > r->pos_bytes ? p->pos_bytes - r->pos_bytes : 0;
	sz = local_size(v, r->lognr);
	lag = p->pos_bytes + (sz > r->pos_bytes ? sz - r->pos_bytes : 0);
	for (size_t i = 0; i < v->n_logs; i++)
		if (v->logs[i].local && v->logs[i].nr > r->lognr && v->logs[i].nr < p->lognr)
			lag += v->logs[i].local_bytes;
	return lag;
}

/*
 * replay-lag: 0 when this replica's replay has reached the primary's
 * replay position (or it is the designated primary); else how much later
 * the primary's replay link moved than this one's (stamps, seconds): an
 * estimate of how long ago the primary logged what was replayed here.
 * -1 without a designated primary or either replay link.  With it
 * lag_bytes and, until derive_age() knows better, lag_ns.
 */
static void
derive_lag(struct statefs *sf, struct view_res *v)
{
	struct statefs_entry pe;
	struct view_replay p;
	uint64_t diff_ns;

	v->replay_lag_s = -1;
	if (!v->member || !v->primary[0] || !v->replay.valid)
		return;
	if (view_designated(v)) {
		v->replay_lag_s = 0;
		return;
	}
	if (res_read(sf, v, &pe, "replay-%s", v->primary) < 0)
		return;
	parse_replay(pe.value, &p);
	if (!p.valid)
		return;
	diff_ns = pe.stamp_ns > v->replay_stamp_ns ? pe.stamp_ns - v->replay_stamp_ns : 0;
	v->lag_bytes = lag_between(v, &v->replay, &p);
	v->lag_ns = v->lag_bytes ? diff_ns : 0;
	v->replay_lag_s = v->lag_bytes ? (int64_t)(diff_ns / STATEFS_NS_PER_S) : 0;
}

/*
 * replay-age: the age of the oldest write this node has not applied, from
 * the stamp the designated primary publishes for it (docs/state-tree.md
 * 3.6); 0 on the primary and when nothing is unapplied, -1 unknown.
 */
static void
derive_age(struct statefs *sf, struct view_res *v)
{
	uint64_t stamp;

	v->replay_age_s = -1;
	if (!v->member || !v->primary[0] ||
	    repl_lag_load(sf, v->name, v->primary, v->host, &stamp) != 1)
		return;
	v->lag_ns = repl_lag_age_ns(stamp, v->now_ns);
	v->replay_age_s = (int64_t)(v->lag_ns / STATEFS_NS_PER_S);
}

/*
 * The designated primary's data path reports emergency mode for this
 * resource, or its host reports /mars running full (actual-HOST/emergency,
 * for every resource it holds).
 */
static void
derive_emergency(struct statefs *sf, struct view_res *v)
{
	char key[STATEFS_PATH_MAX + 1], val[32];
	struct statefs_entry e;

	if (!v->primary[0])
		return;
	v->primary_emergency = res_read(sf, v, &e, "actual-%s/is-emergency", v->primary) == 0 &&
			       !strcmp(e.value, "1");
	snprintf(key, sizeof(key), "actual-%s/emergency", v->primary);
	if (statefs_get(sf, key, val, sizeof(val), NULL) >= 0 && strtoll(val, NULL, 10) > 0)
		v->primary_emergency = 1;
}

static void
derive(struct statefs *sf, struct view_res *v)
{
	int k;

	for (k = 0; k < v->n_members; k++)
		v->n_alive += beat_of(sf, v, v->members[k]) == BEAT_FRESH;
	v->beat = beat_of(sf, v, v->host);
	v->primary_alive = v->primary[0] && beat_of(sf, v, v->primary) == BEAT_FRESH;
	derive_logging_bytes(v);
	derive_lag(sf, v);
	derive_age(sf, v);
	derive_amounts(v);
	derive_orphan(sf, v);
	derive_emergency(sf, v);
	v->sync_pos_bytes = v->syncstatus_bytes;
	if (v->drv.state == DRV_FRESH && v->drv.syncing && v->drv.sync_pos_bytes > v->sync_pos_bytes)
		v->sync_pos_bytes = v->drv.sync_pos_bytes;
	if (v->sync_pos_bytes > v->size_bytes)
		v->sync_pos_bytes = v->size_bytes;
}

/* Split brain and the deletion blocker, by the shared repl functions. */
static int
derive_repl(struct statefs *sf, struct view_res *v)
{
	const struct repl_replay *blocker;
	struct repl_history h;
	struct repl_members *ms;
	int ret = repl_history_load(sf, v->name, &h);

	if (ret < 0)
		return ret;
	v->split_brain = repl_split_detect(&h, &v->split);
	repl_history_release(&h);
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	ret = repl_members_load(sf, v->name, ms);
	if (ret == 0) {
		repl_delete_limit(ms, &v->deletable_nr, &blocker);
		if (blocker) {
			snprintf(v->blocker, sizeof(v->blocker), "%s", blocker->host);
			v->blocker_nr = blocker->nr;
			v->blocked_since_ns = blocker->stamp_ns;
		}
	}
	free(ms);
	return ret;
}

void
view_inputs_local(struct view_inputs *in)
{
	in->now_ns = statefs_realtime_ns();
	in->silent_ns = VIEW_WINDOW_NS;
	in->local = 1;
}

/* An evicted host keeps its links (only it may delete them) but is no
 * member any more (statefs_is_member(), docs/state-tree.md 3.1). */
static void
drop_evicted(struct statefs *sf, struct view_res *v)
{
	int i, n = 0;

	for (i = 0; i < v->n_members; i++) {
		if (statefs_is_evicted(sf, v->members[i], NULL, 0) > 0)
			continue;
		if (n != i)
			memcpy(v->members[n], v->members[i], sizeof(v->members[n]));
		n++;
	}
	v->n_members = n;
}

/* Everything of @host's replica but the resource-wide judgements. */
static int
load_replica(struct statefs *sf, const char *res, const char *host,
	     const struct view_inputs *in, struct view_res *v)
{
	char dir[STATEFS_PATH_MAX + 1];
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", res);
	snprintf(v->host, sizeof(v->host), "%s", host);
	v->todo[TODO_ATTACH] = v->todo[TODO_CONNECT] = -1;
	v->todo[TODO_SYNC] = v->todo[TODO_REPLAY] = -1;
	memcpy(v->acted, v->todo, sizeof(v->acted));
	v->is_attached = v->is_primary = -1;
	v->in = *in;
	v->now_ns = in->now_ns;
	statefs_resource_key(dir, sizeof(dir), res);
	ret = statefs_list(sf, dir, 0, load_visit, v);
	if (ret == 0)
		drop_evicted(sf, v);
	if (ret == 0)
		ret = statefs_list(sf, dir, 0, version_visit, v);
	if (ret == 0)
		ret = statefs_list_files(sf, dir, file_visit, v);
	if (ret == 0 && in->local) {
		view_driver_load(sf, v);
		view_engine_load(sf, v);
	}
	if (ret == 0)
		derive(sf, v);
	return ret;
}

int
view_load(struct statefs *sf, const char *res, const char *host,
	  const struct view_inputs *in, struct view_res *v)
{
	int ret = load_replica(sf, res, host, in, v);

	return ret ? ret : derive_repl(sf, v);
}

int
view_load_member(struct statefs *sf, const struct view_res *base, const char *host,
		 const struct view_inputs *in, struct view_res *v)
{
	int ret = load_replica(sf, base->name, host, in, v);

	if (ret)
		return ret;
	v->split_brain = base->split_brain;
	v->split = base->split;
	memcpy(v->blocker, base->blocker, sizeof(v->blocker));
	v->blocker_nr = base->blocker_nr;
	v->blocked_since_ns = base->blocked_since_ns;
	v->deletable_nr = base->deletable_nr;
	return 0;
}

void
view_release(struct view_res *v)
{
	free(v->logs);
	v->logs = NULL;
	v->n_logs = v->cap_logs = 0;
}

int64_t
view_remain_s(uint64_t rest_bytes, uint64_t rate_bps)
{
	if (rest_bytes == 0)
		return 0;
	if (rate_bps == 0)
		return -1;
	return (int64_t)((rest_bytes + rate_bps - 1) / rate_bps);
}
