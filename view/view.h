/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one view model: what the operator is told about one replica (a
 * resource on one host) as this node's state tree shows it.  The model is
 * read from the tree once (model.c, status_files.c); every state word,
 * flag and number is a small pure function of it (words.c, macros.c).
 * `marsadm view` with its macros and --json, and clusterd's status page
 * (snapshot, API, metrics, events) render these and derive nothing of
 * their own, so they cannot disagree.  docs/marsadm.8 and
 * docs/http-api.md document the vocabulary; tests/unit/test_view.c,
 * tests/bats/21-view.bats and 62-view-api.bats check it.
 */
#ifndef MARS_VIEW_H
#define MARS_VIEW_H

#include <stdint.h>
#include <stddef.h>

#include "statefs/statefs.h"
#include "repl/repl.h"

#define VIEW_MAX_MEMBERS	32
#define VIEW_WINDOW_NS		(60ULL * STATEFS_NS_PER_S)	/* default silent window */
#define VIEW_DRIVER_FRESH_NS	(10ULL * STATEFS_NS_PER_S)	/* .driver-status freshness */

enum view_todo { TODO_ATTACH, TODO_CONNECT, TODO_SYNC, TODO_REPLAY, TODO_COUNT };
enum view_beat { BEAT_NONE, BEAT_STALE, BEAT_FRESH };

/* "log-NNNNNNNNN-ORIGIN,POS,LEN" */
struct view_replay {
	int valid;
	uint64_t lognr;
	char origin[STATEFS_NAME_MAX + 1];
	uint64_t pos_bytes, len_bytes;
};

/* One logfile number as far as the view needs it. */
struct view_log {
	uint64_t nr;
	char origin[STATEFS_NAME_MAX + 1];
	uint64_t local_bytes;		/* size of the local file, if any */
	int local;
	uint64_t primary_bytes;		/* length in the primary's version link */
	int in_primary;
	char version[STATEFS_VALUE_MAX + 1];	/* first version link value seen */
};

enum view_drv { DRV_ABSENT, DRV_STALE, DRV_FRESH };

/* What differs per caller, passed in rather than guessed. */
struct view_inputs {
	uint64_t now_ns;		/* realtime the model is taken at */
	uint64_t silent_ns;		/* heartbeat older than this: not alive */
	/*
	 * The viewed host is this node: its status files, its device and
	 * the logfiles in this /mars are its own.  For another host they
	 * are not, so its amounts come from the tree alone (lag_bytes).
	 */
	int local;
};

/* The usual inputs of this node's own replica: now, the default window. */
void view_inputs_local(struct view_inputs *in);

/*
 * This node's replication driver as its status file says
 * (<root>/resource-RES/.driver-status, written by clusterd about once a
 * second; docs/replication.md).  Only a DRV_FRESH status is used.
 */
struct view_driver {
	enum view_drv state;
	uint64_t version;			/* of the file format: 1 */
	uint64_t updated_ns;			/* realtime when written */
	char action[32];			/* idle, start-replay, sync, ... */
	char why[512];				/* the driver's explanation */
	uint64_t split;				/* 1: stopped at a divergence */
	char engine_mode[16];			/* none, attached, primary, replay */
	char engine_frontend[8];		/* user engine primary: nbd, fuse; or "" */
	char engine_device[256];		/* its device: /dev/nbdN or the FUSE file */
	char replay_state[16];			/* none, running, waiting, stopped, failed */
	uint64_t replay_rate_bps;
	int logging;				/* log_* lines present: primary */
	char log_name[STATEFS_NAME_MAX + 32];	/* the logfile written */
	uint64_t log_end_bytes, log_durable_bytes, pending_bytes;
	int fetching;				/* fetch_* lines present */
	char fetch_name[STATEFS_NAME_MAX + 32];	/* "log-NNNNNNNNN-ORIGIN" */
	char fetch_peer[STATEFS_NAME_MAX + 1];
	uint64_t fetch_local_bytes, fetch_remote_bytes, fetch_rate_bps;
	int64_t fetch_error;			/* -errno, 0 healthy */
	char fetch_why[256];
	int syncing;				/* sync_* lines present */
	char sync_peer[STATEFS_NAME_MAX + 1];
	uint64_t sync_pos_bytes, sync_size_bytes, sync_equal_bytes, sync_copied_bytes;
	uint64_t sync_rate_bps;
	int64_t sync_error;
	char sync_why[256];
	int limits;				/* limit_* lines present */
	uint64_t limit_fetch_bps, limit_node_bps, limit_share_bps;	/* 0 = none */
	char limit_fetch_from[24], limit_node_from[24];	/* none, option, defaults, ... */
	uint64_t fetch_priority;		/* weight in the node limit */
	char compress[8];			/* auto, zstd, none */
	int transfer;				/* the counters below present */
	uint64_t fetch_bytes_raw, fetch_bytes_wire, fetch_cpu_ns, fetch_peer_cpu_ns;
	uint64_t sync_bytes_raw, sync_bytes_wire, sync_cpu_ns, sync_peer_cpu_ns;
};

/*
 * Why replay stopped, from the engine's status file
 * (<root>/resource-RES/.engine-status, docs/engine.md); read only while
 * the driver says the replay stopped or failed.
 */
struct view_engine {
	int present;				/* a stopped or failed replay */
	char mode[16], replay[16];
	char logfile[STATEFS_NAME_MAX + 32];	/* applied_logfile */
	char stop_result[24], stop_reason[32];	/* the scanner's names */
	uint64_t stop_offset;			/* bytes into logfile */
	int64_t error;				/* -errno */
	char error_text[128];
};

struct view_res {
	char name[STATEFS_NAME_MAX + 1];
	char host[STATEFS_NAME_MAX + 1];	/* the host whose replica is viewed */
	struct view_inputs in;
	uint64_t size_bytes;
	char primary[STATEFS_NAME_MAX + 1];	/* designated primary, "" for none */
	int member;				/* host has a data- link */
	char data[STATEFS_VALUE_MAX + 1];	/* host's backing device */
	int todo[TODO_COUNT];			/* -1 absent, else 0/1 */
	int acted[TODO_COUNT];			/* actual-HOST/acted-*: the todo value
						   the daemon carried out; -1 absent */
	int is_attached, is_primary;		/* actual-HOST/, -1 absent */
	int n_actual_primaries;			/* members whose is-primary is 1 */
	int primary_emergency;			/* designated primary's is-emergency 1,
						   or its actual-HOST/emergency > 0 */
	int log_tombstoned;			/* the replay link's logfile was deleted */
	uint64_t syncstatus_bytes;
	struct view_replay syncpos;		/* host's syncpos link: consistent from there */
	struct view_replay replay;		/* host's replay link */
	char members[VIEW_MAX_MEMBERS][STATEFS_NAME_MAX + 1];
	int n_members, n_alive;
	enum view_beat beat;			/* host's own heartbeat */
	int primary_alive;			/* designated primary's heartbeat fresh */
	struct view_log *logs;			/* sorted by nr, n_logs entries */
	size_t n_logs, cap_logs;
	/*
	 * Amount cursors (bytes), counted from the start of the replay link's
	 * logfile to the end of the newest one: replay position, bytes here
	 * (local files), bytes the primary logged (its version links, local
	 * sizes, the fetcher's remote size, whichever is largest).
	 */
	uint64_t replay_pos_bytes, fetch_pos_bytes, fetch_size_bytes;
	uint64_t replay_rest_bytes, fetch_rest_bytes, work_rest_bytes;
	uint64_t newest_nr;			/* newest logfile number counted */
	int orphan;				/* replay logfile gone or too short */
	int64_t replay_lag_s;			/* -1 unknown */
	int64_t replay_age_s;			/* oldest write not applied here, -1 unknown */
	/*
	 * Lag, the same for every viewer: bytes between this replica's
	 * replay position and the designated primary's (summing the sizes of
	 * the logfiles between them this node holds; 0 on the primary), and
	 * its age: the primary's published stamp when there is one, else
	 * the replay links' stamp difference while lag_bytes > 0, else 0.
	 */
	uint64_t lag_bytes;
	uint64_t lag_ns;
	uint64_t replay_stamp_ns;		/* of this host's replay link */
	uint64_t sync_pos_bytes;		/* max(syncstatus, the syncer's position) */
	struct view_driver drv;
	struct view_engine eng;
	int split_brain;			/* repl_split_detect() over the tree */
	struct repl_split split;		/* ... and where, if split_brain */
	char blocker[STATEFS_NAME_MAX + 1];	/* member holding logfile deletion, "" none */
	uint64_t blocker_nr;			/* ... at its replay logfile */
	uint64_t blocked_since_ns;		/* ... since its replay link last moved */
	uint64_t deletable_nr;			/* logfiles below this number may go */
	uint64_t now_ns;
};

/*
 * Read the replica of @res on @host with inputs @in (in->local: @host is
 * this node, so its status files are read).  Returns 0 or -errno; free
 * with view_release().
 */
int view_load(struct statefs *sf, const char *res, const char *host,
	      const struct view_inputs *in, struct view_res *v);
/*
 * Another replica of the resource @base was loaded for: the same, with
 * the resource-wide judgements (split brain, deletion blocker, which read
 * and verify every version link) copied from @base instead of made again.
 */
int view_load_member(struct statefs *sf, const struct view_res *base, const char *host,
		     const struct view_inputs *in, struct view_res *v);

/* This node's .driver-status and .engine-status into @v (status_files.c). */
void view_driver_load(struct statefs *sf, struct view_res *v);
void view_engine_load(struct statefs *sf, struct view_res *v);
/* Does clusterd's replication driver run @res on this node (a fresh
 * .driver-status)?  If so, @engine_mode (if not NULL) gets its engine's
 * mode (none, attached, primary, replay), else "". */
int view_driver_runs(struct statefs *sf, const char *res, char *engine_mode, size_t size);
/* 1 when the driver of @res runs, with what it is doing and why in @why. */
int view_driver_fresh_why(struct statefs *sf, const char *res, char *why, size_t size);
void view_release(struct view_res *v);

enum view_type { VIEW_STR, VIEW_INT, VIEW_SINT, VIEW_BOOL };

struct view_val {
	enum view_type type;
	char str[STATEFS_VALUE_MAX + 1];	/* text form, always filled */
	uint64_t num;				/* VIEW_INT and VIEW_BOOL */
	int64_t snum;				/* VIEW_SINT (-1: unknown) */
};

/* 1 if there is no syncpos link, or replay has reached it. */
int view_syncpos_reached(const struct view_res *v);

/*
 * The operator's words (words.c); docs/marsadm.8 lists them and the
 * order in which they are tested.  @buf of VIEW_WORD_BYTES for the words
 * that carry a number (OutDated[FR], WriteBack[n]); @flags of 7.
 */
#define VIEW_WORD_BYTES	48
const char *view_role(const struct view_res *v);
const char *view_diskstate(const struct view_res *v, char *buf, size_t size);
const char *view_replstate(const struct view_res *v);
void view_flags(const struct view_res *v, char flags[7]);
int view_consistent(const struct view_res *v);
int view_designated(const struct view_res *v);
/* The daemon of the viewed host runs: a fresh driver status here, a
 * live heartbeat for another host. */
int view_daemon_runs(const struct view_res *v);

/* Seconds for @rest_bytes at @rate_bps: 0 when nothing is left, -1 at rate 0. */
int64_t view_remain_s(uint64_t rest_bytes, uint64_t rate_bps);

/* Rates from a fresh driver status (bytes/s), else 0. */
uint64_t view_replay_rate(const struct view_res *v);
uint64_t view_fetch_rate(const struct view_res *v);
uint64_t view_sync_rate(const struct view_res *v);

/* The longer of replaying work-rest and fetching fetch-rest; -1 unknown. */
int64_t view_work_remain_s(const struct view_res *v);

/* Why the engine's replay stopped or failed, "" while it does not. */
void view_replay_error(const struct view_res *v, char *buf, size_t size);

/* The driver's why, or "clusterd not running? ..." for a member without a fresh one. */
void view_driver_why(const struct view_res *v, char *buf, size_t size);

struct view_macro {
	const char *name;	/* "diskstate"; the command is "view-diskstate" */
	void (*fn)(const struct view_res *v, struct view_val *out);
};

/* NULL-terminated, in the order `view --json` lists the fields. */
extern const struct view_macro view_macros[];
const struct view_macro *view_macro_find(const char *name);

#endif /* MARS_VIEW_H */
