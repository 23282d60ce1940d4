/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Full sync (docs/sync.md): bring a member's disk to the designated
 * primary's state by comparing both disks chunk by chunk and moving only
 * the chunks that differ, over the same SSH trust as gossip and fetch.
 *
 * A syncer owns one thread and one SSH connection of its own (never a
 * gossip or fetch connection).  It sends batches of digests of its own
 * chunks; the serving end (sync_serve.c, inside `clusterd --serve`)
 * digests its chunks, sends the bytes of those that differ and closes
 * each batch.  Written chunks are fdatasync'ed before `pos` moves past
 * them, so a recorded pos is always a safe restart point.
 *
 * Failure policy: nothing here exits.  A failure (peer gone, refused,
 * local I/O) ends the thread with error and why in the status; the
 * caller restarts from status.pos.
 */
#ifndef MARS_CLUSTERD_SYNC_H
#define MARS_CLUSTERD_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/link.h"
#include "clusterd/transfer/piece.h"

#define SYNC_PROTO_VERSION	1		/* docs/sync.md, carried in SYNC */
#define SYNC_CHUNK_BYTES	(64U << 10)	/* compare granularity */
#define SYNC_CHUNK_MIN		(4U << 10)
#define SYNC_CHUNK_MAX		(1U << 20)
#define SYNC_BATCH_MAX		256		/* chunks per SSUMS request, at most */
#define SYNC_DIGEST_BYTES	16		/* XXH3-128, seeded per session */
#define SYNC_PIECE_MAX		(32U << 10)	/* raw bytes per SDATA frame */

/* A snapshot of a syncer, taken under its lock. */
struct sync_status {
	uint64_t size_bytes;	/* resource size: the sync ends there */
	uint64_t from;		/* where this run started (a chunk boundary) */
	uint64_t pos;		/* bytes compared so far from the start; every
				   byte below it is durable on disk (resume point) */
	uint64_t bytes_equal;	/* bytes found equal by digest (not transferred) */
	uint64_t bytes_copied;	/* bytes transferred and written */
	uint64_t net_bytes;	/* bytes received over the network, all frames */
	uint64_t net_bytes_out;	/* bytes sent (digest batches, control) */
	uint64_t rate_bps;	/* compare rate, bytes per second (recent) */
	uint32_t chunk_bytes;	/* compare granularity in use */
	char peer[64];		/* the host synced from */
	int done;		/* pos == size_bytes and the peer confirmed the end */
	char syncpos[256];	/* at done: the peer's log position when the sync
				   ended, "log-NNNNNNNNN-ORIGIN,POS,0" ("" if the
				   peer has no replay link) */
	int error;		/* -errno of the failure that ended the run (the
				   first, transfer/failure.h); 0 */
	char why[256];		/* its explanation ("" when healthy) */
	struct piece_stats z;	/* chunk bytes received: raw, as carried, CPU
				   decoding here and encoding at the peer */
};

struct syncer;

/*
 * Sync local @disk (regular file or block device, >= @size_bytes) of
 * resource @res from the designated primary @peer (a host name; its
 * address from the tree's ips/ and the peers file, as for fetch),
 * starting at byte @from (0 or a recorded position; rounded down to a
 * chunk).  @c must outlive the syncer.  The thread starts at once; a
 * disk too small is reported (error -ENOSPC) before anything is written.
 * Returns 0 or -errno (bad arguments, no memory, no thread).
 */
int syncer_start(const struct gossip_config *c, const char *res, const char *peer,
		 const char *disk, uint64_t size_bytes, uint64_t from, struct syncer **out);
/* Compare rate limit in bytes of disk per second; 0 = unlimited. */
void syncer_set_bwlimit(struct syncer *s, uint64_t bytes_per_s);
void syncer_status(struct syncer *s, struct sync_status *st);
/* 1 once the thread ended (done or failed), else 0. */
int syncer_finished(struct syncer *s);
/* Stop the thread (at once, at any time) and join it; @s stays readable:
 * syncer_status() then is final.  Idempotent. */
void syncer_halt(struct syncer *s);
/* syncer_halt(), then free @s (NULL is allowed).  Read the position
 * reached with syncer_status() before, after syncer_halt(). */
void syncer_stop(struct syncer *s);

/* ---- parts exported for the serving end and the unit tests ---------- */

/* The digest of one chunk: XXH3-128 of @buf[0..@len) with @seed. */
struct sync_digest {
	uint8_t b[SYNC_DIGEST_BYTES];	/* big-endian high64, low64 */
};
void sync_digest(const void *buf, size_t len, uint64_t seed, struct sync_digest *d);

/*
 * The chunks of a batch: [@start, @start + @count * @chunk) clipped to
 * @size.  Chunk i of the batch is [*off, *off + *len).  Returns 0, or
 * -ERANGE if the chunk lies past @size.
 */
int sync_chunk_at(uint64_t start, uint32_t chunk, uint64_t size, uint32_t i,
		  uint64_t *off, uint32_t *len);
/* How many chunks the next batch from @pos holds: up to @max, not past
 * @size, and not more than about a quarter second at @rate_bps (0 = no
 * limit), at least 1.  0 if @pos >= @size. */
uint32_t sync_batch_chunks(uint64_t pos, uint64_t size, uint32_t chunk, uint32_t max,
			   uint64_t rate_bps);
/* @from rounded down to a multiple of @chunk, and not past @size. */
uint64_t sync_round_from(uint64_t from, uint32_t chunk, uint64_t size);

/*
 * Size of the disk open as @fd (regular file or block device) into
 * *@size.  Returns 0, -EINVAL for another kind of file, or -errno.
 */
int sync_disk_size(int fd, uint64_t *size);

/*
 * Open the disk at @path with open(2) @flags (O_RDONLY or O_RDWR): a
 * block device, reached directly or through links (LVM's /dev/VG/LV,
 * /dev/mapper/NAME and /dev/disk/by-id/ are links to /dev/dm-N or sdX,
 * whose numbers change across boots), or a regular file named directly,
 * never through a link (a planted link could lead a sync onto any local
 * file).  A FIFO or socket never blocks the open.  Returns the
 * descriptor, -ELOOP for a regular file reached through a link, -EINVAL
 * for another kind of file, or -errno.
 */
int sync_disk_open(const char *path, int flags);

/*
 * The serving end of one sync session (sync_serve.c): answer @first (a
 * SYNC) and the batches that follow on @l until the client ends, reading
 * this host's own disk of the resource, as the session's open tree @sf
 * names it.  Returns 1 when the session ended normally, or -errno.
 */
int sync_serve(struct gossip_link *l, const struct gossip_config *c, struct statefs *sf,
	       const char *client, const struct gossip_msg *first);

#endif /* MARS_CLUSTERD_SYNC_H */
