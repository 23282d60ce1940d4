/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The view model (view/) on crafted trees: the words of a replica seen
 * from this node and from another, the inputs every caller passes in
 * (now, the silent window, whether the host is this node), the rule that
 * settled the one known difference between `marsadm view` and the status
 * page (Paused or Pausing without an acted- key), roles with two actual
 * primaries, lag over several logfiles, emergency by either key, and the
 * primary's logfile counted to its log end, not over its preallocated zeros.
 */
#include "statefs_test.h"

#include <fcntl.h>

#include "view/view.h"

/* alpha primary and logging, beta secondary behind it in logfile 1. */
static void
plant(struct statefs *sf)
{
	static const char *const kv[][2] = {
		{ "actual-alpha/time", "1" }, { "actual-beta/time", "1" },
		{ "resource-r0/size", "1000" }, { "resource-r0/primary", "alpha" },
		{ "resource-r0/data-alpha", "/" }, { "resource-r0/data-beta", "/" },
		{ "resource-r0/syncstatus-alpha", "1000" }, { "resource-r0/syncstatus-beta", "1000" },
		{ "resource-r0/replay-alpha", "log-000000003-alpha,700,0" },
		{ "resource-r0/replay-beta", "log-000000001-alpha,100,0" },
		{ "resource-r0/todo-alpha/attach", "1" }, { "resource-r0/todo-beta/attach", "1" },
		{ "resource-r0/todo-beta/connect", "1" }, { "resource-r0/todo-beta/allow-replay", "1" },
		{ "resource-r0/todo-beta/sync", "1" },
		{ "resource-r0/actual-alpha/is-attached", "1" },
		{ "resource-r0/actual-alpha/is-primary", "1" },
		{ "resource-r0/actual-beta/is-attached", "1" },
		{ "resource-r0/actual-beta/is-primary", "0" },
	};

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		sft_set(sf, kv[i][0], kv[i][1]);
}

/* A local logfile of @size bytes in resource r0. */
static void
plant_file(const char *name, off_t size)
{
	char path[4096 + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/resource-r0/%s", sft_root, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0) {
		printf("Bail out! cannot create %s\n", path);
		exit(99);
	}
	close(fd);
}

/* This node's driver status file, written at @updated_ns (format 1). */
static void
plant_driver_status(uint64_t updated_ns)
{
	char path[4096 + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/resource-r0/.driver-status", sft_root);
	f = fopen(path, "w");
	if (!f || fprintf(f, "version=1\nupdated_ns=%llu\naction=idle\n",
			  (unsigned long long)updated_ns) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(99);
	}
}

struct words {
	char role[VIEW_WORD_BYTES], disk[VIEW_WORD_BYTES], repl[VIEW_WORD_BYTES], flags[7];
	uint64_t lag_bytes, lag_ns;
};

/* The words of @host's replica with inputs @in; 0 or -errno. */
static int
words_of(struct statefs *sf, const char *host, const struct view_inputs *in, struct words *w)
{
	struct view_res *v = calloc(1, sizeof(*v));
	char buf[VIEW_WORD_BYTES];
	int ret;

	if (!v)
		return -ENOMEM;
	ret = view_load(sf, "r0", host, in, v);
	if (ret == 0) {
		snprintf(w->role, sizeof(w->role), "%s", view_role(v));
		snprintf(w->disk, sizeof(w->disk), "%s", view_diskstate(v, buf, sizeof(buf)));
		snprintf(w->repl, sizeof(w->repl), "%s", view_replstate(v));
		view_flags(v, w->flags);
		w->lag_bytes = v->lag_bytes;
		w->lag_ns = v->lag_ns;
	}
	view_release(v);
	free(v);
	return ret;
}

static void
inputs(struct view_inputs *in, int local, uint64_t later_ns, uint64_t silent_ns)
{
	in->now_ns = statefs_realtime_ns() + later_ns;
	in->silent_ns = silent_ns;
	in->local = local;
}

/* alpha's and beta's version links of logfile 2 name different origins. */
static void
plant_link_split(struct statefs *sf)
{
	static const char *const hosts[] = { "alpha", "beta" };
	char name[STATEFS_NAME_MAX + 32], key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1];

	for (int i = 0; i < 2; i++) {
		if (repl_version_make(val, sizeof(val), 2, hosts[i], 1, "") < 0 ||
		    mars_vername_format(name, sizeof(name), 2, hosts[i]) < 0) {
			printf("Bail out! cannot make a version link\n");
			exit(99);
		}
		snprintf(key, sizeof(key), "resource-r0/%s", name);
		sft_set(sf, key, val);
	}
}

/* view_load_member() from alpha's model gives beta's words as view_load(). */
static void
test_load_member(void)
{
	struct view_res *v = calloc(3, sizeof(*v));
	struct view_inputs in;
	struct statefs *sf = NULL;
	char ba[VIEW_WORD_BYTES], bb[VIEW_WORD_BYTES], fa[7], fb[7];

	if (!v)
		exit(99);
	sft_new_tree(&sf, "alpha");
	plant(sf);
	plant_link_split(sf);
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	view_load(sf, "r0", "alpha", &in, &v[0]);
	in.local = 0;
	tap_ok(view_load(sf, "r0", "beta", &in, &v[1]) == 0 &&
	       view_load_member(sf, &v[0], "beta", &in, &v[2]) == 0, "beta both ways");
	view_flags(&v[1], fa);
	view_flags(&v[2], fb);
	tap_ok(!strcmp(view_diskstate(&v[1], ba, sizeof(ba)), view_diskstate(&v[2], bb, sizeof(bb))) &&
	       !strcmp(fa, fb) && v[1].lag_bytes == v[2].lag_bytes &&
	       v[1].split_brain == v[2].split_brain && v[2].split_brain,
	       "the same words, lag and split brain: %s %s %d", bb, fb, v[2].split_brain);
	for (int i = 0; i < 3; i++)
		view_release(&v[i]);
	free(v);
	sft_done_tree(&sf);
}

/* Another host's replica: lag from the tree, counted as fetch and replay. */
static void
test_remote_words(void)
{
	struct view_inputs in;
	struct statefs *sf = NULL;
	struct words w;

	sft_new_tree(&sf, "alpha");
	plant(sf);
	plant_file("log-000000001-alpha", 400);
	plant_file("log-000000002-alpha", 250);
	inputs(&in, 0, 0, VIEW_WINDOW_NS);
	memset(&w, 0, sizeof(w));
	tap_ok(words_of(sf, "beta", &in, &w) == 0, "beta loads as another host");
	tap_ok(w.lag_bytes == 300 + 250 + 700,
	       "lag: rest of logfile 1, all of 2, 3 up to the primary: %llu",
	       (unsigned long long)w.lag_bytes);
	tap_ok(!strcmp(w.role, "Secondary") && !strcmp(w.disk, "OutDated[FR]") &&
	       !strcmp(w.repl, "Replaying") && !strcmp(w.flags, "dCASfr"),
	       "lagging secondary: %s %s %s %s", w.role, w.disk, w.repl, w.flags);
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.role, "Primary") &&
	       !strcmp(w.repl, "Replicating") && !strcmp(w.flags, "DCAS--") && w.lag_bytes == 0,
	       "primary as itself: %s %s %s lag %llu", w.role, w.repl, w.flags,
	       (unsigned long long)w.lag_bytes);
	sft_set(sf, "resource-r0/replay-beta", "log-000000003-alpha,700,0");
	inputs(&in, 0, 0, VIEW_WINDOW_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.disk, "UpToDate") && !strcmp(w.flags, "dCASFR") && w.lag_bytes == 0 &&
	       w.lag_ns == 0, "caught up: %s %s", w.disk, w.flags);
	sft_done_tree(&sf);
}

/*
 * The one difference the two rule sets had: a switch turned off with no
 * acted- key at all.  Pausing only while the host's daemon runs (a live
 * heartbeat for another host, a fresh driver status for this one);
 * without one nothing is in flight: Paused.
 */
static void
test_paused_without_acted(void)
{
	struct view_inputs in;
	struct statefs *sf = NULL;
	struct words w;

	sft_new_tree(&sf, "alpha");
	plant(sf);
	sft_set(sf, "resource-r0/todo-beta/connect", "0");
	inputs(&in, 0, 0, VIEW_WINDOW_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.repl, "PausingFetch"), "daemon alive, not carried out: %s", w.repl);
	inputs(&in, 0, 2 * SFT_HOUR_NS, 3 * SFT_HOUR_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.repl, "PausingFetch"), "the silent window is the caller's: %s", w.repl);
	inputs(&in, 0, 2 * SFT_HOUR_NS, VIEW_WINDOW_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.repl, "UnResponsive"), "heartbeat older than the window: %s", w.repl);
	sft_set(sf, "resource-r0/todo-alpha/connect", "0");
	sft_set(sf, "resource-r0/primary", "beta");
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "0");
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "PausedFetch"),
	       "this node without a fresh driver status: nothing in flight: %s", w.repl);
	sft_set(sf, "resource-r0/actual-alpha/acted-connect", "1");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "PausedFetch"), "... whatever acted- says: %s", w.repl);
	plant_driver_status(in.now_ns);
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "PausingFetch"),
	       "a fresh driver status and acted- 1: not yet carried out: %s", w.repl);
	sft_set(sf, "resource-r0/actual-alpha/acted-connect", "0");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "PausedFetch"), "acted- 0: carried out: %s", w.repl);
	sft_done_tree(&sf);
}

/* Two actual primaries: the designated one is forced, the other remains. */
static void
test_roles(void)
{
	struct view_inputs in;
	struct statefs *sf = NULL;
	struct words w;

	sft_new_tree(&sf, "alpha");
	plant(sf);
	sft_set(sf, "resource-r0/actual-beta/is-primary", "1");
	inputs(&in, 0, 0, VIEW_WINDOW_NS);
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.role, "ForcedPrimary"), "designated and one of two: %s", w.role);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.role, "RemainsPrimary") && w.flags[0] == 'D',
	       "the other: %s %s", w.role, w.flags);
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "0");
	sft_set(sf, "resource-r0/actual-beta/is-primary", "0");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.role, "NotYetPrimary") && !strcmp(w.repl, "NotYetPrimary"),
	       "designated, not reporting is-primary: %s %s", w.role, w.repl);
	sft_done_tree(&sf);
}

/* What only this node can know is used only for its own replica. */
static void
test_local_only(void)
{
	struct view_inputs in;
	struct statefs *sf = NULL;
	struct words w;

	sft_new_tree(&sf, "alpha");
	plant(sf);
	sft_set(sf, "resource-r0/data-beta", "/nonexistent/device");
	inputs(&in, 0, 0, VIEW_WINDOW_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(strcmp(w.disk, "NotPresent") != 0, "another host's device is not looked at: %s",
	       w.disk);
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	words_of(sf, "beta", &in, &w);
	tap_ok(!strcmp(w.disk, "NotPresent"), "this node's own device is: %s", w.disk);
	sft_done_tree(&sf);
}

/* Emergency from the resource's is-emergency or the host's emergency. */
static void
test_emergency(void)
{
	struct view_inputs in;
	struct statefs *sf = NULL;
	struct words w;

	sft_new_tree(&sf, "alpha");
	plant(sf);
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	sft_set(sf, "actual-alpha/emergency", "1");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "EmergencyMode"), "actual-HOST/emergency > 0: %s", w.repl);
	sft_set(sf, "actual-alpha/emergency", "0");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "Replicating"), "and 0 again: %s", w.repl);
	sft_set(sf, "resource-r0/actual-alpha/is-emergency", "1");
	words_of(sf, "alpha", &in, &w);
	tap_ok(!strcmp(w.repl, "EmergencyMode"), "is-emergency 1: %s", w.repl);
	sft_done_tree(&sf);
}

/* The primary's logfile with preallocated zeros after its log end: the
 * amounts count the driver's log end, not the file's size. */
static void
test_logging_bytes(void)
{
	struct view_res *v = calloc(1, sizeof(*v));
	struct view_inputs in;
	struct statefs *sf = NULL;
	char path[4096 + 64];
	FILE *f;
	int ok;

	if (!v)
		exit(99);
	sft_new_tree(&sf, "alpha");
	plant(sf);
	plant_file("log-000000003-alpha", 700 + (4 << 20));
	snprintf(path, sizeof(path), "%s/resource-r0/.driver-status", sft_root);
	f = fopen(path, "w");
	if (!f || fprintf(f, "version=1\nupdated_ns=%llu\naction=idle\n"
			  "log_name=log-000000003-alpha\nlog_end=1000\nlog_durable=1000\n"
			  "pending_bytes=0\n", (unsigned long long)statefs_realtime_ns()) < 0 ||
	    fclose(f) != 0)
		exit(99);
	inputs(&in, 1, 0, VIEW_WINDOW_NS);
	ok = view_load(sf, "r0", "alpha", &in, v) == 0 && v->drv.logging;
	tap_ok(ok && v->fetch_pos_bytes == 1000 && v->replay_rest_bytes == 300,
	       "the logfile being written counts to its log end 1000, not its size "
	       "(held %llu, %llu behind the replay link)", (unsigned long long)v->fetch_pos_bytes,
	       (unsigned long long)v->replay_rest_bytes);
	view_release(v);
	free(v);
	sft_done_tree(&sf);
}

int
main(void)
{
	test_logging_bytes();
	test_remote_words();
	test_paused_without_acted();
	test_roles();
	test_local_only();
	test_emergency();
	test_load_member();
	return tap_done();
}
