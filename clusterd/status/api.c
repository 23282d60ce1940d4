/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON for /api/v1 with json-c, never by string pasting, so that any byte
 * a value from the tree carries is escaped by the library.  Documents are
 * versioned by their path (/api/v1) and carry "api": 1.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "clusterd/status/api.h"

static void
put_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void
put_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void
put_dbl(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_double(v));
}

static void
put_bool(struct json_object *o, const char *k, int v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static struct json_object *
doc_new(void)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "api", json_object_new_int(API_VERSION));
	return o;
}

/* Serialise and free @o; the string is copied out of json-c's buffer. */
static char *
doc_finish(struct json_object *o, size_t *len)
{
	const char *s;
	size_t n;
	char *out = NULL;

	if (!o)
		return NULL;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s && (out = malloc(n + 2))) {
		memcpy(out, s, n);
		out[n] = '\n';
		out[n + 1] = '\0';
		*len = n + 1;
	}
	json_object_put(o);
	return out;
}

static struct json_object *
member_json(const struct snap_member *m)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "host", m->host);
	put_str(o, "address", m->addr);
	put_bool(o, "alive", m->alive);
	if (m->heartbeat_ns)
		put_dbl(o, "heartbeat_age_s", m->heartbeat_age_s);
	else
		json_object_object_add(o, "heartbeat_age_s", NULL);
	put_bool(o, "emergency", m->emergency);
	return o;
}

static struct json_object *
gossip_json(const struct statefs_stats *st)
{
	struct json_object *o = json_object_new_object();

	put_u64(o, "applied", st->applied);
	put_u64(o, "kept", st->kept);
	put_u64(o, "refused_path", st->refused_path);
	put_u64(o, "refused_owner", st->refused_owner);
	put_u64(o, "refused_policy", st->refused_policy);
	put_u64(o, "refused_value", st->refused_value);
	put_u64(o, "refused_stamp", st->refused_stamp);
	put_u64(o, "refused_type", st->refused_type);
	put_u64(o, "errors", st->errors);
	return o;
}

/* Every refusal by reason, the daemon's and the serving ends', as in the
 * metrics (snapshot_refusals()). */
static struct json_object *
refusals_json(const struct snapshot *s)
{
	struct json_object *o = json_object_new_object();
	struct statefs_counters r;

	snapshot_refusals(s, &r);
	for (size_t i = 0; i < r.n; i++)
		put_u64(o, r.c[i].name, r.c[i].value);
	return o;
}

char *
api_cluster(const struct snapshot *s, size_t *len)
{
	struct json_object *o = doc_new(), *arr;

	if (!o)
		return NULL;
	put_str(o, "uuid", s->uuid);
	put_str(o, "self", s->self);
	put_u64(o, "now_ms", s->now_ns / 1000000);
	put_dbl(o, "alive_window_s", (double)s->alive_window_ns / 1e9);
	arr = json_object_new_array();
	for (size_t i = 0; i < s->n_members; i++)
		json_object_array_add(arr, member_json(&s->members[i]));
	json_object_object_add(o, "members", arr);
	json_object_object_add(o, "gossip", gossip_json(&s->merge));
	json_object_object_add(o, "refusals", refusals_json(s));
	return doc_finish(o, len);
}

static struct json_object *
transfer_json(const struct snap_transfer *t)
{
	struct json_object *o = json_object_new_object();

	put_u64(o, "bytes_raw", t->bytes_raw);
	put_u64(o, "bytes_wire", t->bytes_wire);
	put_dbl(o, "decompress_cpu_s", (double)t->cpu_ns / 1e9);
	put_dbl(o, "compress_cpu_s", (double)t->peer_cpu_ns / 1e9);
	return o;
}

static struct json_object *
replica_json(const struct snap_replica *p)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "host", p->host);
	put_str(o, "device", p->device);
	put_str(o, "role", p->role);
	put_str(o, "disk", p->disk);
	put_str(o, "repl", p->repl);
	put_str(o, "flags", p->flags);
	put_bool(o, "alive", p->alive);
	put_u64(o, "lag_bytes", p->lag_bytes);
	put_dbl(o, "lag_s", p->lag_s);
	put_u64(o, "replay_logfile", p->replay_nr);
	put_u64(o, "replay_pos_bytes", p->replay_pos_bytes);
	put_u64(o, "sync_bytes", p->sync_bytes);
	put_dbl(o, "sync_rate_bytes_per_s", p->sync_rate_bps);
	if (p->sync_remaining_s >= 0)
		put_dbl(o, "sync_remaining_s", p->sync_remaining_s);
	else
		json_object_object_add(o, "sync_remaining_s", NULL);
	put_u64(o, "logfile_bytes", p->logfile_bytes);
	if (p->log_known) {
		put_u64(o, "log_end_bytes", p->log_end_bytes);
		put_u64(o, "log_durable_bytes", p->log_durable_bytes);
		put_u64(o, "pending_writeback_bytes", p->pending_bytes);
	} else {
		json_object_object_add(o, "log_end_bytes", NULL);
		json_object_object_add(o, "log_durable_bytes", NULL);
		json_object_object_add(o, "pending_writeback_bytes", NULL);
	}
	if (p->transfer_known) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "fetch", transfer_json(&p->fetch));
		json_object_object_add(t, "sync", transfer_json(&p->sync));
		json_object_object_add(o, "transfer", t);
	} else {
		json_object_object_add(o, "transfer", NULL);
	}
	return o;
}

static struct json_object *
resource_json(const struct snap_resource *r)
{
	struct json_object *o = json_object_new_object(), *arr;

	put_str(o, "name", r->name);
	put_u64(o, "size_bytes", r->size_bytes);
	put_str(o, "primary", r->primary);
	put_bool(o, "split_brain", r->split_brain);
	put_bool(o, "emergency", r->emergency);
	put_str(o, "resolve", r->resolve);
	arr = json_object_new_array();
	for (size_t i = 0; i < r->n_replicas; i++)
		json_object_array_add(arr, replica_json(&r->replicas[i]));
	json_object_object_add(o, "replicas", arr);
	return o;
}

char *
api_resources(const struct snapshot *s, size_t *len)
{
	struct json_object *o = doc_new(), *arr;

	if (!o)
		return NULL;
	put_u64(o, "now_ms", s->now_ns / 1000000);
	arr = json_object_new_array();
	for (size_t i = 0; i < s->n_resources; i++)
		json_object_array_add(arr, resource_json(&s->resources[i]));
	json_object_object_add(o, "resources", arr);
	return doc_finish(o, len);
}

static int
event_add(const struct db_event *ev, void *arg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(ev->id));
	json_object_object_add(o, "t_ms", json_object_new_int64(ev->t_ms));
	put_str(o, "kind", ev->kind);
	put_str(o, "resource", ev->resource);
	put_str(o, "host", ev->host);
	put_str(o, "detail", ev->detail);
	json_object_array_add(arg, o);
	return 0;
}

char *
api_events(struct db *db, int64_t after_id, int limit, size_t *len)
{
	struct json_object *o = doc_new(), *arr;

	if (!o)
		return NULL;
	arr = json_object_new_array();
	json_object_object_add(o, "events", arr);
	put_bool(o, "history", db != NULL);
	if (db && db_events_foreach(db, after_id, limit, event_add, arr) < 0) {
		json_object_put(o);
		return NULL;
	}
	return doc_finish(o, len);
}

static int
sample_add(const struct db_sample *s, void *arg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "t_ms", json_object_new_int64(s->t_ms));
	put_str(o, "resource", s->resource);
	put_str(o, "host", s->host);
	put_u64(o, "lag_bytes", s->lag_bytes);
	put_dbl(o, "lag_s", s->lag_s);
	put_u64(o, "replay_pos_bytes", s->replay_pos_bytes);
	put_u64(o, "logfile_bytes", s->logfile_bytes);
	json_object_array_add(arg, o);
	return 0;
}

char *
api_history(struct db *db, int64_t since_ms, const char *resource, const char *host,
	    int limit, size_t *len)
{
	struct json_object *o = doc_new(), *arr;

	if (!o)
		return NULL;
	arr = json_object_new_array();
	json_object_object_add(o, "samples", arr);
	put_bool(o, "history", db != NULL);
	if (db && db_samples_foreach(db, since_ms, resource, host, limit, sample_add, arr) < 0) {
		json_object_put(o);
		return NULL;
	}
	return doc_finish(o, len);
}

char *
api_alert(const char *self, const char *uuid, const char *kind, const char *resource,
	  const char *host, const char *detail, int64_t t_ms)
{
	struct json_object *o = doc_new();
	size_t len;

	if (!o)
		return NULL;
	put_str(o, "kind", kind);
	put_str(o, "cluster", uuid);
	put_str(o, "reporter", self);
	put_str(o, "resource", resource);
	put_str(o, "host", host);
	put_str(o, "detail", detail);
	json_object_object_add(o, "t_ms", json_object_new_int64(t_ms));
	return doc_finish(o, &len);
}
