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
#include <stdio.h>
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
		"log_end=%" PRIu64 "\nsynced_pos=%" PRIu64 "\n"
		"sync_requests=%" PRIu64 "\nlog_syncs=%" PRIu64 "\n"
		"applied_logfile=%s\napplied_pos=%" PRIu64 "\n"
		"records=%" PRIu64 "\ndata_bytes=%" PRIu64 "\nrate_bps=%" PRIu64 "\n"
		"stop_result=%s\nstop_reason=%s\nstop_offset=%" PRIu64 "\n"
		"error=%d\nerror_text=%s\n",
		mars_engine_mode_name(st->mode), mars_engine_replay_state_name(st->replay),
		st->logfile, st->size_bytes, st->log_end, st->synced_pos,
		st->sync_requests, st->log_syncs, st->applied_logfile, st->applied_pos, st->records, st->data_bytes, st->rate_bps,
		mars_scan_result_name(st->stop_result),
		mars_scan_reason_name(st->stop_reason), st->stop_offset,
		st->error, st->error ? strerror(-st->error) : "");
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
