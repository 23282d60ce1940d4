/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile transfer ("fetch", protocol 1.1, docs/protocol.md section 9).
 *
 * A fetcher brings the logfiles of one resource to this node, as appends
 * to <root>/resource-RES/NAME, strictly in the order it is given, from the
 * logfile's origin host if it can, else from any member that holds more.
 * It owns one thread and its own SSH connections (never the gossip ones,
 * so a long transfer cannot delay gossip).  Bytes are fdatasync'ed before
 * the fetcher reports them in local_len: replay may follow local_len.
 *
 * Failure policy: nothing here exits or blocks the caller.  Every failure
 * (peer unreachable, refused, local I/O) is retried with a backoff and
 * reported in fetcher_status() (error, why) until it clears.
 *
 * The serving end is fetch_serve(), entered by `clusterd --serve` when a
 * client's first fetch request arrives.
 */
#ifndef MARS_CLUSTERD_FETCH_H
#define MARS_CLUSTERD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/link.h"
#include "clusterd/transfer/piece.h"

#define FETCH_NAME_MAX	255	/* logfile name, bytes */
#define FETCH_FOLLOW	UINT64_MAX	/* fetch_want.final_len: still growing */

/* One logfile to bring local, in this order. */
struct fetch_want {
	char name[FETCH_NAME_MAX + 1];	/* "log-NNNNNNNNN-ORIGIN" */
	uint64_t final_len;		/* its complete length in bytes if known (origin
					   closed it), else FETCH_FOLLOW: follow it */
};

/* What the fetcher does now; a snapshot taken under its lock. */
struct fetch_status {
	char name[FETCH_NAME_MAX + 1];	/* entry worked on ("" if none) */
	uint64_t local_len;		/* its durable local bytes */
	uint64_t remote_len;		/* its size at the peer, last heard */
	uint64_t final_len;		/* its wanted final length or FETCH_FOLLOW */
	char peer[64];			/* host fetched from ("" if none) */
	uint64_t bytes_total;		/* bytes written since fetcher_start */
	uint64_t rate_bps;		/* recent transfer rate, bytes per second */
	int error;			/* failure shown, -errno (transfer/failure.h:
					   first of the latest failed attempt); 0 when healthy */
	char why[256];			/* its explanation ("" when healthy) */
	unsigned refetches;		/* local copies truncated and fetched again */
	int complete;			/* every wanted entry reached its final_len
					   (a follow entry: caught up with the peer) */
	int stopped;			/* the thread took an empty wanted list and
					   runs no stream: nothing is written any more */
	struct piece_stats z;		/* logfile bytes received: raw, as carried,
					   CPU decoding here and encoding at peers */
};

struct fetcher;	/* one per resource; owns a thread and its connections */

/*
 * Start a fetcher for resource @res with configuration @c (root, host,
 * peers file, transport; @c must outlive the fetcher).  It has nothing to
 * do until fetcher_want().  Returns 0 or -errno.
 */
int fetcher_start(const struct gossip_config *c, const char *res, struct fetcher **out);
/*
 * Replace the wanted list (ordered, copied).  An empty list stops the
 * fetch: a stream in flight ends (FSTOP) and its bytes are synced before
 * fetch_status.stopped says so.  The fetcher works on the
 * first entry not yet complete and moves to entry i+1 only when entry i
 * reached its final_len.  A follow entry is kept up to date with the
 * best peer's copy by a streaming request (latency: one round trip after
 * the origin appends).
 */
void fetcher_want(struct fetcher *f, const struct fetch_want *w, size_t n);
/* Forget local bytes of @name from @offset on and fetch them again. */
void fetcher_refetch(struct fetcher *f, const char *name, uint64_t offset);
/* Bandwidth limit of this fetcher in bytes per second; 0 = unlimited. */
void fetcher_set_bwlimit(struct fetcher *f, uint64_t bytes_per_s);
void fetcher_status(struct fetcher *f, struct fetch_status *st);
/* Join the thread, close the connections, free @f. */
void fetcher_stop(struct fetcher *f);

/* ---- parts exported for the serving end and the unit tests ---------- */

/*
 * The serving end of one fetch session (fetch_serve.c): answer @first
 * (a FETCH) and every later request on @l until the client closes, from
 * the logfiles under c->root.  @sf is the session's open tree, in which
 * the client's membership is looked up for each request.  Returns 1 when
 * the session ended normally or -errno.
 */
int fetch_serve(struct gossip_link *l, const struct gossip_config *c, struct statefs *sf,
		const char *client, const struct gossip_msg *first);

#endif /* MARS_CLUSTERD_FETCH_H */
