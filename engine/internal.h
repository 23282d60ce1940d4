/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the userspace engine, shared by its files:
 *   actual.c    the actual-<host>/ indicators (is-attached, ...)
 *   apply.c     applying a logfile to the disk (recovery, replay, apply tool)
 *   logger.c    the primary write path: append, sync, rotate, checkpoint
 *   pending.c   writes queued for the disk until their record is durable
 *   status.c    the status file
 *   user.c      the ops object, mode changes and the housekeeping thread
 *   fuse.c      the FUSE front end (a file), nbd.c the NBD one (/dev/nbdN)
 *   nbd_req.c   NBD request headers, decoded and checked (nbd_req.h)
 *   openers.c   which processes hold a device open (/proc/<pid>/fd)
 *   main.c      the command line, and the choice of front end
 * and, shared with the other implementations (engine/tree.h, engine/names.h):
 *   tree.c      writing a resource's links into the state tree
 *   names.c, position.c (declared in engine/names.h)
 */
#ifndef MARS_ENGINE_INTERNAL_H
#define MARS_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "common/logreader.h"
#include "engine/engine.h"
#include "engine/names.h"

/* ---- apply.c -------------------------------------------------------------- */

/* Applying one logfile to the disk, record by record. */
struct eng_apply {
	int disk_fd;
	uint64_t disk_bytes;		/* records reaching past this are refused */
	struct logreader lr;
	uint64_t records;		/* applied by this object */
	uint64_t data_bytes;
	struct logreader_rec stop;	/* the last non-record result */
};

/*
 * Open @logfile for applying to @disk_fd from byte @from, which must be
 * a record boundary (0 or a recorded position).  Returns 0 or -errno.
 */
int eng_apply_open(struct eng_apply *a, int disk_fd, uint64_t disk_bytes,
		   const char *logfile, uint64_t from);

/*
 * Apply up to @max records (0 = no limit) and stop at the first result
 * that is not a record; a->stop holds it.  Returns the scan result, or
 * -errno for an I/O error and -EFBIG for a record past the disk's end.
 */
int eng_apply_run(struct eng_apply *a, uint64_t max);

/* Forget the end of file the reader saw, so that growth is noticed. */
void eng_apply_rescan(struct eng_apply *a);

/* The current position: the end of the last applied record. */
uint64_t eng_apply_pos(const struct eng_apply *a);

/* 1 if a valid record follows the stop (a corrupt record mid-file). */
int eng_apply_valid_after_stop(struct eng_apply *a);

void eng_apply_close(struct eng_apply *a);

/* ---- pending.c ------------------------------------------------------------ */

/* One logged write whose data may not be on the disk yet. */
struct eng_pend {
	struct eng_pend *next;		/* the next newer one (log order) */
	uint64_t off;			/* device offset, bytes */
	uint32_t len;			/* bytes of data[] */
	uint64_t total_end;		/* logger total after its record: durable once
					   synced_total reaches it */
	uint64_t lognr;			/* logfile and byte end of its record */
	uint64_t log_pos;
	uint8_t data[];
};

#define ENG_PEND_DEFAULT_BYTES	(64ULL << 20)	/* --pending-mib default */

/* The writeback queue of one logger; see pending.c for the invariants. */
struct eng_pending {
	pthread_rwlock_t list_lock;	/* head, tail and every next: readers
					   shared, add and pop exclusive */
	struct eng_pend *head, *tail;	/* (also read under lock: both taken
					   to change them) */
	pthread_mutex_t wb_lock;	/* one writeback at a time, in log order */
	pthread_mutex_t lock;		/* guards every field below */
	pthread_cond_t wake;		/* to the thread: work, a waiter, stop */
	pthread_cond_t room;		/* to writers: bytes went down */
	uint64_t limit_bytes;		/* backpressure above this */
	uint64_t bytes;			/* queued plus reserved */
	uint64_t queued_bytes;		/* data bytes in the list */
	unsigned int waiters;		/* writers waiting for room */
	unsigned int delay_ms;		/* log sync at most this long after a record */
	uint64_t batch_bytes;		/* or once this much is unsynced */
	uint64_t wb_nr, wb_pos;		/* end of the last record written back */
	int error;			/* sticky -errno: writeback stopped */
	int stop;
	pthread_t thread;
};

struct eng_logger;

/* Set up the queue (@limit_bytes 0 = the default) and start its thread;
 * @nr is the logfile written first.  Returns 0 or -errno. */
int eng_pend_init(struct eng_logger *l, uint64_t limit_bytes, uint64_t nr);
/* Stop the thread, write back what the log holds durably, free the rest. */
void eng_pend_stop(struct eng_logger *l);
void eng_pend_destroy(struct eng_pending *p);
/* Wait until @len more bytes fit (backpressure); -errno after a failure. */
int eng_pend_reserve(struct eng_logger *l, uint64_t len);
void eng_pend_unreserve(struct eng_logger *l, uint64_t len);
/* Queue @e (reserved before); wr_lock held, so the queue is in log order. */
void eng_pend_add(struct eng_logger *l, struct eng_pend *e);
/* Write back, in order, every queued entry whose record is durable.
 * Returns 0 or the sticky writeback error. */
int eng_pend_writeback(struct eng_logger *l);
/* Tell the thread that synced_total moved. */
void eng_pend_kick(struct eng_logger *l);
/* Read the device: the disk with the queued data over it. */
ssize_t eng_pend_read(struct eng_logger *l, void *buf, size_t len, uint64_t off);
/* The end of the last record written back, and setting it (emergency). */
void eng_pend_position(struct eng_logger *l, uint64_t *nr, uint64_t *pos);
void eng_pend_set_position(struct eng_logger *l, uint64_t nr, uint64_t pos);
/* Data bytes queued for writeback. */
uint64_t eng_pend_queued(struct eng_logger *l);

/* Milliseconds of CLOCK_MONOTONIC: the engine's timers. */
static inline uint64_t
eng_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- logger.c --------------------------------------------------------------- */

/* One record of a write on its way into the log: the queue entry holding
 * a copy of its data, and the header and trailer the appender fills in. */
struct eng_rec {
	struct eng_pend *e;		/* NULL once queued (the queue owns it) */
	uint64_t payload_hash;		/* computed by the writer, outside the locks */
	uint8_t hdr[MARS_REC_HDR_BYTES];
	uint8_t trl[MARS_REC_TRL_BYTES];
};

/* One write waiting to be appended (on its writer's stack), and the
 * outcome the appender leaves for it. */
struct eng_append {
	struct eng_append *next;	/* the next later write: arrival is log order */
	struct eng_rec *recs;		/* its records, 1 MiB of data each at most */
	unsigned int nrec;
	struct eng_rec one;		/* recs for a write of one record */
	uint64_t queued;		/* data bytes queued for writeback */
	int ret;			/* 0 or the first -errno */
	int done;			/* app_lock: the writer may return */
};

/* The records one pwritev appends (logger.c); the appender's, wr_lock. */
#define ENG_BATCH_BYTES		(256u << 10)	/* or one larger record alone */
#define ENG_BATCH_IOV		1024		/* IOV_MAX on Linux */
struct eng_batch {
	struct iovec iov[ENG_BATCH_IOV];
	unsigned int niov;
	struct eng_batch_rec {
		struct eng_append *a;
		struct eng_rec *r;
	} recs[ENG_BATCH_IOV / 3];	/* at least 3 iovecs per record */
	unsigned int nrec;
	uint64_t bytes;			/* log bytes in iov[] */
	uint64_t last_stamp_ns;		/* of recs[nrec - 1] */
};

/*
 * The primary write path.  Lock order: sync_lock, wr_lock, app_lock,
 * pos_lock, then the queue's (pending.c).  A write is appended to the
 * logfile and queued under wr_lock, by itself or by the write that holds
 * wr_lock together with the writes that arrived meanwhile (one pwritev for
 * all), and acknowledged; the queue's thread writes it to the disk once a
 * log sync covers it (logger.c states the invariants).
 */
struct eng_logger {
	pthread_mutex_t sync_lock;	/* serialises log syncs and rotation */
	uint64_t synced_total;		/* log bytes (all files) known durable;
					   atomic, only grows */
	uint64_t log_syncs;		/* fdatasyncs done for flushes */
	uint64_t wb_syncs;		/* fdatasyncs done by the writeback thread */
	uint64_t sync_requests;		/* flushes asked for; atomic */

	pthread_mutex_t wr_lock;	/* guards the fields below up to app_lock */
	int disk_fd;
	uint64_t size_bytes;		/* device size */
	const char *dir;		/* resource directory */
	const char *root;		/* state tree root */
	const char *resource;
	const char *host;
	int log_fd;
	int mark_fd;			/* the durable mark (durable.c), -1 if none */
	int retired_fd;			/* left by emergency mode; closed under sync_lock */
	uint64_t lognr;
	char logname[MARS_ENGINE_NAME_MAX + 1];
	uint64_t log_end;		/* bytes of records in the current logfile */
	uint64_t zeroed_end;		/* the current logfile's size may reach this:
					   zeros preallocated after log_end */
	uint64_t prealloc_chunk;	/* zero bytes written at a time; 0 = off */
	int prealloc_failed;		/* an extension failed: this logfile grows */
	uint64_t next_seq;
	uint64_t last_stamp_ns;
	uint64_t total;			/* log bytes appended, all files */
	uint64_t records;
	uint64_t data_bytes;
	int error;			/* sticky -errno: the log cannot be trusted */
	uint64_t emergency_free;	/* enter emergency below this many free bytes; 0 off */
	int emergency;			/* writes go to the disk only (wr_lock) */
	uint64_t space_checked;		/* total at the last free-space check */
	uint64_t appends;		/* pwritev calls that appended records */
	struct eng_batch *batch;	/* the records being gathered */

	pthread_mutex_t app_lock;	/* guards the three below and every done */
	pthread_cond_t app_done;	/* to waiting writers: an append ended */
	struct eng_append *app_head, *app_tail;	/* arrived, not yet taken */
	int app_leading;		/* a writer is appending for the others */

	struct eng_pending pend;	/* the writeback queue, its own locks */

	/* pos_lock: one replay link writer at a time (checkpoint, emergency). */
	pthread_mutex_t pos_lock;
	char ckpt_name[MARS_ENGINE_NAME_MAX + 1];	/* last published */
	uint64_t ckpt_pos;
};

/* Create logfile @nr and get ready to write; -EEXIST if it exists. */
int eng_logger_start(struct eng_logger *l, struct mars_engine *e, uint64_t nr);
void eng_logger_stop(struct eng_logger *l);

/* Append and queue; waits for room in the queue, fails only with the log. */
int eng_logger_write(struct eng_logger *l, const void *buf, size_t len, uint64_t off);
/* Read the device as written so far (queued data over the disk). */
ssize_t eng_logger_read(struct eng_logger *l, void *buf, size_t len, uint64_t off);
/* Make every write acknowledged so far durable in the log (group commit);
 * counted as a flush in the status. */
int eng_logger_sync(struct eng_logger *l);
/* The same for the writeback thread and shutdown, not counted as a flush. */
int eng_logger_sync_log(struct eng_logger *l);
/* Sync the log and write back everything queued before. */
int eng_logger_drain(struct eng_logger *l);
int eng_logger_rotate(struct eng_logger *l);
/* Housekeeping: leave emergency mode once the log has room again.
 * Returns 1 when it left, 0 if not in it or still short, -errno. */
int eng_logger_emergency_check(struct eng_logger *l);
/* Sync the disk and record in the replay link the position everything
 * before which is on the disk; never past the durable end of the log. */
int eng_logger_checkpoint(struct eng_logger *l);

/* ---- user.c ---------------------------------------------------------------- */

/* One attached resource (opaque to clusterd, shared with fuse.c and main.c). */
struct mars_engine {
	char root[2049];		/* state tree root */
	char dir[3072];			/* <root>/resource-<res> */
	char host[64];
	char resource[64];
	char status_path[4096];
	unsigned int checkpoint_ms;
	int lock_fd;			/* flock on <dir>/.engine-lock */
	int disk_fd;			/* flock'ed too */
	uint64_t size_bytes;
	uint64_t emergency_free;	/* from the config */
	uint64_t pending_bytes;		/* writeback queue limit; 0 = default */
	uint64_t prealloc_bytes;	/* preallocation chunk; 0 = off */

	pthread_mutex_t lock;		/* guards mode, the replay fields and st */
	enum mars_engine_mode mode;
	struct eng_logger logger;	/* PRIMARY only */
	struct eng_apply replay;	/* REPLAY only, used by the replay thread */
	char replay_name[MARS_ENGINE_NAME_MAX + 1];
	struct mars_engine_status st;	/* replay progress, published by its thread */

	pthread_t thread;		/* housekeeping (primary) or replay */
	int thread_running;
	volatile int stop;		/* asks the thread to end */
	uint64_t rate_mark_bytes;	/* data bytes at the last rate sample */
	uint64_t rate_mark_ms;		/* and its time (eng_publish only) */

	pthread_mutex_t actual_lock;	/* guards the two counts below */
	int64_t open_count;		/* handles open on the FUSE file */
	int64_t open_published;		/* open-count last written */
};

/* ---- actual.c -------------------------------------------------------------- */

/*
 * Publish resource-<res>/actual-<host>/{is-attached,is-primary,
 * is-replaying} as given and open-count 0, in one transaction.  Only on a
 * mode change.  Returns 0 or -errno (also reported on stderr).
 */
int eng_actual_mode(struct mars_engine *e, int attached, int primary, int replaying);

/* Count a handle opened (+1) or released (-1); write open-count if it
 * differs from the value last published. */
int eng_actual_open(struct mars_engine *e, int delta);

/*
 * Write resource-<res>/actual-<host>/is-emergency (the persistent mark
 * of emergency mode, read by recovery).  Returns 0 or -errno.
 */
int eng_emergency_mark(const char *root, const char *res, const char *host, int on);
/* 1 if the mark is set, 0 if not or absent. */
int eng_emergency_marked(const char *root, const char *res, const char *host);

/* ---- openers.c ------------------------------------------------------------ */

#define ENG_OPENERS_DEVS	64

/* What to look for: device numbers of one type, or one file by inode. */
struct eng_openers_want {
	mode_t dev_type;		/* S_IFBLK or S_IFCHR, for devs[] */
	dev_t devs[ENG_OPENERS_DEVS];	/* a device and its partitions */
	unsigned int nr_devs;
	dev_t ino_dev;			/* a file: its st_dev and st_ino */
	ino_t ino;			/* 0: no file */
};

/*
 * Descriptors open on @want in every process but @skip, as far as /proc
 * shows them (this PID namespace, fd tables we may read).  Returns the
 * count, or -errno (-E2BIG: more descriptors than one scan looks at).
 */
int eng_openers_count(const struct eng_openers_want *want, pid_t skip);

/* ---- status.c ------------------------------------------------------------- */

/* Write @st to @path atomically (key=value lines). */
int eng_status_write(const char *path, const struct mars_engine_status *st);

/* ---- front ends: fuse.c, nbd.c ----------------------------------------------- */

/* What a front end serves: the primary's device. */
struct eng_serve {
	struct mars_engine *e;		/* primary: reads, writes, flushes go to e->logger */
	const char *mount;		/* FUSE: the mount point; NBD: where <resource>
					   links to the device (NULL: no link) */
	const char *resource;
	uint64_t size_bytes;		/* device size */
	/* Once the device can be opened (so what it announces, is-primary,
	 * is never seen before): the front end's name and the device path. */
	void (*ready)(struct mars_engine *e, const char *frontend, const char *device);
};

/* One per front end; main.c chooses (--frontend auto|nbd|fuse). */
struct eng_frontend {
	const char *name;		/* "nbd", "fuse" */
	/* 0 if it can serve here (may load a kernel module), else -errno. */
	int (*probe)(void);
	/* Serve until SIGTERM, SIGINT, SIGHUP or a disconnect from outside;
	 * returns 0 or -errno.  NBD takes the signals with sigtimedwait: the
	 * caller blocks them in every thread first. */
	int (*serve)(const struct eng_serve *s);
};

extern const struct eng_frontend eng_frontend_fuse;
extern const struct eng_frontend eng_frontend_nbd;

/* user.c: report the front end and device in the status file. */
void eng_frontend_set(struct mars_engine *e, const char *frontend, const char *device);

#endif /* MARS_ENGINE_INTERNAL_H */
