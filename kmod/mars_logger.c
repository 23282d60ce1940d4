// SPDX-License-Identifier: GPL-2.0-only
/*
 * The primary's write path: every write to /dev/mars/<res> becomes one
 * record per MiB, appended to the current logfile, and then goes to the
 * underlying disk.
 *
 * One kernel thread per resource does all logfile work, so records are
 * appended in exactly the order the thread takes bios from its queue.
 * It works in batches (group commit): it takes every bio queued so far,
 * appends their records, and if any of them carries PREFLUSH or FUA it
 * syncs the logfile once for the whole batch.  Only then are the data
 * clones submitted to the underlying disk.  Bios that arrive during the
 * sync form the next batch.
 *
 * Completion semantics (docs/kernel-interface.md):
 *  - a write completes when its record was appended to the logfile (page
 *    cache) and its data reached the underlying disk; so a read issued
 *    after the completion sees the data;
 *  - a write with FUA, and a flush (PREFLUSH, with or without data),
 *    complete only after the logfile was synced (vfs_fsync, datasync),
 *    which makes every record appended before durable;
 *  - the disk never holds data whose record is not in the logfile, and
 *    a clone that overlaps one still in flight waits for it, so the disk
 *    sees overlapping writes in log order: replaying the log over an
 *    older disk gives the same bytes.
 *
 * Once a second, if records were written, a checkpoint waits for the
 * clones in flight, flushes the underlying disk and moves the applied
 * position (status) to the end of the log: clusterd publishes it in the
 * replay link, and recovery after a crash starts there.
 *
 * Rotation (ROTATE ioctl): the ioctl creates logfile N+1, the thread
 * switches to it between two batches, and a work item syncs and closes
 * logfile N meanwhile; the next log sync waits for that work, so a flush
 * still covers every record appended before it, in either file.
 *
 * Failure policy: a failed append is cut back (the logfile is truncated
 * to the end of the last good write), and it or a failed log sync makes
 * the logger's error sticky: that write and every later one fail with
 * -EIO, and nothing is appended to a log that may hold garbage.  Reads
 * keep working.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "mars.h"

#define MARS_CHECKPOINT_JIFFIES	HZ

/* One write on its way to the underlying disk. */
struct mars_io {
	struct mars_logger *lg;
	struct bio *orig;		/* the bio on /dev/mars/<res> */
	struct list_head node;		/* in lg->flying, under lg->fly_lock */
	sector_t sector;
	unsigned int sectors;
	struct bio clone;		/* last: the bio_set's front pad ends here */
};

struct mars_logger {
	struct mars_res *res;
	struct task_struct *thread;

	spinlock_t lock;		/* guards queue, next_file; irq-safe */
	struct bio_list queue;		/* bios waiting for the thread */
	struct file *next_file;		/* rotation: the new logfile */
	wait_queue_head_t wait;		/* the thread sleeps here */
	struct completion rotated;	/* the thread took next_file */
	int rotate_ret;

	spinlock_t fly_lock;		/* guards flying, inflight; irq-safe */
	struct list_head flying;	/* struct mars_io in flight */
	u64 inflight;
	wait_queue_head_t fly_wait;	/* woken when a clone completes */

	/* Rotation: the old logfile is synced and closed by old_work, so
	 * writes go on in the new one meanwhile; a log sync waits for it.
	 */
	struct work_struct old_work;
	struct file *old_file;		/* handed to old_work */
	int old_ret;			/* its sync's result */

	/* The thread's own; the ioctl side reads lognr only between
	 * rotations, which mars_res_mutex serializes.
	 */
	struct file *file;		/* current logfile */
	u32 lognr;
	loff_t end;			/* bytes in file */
	u64 seq;			/* of the next record */
	u64 last_stamp;
	u8 *buf;			/* one record, MARS_REC_MAX_BYTES */
	int error;			/* sticky, see the failure policy */
	bool dirty;			/* records since the last checkpoint */
	unsigned long checkpoint_at;
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

static int
mars_logger_write(struct mars_logger *lg, const u8 *buf, size_t len)
{
	loff_t pos = lg->end;

	while (len) {
		ssize_t n = kernel_write(lg->file, buf, len, &pos);

		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= n;
	}
	lg->end = pos;
	return 0;
}

/* Encode the @len payload bytes already at buf + header, and append. */
static int
mars_logger_emit(struct mars_logger *lg, u64 dev_off, u32 len)
{
	struct mars_res *res = lg->res;
	struct mars_rec_hdr hdr = {
		.seq = lg->seq,
		.dev_off = dev_off,
		.stored_len = len,
		.data_len = len,
		.stamp_ns = mars_logger_stamp(lg),
	};
	size_t total = mars_rec_size(len);
	size_t padded = total - MARS_REC_OVERHEAD;
	u8 *payload = lg->buf + MARS_REC_HDR_BYTES;
	int ret;

	ret = mars_rec_put_header(lg->buf, &hdr);
	if (ret)
		return ret;
	memset(payload + len, 0, padded - len);
	mars_rec_put_trailer(payload + padded, lg->buf,
			     mars_rec_payload_hash(payload, len), 1);
	ret = mars_logger_write(lg, lg->buf, total);
	if (ret)
		return ret;
	lg->seq++;
	lg->dirty = true;
	MARS_STAT(res, {
		s->log_end = lg->end;
		s->records++;
		s->data_bytes += len;
	});
	return 0;
}

/* Encode and append one bio's data; lg->end, lg->seq move per record. */
static int
mars_logger_append_bio(struct mars_logger *lg, struct bio *bio)
{
	u64 dev_off = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
	u8 *payload = lg->buf + MARS_REC_HDR_BYTES;
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 fill = 0;
	int ret;

	bio_for_each_segment(bv, bio, iter) {
		u32 done = 0;

		while (done < bv.bv_len) {
			u32 n = min(bv.bv_len - done,
				    MARS_REC_MAX_PAYLOAD - fill);

			memcpy_from_page(payload + fill, bv.bv_page,
					 bv.bv_offset + done, n);
			fill += n;
			done += n;
			if (fill < MARS_REC_MAX_PAYLOAD)
				continue;
			ret = mars_logger_emit(lg, dev_off, fill);
			if (ret)
				return ret;
			dev_off += fill;
			fill = 0;
		}
	}
	return fill ? mars_logger_emit(lg, dev_off, fill) : 0;
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
	lg->seq = seq;
	MARS_STAT(lg->res, s->log_end = end);
}

/* Append the records of one write bio, a record per MiB. */
static int
mars_logger_append(struct mars_logger *lg, struct bio *bio)
{
	loff_t start_end = lg->end;
	u64 start_seq = lg->seq;
	int ret = mars_logger_append_bio(lg, bio);

	if (ret)
		mars_logger_cut(lg, start_end, start_seq);
	return ret;
}

static int
mars_logger_sync(struct mars_logger *lg)
{
	int ret;

	/* Records in the previous logfile count too. */
	flush_work(&lg->old_work);
	ret = lg->old_ret ? lg->old_ret : vfs_fsync(lg->file, 1);
	if (ret)
		return ret;
	MARS_STAT(lg->res, {
		s->synced_pos = lg->end;
		s->log_syncs++;
	});
	return 0;
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

/* ---- clones to the underlying disk ----------------------------------- */

static bool
mars_logger_overlaps(struct mars_logger *lg, sector_t sector,
		     unsigned int sectors)
{
	struct mars_io *io;
	bool hit = false;

	spin_lock_irq(&lg->fly_lock);
	list_for_each_entry(io, &lg->flying, node) {
		if (io->sector < sector + sectors &&
		    sector < io->sector + io->sectors) {
			hit = true;
			break;
		}
	}
	spin_unlock_irq(&lg->fly_lock);
	return hit;
}

static bool
mars_logger_idle(struct mars_logger *lg)
{
	bool idle;

	spin_lock_irq(&lg->fly_lock);
	idle = !lg->inflight;
	spin_unlock_irq(&lg->fly_lock);
	return idle;
}

u64
mars_logger_inflight(struct mars_res *res)
{
	struct mars_logger *lg = res->logger;
	unsigned long flags;
	u64 n;

	if (!lg)
		return 0;
	spin_lock_irqsave(&lg->fly_lock, flags);
	n = lg->inflight;
	spin_unlock_irqrestore(&lg->fly_lock, flags);
	return n;
}

static void
mars_logger_clone_done(struct bio *clone)
{
	struct mars_io *io = clone->bi_private;
	struct mars_logger *lg = io->lg;
	struct bio *orig = io->orig;
	unsigned long flags;

	orig->bi_status = clone->bi_status;
	bio_put(clone);
	bio_endio(orig);
	/* The waker holds fly_lock: once a waiter saw inflight == 0 under
	 * it, nothing here touches lg any more.
	 */
	spin_lock_irqsave(&lg->fly_lock, flags);
	list_del(&io->node);
	lg->inflight--;
	wake_up(&lg->fly_wait);
	spin_unlock_irqrestore(&lg->fly_lock, flags);
}

static void
mars_logger_writeback(struct mars_logger *lg, struct bio *bio)
{
	struct mars_res *res = lg->res;
	struct mars_io *io;
	struct bio *clone;

	clone = bio_alloc_clone(res->bdev, bio, GFP_NOIO, &res->bs);
	if (!clone) {
		bio_io_error(bio);
		return;
	}
	io = container_of(clone, struct mars_io, clone);
	io->lg = lg;
	io->orig = bio;
	io->sector = bio->bi_iter.bi_sector;
	io->sectors = bio_sectors(bio);
	/* Durability comes from the log; the disk is flushed at checkpoints. */
	clone->bi_opf &= ~(REQ_PREFLUSH | REQ_FUA);
	clone->bi_end_io = mars_logger_clone_done;
	clone->bi_private = io;

	wait_event(lg->fly_wait, !mars_logger_overlaps(lg, io->sector,
						       io->sectors));
	spin_lock_irq(&lg->fly_lock);
	list_add_tail(&io->node, &lg->flying);
	lg->inflight++;
	spin_unlock_irq(&lg->fly_lock);
	submit_bio_noacct(clone);
}

/* ---- the thread ------------------------------------------------------ */

static void
mars_logger_batch(struct mars_logger *lg, struct bio_list *batch)
{
	struct bio_list done = BIO_EMPTY_LIST;
	u64 flushes = 0;
	struct bio *bio;
	int ret = 0;

	while ((bio = bio_list_pop(batch))) {
		if (bio->bi_opf & (REQ_PREFLUSH | REQ_FUA))
			flushes++;
		if (bio_has_data(bio)) {
			ret = lg->error ? lg->error : mars_logger_append(lg, bio);
			if (ret) {
				mars_logger_fail(lg, ret);
				bio_io_error(bio);
				continue;
			}
		}
		bio_list_add(&done, bio);
	}
	ret = 0;
	if (flushes) {
		MARS_STAT(lg->res, s->sync_requests += flushes);
		ret = lg->error ? lg->error : mars_logger_sync(lg);
		if (ret)
			mars_logger_fail(lg, ret);
	}
	while ((bio = bio_list_pop(&done))) {
		if (ret)
			bio_io_error(bio);
		else if (bio_has_data(bio))
			mars_logger_writeback(lg, bio);
		else
			bio_endio(bio);
	}
}

/* Wait for the clones, flush the disk, move the applied position. */
static void
mars_logger_checkpoint(struct mars_logger *lg)
{
	struct mars_res *res = lg->res;
	int ret;

	wait_event(lg->fly_wait, mars_logger_idle(lg));
	ret = mars_disk_flush(res);
	if (ret) {
		mars_stat_error(res, ret);
	} else {
		MARS_STAT(res, {
			s->applied_pos = lg->end;
			strscpy(s->applied_logfile, s->logfile,
				sizeof(s->applied_logfile));
		});
	}
	lg->dirty = false;
	lg->checkpoint_at = jiffies + MARS_CHECKPOINT_JIFFIES;
}

static void
mars_logger_old_sync(struct work_struct *work)
{
	struct mars_logger *lg = container_of(work, struct mars_logger,
					      old_work);

	lg->old_ret = vfs_fsync(lg->old_file, 1);
	fput(lg->old_file);
	lg->old_file = NULL;
}

/*
 * Switch to the logfile the ROTATE ioctl opened.  The old one is synced
 * in the background; the next log sync waits for that.
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

	/* At most one old logfile in the background. */
	flush_work(&lg->old_work);
	if (lg->old_ret)
		mars_logger_fail(lg, lg->old_ret);
	lg->old_file = lg->file;
	schedule_work(&lg->old_work);

	lg->file = next;
	lg->lognr++;
	lg->end = 0;
	lg->seq = 1;
	lg->dirty = true;
	mars_logname_format(name, sizeof(name), lg->lognr, lg->res->host);
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
	return work || kthread_should_stop();
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
						 MARS_CHECKPOINT_JIFFIES);
		mars_logger_take_rotation(lg);
		spin_lock_irq(&lg->lock);
		batch = lg->queue;
		bio_list_init(&lg->queue);
		spin_unlock_irq(&lg->lock);
		if (!bio_list_empty(&batch))
			mars_logger_batch(lg, &batch);
		if (lg->dirty && time_after_eq(jiffies, lg->checkpoint_at))
			mars_logger_checkpoint(lg);
	}
	memalloc_noio_restore(noio);
	return 0;
}

/* ---- the interface ------------------------------------------------------- */

/* The bio_set front pad that makes each clone a struct mars_io. */
unsigned int
mars_logger_front_pad(void)
{
	return offsetof(struct mars_io, clone);
}

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
	char name[MARS_CTL_LOGNAME_LEN];
	struct mars_logger *lg;
	int ret;

	ret = mars_logname_format(name, sizeof(name), lognr, res->host);
	if (ret)
		return ret;
	lg = kzalloc(sizeof(*lg), GFP_KERNEL);
	if (!lg)
		return -ENOMEM;
	lg->buf = vmalloc(MARS_REC_MAX_BYTES);
	if (!lg->buf) {
		ret = -ENOMEM;
		goto out_free_lg;
	}
	lg->res = res;
	spin_lock_init(&lg->lock);
	bio_list_init(&lg->queue);
	init_waitqueue_head(&lg->wait);
	init_completion(&lg->rotated);
	spin_lock_init(&lg->fly_lock);
	INIT_LIST_HEAD(&lg->flying);
	init_waitqueue_head(&lg->fly_wait);
	INIT_WORK(&lg->old_work, mars_logger_old_sync);
	lg->file = file;
	lg->lognr = lognr;
	lg->seq = 1;
	lg->checkpoint_at = jiffies + MARS_CHECKPOINT_JIFFIES;

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
		goto out_free_buf;
	}
	WRITE_ONCE(res->logger, lg);
	return 0;

out_free_buf:
	vfree(lg->buf);
out_free_lg:
	kfree(lg);
	return ret;
}

/*
 * Stop logging; the device is closed, so no bio is queued or comes.
 * Syncs the log and the disk and moves the applied position to the end.
 */
void
mars_logger_stop(struct mars_res *res)
{
	struct mars_logger *lg = res->logger;

	if (!lg)
		return;
	WRITE_ONCE(res->logger, NULL);
	kthread_stop(lg->thread);
	WARN_ON(!bio_list_empty(&lg->queue));
	flush_work(&lg->old_work);
	if (!lg->error && (lg->old_ret || vfs_fsync(lg->file, 1)))
		mars_stat_error(res, -EIO);
	lg->dirty = true;
	mars_logger_checkpoint(lg);
	fput(lg->file);
	vfree(lg->buf);
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
	ret = mars_logname_format(name, sizeof(name), lg->lognr + 1,
				  res->host);
	if (ret)
		return ret;
	file = mars_logfile_open(res, name, O_WRONLY | O_CREAT | O_EXCL);
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
