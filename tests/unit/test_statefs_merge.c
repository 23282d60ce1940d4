/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statefs_merge, every branch: each refusal with its code and counter,
 * create, tombstone not materialised, newer wins, older kept, the equal-
 * stamp tie-breaks, tombstones from non-owners, future stamps bounded,
 * garbage local stamps overwritten, logfiles replaced by tombstones, the
 * clock witnessing, and two trees converging from opposite orders.
 */
#include "statefs_test.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>

#define T0 (1700000000ULL * STATEFS_NS_PER_S)	/* a fixed past stamp */

struct refusal {
	const char *path;
	const char *value;
	uint64_t stamp;
	const char *origin;
	int ret;
	size_t counter;	/* offset into struct statefs_stats */
};

#define CTR(f) offsetof(struct statefs_stats, f)

static const struct refusal refusals[] = {
	{ "uuid", "x", T0, "Beta", -ESRCH, CTR(refused_owner) },
	{ "uuid", "x", T0, "none", -ESRCH, CTR(refused_owner) },
	{ "/uuid", "x", T0, "beta", -EINVAL, CTR(refused_path) },
	{ "resource-r/../uuid", "x", T0, "beta", -EINVAL, CTR(refused_path) },
	{ ".tmp.1.uuid", "x", T0, "beta", -EACCES, CTR(refused_path) },
	{ "resource-r/.tmp.1.size", "x", T0, "beta", -EACCES, CTR(refused_path) },
	{ "etc/passwd", "x", T0, "beta", -EDOM, CTR(refused_path) },
	{ "resource-r/data-gamma", "/dev/x", T0, "beta", -EPERM, CTR(refused_owner) },
	{ "resource-r/todo-alpha/attach", "1", T0, "beta", -EPERM, CTR(refused_owner) },
	{ "resource-r/replay-beta", "a\nb", T0, "beta", -EILSEQ, CTR(refused_value) },
	{ "resource-r/replay-beta", "/etc/shadow", T0, "beta", -EXDEV, CTR(refused_value) },
	{ "resource-r/data-beta", "dev/x", T0, "beta", -EXDEV, CTR(refused_value) },
	{ "resource-r/data-beta", "/dev/../etc", T0, "beta", -EXDEV, CTR(refused_value) },
	/* values of the key's form only (docs/state-tree.md section 2.2) */
	{ "resource-r/size", "1M", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/size", "01", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/size", "18446744073709551616", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/primary", "Beta", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/device-beta", "r 0", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/replay-beta", "log-1-beta,0,0", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/syncpos-beta", "log-000000001-beta,x,0", T0, "beta", -EBADMSG,
	  CTR(refused_value) },
	{ "resource-r/version-000000001-beta", "abc,log-000000001-beta,0:", T0, "beta", -EBADMSG,
	  CTR(refused_value) },
	{ "resource-r/verifystatus-beta", "1", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/log-000000001-beta", "x", T0, "beta", -EBADMSG, CTR(refused_value) },
	{ "resource-r/size", "1", 0, "beta", -ERANGE, CTR(refused_stamp) },
};

static uint64_t
counter(struct statefs *sf, size_t off)
{
	return *(const uint64_t *)((const char *)statefs_stats(sf) + off);
}

static void
test_refusals(void)
{
	char big[STATEFS_VALUE_MAX + 2];
	struct statefs *sf = NULL;
	uint64_t before;
	size_t i;

	sft_new_tree(&sf, "alpha");
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];

		before = counter(sf, r->counter);
		tap_ok(statefs_merge(sf, r->path, r->value, r->stamp, r->origin) == r->ret &&
		       counter(sf, r->counter) == before + 1,
		       "refused %s from %s with %d, counted", r->path, r->origin, r->ret);
	}
	memset(big, 'v', sizeof(big));
	big[STATEFS_VALUE_MAX + 1] = '\0';
	tap_ok(statefs_merge(sf, "uuid", big, T0, "beta") == -E2BIG &&
	       statefs_stats(sf)->refused_value == 15, "over-long value refused, counted");
	tap_ok(statefs_stats(sf)->applied == 0 && sft_stamp(sf, "uuid") == 0 &&
	       statefs_is_dir(sf, "resource-r") == 0, "refusals wrote nothing");
	sft_done_tree(&sf);
}

static void
test_types(void)
{
	char path[4400];
	struct statefs *sf = NULL;
	FILE *f;

	sft_new_tree(&sf, "alpha");
	snprintf(path, sizeof(path), "%s/resource-r", sft_root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/resource-r/size", sft_root);
	mkdir(path, 0700);
	tap_ok(statefs_merge(sf, "resource-r/size", "1", T0, "beta") == -EISDIR &&
	       statefs_stats(sf)->refused_type == 1, "directory in the way: EISDIR, counted");
	snprintf(path, sizeof(path), "%s/resource-r/log-000000001-beta", sft_root);
	f = fopen(path, "w");
	fclose(f);
	snprintf(path, sizeof(path), "%s/resource-r/maxnr", sft_root);
	f = fopen(path, "w");
	fclose(f);
	tap_ok(statefs_merge(sf, "resource-r/maxnr", "1", T0, "beta") == -EEXIST &&
	       statefs_stats(sf)->refused_type == 2, "live value over a regular file: EEXIST, counted");
	tap_ok(statefs_merge(sf, "resource-r/log-000000001-beta", STATEFS_TOMBSTONE, T0, "alpha") == 1 &&
	       sft_stamp(sf, "resource-r/log-000000001-beta") == T0,
	       "tombstone replaces a logfile");
	sft_done_tree(&sf);
}

static void
test_order(void)
{
	struct statefs *sf = NULL;
	struct statefs_entry e;

	sft_new_tree(&sf, "alpha");
	tap_ok(statefs_merge(sf, "resource-r/replay-beta", "log-000000001-beta,0,0", T0, "beta") == 1 &&
	       sft_stamp(sf, "resource-r/replay-beta") == T0 && statefs_stats(sf)->applied == 1,
	       "absent key created with the remote stamp");
	tap_ok(statefs_merge(sf, "resource-r/replay-beta", "log-000000001-beta,9,0", T0 - 1, "beta") == 0 &&
	       statefs_stats(sf)->kept == 1 && strcmp(sft_value(sf, "resource-r/replay-beta"),
					      "log-000000001-beta,0,0") == 0,
	       "older remote kept out");
	tap_ok(statefs_merge(sf, "resource-r/replay-beta", "log-000000001-beta,5,0", T0 + 1, "beta") == 1 &&
	       strstr(sft_value(sf, "resource-r/replay-beta"), ",5,") != NULL,
	       "newer remote wins");
	tap_ok(statefs_merge(sf, "resource-r/size", "10", T0, "beta") == 1 &&
	       statefs_merge(sf, "resource-r/size", "20", T0, "gamma") == 1 &&
	       strcmp(sft_value(sf, "resource-r/size"), "20") == 0,
	       "equal stamps: bytewise larger value wins");
	tap_ok(statefs_merge(sf, "resource-r/size", "15", T0, "beta") == 0 &&
	       strcmp(sft_value(sf, "resource-r/size"), "20") == 0,
	       "equal stamps: smaller value kept out");
	tap_ok(statefs_merge(sf, "resource-r/size", "20", T0, "beta") == 0, "equal entry: no change");
	tap_ok(statefs_merge(sf, "resource-r/size", STATEFS_TOMBSTONE, T0, "beta") == 1 &&
	       statefs_read(sf, "resource-r/size", &e) == 0 && e.tombstone,
	       "equal stamps: tombstone beats a live value");
	tap_ok(statefs_merge(sf, "resource-r/size", "99", T0, "beta") == 0 &&
	       statefs_read(sf, "resource-r/size", &e) == 0 && e.tombstone,
	       "equal stamps: live value does not beat a tombstone");
	tap_ok(statefs_merge(sf, "resource-r/size", "30", T0 + 5, "beta") == 1 &&
	       strcmp(sft_value(sf, "resource-r/size"), "30") == 0, "newer live value revives");
	tap_ok(statefs_merge(sf, "resource-r/size", STATEFS_TOMBSTONE, T0 + 3, "beta") == 0,
	       "older tombstone kept out");
	sft_done_tree(&sf);
}

static void
test_tombstones(void)
{
	struct statefs *sf = NULL;
	struct statefs_entry e;

	sft_new_tree(&sf, "alpha");
	tap_ok(statefs_merge(sf, "resource-r/size", STATEFS_TOMBSTONE, T0, "beta") == 0 &&
	       statefs_stats(sf)->tombstones_ignored == 1 && statefs_is_dir(sf, "resource-r") == 0,
	       "tombstone for an unknown key not materialised, no directory made");
	statefs_merge(sf, "resource-q/size", "1", T0, "beta");
	tap_ok(statefs_merge(sf, "resource-q/data-gamma", STATEFS_TOMBSTONE, T0, "beta") == 0 &&
	       statefs_stats(sf)->tombstones_ignored == 2, "... also inside an existing directory");
	statefs_merge(sf, "resource-q/data-gamma", "/dev/g", T0, "gamma");
	tap_ok(statefs_merge(sf, "resource-q/data-gamma", STATEFS_TOMBSTONE, T0 + 1, "beta") == 1 &&
	       statefs_read(sf, "resource-q/data-gamma", &e) == 0 && e.tombstone &&
	       e.stamp_ns == T0 + 1, "tombstone of gamma's name accepted from beta");
	tap_ok(statefs_merge(sf, "resource-q/data-gamma", "/dev/h", T0 + 2, "beta") == -EPERM,
	       "but no live value of gamma's name from beta");
	sft_done_tree(&sf);
}

static void
test_future(void)
{
	uint64_t now = statefs_realtime_ns(), s;
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "alpha");
	tap_ok(statefs_merge(sf, "uuid", "u1", now + 40 * 24 * SFT_HOUR_NS, "beta") == 1 &&
	       statefs_stats(sf)->future_bounded == 1 &&
	       (s = sft_stamp(sf, "uuid")) >= now && s < now + SFT_HOUR_NS,
	       "stamp 40 days ahead replaced by the local clock");
	tap_ok(statefs_clock_tick(sf, &s) == 0 && s < now + SFT_HOUR_NS,
	       "... and not witnessed by the clock");
	tap_ok(statefs_merge(sf, "resource-r/size", "1", now + 2 * SFT_HOUR_NS, "beta") == 1 &&
	       statefs_clock_tick(sf, &s) == 0 && s > now + 2 * SFT_HOUR_NS,
	       "a stamp 2 hours ahead is kept and witnessed");
	sft_done_tree(&sf);
}

/* A local link with a garbage stamp (written behind statefs's back). */
static void
test_garbage_local(void)
{
	uint64_t now = statefs_realtime_ns();
	struct timespec ts[2];
	struct statefs *sf = NULL;
	char path[4400];

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-r/size", "1");
	snprintf(path, sizeof(path), "%s/resource-r/size", sft_root);
	ts[0].tv_sec = (time_t)((now + 365 * 24 * SFT_HOUR_NS) / STATEFS_NS_PER_S);
	ts[0].tv_nsec = 0;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
	tap_ok(statefs_merge(sf, "resource-r/size", "2", T0, "beta") == 1 &&
	       strcmp(sft_value(sf, "resource-r/size"), "2") == 0,
	       "local stamp a year ahead is overwritten by an older remote");
	sft_done_tree(&sf);
}

static void
apply(struct statefs *sf, int first)
{
	if (first) {
		statefs_merge(sf, "resource-r/primary", "beta", T0 + 7, "beta");
		statefs_merge(sf, "resource-r/primary", "gamma", T0 + 7, "gamma");
	} else {
		statefs_merge(sf, "resource-r/primary", "gamma", T0 + 7, "gamma");
		statefs_merge(sf, "resource-r/primary", "beta", T0 + 7, "beta");
	}
}

static void
test_converge(void)
{
	struct statefs *a = NULL, *b = NULL;
	char root_a[4096], va[64];

	sft_new_tree(&a, "alpha");
	strcpy(root_a, sft_root);
	apply(a, 1);
	strcpy(va, sft_value(a, "resource-r/primary"));
	sft_new_tree(&b, "delta");
	apply(b, 0);
	tap_ok(strcmp(va, sft_value(b, "resource-r/primary")) == 0 && strcmp(va, "gamma") == 0,
	       "two nodes converge whatever the arrival order");
	sft_done_tree(&b);
	statefs_close(&a);
	sft_rmtree(root_a);
}

int
main(void)
{
	test_refusals();
	test_types();
	test_order();
	test_tombstones();
	test_future();
	test_garbage_local();
	test_converge();
	return tap_done();
}
