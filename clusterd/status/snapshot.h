/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A snapshot of the cluster as this node's state tree shows it: members
 * with their heartbeats, resources with one replica per storage member and
 * the view model's words (role, disk state, replication state, flags) and
 * lag figures (view/view.h).  The status page builds one per tick and renders it three
 * ways (api.c JSON, metrics.c Prometheus text, status.c events/alerts), so
 * the tree is read in one place only.
 */
#ifndef MARS_CLUSTERD_SNAPSHOT_H
#define MARS_CLUSTERD_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "statefs/statefs.h"

#define SNAP_MEMBERS_MAX	256	/* members kept; more are counted, not listed */
#define SNAP_RESOURCES_MAX	1024	/* resources kept */
#define SNAP_REPLICAS_MAX	32	/* storage members per resource kept (VIEW_MAX_MEMBERS) */
#define SNAP_STATE_BYTES	48	/* "PrimaryUnreachable", "WriteBack[n]" (VIEW_WORD_BYTES) */

struct snap_member {
	char host[STATEFS_NAME_MAX + 1];
	char addr[STATEFS_VALUE_MAX + 1];	/* value of ips/ip-HOST */
	uint64_t heartbeat_ns;			/* stamp of actual-HOST/time, 0 = none */
	double heartbeat_age_s;			/* now - heartbeat; -1 without one */
	int alive;				/* heartbeat younger than the window */
	int emergency;				/* actual-HOST/emergency > 0 */
};

/* Counters of one transfer kind (fetch, sync) received by this node,
 * from its driver status file (docs/http-api.md, "Transfer"). */
struct snap_transfer {
	uint64_t bytes_raw;			/* payload bytes as written */
	uint64_t bytes_wire;			/* as carried, compressed or not */
	uint64_t cpu_ns;			/* decompressing here */
	uint64_t peer_cpu_ns;			/* compressing, as the senders reported */
};

struct snap_replica {
	char host[STATEFS_NAME_MAX + 1];
	char device[STATEFS_VALUE_MAX + 1];	/* data-HOST: backing device path */
	char role[SNAP_STATE_BYTES];		/* Primary, Secondary, None, ... */
	char disk[SNAP_STATE_BYTES];		/* UpToDate, InConsistent, ... */
	char repl[SNAP_STATE_BYTES];		/* Replicating, Replaying, ... */
	char flags[8];				/* six chars, e.g. "-CASFR" */
	uint64_t replay_nr;			/* logfile number of replay-HOST */
	uint64_t replay_pos_bytes;		/* position applied in it */
	uint64_t sync_bytes;			/* syncstatus-HOST */
	double sync_rate_bps;			/* sync bytes/s, smoothed; 0 = unknown or stalled */
	double sync_remaining_s;		/* time to complete; 0 when synced, -1 unknown */
	uint64_t sync_seen_ns;			/* snapshot time sync_seen_bytes was first seen */
	uint64_t sync_seen_bytes;		/* sync_bytes when it last moved */
	uint64_t lag_bytes;			/* logfile bytes not yet applied */
	/* Age of the oldest write not applied here, from the stamp the
	 * primary publishes (docs/state-tree.md 3.6); where it publishes
	 * none, the difference of the two replay links' stamps while
	 * lag_bytes > 0 (view.h lag_ns). */
	double lag_s;
	uint64_t logfile_bytes;			/* size of HOST's logfiles in the tree */
	int actual_primary;			/* actual-HOST/is-primary = 1 */
	/* This node's own log while it is primary, from its driver status
	 * file (never gossiped): log_known is 0 on every other replica. */
	int log_known;
	uint64_t log_end_bytes;			/* appended to the logfile written */
	uint64_t log_durable_bytes;		/* of those, known durable */
	uint64_t pending_bytes;			/* completed writes not yet on the disk */
	/* This node's own transfers, likewise: transfer_known is 0 elsewhere. */
	int transfer_known;
	struct snap_transfer fetch, sync;
	int alive;				/* the member's heartbeat is recent */
};

struct snap_resource {
	char name[STATEFS_NAME_MAX + 1];
	uint64_t size_bytes;
	char primary[STATEFS_NAME_MAX + 1];	/* designated primary or "(none)" */
	int split_brain;			/* repl_split_detect(): histories diverged */
	int emergency;				/* the primary's host is in emergency mode */
	char resolve[512];			/* where it parts and the commands that resolve it, or "" */
	struct snap_replica *replicas;		/* [0..n_replicas), at most SNAP_REPLICAS_MAX */
	size_t n_replicas;
	size_t cap_replicas;
};

struct snapshot {
	char uuid[STATEFS_VALUE_MAX + 1];
	char self[STATEFS_NAME_MAX + 1];	/* host of this node */
	uint64_t now_ns;			/* realtime when taken */
	uint64_t alive_window_ns;		/* heartbeat age still counted alive */
	struct snap_member *members;		/* [0..n_members) by name */
	size_t n_members;
	struct snap_resource *resources;	/* [0..n_resources) by name */
	size_t n_resources;
	size_t cap_resources;
	struct statefs_stats merge;		/* this node's gossip merge counters: the
						   daemon's pulls and the serving ends */
	struct statefs_counters counters;	/* the node's counters file they come from
						   (statefs counters.c), refusals included */
};

/*
 * Read the tree into @s (zeroed by the call).  @alive_window_ns bounds the
 * heartbeat age of a live member.  Returns 0 or -errno (-ENOMEM); a tree
 * that lacks keys yields empty fields, not an error.  Free with
 * snapshot_release().
 */
int snapshot_take(struct snapshot *s, struct statefs *sf, uint64_t alive_window_ns);
void snapshot_release(struct snapshot *s);

/*
 * Sync rate and remaining time of every replica of @n, carried over from
 * the previous snapshot @o (NULL for the first): each time syncstatus-HOST
 * moves, the rate since it last moved is folded into a moving average
 * (SNAP_SYNC_RATE_KEEP of the old rate), and the remaining bytes divided
 * by it.  A sync that has not moved for SNAP_SYNC_STALL_NS has no rate and
 * no remaining time; one that went backwards (restarted) starts over.
 * Pure: only the snapshots' now_ns is used as the clock.
 */
#define SNAP_SYNC_RATE_KEEP	0.7
#define SNAP_SYNC_STALL_NS	(60ULL * 1000000000ULL)
void snapshot_sync_rates(struct snapshot *n, const struct snapshot *o);

/*
 * Refusals by reason into @out, as /metrics and /api/v1/cluster report
 * them, from the node's counters file, where the daemon publishes its
 * pulls' and the serving ends count theirs: entries by reason, then the
 * requests the serving ends refused whole (identity, fetch, sync), and the
 * member keys the daemon kept out of authorized_keys (key).
 */
void snapshot_refusals(const struct snapshot *s, struct statefs_counters *out);

/* Lookups; NULL if absent. */
const struct snap_member *snapshot_member(const struct snapshot *s, const char *host);
const struct snap_resource *snapshot_resource(const struct snapshot *s, const char *name);
const struct snap_replica *snap_resource_replica(const struct snap_resource *r,
						 const char *host);

#endif /* MARS_CLUSTERD_SNAPSHOT_H */
