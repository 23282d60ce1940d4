/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the driver publishes about itself: the status file for marsadm
 * view (docs/replication.md section 5) and the todo switches it has
 * carried out (docs/state-tree.md section 3.3), which marsadm's switch
 * commands wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"

/* The status file (docs/replication.md section 5) and its next version. */
#define STATUS_FILE	".driver-status"
#define STATUS_TMP	".driver-status.tmp"

/* ---- the status file --------------------------------------------------------- */

static const char *const act_names[] = {
	[ROLE_IDLE] = "idle", [ROLE_DETACH] = "detach", [ROLE_START_PRIMARY] = "start-primary",
	[ROLE_STOP_PRIMARY] = "stop-primary", [ROLE_PUBLISH] = "publish",
	[ROLE_START_REPLAY] = "start-replay", [ROLE_SWITCH] = "switch", [ROLE_ROTATE] = "rotate",
	[ROLE_SYNC] = "sync",
};

/* The transfer counters of fetch or sync (@what), docs/http-api.md. */
static void
status_transfer(FILE *f, const char *what, const struct piece_stats *z)
{
	fprintf(f, "%s_bytes_raw=%" PRIu64 "\n%s_bytes_wire=%" PRIu64 "\n%s_cpu_ns=%" PRIu64
		"\n%s_peer_cpu_ns=%" PRIu64 "\n", what, z->bytes_raw, what, z->bytes_wire, what,
		z->cpu_ns, what, z->peer_cpu_ns);
}

/*
 * <root>/resource-RES/.driver-status: what the driver does and how fast,
 * for `marsadm view` on this node (docs/replication.md section 5).
 * Replaced atomically, at most once a second and on every new decision.
 */
void
drv_status_write(struct driver *d, struct drv_res *r, const struct role_action *a,
		 const struct mars_engine_status *st, int changed)
{
	struct fetch_status fs;
	struct sync_status ss;
	struct piece_stats sz;
	struct timespec now;
	FILE *f;
	int fd;

	if (!changed && gossip_now_ms() - r->status_ms < 1000)
		return;
	r->status_ms = gossip_now_ms();
	fd = statefs_file_open(d->sf, r->name, STATUS_TMP, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "version=1\nupdated_ns=%" PRIu64 "\naction=%s\nwhy=%s\nsplit=%d\n",
		(uint64_t)(now.tv_sec * 1000000000LL + now.tv_nsec),
		act_names[a->act], a->why, a->split);
	fprintf(f, "engine_mode=%s\nreplay_state=%s\nreplay_logfile=%s\nreplay_pos=%" PRIu64
		"\nreplay_rate=%" PRIu64 "\n", r->e ? mars_engine_mode_name(st->mode) : "none",
		mars_engine_replay_state_name(st->replay), st->logfile, st->applied_pos,
		st->rate_bps);
	if (r->e && st->mode == MARS_ENGINE_PRIMARY)
		fprintf(f, "log_name=%s\nlog_end=%" PRIu64 "\nlog_durable=%" PRIu64
			"\npending_bytes=%" PRIu64 "\n", st->logfile, st->log_end, st->synced_pos,
			st->pending_bytes);
	/* The userspace engine's front end (nbd, fuse) and device, once served. */
	if (r->e && st->frontend[0])
		fprintf(f, "engine_frontend=%s\nengine_device=%s\n", st->frontend, st->device);
	if (r->f) {
		fetcher_status(r->f, &fs);
		fprintf(f, "fetch_name=%s\nfetch_local=%" PRIu64 "\nfetch_remote=%" PRIu64
			"\nfetch_peer=%s\nfetch_rate=%" PRIu64 "\nfetch_error=%d\nfetch_why=%s\n"
			"fetch_refetches=%u\n", fs.name, fs.local_len, fs.remote_len, fs.peer,
			fs.rate_bps, fs.error, fs.why, fs.refetches);
		status_transfer(f, "fetch", &fs.z);
	}
	sz = r->sy_z;
	if (r->sy) {
		syncer_status(r->sy, &ss);
		fprintf(f, "sync_peer=%s\nsync_pos=%" PRIu64 "\nsync_size=%" PRIu64
			"\nsync_equal=%" PRIu64 "\nsync_copied=%" PRIu64 "\nsync_rate=%" PRIu64
			"\nsync_error=%d\nsync_why=%s\n", ss.peer, ss.pos, ss.size_bytes,
			ss.bytes_equal, ss.bytes_copied, ss.rate_bps, ss.error, ss.why);
		piece_stats_add(&sz, &ss.z);
	}
	status_transfer(f, "sync", &sz);
	drv_limits_status(f, d, r);
	if (fclose(f) == 0)
		statefs_file_rename(d->sf, r->name, STATUS_TMP, STATUS_FILE);
	else
		statefs_file_unlink(d->sf, r->name, STATUS_TMP);
}

/* ---- the switches carried out ------------------------------------------------ */

struct acted {
	char keys[5][STATEFS_NAME_MAX + 32];
	const char *kv[10];
	size_t n;
};

static void
acted_add(struct acted *ac, const char *host, const char *name, const char *value)
{
	if (!value)
		return;
	snprintf(ac->keys[ac->n], sizeof(ac->keys[0]), "actual-%s/%s", host, name);
	ac->kv[2 * ac->n] = ac->keys[ac->n];
	ac->kv[2 * ac->n + 1] = value;
	ac->n++;
}

/*
 * actual-HOST/acted-KEY echoes todo-HOST/KEY once the data path obeys
 * it; while it does not, the old value stays.  Switching off is obeyed
 * when its work has ended: no engine (attach), a fetcher that took its
 * empty list and runs no stream (connect), no replay (allow-replay), no
 * syncer (sync).  Switching on is obeyed once the driver acts on it.
 * The engine's attached mode runs no child that could say so, so the
 * driver sets is-attached itself: a paused replay keeps its disk.
 * Called after the tick's action; equal values are not rewritten.
 */
void
drv_acted_write(struct driver *d, struct drv_res *r, const struct role_view *v)
{
	struct mars_engine_status st = { .mode = MARS_ENGINE_ATTACHED };
	struct fetch_status fs = { .stopped = 1 };
	const char *host = d->gc->host;
	struct acted ac = { .n = 0 };
	int replaying;

	if (!v->member)
		return;
	if (r->e && d->dc.ops->status(r->e, &st) < 0)
		return;
	if (r->f)
		fetcher_status(r->f, &fs);
	replaying = r->e && st.mode == MARS_ENGINE_REPLAY;
	acted_add(&ac, host, "acted-attach", v->sw_attach ? (r->e ? "1" : NULL) :
		  (r->e ? NULL : "0"));
	acted_add(&ac, host, "acted-connect", v->sw_connect ? "1" : fs.stopped ? "0" : NULL);
	acted_add(&ac, host, "acted-allow-replay", v->sw_replay ? "1" : replaying ? NULL : "0");
	acted_add(&ac, host, "acted-sync", v->sw_sync ? "1" : r->sy ? NULL : "0");
	acted_add(&ac, host, "is-attached", r->e && st.mode == MARS_ENGINE_ATTACHED ? "1" : NULL);
	if (ac.n)
		drv_put(d, r->name, ac.kv, 2 * ac.n);
}
