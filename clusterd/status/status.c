/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Glue of the status page.  Why a snapshot timer instead of reading the
 * tree per request: requests then cost no tree walk, every view of one
 * second agrees, and the event detector sees each change once.  Events are
 * the differences between two consecutive snapshots; the red ones (split
 * brain, emergency, lag over the threshold, a member gone silent) are also
 * posted as webhooks.  Failure policy: a history or alert failure is
 * logged and the page keeps serving; only an explicitly configured listen
 * address that cannot be bound stops the daemon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clusterd/status/api.h"
#include "clusterd/status/db.h"
#include "clusterd/gossip/gossip.h"
#include "clusterd/status/http.h"
#include "common/log.h"
#include "clusterd/status/metrics.h"
#include "clusterd/status/status.h"
#include "web/assets.h"

#define PRUNE_MS	60000

struct status {
	struct status_config c;
	struct http_server *http;
	struct db *db;
	struct alerts *alerts;
	struct snapshot snap;		/* latest; empty until the tree is ready */
	int have_snap;
	int have_prev;			/* a snapshot existed before the current one */
	char self[STATEFS_NAME_MAX + 1];
	char uuid[STATEFS_VALUE_MAX + 1];
	uint64_t snapshot_errors;
	uint64_t next_snapshot_ms, next_sample_ms, next_prune_ms;
};

void
status_config_init(struct status_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = STATUS_DEFAULT_LISTEN;
	c->snapshot_ms = 1000;
	c->sample_ms = 10000;
	c->silent_ms = 60000;	/* marsadm view's heartbeat window (VIEW_WINDOW_NS) */
	c->lag_alert_s = 300;
	c->history_max_age_s = 7 * 86400;
	c->history_max_rows = 200000;
}

static int
parse_u64_arg(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
status_config_option(struct status_config *c, const char *name, const char *arg)
{
	uint64_t v;
	struct sockaddr_storage ss;
	unsigned len;

	if (strcmp(name, "http-listen") == 0) {
		if (strcmp(arg, "none") != 0 && http_parse_listen(arg, &ss, &len) < 0)
			return -EINVAL;
		c->listen = arg;
		c->listen_given = 1;
	} else if (strcmp(name, "http-token") == 0) {
		c->token = *arg ? arg : NULL;
	} else if (strcmp(name, "http-token-file") == 0) {
		c->token_file = arg;
	} else if (strcmp(name, "http-allow-host") == 0) {
		if (c->n_allow_hosts == HTTP_ALLOW_HOSTS_MAX)
			return -E2BIG;
		if (!*arg || strlen(arg) > HTTP_HOST_NAME_MAX)
			return -EINVAL;
		c->allow_hosts[c->n_allow_hosts++] = arg;
	} else if (strcmp(name, "db") == 0) {
		c->db_path = arg;
	} else if (strcmp(name, "alert-url") == 0) {
		if (c->n_alert_urls == ALERTS_URLS_MAX)
			return -E2BIG;
		if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
			return -EINVAL;
		c->alert_urls[c->n_alert_urls++] = arg;
	} else if (strcmp(name, "lag-alert-bytes") == 0) {
		if (parse_u64_arg(arg, UINT64_MAX, &c->lag_alert_bytes) < 0)
			return -EINVAL;
	} else if (strcmp(name, "lag-alert-s") == 0) {
		if (parse_u64_arg(arg, 366ULL * 86400, &c->lag_alert_s) < 0)
			return -EINVAL;
	} else if (strcmp(name, "status-sample-ms") == 0) {
		if (parse_u64_arg(arg, 3600000, &v) < 0 || v < 100)
			return -EINVAL;
		c->sample_ms = (unsigned)v;
		if (c->snapshot_ms > v)
			c->snapshot_ms = (unsigned)v;
	} else if (strcmp(name, "silent-ms") == 0) {
		if (parse_u64_arg(arg, 86400000, &v) < 0 || v < 100)
			return -EINVAL;
		c->silent_ms = (unsigned)v;
	} else {
		return -ENOENT;
	}
	return 0;
}

int
status_config_finish(struct status_config *c, const char *self_host, char *err,
		     size_t errlen)
{
	int ret;

	if (c->token && c->token_file) {
		snprintf(err, errlen, "give --http-token-file or --http-token, not both "
			 "(the file: an option's value shows in ps)");
		return -EINVAL;
	}
	if (c->token_file) {
		ret = http_token_read(c->token_file, c->token_buf, sizeof(c->token_buf),
				      err, errlen);
		if (ret < 0)
			return ret;
		c->token = c->token_buf;
	}
	if (strcmp(c->listen, "none") == 0)
		return 0;
	c->allow_hosts[c->n_allow_hosts++] = self_host;
	ret = http_listen_is_loopback(c->listen);
	if (ret < 0) {
		snprintf(err, errlen, "status page: cannot resolve '%s' any more", c->listen);
		return ret;
	}
	if (ret == 0 && !c->token) {
		snprintf(err, errlen, "refusing to serve the status page on '%s' without a "
			 "token: anyone who reaches it would read the cluster's state; give "
			 "--http-token-file FILE (mode 600) or listen on 127.0.0.1 or [::1]",
			 c->listen);
		return -EPERM;
	}
	return 0;
}

/* ---- requests ----------------------------------------------------------- */

static void
reply_text(struct http_reply *r, unsigned status, const char *type, char *body, size_t len)
{
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->len = len;
}

static void
reply_static(struct http_reply *r, unsigned status, const char *msg)
{
	reply_text(r, status, "application/json", (char *)msg, strlen(msg));
	r->body_static = 1;
}

/* A query number in [min, max], else @def; -1 if present but malformed. */
static int64_t
query_num(const struct http_request *req, const char *name, int64_t def, int64_t min,
	  int64_t max)
{
	const char *s = http_query(req, name);
	uint64_t v;

	if (!s)
		return def;
	if (parse_u64_arg(s, (uint64_t)max, &v) < 0 || (int64_t)v < min)
		return -1;
	return (int64_t)v;
}

static int
valid_name_arg(const char *s)
{
	return !s || statefs_name_check(STATEFS_NAME_RESOURCE, s, NULL) == 0 ||
	       statefs_name_check(STATEFS_NAME_HOST, s, NULL) == 0;
}

static void
serve_history(struct status *st, const struct http_request *req, struct http_reply *r)
{
	int64_t since_s = query_num(req, "since_s", 3600, 1, 366LL * 86400);
	int64_t limit = query_num(req, "limit", 5000, 1, API_HISTORY_LIMIT_MAX);
	const char *res = http_query(req, "resource"), *host = http_query(req, "host");
	int64_t now_ms = (int64_t)(statefs_realtime_ns() / 1000000);

	if (since_s < 0 || limit < 0 || !valid_name_arg(res) || !valid_name_arg(host)) {
		reply_static(r, 400, "{\"api\":1,\"error\":\"bad query argument\"}\n");
		return;
	}
	r->body = api_history(st->db, now_ms - since_s * 1000, res, host, (int)limit, &r->len);
	r->status = 200;
}

static void
serve_events(struct status *st, const struct http_request *req, struct http_reply *r)
{
	int64_t after = query_num(req, "after", 0, 0, INT64_MAX);
	int64_t limit = query_num(req, "limit", 200, 1, API_EVENTS_LIMIT_MAX);

	if (after < 0 || limit < 0) {
		reply_static(r, 400, "{\"api\":1,\"error\":\"bad query argument\"}\n");
		return;
	}
	r->body = api_events(st->db, after, (int)limit, &r->len);
	r->status = 200;
}

static void
serve_metrics(struct status *st, struct http_reply *r)
{
	struct http_stats hs;
	struct alerts_stats as;
	struct metrics_extra x = { .history_samples = -1, .history_events = -1,
				   .snapshot_errors = st->snapshot_errors };

	if (st->http) {
		http_get_stats(st->http, &hs);
		x.http = &hs;
	}
	if (st->alerts) {
		alerts_get_stats(st->alerts, &as);
		x.alerts = &as;
	}
	if (st->db) {
		x.history_samples = db_count_samples(st->db);
		x.history_events = db_count_events(st->db);
	}
	r->body = metrics_render(&st->snap, &x, &r->len);
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* @body was built with its length already stored in r->len. */
static void
serve_doc(struct http_reply *r, char *body)
{
	r->status = 200;
	r->body = body;
}

static void
on_request(const char *path, const struct http_request *req, int authorized,
	   struct http_reply *r, void *arg)
{
	struct status *st = arg;
	const struct web_asset *a = web_asset_find(path);

	if (a) {
		reply_text(r, 200, a->content_type, (char *)a->data, a->len);
		r->body_static = 1;
		return;
	}
	if (strcmp(path, "/metrics") != 0 && strncmp(path, "/api/", 5) != 0) {
		reply_static(r, 404, "{\"api\":1,\"error\":\"not found\"}\n");
		return;
	}
	if (!authorized) {
		reply_static(r, 401, "{\"api\":1,\"error\":\"bearer token required\"}\n");
		return;
	}
	r->content_type = "application/json";
	if (!st->have_snap && strcmp(path, "/api/v1/events") != 0 &&
	    strcmp(path, "/api/v1/history") != 0) {
		reply_static(r, 503, "{\"api\":1,\"error\":\"state tree not ready\"}\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(st, r);
	else if (strcmp(path, "/api/v1/cluster") == 0)
		serve_doc(r, api_cluster(&st->snap, &r->len));
	else if (strcmp(path, "/api/v1/resources") == 0)
		serve_doc(r, api_resources(&st->snap, &r->len));
	else if (strcmp(path, "/api/v1/events") == 0)
		serve_events(st, req, r);
	else if (strcmp(path, "/api/v1/history") == 0)
		serve_history(st, req, r);
	else
		reply_static(r, 404, "{\"api\":1,\"error\":\"not found\"}\n");
	if (!r->body && !r->body_static)
		reply_static(r, 500, "{\"api\":1,\"error\":\"internal error, see the log\"}\n");
}

/* ---- events and alerts --------------------------------------------------- */

static void
event(struct status *st, int alert, const char *kind, const char *res, const char *host,
      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
event(struct status *st, int alert, const char *kind, const char *res, const char *host,
      const char *fmt, ...)
{
	char detail[512];
	struct db_event ev = { .kind = kind, .resource = res, .host = host, .detail = detail };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ev.t_ms = (int64_t)(statefs_realtime_ns() / 1000000);
	log_info("event %s: %s", kind, detail);
	if (st->db && db_event_add(st->db, &ev) < 0)
		log_warnx("history: cannot record event: %s", db_error(st->db));
	if (alert && st->alerts) {
		char *json = api_alert(st->self, st->uuid, kind, res, host, detail,
				       ev.t_ms);

		if (json)
			alerts_post(st->alerts, json);
		free(json);
	}
}

static void
member_events(struct status *st, const struct snapshot *o, const struct snapshot *n)
{
	size_t i;

	for (i = 0; i < n->n_members; i++) {
		const struct snap_member *m = &n->members[i], *p = snapshot_member(o, m->host);
		int silent = m->heartbeat_ns && m->heartbeat_age_s * 1000 > st->c.silent_ms;
		int was_silent = p && p->heartbeat_ns && p->heartbeat_age_s * 1000 > st->c.silent_ms;

		if (!p && st->have_prev)
			event(st, 0, "member-join", "", m->host, "member '%s' joined at %s",
			      m->host, m->addr);
		if (silent && (!p || !was_silent))
			event(st, 1, "member-silent", "", m->host,
			      "member '%s' silent for %.0f s", m->host, m->heartbeat_age_s);
		else if (!silent && was_silent)
			event(st, 0, "member-alive", "", m->host, "member '%s' is heard again",
			      m->host);
		if (m->emergency && (!p || !p->emergency))
			event(st, 1, "emergency", "", m->host,
			      "member '%s' is in emergency mode", m->host);
	}
	for (i = 0; st->have_prev && i < o->n_members; i++)
		if (!snapshot_member(n, o->members[i].host))
			event(st, 0, "member-leave", "", o->members[i].host,
			      "member '%s' left the cluster", o->members[i].host);
}

/* Lag in time over --lag-alert-s: raised once, cleared once it drops back. */
static void
lag_time_events(struct status *st, const struct snap_resource *r, const struct snap_replica *p,
		const struct snap_replica *pq)
{
	double thr = (double)st->c.lag_alert_s;

	if (!st->c.lag_alert_s)
		return;
	if (p->lag_s > thr && (!pq || pq->lag_s <= thr))
		event(st, 1, "lag-time", r->name, p->host,
		      "%s on '%s': its oldest write not applied is %.0f s old (threshold %.0f s)",
		      r->name, p->host, p->lag_s, thr);
	else if (pq && p->lag_s <= thr && pq->lag_s > thr)
		event(st, 0, "lag-time-ok", r->name, p->host,
		      "%s on '%s' is within %.0f s again (%.0f s)", r->name, p->host, thr,
		      p->lag_s);
}

static void
replica_events(struct status *st, const struct snap_resource *r, const struct snap_resource *q)
{
	for (size_t j = 0; j < r->n_replicas; j++) {
		const struct snap_replica *p = &r->replicas[j];
		const struct snap_replica *pq = q ? snap_resource_replica(q, p->host) : NULL;
		uint64_t thr = st->c.lag_alert_bytes;

		if (pq && strcmp(pq->role, p->role) != 0)
			event(st, 0, "role", r->name, p->host, "%s on '%s': %s -> %s", r->name,
			      p->host, pq->role, p->role);
		if (thr && p->lag_bytes > thr && (!pq || pq->lag_bytes <= thr))
			event(st, 1, "lag", r->name, p->host,
			      "%s on '%s' lags %llu bytes (threshold %llu)", r->name, p->host,
			      (unsigned long long)p->lag_bytes, (unsigned long long)thr);
		else if (thr && pq && p->lag_bytes <= thr && pq->lag_bytes > thr)
			event(st, 0, "lag-ok", r->name, p->host, "%s on '%s' caught up",
			      r->name, p->host);
		lag_time_events(st, r, p, pq);
	}
}

static void
resource_events(struct status *st, const struct snapshot *o, const struct snapshot *n)
{
	for (size_t i = 0; i < n->n_resources; i++) {
		const struct snap_resource *r = &n->resources[i];
		const struct snap_resource *q = st->have_prev ? snapshot_resource(o, r->name) : NULL;

		if (q && strcmp(q->primary, r->primary) != 0)
			event(st, 0, "role", r->name, r->primary,
			      "designated primary of %s: %s -> %s", r->name, q->primary, r->primary);
		if (r->split_brain && (!q || !q->split_brain))
			event(st, 1, "split-brain", r->name, "",
			      "split brain of %s; resolve: %s", r->name, r->resolve);
		else if (!r->split_brain && q && q->split_brain)
			event(st, 0, "split-brain-resolved", r->name, "",
			      "split brain of %s resolved", r->name);
		if (r->emergency && (!q || !q->emergency))
			event(st, 1, "emergency", r->name, r->primary,
			      "%s is in emergency mode; resolve: %s", r->name, r->resolve);
		replica_events(st, r, q);
	}
}

static void
take_snapshot(struct status *st, struct statefs *sf)
{
	struct snapshot n;
	int ret = snapshot_take(&n, sf, (uint64_t)st->c.silent_ms * 1000000);

	if (ret < 0) {
		if (st->snapshot_errors++ == 0)
			log_warnx("status: cannot read the tree: %s", strerror(-ret));
		return;
	}
	snprintf(st->self, sizeof(st->self), "%s", n.self);
	snprintf(st->uuid, sizeof(st->uuid), "%s", n.uuid);
	/* st->snap is the previous snapshot (empty before the first one). */
	st->have_prev = st->have_snap;
	snapshot_sync_rates(&n, st->have_snap ? &st->snap : NULL);
	member_events(st, &st->snap, &n);
	resource_events(st, &st->snap, &n);
	snapshot_release(&st->snap);
	st->snap = n;
	st->have_snap = 1;
}

/* ---- history -------------------------------------------------------------- */

static void
sample(struct status *st)
{
	struct db_sample *rows;
	size_t n = 0, cap = 0, i, j;
	int64_t t_ms = (int64_t)(st->snap.now_ns / 1000000);

	for (i = 0; i < st->snap.n_resources; i++)
		cap += st->snap.resources[i].n_replicas;
	if (!cap)
		return;
	rows = calloc(cap, sizeof(*rows));
	if (!rows)
		return;
	for (i = 0; i < st->snap.n_resources; i++)
		for (j = 0; j < st->snap.resources[i].n_replicas; j++) {
			const struct snap_replica *p = &st->snap.resources[i].replicas[j];

			rows[n++] = (struct db_sample){
				.t_ms = t_ms, .resource = st->snap.resources[i].name,
				.host = p->host, .lag_bytes = p->lag_bytes, .lag_s = p->lag_s,
				.replay_pos_bytes = p->replay_pos_bytes,
				.logfile_bytes = p->logfile_bytes,
			};
		}
	if (db_samples_add(st->db, rows, n) < 0)
		log_warnx("history: cannot store samples: %s", db_error(st->db));
	free(rows);
}

/* ---- life cycle and the poll loop ------------------------------------------ */

static int
open_http(struct status *st)
{
	struct http_config hc = { .listen = st->c.listen, .token = st->c.token,
				  .allow_hosts = st->c.allow_hosts,
				  .n_allow_hosts = st->c.n_allow_hosts,
				  .handler = on_request, .arg = st };
	char err[256];
	int ret;

	if (strcmp(st->c.listen, "none") == 0)
		return 0;
	ret = http_open(&st->http, &hc, err, sizeof(err));
	if (ret == 0) {
		log_info("status page on http://%s/%s", st->c.listen,
			 st->c.token ? " (token required for data)" : "");
		return 0;
	}
	if (st->c.listen_given) {
		log_warnx("status page: %s", err);
		return ret;
	}
	log_warnx("status page disabled: %s; set --http-listen", err);
	return 0;
}

int
status_open(struct status **sp, const struct status_config *c)
{
	struct status *st = calloc(1, sizeof(*st));
	char err[512];
	int ret;

	*sp = NULL;
	if (!st)
		return -ENOMEM;
	st->c = *c;
	if (c->token == c->token_buf)	/* the copy's own buffer */
		st->c.token = st->c.token_buf;
	ret = open_http(st);
	if (ret < 0)
		goto out;
	if (c->db_path) {
		ret = db_open(&st->db, c->db_path, err, sizeof(err));
		if (ret < 0) {
			log_warnx("history database '%s': %s", c->db_path, err);
			goto out;
		}
		if (err[0])
			log_warnx("history database: %s", err);
		event(st, 0, "start", "", "", "clusterd started");
	}
	if (c->n_alert_urls) {
		ret = alerts_open(&st->alerts, c->alert_urls, c->n_alert_urls);
		if (ret < 0) {
			log_warnx("alerts: cannot set up libcurl: %s", strerror(-ret));
			goto out;
		}
	}
	if (!st->http && !st->db && !st->alerts) {
		/* Nobody would read the snapshots: do not walk the tree. */
		status_close(st);
		return 0;
	}
	*sp = st;
	return 0;
out:
	status_close(st);
	return ret;
}

void
status_close(struct status *st)
{
	if (!st)
		return;
	http_close(st->http);
	alerts_close(st->alerts);
	db_close(st->db);
	snapshot_release(&st->snap);
	free(st);
}

size_t
status_pollfds(struct status *st, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	if (st->http && max > 0) {
		pfd[0].fd = http_fd(st->http);
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = 1;
	}
	if (st->alerts)
		n += alerts_pollfds(st->alerts, pfd + n, max - n);
	return n;
}

static int
min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int
status_timeout_ms(struct status *st, uint64_t now_ms)
{
	int t = st->next_snapshot_ms > now_ms ? (int)(st->next_snapshot_ms - now_ms) : 0;

	if (st->http)
		t = min_timeout(t, http_timeout_ms(st->http));
	if (st->alerts)
		t = min_timeout(t, alerts_timeout_ms(st->alerts, now_ms));
	return t;
}

static void
timers(struct status *st, struct statefs *sf, uint64_t now_ms)
{
	if (sf && now_ms >= st->next_snapshot_ms) {
		st->next_snapshot_ms = now_ms + st->c.snapshot_ms;
		take_snapshot(st, sf);
	}
	if (st->db && st->have_snap && now_ms >= st->next_sample_ms) {
		st->next_sample_ms = now_ms + st->c.sample_ms;
		sample(st);
	}
	if (st->db && now_ms >= st->next_prune_ms) {
		st->next_prune_ms = now_ms + PRUNE_MS;
		if (db_prune(st->db, (int64_t)(statefs_realtime_ns() / 1000000),
			     (int64_t)st->c.history_max_age_s * 1000,
			     st->c.history_max_rows) < 0)
			log_warnx("history: cannot prune: %s", db_error(st->db));
	}
}

void
status_dispatch(struct status *st, struct statefs *sf, const struct pollfd *pfd, size_t n,
		uint64_t now_ms)
{
	size_t first_alert = st->http ? 1 : 0;

	timers(st, sf, now_ms);
	if (st->http)
		http_run(st->http);
	if (st->alerts && n >= first_alert)
		alerts_dispatch(st->alerts, pfd + first_alert, n - first_alert, now_ms);
}
