// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay mode (a secondary): one kernel thread applies a logfile to the
 * underlying disk in record order, from a given position, and follows
 * the file as it grows.
 *
 * What the scanner says decides (docs/logfile-format.md section 5):
 *  - record: apply it (mars_disk.c), go on;
 *  - end, incomplete: the rest has not arrived yet; wait (state waiting,
 *    polled every 100 ms), not an error;
 *  - torn, corrupt, sequence gap: stop before it, nothing after it is
 *    applied; status says where (stop_offset) and why (stop_result,
 *    stop_reason), the kernel log too;
 *  - a read or disk error, or a record past the end of the resource
 *    (-EFBIG): state failed, status error.
 * Once a second while records are applied, and whenever it waits or
 * stops, the thread flushes the disk and moves the applied position.
 *
 * The logfile was opened by the SET_REPLAY ioctl in its caller's context;
 * the thread only reads it.  The device stays read-only meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "mars.h"

#define MARS_REPLAY_POLL_JIFFIES	(HZ / 10)
#define MARS_REPLAY_CHECKPOINT_JIFFIES	HZ

struct mars_replay {
	struct mars_res *res;
	struct task_struct *thread;
	struct file *file;
	char name[MARS_CTL_LOGNAME_LEN];
	struct mars_logread lr;
	struct mars_disk_buf *db;
	bool dirty;			/* applied since the last checkpoint */
	unsigned long checkpoint_at;
};

static void
mars_replay_checkpoint(struct mars_replay *rp)
{
	struct mars_res *res = rp->res;
	int ret;

	rp->checkpoint_at = jiffies + MARS_REPLAY_CHECKPOINT_JIFFIES;
	if (!rp->dirty)
		return;
	rp->dirty = false;
	ret = mars_disk_flush(res);
	if (ret) {
		mars_stat_error(res, ret);
		return;
	}
	MARS_STAT(res, s->applied_pos = rp->lr.pos);
}

static void
mars_replay_state(struct mars_replay *rp, u32 state,
		  enum mars_scan_result r, const struct mars_rec *rec)
{
	MARS_STAT(rp->res, {
		s->replay_state = state;
		s->stop_result = r;
		s->stop_reason = rec->reason;
		s->stop_offset = rec->offset;
	});
}

static int
mars_replay_apply(struct mars_replay *rp, const struct mars_rec *rec,
		  const u8 *payload)
{
	int ret;

	ret = mars_disk_write(rp->res, rp->db, rec->hdr.dev_off, payload,
			      rec->hdr.data_len);
	if (ret)
		return ret;
	rp->dirty = true;
	MARS_STAT(rp->res, {
		s->replay_state = MARS_CTL_RS_RUNNING;
		s->records++;
		s->data_bytes += rec->hdr.data_len;
	});
	if (time_after_eq(jiffies, rp->checkpoint_at))
		mars_replay_checkpoint(rp);
	return 0;
}

/* One step; false when replay has ended (stopped or failed). */
static bool
mars_replay_step(struct mars_replay *rp)
{
	struct mars_res *res = rp->res;
	enum mars_scan_result r;
	const u8 *payload;
	struct mars_rec rec;
	int ret;

	r = mars_logread_next(&rp->lr, &rec, &payload);
	switch (r) {
	case MARS_SCAN_RECORD:
		ret = mars_replay_apply(rp, &rec, payload);
		if (!ret)
			return true;
		break;
	case MARS_SCAN_END:
	case MARS_SCAN_INCOMPLETE:
		mars_replay_checkpoint(rp);
		mars_replay_state(rp, MARS_CTL_RS_WAITING, r, &rec);
		schedule_timeout_interruptible(MARS_REPLAY_POLL_JIFFIES);
		return true;
	default:
		ret = rp->lr.err;
		if (ret)
			break;
		mars_replay_checkpoint(rp);
		mars_replay_state(rp, MARS_CTL_RS_STOPPED, r, &rec);
		pr_warn("%s: replay of %s stopped at %llu: %s (%s)\n",
			res->name, rp->name, (u64)rec.offset,
			mars_scan_result_name(r),
			mars_scan_reason_name(rec.reason));
		return false;
	}
	mars_replay_checkpoint(rp);
	mars_replay_state(rp, MARS_CTL_RS_FAILED, MARS_SCAN_RECORD, &rec);
	mars_stat_error(res, ret);
	pr_err("%s: replay of %s failed at %llu: %d\n", res->name, rp->name,
	       (u64)rp->lr.pos, ret);
	return false;
}

static int
mars_replay_thread(void *data)
{
	struct mars_replay *rp = data;

	while (!kthread_should_stop() && mars_replay_step(rp))
		;
	/* Stopped or failed: stay until told, so kthread_stop finds us. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(MARS_REPLAY_POLL_JIFFIES);
	return 0;
}

static int
mars_replay_open(struct mars_res *res, const struct mars_ctl_replay *r,
		 struct file **filep)
{
	struct mars_logname ln;
	struct file *file;

	if (mars_logfile_parse(r->logfile,
			       strnlen(r->logfile, sizeof(r->logfile)), &ln) ||
	    r->start_pos % MARS_REC_ALIGN)
		return -EINVAL;
	file = mars_logfile_open(res, r->logfile, O_RDONLY);
	if (IS_ERR(file))
		return PTR_ERR(file);
	if (!S_ISREG(file_inode(file)->i_mode) ||
	    r->start_pos > i_size_read(file_inode(file))) {
		fput(file);
		return -EINVAL;
	}
	*filep = file;
	return 0;
}

int
mars_replay_start(struct mars_res *res, const struct mars_ctl_replay *r)
{
	struct mars_replay *rp;
	int ret;

	rp = kzalloc(sizeof(*rp), GFP_KERNEL);
	if (!rp)
		return -ENOMEM;
	rp->res = res;
	strscpy(rp->name, r->logfile, sizeof(rp->name));
	ret = mars_replay_open(res, r, &rp->file);
	if (ret)
		goto out_free_rp;
	ret = mars_logread_init(&rp->lr, rp->file, r->start_pos, r->first_seq);
	if (ret)
		goto out_put_file;
	rp->db = mars_disk_buf_alloc();
	if (!rp->db) {
		ret = -ENOMEM;
		goto out_release_lr;
	}
	rp->checkpoint_at = jiffies + MARS_REPLAY_CHECKPOINT_JIFFIES;

	mars_stat_reset(res, rp->name);
	MARS_STAT(res, {
		s->replay_state = MARS_CTL_RS_RUNNING;
		s->applied_pos = r->start_pos;
		strscpy(s->applied_logfile, rp->name,
			sizeof(s->applied_logfile));
	});
	rp->thread = kthread_run(mars_replay_thread, rp, "mars_replay/%s",
				 res->name);
	if (IS_ERR(rp->thread)) {
		ret = PTR_ERR(rp->thread);
		goto out_free_db;
	}
	res->replay = rp;
	return 0;

out_free_db:
	mars_disk_buf_free(rp->db);
out_release_lr:
	mars_logread_release(&rp->lr);
out_put_file:
	fput(rp->file);
out_free_rp:
	kfree(rp);
	return ret;
}

void
mars_replay_stop(struct mars_res *res)
{
	struct mars_replay *rp = res->replay;

	if (!rp)
		return;
	res->replay = NULL;
	kthread_stop(rp->thread);
	mars_replay_checkpoint(rp);
	MARS_STAT(res, s->replay_state = MARS_CTL_RS_NONE);
	mars_disk_buf_free(rp->db);
	mars_logread_release(&rp->lr);
	fput(rp->file);
	kfree(rp);
}
