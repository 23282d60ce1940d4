/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The primary write path of the userspace engine: append, log sync,
 * rotation, emergency mode and the checkpoint of the applied position.
 *
 * The invariant this file and pending.c keep (write-ahead means ahead):
 *  1. a block reaches the disk only after its record is durable in the
 *     logfile (fdatasync'd): a write is appended to the log and queued in
 *     memory (pending.c), and the writeback thread writes it to the disk
 *     only once a log sync covers it;
 *  2. the applied position published (status, replay-<host>) never
 *     exceeds the durable end of the log: the checkpoint publishes the end
 *     of the last record written back, after syncing the disk;
 *  3. so after any crash the disk holds "old disk + a prefix of the
 *     durable log" beyond the applied position, and recovery replaying
 *     the durable log from there gives "old disk + durable log", the state
 *     every secondary converges to.  Unsynced writes may be lost, on every
 *     replica alike;
 *  4. an fsync (and a FUA write, which FUSE turns into one) completes once
 *     every record appended before it is durable: one fdatasync of the
 *     logfile, shared by concurrent callers (group commit).
 * Overlapping writes reach the disk in log order (pending.c), and reads
 * see queued data before the disk (eng_pend_read), so the device always
 * reads as the newest acknowledged data.
 *
 * Writes are appended in batches, one pwritev for the records of every
 * write that arrived while the previous batch was written (see "Appending,
 * in batches" below); what follows holds per record all the same.
 *
 * The logfile being written is longer than its log: zeros are written a
 * chunk ahead of the log end (see "Preallocating" below), and cut off
 * again before the logfile counts as finished: at rotation, on entering
 * emergency mode, at a clean stop (docs/logfile-format.md 1.1).
 *
 * Failure policy: a log append that fails is cut back (ftruncate) to the
 * start of its batch, which drops the preallocated zeros too, and every
 * write in the batch fails with nothing of the batch queued.  A failed
 * preallocation is no failure: the logfile grows record by record.  If the cut fails too, or a log sync fails, the
 * logger turns read-only (sticky error): a log that may hold garbage is
 * never extended.  A failed disk write stops writeback
 * (pending.c) and fails later writes the same way.
 *
 * Emergency mode (when enabled): when the log's file system falls below
 * emergency_free bytes, or an append meets ENOSPC, the logger stops
 * logging instead of failing the application: the log is synced, every
 * queued write goes to the disk, the disk is synced, the replay link moves
 * to an empty logfile ten numbers on (a hole in the history, so that no
 * secondary replays across the unlogged writes), is-emergency is set in
 * the tree, and from then on writes go to the disk only (nothing is
 * queued) and an fsync syncs the disk.  With room again (twice the limit)
 * logging resumes in that logfile.  Secondaries need a full sync
 * (invalidate) afterwards, as in MARS.
 *
 * Lock order: sync_lock, wr_lock, app_lock, pos_lock, then pending.c's
 * wb_lock, list_lock, lock.  The writeback thread takes sync_lock and
 * wr_lock only while it holds none of pending.c's locks.
 */
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/io.h"
#include "engine/internal.h"

static uint64_t
eng_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Create logfile @nr exclusively; returns the fd or -errno. */
static int
eng_logger_create(struct eng_logger *l, uint64_t nr, char *name, size_t size)
{
	char path[4352];
	int fd, ret;

	ret = eng_log_name(name, size, nr, l->host);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", l->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	return fd;
}

int
eng_logger_start(struct eng_logger *l, struct mars_engine *e, uint64_t nr)
{
	int fd, ret;

	memset(l, 0, sizeof(*l));
	l->disk_fd = e->disk_fd;
	l->size_bytes = e->size_bytes;
	l->dir = e->dir;
	l->root = e->root;
	l->resource = e->resource;
	l->host = e->host;
	l->retired_fd = -1;
	l->mark_fd = -1;
	l->prealloc_chunk = e->prealloc_bytes;
	fd = eng_logger_create(l, nr, l->logname, sizeof(l->logname));
	if (fd < 0)
		return fd;
	ret = io_fsync_dir(l->dir);
	if (ret)
		goto out_close;
	l->log_fd = fd;
	l->lognr = nr;
	l->next_seq = 1;
	/* Before anything is logged: a mark left by a crashed engine must not
	 * hold the serving end back, nor name an older logfile as ours. */
	l->mark_fd = mars_durable_mark_open(l->dir);
	if (l->mark_fd < 0 || mars_durable_mark_write(l->mark_fd, l->logname, 0)) {
		ret = l->mark_fd < 0 ? l->mark_fd : -EIO;
		goto out_mark;
	}
	l->batch = calloc(1, sizeof(*l->batch));
	if (!l->batch) {
		ret = -ENOMEM;
		goto out_mark;
	}
	pthread_mutex_init(&l->sync_lock, NULL);
	pthread_mutex_init(&l->wr_lock, NULL);
	pthread_mutex_init(&l->app_lock, NULL);
	pthread_cond_init(&l->app_done, NULL);
	pthread_mutex_init(&l->pos_lock, NULL);
	ret = eng_pend_init(l, e->pending_bytes, nr);
	if (ret)
		goto out_locks;
	return 0;

out_locks:
	pthread_mutex_destroy(&l->pos_lock);
	pthread_cond_destroy(&l->app_done);
	pthread_mutex_destroy(&l->app_lock);
	pthread_mutex_destroy(&l->wr_lock);
	pthread_mutex_destroy(&l->sync_lock);
	free(l->batch);
out_mark:
	if (l->mark_fd >= 0)
		close(l->mark_fd);
out_close:
	close(fd);
	return ret;
}

/*
 * Cut the preallocated zeros off logfile @fd: truncate it to @end, its
 * log end, and make that durable, so that its file size is its length
 * before it counts as finished (docs/logfile-format.md 1.1).  Nothing to
 * do where nothing was preallocated (@zeroed_end <= @end).  fdatasync is
 * enough: a new file size is metadata a datasync writes (fdatasync(2)).
 */
static int
eng_logger_cut(int fd, uint64_t end, uint64_t zeroed_end)
{
	if (fd < 0 || zeroed_end <= end)
		return 0;
	if (ftruncate(fd, (off_t)end) < 0 || fdatasync(fd) < 0)
		return -errno;
	return 0;
}

void
eng_logger_stop(struct eng_logger *l)
{
	int ret;

	/* Sync first so that writeback can empty the queue. */
	eng_logger_sync_log(l);
	eng_pend_stop(l);
	fdatasync(l->disk_fd);
	/* A clean stop finishes the logfile: no zeros after its last record. */
	ret = eng_logger_cut(l->log_fd, l->log_end, l->zeroed_end);
	if (ret)
		fprintf(stderr, "mars-engine: cannot cut the preallocated tail of '%s' at "
			"%" PRIu64 " bytes: %s (recovery cuts it on the next start)\n",
			l->logname, l->log_end, strerror(-ret));
	if (l->log_fd >= 0)
		close(l->log_fd);
	if (l->mark_fd >= 0)
		close(l->mark_fd);
	l->mark_fd = -1;
	if (l->retired_fd >= 0)
		close(l->retired_fd);
	l->log_fd = l->retired_fd = -1;
	free(l->batch);
	l->batch = NULL;
	pthread_mutex_destroy(&l->pos_lock);
	pthread_cond_destroy(&l->app_done);
	pthread_mutex_destroy(&l->app_lock);
	pthread_mutex_destroy(&l->wr_lock);
	pthread_mutex_destroy(&l->sync_lock);
}

/* Raise synced_total to @total; it never goes back. */
static void
eng_logger_synced_to(struct eng_logger *l, uint64_t total)
{
	uint64_t cur = __atomic_load_n(&l->synced_total, __ATOMIC_RELAXED);

	while (cur < total &&
	       !__atomic_compare_exchange_n(&l->synced_total, &cur, total, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

#define ENG_SPACE_CHECK_BYTES	(1ULL << 20)	/* statvfs at most once per MiB logged */
#define ENG_EMERGENCY_HOLE	10		/* logfile numbers skipped */

static uint64_t
eng_log_free(const struct eng_logger *l)
{
	struct statvfs v;

	if (statvfs(l->dir, &v) < 0)
		return UINT64_MAX;	/* unknown: do not panic */
	return (uint64_t)v.f_bavail * v.f_frsize;
}

/* Sync the log, write back every queued write, sync the disk.  wr_lock held. */
static int
eng_logger_flush_all(struct eng_logger *l)
{
	int ret;

	if (fdatasync(l->log_fd) < 0)
		return -errno;
	eng_logger_synced_to(l, l->total);
	ret = eng_pend_writeback(l);
	if (!ret && eng_pend_queued(l))
		ret = -EIO;
	if (!ret && fdatasync(l->disk_fd) < 0)
		ret = -errno;
	return ret;
}

/* Move the replay link to @name at 0, as the checkpoint does.  wr_lock held. */
static int
eng_logger_link_empty(struct eng_logger *l, uint64_t nr, const char *name)
{
	int ret;

	pthread_mutex_lock(&l->pos_lock);
	ret = eng_pos_write(l->root, l->resource, l->host, name, 0, 0);
	if (!ret)
		eng_pend_set_position(l, nr, 0);
	pthread_mutex_unlock(&l->pos_lock);
	return ret;
}

/* Stop logging; see the top of this file.  wr_lock held. */
static int
eng_logger_enter_emergency(struct eng_logger *l)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t nr = l->lognr + ENG_EMERGENCY_HOLE;
	int fd, ret;

	/* The logfile left behind is finished: its zeros go, and the sync
	 * of flush_all makes the cut durable before the mark moves past it. */
	if (l->zeroed_end > l->log_end && ftruncate(l->log_fd, (off_t)l->log_end) < 0)
		return -errno;
	l->zeroed_end = l->log_end;
	/* Everything logged so far and the disk state it produced are durable
	 * before the first unlogged write, and the replay link says so:
	 * recovery must never apply older records over newer disk data. */
	ret = eng_logger_flush_all(l);
	if (ret)
		return ret;
	ret = eng_log_name(name, sizeof(name), nr, l->host);
	if (ret)
		return ret;
	fd = eng_logger_create(l, nr, name, sizeof(name));
	if (fd < 0 && fd != -ENOSPC && fd != -EEXIST)
		return fd;
	ret = eng_logger_link_empty(l, nr, name);
	/* The old logfile is durable to its end (flushed above): the mark
	 * moves past it, else the serving end would hold back its tail. */
	if (!ret)
		ret = mars_durable_mark_write(l->mark_fd, name, 0);
	if (!ret)
		ret = eng_emergency_mark(l->root, l->resource, l->host, 1);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	/* A log sync may be using the old fd (it holds sync_lock, not
	 * wr_lock): it is closed later, under sync_lock. */
	l->retired_fd = l->log_fd;
	l->log_fd = fd;			/* -1 if it could not be created yet */
	l->lognr = nr;
	strcpy(l->logname, name);
	l->log_end = l->zeroed_end = 0;
	l->prealloc_failed = 0;
	l->next_seq = 1;
	l->emergency = 1;
	fprintf(stderr, "mars-engine: EMERGENCY MODE: the log file system of '%s' has less "
		"than %" PRIu64 " bytes free; writes go to the disk only, replication "
		"stopped (secondaries will need 'marsadm invalidate')\n", l->resource,
		l->emergency_free);
	return 0;
}

int
eng_logger_emergency_check(struct eng_logger *l)
{
	int fd = 0, ret;

	if (!l->emergency)
		return 0;
	/* The logfile left behind is closed first: once deleted (every
	 * member replayed it) an open descriptor would keep its blocks
	 * allocated, and the space this waits for would never come back. */
	pthread_mutex_lock(&l->sync_lock);
	pthread_mutex_lock(&l->wr_lock);
	if (l->retired_fd >= 0)
		close(l->retired_fd);	/* no sync uses it: we hold sync_lock */
	l->retired_fd = -1;
	pthread_mutex_unlock(&l->wr_lock);
	pthread_mutex_unlock(&l->sync_lock);
	if (eng_log_free(l) < 2 * l->emergency_free)
		return 0;
	pthread_mutex_lock(&l->sync_lock);
	pthread_mutex_lock(&l->wr_lock);
	if (l->log_fd < 0) {
		fd = eng_logger_create(l, l->lognr, l->logname, sizeof(l->logname));
		if (fd >= 0)
			l->log_fd = fd;
	}
	if (fd >= 0)
		l->emergency = 0;
	pthread_mutex_unlock(&l->wr_lock);
	pthread_mutex_unlock(&l->sync_lock);
	if (fd < 0)
		return fd;
	ret = eng_emergency_mark(l->root, l->resource, l->host, 0);
	if (ret)
		return ret;
	fprintf(stderr, "mars-engine: emergency mode of '%s' ended; logging again to '%s'\n",
		l->resource, l->logname);
	return 1;
}

/*
 * Appending, in batches.  A writer copies its data into queue entries and
 * hashes it (no lock), then joins the arrivals under app_lock.  If no
 * writer is appending, it becomes the appender: under wr_lock it takes
 * every arrival so far and appends their records in arrival order, up to
 * ENG_BATCH_BYTES (or one larger record) and ENG_BATCH_IOV iovecs per
 * pwritev; the writes that arrive meanwhile wait for the next appender
 * (group commit, as the log syncs do).  log-append.sh measured 2.9x the
 * throughput for 256 KiB per write call against one per record.
 *
 * The invariants of the top of this file hold per record: records get
 * their sequence numbers and stamps in log order, entries are queued
 * under wr_lock in log order and only after the pwritev wrote all of the
 * batch, a write is acknowledged only after all its records are queued
 * (or, in emergency mode, on the disk).  A failed pwritev is cut back to
 * the start of the batch: every write with a record in it fails, nothing
 * of the batch is queued.
 */

/* Give the records of the written batch their place and queue them. */
static void
eng_batch_queue(struct eng_logger *l)
{
	struct eng_batch *b = l->batch;
	unsigned int i;

	for (i = 0; i < b->nrec; i++) {
		struct eng_rec *r = b->recs[i].r;
		struct eng_pend *e = r->e;

		l->log_end += mars_rec_size(e->len);
		l->total += mars_rec_size(e->len);
		l->next_seq++;
		l->records++;
		l->data_bytes += e->len;
		e->total_end = l->total;
		e->lognr = l->lognr;
		e->log_pos = l->log_end;
		b->recs[i].a->queued += e->len;
		r->e = NULL;
		eng_pend_add(l, e);	/* under wr_lock: the queue is in log order */
	}
	l->last_stamp_ns = b->last_stamp_ns;
}

static void
eng_append_fail(struct eng_append *a, int err)
{
	if (!a->ret)
		a->ret = err;
}

/* Emergency mode: @r goes to the disk only.  Entering it emptied the
 * queue, and nothing is queued while it lasts, so this cannot overtake an
 * older queued write.  wr_lock held. */
static void
eng_rec_unlogged(struct eng_logger *l, struct eng_append *a, struct eng_rec *r)
{
	int ret = io_pwrite_full(l->disk_fd, r->e->data, r->e->len, (off_t)r->e->off);

	if (ret)
		eng_append_fail(a, ret);
	else
		l->data_bytes += r->e->len;
}

/* The pwritev of the batch failed with @err and was cut back: fail its
 * writes, or after ENOSPC with emergency mode on, enter it and write the
 * batch to the disk only, as any later write.  wr_lock held. */
static void
eng_batch_failed(struct eng_logger *l, int err)
{
	struct eng_batch *b = l->batch;
	unsigned int i;

	if (err == -ENOSPC && l->emergency_free)
		err = eng_logger_enter_emergency(l);
	for (i = 0; i < b->nrec; i++) {
		if (err)
			eng_append_fail(b->recs[i].a, err);
		else
			eng_rec_unlogged(l, b->recs[i].a, b->recs[i].r);
	}
}

/*
 * Preallocating (docs/logfile-format.md 3.1).  Once the log end comes
 * within half a chunk of the zeros' end, the next chunk of zero bytes is
 * written after it: written, not fallocate()d, since an unwritten extent
 * makes the first record into it a metadata change that the next sync
 * commits (bench/log-append.sh: 0.74 against 0.52 of a growing file).
 * The next log sync makes the zeros durable with the one journal commit
 * the chunk costs; the syncs after it flush data only.  Not before the
 * first record: a file size of 0 says "empty logfile" to clusterd
 * (drv_rotate) and marsadm (log-rotate).  Records go to log_end by
 * pwritev, before the zeros; the logfile is opened without O_APPEND,
 * which would put them after.  A failed extension (ENOSPC, EIO) is no
 * write failure: this logfile grows record by record from then on.
 * wr_lock held.
 */
#define ENG_ZEROS_BYTES		(64u << 10)	/* zero bytes per pwrite */

static void
eng_logger_prealloc(struct eng_logger *l)
{
	static const uint8_t zeros[ENG_ZEROS_BYTES];
	uint64_t off, to;
	size_t n;
	int ret = 0;

	if (!l->prealloc_chunk || l->prealloc_failed || !l->log_end ||
	    l->log_end + l->prealloc_chunk / 2 < l->zeroed_end)
		return;
	off = l->zeroed_end > l->log_end ? l->zeroed_end : l->log_end;
	to = off + l->prealloc_chunk;
	/* chunk / ENG_ZEROS_BYTES rounds at most */
	for (; off < to && !ret; off += n) {
		n = to - off < sizeof(zeros) ? (size_t)(to - off) : sizeof(zeros);
		ret = io_pwrite_full(l->log_fd, zeros, n, (off_t)off);
	}
	/* After a failure the file may reach anywhere up to @to: the cut
	 * at the finish must still look. */
	l->zeroed_end = to;
	if (ret) {
		l->prealloc_failed = 1;
		fprintf(stderr, "mars-engine: cannot preallocate '%s' up to %" PRIu64
			" bytes: %s; the logfile grows record by record instead\n",
			l->logname, to, strerror(-ret));
	}
}

/* Append the gathered records with one pwritev.  wr_lock held. */
static void
eng_batch_write(struct eng_logger *l)
{
	struct eng_batch *b = l->batch;
	ssize_t n;
	int ret;

	if (!b->nrec)
		return;
	n = pwritev(l->log_fd, b->iov, (int)b->niov, (off_t)l->log_end);
	l->appends++;
	if (n == (ssize_t)b->bytes) {
		eng_batch_queue(l);
		eng_logger_prealloc(l);
	} else {
		ret = n < 0 ? -errno : -ENOSPC;
		/* Cut the partial batch so the log stays a clean sequence;
		 * a log that may end in garbage is never extended.  The cut
		 * drops the zeros too, and this logfile gets no more. */
		if (ftruncate(l->log_fd, (off_t)l->log_end) < 0)
			l->error = ret;
		l->zeroed_end = l->log_end;
		l->prealloc_failed = 1;
		eng_batch_failed(l, ret);
	}
	b->nrec = b->niov = 0;
	b->bytes = 0;
}

/* Add @r to the batch, writing the batch first if it is full.  wr_lock held. */
static void
eng_batch_add(struct eng_logger *l, struct eng_append *a, struct eng_rec *r)
{
	static const uint8_t zeros[MARS_REC_ALIGN];
	struct eng_batch *b = l->batch;
	struct eng_pend *e = r->e;
	size_t rec_len = mars_rec_size(e->len), pad = rec_len - MARS_REC_OVERHEAD - e->len;
	struct mars_rec_hdr hdr = { .dev_off = e->off, .stored_len = e->len,
				    .data_len = e->len };
	uint64_t now = eng_now_ns(), last;

	if (b->nrec && (b->bytes + rec_len > ENG_BATCH_BYTES ||
			b->niov + 4 > ENG_BATCH_IOV || b->nrec == ENG_BATCH_IOV / 3))
		eng_batch_write(l);
	if (l->error) {
		eng_append_fail(a, l->error);
		return;
	}
	last = b->nrec ? b->last_stamp_ns : l->last_stamp_ns;
	hdr.seq = l->next_seq + b->nrec;
	hdr.stamp_ns = now > last ? now : last + 1;
	if (mars_rec_put_header(r->hdr, &hdr)) {
		eng_append_fail(a, -EINVAL);
		return;
	}
	mars_rec_put_trailer(r->trl, r->hdr, r->payload_hash, 1);
	b->iov[b->niov++] = (struct iovec){ r->hdr, sizeof(r->hdr) };
	b->iov[b->niov++] = (struct iovec){ e->data, e->len };
	if (pad)
		b->iov[b->niov++] = (struct iovec){ (void *)zeros, pad };
	b->iov[b->niov++] = (struct iovec){ r->trl, sizeof(r->trl) };
	b->recs[b->nrec++] = (struct eng_batch_rec){ a, r };
	b->bytes += rec_len;
	b->last_stamp_ns = hdr.stamp_ns;
}

/* Enter emergency mode when the log's file system runs short: at most
 * once per ENG_SPACE_CHECK_BYTES logged, with the batch written first (an
 * emergency entry needs everything before it in the log).  wr_lock held. */
static void
eng_logger_space(struct eng_logger *l, struct eng_append *a)
{
	int ret;

	if (l->emergency || !l->emergency_free ||
	    (l->space_checked && l->total - l->space_checked < ENG_SPACE_CHECK_BYTES))
		return;
	eng_batch_write(l);
	l->space_checked = l->total ? l->total : 1;
	ret = eng_log_free(l) < l->emergency_free ? eng_logger_enter_emergency(l) : 0;
	if (ret)
		eng_append_fail(a, ret);
}

/* Append the records of the writes in @list, in order.  wr_lock held. */
static void
eng_logger_append(struct eng_logger *l, struct eng_append *list)
{
	struct eng_append *a;
	unsigned int i;

	for (a = list; a; a = a->next) {
		for (i = 0; i < a->nrec && !a->ret; i++) {
			if (l->error) {
				eng_append_fail(a, l->error);
				break;
			}
			eng_logger_space(l, a);
			if (a->ret)
				break;
			if (l->emergency) {
				eng_batch_write(l);	/* empty: entering emptied it */
				eng_rec_unlogged(l, a, &a->recs[i]);
			} else {
				eng_batch_add(l, a, &a->recs[i]);
			}
		}
	}
	eng_batch_write(l);
}

/* Wait until @a is appended, by another writer or by ourselves as the
 * appender for every write that arrived before us. */
static void
eng_append_submit(struct eng_logger *l, struct eng_append *a)
{
	struct eng_append *list, *next;

	pthread_mutex_lock(&l->app_lock);
	if (l->app_tail)
		l->app_tail->next = a;
	else
		l->app_head = a;
	l->app_tail = a;
	while (!a->done && l->app_leading)
		pthread_cond_wait(&l->app_done, &l->app_lock);
	if (a->done) {
		pthread_mutex_unlock(&l->app_lock);
		return;
	}
	l->app_leading = 1;
	pthread_mutex_unlock(&l->app_lock);

	pthread_mutex_lock(&l->wr_lock);
	/* Taken only now: what arrived while we waited for wr_lock goes too. */
	pthread_mutex_lock(&l->app_lock);
	list = l->app_head;
	l->app_head = l->app_tail = NULL;
	pthread_mutex_unlock(&l->app_lock);
	eng_logger_append(l, list);
	pthread_mutex_unlock(&l->wr_lock);

	pthread_mutex_lock(&l->app_lock);
	for (; list; list = next) {
		next = list->next;	/* a done write's writer may return at once */
		list->done = 1;
	}
	l->app_leading = 0;
	pthread_cond_broadcast(&l->app_done);
	pthread_mutex_unlock(&l->app_lock);
}

/* Split @len bytes at @off into records, each with a queue entry holding
 * a copy of its data and the data's hash.  Returns 0 or -ENOMEM. */
static int
eng_append_prepare(struct eng_append *a, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0, chunk;
	unsigned int i;

	memset(a, 0, sizeof(*a));
	a->nrec = (unsigned int)((len + MARS_REC_MAX_PAYLOAD - 1) / MARS_REC_MAX_PAYLOAD);
	a->recs = a->nrec == 1 ? &a->one : calloc(a->nrec, sizeof(*a->recs));
	if (!a->recs)
		return -ENOMEM;
	for (i = 0; i < a->nrec; i++, done += chunk) {
		struct eng_pend *e;

		chunk = len - done < MARS_REC_MAX_PAYLOAD ? len - done : MARS_REC_MAX_PAYLOAD;
		e = malloc(sizeof(*e) + chunk);
		if (!e)
			return -ENOMEM;
		e->off = off + done;
		e->len = (uint32_t)chunk;
		memcpy(e->data, buf + done, chunk);
		a->recs[i].e = e;
		a->recs[i].payload_hash = mars_rec_payload_hash(e->data, e->len);
	}
	return 0;
}

/* Free what was not queued. */
static void
eng_append_release(struct eng_append *a)
{
	unsigned int i;

	for (i = 0; a->recs && i < a->nrec; i++)
		free(a->recs[i].e);
	if (a->recs != &a->one)
		free(a->recs);
}

int
eng_logger_write(struct eng_logger *l, const void *data, size_t len, uint64_t off)
{
	struct eng_append a;
	int ret;

	if (off > l->size_bytes || len > l->size_bytes - off)
		return -ENOSPC;
	if (!len)
		return 0;
	/* Wait for room first: the appender never waits for it, and
	 * writeback needs wr_lock to sync. */
	ret = eng_pend_reserve(l, len);
	if (ret)
		return ret;
	ret = eng_append_prepare(&a, data, len, off);
	if (!ret) {
		eng_append_submit(l, &a);
		ret = a.ret;
	}
	eng_append_release(&a);
	eng_pend_unreserve(l, len - a.queued);
	return ret;
}

ssize_t
eng_logger_read(struct eng_logger *l, void *buf, size_t len, uint64_t off)
{
	return eng_pend_read(l, buf, len, off);
}

/* A logfile that could not be made durable: later writes and syncs fail. */
static void
eng_logger_set_error(struct eng_logger *l, int err)
{
	pthread_mutex_lock(&l->wr_lock);
	l->error = err;
	pthread_mutex_unlock(&l->wr_lock);
}

/* Make the log durable up to @target bytes (all files), sharing the
 * fdatasync with concurrent callers; count it in *@counter. */
static int
eng_logger_sync_to(struct eng_logger *l, uint64_t target, uint64_t *counter)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t cur, end;
	int fd, ret = 0, emergency;

	pthread_mutex_lock(&l->sync_lock);
	/* Group commit: a sync that ran while we waited may cover us. */
	if (__atomic_load_n(&l->synced_total, __ATOMIC_ACQUIRE) >= target)
		goto out;
	pthread_mutex_lock(&l->wr_lock);
	cur = l->total;
	fd = l->log_fd;
	ret = l->error;
	emergency = l->emergency;
	snprintf(name, sizeof(name), "%s", l->logname);
	end = l->log_end;
	pthread_mutex_unlock(&l->wr_lock);
	/* Entering emergency mode synced everything logged before it. */
	if (ret || emergency)
		goto out;
	/* Bytes of earlier logfiles were synced by the rotation (sync_lock). */
	if (fdatasync(fd) < 0) {
		ret = -errno;
		eng_logger_set_error(l, ret);
		goto out;
	}
	eng_logger_synced_to(l, cur);
	/* Only now may the serving end send these records (durable.c).
	 * Under wr_lock and only for the logfile still current: an
	 * emergency entry since our look (it holds wr_lock, not sync_lock)
	 * marked its new logfile, and an older mark written after it would
	 * cap the finished logfile short of its end for good. */
	pthread_mutex_lock(&l->wr_lock);
	if (!l->emergency && !strcmp(l->logname, name))
		mars_durable_mark_write(l->mark_fd, name, end);
	pthread_mutex_unlock(&l->wr_lock);
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&l->sync_lock);
	return ret;
}

int
eng_logger_sync_log(struct eng_logger *l)
{
	uint64_t target;

	pthread_mutex_lock(&l->wr_lock);
	target = l->total;
	pthread_mutex_unlock(&l->wr_lock);
	return eng_logger_sync_to(l, target, &l->wb_syncs);
}

int
eng_logger_sync(struct eng_logger *l)
{
	uint64_t target;
	int ret, emergency;

	__atomic_add_fetch(&l->sync_requests, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&l->wr_lock);
	target = l->total;
	emergency = l->emergency;
	pthread_mutex_unlock(&l->wr_lock);
	/* Unlogged writes are only safe once they are on the disk. */
	if (emergency)
		return fdatasync(l->disk_fd) < 0 ? -errno : 0;
	/* Durable in the log is enough: recovery replays it to the disk. */
	ret = eng_logger_sync_to(l, target, &l->log_syncs);
	eng_pend_kick(l);		/* what it covered can go to the disk now */
	return ret;
}

int
eng_logger_drain(struct eng_logger *l)
{
	int ret = eng_logger_sync_log(l);

	if (!ret)
		ret = eng_pend_writeback(l);
	/* Writes appended after our sync may still be queued: not an error. */
	return ret;
}

int
eng_logger_rotate(struct eng_logger *l)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t at_swap;
	int fd, old, ret = 0;

	pthread_mutex_lock(&l->sync_lock);
	pthread_mutex_lock(&l->wr_lock);
	old = l->log_end == 0 ? -1 : l->log_fd;	/* an empty logfile stays */
	pthread_mutex_unlock(&l->wr_lock);
	if (old < 0)
		goto out;
	fd = eng_logger_create(l, l->lognr + 1, name, sizeof(name));
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	/* Writes stall only for this swap, not for the sync of the old file. */
	pthread_mutex_lock(&l->wr_lock);
	old = l->log_fd;
	/* The zeros go before the swap shows (status names the new file):
	 * clusterd then closes the version link at the old file's size.
	 * The fdatasync below makes the cut durable with the records. */
	if (l->zeroed_end > l->log_end && ftruncate(old, (off_t)l->log_end) < 0)
		ret = -errno;
	l->log_fd = fd;
	l->lognr++;
	strcpy(l->logname, name);
	l->log_end = l->zeroed_end = 0;
	l->prealloc_failed = 0;
	l->next_seq = 1;
	at_swap = l->total;
	pthread_mutex_unlock(&l->wr_lock);

	if (!ret && fdatasync(old) < 0)
		ret = -errno;
	close(old);
	if (!ret)
		ret = io_fsync_dir(l->dir);
	if (ret) {
		eng_logger_set_error(l, ret);
	} else {
		eng_logger_synced_to(l, at_swap);
		mars_durable_mark_write(l->mark_fd, name, 0);
	}
out:
	pthread_mutex_unlock(&l->sync_lock);
	if (!ret)
		eng_pend_kick(l);
	return ret;
}

/*
 * The position the disk holds everything before: with nothing queued,
 * the end of the current logfile (every record there was written back,
 * hence durable); else the end of the last record written back.
 * wr_lock held.
 */
static void
eng_logger_applied(struct eng_logger *l, uint64_t *nr, uint64_t *pos)
{
	if (eng_pend_queued(l)) {
		eng_pend_position(l, nr, pos);
		return;
	}
	*nr = l->lognr;
	*pos = l->log_end;
}

int
eng_logger_checkpoint(struct eng_logger *l)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t nr, pos;
	int ret;

	pthread_mutex_lock(&l->wr_lock);
	/* pos_lock until published: an emergency entry cannot slip its own
	 * link in between and be overwritten by this older position. */
	pthread_mutex_lock(&l->pos_lock);
	eng_logger_applied(l, &nr, &pos);
	pthread_mutex_unlock(&l->wr_lock);
	ret = eng_log_name(name, sizeof(name), nr, l->host);
	if (ret || (pos == l->ckpt_pos && strcmp(name, l->ckpt_name) == 0))
		goto out;
	/* Everything before the position is on the disk: make it durable
	 * there before saying so. */
	ret = fdatasync(l->disk_fd) < 0 ? -errno : 0;
	if (!ret)
		ret = eng_pos_write(l->root, l->resource, l->host, name, pos, 0);
	if (ret)
		goto out;
	strcpy(l->ckpt_name, name);
	l->ckpt_pos = pos;
out:
	pthread_mutex_unlock(&l->pos_lock);
	return ret;
}
