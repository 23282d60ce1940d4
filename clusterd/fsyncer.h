/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A file's appended bytes made durable behind its writer (the fetch
 * pipeline, issue 18).
 *
 * The fetcher's thread receives, verifies, decodes and appends; an
 * fdatasync of a MiB takes as long as receiving several, and done inline
 * it left the link idle meanwhile.  An fsyncer owns a second thread that
 * runs fdatasync on the file whenever appended bytes are not yet durable,
 * so one sync covers everything appended while the previous one ran
 * (batching follows the disk's pace, not a fixed size).
 *
 * Durability: the sync thread reports a length through on_synced() only
 * after an fdatasync that began after those bytes were appended returned;
 * nothing else reports.  Memory: the page cache holds the unsynced bytes;
 * fsyncer_appended() blocks while more than max_unsynced are, so the
 * receiver stops reading and the peer's SSH window closes.
 *
 * Failure policy: a failed fdatasync is kept (err) and ends every later
 * call with it until fsyncer_attach() starts the next file.
 */
#ifndef MARS_CLUSTERD_FSYNCER_H
#define MARS_CLUSTERD_FSYNCER_H

#include <pthread.h>
#include <stdint.h>

struct fsyncer {
	pthread_t id;
	pthread_mutex_t lock;		/* guards every field below but the callbacks */
	pthread_cond_t work;		/* sync thread: something to sync, or stop */
	pthread_cond_t done;		/* writer: a sync ended */
	int fd;				/* file being appended, -1 if none */
	uint64_t appended;		/* its length as appended (bytes) */
	uint64_t synced;		/* its durable length, reported (bytes) */
	uint64_t max_unsynced;		/* appended - synced above this: writer waits */
	int syncing;			/* an fdatasync runs (outside the lock) */
	int err;			/* the first failed sync, -errno; 0 */
	int writer_waits;		/* the writer is blocked on the bound */
	int stop;
	uint64_t sync_ns, syncs;	/* time in fdatasync and their number */
	/* Called in the sync thread after each sync, outside the lock:
	 * @len is durable, @n of it newly so. */
	void (*on_synced)(void *arg, uint64_t len, uint64_t n);
	int (*sync_fn)(int fd);		/* fdatasync; a test may slow it */
	void *arg;
};

/* Start the thread.  @max_unsynced_bytes > 0.  0 or -errno. */
int fsyncer_start(struct fsyncer *fs, uint64_t max_unsynced_bytes,
		  void (*on_synced)(void *arg, uint64_t len, uint64_t n), void *arg);
/* Follow @fd, whose first @len bytes are durable, from now on. */
void fsyncer_attach(struct fsyncer *fs, int fd, uint64_t len);
/*
 * @n bytes were appended to the attached file: sync them soon.  Waits
 * while more than max_unsynced bytes are not durable.  0, or the failed
 * sync's -errno.
 */
int fsyncer_appended(struct fsyncer *fs, uint64_t n);
/* Wait until all appended bytes are durable.  0 or -errno (as above). */
int fsyncer_drain(struct fsyncer *fs);
/* fsyncer_drain(), then follow no file.  0 or -errno. */
int fsyncer_detach(struct fsyncer *fs);
/* Time in fdatasync (ns) and the number of syncs since start. */
void fsyncer_stats(struct fsyncer *fs, uint64_t *sync_ns, uint64_t *syncs);
/* Join the thread (the file, if any, is not synced again). */
void fsyncer_stop(struct fsyncer *fs);

#endif /* MARS_CLUSTERD_FSYNCER_H */
