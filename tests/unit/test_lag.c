/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lag in time (repl/lag.c): where the first record a member has not
 * applied starts, across logfiles and a handover, up to the primary's
 * durable end; the age of a stamp; and reading the primary's entry from a
 * tree, which only counts while that primary logs.
 */
#include <string.h>

#include "repl/repl.h"
#include "statefs_test.h"
#include "tap.h"

#define S_NS	STATEFS_NS_PER_S

static struct repl_replay
pos(const char *host, uint64_t nr, const char *origin, uint64_t bytes)
{
	struct repl_replay r = { .valid = 1, .nr = nr, .pos_bytes = bytes };

	snprintf(r.host, sizeof(r.host), "%s", host);
	snprintf(r.origin, sizeof(r.origin), "%s", origin);
	return r;
}

/* A history of the local logfiles @f[0..n) only. */
static void
files(struct repl_history *h, const struct repl_logfile *f, size_t n)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < n; i++)
		repl_history_add_file(h, f[i].nr, f[i].origin, f[i].size_bytes);
	repl_history_sort(h);
}

/* Logfile 1 of alpha, 2 of alpha empty (rotated at once), 3 of beta after
 * a handover, written now. */
static const struct repl_logfile handover[] = {
	{ 1, "alpha", 1000 }, { 2, "alpha", 0 }, { 3, "beta", 500 },
};

static void
test_first_unapplied(void)
{
	struct repl_history h;
	struct repl_replay end = pos("beta", 3, "beta", 400), at, m;

	files(&h, handover, 3);
	m = pos("gamma", 1, "alpha", 200);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 1 && at.nr == 1 &&
	       at.pos_bytes == 200 && !strcmp(at.origin, "alpha") && !strcmp(at.host, "gamma"),
	       "behind in its logfile: the record at its own position");
	m = pos("gamma", 1, "alpha", 1000);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 1 && at.nr == 3 &&
	       at.pos_bytes == 0 && !strcmp(at.origin, "beta"),
	       "at the end of a logfile: the next one holding a record (an empty one skipped)");
	m = pos("gamma", 3, "beta", 120);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 1 && at.nr == 3 &&
	       at.pos_bytes == 120, "in the primary's logfile, before its durable end");
	m = pos("gamma", 3, "beta", 400);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 0,
	       "at the durable end: nothing unapplied (the bytes past it do not count)");
	m = pos("gamma", 4, "beta", 0);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 0, "ahead of the end: nothing");
	end = pos("beta", 3, "beta", 0);
	m = pos("gamma", 1, "alpha", 1000);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 0,
	       "the durable end at 0 of a new logfile: what is before it is applied");
	repl_history_release(&h);
}

static void
test_missing_and_invalid(void)
{
	static const struct repl_logfile hole[] = { { 1, "alpha", 1000 }, { 3, "beta", 500 } };
	struct repl_history h;
	struct repl_replay end = pos("beta", 3, "beta", 400), at, m;

	files(&h, hole, 2);
	m = pos("gamma", 1, "alpha", 1000);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == -ENOENT,
	       "a logfile in between missing (emergency hole, deleted): unknown");
	m.valid = 0;
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == -EINVAL,
	       "a member without a replay link: unknown");
	repl_history_release(&h);
}

static void
test_two_origins(void)
{
	static const struct repl_logfile split[] = {
		{ 1, "alpha", 1000 }, { 1, "beta", 300 }, { 2, "alpha", 100 },
	};
	struct repl_history h;
	struct repl_replay end = pos("alpha", 2, "alpha", 100), at, m;

	files(&h, split, 3);
	m = pos("gamma", 1, "beta", 200);
	tap_ok(repl_lag_first_unapplied(&h, &m, &end, &at) == 1 && !strcmp(at.origin, "beta") &&
	       at.pos_bytes == 200, "two logfiles of one number: the member's own origin");
	repl_history_release(&h);
}

static void
test_age(void)
{
	tap_ok(repl_lag_age_ns(0, 100 * S_NS) == 0, "stamp 0 (nothing unapplied): age 0");
	tap_ok(repl_lag_age_ns(90 * S_NS, 100 * S_NS) == 10 * S_NS, "age is now minus the stamp");
	tap_ok(repl_lag_age_ns(101 * S_NS, 100 * S_NS) == 0,
	       "a stamp ahead of this clock (skew): 0, never negative");
}

static void
test_load(void)
{
	struct statefs *sf = NULL;
	uint64_t stamp = 7;

	sft_new_tree(&sf, "gamma");
	tap_ok(repl_lag_load(sf, "r0", "alpha", "beta", &stamp) == 0 && stamp == 0,
	       "no entry: unknown");
	sft_set(sf, "resource-r0/actual-alpha/unapplied-beta", "log-000000003-alpha,4096,1234567");
	tap_ok(repl_lag_load(sf, "r0", "alpha", "beta", &stamp) == 0,
	       "an entry, but the primary does not report logging: unknown");
	sft_set(sf, "resource-r0/actual-alpha/is-primary", "1");
	tap_ok(repl_lag_load(sf, "r0", "alpha", "beta", &stamp) == 1 && stamp == 1234567,
	       "the logging primary's entry: its stamp");
	tap_ok(repl_lag_load(sf, "r0", "alpha", "alpha", &stamp) == 1 && stamp == 0,
	       "the primary itself has nothing unapplied");
	tap_ok(repl_lag_load(sf, "r0", "beta", "gamma", &stamp) == 0,
	       "another host's entries do not count for a primary that publishes none");
	sft_set(sf, "resource-r0/actual-alpha/unapplied-beta", "log-000000003-alpha,4096");
	tap_ok(repl_lag_load(sf, "r0", "alpha", "beta", &stamp) == 0, "a malformed entry: unknown");
	sft_done_tree(&sf);
}

int
main(void)
{
	test_first_unapplied();
	test_missing_and_invalid();
	test_two_origins();
	test_age();
	test_load();
	return tap_done();
}
