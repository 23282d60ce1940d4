/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The primary write path of the userspace engine.
 *
 * Every write is appended to the current logfile as one record per MiB
 * and then written to the disk, both under wr_lock and before the write
 * is acknowledged.  Consequences, chosen on purpose:
 *  - reads need no index: the disk (through the page cache) always holds
 *    the newest acknowledged data;
 *  - the disk never holds data whose record is not in the log file, and
 *    overlapping writes reach the disk in log order, so replaying the log
 *    over any older state of the disk gives the same bytes;
 *  - an fsync only has to fdatasync the logfile (group commit below); the
 *    disk is synced by the checkpoint, which then advances the applied
 *    position in the replay link.
 *
 * Failure policy: a log append that fails is cut back (ftruncate) and the
 * write fails with nothing written to the disk.  If the cut fails too, or
 * a log sync fails, the logger turns read-only (sticky error): a log that
 * may hold garbage is never extended.
 *
 * Emergency mode (when enabled): when the log's file system falls below
 * emergency_free bytes, or an append meets ENOSPC, the logger stops
 * logging instead of failing the application: the log and the disk are
 * synced, the replay link moves to an empty logfile ten numbers on (a
 * hole in the history, so that no secondary replays across the unlogged
 * writes), is-emergency is set in the tree, and from then on writes go to
 * the disk only and an fsync syncs the disk.  With room again (twice the
 * limit) logging resumes in that logfile.  Secondaries need a full sync
 * (invalidate) afterwards, as in MARS.
 */
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

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
	fd = eng_logger_create(l, nr, l->logname, sizeof(l->logname));
	if (fd < 0)
		return fd;
	ret = eng_fsync_dir(l->dir);
	if (ret) {
		close(fd);
		return ret;
	}
	l->log_fd = fd;
	l->lognr = nr;
	l->next_seq = 1;
	pthread_mutex_init(&l->sync_lock, NULL);
	pthread_mutex_init(&l->wr_lock, NULL);
	return 0;
}

void
eng_logger_stop(struct eng_logger *l)
{
	if (l->log_fd >= 0) {
		fdatasync(l->log_fd);
		close(l->log_fd);
	}
	l->log_fd = -1;
	pthread_mutex_destroy(&l->wr_lock);
	pthread_mutex_destroy(&l->sync_lock);
}

/* Append one record for @len <= 1 MiB bytes at @off.  wr_lock held. */
static int
eng_logger_append(struct eng_logger *l, const uint8_t *buf, uint32_t len, uint64_t off)
{
	static const uint8_t zeros[MARS_REC_ALIGN];
	uint8_t hdr_buf[MARS_REC_HDR_BYTES], trl_buf[MARS_REC_TRL_BYTES];
	struct mars_rec_hdr hdr = { .seq = l->next_seq, .dev_off = off,
				    .stored_len = len, .data_len = len };
	size_t rec_len = mars_rec_size(len);
	struct iovec iov[4];
	uint64_t now = eng_now_ns();
	ssize_t n;
	int ret;

	hdr.stamp_ns = now > l->last_stamp_ns ? now : l->last_stamp_ns + 1;
	ret = mars_rec_put_header(hdr_buf, &hdr);
	if (ret)
		return ret;
	mars_rec_put_trailer(trl_buf, hdr_buf, mars_rec_payload_hash(buf, len), 1);
	iov[0] = (struct iovec){ hdr_buf, sizeof(hdr_buf) };
	iov[1] = (struct iovec){ (void *)buf, len };
	iov[2] = (struct iovec){ (void *)zeros, rec_len - MARS_REC_OVERHEAD - len };
	iov[3] = (struct iovec){ trl_buf, sizeof(trl_buf) };
	n = pwritev(l->log_fd, iov, 4, (off_t)l->log_end);
	if (n == (ssize_t)rec_len) {
		l->log_end += rec_len;
		l->total += rec_len;
		l->next_seq++;
		l->last_stamp_ns = hdr.stamp_ns;
		return 0;
	}
	ret = n < 0 ? -errno : -ENOSPC;
	/* Cut the partial record so the log stays a clean sequence. */
	if (ftruncate(l->log_fd, (off_t)l->log_end) < 0)
		l->error = ret;
	return ret;
}

static int
eng_logger_writeback(struct eng_logger *l, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(l->disk_fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
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

/* Stop logging; see the top of this file.  wr_lock held. */
static int
eng_logger_enter_emergency(struct eng_logger *l)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t nr = l->lognr + ENG_EMERGENCY_HOLE;
	int fd, ret;

	/* Everything logged so far and the disk state it produced are durable
	 * before the first unlogged write, and the replay link says so:
	 * recovery must never apply older records over newer disk data. */
	if (fdatasync(l->log_fd) < 0 || fdatasync(l->disk_fd) < 0)
		return -errno;
	ret = eng_log_name(name, sizeof(name), nr, l->host);
	if (ret)
		return ret;
	fd = eng_logger_create(l, nr, name, sizeof(name));
	if (fd < 0 && fd != -ENOSPC && fd != -EEXIST)
		return fd;
	ret = eng_pos_write(l->root, l->resource, l->host, name, 0, 0);
	if (!ret)
		ret = eng_emergency_mark(l->root, l->resource, l->host, 1);
	if (ret) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	close(l->log_fd);
	l->log_fd = fd;			/* -1 if it could not be created yet */
	l->lognr = nr;
	strcpy(l->logname, name);
	l->log_end = 0;
	l->next_seq = 1;
	l->emergency = 1;
	fprintf(stderr, "mars-engine: EMERGENCY MODE: the log file system of '%s' has less "
		"than %" PRIu64 " bytes free; writes go to the disk only, replication "
		"stopped (secondaries will need 'marsadm invalidate')\n", l->resource,
		l->emergency_free);
	return 0;
}

/* Enter emergency mode when the log's file system runs short.  wr_lock held. */
static int
eng_logger_space(struct eng_logger *l)
{
	if (l->total - l->space_checked < ENG_SPACE_CHECK_BYTES && l->space_checked)
		return 0;
	l->space_checked = l->total ? l->total : 1;
	return eng_log_free(l) < l->emergency_free ? eng_logger_enter_emergency(l) : 0;
}

int
eng_logger_emergency_check(struct eng_logger *l)
{
	int fd = 0, ret;

	if (!l->emergency || eng_log_free(l) < 2 * l->emergency_free)
		return 0;
	pthread_mutex_lock(&l->wr_lock);
	if (l->log_fd < 0) {
		fd = eng_logger_create(l, l->lognr, l->logname, sizeof(l->logname));
		if (fd >= 0)
			l->log_fd = fd;
	}
	if (fd >= 0)
		l->emergency = 0;
	pthread_mutex_unlock(&l->wr_lock);
	if (fd < 0)
		return fd;
	ret = eng_emergency_mark(l->root, l->resource, l->host, 0);
	if (ret)
		return ret;
	fprintf(stderr, "mars-engine: emergency mode of '%s' ended; logging again to '%s'\n",
		l->resource, l->logname);
	return 1;
}

int
eng_logger_write(struct eng_logger *l, const void *data, size_t len, uint64_t off)
{
	const uint8_t *buf = data;
	size_t done = 0;
	int ret = 0;

	if (off > l->size_bytes || len > l->size_bytes - off)
		return -ENOSPC;
	pthread_mutex_lock(&l->wr_lock);
	while (done < len && !ret) {
		size_t chunk = len - done;

		if (chunk > MARS_REC_MAX_PAYLOAD)
			chunk = MARS_REC_MAX_PAYLOAD;
		ret = l->error;
		if (!ret && !l->emergency && l->emergency_free)
			ret = eng_logger_space(l);
		if (!ret && !l->emergency) {
			ret = eng_logger_append(l, buf + done, (uint32_t)chunk, off + done);
			if (ret == -ENOSPC && l->emergency_free)
				ret = eng_logger_enter_emergency(l);
			else if (!ret)
				l->records++;
		}
		if (!ret)
			ret = eng_logger_writeback(l, buf + done, chunk, off + done);
		if (ret)
			break;
		l->data_bytes += chunk;
		done += chunk;
	}
	pthread_mutex_unlock(&l->wr_lock);
	return ret;
}

/* A logfile that could not be made durable: later writes and syncs fail. */
static void
eng_logger_set_error(struct eng_logger *l, int err)
{
	pthread_mutex_lock(&l->wr_lock);
	l->error = err;
	pthread_mutex_unlock(&l->wr_lock);
}

int
eng_logger_sync(struct eng_logger *l)
{
	uint64_t target, cur;
	int fd, ret = 0, emergency;

	__atomic_add_fetch(&l->sync_requests, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&l->wr_lock);
	target = l->total;
	emergency = l->emergency;
	pthread_mutex_unlock(&l->wr_lock);
	/* Unlogged writes are only safe once they are on the disk. */
	if (emergency)
		return fdatasync(l->disk_fd) < 0 ? -errno : 0;

	pthread_mutex_lock(&l->sync_lock);
	/* Group commit: a sync that ran while we waited may cover us. */
	if (l->synced_total >= target)
		goto out;
	pthread_mutex_lock(&l->wr_lock);
	cur = l->total;
	fd = l->log_fd;
	ret = l->error;
	pthread_mutex_unlock(&l->wr_lock);
	if (ret)
		goto out;
	/* Bytes of earlier logfiles were synced by the rotation (sync_lock). */
	if (fdatasync(fd) < 0) {
		ret = -errno;
		eng_logger_set_error(l, ret);
		goto out;
	}
	__atomic_store_n(&l->synced_total, cur, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->log_syncs, 1, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&l->sync_lock);
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
	l->log_fd = fd;
	l->lognr++;
	strcpy(l->logname, name);
	l->log_end = 0;
	l->next_seq = 1;
	at_swap = l->total;
	pthread_mutex_unlock(&l->wr_lock);

	if (fdatasync(old) < 0)
		ret = -errno;
	close(old);
	if (!ret)
		ret = eng_fsync_dir(l->dir);
	if (ret)
		eng_logger_set_error(l, ret);
	else if (at_swap > l->synced_total)
		__atomic_store_n(&l->synced_total, at_swap, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&l->sync_lock);
	return ret;
}

int
eng_logger_checkpoint(struct eng_logger *l)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t pos;
	int ret;

	/* Everything logged before this snapshot is already on the disk. */
	pthread_mutex_lock(&l->wr_lock);
	strcpy(name, l->logname);
	pos = l->log_end;
	pthread_mutex_unlock(&l->wr_lock);
	if (pos == l->ckpt_pos && strcmp(name, l->ckpt_name) == 0)
		return 0;
	if (fdatasync(l->disk_fd) < 0)
		return -errno;
	ret = eng_pos_write(l->root, l->resource, l->host, name, pos, 0);
	if (ret)
		return ret;
	strcpy(l->ckpt_name, name);
	l->ckpt_pos = pos;
	return 0;
}
