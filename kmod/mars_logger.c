// SPDX-License-Identifier: GPL-2.0-only
/*
 * The primary's write path: every write to /dev/mars/<res> becomes one
 * record per MiB, appended to the current logfile; its data goes to the
 * underlying disk later, in the background (mars_writeback.c), once the
 * record is durable.
 *
 * One kernel thread per resource does all logfile work, so records are
 * appended in exactly the order the thread takes bios from its queue.
 * For each write it first waits for room in the pending memory
 * (backpressure: writers wait, they never fail), copies the data into
 * the pending memory and gathers its record; the records of a batch of
 * bios go to the logfile with one write per MARS_GATHER_BYTES (or one
 * larger record), which costs the page cache far less than a write per
 * record (bench/log-append.sh: 2.9x).  After that write the data joins
 * the pending set (mars_pending.c, which serves reads until the disk has
 * it) and the bios complete.  Outside mars_logger_batch() nothing is
 * gathered, and a log sync writes the gather first.
 *
 * Completion semantics (docs/kernel-interface.md):
 *  - a plain write completes when its record was appended to the
 *    logfile (page cache); a read issued after it sees the data;
 *  - a write with FUA, and a flush (PREFLUSH, with or without data),
 *    complete only after the logfile was synced (vfs_fsync, datasync),
 *    which makes every record appended before durable.
 *
 * Log syncs are grouped: one sync covers every record appended before it
 * (all bios taken as one batch, and those of earlier batches).  Besides
 * flushes, a sync is due when sync_kib of records wait for one or the
 * oldest has waited sync_ms, so writeback, which only takes durable
 * records, is never starved; and when the pending memory is full.
 * After each sync the pending set learns the durable end and writeback
 * is kicked.
 *
 * Preallocation (docs/logfile-format.md 1.1 and 3.1): a log sync of a
 * growing file is a journal commit, one of a file whose blocks exist is a
 * data flush only (bench/log-append.sh: about half the latency).  So once
 * the logfile holds a record and the log end comes within half a chunk
 * (prealloc_kib) of the zeros ahead of it, the thread writes the next
 * chunk of zeros there, between batches; the next log sync pays the one
 * journal commit.  Records are written at the log end by position (the
 * file is never O_APPEND), over the zeros.  The log end, not the file
 * size, is where the log ends while the file is being written: STATUS
 * log_end and synced_pos say it.  A failed extension (ENOSPC) only stops
 * preallocating in this logfile.
 *
 * Finishing a logfile: before the thread switches to the next one
 * (rotation) and when the logger stops (detach: the only way out of the
 * primary role), the zeros are cut off (truncate to the log end) and the
 * file synced, so every logfile this module no longer writes ends at its
 * last record -- except across a crash, which recovery (mars_recover.c)
 * cuts.
 *
 * Rotation (ROTATE ioctl): the ioctl creates logfile N+1, the thread
 * finishes logfile N and switches to N+1 between two batches, and only
 * then does STATUS name N+1.
 *
 * Failure policy: a failed append is cut back (the logfile is truncated
 * to the end of the last good write, the start of the gathered records),
 * and it or a failed log sync or a failed writeback makes the logger's
 * error sticky: every write of the gather and every later one fail with
 * -EIO, and nothing is appended to a log that may hold garbage.  Reads
 * keep working.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "mars.h"

/* When a log sync is due without a flush: the bounds on waiting records. */
static unsigned int mars_sync_ms = 10;
module_param_named(sync_ms, mars_sync_ms, uint, 0644);
MODULE_PARM_DESC(sync_ms, "sync the log at the latest this many ms after an unsynced append (default 10)");

static unsigned int mars_sync_kib = 8192;
module_param_named(sync_kib, mars_sync_kib, uint, 0644);
MODULE_PARM_DESC(sync_kib, "sync the log once this many KiB of records wait for a sync (default 8192)");

/* Zeros laid down ahead of the log end, a chunk at a time; 0 = grow the
 * file record by record (file layout revision 1).  Bounded, so that a
 * typo cannot make one extension fill the file system. */
#define MARS_PREALLOC_MAX_KIB	(1u << 20)
static unsigned int mars_prealloc_kib = 4096;
module_param_named(prealloc_kib, mars_prealloc_kib, uint, 0644);
MODULE_PARM_DESC(prealloc_kib, "write this many KiB of zeros ahead of the log end at a time, 0 = off (default 4096, at most 1048576)");

/* A record's pieces: its header, a page per 4 KiB of payload, its tail. */
#define MARS_LOGGER_BVECS	(MARS_REC_MAX_PAYLOAD / PAGE_SIZE + 2)

/*
 * The gather: records written with one vfs_iter_write.  Each record's
 * header and tail (at most 64 + 7 + 24 bytes) live in a 128-byte slot of
 * the frame pages; the bounds keep one write near what log-append.sh
 * measured (256 KiB), and admit one 1 MiB record alone (a bio is at most
 * one record: max_hw_sectors, mars_dev.c).
 */
#define MARS_GATHER_BYTES	(256u << 10)
#define MARS_GATHER_BVECS	(2 * MARS_LOGGER_BVECS)
#define MARS_FRAME_SLOT		128
#define MARS_FRAME_ORDER	3
#define MARS_GATHER_RECS	((PAGE_SIZE << MARS_FRAME_ORDER) / MARS_FRAME_SLOT)

/* A gathered record and the bio it completes once written. */
struct mars_gathered {
	struct bio *bio;
	struct mars_pend *pd;
	u32 len;			/* payload bytes */
};

/* What one batch completes after its log sync. */
struct mars_batch {
	struct bio_list after_sync;	/* flushes and FUA writes */
	u64 flushes;
};

struct mars_logger {
	struct mars_res *res;
	struct task_struct *thread;
	struct mars_pendset pending;	/* what is not yet on the disk */
	struct mars_writeback *wb;

	spinlock_t lock;		/* guards queue, next_file; irq-safe */
	struct bio_list queue;		/* bios waiting for the thread */
	struct file *next_file;		/* rotation: the new logfile */
	wait_queue_head_t wait;		/* the thread sleeps here */
	struct completion rotated;	/* the thread took next_file */
	int rotate_ret;

	/* The thread's own; the ioctl side reads lognr only between
	 * rotations, which mars_res_mutex serializes.
	 */
	struct file *file;		/* current logfile */
	u32 lognr;
	loff_t end;			/* the log end: bytes of records */
	loff_t zeroed_end;		/* zeros written up to here */
	bool prealloc_failed;		/* an extension failed: grow the file */
	u64 seq;			/* of the next record */
	u64 last_stamp;
	struct page *frames;		/* MARS_GATHER_RECS slots, MARS_FRAME_ORDER */
	struct bio_vec *bvec;		/* the gather, MARS_GATHER_BVECS */
	struct mars_gathered *gathered;	/* MARS_GATHER_RECS */
	unsigned int g_nvec, g_nrec;	/* in use of the two above */
	size_t g_bytes;			/* log bytes gathered */
	int error;			/* sticky, see the failure policy */
	u64 unsynced_bytes;		/* appended since the last sync */
	unsigned long unsynced_since;	/* jiffies of the first of them */
	bool sync_wanted;		/* a rotation: sync the new file soon */
};

/* ---- records ------------------------------------------------------------ */

/* A Lamport stamp: wall-clock nanoseconds, strictly increasing. */
static u64
mars_logger_stamp(struct mars_logger *lg)
{
	u64 now = ktime_get_real_ns();

	lg->last_stamp = max(now, lg->last_stamp + 1);
	return lg->last_stamp;
}

/*
 * Write @len bytes described by @nr pieces of pages at *@pos, which
 * follows what was written.  By position, never "at the end of the file":
 * past the log end there may be preallocated zeros.
 */
static int
mars_logger_write_at(struct mars_logger *lg, struct bio_vec *bv,
		     unsigned int nr, size_t len, loff_t *pos)
{
	struct iov_iter iter;
	int ret = 0;

	iov_iter_bvec(&iter, WRITE, bv, nr, len);
	file_start_write(lg->file);
	while (iov_iter_count(&iter)) {
		ssize_t n = vfs_iter_write(lg->file, &iter, pos, 0);

		if (n <= 0) {
			ret = n < 0 ? n : -EIO;
			break;
		}
	}
	file_end_write(lg->file);
	return ret;
}

/*
 * Append records, described by @nr pieces of pages, at the log end.
 * The payload goes from the pend's pages straight into the logfile's page
 * cache: the only copies of a write's data are bio to pend and pend to
 * log (the loop driver writes its backing file the same way).
 */
static int
mars_logger_write(struct mars_logger *lg, struct bio_vec *bv, unsigned int nr,
		  size_t len)
{
	loff_t pos = lg->end;
	int ret = mars_logger_write_at(lg, bv, nr, len, &pos);

	if (ret)
		return ret;
	lg->end = pos;
	return 0;
}

/* ---- preallocated zeros (docs/logfile-format.md 1.1, 3.1) ------------ */

static loff_t
mars_logger_chunk_bytes(void)
{
	unsigned int kib = min(READ_ONCE(mars_prealloc_kib), MARS_PREALLOC_MAX_KIB);

	return round_down((loff_t)kib << 10, PAGE_SIZE);
}

/*
 * Write @bytes (whole pages) of zeros at *@pos, from the zero page: real
 * writes, not fallocate(), whose unwritten extents would make the first
 * record in them a metadata change again (bench/log-append.sh).  Uses
 * the gather's bvec array, which is empty between batches.
 */
static int
mars_logger_write_zeros(struct mars_logger *lg, loff_t *pos, loff_t bytes)
{
	unsigned int i, nr;
	int ret = 0;

	while (bytes >= PAGE_SIZE && !ret) {
		nr = min_t(loff_t, bytes >> PAGE_SHIFT, MARS_GATHER_BVECS);
		for (i = 0; i < nr; i++)
			lg->bvec[i] = (struct bio_vec){ .bv_page = ZERO_PAGE(0),
							.bv_len = PAGE_SIZE };
		ret = mars_logger_write_at(lg, lg->bvec, nr,
					   (size_t)nr << PAGE_SHIFT, pos);
		bytes -= (loff_t)nr << PAGE_SHIFT;
	}
	return ret;
}

/*
 * Between batches: keep a chunk of zeros ahead of the log end.  Not
 * while the logfile is empty: size 0 means "no records" to clusterd's
 * rotation and marsadm log-rotate.  The zeros become durable with the
 * next log sync, which thus pays one journal commit per chunk.
 */
static void
mars_logger_prealloc(struct mars_logger *lg)
{
	loff_t chunk = mars_logger_chunk_bytes();
	loff_t pos;
	int ret;

	if (!chunk || !lg->end || lg->error || lg->prealloc_failed ||
	    lg->end + chunk / 2 < lg->zeroed_end)
		return;
	pos = max(lg->end, lg->zeroed_end);
	ret = mars_logger_write_zeros(lg, &pos, chunk);
	lg->zeroed_end = pos;
	if (ret) {
		/* Not a write failure: records still fit in a growing file. */
		lg->prealloc_failed = true;
		pr_warn("%s: preallocating logfile %u failed (%d), appending to a growing file\n",
			lg->res->name, lg->lognr, ret);
	}
}

/*
 * Before the logfile counts as finished: cut what lies after the log end
 * (zeros, or the leftovers of a failed cut-back) off and sync the file
 * with its final size.  A full fsync: the size shrinks, which is
 * metadata a datasync need not commit.
 */
static int
mars_logger_cut_zeros(struct mars_logger *lg)
{
	int ret = 0;

	if (i_size_read(file_inode(lg->file)) > lg->end)
		ret = vfs_truncate(&lg->file->f_path, lg->end);
	if (!ret)
		ret = vfs_fsync(lg->file, 0);
	if (!ret)
		lg->zeroed_end = lg->end;
	return ret;
}

/*
 * Gather the record of @bio, whose @len bytes are at the start of @pd:
 * sequence number and position follow the records gathered before it.
 */
static void
mars_logger_gather(struct mars_logger *lg, struct bio *bio, struct mars_pend *pd, u32 len)
{
	struct mars_rec_hdr hdr = {
		.seq = lg->seq + lg->g_nrec,
		.dev_off = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT,
		.stored_len = len,
		.data_len = len,
		.stamp_ns = mars_logger_stamp(lg),
	};
	size_t total = mars_rec_size(len);
	u32 pad = total - MARS_REC_OVERHEAD - len;
	size_t slot = (size_t)lg->g_nrec * MARS_FRAME_SLOT;
	struct page *page = lg->frames + slot / PAGE_SIZE;
	u32 in_page = slot % PAGE_SIZE;
	u8 *hdr_buf = (u8 *)page_address(lg->frames) + slot;
	u8 *tail = hdr_buf + MARS_REC_HDR_BYTES;

	mars_rec_put_header(hdr_buf, &hdr);	/* len <= 1 MiB: cannot fail */
	memset(tail, 0, pad);
	mars_rec_put_trailer(tail + pad, hdr_buf, mars_pend_hash(pd, 0, len), 1);
	lg->bvec[lg->g_nvec++] = (struct bio_vec){ .bv_page = page, .bv_offset = in_page,
						   .bv_len = MARS_REC_HDR_BYTES };
	lg->g_nvec += mars_pend_bvec(pd, 0, len, lg->bvec + lg->g_nvec);
	lg->bvec[lg->g_nvec++] = (struct bio_vec){ .bv_page = page,
						   .bv_offset = in_page + MARS_REC_HDR_BYTES,
						   .bv_len = pad + MARS_REC_TRL_BYTES };
	lg->gathered[lg->g_nrec++] = (struct mars_gathered){ bio, pd, len };
	lg->g_bytes += total;
}

/*
 * Cut a failed bio's records off again, so that the logfile ends with
 * the last complete record of a successful write.
 */
static void
mars_logger_cut(struct mars_logger *lg, loff_t end, u64 seq)
{
	if (vfs_truncate(&lg->file->f_path, end))
		return;
	lg->end = end;
	lg->zeroed_end = end;	/* the preallocated zeros went with them */
	lg->seq = seq;
	MARS_STAT(lg->res, s->log_end = end);
}

static void
mars_logger_fail(struct mars_logger *lg, int err)
{
	if (!lg->error)
		pr_err("%s: logfile write failed (%d), refusing writes\n",
		       lg->res->name, err);
	lg->error = -EIO;
	mars_stat_error(lg->res, err);
}

/* The gathered records made it to the log: their data joins the pending
 * set (reads see it from now on) and their bios complete, or wait for
 * the batch's log sync. */
static void
mars_logger_gather_done(struct mars_logger *lg, struct mars_batch *b, loff_t start)
{
	struct mars_logpos pos = { .lognr = lg->lognr, .off = start };
	unsigned int i;

	for (i = 0; i < lg->g_nrec; i++) {
		struct mars_gathered *g = &lg->gathered[i];

		mars_pend_insert(&lg->pending, g->pd, &pos);
		pos.off += mars_rec_size(g->len);
		MARS_STAT(lg->res, {
			s->records++;
			s->data_bytes += g->len;
		});
		if (g->bio->bi_opf & (REQ_PREFLUSH | REQ_FUA)) {
			b->flushes++;
			bio_list_add(&b->after_sync, g->bio);
		} else {
			bio_endio(g->bio);
		}
	}
	lg->seq += lg->g_nrec;
	if (!lg->unsynced_bytes)
		lg->unsynced_since = jiffies;
	lg->unsynced_bytes += lg->g_bytes;
	MARS_STAT(lg->res, s->log_end = lg->end);
}

/* Write the gathered records with one write; on failure cut them off
 * again and fail their bios (and, sticky, every later write). */
static void
mars_logger_gather_write(struct mars_logger *lg, struct mars_batch *b)
{
	loff_t start = lg->end;
	unsigned int i;
	int ret;

	if (!lg->g_nrec)
		return;
	ret = lg->error ? lg->error : mars_logger_write(lg, lg->bvec, lg->g_nvec, lg->g_bytes);
	if (!ret) {
		mars_logger_gather_done(lg, b, start);
	} else {
		mars_logger_cut(lg, start, lg->seq);
		mars_logger_fail(lg, ret);
		for (i = 0; i < lg->g_nrec; i++) {
			mars_pend_free(lg->gathered[i].pd);
			bio_io_error(lg->gathered[i].bio);
		}
	}
	lg->g_nrec = lg->g_nvec = 0;
	lg->g_bytes = 0;
}

/*
 * Sync the logfile (and the previous one, after a rotation): every record
 * appended so far is durable, so writeback may take it.
 */
static int
mars_logger_sync(struct mars_logger *lg)
{
	struct mars_logpos durable = { .lognr = lg->lognr, .off = lg->end };
	int ret;

	if (lg->error)
		return lg->error;
	ret = vfs_fsync(lg->file, 1);
	if (ret) {
		mars_logger_fail(lg, ret);
		return lg->error;
	}
	lg->unsynced_bytes = 0;
	lg->sync_wanted = false;
	/* STATUS shows the durable end before any checkpoint can use it. */
	MARS_STAT(lg->res, {
		s->synced_pos = durable.off;
		s->log_syncs++;
	});
	mars_pend_set_durable(&lg->pending, &durable);
	mars_writeback_kick(lg->wb);
	return 0;
}

static bool
mars_logger_sync_due(struct mars_logger *lg)
{
	/* After a failure nothing is synced again: no sync is ever due. */
	if (lg->error)
		return false;
	if (lg->sync_wanted)
		return true;
	if (!lg->unsynced_bytes)
		return false;
	return lg->unsynced_bytes >= (u64)mars_sync_kib << 10 ||
	       time_after_eq(jiffies, lg->unsynced_since +
			     msecs_to_jiffies(mars_sync_ms));
}

/* How long the thread may sleep before a sync is due. */
static long
mars_logger_timeout(struct mars_logger *lg)
{
	unsigned long due;

	if (!lg->unsynced_bytes || lg->error)
		return MAX_SCHEDULE_TIMEOUT;
	due = lg->unsynced_since + msecs_to_jiffies(mars_sync_ms);
	return time_after(due, jiffies) ? due - jiffies : 0;
}

/*
 * Backpressure: wait until the pending memory has room for @bytes.  What
 * waits for a log sync is synced first, or writeback could not free it.
 */
static int
mars_logger_wait_room(struct mars_logger *lg, struct mars_batch *b, u32 bytes)
{
	struct mars_pendset *ps = &lg->pending;
	int ret;

	if (mars_pend_room(ps, bytes))
		return READ_ONCE(ps->error) ? -EIO : 0;
	/* The gathered records hold room, and only once written and
	 * synced can writeback free any. */
	mars_logger_gather_write(lg, b);
	if (lg->unsynced_bytes) {
		ret = mars_logger_sync(lg);
		if (ret)
			return ret;
	}
	wait_event(ps->room, mars_pend_room(ps, bytes));
	return READ_ONCE(ps->error) ? -EIO : 0;
}

/* Keep the data of one write bio (one record: max_hw_sectors) and gather
 * its record, writing the gather first when the record does not fit. */
static int
mars_logger_append(struct mars_logger *lg, struct mars_batch *b, struct bio *bio)
{
	u32 len = bio->bi_iter.bi_size;
	unsigned int nvec = DIV_ROUND_UP(len, PAGE_SIZE) + 2;
	struct mars_pend *pd;
	int ret;

	if (WARN_ON_ONCE(len > MARS_REC_MAX_PAYLOAD))
		return -EIO;
	ret = mars_logger_wait_room(lg, b, len);
	if (ret)
		return ret;
	pd = mars_pend_alloc(&lg->pending, bio->bi_iter.bi_sector, len);
	if (!pd)
		return -ENOMEM;
	mars_pend_fill_bio(pd, bio);
	if (lg->g_nrec && (lg->g_bytes + mars_rec_size(len) > MARS_GATHER_BYTES ||
			   lg->g_nvec + nvec > MARS_GATHER_BVECS ||
			   lg->g_nrec == MARS_GATHER_RECS))
		mars_logger_gather_write(lg, b);
	if (lg->error) {
		mars_pend_free(pd);
		return lg->error;
	}
	mars_logger_gather(lg, bio, pd, len);
	return 0;
}

u64
mars_logger_inflight(struct mars_res *res)
{
	struct mars_logger *lg = res->logger;

	return lg ? mars_pend_inflight(&lg->pending) : 0;
}

/* The pending memory in use and its high-water mark; zeros if not primary. */
void
mars_logger_pending(struct mars_res *res, u64 *bytes, u64 *peak_bytes)
{
	struct mars_logger *lg = res->logger;
	unsigned long flags;

	*bytes = 0;
	*peak_bytes = 0;
	if (!lg)
		return;
	spin_lock_irqsave(&lg->pending.lock, flags);
	*bytes = lg->pending.bytes;
	*peak_bytes = lg->pending.peak_bytes;
	spin_unlock_irqrestore(&lg->pending.lock, flags);
}

/* ---- the thread ------------------------------------------------------ */

/*
 * One batch: append every write, complete the plain ones at once, and
 * the flushes and FUA writes after the log sync they need.
 */
static void
mars_logger_batch(struct mars_logger *lg, struct bio_list *batch)
{
	struct mars_batch b = { .after_sync = BIO_EMPTY_LIST };
	struct bio *bio;
	int ret = 0;

	while ((bio = bio_list_pop(batch))) {
		bool flush = bio->bi_opf & (REQ_PREFLUSH | REQ_FUA);

		if (bio_has_data(bio)) {
			/* Completed, or queued for the sync, once written. */
			ret = lg->error ? lg->error : mars_logger_append(lg, &b, bio);
			if (ret) {
				mars_logger_fail(lg, ret);
				bio_io_error(bio);
			}
			continue;
		}
		/* No data: nothing gathered before it needs to complete first
		 * (a flush waits for the sync below, which follows the write). */
		if (!flush) {
			bio_endio(bio);
			continue;
		}
		b.flushes++;
		bio_list_add(&b.after_sync, bio);
	}
	mars_logger_gather_write(lg, &b);
	ret = 0;
	if (b.flushes) {
		MARS_STAT(lg->res, s->sync_requests += b.flushes);
		ret = mars_logger_sync(lg);
	} else if (mars_logger_sync_due(lg)) {
		mars_logger_sync(lg);
	}
	while ((bio = bio_list_pop(&b.after_sync))) {
		if (ret)
			bio_io_error(bio);
		else
			bio_endio(bio);
	}
	/* After the batch's bios completed: they do not wait for the zeros. */
	mars_logger_prealloc(lg);
}

/*
 * Switch to the logfile the ROTATE ioctl opened, once the old one is
 * finished (cut at its log end) and durable: from the switch on STATUS
 * names the new one, and the serving end sends any other logfile whole,
 * by its file size.  Writes wait for this one fsync per rotation.
 */
static void
mars_logger_take_rotation(struct mars_logger *lg)
{
	char name[MARS_CTL_LOGNAME_LEN];
	struct file *next;

	spin_lock_irq(&lg->lock);
	next = lg->next_file;
	lg->next_file = NULL;
	spin_unlock_irq(&lg->lock);
	if (!next)
		return;

	if (!lg->error) {
		int ret = mars_logger_cut_zeros(lg);

		if (ret)
			mars_logger_fail(lg, ret);
	}
	if (lg->error) {
		fput(next);
		lg->rotate_ret = lg->error;
		complete(&lg->rotated);
		return;
	}
	fput(lg->file);
	lg->file = next;
	lg->lognr++;
	lg->end = 0;
	lg->zeroed_end = 0;
	lg->prealloc_failed = false;
	lg->seq = 1;
	lg->sync_wanted = true;
	mars_logfile_name(name, lg->lognr, lg->res->host);
	MARS_STAT(lg->res, {
		strscpy(s->logfile, name, sizeof(s->logfile));
		s->log_end = 0;
		s->synced_pos = 0;
	});
	lg->rotate_ret = 0;
	complete(&lg->rotated);
}

static bool
mars_logger_has_work(struct mars_logger *lg)
{
	bool work;

	spin_lock_irq(&lg->lock);
	work = !bio_list_empty(&lg->queue) || lg->next_file;
	spin_unlock_irq(&lg->lock);
	return work || mars_logger_sync_due(lg) || kthread_should_stop();
}

static int
mars_logger_thread(void *data)
{
	struct mars_logger *lg = data;
	/* Reclaim must not write to our own device while we log. */
	unsigned int noio = memalloc_noio_save();
	struct bio_list batch;

	while (!kthread_should_stop()) {
		wait_event_interruptible_timeout(lg->wait,
						 mars_logger_has_work(lg),
						 mars_logger_timeout(lg));
		mars_logger_take_rotation(lg);
		spin_lock_irq(&lg->lock);
		batch = lg->queue;
		bio_list_init(&lg->queue);
		spin_unlock_irq(&lg->lock);
		if (!bio_list_empty(&batch))
			mars_logger_batch(lg, &batch);
		else if (mars_logger_sync_due(lg))
			mars_logger_sync(lg);
	}
	memalloc_noio_restore(noio);
	return 0;
}

/* ---- the interface ------------------------------------------------------- */

void
mars_logger_submit(struct mars_logger *lg, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&lg->lock, flags);
	bio_list_add(&lg->queue, bio);
	spin_unlock_irqrestore(&lg->lock, flags);
	wake_up(&lg->wait);
}

/*
 * Start logging to @file, logfile number @lognr of this host, already
 * created empty.  Takes over the file reference.
 */
int
mars_logger_start(struct mars_res *res, struct file *file, u32 lognr)
{
	struct mars_logpos start = { .lognr = lognr, .off = 0 };
	char name[MARS_CTL_LOGNAME_LEN];
	struct mars_logger *lg;
	int ret;

	ret = mars_logfile_name(name, lognr, res->host);
	if (ret)
		return ret;
	lg = kzalloc(sizeof(*lg), GFP_KERNEL);
	if (!lg)
		return -ENOMEM;
	lg->frames = alloc_pages(GFP_KERNEL, MARS_FRAME_ORDER);
	lg->bvec = kmalloc_array(MARS_GATHER_BVECS, sizeof(*lg->bvec), GFP_KERNEL);
	lg->gathered = kmalloc_array(MARS_GATHER_RECS, sizeof(*lg->gathered), GFP_KERNEL);
	if (!lg->frames || !lg->bvec || !lg->gathered) {
		ret = -ENOMEM;
		goto out_free_buf;
	}
	lg->res = res;
	spin_lock_init(&lg->lock);
	bio_list_init(&lg->queue);
	init_waitqueue_head(&lg->wait);
	init_completion(&lg->rotated);
	/* Records go to the log end by position; O_APPEND would put them
	 * after the preallocated zeros (mars_logfile_create never sets it). */
	if (WARN_ON_ONCE(file->f_flags & O_APPEND)) {
		ret = -EINVAL;
		goto out_free_buf;
	}
	lg->file = file;
	lg->lognr = lognr;
	lg->seq = 1;
	mars_pendset_init(&lg->pending, res->pending_limit_bytes);
	mars_pend_set_durable(&lg->pending, &start);
	lg->wb = mars_writeback_start(res, &lg->pending);
	if (IS_ERR(lg->wb)) {
		ret = PTR_ERR(lg->wb);
		goto out_free_buf;
	}

	/* Recovery's counters stay; the positions are the new file's. */
	MARS_STAT(res, {
		strscpy(s->logfile, name, sizeof(s->logfile));
		strscpy(s->applied_logfile, name, sizeof(s->applied_logfile));
		s->applied_pos = 0;
		s->log_end = 0;
		s->synced_pos = 0;
	});
	lg->thread = kthread_run(mars_logger_thread, lg, "mars_log/%s",
				 res->name);
	if (IS_ERR(lg->thread)) {
		ret = PTR_ERR(lg->thread);
		goto out_stop_wb;
	}
	WRITE_ONCE(res->logger, lg);
	WRITE_ONCE(res->pending, &lg->pending);
	return 0;

out_stop_wb:
	mars_writeback_stop(lg->wb);
out_free_buf:
	kfree(lg->gathered);
	kfree(lg->bvec);
	if (lg->frames)
		__free_pages(lg->frames, MARS_FRAME_ORDER);
	kfree(lg);
	return ret;
}

/*
 * Stop logging; the device is closed, so no bio is queued or comes.
 * Syncs the log, finishes the logfile (cut at its log end: once DETACH
 * returns, clusterd closes the version link at the file size), writes
 * every pend back, flushes the disk and moves the applied position to the
 * end (unless something failed: then it stays where the disk and the
 * durable log agree).
 */
void
mars_logger_stop(struct mars_res *res)
{
	struct mars_logger *lg = res->logger;
	int ret;

	if (!lg)
		return;
	WRITE_ONCE(res->logger, NULL);
	WRITE_ONCE(res->pending, NULL);
	kthread_stop(lg->thread);
	WARN_ON(!bio_list_empty(&lg->queue));
	mars_logger_sync(lg);
	/* Even after a failure: the records up to the log end are what the
	 * file holds; a cut that fails leaves the zeros to recovery. */
	ret = mars_logger_cut_zeros(lg);
	if (ret) {
		pr_err("%s: cannot cut logfile %u at its log end %lld (%d)\n",
		       res->name, lg->lognr, (long long)lg->end, ret);
		mars_stat_error(res, ret);
	}
	mars_writeback_stop(lg->wb);
	mars_pendset_release(&lg->pending);
	fput(lg->file);
	kfree(lg->gathered);
	kfree(lg->bvec);
	__free_pages(lg->frames, MARS_FRAME_ORDER);
	kfree(lg);
}

/*
 * Continue in logfile N+1.  A no-op while the current one is empty.
 * Called with mars_res_mutex held, in the caller's context: the new file
 * is created here, the thread switches to it between two batches.
 */
int
mars_logger_rotate(struct mars_res *res)
{
	struct mars_logger *lg = res->logger;
	char name[MARS_CTL_LOGNAME_LEN];
	struct file *file;
	u64 end;
	int ret;

	spin_lock(&res->stat_lock);
	end = res->stat.log_end;
	spin_unlock(&res->stat_lock);
	if (!end)
		return 0;
	ret = mars_logfile_name(name, lg->lognr + 1, res->host);
	if (ret)
		return ret;
	file = mars_logfile_create(res, name);
	if (IS_ERR(file))
		return PTR_ERR(file);
	reinit_completion(&lg->rotated);
	spin_lock_irq(&lg->lock);
	lg->next_file = file;
	spin_unlock_irq(&lg->lock);
	wake_up(&lg->wait);
	wait_for_completion(&lg->rotated);
	return lg->rotate_ret;
}
