/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Read the state tree into a struct snapshot.  Why one snapshot per tick
 * rather than reading on each request: the JSON API, the metrics, the
 * event detector and the sampler must agree on what they show, and a
 * bounded number of tree walks per second keeps a busy page from loading
 * the node.  The view vocabulary follows marsadm's `view` (see
 * docs/http-api.md for how each state is derived); where the engine does
 * not report yet (actual-HOST/is-primary absent everywhere) the designated
 * primary stands in for the actual one.  Split brain is judged by repl's
 * repl_split_detect() over the verified version links and local logfiles,
 * the very function behind `marsadm view`, so that a secondary that merely
 * lags (a shorter link for the same logfile, nothing later) is not shown
 * as split here while view calls it healthy, nor the other way round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/status/snapshot.h"
#include "common/kvfile.h"
#include "repl/repl.h"

/* What the walk over one resource directory collects before deriving. */
struct res_raw {
	struct snap_resource *r;
	struct snapshot *s;
	uint64_t replay_stamp[SNAP_REPLICAS_MAX];
	int todo[SNAP_REPLICAS_MAX][4];		/* attach connect sync allow-replay; -1 unset */
	int acted[SNAP_REPLICAS_MAX][4];	/* actual-HOST/acted-*, the same order */
	int any_actual_primary_key;
	int emergency_key[SNAP_REPLICAS_MAX];
	struct { uint64_t nr; uint64_t size; char origin[STATEFS_NAME_MAX + 1]; } *logs;
	size_t n_logs, cap_logs;
	int nomem;
};

static const char *todo_names[4] = { "attach", "connect", "sync", "allow-replay" };

static int
u64_of(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || end == s) ? -EINVAL : 0;
}

/* The number and position of a replay link; 0, 0 if it is not one. */
static void
parse_replay(const char *v, uint64_t *nr, uint64_t *pos)
{
	struct mars_replaylink r;

	*nr = *pos = 0;
	if (mars_replaylink_parse(v, strlen(v), &r) < 0)
		return;
	*nr = r.log.nr;
	*pos = r.pos_bytes;
}

static struct snap_replica *
replica_get(struct res_raw *raw, const char *host, size_t hostlen)
{
	struct snap_resource *r = raw->r;
	size_t i;

	if (hostlen == 0 || hostlen > STATEFS_NAME_MAX)
		return NULL;
	for (i = 0; i < r->n_replicas; i++)
		if (strlen(r->replicas[i].host) == hostlen &&
		    memcmp(r->replicas[i].host, host, hostlen) == 0)
			return &r->replicas[i];
	if (r->n_replicas >= SNAP_REPLICAS_MAX)
		return NULL;
	if (r->n_replicas == r->cap_replicas) {
		size_t cap = r->cap_replicas ? 2 * r->cap_replicas : 4;
		void *q = realloc(r->replicas, cap * sizeof(*r->replicas));

		if (!q) {
			raw->nomem = 1;
			return NULL;
		}
		r->replicas = q;
		r->cap_replicas = cap;
	}
	memset(&r->replicas[i], 0, sizeof(r->replicas[i]));
	memcpy(r->replicas[i].host, host, hostlen);
	for (int k = 0; k < 4; k++)
		raw->todo[i][k] = raw->acted[i][k] = -1;
	raw->emergency_key[i] = 0;
	raw->replay_stamp[i] = 0;
	r->n_replicas++;
	return &r->replicas[i];
}

static size_t
replica_index(const struct res_raw *raw, const struct snap_replica *p)
{
	return (size_t)(p - raw->r->replicas);
}

/* Keys under actual-HOST/ and todo-HOST/ of a resource. */
static void
host_dir_key(struct res_raw *raw, const char *rel, const char *value, int todo)
{
	const char *slash = strchr(rel, '/');
	struct snap_replica *p;
	size_t i;

	if (!slash)
		return;
	p = replica_get(raw, rel, (size_t)(slash - rel));
	if (!p)
		return;
	i = replica_index(raw, p);
	if (todo) {
		for (int k = 0; k < 4; k++)
			if (strcmp(slash + 1, todo_names[k]) == 0)
				raw->todo[i][k] = strcmp(value, "1") == 0;
		return;
	}
	for (int k = 0; k < 4; k++)
		if (strncmp(slash + 1, "acted-", 6) == 0 && strcmp(slash + 7, todo_names[k]) == 0)
			raw->acted[i][k] = strcmp(value, "1") == 0;
	if (strcmp(slash + 1, "is-primary") == 0) {
		raw->any_actual_primary_key = 1;
		p->actual_primary = strcmp(value, "1") == 0;
	} else if (strcmp(slash + 1, "is-emergency") == 0) {
		raw->emergency_key[i] = strcmp(value, "1") == 0;
	}
}

/* One live key under resource-NAME/, @rel being the part after it. */
static int
res_key(const struct statefs_entry *e, void *arg)
{
	struct res_raw *raw = arg;
	const char *rel = strchr(e->path, '/') + 1;
	struct snap_replica *p;
	uint64_t v;

	if (strcmp(rel, "size") == 0 && u64_of(e->value, &v) == 0)
		raw->r->size_bytes = v;
	else if (strcmp(rel, "primary") == 0 && strlen(e->value) < sizeof(raw->r->primary))
		memcpy(raw->r->primary, e->value, strlen(e->value) + 1);
	else if (strncmp(rel, "data-", 5) == 0 && (p = replica_get(raw, rel + 5, strlen(rel + 5))))
		snprintf(p->device, sizeof(p->device), "%s", e->value);
	else if (strncmp(rel, "replay-", 7) == 0 &&
		 (p = replica_get(raw, rel + 7, strlen(rel + 7)))) {
		parse_replay(e->value, &p->replay_nr, &p->replay_pos_bytes);
		raw->replay_stamp[replica_index(raw, p)] = e->stamp_ns;
	} else if (strncmp(rel, "syncstatus-", 11) == 0 &&
		   (p = replica_get(raw, rel + 11, strlen(rel + 11))))
		u64_of(e->value, &p->sync_bytes);
	else if (strncmp(rel, "actual-", 7) == 0)
		host_dir_key(raw, rel + 7, e->value, 0);
	else if (strncmp(rel, "todo-", 5) == 0)
		host_dir_key(raw, rel + 5, e->value, 1);
	return raw->nomem ? -ENOMEM : 0;
}

static int
res_logfile(const char *name, uint64_t size_bytes, void *arg)
{
	struct res_raw *raw = arg;
	struct mars_logname ln;

	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return 0;
	if (raw->n_logs == raw->cap_logs) {
		size_t cap = raw->cap_logs ? 2 * raw->cap_logs : 16;
		void *q = realloc(raw->logs, cap * sizeof(*raw->logs));

		if (!q)
			return -ENOMEM;
		raw->logs = q;
		raw->cap_logs = cap;
	}
	raw->logs[raw->n_logs].nr = ln.nr;
	raw->logs[raw->n_logs].size = size_bytes;
	memcpy(raw->logs[raw->n_logs].origin, ln.host, sizeof(ln.host));
	raw->n_logs++;
	return 0;
}

static uint64_t
logfile_size(const struct res_raw *raw, uint64_t nr)
{
	for (size_t i = 0; i < raw->n_logs; i++)
		if (raw->logs[i].nr == nr)
			return raw->logs[i].size;
	return 0;
}

/* Bytes between a replica's replay position and the primary's. */
static uint64_t
lag_of(const struct res_raw *raw, const struct snap_replica *pri, const struct snap_replica *p)
{
	uint64_t lag, nr, sz;

	if (p->replay_nr > pri->replay_nr)
		return 0;
	if (p->replay_nr == pri->replay_nr)
		return pri->replay_pos_bytes > p->replay_pos_bytes ?
			pri->replay_pos_bytes - p->replay_pos_bytes : 0;
	sz = logfile_size(raw, p->replay_nr);
	lag = pri->replay_pos_bytes + (sz > p->replay_pos_bytes ? sz - p->replay_pos_bytes : 0);
	for (nr = p->replay_nr + 1; nr < pri->replay_nr && nr < p->replay_nr + 100000; nr++)
		lag += logfile_size(raw, nr);
	return lag;
}

/*
 * The shared rule of repl/ (split.c): diverging verified version links, or
 * two local logfiles of one number from different origins.  More than one
 * actual primary shows as the ForcedPrimary role, as in `marsadm view`.
 */
static int
detect_split_brain(struct statefs *sf, struct snap_resource *r)
{
	struct repl_history h;
	struct repl_split sp;
	int ret = repl_history_load(sf, r->name, &h);

	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	r->split_brain = repl_split_detect(&h, &sp);
	repl_history_release(&h);
	if (r->split_brain)
		snprintf(r->resolve, sizeof(r->resolve),
			 "histories of %s and %s part at logfile %09llu byte %llu: "
			 "marsadm primary %s on the host whose data survives, then "
			 "marsadm invalidate %s on every other host", sp.host_a, sp.host_b,
			 (unsigned long long)sp.nr, (unsigned long long)sp.pos_bytes,
			 r->name, r->name);
	return 0;
}

#define SET(field, str) snprintf((field), sizeof(field), "%s", (str))

static void
derive_role(struct res_raw *raw, struct snap_replica *p, size_t primaries)
{
	struct snap_resource *r = raw->r;
	int designated = strcmp(r->primary, p->host) == 0;

	if (!raw->any_actual_primary_key)
		p->actual_primary = designated;
	if (p->actual_primary && primaries > 1)
		SET(p->role, "ForcedPrimary");
	else if (p->actual_primary)
		SET(p->role, designated ? "Primary" : "RemainsPrimary");
	else if (designated)
		SET(p->role, "NotYetPrimary");
	else
		SET(p->role, "Secondary");
}

/* "Paused" once the member's daemon carried the switch out, else "Pausing". */
static const char *
paused(const struct res_raw *raw, const struct snap_replica *p, int k)
{
	return raw->acted[replica_index(raw, p)][k] != 0 ? "Pausing" : "Paused";
}

/* Outdated: lagging, or fetch or replay paused (marsadm view's words). */
static void
derive_disk_outdated(struct snap_replica *p, const int *todo)
{
	int f = todo[1] == 0, r = todo[3] == 0;

	if (p->lag_bytes && !f && !r)
		f = r = 1;
	snprintf(p->disk, sizeof(p->disk), "OutDated[%s%s]", f ? "F" : "", r ? "R" : "");
}

static void
derive_states(struct res_raw *raw, struct snap_replica *p, const struct snap_replica *pri)
{
	struct snap_resource *r = raw->r;
	int *todo = raw->todo[replica_index(raw, p)];
	int consistent = p->sync_bytes >= r->size_bytes;
	int designated = strcmp(r->primary, p->host) == 0;
	char word[32];

	if (pri && p != pri) {
		p->lag_bytes = lag_of(raw, pri, p);
		if (p->lag_bytes) {
			uint64_t a = raw->replay_stamp[replica_index(raw, pri)];
			uint64_t b = raw->replay_stamp[replica_index(raw, p)];

			p->lag_s = a > b ? (double)(a - b) / 1e9 : 0;
		}
	}
	if (todo[0] == 0)
		SET(p->disk, "Detached");
	else if (!consistent)
		SET(p->disk, "InConsistent");
	else if (p->lag_bytes || (!designated && (todo[1] == 0 || todo[3] == 0)))
		derive_disk_outdated(p, todo);
	else if (r->emergency)
		SET(p->disk, "EmergencyMode");
	else
		SET(p->disk, "UpToDate");

	if (!p->alive)
		SET(p->repl, "UnResponsive");
	else if (designated)
		SET(p->repl, r->emergency ? "EmergencyMode" :
			     p->actual_primary ? "Replicating" : "NotYetPrimary");
	else if (!consistent && todo[2] != 0)
		SET(p->repl, "Syncing");
	else if (!consistent || todo[1] == 0 || todo[3] == 0) {
		int k = !consistent ? 2 : todo[1] == 0 ? 1 : 3;

		snprintf(word, sizeof(word), "%s%s", paused(raw, p, k),
			 k == 2 ? "Sync" : k == 1 ? "Fetch" : "Replay");
		SET(p->repl, word);
	}
	else if (strcmp(r->primary, STATEFS_NONE) == 0 || !r->primary[0])
		SET(p->repl, "NoPrimaryDesignated");
	else if (!pri || !pri->alive)
		SET(p->repl, "PrimaryUnreachable");
	else
		SET(p->repl, "Replaying");

	p->flags[0] = p->device[0] ? 'd' : '-';
	p->flags[1] = consistent ? 'C' : 'c';
	p->flags[2] = todo[0] != 0 ? 'A' : '-';
	p->flags[3] = consistent ? 'S' : todo[2] != 0 ? 's' : '-';
	p->flags[4] = todo[1] == 0 ? '-' : p->lag_bytes ? 'f' : 'F';
	p->flags[5] = todo[3] == 0 ? '-' : p->lag_bytes ? 'r' : 'R';
	p->flags[6] = '\0';
}

/* Keep only storage members (a live data-HOST link), in name order. */
static void
compact_members(struct res_raw *raw)
{
	struct snap_resource *r = raw->r;
	size_t i, j;

	for (i = j = 0; i < r->n_replicas; i++) {
		if (!r->replicas[i].device[0])
			continue;
		if (i != j) {
			r->replicas[j] = r->replicas[i];
			memcpy(raw->todo[j], raw->todo[i], sizeof(raw->todo[i]));
			memcpy(raw->acted[j], raw->acted[i], sizeof(raw->acted[i]));
			raw->emergency_key[j] = raw->emergency_key[i];
			raw->replay_stamp[j] = raw->replay_stamp[i];
		}
		j++;
	}
	r->n_replicas = j;
}

static void
derive_resource(struct res_raw *raw)
{
	struct snap_resource *r = raw->r;
	struct snap_replica *pri = NULL;
	const struct snap_member *m;
	size_t i, primaries = 0;

	compact_members(raw);
	for (i = 0; i < r->n_replicas; i++) {
		struct snap_replica *p = &r->replicas[i];

		m = snapshot_member(raw->s, p->host);
		p->alive = m && m->alive;
		if (!raw->any_actual_primary_key)
			p->actual_primary = strcmp(r->primary, p->host) == 0;
		primaries += p->actual_primary;
		if (strcmp(r->primary, p->host) == 0) {
			pri = p;
			r->emergency = raw->emergency_key[i] || (m && m->emergency);
		}
		for (size_t k = 0; k < raw->n_logs; k++)
			if (strcmp(raw->logs[k].origin, p->host) == 0)
				p->logfile_bytes += raw->logs[k].size;
	}
	for (i = 0; i < r->n_replicas; i++) {
		derive_role(raw, &r->replicas[i], primaries);
		derive_states(raw, &r->replicas[i], pri);
	}
	if (!r->split_brain && r->emergency)
		snprintf(r->resolve, sizeof(r->resolve),
			 "free space in /mars on %s, then marsadm invalidate %s on the secondaries",
			 r->primary, r->name);
}

static void
res_raw_release(struct res_raw *raw)
{
	free(raw->logs);
}

/* The log fields of this node's driver status file (docs/replication.md 5). */
struct local_log {
	uint64_t version, updated_ns, end, durable, pending;
	struct snap_transfer fetch, sync;
};

#define LOCAL_LOG_SEEN		1
#define LOCAL_TRANSFER_SEEN	2
#define LOCAL_LOG_FRESH_NS	(10ULL * 1000000000ULL)

static const struct kv_field local_log_fields[] = {
	KV_U(struct local_log, "version", version, 0),
	KV_U(struct local_log, "updated_ns", updated_ns, 0),
	KV_U(struct local_log, "log_end", end, LOCAL_LOG_SEEN),
	KV_U(struct local_log, "log_durable", durable, LOCAL_LOG_SEEN),
	KV_U(struct local_log, "pending_bytes", pending, LOCAL_LOG_SEEN),
	KV_U(struct local_log, "fetch_bytes_raw", fetch.bytes_raw, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "fetch_bytes_wire", fetch.bytes_wire, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "fetch_cpu_ns", fetch.cpu_ns, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "fetch_peer_cpu_ns", fetch.peer_cpu_ns, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "sync_bytes_raw", sync.bytes_raw, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "sync_bytes_wire", sync.bytes_wire, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "sync_cpu_ns", sync.cpu_ns, LOCAL_TRANSFER_SEEN),
	KV_U(struct local_log, "sync_peer_cpu_ns", sync.peer_cpu_ns, LOCAL_TRANSFER_SEEN),
};

/*
 * This node's replica of @r while it logs: how much of its log is durable
 * and what waits for writeback; and the counters of the fetch and sync it
 * received.  Only a fresh status file counts.
 */
/* This host's replica of @r, to fill in; NULL if it is none. */
static struct snap_replica *
own_replica(const struct snapshot *s, struct snap_resource *r)
{
	const struct snap_replica *p = snap_resource_replica(r, s->self);

	return p ? &r->replicas[p - r->replicas] : NULL;
}

static void
take_local_log(struct snapshot *s, struct statefs *sf, struct snap_resource *r)
{
	struct snap_replica *p = own_replica(s, r);
	char path[STATEFS_PATH_MAX + 1];
	struct local_log l = { 0 };
	int seen;

	if (!p)
		return;
	snprintf(path, sizeof(path), "resource-%s/.driver-status", r->name);
	seen = kvfile_load(sf->root_fd, path, local_log_fields, KV_COUNT(local_log_fields), &l);
	if (seen < 0 || l.version != 1 || l.updated_ns + LOCAL_LOG_FRESH_NS < s->now_ns)
		return;
	if (seen & LOCAL_TRANSFER_SEEN) {
		p->transfer_known = 1;
		p->fetch = l.fetch;
		p->sync = l.sync;
	}
	if (!(seen & LOCAL_LOG_SEEN))
		return;
	p->log_known = 1;
	p->log_end_bytes = l.end;
	p->log_durable_bytes = l.durable;
	p->pending_bytes = l.pending;
}

/*
 * Lag in time as the designated primary publishes it: replaces the
 * replay links' stamp difference derive_states() left in lag_s, which
 * stays only where the primary publishes nothing (it does not log, or
 * runs a clusterd from before unapplied- entries).
 */
static void
take_lag_time(const struct snapshot *s, struct statefs *sf, struct snap_resource *r)
{
	uint64_t stamp;

	if (statefs_name_check(STATEFS_NAME_HOST, r->primary, NULL) < 0)
		return;
	for (size_t i = 0; i < r->n_replicas; i++)
		if (repl_lag_load(sf, r->name, r->primary, r->replicas[i].host, &stamp) == 1)
			r->replicas[i].lag_s = (double)repl_lag_age_ns(stamp, s->now_ns) / 1e9;
}

static int
take_resource(struct snapshot *s, struct statefs *sf, struct snap_resource *r)
{
	struct res_raw raw = { .r = r, .s = s };
	char dir[STATEFS_PATH_MAX + 1];
	int ret;

	snprintf(dir, sizeof(dir), "resource-%s", r->name);
	SET(r->primary, STATEFS_NONE);
	ret = statefs_list(sf, dir, 0, res_key, &raw);
	if (ret == 0)
		ret = statefs_list_files(sf, dir, res_logfile, &raw);
	if (ret == 0 && raw.nomem)
		ret = -ENOMEM;
	if (ret == 0 || ret == -ENOENT)
		ret = detect_split_brain(sf, r);
	if (ret == 0) {
		derive_resource(&raw);
		take_lag_time(s, sf, r);
		take_local_log(s, sf, r);
	}
	res_raw_release(&raw);
	return ret;
}

static int
add_resource_name(const char *name, void *arg)
{
	struct snapshot *s = arg;

	if (s->n_resources >= SNAP_RESOURCES_MAX)
		return 0;
	if (statefs_name_check(STATEFS_NAME_RESOURCE, name, NULL) < 0)
		return 0;
	if (s->n_resources == s->cap_resources) {
		size_t cap = s->cap_resources ? 2 * s->cap_resources : 8;
		void *p = realloc(s->resources, cap * sizeof(*s->resources));

		if (!p)
			return -ENOMEM;
		s->resources = p;
		s->cap_resources = cap;
	}
	memset(&s->resources[s->n_resources], 0, sizeof(s->resources[0]));
	SET(s->resources[s->n_resources].name, name);
	s->n_resources++;
	return 0;
}

static int
add_member(const struct statefs_entry *e, void *arg)
{
	struct snapshot *s = arg;
	struct snap_member *m;

	if (strncmp(e->path, "ips/ip-", 7) != 0 || s->n_members >= SNAP_MEMBERS_MAX)
		return 0;
	m = &s->members[s->n_members++];
	memset(m, 0, sizeof(*m));
	SET(m->host, e->path + 7);
	SET(m->addr, e->value);
	return 0;
}

static void
member_status(struct snapshot *s, struct statefs *sf, struct snap_member *m)
{
	char key[STATEFS_PATH_MAX + 1], val[64];
	uint64_t stamp = 0;

	snprintf(key, sizeof(key), "actual-%s/time", m->host);
	if (statefs_get(sf, key, val, sizeof(val), &stamp) >= 0)
		m->heartbeat_ns = stamp;
	m->heartbeat_age_s = m->heartbeat_ns ?
		((double)s->now_ns - (double)m->heartbeat_ns) / 1e9 : -1;
	if (m->heartbeat_age_s < 0 && m->heartbeat_ns)
		m->heartbeat_age_s = 0;
	m->alive = m->heartbeat_ns && s->now_ns < m->heartbeat_ns + s->alive_window_ns;
	snprintf(key, sizeof(key), "actual-%s/emergency", m->host);
	if (statefs_get(sf, key, val, sizeof(val), NULL) >= 0)
		m->emergency = atoi(val) > 0;
}

int
snapshot_take(struct snapshot *s, struct statefs *sf, uint64_t alive_window_ns)
{
	size_t i;
	int ret;

	memset(s, 0, sizeof(*s));
	s->now_ns = statefs_realtime_ns();
	s->alive_window_ns = alive_window_ns;
	s->merge = sf->stats;
	if (statefs_counters_read(sf, &s->serve) < 0)
		s->serve.n = 0;		/* counted again once readable */
	SET(s->self, sf->host);
	s->members = calloc(SNAP_MEMBERS_MAX, sizeof(*s->members));
	if (!s->members) {
		snapshot_release(s);
		return -ENOMEM;
	}
	if (statefs_get(sf, "uuid", s->uuid, sizeof(s->uuid), NULL) < 0)
		s->uuid[0] = '\0';
	ret = statefs_list(sf, "ips", 0, add_member, s);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	for (i = 0; i < s->n_members; i++)
		member_status(s, sf, &s->members[i]);
	ret = statefs_list_dirs(sf, "", "resource-", add_resource_name, s);
	if (ret < 0)
		goto out;
	for (i = 0; i < s->n_resources; i++) {
		ret = take_resource(s, sf, &s->resources[i]);
		if (ret < 0)
			goto out;
	}
	return 0;
out:
	snapshot_release(s);
	return ret;
}

void
snapshot_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->n_resources; i++)
		free(s->resources[i].replicas);
	free(s->members);
	free(s->resources);
	s->members = NULL;
	s->resources = NULL;
	s->n_members = s->n_resources = s->cap_resources = 0;
}

/* One replica @p of resource @r against its previous state @q (or NULL). */
static void
sync_rate_one(const struct snap_resource *r, struct snap_replica *p,
	      const struct snap_replica *q, uint64_t now_ns)
{
	double inst;

	if (!q || !q->sync_seen_ns || p->sync_bytes < q->sync_seen_bytes || now_ns < q->sync_seen_ns) {
		p->sync_seen_ns = now_ns;
		p->sync_seen_bytes = p->sync_bytes;
		p->sync_rate_bps = 0;
	} else if (p->sync_bytes > q->sync_seen_bytes && now_ns > q->sync_seen_ns) {
		inst = (double)(p->sync_bytes - q->sync_seen_bytes) * 1e9 /
		       (double)(now_ns - q->sync_seen_ns);
		p->sync_rate_bps = q->sync_rate_bps > 0 ?
			SNAP_SYNC_RATE_KEEP * q->sync_rate_bps + (1 - SNAP_SYNC_RATE_KEEP) * inst : inst;
		p->sync_seen_ns = now_ns;
		p->sync_seen_bytes = p->sync_bytes;
	} else {
		p->sync_seen_ns = q->sync_seen_ns;
		p->sync_seen_bytes = q->sync_seen_bytes;
		p->sync_rate_bps = now_ns - q->sync_seen_ns > SNAP_SYNC_STALL_NS ? 0 : q->sync_rate_bps;
	}
	if (p->sync_bytes >= r->size_bytes)
		p->sync_remaining_s = 0;
	else if (p->sync_rate_bps > 0)
		p->sync_remaining_s = (double)(r->size_bytes - p->sync_bytes) / p->sync_rate_bps;
	else
		p->sync_remaining_s = -1;
}

void
snapshot_sync_rates(struct snapshot *n, const struct snapshot *o)
{
	const struct snap_resource *ro;

	for (size_t i = 0; i < n->n_resources; i++) {
		struct snap_resource *r = &n->resources[i];

		ro = o ? snapshot_resource(o, r->name) : NULL;
		for (size_t j = 0; j < r->n_replicas; j++)
			sync_rate_one(r, &r->replicas[j],
				      ro ? snap_resource_replica(ro, r->replicas[j].host) : NULL,
				      n->now_ns);
	}
}

const struct snap_member *
snapshot_member(const struct snapshot *s, const char *host)
{
	for (size_t i = 0; i < s->n_members; i++)
		if (strcmp(s->members[i].host, host) == 0)
			return &s->members[i];
	return NULL;
}

const struct snap_resource *
snapshot_resource(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n_resources; i++)
		if (strcmp(s->resources[i].name, name) == 0)
			return &s->resources[i];
	return NULL;
}

const struct snap_replica *
snap_resource_replica(const struct snap_resource *r, const char *host)
{
	for (size_t i = 0; i < r->n_replicas; i++)
		if (strcmp(r->replicas[i].host, host) == 0)
			return &r->replicas[i];
	return NULL;
}
