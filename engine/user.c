/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace engine behind struct mars_engine_ops: mode changes,
 * primary recovery, the replay thread and the primary's housekeeping
 * thread (checkpoints of the applied position, status file).  The data
 * path itself is logger.c (writes) and apply.c (replay); the device is
 * served by fuse.c.  This file exports exactly one object.
 *
 * Recovery policy, as the module's (docs/engine.md): apply our own
 * logfiles from the replay link to the end of their valid records; an
 * incomplete, torn or corrupt tail with nothing valid after it is the
 * crash's torn tail and is ignored; a corrupt record followed by valid
 * ones, or a sequence gap, refuses the primary role and overwrites
 * nothing more.  Each recovered logfile is cut at the end of its valid
 * records (the torn tail, or the zeros preallocated after the log end,
 * docs/logfile-format.md 1.1) and synced before it counts as finished.
 * Then a fresh logfile N+1 is started.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/logend.h"
#include "engine/internal.h"
#include "statefs/statefs.h"

#define ENG_TICK_MS		50
#define ENG_STATUS_MS		1000
#define ENG_REPLAY_BATCH	256
#define ENG_REPLAY_WAIT_MAX_MS	200
#define ENG_REPLAY_END_CKPT_MS	100	/* checkpoint period once at the end */

static void
eng_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
eng_name_ok(enum statefs_name_kind kind, const char *s)
{
	return s && statefs_name_check(kind, s, NULL) == 0;
}

/* Open the disk without creating it and find its size. */
static int
eng_open_disk(const char *path, uint64_t *bytes)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fstat(fd, &st) < 0 ? -errno : 0;
	if (!ret && S_ISREG(st.st_mode))
		*bytes = (uint64_t)st.st_size;
	else if (!ret && S_ISBLK(st.st_mode))
		ret = ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	else if (!ret)
		ret = -EINVAL;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static int
eng_lock(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

static int
eng_init_names(struct mars_engine *e, const struct mars_engine_config *cfg)
{
	int ret;

	e->lock_fd = e->disk_fd = -1;
	ret = statefs_resource_path(cfg->root, cfg->resource, NULL, e->dir, sizeof(e->dir));
	if (ret)
		return ret;
	snprintf(e->root, sizeof(e->root), "%s", cfg->root);
	snprintf(e->host, sizeof(e->host), "%s", cfg->host);
	snprintf(e->resource, sizeof(e->resource), "%s", cfg->resource);
	if (cfg->status_path)
		snprintf(e->status_path, sizeof(e->status_path), "%s", cfg->status_path);
	else
		snprintf(e->status_path, sizeof(e->status_path), "%s/.engine-status", e->dir);
	e->checkpoint_ms = cfg->checkpoint_ms ? cfg->checkpoint_ms : 1000;
	return 0;
}

/*
 * Make the resource directory if needed and hold its engine lock
 * (.engine-lock: one engine per resource), through statefs, so that neither
 * the directory nor the lock file may be a link planted in /mars.
 */
static int
eng_lock_resource(struct mars_engine *e)
{
	struct statefs *sf = NULL;
	int ret = statefs_open(&sf, e->root, e->host, STATEFS_OPEN_ANY), dfd;

	if (ret)
		return ret;
	dfd = statefs_resource_dir(sf, e->resource, 1);
	if (dfd < 0) {
		ret = dfd;
		goto out;
	}
	close(dfd);
	e->lock_fd = statefs_file_open(sf, e->resource, ".engine-lock", O_RDWR | O_CREAT, 0600);
	ret = e->lock_fd < 0 ? e->lock_fd : eng_lock(e->lock_fd);
out:
	statefs_close(&sf);
	return ret;
}

static int
eng_attach(const struct mars_engine_config *cfg, struct mars_engine **out)
{
	struct mars_engine *e;
	uint64_t disk_bytes = 0;
	int ret;

	if (!cfg->root || !eng_name_ok(STATEFS_NAME_HOST, cfg->host) ||
	    !eng_name_ok(STATEFS_NAME_RESOURCE, cfg->resource) ||
	    !cfg->disk)
		return -EINVAL;
	if (strlen(cfg->root) > 2048)
		return -ENAMETOOLONG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = eng_init_names(e, cfg);
	if (ret)
		goto out_free;
	ret = eng_lock_resource(e);
	if (ret)
		goto out_close;
	ret = e->disk_fd = eng_open_disk(cfg->disk, &disk_bytes);
	if (ret < 0)
		goto out_close;
	ret = eng_lock(e->disk_fd);
	if (ret)
		goto out_close;
	e->size_bytes = cfg->size_bytes ? cfg->size_bytes : disk_bytes;
	e->emergency_free = cfg->emergency_free_bytes;
	e->pending_bytes = cfg->pending_bytes;
	e->prealloc_bytes = cfg->prealloc_bytes == MARS_ENGINE_PREALLOC_OFF ? 0 :
			    cfg->prealloc_bytes ? cfg->prealloc_bytes :
			    MARS_ENGINE_PREALLOC_DEFAULT;
	ret = -ENOSPC;
	if (disk_bytes < e->size_bytes || e->size_bytes == 0)
		goto out_close;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->actual_lock, NULL);
	e->mode = MARS_ENGINE_ATTACHED;
	e->st.size_bytes = e->size_bytes;
	*out = e;
	return 0;

out_close:
	if (e->disk_fd >= 0)
		close(e->disk_fd);
	if (e->lock_fd >= 0)
		close(e->lock_fd);
out_free:
	free(e);
	return ret;
}

/*
 * Cut recovered logfile @path at @end, the end of its valid records, and
 * make that durable: whatever follows (preallocated zeros, a torn record)
 * is not part of it, and clusterd, fetch and vouches take a finished
 * logfile's size as its length.
 */
static int
eng_recover_cut(const char *path, uint64_t end)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if ((uint64_t)st.st_size > end &&
		 (ftruncate(fd, (off_t)end) < 0 || fdatasync(fd) < 0))
		ret = -errno;
	if (!ret && (uint64_t)st.st_size > end)
		fprintf(stderr, "mars-engine: recovery cut '%s' at %llu bytes, the end of its "
			"valid records (the file held %llu)\n", path, (unsigned long long)end,
			(unsigned long long)st.st_size);
	close(fd);
	return ret;
}

/*
 * Cut our newest logfile at the end of its records when recovery does
 * not apply it: this node replayed another's logfiles since it wrote it
 * (its engine killed, then a handover).  Only the logfile being written
 * can hold preallocated zeros or a torn record, and that is always our
 * newest one, since every start as primary runs this or the recovery
 * above before it makes a newer one.  Damage before valid records is no
 * tail: left alone.
 */
static int
eng_recover_cut_newest(struct mars_engine *e, uint64_t nr)
{
	char name[MARS_ENGINE_NAME_MAX + 1], path[4352];
	uint64_t end, size;
	int fd, ret;

	ret = eng_log_name(name, sizeof(name), nr, e->host);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ret = logend_find(fd, &end, &size);
	close(fd);
	if (ret == -EBADMSG || (!ret && end == size))
		return 0;
	return ret ? ret : eng_recover_cut(path, end);
}

/* Apply own logfile @nr from @from; the stop tells whether to go on. */
static int
eng_recover_file(struct mars_engine *e, uint64_t nr, uint64_t from)
{
	char name[MARS_ENGINE_NAME_MAX + 1], path[4352];
	struct eng_apply a;
	int res, ret;

	ret = eng_log_name(name, sizeof(name), nr, e->host);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	ret = eng_apply_open(&a, e->disk_fd, e->size_bytes, path, from);
	if (ret)
		return ret;
	res = eng_apply_run(&a, 0);
	e->st.records += a.records;
	e->st.data_bytes += a.data_bytes;
	snprintf(e->st.logfile, sizeof(e->st.logfile), "%s", name);
	e->st.stop_result = a.stop.result;
	e->st.stop_reason = a.stop.rec.reason;
	e->st.stop_offset = a.stop.offset;
	ret = res < 0 ? res : 0;
	if (res == MARS_SCAN_SEQ_GAP)
		ret = -EBADMSG;
	else if (res == MARS_SCAN_CORRUPT)
		ret = eng_apply_valid_after_stop(&a) ? -EBADMSG : 0;
	eng_apply_close(&a);
	/* The stop is the end of the log (END, or a tail with nothing valid
	 * after it): cut there before anything counts the file finished. */
	if (!ret && res >= 0)
		ret = eng_recover_cut(path, a.stop.offset);
	return ret;
}

static int
eng_recover(struct mars_engine *e, uint64_t *next_nr)
{
	struct eng_pos p = { .nr = 0 };
	uint64_t *nrs = NULL, max_any;
	size_t n, i;
	int ret, have_link, own;

	ret = eng_pos_read(e->root, e->resource, e->host, &p);
	if (ret && ret != -ENOENT)
		return ret;
	have_link = !ret;
	own = have_link && strcmp(p.origin, e->host) == 0;
	ret = eng_log_list(e->dir, e->host, own ? p.nr : 0, &nrs, &n, &max_any);
	if (ret)
		return ret;
	/* Own logfiles without a position to start from: refuse to guess. */
	ret = -EUCLEAN;
	if (!have_link && n > 0)
		goto out;
	/* A fresh resource: create-resource named our first logfile in the
	 * link, at position 0, but nothing has been logged yet. */
	ret = 0;
	if (own && n == 0 && p.pos == 0) {
		*next_nr = max_any >= p.nr ? max_any + 1 : p.nr;
		goto out;
	}
	ret = -ENOENT;
	if (own && (n == 0 || nrs[0] != p.nr))
		goto out;
	/* A link to another host's logfile: we were a secondary, and
	 * finishing that replay is the replication logic's business. */
	ret = 0;
	if (!own && n > 0)
		ret = eng_recover_cut_newest(e, nrs[n - 1]);
	if (!own)
		n = 0;
	for (i = 0; i < n && !ret; i++)
		ret = eng_recover_file(e, nrs[i], i == 0 ? p.pos : 0);
	if (!ret && fdatasync(e->disk_fd) < 0)
		ret = -errno;
	*next_nr = max_any + 1;
out:
	free(nrs);
	return ret;
}

/* Sample the rate and write the status file; one thread at a time. */
static void
eng_publish(struct mars_engine *e)
{
	struct mars_engine_status st;
	uint64_t now = eng_mono_ms();

	mars_engine_user_ops.status(e, &st);
	if (now > e->rate_mark_ms && st.data_bytes >= e->rate_mark_bytes) {
		st.rate_bps = (st.data_bytes - e->rate_mark_bytes) * 1000 /
			      (now - e->rate_mark_ms);
		pthread_mutex_lock(&e->lock);
		e->st.rate_bps = st.rate_bps;
		pthread_mutex_unlock(&e->lock);
	}
	e->rate_mark_bytes = st.data_bytes;
	e->rate_mark_ms = now;
	eng_status_write(e->status_path, &st);
}

/* Primary housekeeping: checkpoints and the status file. */
static void *
eng_housekeeping(void *arg)
{
	struct mars_engine *e = arg;
	uint64_t now, last_ckpt = eng_mono_ms(), last_status = 0;
	int ret;

	while (!e->stop) {
		eng_sleep_ms(ENG_TICK_MS);
		now = eng_mono_ms();
		if (now - last_ckpt >= e->checkpoint_ms) {
			last_ckpt = now;
			ret = eng_logger_checkpoint(&e->logger);
			pthread_mutex_lock(&e->lock);
			if (ret)
				e->st.error = ret;
			snprintf(e->st.applied_logfile, sizeof(e->st.applied_logfile),
				 "%s", e->logger.ckpt_name);
			e->st.applied_pos = e->logger.ckpt_pos;
			pthread_mutex_unlock(&e->lock);
		}
		if (now - last_status >= ENG_STATUS_MS) {
			last_status = now;
			if (e->emergency_free &&
			    eng_logger_emergency_check(&e->logger) < 0)
				fprintf(stderr, "mars-engine: cannot leave emergency mode yet\n");
			eng_publish(e);
		}
	}
	return NULL;
}

static void eng_leave_replay(struct mars_engine *e);

static int
eng_set_primary(struct mars_engine *e)
{
	uint64_t nr = 0;
	int ret;

	if (e->mode == MARS_ENGINE_PRIMARY)
		return 0;
	if (e->mode == MARS_ENGINE_REPLAY)
		eng_leave_replay(e);
	memset(&e->st, 0, sizeof(e->st));
	e->st.size_bytes = e->size_bytes;
	ret = eng_recover(e, &nr);
	if (ret)
		goto out_status;
	ret = -EOVERFLOW;
	if (nr > ENG_LOGNR_MAX)
		goto out_status;
	ret = eng_logger_start(&e->logger, e, nr);
	if (ret)
		goto out_status;
	e->logger.emergency_free = e->emergency_free;
	/* Logging again after an emergency: the hole in the numbering is
	 * behind us, the mark goes. */
	if (eng_emergency_marked(e->root, e->resource, e->host))
		eng_emergency_mark(e->root, e->resource, e->host, 0);
	ret = eng_pos_write(e->root, e->resource, e->host, e->logger.logname, 0, 0);
	if (ret)
		goto out_logger;
	snprintf(e->logger.ckpt_name, sizeof(e->logger.ckpt_name), "%s", e->logger.logname);
	snprintf(e->st.applied_logfile, sizeof(e->st.applied_logfile), "%s", e->logger.logname);
	e->st.applied_pos = 0;
	e->stop = 0;
	ret = -pthread_create(&e->thread, NULL, eng_housekeeping, e);
	if (ret)
		goto out_logger;
	e->thread_running = 1;
	e->mode = MARS_ENGINE_PRIMARY;
	eng_publish(e);
	return 0;

out_logger:
	eng_logger_stop(&e->logger);
out_status:
	e->st.error = ret;
	eng_status_write(e->status_path, &e->st);
	return ret;
}

/* Replay: make the disk durable, then move the replay link. */
static void
eng_replay_checkpoint(struct mars_engine *e, uint64_t pos)
{
	int ret = fdatasync(e->disk_fd) < 0 ? -errno : 0;
	struct eng_pos cur;

	/* The link is ours only while it names our logfile: invalidate or a
	 * join may have moved this node elsewhere meanwhile, and an old
	 * position written back would undo that. */
	if (!ret && eng_pos_read(e->root, e->resource, e->host, &cur) == 0 &&
	    strcmp(cur.logfile, e->replay_name))
		return;
	if (!ret)
		ret = eng_pos_write(e->root, e->resource, e->host, e->replay_name, pos, 0);
	pthread_mutex_lock(&e->lock);
	if (ret)
		e->st.error = ret;
	else
		e->st.applied_pos = pos;
	pthread_mutex_unlock(&e->lock);
}

/* Record the outcome of one batch; returns the new replay state. */
static enum mars_engine_replay_state
eng_replay_account(struct mars_engine *e, int res)
{
	enum mars_engine_replay_state rs = MARS_ENGINE_RS_RUNNING;

	if (res < 0)
		rs = MARS_ENGINE_RS_FAILED;
	else if (res == MARS_SCAN_END || res == MARS_SCAN_INCOMPLETE)
		rs = MARS_ENGINE_RS_WAITING;
	else if (res != MARS_SCAN_RECORD)
		rs = MARS_ENGINE_RS_STOPPED;
	pthread_mutex_lock(&e->lock);
	e->st.records = e->replay.records;
	e->st.data_bytes = e->replay.data_bytes;
	e->st.replay = rs;
	if (res < 0)
		e->st.error = res;
	if (res != MARS_SCAN_RECORD) {
		e->st.stop_result = e->replay.stop.result;
		e->st.stop_reason = e->replay.stop.rec.reason;
		e->st.stop_offset = res < 0 ? eng_apply_pos(&e->replay) : e->replay.stop.offset;
	}
	pthread_mutex_unlock(&e->lock);
	return rs;
}

static void *
eng_replay_thread(void *arg)
{
	struct mars_engine *e = arg;
	enum mars_engine_replay_state rs = MARS_ENGINE_RS_RUNNING;
	int res, prev_res = MARS_SCAN_RECORD;
	uint64_t now, last_ckpt = eng_mono_ms(), last_status = 0, ckpt_pos = UINT64_MAX;
	unsigned int wait_ms = 1;

	while (!e->stop && rs != MARS_ENGINE_RS_STOPPED && rs != MARS_ENGINE_RS_FAILED) {
		uint64_t before = eng_apply_pos(&e->replay);
		int moved = 0;

		res = eng_apply_run(&e->replay, ENG_REPLAY_BATCH);
		rs = eng_replay_account(e, res);
		now = eng_mono_ms();
		/* At the end the position is published soon (a handover waits
		 * for it), but not per trickling record: each costs a disk
		 * sync and a gossiped link. */
		if ((now - last_ckpt >= e->checkpoint_ms ||
		     (rs != MARS_ENGINE_RS_RUNNING && now - last_ckpt >= ENG_REPLAY_END_CKPT_MS)) &&
		    ckpt_pos != eng_apply_pos(&e->replay)) {
			last_ckpt = now;
			ckpt_pos = eng_apply_pos(&e->replay);
			eng_replay_checkpoint(e, ckpt_pos);
			moved = 1;
		}
		/* Publish every change of state at once, else once a period. */
		if (now - last_status >= ENG_STATUS_MS || res != prev_res || moved) {
			last_status = now;
			eng_publish(e);
		}
		prev_res = res;
		if (rs != MARS_ENGINE_RS_WAITING) {
			wait_ms = 1;
			continue;
		}
		/* Records arrived since the last poll: the writer is active,
		 * look again soon instead of backing off. */
		if (eng_apply_pos(&e->replay) != before)
			wait_ms = 1;
		/* A tail that is still arriving: poll with bounded backoff. */
		eng_sleep_ms(wait_ms);
		wait_ms = wait_ms * 2 > ENG_REPLAY_WAIT_MAX_MS ? ENG_REPLAY_WAIT_MAX_MS : wait_ms * 2;
		eng_apply_rescan(&e->replay);
	}
	return NULL;
}

static void
eng_stop_thread(struct mars_engine *e)
{
	if (!e->thread_running)
		return;
	e->stop = 1;
	pthread_join(e->thread, NULL);
	e->thread_running = 0;
}

static void
eng_leave_replay(struct mars_engine *e)
{
	eng_stop_thread(e);
	eng_replay_checkpoint(e, eng_apply_pos(&e->replay));
	eng_apply_close(&e->replay);
	e->mode = MARS_ENGINE_ATTACHED;
}

static int
eng_set_replay(struct mars_engine *e, const char *logfile, uint64_t pos)
{
	const char *base = strrchr(logfile, '/');
	char origin[MARS_NAME_MAX + 1];
	uint64_t nr;
	int ret;

	base = base ? base + 1 : logfile;
	if (e->mode == MARS_ENGINE_PRIMARY)
		return -EBUSY;
	if (strlen(base) > MARS_ENGINE_NAME_MAX ||
	    eng_log_parse(base, &nr, origin, sizeof(origin)))
		return -EINVAL;
	if (e->mode == MARS_ENGINE_REPLAY)
		eng_leave_replay(e);
	ret = eng_apply_open(&e->replay, e->disk_fd, e->size_bytes, logfile, pos);
	if (ret)
		return ret;
	pthread_mutex_lock(&e->lock);
	memset(&e->st, 0, sizeof(e->st));
	e->st.size_bytes = e->size_bytes;
	snprintf(e->replay_name, sizeof(e->replay_name), "%s", base);
	snprintf(e->st.logfile, sizeof(e->st.logfile), "%s", base);
	snprintf(e->st.applied_logfile, sizeof(e->st.applied_logfile), "%s", base);
	e->st.applied_pos = pos;
	e->st.replay = MARS_ENGINE_RS_RUNNING;
	e->mode = MARS_ENGINE_REPLAY;
	pthread_mutex_unlock(&e->lock);
	e->stop = 0;
	ret = -pthread_create(&e->thread, NULL, eng_replay_thread, e);
	if (ret) {
		eng_apply_close(&e->replay);
		e->mode = MARS_ENGINE_ATTACHED;
		return ret;
	}
	e->thread_running = 1;
	return 0;
}

static int
eng_rotate(struct mars_engine *e)
{
	if (e->mode != MARS_ENGINE_PRIMARY)
		return -EINVAL;
	return eng_logger_rotate(&e->logger);
}

static int
eng_status(struct mars_engine *e, struct mars_engine_status *st)
{
	struct eng_logger *l = &e->logger;
	uint64_t synced, behind;

	pthread_mutex_lock(&e->lock);
	*st = e->st;
	st->mode = e->mode;
	pthread_mutex_unlock(&e->lock);
	if (e->mode != MARS_ENGINE_PRIMARY)
		return 0;
	synced = __atomic_load_n(&l->synced_total, __ATOMIC_RELAXED);
	st->sync_requests = __atomic_load_n(&l->sync_requests, __ATOMIC_RELAXED);
	st->log_syncs = __atomic_load_n(&l->log_syncs, __ATOMIC_RELAXED);
	pthread_mutex_lock(&l->wr_lock);
	snprintf(st->logfile, sizeof(st->logfile), "%s", l->logname);
	st->log_end = l->log_end;
	behind = l->total - l->log_end;		/* bytes in earlier logfiles */
	st->synced_pos = synced > behind ? synced - behind : 0;
	st->records = l->records;
	st->data_bytes = l->data_bytes;
	st->emergency = l->emergency;
	if (l->error)
		st->error = l->error;
	pthread_mutex_unlock(&l->wr_lock);
	st->pending_bytes = eng_pend_queued(l);
	return 0;
}

void
eng_frontend_set(struct mars_engine *e, const char *frontend, const char *device)
{
	pthread_mutex_lock(&e->lock);
	snprintf(e->st.frontend, sizeof(e->st.frontend), "%s", frontend);
	snprintf(e->st.device, sizeof(e->st.device), "%s", device);
	pthread_mutex_unlock(&e->lock);
	/* The housekeeping thread writes the status within ENG_STATUS_MS. */
}

static void
eng_detach(struct mars_engine *e)
{
	struct mars_engine_status last;

	if (e->mode == MARS_ENGINE_REPLAY)
		eng_leave_replay(e);
	if (e->mode == MARS_ENGINE_PRIMARY) {
		eng_stop_thread(e);
		/* Everything on the disk first, so the link reaches the end. */
		eng_logger_drain(&e->logger);
		eng_logger_checkpoint(&e->logger);
		snprintf(e->st.applied_logfile, sizeof(e->st.applied_logfile), "%s",
			 e->logger.ckpt_name);
		e->st.applied_pos = e->logger.ckpt_pos;
		/* Keep the primary's last numbers in the final status. */
		eng_status(e, &last);
		e->st = last;
		eng_logger_stop(&e->logger);
		e->mode = MARS_ENGINE_ATTACHED;
	}
	eng_publish(e);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->actual_lock);
	close(e->disk_fd);
	close(e->lock_fd);
	free(e);
}

const struct mars_engine_ops mars_engine_user_ops = {
	.name = "user",
	.attach = eng_attach,
	.detach = eng_detach,
	.set_primary = eng_set_primary,
	.set_replay = eng_set_replay,
	.rotate = eng_rotate,
	.status = eng_status,
};
