/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A file's appends written and made durable behind its receiver (the
 * fetch pipeline, issue 18).
 *
 * The fetcher's thread receives, verifies and decodes; measured inline,
 * fdatasync took a third of a fetch's time and pwrite a tenth, the link
 * idle meanwhile.  An fwriter owns a second thread: the receiver copies
 * each piece into a bounded queue and goes back to the link; the writer
 * thread appends from the queue with pwrite and runs fdatasync whenever
 * the queue is empty or FWRITER_SYNC_BYTES wait unsynced, so one sync
 * covers everything appended while the one before ran.
 *
 * Durability: on_synced() reports a length only after an fdatasync that
 * began after those bytes were written returned; nothing else reports.
 * Memory: the queue holds at most queue_bytes (allocated once); the page
 * cache at most max_unsynced bytes written but not synced.  A receiver
 * that would pass either waits (it stops reading, and the peer's SSH
 * window closes).
 *
 * Failure policy: the first failed pwrite or fdatasync is kept (err),
 * nothing more is written or reported, and every later call returns it
 * until fwriter_attach() starts the next file.
 */
#ifndef MARS_CLUSTERD_FWRITER_H
#define MARS_CLUSTERD_FWRITER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define FWRITER_SYNC_BYTES	(4U << 20)	/* sync at least this often while data flows */

struct fwriter {
	pthread_t id;
	pthread_mutex_t lock;		/* guards every field below but the constants */
	pthread_cond_t work;		/* writer thread: data, a sync to do, or stop */
	pthread_cond_t done;		/* receiver: room, or a sync ended */
	uint8_t *q;			/* the queue, a ring of queue_bytes (constant) */
	size_t queue_bytes;		/* constant */
	size_t q_head, q_len;		/* oldest queued byte, bytes queued */
	int fd;				/* file being appended, -1 if none */
	uint64_t written;		/* its length as written (bytes) */
	uint64_t synced;		/* its durable length, reported (bytes) */
	uint64_t max_unsynced;		/* queued + written - synced: at most (constant) */
	int busy;			/* a pwrite or fdatasync runs (outside the lock) */
	int err;			/* the first failure, -errno; 0 */
	int receiver_waits;		/* the receiver is blocked on a bound */
	int stop;
	uint64_t write_ns, sync_ns, syncs;	/* time in pwrite, in fdatasync; syncs */
	/* Called in the writer thread after each sync, outside the lock:
	 * @len is durable, @n of it newly so. */
	void (*on_synced)(void *arg, uint64_t len, uint64_t n);
	int (*sync_fn)(int fd);		/* fdatasync; a test may hold it */
	void *arg;
};

/*
 * Start the thread with a queue of @queue_bytes and at most
 * @max_unsynced_bytes (>= @queue_bytes) not yet durable.  0 or -errno.
 */
int fwriter_start(struct fwriter *fw, size_t queue_bytes, uint64_t max_unsynced_bytes,
		  void (*on_synced)(void *arg, uint64_t len, uint64_t n), void *arg);
/* Append to @fd, whose first @len bytes are durable, from now on. */
void fwriter_attach(struct fwriter *fw, int fd, uint64_t len);
/*
 * Queue @n bytes of @data (copied) to be appended.  Waits while the queue
 * has no room or max_unsynced would be passed.  0, or the kept -errno.
 */
int fwriter_append(struct fwriter *fw, const void *data, size_t n);
/* Wait until everything queued is written and durable.  0 or -errno. */
int fwriter_drain(struct fwriter *fw);
/* fwriter_drain(), then append to no file (its fd may be closed).  0 or -errno. */
int fwriter_detach(struct fwriter *fw);
/* Time in pwrite and fdatasync (ns) and the number of syncs since start. */
void fwriter_stats(struct fwriter *fw, uint64_t *write_ns, uint64_t *sync_ns,
		   uint64_t *syncs);
/* Join the thread and free the queue (what is queued is dropped). */
void fwriter_stop(struct fwriter *fw);

#endif /* MARS_CLUSTERD_FWRITER_H */
