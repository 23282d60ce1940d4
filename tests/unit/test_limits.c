/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The run-time fetch settings (repl/limits.c): the value grammar of
 * docs/state-tree.md 3.7, reading both levels of a real tree with bad
 * values handed back, and the weighted share of a node limit.
 */
#include <errno.h>
#include <string.h>

#include "repl/repl.h"
#include "statefs_test.h"
#include "tap.h"

static void
test_limit_grammar(void)
{
	static const char *const bad[] = {
		"", "-1", "+1024", "01024", " 1024", "1024 ", "1k", "1024B", "0x400", "00",
		"1e6", "99999999999999999999999", NULL,
	};
	uint64_t v = 7;
	size_t i;

	tap_ok(repl_limit_parse("0", &v) == 0 && v == 0, "limit '0' is no limit");
	tap_ok(repl_limit_parse("1024", &v) == 0 && v == 1024, "limit at the lower bound");
	tap_ok(repl_limit_parse("1099511627776", &v) == 0 && v == REPL_LIMIT_MAX_BPS,
	       "limit at the upper bound (1 TiB/s)");
	tap_ok(repl_limit_parse("1023", &v) == -ERANGE, "limit below 1024 is out of range");
	tap_ok(repl_limit_parse("1099511627777", &v) == -ERANGE, "limit above 1 TiB/s is out of range");
	for (i = 0; bad[i]; i++) {
		v = 7;
		tap_ok(repl_limit_parse(bad[i], &v) == -EINVAL && v == 7,
		       "limit '%s' is not canonical decimal, output untouched", bad[i]);
	}
}

static void
test_weight_grammar(void)
{
	uint64_t v = 0;

	tap_ok(repl_weight_parse("1", &v) == 0 && v == 1, "weight 1");
	tap_ok(repl_weight_parse("10000", &v) == 0 && v == 10000, "weight 10000");
	tap_ok(repl_weight_parse("0", &v) == -ERANGE, "weight 0 is out of range");
	tap_ok(repl_weight_parse("10001", &v) == -ERANGE, "weight 10001 is out of range");
	tap_ok(repl_weight_parse("030", &v) == -EINVAL, "weight with a leading zero");
	tap_ok(repl_weight_parse("3 ", &v) == -EINVAL, "weight with a blank");
}

static void
test_read(void)
{
	struct repl_setting s;
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "beta");
	tap_ok(repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s) == 0 &&
	       s.from == REPL_FROM_NONE && !s.bad[0].present && !s.bad[1].present,
	       "no key: from none");
	sft_set(sf, "resource-r0/defaults/fetch-bwlimit", "2097152");
	repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_DEFAULTS && s.value == 2097152, "the general key");
	sft_set(sf, "resource-r0/defaults-beta/fetch-bwlimit", "0");
	repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_HOST && s.value == 0, "the host's key wins, even with 0");
	repl_setting_read(sf, "r0", "alpha", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_DEFAULTS && s.value == 2097152,
	       "another host's key does not apply here");
	sft_set(sf, "resource-r0/defaults-beta/fetch-bwlimit", "2M");
	repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_DEFAULTS && s.value == 2097152 && s.bad[0].present &&
	       s.bad[0].err == -EINVAL && !strcmp(s.bad[0].value, "2M") &&
	       !strcmp(s.bad[0].key, "resource-r0/defaults-beta/fetch-bwlimit"),
	       "an invalid host key is handed back and falls back to the general one");
	sft_set(sf, "resource-r0/defaults/fetch-bwlimit", "1");
	repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_NONE && s.bad[0].present && s.bad[1].present &&
	       s.bad[1].err == -ERANGE, "both invalid: none applies, both handed back");
	sft_delete(sf, "resource-r0/defaults/fetch-bwlimit");
	sft_delete(sf, "resource-r0/defaults-beta/fetch-bwlimit");
	repl_setting_read(sf, "r0", "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_NONE && !s.bad[0].present && !s.bad[1].present,
	       "tombstones: from none");
	sft_set(sf, "defaults-beta/fetch-bwlimit", "8388608");
	repl_setting_read(sf, NULL, "beta", "fetch-bwlimit", repl_limit_parse, &s);
	tap_ok(s.from == REPL_FROM_HOST && s.value == 8388608, "the node level, at the root");
	sft_set(sf, "resource-r0/defaults-beta/fetch-priority", "300");
	repl_setting_read(sf, "r0", "beta", "fetch-priority", repl_weight_parse, &s);
	tap_ok(s.from == REPL_FROM_HOST && s.value == 300, "a weight");
	sft_done_tree(&sf);
}

static void
test_share(void)
{
	uint64_t w[4] = { 300, 100, 100, 100 }, cap[4] = { 0, 0, 0, 0 }, out[4];
	int busy[4] = { 1, 1, 0, 0 };

	repl_share_bwlimit(4000000, w, cap, busy, 2, out);
	tap_ok(out[0] == 3000000 && out[1] == 1000000, "3:1 weights share 3:1");
	repl_share_bwlimit(0, w, cap, busy, 2, out);
	tap_ok(out[0] == 0 && out[1] == 0, "no node limit: each its own cap (none)");
	cap[0] = 1000000;
	repl_share_bwlimit(4000000, w, cap, busy, 2, out);
	tap_ok(out[0] == 1000000 && out[1] == 3000000,
	       "a capped transfer keeps its cap, the other takes the rest");
	cap[0] = 0;
	busy[2] = 1;
	w[2] = 400;
	cap[1] = 500000;
	repl_share_bwlimit(8000000, w, cap, busy, 3, out);
	tap_ok(out[1] == 500000 && out[0] == 3214285 && out[2] == 4285714,
	       "what a capped one leaves is shared 3:4 among the others (%llu %llu %llu)",
	       (unsigned long long)out[0], (unsigned long long)out[1],
	       (unsigned long long)out[2]);
	memcpy(w, (uint64_t[]){ 100, 100, 100, 100 }, sizeof(w));
	memset(cap, 0, sizeof(cap));
	busy[0] = 1, busy[1] = 1, busy[2] = 0, busy[3] = 0;
	repl_share_bwlimit(3000000, w, cap, busy, 4, out);
	tap_ok(out[0] == 1500000 && out[1] == 1500000 && out[2] == 1000000 && out[3] == 1000000,
	       "equal weights share equally; an idle one holds the share it would join with");
	busy[0] = busy[1] = 0;
	repl_share_bwlimit(3000000, w, cap, busy, 4, out);
	tap_ok(out[0] == 3000000 && out[3] == 3000000, "nobody busy: each could take it all");
	busy[0] = 1;
	w[0] = 1;
	w[1] = 10000;
	busy[1] = 1;
	repl_share_bwlimit(1000, w, cap, busy, 2, out);
	tap_ok(out[0] == 1 && out[1] == 999, "a share rounding to 0 becomes 1, never 'none'");
}

int
main(void)
{
	test_limit_grammar();
	test_weight_grammar();
	test_read();
	test_share();
	return tap_done();
}
