/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may write what: the authorization every entry a peer sends passes
 * before statefs_merge() sees it (docs/state-tree.md section 8).  One
 * struct authz per merging session: the daemon's pulls (peer.c), the
 * serving end's pushes (serve.c) and a join's fetch (join.c).
 */
#ifndef MARS_CLUSTERD_AUTHZ_H
#define MARS_CLUSTERD_AUTHZ_H

#include <stdint.h>

#include "statefs/statefs.h"

#define AUTHZ_SKEW_S_DEFAULT		300		/* future stamps accepted up to */
#define AUTHZ_QUOTA_ENTRIES_DEFAULT	20000		/* links per origin host */
#define AUTHZ_QUOTA_BYTES_DEFAULT	(4U << 20)	/* path + value bytes per origin */
#define AUTHZ_ORIGINS_MAX		256		/* hosts counted; more are refused */
#define AUTHZ_DEFERRED_MAX		64		/* primary entries waiting for their member */

/* Why an entry was refused; AUTHZ_OK is 0. */
enum authz_verdict {
	AUTHZ_OK = 0,
	AUTHZ_UUID,		/* rewrites the cluster uuid */
	AUTHZ_IPS,		/* ips/ entry misnamed or not an address */
	AUTHZ_OWN_NAME,		/* a name of this host (live or tombstone) */
	AUTHZ_NOT_OWNER,	/* another host's name, not sent by that host */
	AUTHZ_IPS_RELAY,	/* changes ips/ip-X of a known X, not sent by X */
	AUTHZ_SIZE_SHRINK,	/* resource-RES/size smaller than ours */
	AUTHZ_PRIMARY,		/* primary names no member of the resource */
	AUTHZ_FUTURE,		/* stamp beyond the allowed clock skew */
	AUTHZ_QUOTA,		/* origin host over its entry or byte quota */
	AUTHZ_MERGE,		/* statefs_merge() refused it (grammar, owner, ...) */
	AUTHZ_EVICTED,		/* from an evicted peer, or a live ips/ip-X of an evicted X */
	AUTHZ_EVICT_NAME,	/* evicted/ entry misnamed or not naming a host */
	AUTHZ_KEY_NAME,		/* keys/ entry not named key-HOST */
	AUTHZ_KEY_RELAY,	/* keys/key-X not sent by X (nor taken by a join) */
	AUTHZ_NR
};

/* Limits; zero fields take the defaults above. */
struct authz_limits {
	unsigned skew_s;		/* seconds a stamp may lie ahead of our clock */
	uint64_t quota_entries;		/* links one origin host may hold in our tree */
	uint64_t quota_bytes;		/* bytes of path and value of those links */
};

struct authz_origin {
	char host[STATEFS_NAME_MAX + 1];	/* "" : cluster-wide keys */
	uint64_t entries, bytes;
};

struct authz_deferred {
	char peer[STATEFS_NAME_MAX + 1];
	char path[STATEFS_PATH_MAX + 1];
	char value[STATEFS_VALUE_MAX + 1];
	uint64_t stamp_ns;
	uint64_t deadline_ms;		/* refused if its member is still unknown then */
};

struct authz {
	struct statefs *sf;		/* the tree merged into; its host is "us" */
	const char *uuid;		/* local cluster uuid, "" during a first join */
	const char *role;		/* what log lines call the peer: "peer" (the
					   default: daemon, join) or "client" (serve) */
	int join_keys;			/* a join's pull: the member's keys/key-X are
					   taken for each X we hold no link of */
	int pushed;			/* entries a client pushes (serve), not a
					   member's listing of its tree (a pull) */
	struct authz_limits lim;
	/* Per-origin usage, counted from the tree; recounted when an origin
	 * reaches its quota and the count is older than a few seconds. */
	struct authz_origin *origins;	/* AUTHZ_ORIGINS_MAX */
	size_t n_origins;
	uint64_t counted_ms;		/* 0: never counted */
	/* primary entries naming a member whose data- link has not arrived
	 * yet: re-checked by authz_batch_end() until their deadline */
	struct authz_deferred *deferred;	/* AUTHZ_DEFERRED_MAX */
	size_t n_deferred;
	uint64_t refused[AUTHZ_NR];	/* by verdict, since authz_init() */
	/* refusal log lines, rate-limited per window */
	uint64_t log_window_ms;
	unsigned logged;
	uint64_t suppressed;
};

/*
 * Set up @a for merging into @sf (whose host name is the local host) in
 * the cluster @uuid (kept by reference).  Bounds @sf's future-stamp limit
 * to the skew, so that no merge advances the local Lamport clock beyond
 * real time plus skew.  Returns 0 or -ENOMEM.
 */
int authz_init(struct authz *a, struct statefs *sf, const char *uuid,
	       const struct authz_limits *lim);
void authz_release(struct authz *a);

/*
 * Decide on one entry from the directly connected peer @peer, without
 * writing.  Returns a verdict; AUTHZ_PRIMARY is the one a later entry of
 * the same batch may cure (see authz_merge()).
 */
enum authz_verdict authz_check(struct authz *a, const char *peer, const char *path,
			       const char *value, uint64_t stamp_ns);

/*
 * Check and merge one entry from @peer.  Returns 1 if it changed the
 * tree, 0 if not (kept, or deferred until authz_batch_end()), or -1 if it
 * was refused (logged rate-limited with the peer's name, counted in
 * @a->refused and in the tree handle's stats.refused_policy).
 */
int authz_merge(struct authz *a, const char *peer, const char *path, const char *value,
		uint64_t stamp_ns);

/* End of a batch: merge the deferred entries whose member arrived, refuse
 * those that waited too long, keep the rest.  Returns the number merged;
 * *@refused (may be NULL) gets the number refused. */
unsigned authz_batch_end(struct authz *a, unsigned *refused);

/*
 * Refusals by the serving ends (`clusterd --serve`, one process per SSH
 * session) are counted in the node's counters file (statefs_counters_add())
 * for the daemon's metrics, under the reason labels of
 * mars_gossip_refusals_total: the entry reasons of statefs_stats_refusals(),
 * these three for whole requests, the daemon's key refusals and the
 * fetcher's unvouched streams.
 */
#define AUTHZ_COUNT_IDENTITY	"identity"	/* key binding, HELLO name, join by a member */
#define AUTHZ_COUNT_FETCH	"fetch"		/* a FETCH refused (not a member, bad name) */
#define AUTHZ_COUNT_SYNC	"sync"		/* a SYNC refused (not a member, not primary) */
#define AUTHZ_COUNT_KEY		"key"		/* a member key kept out of authorized_keys
						   (changed, or bound elsewhere; keys.h) */
/* ... and by this node's fetcher: logfile bytes from a member that is not
 * their origin, refused because no vouch covered them (protocol.md 9.2) */
#define AUTHZ_COUNT_UNVOUCHED	"unvouched"

/* Count one refused request of kind @reason (AUTHZ_COUNT_*); a failure
 * to count is logged at debug level only. */
void authz_count(struct statefs *sf, const char *reason);

/* Count the entries @sf refused since *@since (its stats then), and make
 * *@since its stats now. */
void authz_count_entries(struct statefs *sf, struct statefs_stats *since);

/* A short description of @v, for logs and messages. */
const char *authz_verdict_str(enum authz_verdict v);

#endif /* MARS_CLUSTERD_AUTHZ_H */
