// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writeback: the primary's pending writes go to the underlying disk in
 * the background, and checkpoints move the applied position.
 *
 * The ordering invariant of the whole data path lives here:
 *   a block reaches the underlying disk only after its record is durable
 *   in the logfile.
 * The logger marks pends durable only after a completed log sync
 * (mars_pend_set_durable), and this thread takes only durable ones
 * (mars_pend_take_round).  So after a power loss the disk holds the old
 * disk plus some durable records, each block in log order, and recovery,
 * which replays the durable log from the applied position, gives exactly
 * "old disk + durable log": what every secondary converges to.
 *
 * One thread per primary resource.  Each round takes the durable pends,
 * oldest first, up to a bound, and sends them sorted by sector under one
 * plug; a pend whose sectors an older one still waits for starts the next
 * round after that one completed, so overlapping writes reach the disk in
 * log order.
 *
 * Checkpoint, once a second when something moved: the applied position
 * is the start of the oldest pend not yet on the disk, or the log's
 * durable end when none is left; the disk is flushed and then the
 * position published in STATUS (clusterd writes it to the replay link,
 * recovery starts there).  It never passes the durable end of the log.
 *
 * Failure policy: a failed disk write stops writeback (mars_pending.c
 * keeps the data for reads and the applied position before it), sets
 * STATUS error, and the logger refuses further writes; the record is
 * durable, so recovery after a detach puts it on the disk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "mars.h"

#define MARS_WB_ROUND_BYTES	(16ULL << 20)
#define MARS_WB_CHECKPOINT	HZ

struct mars_writeback {
	struct mars_res *res;
	struct mars_pendset *ps;
	struct task_struct *thread;
	wait_queue_head_t wait;		/* the thread sleeps here */
	atomic_t kicked;		/* the log became durable further */
	bool error_seen;		/* the writeback failure was reported */
	struct mars_logpos published;	/* the last applied position */
	unsigned long checkpoint_at;
};

/* Flush the disk, then publish the applied position if it moved. */
static void
mars_writeback_checkpoint(struct mars_writeback *wb)
{
	struct mars_res *res = wb->res;
	char name[MARS_CTL_LOGNAME_LEN];
	struct mars_logpos pos;
	int ret;

	wb->checkpoint_at = jiffies + MARS_WB_CHECKPOINT;
	if (!mars_pend_applied(wb->ps, &pos) ||
	    (pos.lognr == wb->published.lognr && pos.off == wb->published.off))
		return;
	if (mars_logfile_name(name, pos.lognr, res->host))
		return;
	ret = mars_disk_flush(res);
	if (ret) {
		mars_stat_error(res, ret);
		return;
	}
	wb->published = pos;
	MARS_STAT(res, {
		s->applied_pos = pos.off;
		strscpy(s->applied_logfile, name, sizeof(s->applied_logfile));
	});
}

static void
mars_writeback_check_error(struct mars_writeback *wb)
{
	int err = READ_ONCE(wb->ps->error);

	if (!err || wb->error_seen)
		return;
	wb->error_seen = true;
	pr_err("%s: writeback to the disk failed (%d); writes refused, the log keeps the data\n",
	       wb->res->name, err);
	mars_stat_error(wb->res, err);
}

/* Send rounds until nothing durable is left; false if it must wait. */
static void
mars_writeback_rounds(struct mars_writeback *wb)
{
	struct mars_pendset *ps = wb->ps;
	LIST_HEAD(round);
	bool blocked;

	for (;;) {
		if (!mars_pend_take_round(ps, &round, MARS_WB_ROUND_BYTES,
					  &blocked)) {
			if (!blocked)
				return;
			/* An older write of the same sectors is in flight. */
			wait_event(ps->done, mars_pend_ready(ps, &blocked) ||
				   !blocked);
			continue;
		}
		mars_pend_submit_round(wb->res, ps, &round);
	}
}

static bool
mars_writeback_has_work(struct mars_writeback *wb)
{
	return atomic_read(&wb->kicked) || kthread_should_stop();
}

static int
mars_writeback_thread(void *data)
{
	struct mars_writeback *wb = data;
	/* Reclaim must not write to our own device while we write back. */
	unsigned int noio = memalloc_noio_save();

	while (!kthread_should_stop()) {
		wait_event_interruptible_timeout(wb->wait,
						 mars_writeback_has_work(wb),
						 MARS_WB_CHECKPOINT);
		atomic_set(&wb->kicked, 0);
		mars_writeback_rounds(wb);
		mars_writeback_check_error(wb);
		if (time_after_eq(jiffies, wb->checkpoint_at))
			mars_writeback_checkpoint(wb);
	}
	memalloc_noio_restore(noio);
	return 0;
}

struct mars_writeback *
mars_writeback_start(struct mars_res *res, struct mars_pendset *ps)
{
	struct mars_writeback *wb;

	wb = kzalloc(sizeof(*wb), GFP_KERNEL);
	if (!wb)
		return ERR_PTR(-ENOMEM);
	wb->res = res;
	wb->ps = ps;
	init_waitqueue_head(&wb->wait);
	atomic_set(&wb->kicked, 0);
	wb->checkpoint_at = jiffies + MARS_WB_CHECKPOINT;
	wb->thread = kthread_run(mars_writeback_thread, wb, "mars_wb/%s",
				 res->name);
	if (IS_ERR(wb->thread)) {
		void *err = wb->thread;

		kfree(wb);
		return err;
	}
	return wb;
}

/* The log became durable further: there may be work. */
void
mars_writeback_kick(struct mars_writeback *wb)
{
	atomic_set(&wb->kicked, 1);
	wake_up(&wb->wait);
}

static bool
mars_writeback_drained(struct mars_pendset *ps)
{
	bool blocked;

	return !mars_pend_inflight(ps) &&
	       (!mars_pend_ready(ps, &blocked) || READ_ONCE(ps->error));
}

/*
 * Stop after writing back every durable pend (the logger synced the log
 * before), and a last checkpoint.  Pends left after a failure are the
 * caller's to drop.
 */
void
mars_writeback_stop(struct mars_writeback *wb)
{
	kthread_stop(wb->thread);
	mars_writeback_rounds(wb);
	wait_event(wb->ps->done, mars_writeback_drained(wb->ps));
	mars_writeback_check_error(wb);
	mars_writeback_checkpoint(wb);
	kfree(wb);
}
