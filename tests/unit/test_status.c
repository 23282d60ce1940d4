/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the status page modules without a daemon: the snapshot
 * (view states, lag, split brain) from a temporary tree, the JSON of the
 * API (markup in values stays data), the metrics text (every line a
 * comment or a well-formed sample), the listen-address parser, and the
 * history database (schema version check, savepoints, pruning, reopen).
 */
#include "statefs_test.h"

#include <json-c/json.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "clusterd/status/api.h"
#include "clusterd/status/db.h"
#include "clusterd/status/http.h"
#include "clusterd/status/metrics.h"
#include "clusterd/status/snapshot.h"
#include "repl/repl.h"

#define HOSTILE "/dev/<img src=x onerror=alert(1)>"

static void
plant_cluster(struct statefs *sf)
{
	sft_set(sf, "uuid", "alpha_1.000000001");
	sft_set(sf, "ips/ip-alpha", "10.0.0.1");
	sft_set(sf, "ips/ip-beta", "10.0.0.2");
	sft_set(sf, "actual-alpha/time", "1.0");
	sft_set(sf, "actual-beta/time", "1.0");
	sft_set(sf, "resource-r0/size", "1000");
	sft_set(sf, "resource-r0/primary", "alpha");
	sft_set(sf, "resource-r0/data-alpha", "/dev/vg/r0");
	sft_set(sf, "resource-r0/data-beta", HOSTILE);
	sft_set(sf, "resource-r0/syncstatus-alpha", "1000");
	sft_set(sf, "resource-r0/syncstatus-beta", "1000");
	sft_set(sf, "resource-r0/replay-alpha", "log-000000002-alpha,5000,0");
	sft_set(sf, "resource-r0/replay-beta", "log-000000002-alpha,1000,0");
	sft_set(sf, "resource-r0/todo-beta/connect", "1");
	sft_set(sf, "resource-r0/todo-beta/allow-replay", "1");
	sft_set(sf, "resource-r0/todo-alpha/attach", "1");
	sft_set(sf, "resource-r0/todo-beta/attach", "1");
	sft_set(sf, "resource-r0/actual-alpha/is-attached", "1");
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "1");
	sft_set(sf, "resource-r0/actual-beta/is-attached", "1");
	sft_set(sf, "resource-r0/actual-beta/is-primary", "0");
}

/* Plant @host's version link for logfile @nr of @origin (@len bytes after @prev). */
static void
plant_link(struct statefs *sf, const char *host, uint64_t nr, const char *origin,
	   uint64_t len, const char *prev, char *out, size_t size)
{
	char key[STATEFS_PATH_MAX + 1];

	if (repl_version_make(out, size, nr, origin, len, prev) < 0) {
		tap_diag("repl_version_make failed");
		out[0] = '\0';
	}
	snprintf(key, sizeof(key), "resource-r0/version-%09llu-%s", (unsigned long long)nr, host);
	sft_set(sf, key, out);
}

static int
split_of(struct statefs *sf, char *resolve, size_t size)
{
	const struct snap_resource *r;
	struct snapshot s;
	int split = -1;

	if (snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S) < 0)
		return -1;
	r = snapshot_resource(&s, "r0");
	if (r) {
		split = r->split_brain;
		snprintf(resolve, size, "%s", r->resolve);
	}
	snapshot_release(&s);
	return split;
}

/*
 * Split brain follows repl_split_detect(), as `marsadm view` does: a
 * secondary whose link for a logfile is shorter and that has nothing later
 * only lags; one that went on to the next logfile after a shorter one, or
 * links of one number from different origins, are split.
 */
static void
test_snapshot_split(void)
{
	char a1[512], b1[512], a2[512], sec[REPL_SECTION_MAX + 1], resolve[512];
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	plant_link(sf, "alpha", 1, "alpha", 9000, "", a1, sizeof(a1));
	plant_link(sf, "beta", 1, "alpha", 100, "", b1, sizeof(b1));
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 0 && !resolve[0],
	       "a lagging secondary (shorter link, nothing later) is not split");
	snprintf(sec, sizeof(sec), "%.*s", (int)(strchr(a1, ':') - a1), a1);
	plant_link(sf, "alpha", 2, "alpha", 500, sec, a2, sizeof(a2));
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 0,
	       "nor when the primary has moved on to the next logfile");
	plant_link(sf, "beta", 1, "alpha", 9000, "", b1, sizeof(b1));
	plant_link(sf, "beta", 2, "alpha", 200, sec, b1, sizeof(b1));
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 0,
	       "a secondary that caught up and lags in the next logfile is not split");
	plant_link(sf, "beta", 1, "alpha", 4000, "", b1, sizeof(b1));
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 1 &&
	       strstr(resolve, "logfile 000000001 byte 4000") &&
	       strstr(resolve, "marsadm invalidate r0"),
	       "a side that ended a logfile early and went on is split: %s", resolve);
	sft_done_tree(&sf);

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	plant_link(sf, "alpha", 2, "alpha", 1, "", a1, sizeof(a1));
	plant_link(sf, "beta", 2, "beta", 1, "", b1, sizeof(b1));
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 1,
	       "links of one number from two origins are split");
	sft_set(sf, "resource-r0/version-000000002-beta", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,log-000000002-beta,1:");
	tap_ok(split_of(sf, resolve, sizeof(resolve)) == 0,
	       "a link with a wrong digest neither splits nor joins histories");
	sft_done_tree(&sf);
}

/* beta's sync at @sync bytes of 1000, seen at @t_s seconds, rated against @o. */
static const struct snap_replica *
sync_step(struct statefs *sf, struct snapshot *n, const struct snapshot *o, const char *sync,
	  uint64_t t_s)
{
	sft_set(sf, "resource-r0/syncstatus-beta", sync);
	if (snapshot_take(n, sf, 60ULL * STATEFS_NS_PER_S) < 0)
		return NULL;
	n->now_ns = (1000 + t_s) * STATEFS_NS_PER_S;
	snapshot_sync_rates(n, o);
	return n->n_resources ? snap_resource_replica(&n->resources[0], "beta") : NULL;
}

static int
near(double a, double b)
{
	return a > b - 1e-6 && a < b + 1e-6;
}

/* Sync rate and remaining time from syncstatus-HOST over snapshots. */
static void
test_sync_rates(void)
{
	struct snapshot s[5];
	const struct snap_replica *b;
	struct statefs *sf = NULL;
	int i;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	b = sync_step(sf, &s[0], NULL, "0", 0);
	tap_ok(b && b->sync_remaining_s == -1 && b->sync_rate_bps == 0,
	       "first sight of a sync: no rate, remaining unknown");
	b = sync_step(sf, &s[1], &s[0], "250", 1);
	tap_ok(b && near(b->sync_rate_bps, 250) && near(b->sync_remaining_s, 3),
	       "250 bytes in 1 s, 750 to go: 3 s left (%g s at %g B/s)",
	       b ? b->sync_remaining_s : 0, b ? b->sync_rate_bps : 0);
	b = sync_step(sf, &s[2], &s[1], "250", 2);
	tap_ok(b && near(b->sync_rate_bps, 250) && near(b->sync_remaining_s, 3),
	       "an unchanged sync keeps its rate between updates");
	b = sync_step(sf, &s[3], &s[2], "750", 3);
	tap_ok(b && near(b->sync_rate_bps, 0.7 * 250 + 0.3 * 250) && near(b->sync_remaining_s, 1),
	       "500 bytes over 2 s since the last move: same rate, 1 s left (%g)",
	       b ? b->sync_remaining_s : 0);
	b = sync_step(sf, &s[4], &s[3], "750", 3 + 61);
	tap_ok(b && b->sync_rate_bps == 0 && b->sync_remaining_s == -1,
	       "a sync stalled for over a minute has no remaining time");
	b = s[4].n_resources ? snap_resource_replica(&s[4].resources[0], "alpha") : NULL;
	tap_ok(b && b->sync_remaining_s == 0, "a synced replica has nothing left");
	for (i = 0; i < 5; i++)
		snapshot_release(&s[i]);
	sft_done_tree(&sf);
}

static void
test_snapshot(void)
{
	struct statefs *sf = NULL;
	struct snapshot s;
	const struct snap_resource *r;
	const struct snap_replica *a, *b;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	tap_ok(snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S) == 0, "snapshot of a tree");
	tap_ok(s.n_members == 2 && s.members[0].alive, "two members, alive");
	r = snapshot_resource(&s, "r0");
	tap_ok(r && r->n_replicas == 2, "one resource with two replicas");
	if (!r || r->n_replicas != 2)
		goto out;
	a = snap_resource_replica(r, "alpha");
	b = snap_resource_replica(r, "beta");
	tap_ok(a && strcmp(a->role, "Primary") == 0 && strcmp(a->repl, "Replicating") == 0 &&
	       strcmp(a->flags, "DCAS--") == 0,
	       "the designated primary that reports is-primary: %s %s %s", a->role, a->repl,
	       a ? a->flags : "");
	tap_ok(b && strcmp(b->role, "Secondary") == 0, "beta is secondary");
	tap_ok(b && b->lag_bytes == 4000, "lag within one logfile: %llu",
	       (unsigned long long)b->lag_bytes);
	tap_ok(b && strcmp(b->repl, "Replaying") == 0 && strcmp(b->flags, "dCASfr") == 0,
	       "beta replaying with flags %s", b->flags);
	tap_ok(!r->split_brain && !r->resolve[0], "no split brain yet");
	snapshot_release(&s);

	{
		char la[512], lb[512];

		plant_link(sf, "alpha", 2, "alpha", 1, "", la, sizeof(la));
		plant_link(sf, "beta", 2, "beta", 1, "", lb, sizeof(lb));
	}
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	r = snapshot_resource(&s, "r0");
	tap_ok(r && r->split_brain && strstr(r->resolve, "marsadm invalidate r0"),
	       "diverging version links are a split brain with a resolution");
out:
	snapshot_release(&s);
	sft_done_tree(&sf);
}

/*
 * lag_s from the logging primary's unapplied- entry (docs/state-tree.md
 * 3.6): the age of beta's oldest unapplied write, 0 when it has none; the
 * replay links' stamp difference only while the primary publishes none.
 */
static void
test_snapshot_lag_time(void)
{
	const struct snap_replica *b;
	char v[128];
	struct statefs *sf = NULL;
	struct snapshot s;
	uint64_t now = statefs_realtime_ns();

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "1");
	snprintf(v, sizeof(v), "log-000000002-alpha,1000,%llu",
		 (unsigned long long)(now - 42 * STATEFS_NS_PER_S));
	sft_set(sf, "resource-r0/actual-alpha/unapplied-beta", v);
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	b = snapshot_resource(&s, "r0") ? snap_resource_replica(snapshot_resource(&s, "r0"), "beta") :
					  NULL;
	tap_ok(b && b->lag_s >= 42 && b->lag_s < 52, "lag_s is the age of the published stamp: %.1f",
	       b ? b->lag_s : -1);
	snapshot_release(&s);
	sft_set(sf, "resource-r0/actual-alpha/unapplied-beta", "log-000000002-alpha,5000,0");
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	b = snap_resource_replica(snapshot_resource(&s, "r0"), "beta");
	tap_ok(b && b->lag_s == 0 && b->lag_bytes == 4000,
	       "stamp 0: nothing unapplied, 0 s (whatever the bytes behind the replay link)");
	snapshot_release(&s);
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "0");
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	b = snap_resource_replica(snapshot_resource(&s, "r0"), "beta");
	tap_ok(b && b->lag_s >= 0 && b->lag_s < 5,
	       "a primary that does not log: its entry is not used (%.1f)", b ? b->lag_s : -1);
	snapshot_release(&s);
	sft_done_tree(&sf);
}

/* beta's disk and repl words after planting @key = @value. */
static void
beta_words(struct statefs *sf, const char *key, const char *value, char *disk, char *repl)
{
	const struct snap_resource *r;
	const struct snap_replica *b = NULL;
	struct snapshot s;

	sft_set(sf, key, value);
	disk[0] = repl[0] = '\0';
	if (snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S) < 0)
		return;
	r = snapshot_resource(&s, "r0");
	if (r)
		b = snap_resource_replica(r, "beta");
	if (b) {
		snprintf(disk, 64, "%s", b->disk);
		snprintf(repl, 64, "%s", b->repl);
	}
	snapshot_release(&s);
}

/*
 * A paused fetch or replay of a replica that has caught up is
 * OutDated[F] / OutDated[R] (the view model's words); Pausing* until the
 * host's running daemon echoed the switch (acted-KEY).  A lagging one
 * is OutDated[FR] whatever its switches.
 */
static void
test_snapshot_paused(void)
{
	static const struct { const char *key, *value, *disk, *repl, *what; } steps[] = {
		{ "replay-beta", "log-000000002-alpha,5000,0", "UpToDate", "Replaying",
		  "caught up" },
		{ "todo-beta/connect", "0", "OutDated[F]", "PausingFetch",
		  "fetch off, not yet carried out" },
		{ "actual-beta/acted-connect", "0", "OutDated[F]", "PausedFetch",
		  "fetch off, carried out" },
		{ "todo-beta/connect", "1", "UpToDate", "Replaying", "fetch on again" },
		{ "todo-beta/allow-replay", "0", "OutDated[R]", "PausingReplay",
		  "replay off, not yet carried out" },
		{ "actual-beta/acted-allow-replay", "0", "OutDated[R]", "PausedReplay",
		  "replay off, carried out" },
		{ "replay-beta", "log-000000002-alpha,1000,0", "OutDated[FR]", "PausedReplay",
		  "replay off, lagging" },
		{ "todo-beta/allow-replay", "1", "OutDated[FR]", "Replaying",
		  "both on, lagging" },
	};
	char key[STATEFS_PATH_MAX + 1], disk[64], repl[64];
	struct statefs *sf = NULL;
	size_t i;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(key, sizeof(key), "resource-r0/%s", steps[i].key);
		beta_words(sf, key, steps[i].value, disk, repl);
		tap_ok(!strcmp(disk, steps[i].disk) && !strcmp(repl, steps[i].repl), "%s: %s %s",
		       steps[i].what, disk, repl);
	}
	sft_done_tree(&sf);
}

static void
test_api_and_metrics(void)
{
	struct statefs *sf = NULL;
	struct snapshot s;
	struct metrics_extra x = { .history_samples = -1 };
	struct json_object *o, *res, *rep, *dev;
	char *doc, *text, *line, *save;
	size_t len;
	int bad = 0, samples = 0;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	doc = api_resources(&s, &len);
	o = doc ? json_tokener_parse(doc) : NULL;
	tap_ok(o != NULL && len == strlen(doc), "resources document parses as JSON");
	res = o ? json_object_array_get_idx(json_object_object_get(o, "resources"), 0) : NULL;
	rep = res ? json_object_array_get_idx(json_object_object_get(res, "replicas"), 1) : NULL;
	dev = rep ? json_object_object_get(rep, "device") : NULL;
	tap_ok(dev && strcmp(json_object_get_string(dev), HOSTILE) == 0,
	       "markup in a device path round-trips as a plain string");
	json_object_put(o);
	free(doc);

	text = metrics_render(&s, &x, &len);
	tap_ok(text != NULL, "metrics render");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			bad += strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0;
			continue;
		}
		samples++;
		/* name{labels} value: the value after the last space must parse. */
		char *sp = strrchr(line, ' '), *end;

		if (!sp || (strtod(sp + 1, &end), *end != '\0'))
			bad++;
	}
	tap_ok(bad == 0 && samples > 10, "metrics: %d samples, %d malformed lines", samples, bad);
	free(text);
	snapshot_release(&s);
	sft_done_tree(&sf);
}

/* The daemon publishes its pulls' refusals in the node's counters file,
 * where the serving ends count theirs: mars_gossip_refusals_total and the
 * API report the sum by reason. */
static void
test_metrics_serve_refusals(void)
{
	struct statefs *sf = NULL;
	struct snapshot s;
	struct metrics_extra x = { .history_samples = -1 };
	char *text;
	size_t len;

	sft_new_tree(&sf, "alpha");
	plant_cluster(sf);
	statefs_counter_add(sf, "policy", 3);	/* the daemon's, published */
	statefs_counter_add(sf, "policy", 4);	/* a serving end's */
	statefs_counter_add(sf, "applied", 12);
	statefs_counter_add(sf, "identity", 2);
	statefs_counter_add(sf, "key", 1);	/* a member key kept out (keys.c) */
	statefs_counter_add(sf, "unvouched", 1);	/* the fetcher's */
	statefs_counter_add(sf, "settings_invalid", 5);
	snapshot_take(&s, sf, 60ULL * STATEFS_NS_PER_S);
	text = metrics_render(&s, &x, &len);
	tap_ok(text && strstr(text, "\nmars_gossip_refusals_total{reason=\"policy\"} 7\n") &&
	       strstr(text, "\nmars_gossip_refusals_total{reason=\"identity\"} 2\n") &&
	       strstr(text, "\nmars_gossip_refusals_total{reason=\"fetch\"} 0\n") &&
	       strstr(text, "\nmars_gossip_refusals_total{reason=\"key\"} 1\n") &&
	       strstr(text, "\nmars_gossip_refusals_total{reason=\"owner\"} 0\n") &&
	       strstr(text, "\nmars_gossip_refusals_total{reason=\"unvouched\"} 1\n"),
	       "metrics: refusals are the daemon's plus the serving ends' counters file");
	tap_ok(text && strstr(text, "\nmars_settings_invalid_total 5\n"),
	       "metrics: tree settings the driver ignored, from the counters file");
	free(text);
	text = api_cluster(&s, &len);
	tap_ok(text && strstr(text, "\"refused_policy\":7") && strstr(text, "\"applied\":12"),
	       "api cluster: the gossip counters come from the counters file");
	tap_ok(text && strstr(text, "\"refusals\":{") && strstr(text, "\"policy\":7") &&
	       strstr(text, "\"identity\":2") && strstr(text, "\"fetch\":0"),
	       "api cluster: the same refusals as the metrics, the serving ends' included");
	free(text);
	snapshot_release(&s);
	sft_done_tree(&sf);
}

static void
test_escape_and_listen(void)
{
	char out[64];
	struct sockaddr_storage ss;
	unsigned len;

	metrics_label_escape(out, sizeof(out), "a\"b\\c\nd");
	tap_ok(strcmp(out, "a\\\"b\\\\c\\nd") == 0, "label values escaped: %s", out);
	tap_ok(http_parse_listen("127.0.0.1:7780", &ss, &len) == 0 && ss.ss_family == AF_INET,
	       "IPv4 listen address");
	tap_ok(http_parse_listen("[::1]:80", &ss, &len) == 0 && ss.ss_family == AF_INET6,
	       "IPv6 listen address");
	tap_ok(http_parse_listen("localhost:80", &ss, &len) == 0 &&
	       (ss.ss_family == AF_INET || ss.ss_family == AF_INET6), "a listen name resolved");
	tap_ok(http_parse_listen("127.0.0.1:99999", &ss, &len) < 0 &&
	       http_parse_listen("127.0.0.1", &ss, &len) < 0, "bad listen addresses refused");
}

static void
test_host_check(void)
{
	const char *names[] = { "127.0.0.1", "localhost", "::1", "alpha" };
	struct sockaddr_storage ss;
	unsigned len;

	tap_ok(http_host_allowed("127.0.0.1:7780", names, 4, 0) &&
	       http_host_allowed("LocalHost.", names, 4, 0) &&
	       http_host_allowed("[::1]:7780", names, 4, 0) &&
	       http_host_allowed("alpha", names, 4, 0) && http_host_allowed(NULL, names, 4, 0),
	       "Host: the server's names, with port, case or final dot, and none at all");
	tap_ok(!http_host_allowed("evil.example:7780", names, 4, 0) &&
	       !http_host_allowed("localhost.evil.example", names, 4, 0) &&
	       !http_host_allowed("alpha:80x", names, 4, 0) &&
	       !http_host_allowed("::1", names, 4, 0) && !http_host_allowed("", names, 4, 0) &&
	       !http_host_allowed("10.0.0.1", names, 4, 0),
	       "Host: other names, malformed ports, bare IPv6, empty refused");
	tap_ok(http_host_allowed("10.0.0.1:7780", names, 4, 1) &&
	       http_host_allowed("[fe80::1]", names, 4, 1) &&
	       !http_host_allowed("evil.example", names, 4, 1),
	       "Host: a wildcard bind answers IP literals, not other names");
	tap_ok(http_listen_is_loopback("127.0.0.1:1") == 1 &&
	       http_listen_is_loopback("127.3.2.1:1") == 1 &&
	       http_listen_is_loopback("[::1]:1") == 1 &&
	       http_listen_is_loopback("[::ffff:127.0.0.1]:1") == 1,
	       "loopback listen addresses");
	tap_ok(http_listen_is_loopback("0.0.0.0:1") == 0 &&
	       http_listen_is_loopback("[::]:1") == 0 &&
	       http_listen_is_loopback("10.1.2.3:1") == 0 &&
	       http_listen_is_loopback("x") < 0, "other listen addresses are not loopback");
	tap_ok(http_parse_listen("0.0.0.0:1", &ss, &len) == 0 &&
	       http_addr_is_any((struct sockaddr *)&ss), "0.0.0.0 is the wildcard");
}

/* Write @text to @path with @mode, then read the token back. */
static int
token_file(const char *path, const char *text, mode_t mode, char *tok, size_t toklen,
	   char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	err[0] = '\0';
	return http_token_read(path, tok, toklen, err, errlen);
}

static void
test_token_file(void)
{
	char path[4200], tok[HTTP_TOKEN_MAX + 1], err[512];

	sft_mkroot();
	snprintf(path, sizeof(path), "%s/token", sft_root);
	tap_ok(token_file(path, "s3cret\n", 0600, tok, sizeof(tok), err, sizeof(err)) == 0 &&
	       strcmp(tok, "s3cret") == 0, "token read from a 0600 file: %s", err);
	tap_ok(token_file(path, "s3cret\n", 0644, tok, sizeof(tok), err, sizeof(err)) == -EPERM &&
	       strstr(err, "chmod 600"), "a world-readable token file refused: %s", err);
	tap_ok(token_file(path, "s3cret\n", 0640, tok, sizeof(tok), err, sizeof(err)) == -EPERM,
	       "a group-readable token file refused");
	tap_ok(token_file(path, "\n", 0600, tok, sizeof(tok), err, sizeof(err)) == -EINVAL &&
	       token_file(path, "a b\n", 0600, tok, sizeof(tok), err, sizeof(err)) == -EINVAL &&
	       token_file(path, "a\nb\n", 0600, tok, sizeof(tok), err, sizeof(err)) == -EINVAL,
	       "empty, spaced or two-line tokens refused: %s", err);
	tap_ok(token_file(path, "0123456789", 0600, tok, 8, err, sizeof(err)) == -EFBIG,
	       "an overlong token refused: %s", err);
	tap_ok(http_token_read(sft_root, tok, sizeof(tok), err, sizeof(err)) < 0,
	       "a directory refused: %s", err);
}

static int
count_cb(const struct db_event *ev, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_db(void)
{
	char path[4200], err[256] = "";
	struct stat st;
	struct db *db;
	struct db_sample smp = { .resource = "r0", .host = "beta", .lag_bytes = 7 };
	struct db_event ev = { .t_ms = 1000, .kind = "role", .resource = "r0", .host = "a",
			       .detail = "x" };
	int n = 0;

	sft_mkroot();
	snprintf(path, sizeof(path), "%s/status.db", sft_root);
	tap_ok(db_open(&db, path, err, sizeof(err)) == 0, "create database: %s", err);
	for (int i = 0; i < 10; i++) {
		smp.t_ms = 1000 + i;
		db_samples_add(db, &smp, 1);
		ev.t_ms = 1000 + i;
		db_event_add(db, &ev);
	}
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	       "database created 0600 (mode %04o)", (unsigned)(st.st_mode & 0777));
	tap_ok(db_count_samples(db) == 10 && ev.id == 10, "ten samples and events");
	tap_ok(db_prune(db, 2000, 995, 100) == 0, "prune by age");
	tap_ok(db_count_samples(db) == 5, "pruned by age: %lld left",
	       (long long)db_count_samples(db));
	tap_ok(db_prune(db, 2000, 100000, 3) == 0 && db_count_samples(db) == 3 &&
	       db_count_events(db) == 3, "pruned by rows");
	db_close(db);
	chmod(path, 0644);
	tap_ok(db_open(&db, path, err, sizeof(err)) == 0 && db_count_events(db) == 3,
	       "history survives reopening");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && strstr(err, "tightened"),
	       "a readable database is tightened to 0600, with a note: %s", err);
	db_events_foreach(db, 8, 10, count_cb, &n);
	tap_ok(n == 2, "events after id 8: %d", n);
	db_close(db);
	{
		sqlite3 *h;

		if (sqlite3_open(path, &h) != SQLITE_OK ||
		    sqlite3_exec(h, "UPDATE meta SET value = '99'", NULL, NULL, NULL) != SQLITE_OK)
			tap_diag("could not rewrite the schema version");
		sqlite3_close(h);
	}
	tap_ok(db_open(&db, path, err, sizeof(err)) == -EPROTO && strstr(err, "version 99"),
	       "another schema version is refused: %s", err);
	sft_rmtree(sft_root);
}

int
main(void)
{
	test_snapshot();
	test_snapshot_split();
	test_snapshot_lag_time();
	test_snapshot_paused();
	test_sync_rates();
	test_api_and_metrics();
	test_metrics_serve_refusals();
	test_escape_and_listen();
	test_host_check();
	test_token_file();
	test_db();
	return tap_done();
}
