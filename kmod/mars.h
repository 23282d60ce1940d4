/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared between the files of mars.ko.  Nothing here is
 * visible to userspace; the userspace ABI is include/mars/ctl.h.
 *
 * One struct mars_res per attached resource.  Its parts, one file each:
 *   mars_res.c      registry, attach/detach, mode switches
 *   mars_dev.c      the block device /dev/mars/<res> and its bio path
 *   mars_logger.c   primary: records appended to the logfile, group commit
 *   mars_pending.c  primary: logged writes held in memory until on the disk
 *   mars_writeback.c primary: pending writes to the disk, checkpoints
 *   mars_logfile.c  logfile names, directory scan, the chunked reader
 *   mars_disk.c     synchronous byte-granular writes to the underlying disk
 *   mars_recover.c  primary recovery from the own logfiles
 *   mars_replay.c   replay mode: the kthread that follows a logfile
 */
#ifndef MARS_KMOD_MARS_H
#define MARS_KMOD_MARS_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "mars/ctl.h"
#include "mars/logrec.h"
#include "mars/names.h"

/*
 * Outcome of one run of the record-core self-test (mars_selftest.c).
 * @result is 0 when every check passed, -EIO when one failed and -ENOMEM
 * when the test could not allocate its buffer.  @first_failure names the
 * first failed check (a static string), NULL when none failed.
 */
struct mars_selftest_report {
	int result;
	u32 checks_run;
	u32 checks_failed;
	const char *first_failure;
};

void mars_selftest_run(struct mars_selftest_report *rep);

/* The control device (mars_ctl.c): registered last, removed first. */
int mars_ctl_register(void);
void mars_ctl_unregister(void);
/* true while the last self-test passed; data-path requests need it */
bool mars_ctl_selftest_ok(void);

/* ---- status, shared by logger, recovery and replay ---------------- */

/*
 * The counters of struct mars_ctl_status that the data path moves.  The
 * copy in struct mars_res is guarded by mars_res.stat_lock; writers take
 * it briefly, the STATUS ioctl copies the whole struct under it.
 */
struct mars_stat {
	u32 replay_state;		/* MARS_CTL_RS_* */
	int error;			/* -errno of the last failure */
	u64 log_end;
	u64 synced_pos;
	u64 sync_requests;
	u64 log_syncs;
	u64 applied_pos;
	u64 records;
	u64 data_bytes;
	u64 stop_offset;
	u32 stop_result;
	u32 stop_reason;
	char logfile[MARS_CTL_LOGNAME_LEN];
	char applied_logfile[MARS_CTL_LOGNAME_LEN];
};

struct mars_logger;
struct mars_replay;

/* ---- mars_pending.c: logged writes not yet on the underlying disk ---- */

/* A place in this host's log: logfile number and byte offset. */
struct mars_logpos {
	u32 lognr;
	u64 off;
};

struct mars_pend;
struct mars_res;

/*
 * Every write the logger appended, from the append until its data is on
 * the underlying disk: reads of those sectors are served from here, and
 * the writeback thread takes the durable ones to the disk.
 */
struct mars_pendset {
	spinlock_t lock;		/* guards all below; irq-safe */
	struct rb_root_cached tree;	/* every pend, by sector */
	struct list_head all;		/* the same pends, in log order */
	struct list_head todo;		/* not yet sent to the disk, log order */
	u64 next_lsn;			/* log order: the next pend's number */
	u64 durable_lsn;		/* pends up to this one are durable */
	struct mars_logpos durable;	/* the log's durable end */
	u64 bytes;			/* data bytes held */
	u64 peak_bytes;			/* high-water mark of bytes */
	u64 limit_bytes;		/* appends wait above this */
	u64 inflight;			/* pends being written to the disk */
	u64 completed;			/* pends written back, ever */
	int error;			/* first writeback failure, sticky */
	wait_queue_head_t room;		/* woken when bytes shrink */
	wait_queue_head_t done;		/* woken when a pend leaves */
};

void mars_pendset_init(struct mars_pendset *ps, u64 limit_bytes);
void mars_pendset_release(struct mars_pendset *ps);
struct mars_pend *mars_pend_alloc(struct mars_pendset *ps, sector_t sector,
				  u32 bytes);
void mars_pend_free(struct mars_pend *pd);
void mars_pend_fill_bio(struct mars_pend *pd, struct bio *bio);
u64 mars_pend_hash(const struct mars_pend *pd, u32 off, u32 len);
unsigned int mars_pend_bvec(const struct mars_pend *pd, u32 off, u32 len,
			    struct bio_vec *bv);
void mars_pend_insert(struct mars_pendset *ps, struct mars_pend *pd,
		      const struct mars_logpos *start);
void mars_pend_set_durable(struct mars_pendset *ps,
			   const struct mars_logpos *pos);
bool mars_pend_room(struct mars_pendset *ps, u32 bytes);
void mars_pend_read(struct mars_res *res, struct mars_pendset *ps,
		    struct bio *bio);
unsigned int mars_pend_front_pad(void);
unsigned int mars_pend_take_round(struct mars_pendset *ps,
				  struct list_head *round, u64 max_bytes,
				  bool *blocked);
bool mars_pend_ready(struct mars_pendset *ps, bool *blocked);
void mars_pend_submit_round(struct mars_res *res, struct mars_pendset *ps,
			    struct list_head *round);
bool mars_pend_applied(struct mars_pendset *ps, struct mars_logpos *pos);
u64 mars_pend_inflight(struct mars_pendset *ps);

/* One attached resource. */
struct mars_res {
	struct list_head node;		/* in the registry, under mars_res_mutex */
	char name[MARS_CTL_RES_LEN];
	char host[MARS_CTL_HOST_LEN];	/* origin of logfiles written */
	u64 size_bytes;
	u64 pending_limit_bytes;	/* from ATTACH, or the module default */
	struct block_device *bdev;	/* underlying disk, held exclusively */
	struct file *dir;		/* the resource directory */
	struct gendisk *disk;		/* /dev/mars/<name> */
	struct bio_set bs;		/* clones to the underlying disk */

	struct mutex lock;		/* guards mode, open_count, dying */
	u32 mode;			/* MARS_CTL_MODE_* */
	unsigned int open_count;
	bool dying;			/* detach under way: no new opens */

	/* Set and cleared under mars_res_mutex with open_count == 0, so the
	 * bio path, which only runs while the device is open, sees them
	 * stable.
	 */
	struct mars_logger *logger;	/* PRIMARY */
	struct mars_pendset *pending;	/* PRIMARY: the logger's */
	struct mars_replay *replay;	/* REPLAY */

	spinlock_t stat_lock;		/* guards stat, rate_* */
	struct mars_stat stat;
	u64 rate_bytes;			/* data_bytes at rate_jiffies */
	unsigned long rate_jiffies;
	u64 rate_bps;
};

/* Update @res's status under its lock: MARS_STAT(res, s->records++); */
#define MARS_STAT(res, stmt) do {				\
	struct mars_res *stat_res_ = (res);			\
	struct mars_stat *s = &stat_res_->stat;			\
	spin_lock(&stat_res_->stat_lock);			\
	stmt;							\
	spin_unlock(&stat_res_->stat_lock);			\
} while (0)

void mars_stat_reset(struct mars_res *res, const char *logfile);
void mars_stat_error(struct mars_res *res, int err);

/* ---- mars_res.c: registry and mode switches ----------------------- */

int mars_res_attach(const struct mars_ctl_attach *a);
int mars_res_detach(const char *name);
int mars_res_set_primary(const struct mars_ctl_primary *p);
int mars_res_set_replay(const struct mars_ctl_replay *r);
int mars_res_rotate(const char *name);
int mars_res_status(struct mars_ctl_status *st);
void mars_res_detach_all(void);

/* ---- mars_dev.c: /dev/mars/<res> ------------------------------------ */

int mars_dev_create(struct mars_res *res);
void mars_dev_destroy(struct mars_res *res);
void mars_dev_set_writable(struct mars_res *res, bool writable);

/* ---- mars_logger.c: the primary's write path ------------------------ */

int mars_logger_start(struct mars_res *res, struct file *file, u32 lognr);
void mars_logger_stop(struct mars_res *res);
void mars_logger_submit(struct mars_logger *lg, struct bio *bio);
int mars_logger_rotate(struct mars_res *res);
u64 mars_logger_inflight(struct mars_res *res);
void mars_logger_pending(struct mars_res *res, u64 *bytes, u64 *peak_bytes);

/* ---- mars_writeback.c: pending writes to the disk, checkpoints ------- */

struct mars_writeback;
struct mars_writeback *mars_writeback_start(struct mars_res *res,
					    struct mars_pendset *ps);
void mars_writeback_kick(struct mars_writeback *wb);
void mars_writeback_stop(struct mars_writeback *wb);

/* ---- mars_logfile.c: names, directory, reader ----------------------- */

/* A logfile's name: 0, or -EINVAL (not one, or number 0). */
int mars_logfile_parse(const char *name, size_t len, struct mars_logname *ln);
/* Logfile @nr (1..MARS_LOGNR_MAX) of @host: 0, -ERANGE or -EINVAL. */
int mars_logfile_name(char buf[MARS_CTL_LOGNAME_LEN], u32 nr, const char *host);
int mars_logdir_max(struct mars_res *res, u32 *max_nr, const char *host,
		    u32 own_from, u32 *own_count);
struct file *mars_logfile_open(struct mars_res *res, const char *name,
			       int flags);
struct file *mars_logfile_create(struct mars_res *res, const char *name);

/* Reads a logfile record by record through a window of the file. */
struct mars_logread {
	struct file *file;
	u8 *buf;			/* the window, cap bytes */
	size_t cap;
	loff_t buf_pos;			/* file offset of buf[0] */
	size_t buf_len;			/* valid bytes in buf */
	loff_t pos;			/* offset of the next record */
	u64 expect_seq;			/* 0 = any */
	int err;			/* -errno of the last failed read */
};

int mars_logread_init(struct mars_logread *lr, struct file *file,
		      loff_t pos, u64 expect_seq);
void mars_logread_release(struct mars_logread *lr);
enum mars_scan_result mars_logread_next(struct mars_logread *lr,
					struct mars_rec *rec,
					const u8 **payload);
bool mars_logread_valid_after(struct mars_logread *lr);

/* ---- mars_disk.c: the underlying disk, synchronously ------------------ */

struct mars_disk_buf;
struct mars_disk_buf *mars_disk_buf_alloc(void);
void mars_disk_buf_free(struct mars_disk_buf *db);
int mars_disk_write(struct mars_res *res, struct mars_disk_buf *db,
		    u64 off, const u8 *data, u32 len);
int mars_disk_flush(struct mars_res *res);

/* ---- mars_recover.c and mars_replay.c -------------------------------- */

int mars_recover(struct mars_res *res, const char *logfile, u64 pos,
		 u32 own_from, u32 *max_nr);
int mars_replay_start(struct mars_res *res, const struct mars_ctl_replay *r);
void mars_replay_stop(struct mars_res *res);

#endif /* MARS_KMOD_MARS_H */
