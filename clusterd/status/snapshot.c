/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Read the state tree into a struct snapshot.  Why one snapshot per tick
 * rather than reading on each request: the JSON API, the metrics, the
 * event detector and the sampler must agree on what they show, and a
 * bounded number of tree walks per second keeps a busy page from loading
 * the node.  Every word, flag and number of a replica comes from the
 * view model (view/view.h), the very one behind `marsadm view`, so the
 * page and view agree by construction; this file only walks members and
 * resources, copies the model's results, and measures the sync rate
 * across snapshots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/authz.h"
#include "clusterd/status/snapshot.h"
#include "view/view.h"

#define SET(field, str) snprintf((field), sizeof(field), "%s", (str))

/* Where split brain parts and what resolves it; or /mars running full. */
static void
resolve_text(struct snap_resource *r, const struct view_res *v)
{
	const struct repl_split *sp = &v->split;

	if (r->split_brain)
		snprintf(r->resolve, sizeof(r->resolve),
			 "histories of %s and %s part at logfile %09llu byte %llu: "
			 "marsadm primary %s on the host whose data survives, then "
			 "marsadm invalidate %s on every other host", sp->host_a, sp->host_b,
			 (unsigned long long)sp->nr, (unsigned long long)sp->pos_bytes,
			 r->name, r->name);
	else if (r->emergency)
		snprintf(r->resolve, sizeof(r->resolve),
			 "free space in /mars on %s, then marsadm invalidate %s on the secondaries",
			 r->primary, r->name);
}

/* This node's own log and transfers, from its fresh driver status. */
static void
replica_local(struct snap_replica *p, const struct view_driver *d)
{
	if (d->state != DRV_FRESH)
		return;
	if (d->transfer) {
		p->transfer_known = 1;
		p->fetch = (struct snap_transfer){ d->fetch_bytes_raw, d->fetch_bytes_wire,
						   d->fetch_cpu_ns, d->fetch_peer_cpu_ns };
		p->sync = (struct snap_transfer){ d->sync_bytes_raw, d->sync_bytes_wire,
						  d->sync_cpu_ns, d->sync_peer_cpu_ns };
	}
	if (!d->logging)
		return;
	p->log_known = 1;
	p->log_end_bytes = d->log_end_bytes;
	p->log_durable_bytes = d->log_durable_bytes;
	p->pending_bytes = d->pending_bytes;
}

/* One replica as the view model @v words it; nothing derived here. */
static void
replica_from_view(struct snap_replica *p, const struct view_res *v)
{
	char word[VIEW_WORD_BYTES];

	memset(p, 0, sizeof(*p));
	SET(p->host, v->host);
	SET(p->device, v->data);
	SET(p->role, view_role(v));
	SET(p->disk, view_diskstate(v, word, sizeof(word)));
	SET(p->repl, view_replstate(v));
	view_flags(v, p->flags);
	p->replay_nr = v->replay.valid ? v->replay.lognr : 0;
	p->replay_pos_bytes = v->replay.valid ? v->replay.pos_bytes : 0;
	p->sync_bytes = v->syncstatus_bytes;
	p->lag_bytes = v->lag_bytes;
	p->lag_s = (double)v->lag_ns / 1e9;
	p->actual_primary = v->is_primary == 1;
	p->alive = v->beat == BEAT_FRESH;
	for (size_t k = 0; k < v->n_logs; k++)
		if (v->logs[k].local && !strcmp(v->logs[k].origin, v->host))
			p->logfile_bytes += v->logs[k].local_bytes;
	if (v->in.local)
		replica_local(p, &v->drv);
}

/*
 * Resource @r with one replica per storage member (data-HOST), each from
 * the shared view model (view/): the first load, from this node, gives
 * the resource's facts and its members; each member is then loaded as
 * itself, this node's own replica with its status files.
 */
static int
take_resource(struct snapshot *s, struct statefs *sf, struct snap_resource *r)
{
	struct view_inputs in = { .now_ns = s->now_ns, .silent_ns = s->alive_window_ns };
	struct view_res *v = calloc(2, sizeof(*v)), *w;
	int ret;

	if (!v)
		return -ENOMEM;
	SET(r->primary, STATEFS_NONE);
	in.local = 1;
	ret = view_load(sf, r->name, s->self, &in, v);
	if (ret == 0) {
		r->size_bytes = v->size_bytes;
		if (v->primary[0])
			SET(r->primary, v->primary);
		r->split_brain = v->split_brain;
		r->emergency = v->primary_emergency;
		resolve_text(r, v);
		r->replicas = calloc((size_t)v->n_members, sizeof(*r->replicas));
		if (v->n_members && !r->replicas)
			ret = -ENOMEM;
		r->cap_replicas = (size_t)v->n_members;
	}
	for (int i = 0; ret == 0 && i < v->n_members; i++) {
		w = v + 1;
		in.local = !strcmp(v->members[i], s->self);
		if (in.local)
			w = v;
		else
			ret = view_load_member(sf, v, v->members[i], &in, w);
		if (ret == 0)
			replica_from_view(&r->replicas[r->n_replicas++], w);
		if (w != v)
			view_release(w);
	}
	view_release(v);
	free(v);
	return ret == -ENOENT ? 0 : ret;
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
	if (statefs_counters_read(sf, &s->counters) < 0)
		s->counters.n = 0;		/* counted again once readable */
	statefs_stats_from_counters(&s->counters, &s->merge);
	SET(s->self, statefs_host(sf));
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

void
snapshot_refusals(const struct snapshot *s, struct statefs_counters *out)
{
	static const char *const requests[] = {
		AUTHZ_COUNT_IDENTITY, AUTHZ_COUNT_FETCH, AUTHZ_COUNT_SYNC, AUTHZ_COUNT_KEY,
		AUTHZ_COUNT_UNVOUCHED,
	};

	statefs_stats_refusals(&s->merge, out);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]) &&
	     out->n < STATEFS_COUNTERS_MAX; i++) {
		snprintf(out->c[out->n].name, sizeof(out->c[out->n].name), "%s", requests[i]);
		out->c[out->n++].value = statefs_counters_get(&s->counters, requests[i]);
	}
}
