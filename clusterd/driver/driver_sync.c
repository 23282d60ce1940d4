/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The full sync of a member (docs/replication.md section 3.1a,
 * docs/sync.md): run the syncer, record its position about once a second
 * for a restart, and at the end syncstatus and syncpos together.
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

/* ---- full sync ------------------------------------------------------------------ */

static void
sync_save(struct driver *d, struct drv_res *r, uint64_t pos, const char *syncpos)
{
	char k1[STATEFS_NAME_MAX + 16], k2[STATEFS_NAME_MAX + 16], v1[32];
	const char *kv[4] = { k1, v1, k2, syncpos };

	snprintf(k1, sizeof(k1), "syncstatus-%s", d->gc->host);
	snprintf(k2, sizeof(k2), "syncpos-%s", d->gc->host);
	snprintf(v1, sizeof(v1), "%" PRIu64, pos);
	if (drv_put(d, r->name, kv, syncpos && *syncpos ? 4 : 2) == 0) {
		r->sy_saved = pos;
		r->sy_saved_ms = gossip_now_ms();
	}
}

/* End a sync run, keeping the position reached for the next one. */
void
drv_sync_end(struct driver *d, struct drv_res *r)
{
	struct sync_status st;

	if (!r->sy)
		return;
	syncer_halt(r->sy);
	syncer_status(r->sy, &st);
	syncer_stop(r->sy);
	r->sy = NULL;
	piece_stats_add(&r->sy_z, &st.z);
	if (st.pos > r->sy_saved && st.pos < st.size_bytes)
		sync_save(d, r, st.pos, NULL);
}

void
drv_sync(struct driver *d, struct drv_res *r, const struct role_view *v, const char *peer)
{
	struct sync_status st;
	int ret;

	if (!r->sy) {
		if (gossip_now_ms() < r->retry_at_ms)
			return;
		ret = syncer_start(d->gc, r->name, peer, v->disk, v->size_bytes, v->syncstatus,
				   &r->sy);
		if (ret) {
			log_warnx("%s: cannot start the sync from '%s': %s", r->name, peer,
				  strerror(-ret));
			r->sy = NULL;
			r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
			return;
		}
		/* its part of the node limit at once: a small disk could be
		 * compared whole before the next tick shares it */
		syncer_set_bwlimit(r->sy, r->lim.fetch.bps);
		drv_limits_share(d);
		r->sy_saved = v->syncstatus;
		log_info("%s: full sync from '%s' starts at byte %" PRIu64 " of %" PRIu64,
			 r->name, peer, v->syncstatus, v->size_bytes);
		return;
	}
	syncer_status(r->sy, &st);
	if (st.done) {
		syncer_stop(r->sy);
		r->sy = NULL;
		piece_stats_add(&r->sy_z, &st.z);
		sync_save(d, r, st.size_bytes, st.syncpos);
		log_info("%s: full sync from '%s' done: %" PRIu64 " bytes equal, %" PRIu64
			 " copied; consistent once replay reaches %s", r->name, st.peer,
			 st.bytes_equal, st.bytes_copied, st.syncpos);
		return;
	}
	if (syncer_finished(r->sy)) {
		log_warnx("%s: full sync from '%s' stopped at byte %" PRIu64 ": %s; retrying",
			  r->name, peer, st.pos, st.why);
		drv_sync_end(d, r);
		r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
		return;
	}
	/* The position is durable in the syncer; record it for a restart. */
	if (st.pos != r->sy_saved && gossip_now_ms() - r->sy_saved_ms >= 1000)
		sync_save(d, r, st.pos, NULL);
}
