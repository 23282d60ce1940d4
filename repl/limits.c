/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The run-time settings of the fetch (docs/state-tree.md 3.7): the
 * grammar of their values, reading them at both levels of the tree, and
 * sharing a node limit by weight.  marsadm checks a value with the same
 * parser that clusterd applies, so what marsadm writes is what the
 * daemon takes.  The values come from peers: everything is checked here,
 * and a bad value is handed back for the caller to log, never used.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "repl/repl.h"

static int
bounded_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (mars_u64_parse(s, strnlen(s, STATEFS_VALUE_MAX + 1), &v) < 0)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
repl_limit_parse(const char *s, uint64_t *out_bps)
{
	if (strcmp(s, "0") == 0) {
		*out_bps = 0;
		return 0;
	}
	return bounded_parse(s, REPL_LIMIT_MIN_BPS, REPL_LIMIT_MAX_BPS, out_bps);
}

int
repl_weight_parse(const char *s, uint64_t *out_weight)
{
	return bounded_parse(s, REPL_WEIGHT_MIN, REPL_WEIGHT_MAX, out_weight);
}

const char *
repl_from_name(enum repl_from from)
{
	switch (from) {
	case REPL_FROM_NONE:		return "none";
	case REPL_FROM_DEFAULTS:	return "defaults";
	case REPL_FROM_HOST:		return "defaults-HOST";
	}
	return "none";
}

/* One level: 1 valid (into @out), 0 absent, -1 invalid (kept in @bad). */
static int
level_read(struct statefs *sf, const char *key, int (*parse)(const char *, uint64_t *),
	   struct repl_setting *out, int slot)
{
	char val[STATEFS_VALUE_MAX + 1];
	int ret;

	if (statefs_get(sf, key, val, sizeof(val), NULL) < 0)
		return 0;
	ret = parse(val, &out->value);
	if (ret == 0)
		return 1;
	out->bad[slot].present = 1;
	out->bad[slot].err = ret;
	snprintf(out->bad[slot].key, sizeof(out->bad[slot].key), "%s", key);
	snprintf(out->bad[slot].value, sizeof(out->bad[slot].value), "%s", val);
	return -1;
}

int
repl_setting_read(struct statefs *sf, const char *res, const char *host, const char *key,
		  int (*parse)(const char *s, uint64_t *out), struct repl_setting *out)
{
	char dir[STATEFS_PATH_MAX + 1], host_key[STATEFS_PATH_MAX + 1];
	char gen_key[STATEFS_PATH_MAX + 1];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (res)
		ret = statefs_resource_keyf(dir, sizeof(dir), res, "%s", "");
	else
		dir[0] = '\0';
	if (ret < 0 ||
	    (size_t)snprintf(host_key, sizeof(host_key), "%sdefaults-%s/%s", dir, host, key) >=
	    sizeof(host_key) ||
	    (size_t)snprintf(gen_key, sizeof(gen_key), "%sdefaults/%s", dir, key) >=
	    sizeof(gen_key))
		return -ENAMETOOLONG;
	if (level_read(sf, host_key, parse, out, 0) == 1)
		out->from = REPL_FROM_HOST;
	else if (level_read(sf, gen_key, parse, out, 1) == 1)
		out->from = REPL_FROM_DEFAULTS;
	else
		out->value = 0;
	return 0;
}

uint64_t
repl_limit_min(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* @part of @total in proportion @w of @sum_w, without overflow. */
static uint64_t
proportion(uint64_t total, uint64_t w, uint64_t sum_w)
{
	return sum_w ? (uint64_t)((unsigned __int128)total * w / sum_w) : total;
}

/*
 * Water filling over the busy transfers: each pass fixes those whose cap
 * is below their share of what is left.  Fixing one only raises the
 * others' shares, so a fixed one never needs to be undone, and each pass
 * but the last fixes at least one: at most n + 1 passes.
 */
static void
share_busy(uint64_t node_bps, const uint64_t *weight, const uint64_t *cap_bps, const int *busy,
	   size_t n, uint64_t *out_bps, int *fixed)
{
	uint64_t left = node_bps, sum_w, share;
	size_t i;
	int again = 1;

	while (again) {
		again = 0;
		sum_w = 0;
		for (i = 0; i < n; i++)
			sum_w += busy[i] && !fixed[i] ? weight[i] : 0;
		for (i = 0; i < n; i++) {
			if (!busy[i] || fixed[i])
				continue;
			share = proportion(left, weight[i], sum_w);
			out_bps[i] = share ? share : 1;
			if (cap_bps[i] && cap_bps[i] <= share) {
				out_bps[i] = cap_bps[i];
				fixed[i] = 1;
				again = 1;
			}
		}
		for (i = 0; again && i < n; i++)
			if (fixed[i] == 1) {
				left -= out_bps[i] < left ? out_bps[i] : left;
				fixed[i] = 2;	/* subtracted */
			}
	}
}

void
repl_share_bwlimit(uint64_t node_bps, const uint64_t *weight, const uint64_t *cap_bps,
		   const int *busy, size_t n, uint64_t *out_bps)
{
	int fixed[REPL_SHARE_MAX];
	uint64_t sum_busy_w = 0, w;
	size_t i;

	if (n > REPL_SHARE_MAX)
		n = REPL_SHARE_MAX;
	for (i = 0; i < n; i++) {
		out_bps[i] = cap_bps[i];
		fixed[i] = 0;
		sum_busy_w += busy[i] ? (weight[i] ? weight[i] : 1) : 0;
	}
	if (!node_bps)
		return;
	share_busy(node_bps, weight, cap_bps, busy, n, out_bps, fixed);
	for (i = 0; i < n; i++) {
		if (busy[i])
			continue;
		w = weight[i] ? weight[i] : 1;
		out_bps[i] = repl_limit_min(cap_bps[i], proportion(node_bps, w, sum_busy_w + w));
		if (!out_bps[i])
			out_bps[i] = 1;
	}
}
