/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local status files of the view model: clusterd's .driver-status
 * (docs/replication.md section 5) and the engine's .engine-status
 * (docs/engine.md), both read only on the node that writes them.
 */
#include "marsadm/view.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"

/* ---- the status files ------------------------------------------------------ */

/*
 * Both status files (.driver-status by clusterd, .engine-status by the
 * engine) are "key=value" lines, replaced atomically; one table per file
 * says where each known key goes, unknown keys are skipped (newer writers).
 */
#define STATUS_FILE_MAX	16384	/* a status file is well under 4 KiB */

enum kv_kind { KV_STR, KV_U64, KV_S64 };

struct kv_field {
	const char *key;
	enum kv_kind kind;
	size_t off, size;	/* size: KV_STR buffer bytes */
	int group;		/* bit set in the result when the key is seen */
};

#define KV_S(T, k, f, g) { k, KV_STR, offsetof(T, f), sizeof(((T *)0)->f), g }
#define KV_U(T, k, f, g) { k, KV_U64, offsetof(T, f), 0, g }
#define KV_I(T, k, f, g) { k, KV_S64, offsetof(T, f), 0, g }
#define KV_COUNT(t)	(sizeof(t) / sizeof((t)[0]))

#define G_FETCH		1
#define G_SYNC		2
#define G_VERSION	4

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

/* One line of @len bytes into @base; returns the group bits of its key. */
static int
kv_line(const struct kv_field *t, size_t n, void *base, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	char val[512], *end, *dst;
	size_t klen, vlen, i;

	if (!eq)
		return 0;
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	vlen = vlen < sizeof(val) ? vlen : sizeof(val) - 1;
	memcpy(val, eq + 1, vlen);
	val[vlen] = '\0';
	for (i = 0; i < n; i++) {
		if (strlen(t[i].key) != klen || memcmp(t[i].key, line, klen))
			continue;
		dst = (char *)base + t[i].off;
		if (t[i].kind == KV_STR)
			snprintf(dst, t[i].size, "%s", val);
		else if (t[i].kind == KV_U64)
			*(uint64_t *)(void *)dst = strtoull(val, &end, 10);
		else
			*(int64_t *)(void *)dst = strtoll(val, &end, 10);
		return t[i].group;
	}
	return 0;
}

/*
 * Read <root>/resource-RES/@name (at most STATUS_FILE_MAX bytes) into
 * @base by table @t.  Returns the group bits seen, or -errno.
 */
static int
kv_load(struct statefs *sf, const struct view_res *v, const char *name,
	const struct kv_field *t, size_t n, void *base)
{
	char path[STATEFS_PATH_MAX + 1], *buf, *p, *nl;
	int fd, groups = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "resource-%s/%s", v->name, name);
	fd = openat(sf->root_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(STATUS_FILE_MAX);
	len = buf ? read(fd, buf, STATUS_FILE_MAX) : -1;
	close(fd);
	for (p = buf; len > 0 && p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		groups |= kv_line(t, n, base, p, (size_t)(nl - p));
	}
	free(buf);
	return len < 0 ? -EIO : groups;
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
	d->fetching = (g & G_FETCH) != 0;
	d->syncing = (g & G_SYNC) != 0;
	d->state = d->updated_ns + VIEW_DRIVER_FRESH_NS >= v->now_ns ? DRV_FRESH : DRV_STALE;
}

int
view_driver_runs(struct statefs *sf, const char *res, char *engine_mode, size_t size)
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
		snprintf(engine_mode, size, "%s", fresh ? v->drv.engine_mode : "");
	free(v);
	return fresh;
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
