/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Split-brain detection (repl/split.c) over histories built in memory:
 * equal, lagging, two primaries, an early end, duplicate logfiles, and
 * forged links that must not count.
 */
#include <string.h>

#include "repl/repl.h"
#include "tap.h"

/* Append to @h the chain of @host: logfiles 1..n of @origins[i] with @lens[i]. */
static void
chain(struct repl_history *h, const char *host, int n, const char *const *origins,
      const unsigned *lens, const char *start_prev)
{
	char prev[1024], v[1024];
	struct repl_version pv;
	int i;

	repl_version_make(v, sizeof(v), 0, "alpha", 0, NULL);
	repl_history_add_link(h, host, v);
	repl_version_parse(v, &pv);
	strcpy(prev, start_prev ? start_prev : pv.section);
	for (i = 0; i < n; i++) {
		repl_version_make(v, sizeof(v), (uint64_t)i + 1, origins[i], lens[i], prev);
		repl_history_add_link(h, host, v);
		repl_version_parse(v, &pv);
		strcpy(prev, pv.section);
	}
	repl_history_sort(h);
}

static const char *const aa[] = { "alpha", "alpha", "alpha" };
static const char *const ab[] = { "alpha", "beta", "beta" };

static void
test_equal_and_lag(void)
{
	struct repl_history h = { 0 };
	struct repl_split s;
	unsigned l1[] = { 100, 200, 300 }, l2[] = { 100, 200, 50 };

	chain(&h, "alpha", 3, aa, l1, NULL);
	chain(&h, "beta", 3, aa, l1, NULL);
	tap_ok(repl_split_detect(&h, &s) == 0, "equal histories: no split");
	repl_history_release(&h);
	chain(&h, "alpha", 3, aa, l1, NULL);
	chain(&h, "beta", 3, aa, l2, NULL);
	tap_ok(repl_split_detect(&h, &s) == 0, "shorter last logfile, nothing later: lag");
	repl_history_release(&h);
	chain(&h, "alpha", 3, aa, l1, NULL);
	chain(&h, "beta", 1, aa, l1, NULL);
	tap_ok(repl_split_detect(&h, &s) == 0, "fewer logfiles: lag");
	repl_history_release(&h);
}

static void
test_two_primaries(void)
{
	struct repl_history h = { 0 };
	struct repl_split s;
	unsigned la[] = { 100, 200, 300 }, lb[] = { 100, 40, 2 };

	chain(&h, "alpha", 3, aa, la, NULL);
	chain(&h, "beta", 3, ab, lb, NULL);
	tap_ok(repl_split_detect(&h, &s) == 1 && s.nr == 2 && s.pos_bytes == 0 && s.common_nr == 1,
	       "two origins for logfile 2: split at 2, common up to 1");
	tap_ok(!strcmp(s.host_a, "alpha") && !strcmp(s.host_b, "beta") &&
	       s.after_a_bytes == 500 && s.after_b_bytes == 42,
	       "amounts after the split: alpha 500, beta 42");
	repl_history_release(&h);
}

static void
test_early_end(void)
{
	struct repl_history h = { 0 };
	struct repl_split s;
	unsigned la[] = { 100, 200 }, lb[] = { 60, 10 };

	chain(&h, "alpha", 2, aa, la, NULL);
	chain(&h, "beta", 2, ab, lb, NULL);
	tap_ok(repl_split_detect(&h, &s) == 1 && s.nr == 1 && s.pos_bytes == 60 &&
	       s.after_a_bytes == 240 && s.after_b_bytes == 10,
	       "beta ended logfile 1 at 60 and went on: split inside logfile 1");
	repl_history_release(&h);
}

static void
test_files_and_forgery(void)
{
	struct repl_history h = { 0 };
	struct repl_split s;
	unsigned l1[] = { 100 };
	char v[1024];

	chain(&h, "alpha", 1, aa, l1, NULL);
	repl_history_add_file(&h, 1, "alpha", 100);
	repl_history_add_file(&h, 2, "alpha", 30);
	repl_history_add_file(&h, 2, "beta", 70);
	repl_history_sort(&h);
	tap_ok(repl_split_detect(&h, &s) == 1 && s.by_files && s.nr == 2 && s.after_a_bytes == 30 &&
	       s.after_b_bytes == 70, "two local logfiles numbered 2: split by files");
	repl_history_release(&h);
	chain(&h, "alpha", 1, aa, l1, NULL);
	repl_version_make(v, sizeof(v), 1, "beta", 100, NULL);
	memset(v, 'a', 64);
	repl_history_add_link(&h, "beta", v);
	tap_ok(h.bad_links == 1 && repl_split_detect(&h, &s) == 0,
	       "a link with a wrong digest is left out and counted");
	repl_history_release(&h);
}

int
main(void)
{
	test_equal_and_lag();
	test_two_primaries();
	test_early_end();
	test_files_and_forgery();
	return tap_done();
}
