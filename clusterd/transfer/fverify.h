/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Verified fetch from a member that is not a logfile's origin
 * (docs/protocol.md section 9.2, docs/state-tree.md 3.8).
 *
 * Such a member's bytes are believed only up to a length the origin or
 * the designated primary vouched for, and only if the logfile's prefix
 * and the received bytes hash to that vouch.  Until the digest is
 * compared, the bytes wait in a node-private staging file
 * (resource-RES/.unverified), never in the logfile: replay reads the
 * logfile, so the logfile holds only verified bytes at every instant,
 * crash or not.  Once verified they are appended and made durable.
 *
 * Failure policy: nothing here logs; every function returns 0/1 or
 * -errno and the fetcher words the message.
 */
#ifndef MARS_CLUSTERD_FVERIFY_H
#define MARS_CLUSTERD_FVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "repl/repl.h"
#include "statefs/statefs.h"

#define FVERIFY_STAGE_NAME	".unverified"	/* in resource-RES/, node-private */

/* One resource's verifier; the fetcher's thread owns it. */
struct fverify {
	struct repl_vouch_hash vh;	/* SHA-256 of the logfile's [0, len), kept
					   across streams, then of what is staged */
	struct repl_vouch vouch;	/* what the current stream must meet */
	int stage_fd;			/* the staging file, -1 if not open */
	uint64_t from;			/* the logfile's verified length at the start */
	uint64_t staged;		/* bytes staged since (hashed too) */
};

void fverify_init(struct fverify *v);
void fverify_release(struct fverify *v);

/*
 * The vouch a stream of logfile @name from a non-origin peer must meet:
 * the longest one of the origin or of the designated primary (resource-
 * RES/primary) that covers more than our @have bytes and no more than the
 * peer's @peer_size.  1 and *@out, 0 if there is none, or -errno.
 */
int fverify_pick(struct statefs *sf, const char *res, const char *name, uint64_t have,
		 uint64_t peer_size, struct repl_vouch *out);

/*
 * Start a stream of logfile @name (open as @fd, @len verified bytes) that
 * must meet @vouch: hash the prefix (only what the kept state lacks) and
 * empty the staging file.  0 or -errno.
 */
int fverify_begin(struct fverify *v, struct statefs *sf, const char *res, const char *name,
		  int fd, uint64_t len, const struct repl_vouch *vouch);

/* @n received bytes: hashed and staged.  0 or -errno. */
int fverify_data(struct fverify *v, const void *p, size_t n);

/*
 * The stream ended.  If exactly the vouched length was staged and the
 * digest matches, append the staged bytes up to @keep_to (the wanted
 * final length, or more) to @fd and fdatasync it: returns 1 with
 * *@appended set.  0 when refused (short, or a different digest; nothing
 * appended), -errno on a local failure.
 */
int fverify_finish(struct fverify *v, int fd, uint64_t keep_to, uint64_t *appended);

/* The stream ended without a verdict: drop what was staged. */
void fverify_abort(struct fverify *v);

#endif /* MARS_CLUSTERD_FVERIFY_H */
