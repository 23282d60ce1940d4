/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data-path engine as clusterd sees it: one operations table, two
 * implementations.  mars.ko is driven through its control device
 * (docs/kernel-interface.md), the userspace engine (engine/user.c, FUSE)
 * runs in the calling process.  Replication logic calls only these
 * functions and never asks which backend runs.
 *
 * docs/engine-interface.md is the normative description of every
 * operation, its states and its error codes; keep the two in step.
 *
 * Conventions: every function returns 0 or -errno and never prints;
 * positions are byte offsets inside a logfile; sizes are bytes.
 */
#ifndef MARS_ENGINE_H
#define MARS_ENGINE_H

#include <stdint.h>

#include "mars/logrec.h"

struct statefs;

#define MARS_ENGINE_NAME_MAX	255	/* logfile name, bytes */

struct mars_engine;		/* one attached resource; opaque */

#define MARS_ENGINE_PREALLOC_DEFAULT	(4ULL << 20)	/* --prealloc-kib 4096 */
#define MARS_ENGINE_PREALLOC_OFF	UINT64_MAX	/* --prealloc-kib 0 */

/* What attach needs to know about a resource on this node. */
struct mars_engine_config {
	const char *root;		/* state tree root (/mars) */
	const char *host;		/* this node's name */
	const char *resource;		/* resource name */
	const char *disk;		/* underlying disk or image; never created */
	uint64_t size_bytes;		/* resource size; 0 = the whole disk */
	unsigned int checkpoint_ms;	/* applied-position update period; 0 = 1000 */
	const char *status_path;	/* NULL = <root>/resource-<res>/.engine-status */
	/* proc only (engine/proc.c): the mars-engine program, the directory
	 * where its FUSE mount serves the device file, its message log. */
	const char *exe;
	const char *mount;
	const char *log_path;
	/* Emergency mode (docs/engine.md): below this many free bytes on the
	 * log's file system the primary stops logging and writes through to
	 * the disk.  0 = off: a full log file system fails writes instead. */
	uint64_t emergency_free_bytes;
	/* Primary (user engine): logged writes wait in memory for their log
	 * sync before they go to the disk; writers wait when this many bytes
	 * are pending.  0 = the default, 64 MiB. */
	uint64_t pending_bytes;
	/* Primary (user engine): zero bytes written ahead of the log end of
	 * the logfile being written, this many at a time, so that a log sync
	 * flushes data and not a growing file's size (docs/logfile-format.md
	 * 1.1 and 3.1).  0 = the default, MARS_ENGINE_PREALLOC_DEFAULT;
	 * MARS_ENGINE_PREALLOC_OFF = none (the logfile grows record by record). */
	uint64_t prealloc_bytes;
	/* Primary (user engine): how the device is served, "auto" (NBD if
	 * the kernel has it and a device is free, else FUSE), "nbd" or
	 * "fuse".  NULL = the engine's default, auto. */
	const char *frontend;
};

enum mars_engine_mode {
	MARS_ENGINE_ATTACHED = 0,	/* disk checked and locked, no data path */
	MARS_ENGINE_PRIMARY,		/* device writable, every write logged */
	MARS_ENGINE_REPLAY,		/* applying a logfile, device not writable */
};

enum mars_engine_replay_state {
	MARS_ENGINE_RS_NONE = 0,	/* not replaying */
	MARS_ENGINE_RS_RUNNING,		/* applying records */
	MARS_ENGINE_RS_WAITING,		/* at the end or an incomplete tail: the file may grow */
	MARS_ENGINE_RS_STOPPED,		/* torn, corrupt or gap: stop_* say where and why */
	MARS_ENGINE_RS_FAILED,		/* I/O error on disk or logfile: error says which */
};

/* A snapshot of one engine; every field is a copy. */
struct mars_engine_status {
	enum mars_engine_mode mode;
	enum mars_engine_replay_state replay;
	char logfile[MARS_ENGINE_NAME_MAX + 1];	/* written (primary) or replayed */
	uint64_t size_bytes;		/* resource size */
	uint64_t log_end;		/* primary: bytes appended to logfile */
	uint64_t synced_pos;		/* primary: bytes of logfile durable */
	uint64_t pending_bytes;		/* primary: logged data not on the disk yet */
	uint64_t sync_requests;		/* primary: flushes asked for since the mode was set */
	uint64_t log_syncs;		/* primary: fdatasyncs of the log they cost (group commit) */
	char applied_logfile[MARS_ENGINE_NAME_MAX + 1];	/* logfile of applied_pos */
	uint64_t applied_pos;		/* bytes of it applied and synced on disk */
	uint64_t records;		/* records written or applied since the mode was set */
	uint64_t data_bytes;		/* device bytes of those records */
	uint64_t rate_bps;		/* data bytes per second, last period */
	enum mars_scan_result stop_result;	/* replay: what stopped or holds it */
	enum mars_scan_reason stop_reason;
	uint64_t stop_offset;		/* logfile offset of that stop */
	int error;			/* -errno of the last failure, or 0 */
	int emergency;			/* primary: not logging, writing through */
	char frontend[8];		/* primary (user engine): "nbd", "fuse" or "" */
	char device[256];		/* its device: /dev/nbdN or <mount>/<res>; "" */
};

struct mars_engine_ops {
	const char *name;		/* "kmod", "user" */
	/* Check and lock the disk for @cfg; no data path yet.  -EBUSY if
	 * another engine holds the resource, -ENOENT missing disk,
	 * -ENOSPC disk smaller than the resource. */
	int (*attach)(const struct mars_engine_config *cfg, struct mars_engine **out);
	/* Stop everything, make the current state durable, unlock, free. */
	void (*detach)(struct mars_engine *e);
	/* Recover from the replay link, start a fresh logfile, accept writes. */
	int (*set_primary)(struct mars_engine *e);
	/* Apply @logfile from @pos, following it as it grows. */
	int (*set_replay)(struct mars_engine *e, const char *logfile, uint64_t pos);
	/* Primary: continue in logfile N+1 (a no-op while N is empty). */
	int (*rotate)(struct mars_engine *e);
	int (*status)(struct mars_engine *e, struct mars_engine_status *st);
};

extern const struct mars_engine_ops mars_engine_user_ops;
/* The userspace engine as a child process per mode (engine/proc.c), so
 * that the device outlives a restart of clusterd. */
extern const struct mars_engine_ops mars_engine_proc_ops;
/* mars.ko through /dev/mars-control (engine/kmod.c); the device is the
 * module's /dev/mars/<res>. */
extern const struct mars_engine_ops mars_engine_kmod_ops;

/*
 * The durable end of the log (engine/durable.c): how far the local data
 * path (mars.ko or the userspace engine) has made @logfile of resource
 * @res durable, while it writes that logfile.  Returns 1 and *@end, 0
 * when no local data path writes it (it is durable as it is), or -errno
 * (-EAGAIN: the mark was being rewritten; ask again).  The mark is read
 * through @sf, the open state tree (statefs_file_open()).
 */
int mars_engine_durable_end(struct statefs *sf, const char *res, const char *logfile,
			    uint64_t *end);
/* Open the control device mars_engine_durable_end() asks, and keep it for
 * the process's life (a process that confines itself calls this first).
 * 1 when mars.ko is loaded, else 0. */
int mars_engine_durable_prepare(void);
/* The userspace engine's side: open resource dir @resdir's mark (fd or
 * -errno) and rewrite it in place. */
int mars_durable_mark_open(const char *resdir);
int mars_durable_mark_write(int fd, const char *logfile, uint64_t off);

/* Parse a status file (engine/status.c writes it) into @st: 0 or -errno. */
int mars_engine_status_read(const char *path, struct mars_engine_status *st);

const char *mars_engine_mode_name(enum mars_engine_mode mode);
const char *mars_engine_replay_state_name(enum mars_engine_replay_state rs);

#endif /* MARS_ENGINE_H */
