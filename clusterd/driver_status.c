/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver's status file for marsadm view (docs/replication.md
 * section 5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/driver_internal.h"
#include "clusterd/log.h"

/* ---- the status file --------------------------------------------------------- */

static const char *const act_names[] = {
	[ROLE_IDLE] = "idle", [ROLE_DETACH] = "detach", [ROLE_START_PRIMARY] = "start-primary",
	[ROLE_STOP_PRIMARY] = "stop-primary", [ROLE_PUBLISH] = "publish",
	[ROLE_START_REPLAY] = "start-replay", [ROLE_SWITCH] = "switch", [ROLE_ROTATE] = "rotate",
	[ROLE_SYNC] = "sync",
};

/*
 * <root>/resource-RES/.driver-status: what the driver does and how fast,
 * for `marsadm view` on this node (docs/replication.md section 5).
 * Replaced atomically, at most once a second and on every new decision.
 */
void
status_write(struct driver *d, struct drv_res *r, const struct role_action *a,
	     const struct mars_engine_status *st, int changed)
{
	char path[8192], tmp[8300];
	struct fetch_status fs;
	struct sync_status ss;
	struct timespec now;
	FILE *f;

	if (!changed && gossip_now_ms() - r->status_ms < 1000)
		return;
	r->status_ms = gossip_now_ms();
	snprintf(path, sizeof(path), "%s/resource-%s/.driver-status", d->gc->root, r->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "version=1\nupdated_ns=%" PRIu64 "\naction=%s\nwhy=%s\nsplit=%d\n",
		(uint64_t)(now.tv_sec * 1000000000LL + now.tv_nsec),
		act_names[a->act], a->why, a->split);
	fprintf(f, "engine_mode=%s\nreplay_state=%s\nreplay_logfile=%s\nreplay_pos=%" PRIu64
		"\nreplay_rate=%" PRIu64 "\n", r->e ? mars_engine_mode_name(st->mode) : "none",
		mars_engine_replay_state_name(st->replay), st->logfile, st->applied_pos,
		st->rate_bps);
	if (r->f) {
		fetcher_status(r->f, &fs);
		fprintf(f, "fetch_name=%s\nfetch_local=%" PRIu64 "\nfetch_remote=%" PRIu64
			"\nfetch_peer=%s\nfetch_rate=%" PRIu64 "\nfetch_error=%d\nfetch_why=%s\n"
			"fetch_refetches=%u\n", fs.name, fs.local_len, fs.remote_len, fs.peer,
			fs.rate_bps, fs.error, fs.why, fs.refetches);
	}
	if (r->sy) {
		syncer_status(r->sy, &ss);
		fprintf(f, "sync_peer=%s\nsync_pos=%" PRIu64 "\nsync_size=%" PRIu64
			"\nsync_equal=%" PRIu64 "\nsync_copied=%" PRIu64 "\nsync_rate=%" PRIu64
			"\nsync_error=%d\nsync_why=%s\n", ss.peer, ss.pos, ss.size_bytes,
			ss.bytes_equal, ss.bytes_copied, ss.rate_bps, ss.error, ss.why);
	}
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}
