/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tombstone collection: kept while any member's heartbeat is older than
 * the tombstone plus the window, collected once all have passed it or
 * after the keep bound; membership tombstones by age only; live keys
 * never; emptied directories removed; stale temporary links swept.
 * Entries are planted with chosen stamps through statefs_merge.
 */
#include "statefs_test.h"

#include <sys/stat.h>

static uint64_t NOW;	/* reference time: real time when the test starts */
#define MIN	(60ULL * STATEFS_NS_PER_S)

/* A tombstone at @stamp for @path (owned by beta or cluster-wide), over a
 * live value of the key's form (a decimal; a host name for primary). */
static void
plant_tombstone(struct statefs *sf, const char *path, uint64_t stamp)
{
	const char *live = strstr(path, "/primary") ? "beta" : "1";

	statefs_merge(sf, path, live, stamp - 1, "beta");
	statefs_merge(sf, path, STATEFS_TOMBSTONE, stamp, "beta");
}

static void
plant_member(struct statefs *sf, const char *host, uint64_t beat)
{
	char key[128];

	snprintf(key, sizeof(key), "ips/ip-%s", host);
	statefs_merge(sf, key, "192.0.2.1", NOW - 1000 * SFT_HOUR_NS, host);
	if (beat) {
		snprintf(key, sizeof(key), "actual-%s/time", host);
		statefs_merge(sf, key, "1", beat, host);
	}
}

static int
present(struct statefs *sf, const char *path)
{
	struct statefs_entry e;

	return statefs_read(sf, path, &e) == 0;
}

static void
test_heartbeats(void)
{
	struct statefs_gc_params p = { .keep_ns = 168 * SFT_HOUR_NS, .window_ns = MIN };
	struct statefs *sf = NULL;

	p.now_ns = NOW;
	sft_new_tree(&sf, "alpha");
	plant_member(sf, "alpha", NOW - 10 * MIN);
	plant_member(sf, "beta", NOW - 5 * MIN);
	plant_tombstone(sf, "resource-r/size", NOW - 12 * MIN);	/* both beat after it */
	plant_tombstone(sf, "resource-r/primary", NOW - 10 * MIN - 30 * STATEFS_NS_PER_S);
	plant_tombstone(sf, "resource-r/maxnr", NOW - 7 * MIN);	/* alpha beat before it */
	statefs_merge(sf, "resource-r/replay-beta", "log-000000001-beta,0,0", NOW - 100 * SFT_HOUR_NS,
		      "beta");
	tap_ok(statefs_gc(sf, &p) == 1, "one tombstone collected");
	tap_ok(!present(sf, "resource-r/size"), "tombstone older than every heartbeat - window: gone");
	tap_ok(present(sf, "resource-r/primary"), "tombstone within the window: kept");
	tap_ok(present(sf, "resource-r/maxnr"), "tombstone newer than a heartbeat: kept");
	tap_ok(present(sf, "resource-r/replay-beta"), "old live key never collected");
	sft_done_tree(&sf);
}

static void
test_missing_heartbeat(void)
{
	struct statefs_gc_params p = { .keep_ns = 168 * SFT_HOUR_NS, .window_ns = MIN };
	struct statefs *sf = NULL;

	p.now_ns = NOW;
	sft_new_tree(&sf, "alpha");
	plant_member(sf, "alpha", NOW - MIN);
	plant_member(sf, "beta", 0);
	plant_tombstone(sf, "resource-r/size", NOW - 100 * SFT_HOUR_NS);
	plant_tombstone(sf, "resource-r/maxnr", NOW - 169 * SFT_HOUR_NS);
	tap_ok(statefs_gc(sf, &p) == 1 && present(sf, "resource-r/size") &&
	       !present(sf, "resource-r/maxnr"),
	       "member without heartbeat blocks collection until the keep bound");
	sft_done_tree(&sf);
}

static void
test_membership_and_dirs(void)
{
	struct statefs_gc_params p = { .keep_ns = 168 * SFT_HOUR_NS, .window_ns = MIN };
	struct statefs *sf = NULL;

	p.now_ns = NOW;
	sft_new_tree(&sf, "alpha");
	plant_member(sf, "alpha", NOW - MIN);
	plant_tombstone(sf, "ips/ip-gamma", NOW - 10 * SFT_HOUR_NS);
	plant_tombstone(sf, "ips/ip-delta", NOW - 200 * SFT_HOUR_NS);
	plant_tombstone(sf, "resource-x/size", NOW - 2 * SFT_HOUR_NS);
	plant_tombstone(sf, "resource-x/todo-beta/attach", NOW - 2 * SFT_HOUR_NS);
	tap_ok(statefs_gc(sf, &p) == 3, "three tombstones collected");
	tap_ok(present(sf, "ips/ip-gamma") && !present(sf, "ips/ip-delta"),
	       "membership tombstones only by age");
	tap_ok(statefs_is_dir(sf, "resource-x") == 0, "emptied resource directory removed");
	tap_ok(statefs_is_dir(sf, "ips") == 1, "directory still holding a key kept");
	sft_done_tree(&sf);
}

static void
test_no_members_and_defaults(void)
{
	struct statefs *sf = NULL;
	uint64_t now = statefs_realtime_ns();

	sft_new_tree(&sf, "alpha");
	plant_tombstone(sf, "resource-r/size", now - 2 * SFT_HOUR_NS);
	plant_tombstone(sf, "resource-r/maxnr", now - 200 * SFT_HOUR_NS);
	tap_ok(statefs_gc(sf, NULL) == 1 && present(sf, "resource-r/size") &&
	       !present(sf, "resource-r/maxnr"), "defaults: 168 h keep bound without members");
	tap_ok(statefs_gc(sf, NULL) == 0, "a second run collects nothing");
	sft_done_tree(&sf);
}

static void
test_tmp_sweep(void)
{
	struct statefs_gc_params p = { .keep_ns = 168 * SFT_HOUR_NS, .window_ns = 0 };
	struct statefs *sf = NULL;
	char path[4400];

	p.now_ns = NOW;
	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-r/size", "1");
	snprintf(path, sizeof(path), "%s/resource-r/.tmp.99999.size", sft_root);
	tap_ok(symlink("2", path) == 0, "stale temporary link planted");
	usleep(10000);
	tap_ok(statefs_gc(sf, &p) == 0 && access(path, F_OK) < 0 &&
	       present(sf, "resource-r/size"), "stale temporary link swept, key kept");
	sft_done_tree(&sf);
}

int
main(void)
{
	NOW = statefs_realtime_ns();
	test_heartbeats();
	test_missing_heartbeat();
	test_membership_and_dirs();
	test_no_members_and_defaults();
	test_tmp_sweep();
	return tap_done();
}
