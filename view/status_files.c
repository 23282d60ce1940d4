/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local status files of the view model: clusterd's .driver-status
 * (docs/replication.md section 5) and the engine's .engine-status
 * (docs/engine.md), both read only on the node that writes them and
 * only for its own replica.
 */
#include "view/view.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kvfile.h"

/* ---- the status files ------------------------------------------------------ */

#define G_FETCH		1
#define G_SYNC		2
#define G_VERSION	4
#define G_LOG		8
#define G_TRANSFER	16
#define G_LIMITS	32

static const struct kv_field drv_fields[] = {
	KV_U(struct view_driver, "version", version, G_VERSION),
	KV_U(struct view_driver, "updated_ns", updated_ns, 0),
	KV_S(struct view_driver, "action", action, 0),
	KV_S(struct view_driver, "why", why, 0),
	KV_U(struct view_driver, "split", split, 0),
	KV_S(struct view_driver, "engine_mode", engine_mode, 0),
	KV_S(struct view_driver, "engine_frontend", engine_frontend, 0),
	KV_S(struct view_driver, "engine_device", engine_device, 0),
	KV_S(struct view_driver, "replay_state", replay_state, 0),
	KV_U(struct view_driver, "replay_rate", replay_rate_bps, 0),
	KV_S(struct view_driver, "log_name", log_name, G_LOG),
	KV_U(struct view_driver, "log_end", log_end_bytes, G_LOG),
	KV_U(struct view_driver, "log_durable", log_durable_bytes, G_LOG),
	KV_U(struct view_driver, "pending_bytes", pending_bytes, G_LOG),
	KV_S(struct view_driver, "fetch_name", fetch_name, G_FETCH),
	KV_S(struct view_driver, "fetch_peer", fetch_peer, G_FETCH),
	KV_U(struct view_driver, "fetch_local", fetch_local_bytes, G_FETCH),
	KV_U(struct view_driver, "fetch_remote", fetch_remote_bytes, G_FETCH),
	KV_U(struct view_driver, "fetch_rate", fetch_rate_bps, G_FETCH),
	KV_I(struct view_driver, "fetch_error", fetch_error, G_FETCH),
	KV_S(struct view_driver, "fetch_why", fetch_why, G_FETCH),
	KV_S(struct view_driver, "sync_peer", sync_peer, G_SYNC),
	KV_U(struct view_driver, "sync_pos", sync_pos_bytes, G_SYNC),
	KV_U(struct view_driver, "sync_size", sync_size_bytes, G_SYNC),
	KV_U(struct view_driver, "sync_equal", sync_equal_bytes, G_SYNC),
	KV_U(struct view_driver, "sync_copied", sync_copied_bytes, G_SYNC),
	KV_U(struct view_driver, "sync_rate", sync_rate_bps, G_SYNC),
	KV_I(struct view_driver, "sync_error", sync_error, G_SYNC),
	KV_S(struct view_driver, "sync_why", sync_why, G_SYNC),
	KV_U(struct view_driver, "limit_fetch", limit_fetch_bps, G_LIMITS),
	KV_S(struct view_driver, "limit_fetch_from", limit_fetch_from, G_LIMITS),
	KV_U(struct view_driver, "limit_node", limit_node_bps, G_LIMITS),
	KV_S(struct view_driver, "limit_node_from", limit_node_from, G_LIMITS),
	KV_U(struct view_driver, "limit_share", limit_share_bps, G_LIMITS),
	KV_U(struct view_driver, "fetch_priority", fetch_priority, G_LIMITS),
	KV_S(struct view_driver, "compress", compress, G_LIMITS),
	KV_U(struct view_driver, "fetch_bytes_raw", fetch_bytes_raw, G_TRANSFER),
	KV_U(struct view_driver, "fetch_bytes_wire", fetch_bytes_wire, G_TRANSFER),
	KV_U(struct view_driver, "fetch_cpu_ns", fetch_cpu_ns, G_TRANSFER),
	KV_U(struct view_driver, "fetch_peer_cpu_ns", fetch_peer_cpu_ns, G_TRANSFER),
	KV_U(struct view_driver, "sync_bytes_raw", sync_bytes_raw, G_TRANSFER),
	KV_U(struct view_driver, "sync_bytes_wire", sync_bytes_wire, G_TRANSFER),
	KV_U(struct view_driver, "sync_cpu_ns", sync_cpu_ns, G_TRANSFER),
	KV_U(struct view_driver, "sync_peer_cpu_ns", sync_peer_cpu_ns, G_TRANSFER),
};

static const struct kv_field eng_fields[] = {
	KV_S(struct view_engine, "mode", mode, 0),
	KV_S(struct view_engine, "replay", replay, 0),
	KV_S(struct view_engine, "applied_logfile", logfile, 0),
	KV_S(struct view_engine, "stop_result", stop_result, 0),
	KV_S(struct view_engine, "stop_reason", stop_reason, 0),
	KV_U(struct view_engine, "stop_offset", stop_offset, 0),
	KV_I(struct view_engine, "error", error, 0),
	KV_S(struct view_engine, "error_text", error_text, 0),
};

/* <root>/resource-RES/@name into @base by table @t. */
static int
kv_load(struct statefs *sf, const struct view_res *v, const char *name,
	const struct kv_field *t, size_t n, void *base)
{
	int dirfd = statefs_resource_dir(sf, v->name, 0), ret;

	if (dirfd < 0)
		return dirfd;
	ret = kvfile_load(dirfd, name, t, n, base);
	close(dirfd);
	return ret;
}

/* .driver-status: used only if version 1 and written within 10 s. */
void
view_driver_load(struct statefs *sf, struct view_res *v)
{
	struct view_driver *d = &v->drv;
	int g;

	memset(d, 0, sizeof(*d));
	g = kv_load(sf, v, ".driver-status", drv_fields, KV_COUNT(drv_fields), d);
	if (g < 0 || d->version != 1 || !d->updated_ns) {
		memset(d, 0, sizeof(*d));
		return;
	}
	d->logging = (g & G_LOG) != 0;
	d->fetching = (g & G_FETCH) != 0;
	d->syncing = (g & G_SYNC) != 0;
	d->limits = (g & G_LIMITS) != 0;
	d->transfer = (g & G_TRANSFER) != 0;
	d->state = d->updated_ns + VIEW_DRIVER_FRESH_NS >= v->now_ns ? DRV_FRESH : DRV_STALE;
}

/* 1 when @res's driver status is fresh, with its engine mode and why. */
static int
driver_fresh(struct statefs *sf, const char *res, char *engine_mode, size_t mode_size,
	     char *why, size_t why_size)
{
	struct view_res *v = calloc(1, sizeof(*v));
	int fresh;

	if (!v)
		return 0;
	snprintf(v->name, sizeof(v->name), "%s", res);
	v->now_ns = statefs_realtime_ns();
	view_driver_load(sf, v);
	fresh = v->drv.state == DRV_FRESH;
	if (engine_mode)
		snprintf(engine_mode, mode_size, "%s", fresh ? v->drv.engine_mode : "");
	if (why)
		snprintf(why, why_size, "%s", fresh ? v->drv.why : "");
	free(v);
	return fresh;
}

int
view_driver_runs(struct statefs *sf, const char *res, char *engine_mode, size_t size)
{
	return driver_fresh(sf, res, engine_mode, size, NULL, 0);
}

int
view_driver_fresh_why(struct statefs *sf, const char *res, char *why, size_t size)
{
	return driver_fresh(sf, res, NULL, 0, why, size);
}

/* .engine-status: read only when the fresh driver status says replay stopped. */
void
view_engine_load(struct statefs *sf, struct view_res *v)
{
	const char *rs = v->drv.replay_state;

	memset(&v->eng, 0, sizeof(v->eng));
	if (v->drv.state != DRV_FRESH || (strcmp(rs, "stopped") && strcmp(rs, "failed")))
		return;
	if (kv_load(sf, v, ".engine-status", eng_fields, KV_COUNT(eng_fields), &v->eng) >= 0)
		v->eng.present = !strcmp(v->eng.mode, "replay") &&
				 (!strcmp(v->eng.replay, "stopped") || !strcmp(v->eng.replay, "failed"));
}
