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

#include "clusterd/api.h"
#include "clusterd/db.h"
#include "clusterd/http.h"
#include "clusterd/metrics.h"
#include "clusterd/snapshot.h"

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
}

static void
test_snapshot(void)
{
	struct statefs sf;
	struct snapshot s;
	const struct snap_resource *r;
	const struct snap_replica *a, *b;

	sft_new_tree(&sf, "alpha");
	plant_cluster(&sf);
	tap_ok(snapshot_take(&s, &sf, 60ULL * STATEFS_NS_PER_S) == 0, "snapshot of a tree");
	tap_ok(s.n_members == 2 && s.members[0].alive, "two members, alive");
	r = snapshot_resource(&s, "r0");
	tap_ok(r && r->n_replicas == 2, "one resource with two replicas");
	if (!r || r->n_replicas != 2)
		goto out;
	a = snap_resource_replica(r, "alpha");
	b = snap_resource_replica(r, "beta");
	tap_ok(a && strcmp(a->role, "Primary") == 0 && strcmp(a->repl, "Replicating") == 0,
	       "designated primary stands in for the actual one: %s %s", a->role, a->repl);
	tap_ok(b && strcmp(b->role, "Secondary") == 0, "beta is secondary");
	tap_ok(b && b->lag_bytes == 4000, "lag within one logfile: %llu",
	       (unsigned long long)b->lag_bytes);
	tap_ok(b && strcmp(b->repl, "Replaying") == 0 && strcmp(b->flags, "dCASfr") == 0,
	       "beta replaying with flags %s", b->flags);
	tap_ok(!r->split_brain && !r->resolve[0], "no split brain yet");
	snapshot_release(&s);

	sft_set(&sf, "resource-r0/version-000000002-alpha", "aaaa,log-000000002-alpha,1:");
	sft_set(&sf, "resource-r0/version-000000002-beta", "bbbb,log-000000002-beta,1:");
	snapshot_take(&s, &sf, 60ULL * STATEFS_NS_PER_S);
	r = snapshot_resource(&s, "r0");
	tap_ok(r && r->split_brain && strstr(r->resolve, "marsadm invalidate r0"),
	       "diverging version links are a split brain with a resolution");
out:
	snapshot_release(&s);
	sft_done_tree(&sf);
}

static void
test_api_and_metrics(void)
{
	struct statefs sf;
	struct snapshot s;
	struct metrics_extra x = { .history_samples = -1 };
	struct json_object *o, *res, *rep, *dev;
	char *doc, *text, *line, *save;
	size_t len;
	int bad = 0, samples = 0;

	sft_new_tree(&sf, "alpha");
	plant_cluster(&sf);
	snapshot_take(&s, &sf, 60ULL * STATEFS_NS_PER_S);
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
	tap_ok(http_parse_listen("localhost:80", &ss, &len) < 0 &&
	       http_parse_listen("127.0.0.1:99999", &ss, &len) < 0 &&
	       http_parse_listen("127.0.0.1", &ss, &len) < 0, "bad listen addresses refused");
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
	tap_ok(db_count_samples(db) == 10 && ev.id == 10, "ten samples and events");
	tap_ok(db_prune(db, 2000, 995, 100) == 0, "prune by age");
	tap_ok(db_count_samples(db) == 5, "pruned by age: %lld left",
	       (long long)db_count_samples(db));
	tap_ok(db_prune(db, 2000, 100000, 3) == 0 && db_count_samples(db) == 3 &&
	       db_count_events(db) == 3, "pruned by rows");
	db_close(db);
	tap_ok(db_open(&db, path, err, sizeof(err)) == 0 && db_count_events(db) == 3,
	       "history survives reopening");
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
	test_api_and_metrics();
	test_escape_and_listen();
	test_db();
	return tap_done();
}
