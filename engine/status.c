/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status file: one "key=value" line per field of struct
 * mars_engine_status, replaced atomically (write a temporary file,
 * rename), so that a reader (tests, marsadm view, an operator with cat)
 * always sees one complete snapshot.  Names are stable; see
 * docs/engine.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/internal.h"

const char *
mars_engine_mode_name(enum mars_engine_mode mode)
{
	switch (mode) {
	case MARS_ENGINE_ATTACHED: return "attached";
	case MARS_ENGINE_PRIMARY: return "primary";
	case MARS_ENGINE_REPLAY: return "replay";
	}
	return "unknown";
}

const char *
mars_engine_replay_state_name(enum mars_engine_replay_state rs)
{
	switch (rs) {
	case MARS_ENGINE_RS_NONE: return "none";
	case MARS_ENGINE_RS_RUNNING: return "running";
	case MARS_ENGINE_RS_WAITING: return "waiting";
	case MARS_ENGINE_RS_STOPPED: return "stopped";
	case MARS_ENGINE_RS_FAILED: return "failed";
	}
	return "unknown";
}

int
eng_status_write(const char *path, const struct mars_engine_status *st)
{
	char tmp[4160];
	FILE *f;
	int ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "mode=%s\nreplay=%s\nlogfile=%s\nsize=%" PRIu64 "\n"
		"log_end=%" PRIu64 "\nsynced_pos=%" PRIu64 "\npending_bytes=%" PRIu64 "\n"
		"sync_requests=%" PRIu64 "\nlog_syncs=%" PRIu64 "\n"
		"applied_logfile=%s\napplied_pos=%" PRIu64 "\n"
		"records=%" PRIu64 "\ndata_bytes=%" PRIu64 "\nrate_bps=%" PRIu64 "\n"
		"stop_result=%s\nstop_reason=%s\nstop_offset=%" PRIu64 "\n"
		"error=%d\nerror_text=%s\nemergency=%d\nfrontend=%s\ndevice=%s\n",
		mars_engine_mode_name(st->mode), mars_engine_replay_state_name(st->replay),
		st->logfile, st->size_bytes, st->log_end, st->synced_pos, st->pending_bytes,
		st->sync_requests, st->log_syncs, st->applied_logfile, st->applied_pos, st->records, st->data_bytes, st->rate_bps,
		mars_scan_result_name(st->stop_result),
		mars_scan_reason_name(st->stop_reason), st->stop_offset,
		st->error, st->error ? strerror(-st->error) : "", st->emergency,
		st->frontend, st->device);
	if (fflush(f) != 0 || ferror(f))
		ret = -EIO;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* The enum value whose name is @s, by asking the name function. */
static int
eng_enum_lookup(const char *s, int count, const char *(*name)(int))
{
	int i;

	for (i = 0; i < count; i++)
		if (!strcmp(name(i), s))
			return i;
	return 0;
}

static const char *eng_mode_i(int i) { return mars_engine_mode_name((enum mars_engine_mode)i); }
static const char *eng_rs_i(int i)
{
	return mars_engine_replay_state_name((enum mars_engine_replay_state)i);
}
static const char *eng_res_i(int i) { return mars_scan_result_name((enum mars_scan_result)i); }
static const char *eng_rea_i(int i) { return mars_scan_reason_name((enum mars_scan_reason)i); }

/* One "key=value" line into @st; unknown keys are skipped (newer writers). */
static void
eng_status_field(struct mars_engine_status *st, const char *k, const char *v)
{
	static const struct { const char *key; size_t off; } nums[] = {
		{ "size", offsetof(struct mars_engine_status, size_bytes) },
		{ "log_end", offsetof(struct mars_engine_status, log_end) },
		{ "synced_pos", offsetof(struct mars_engine_status, synced_pos) },
		{ "pending_bytes", offsetof(struct mars_engine_status, pending_bytes) },
		{ "sync_requests", offsetof(struct mars_engine_status, sync_requests) },
		{ "log_syncs", offsetof(struct mars_engine_status, log_syncs) },
		{ "applied_pos", offsetof(struct mars_engine_status, applied_pos) },
		{ "records", offsetof(struct mars_engine_status, records) },
		{ "data_bytes", offsetof(struct mars_engine_status, data_bytes) },
		{ "rate_bps", offsetof(struct mars_engine_status, rate_bps) },
		{ "stop_offset", offsetof(struct mars_engine_status, stop_offset) },
	};
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (!strcmp(k, nums[i].key)) {
			*(uint64_t *)((char *)st + nums[i].off) = strtoull(v, NULL, 10);
			return;
		}
	if (!strcmp(k, "mode"))
		st->mode = (enum mars_engine_mode)eng_enum_lookup(v, 3, eng_mode_i);
	else if (!strcmp(k, "replay"))
		st->replay = (enum mars_engine_replay_state)eng_enum_lookup(v, 5, eng_rs_i);
	else if (!strcmp(k, "logfile"))
		snprintf(st->logfile, sizeof(st->logfile), "%s", v);
	else if (!strcmp(k, "applied_logfile"))
		snprintf(st->applied_logfile, sizeof(st->applied_logfile), "%s", v);
	else if (!strcmp(k, "stop_result"))
		st->stop_result = (enum mars_scan_result)eng_enum_lookup(v, MARS_SCAN_SEQ_GAP + 1,
									eng_res_i);
	else if (!strcmp(k, "stop_reason"))
		st->stop_reason = (enum mars_scan_reason)eng_enum_lookup(v, MARS_REASON_COUNT,
									 eng_rea_i);
	else if (!strcmp(k, "error"))
		st->error = (int)strtol(v, NULL, 10);
	else if (!strcmp(k, "frontend"))
		snprintf(st->frontend, sizeof(st->frontend), "%s", v);
	else if (!strcmp(k, "device"))
		snprintf(st->device, sizeof(st->device), "%s", v);
	else if (!strcmp(k, "emergency"))
		st->emergency = (int)strtol(v, NULL, 10);
}

int
mars_engine_status_read(const char *path, struct mars_engine_status *st)
{
	char line[512], *eq, *nl;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		eq = strchr(line, '=');
		if (!nl || !eq)
			continue;
		*nl = '\0';
		*eq = '\0';
		eng_status_field(st, line, eq + 1);
	}
	fclose(f);
	return 0;
}
