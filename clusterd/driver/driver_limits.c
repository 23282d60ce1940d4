/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetch limits, weights and compression mode the driver follows at
 * run time (docs/state-tree.md 3.7, docs/replication.md 4.5).  The
 * options are the local admin's ceilings; the tree, which any member may
 * write, can only lower them.  Every value is read through the grammar
 * in repl/limits.c; one outside it is ignored as absent, logged once
 * while it stands, and counted (settings_invalid).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"

_Static_assert(DRV_MAX_RES <= REPL_SHARE_MAX, "every resource takes part in the share");

/* FNV-1a of @s: which bad value a slot last logged (0: none). */
static uint64_t
said_hash(const char *key, const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* Log and count each bad value of @s once while it stands. */
static void
complain(struct driver *d, const struct repl_setting *s, uint64_t said[2])
{
	char key[LOG_ESC_BYTES], val[LOG_ESC_BYTES];
	uint64_t h;
	int i;

	for (i = 0; i < 2; i++) {
		if (!s->bad[i].present) {
			said[i] = 0;
			continue;
		}
		h = said_hash(s->bad[i].key, s->bad[i].value);
		if (said[i] == h)
			continue;
		said[i] = h;
		log_warnx("ignoring %s = '%s': %s (docs/state-tree.md 3.7)",
			  log_escape(key, sizeof(key), s->bad[i].key),
			  log_escape(val, sizeof(val), s->bad[i].value),
			  s->bad[i].err == -ERANGE ? "out of range" : "not in the grammar");
		statefs_counter_add(d->sf, "settings_invalid", 1);
	}
}

/* The tighter of @option and the tree's @s, and where it comes from. */
static void
effective(uint64_t option, const struct repl_setting *s, struct drv_limit *out)
{
	uint64_t tree = s->from != REPL_FROM_NONE ? s->value : 0;

	out->bps = repl_limit_min(option, tree);
	out->from = tree && (!option || tree < option) ? repl_from_name(s->from) :
		    option ? "option" : "none";
}

/* Read resource @r's settings (every tick, before the shares). */
void
drv_limits_read(struct driver *d, struct drv_res *r)
{
	struct repl_setting s;
	const char *host = d->gc->host;

	if (repl_setting_read(d->sf, r->name, host, "fetch-bwlimit", repl_limit_parse, &s) == 0) {
		complain(d, &s, r->lim.said[0]);
		effective(d->dc.fetch_bwlimit, &s, &r->lim.fetch);
	}
	if (repl_setting_read(d->sf, r->name, host, "fetch-priority", repl_weight_parse,
			      &s) == 0) {
		complain(d, &s, r->lim.said[1]);
		r->lim.weight = s.from != REPL_FROM_NONE ? s.value : REPL_WEIGHT_DEFAULT;
	}
	if (repl_setting_read(d->sf, r->name, host, "compress", gossip_compress_setting, &s) == 0) {
		complain(d, &s, r->lim.said[2]);
		r->lim.compress = s.from != REPL_FROM_NONE ? (int)s.value : d->gc->compress;
	}
}

/* The node limit: option and the root's fetch-bwlimit. */
static void
node_read(struct driver *d)
{
	struct repl_setting s;

	if (repl_setting_read(d->sf, NULL, d->gc->host, "fetch-bwlimit", repl_limit_parse,
			      &s) < 0)
		return;
	complain(d, &s, d->node_said);
	effective(d->dc.node_fetch_bwlimit, &s, &d->node_limit);
}

/* Whether @f has bytes to fetch: one following a quiet primary has none. */
static int
fetch_busy(struct fetcher *f)
{
	struct fetch_status fs;

	fetcher_status(f, &fs);
	return fs.name[0] && fs.local_len < fs.remote_len;
}

static void
share_fetch(struct driver *d)
{
	uint64_t weight[DRV_MAX_RES], cap[DRV_MAX_RES], out[DRV_MAX_RES];
	int busy[DRV_MAX_RES];
	size_t i;

	for (i = 0; i < d->n_res; i++) {
		struct drv_res *r = d->res[i];

		weight[i] = r->lim.weight ? r->lim.weight : REPL_WEIGHT_DEFAULT;
		cap[i] = r->lim.fetch.bps;
		busy[i] = r->f && fetch_busy(r->f);
	}
	repl_share_bwlimit(d->node_limit.bps, weight, cap, busy, d->n_res, out);
	for (i = 0; i < d->n_res; i++) {
		d->res[i]->lim.share_bps = out[i];
		if (d->res[i]->f)
			fetcher_set_bwlimit(d->res[i]->f, out[i]);
	}
}

/* The full syncs: --node-sync-bwlimit shared equally, each under its own limit. */
static void
share_sync(struct driver *d)
{
	uint64_t weight[DRV_MAX_RES], cap[DRV_MAX_RES], out[DRV_MAX_RES];
	int busy[DRV_MAX_RES];
	struct sync_status ss;
	size_t i;

	for (i = 0; i < d->n_res; i++) {
		weight[i] = 1;
		cap[i] = d->res[i]->lim.fetch.bps;
		busy[i] = 0;
		if (d->res[i]->sy) {
			syncer_status(d->res[i]->sy, &ss);
			busy[i] = !ss.done;
		}
	}
	repl_share_bwlimit(d->dc.node_sync_bwlimit, weight, cap, busy, d->n_res, out);
	for (i = 0; i < d->n_res; i++)
		if (d->res[i]->sy)
			syncer_set_bwlimit(d->res[i]->sy, out[i]);
}

/*
 * Every tick, before the resources act: the node limits shared among the
 * transfers that have work.  A transfer that turns busy runs on its last
 * share until the next tick, so the node may exceed a limit for one tick.
 */
void
drv_limits_share(struct driver *d)
{
	node_read(d);
	share_fetch(d);
	share_sync(d);
}

/* The status file's limit_* lines (docs/replication.md section 5). */
void
drv_limits_status(FILE *f, const struct driver *d, const struct drv_res *r)
{
	fprintf(f, "limit_fetch=%" PRIu64 "\nlimit_fetch_from=%s\nlimit_node=%" PRIu64
		"\nlimit_node_from=%s\nlimit_share=%" PRIu64 "\nfetch_priority=%" PRIu64
		"\ncompress=%s\n", r->lim.fetch.bps, r->lim.fetch.from ? r->lim.fetch.from : "none",
		d->node_limit.bps, d->node_limit.from ? d->node_limit.from : "none",
		r->lim.share_bps, r->lim.weight ? r->lim.weight : (uint64_t)REPL_WEIGHT_DEFAULT,
		gossip_compress_name(r->lim.compress));
}
