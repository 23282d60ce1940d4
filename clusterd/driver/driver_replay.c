/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The secondary side of the driver (docs/replication.md section 3.4):
 * the switchover to the next logfile, a replay stopped by damage, and
 * the logfiles the fetcher is asked for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"

void
drv_switch(struct driver *d, struct drv_res *r, const struct role_action *a)
{
	char k1[MARS_VERNAME_MAX + 1], k2[MARS_VERNAME_MAX + 1], k3[STATEFS_NAME_MAX + 16];
	char rp[MARS_REPLAY_MAX + 1];
	struct mars_replaylink start = { .pos_bytes = 0 };
	const char *kv[6];
	struct repl_version nv;

	/* The replay child writes the replay link: it must be gone first. */
	drv_engine_drop(d, r);
	if (repl_version_parse(a->next_link, &nv) < 0 ||
	    mars_vername_format(k1, sizeof(k1), a->link_nr, d->gc->host) < 0 ||
	    mars_vername_format(k2, sizeof(k2), nv.nr, d->gc->host) < 0 ||
	    mars_logname_parse(a->logfile, strlen(a->logfile), &start.log) < 0 ||
	    mars_replaylink_format(rp, sizeof(rp), &start) < 0)
		return;
	snprintf(k3, sizeof(k3), "replay-%s", d->gc->host);
	kv[0] = k1; kv[1] = a->link;
	kv[2] = k2; kv[3] = a->next_link;
	kv[4] = k3; kv[5] = rp;
	if (drv_put(d, r->name, kv, 6) == 0)
		log_info("%s: %s", r->name, a->why);
}

/* A replay that stopped on damage gets the bytes again from the origin. */
int
drv_replay_trouble(struct driver *d, struct drv_res *r, const struct mars_engine_status *st)
{
	if (st->mode != MARS_ENGINE_REPLAY)
		return 0;
	if (st->replay == MARS_ENGINE_RS_STOPPED) {
		log_warnx("%s: replay of %s stopped at offset %" PRIu64 ": %s (%s); fetching "
			  "again from there", r->name, st->logfile, st->stop_offset,
			  mars_scan_result_name(st->stop_result),
			  mars_scan_reason_name(st->stop_reason));
		if (r->f)
			fetcher_refetch(r->f, st->logfile, st->stop_offset);
	} else if (st->replay == MARS_ENGINE_RS_FAILED) {
		log_warnx("%s: replay of %s failed: %s (see %s)", r->name, st->logfile,
			  strerror(st->error ? -st->error : EIO), r->log_path);
	} else {
		return 0;
	}
	drv_engine_drop(d, r);
	r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
	return 1;
}

void
drv_feed_fetcher(struct driver *d, struct drv_res *r, const struct role_view *v, int logging)
{
	struct role_want w[2];
	struct fetch_want fw[2];
	size_t n = logging || !v->member || !v->sw_attach ? 0 : roles_wanted(v, w), i;

	if (n == 0) {
		if (r->f)
			fetcher_want(r->f, NULL, 0);
		return;
	}
	if (!r->f) {
		if (fetcher_start(d->gc, r->name, &r->f) < 0) {
			r->f = NULL;
			return;
		}
		fetcher_set_bwlimit(r->f, r->lim.share_bps);
	}
	for (i = 0; i < n; i++) {
		snprintf(fw[i].name, sizeof(fw[i].name), "%s", w[i].name);
		fw[i].final_len = w[i].final_len == UINT64_MAX ? FETCH_FOLLOW : w[i].final_len;
	}
	fetcher_want(r->f, fw, n);
}
