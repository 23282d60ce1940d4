/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The writer thread of the fetch pipeline (fwriter.h).
 *
 * Ordering invariant: a sync's target length is taken under the lock
 * *before* fdatasync starts, and `written` only grows after pwrite
 * returned, so every byte up to the target was written before the sync
 * began; only that target is reported, after the sync returned.
 *
 * Locking: the receiver only ever writes into the free part of the ring
 * and the writer thread only reads its queued part, so both copy without
 * the lock; the lock guards the positions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/transfer/fwriter.h"

/* Write the contiguous queued run at the head; the lock is held on entry and exit. */
static void
write_once(struct fwriter *fw)
{
	size_t n = fw->q_len, head = fw->q_head;
	uint64_t pos = fw->written, t0;
	ssize_t got;
	int fd = fw->fd;

	if (n > fw->queue_bytes - head)
		n = fw->queue_bytes - head;	/* up to the wrap; the rest next time */
	fw->busy = 1;
	pthread_mutex_unlock(&fw->lock);
	t0 = bucket_now_ns();
	got = pwrite(fd, fw->q + head, n, (off_t)pos);
	t0 = bucket_now_ns() - t0;
	pthread_mutex_lock(&fw->lock);
	fw->busy = 0;
	fw->write_ns += t0;
	if (got != (ssize_t)n && !fw->err)
		fw->err = got < 0 ? -errno : -EIO;	/* a short write: disk full */
	if (got == (ssize_t)n) {
		fw->q_head = (head + n) % fw->queue_bytes;
		fw->q_len -= n;
		fw->written += n;
	}
	pthread_cond_broadcast(&fw->done);	/* room in the queue, or a failure */
}

/* One sync of what is written now; the lock is held on entry and exit. */
static void
sync_once(struct fwriter *fw)
{
	uint64_t target = fw->written, t0, n;
	int fd = fw->fd, ret;

	fw->busy = 1;
	pthread_mutex_unlock(&fw->lock);
	t0 = bucket_now_ns();
	ret = fw->sync_fn(fd) < 0 ? -errno : 0;
	t0 = bucket_now_ns() - t0;
	pthread_mutex_lock(&fw->lock);
	fw->busy = 0;
	fw->sync_ns += t0;
	fw->syncs++;
	if (ret < 0 && !fw->err)
		fw->err = ret;
	n = ret == 0 && target > fw->synced ? target - fw->synced : 0;
	if (n) {
		fw->synced = target;
		pthread_mutex_unlock(&fw->lock);
		fw->on_synced(fw->arg, target, n);
		pthread_mutex_lock(&fw->lock);
	}
	pthread_cond_broadcast(&fw->done);
}

static void *
fwriter_thread(void *arg)
{
	struct fwriter *fw = arg;

	pthread_mutex_lock(&fw->lock);
	while (!fw->stop) {
		int can = fw->fd >= 0 && !fw->err;

		if (can && fw->q_len > 0 && fw->written - fw->synced < FWRITER_SYNC_BYTES)
			write_once(fw);
		else if (can && fw->written > fw->synced)
			sync_once(fw);
		else if (can && fw->q_len > 0)
			write_once(fw);
		else
			pthread_cond_wait(&fw->work, &fw->lock);
	}
	pthread_mutex_unlock(&fw->lock);
	return NULL;
}

int
fwriter_start(struct fwriter *fw, size_t queue_bytes, uint64_t max_unsynced_bytes,
	      void (*on_synced)(void *arg, uint64_t len, uint64_t n), void *arg)
{
	int ret;

	if (queue_bytes == 0 || max_unsynced_bytes < queue_bytes)
		return -EINVAL;
	*fw = (struct fwriter){ .fd = -1, .queue_bytes = queue_bytes,
				.max_unsynced = max_unsynced_bytes, .on_synced = on_synced,
				.sync_fn = fdatasync, .arg = arg };
	fw->q = malloc(queue_bytes);
	if (!fw->q)
		return -ENOMEM;
	pthread_mutex_init(&fw->lock, NULL);
	pthread_cond_init(&fw->work, NULL);
	pthread_cond_init(&fw->done, NULL);
	ret = -pthread_create(&fw->id, NULL, fwriter_thread, fw);
	if (ret < 0) {
		pthread_cond_destroy(&fw->done);
		pthread_cond_destroy(&fw->work);
		pthread_mutex_destroy(&fw->lock);
		free(fw->q);
	}
	return ret;
}

void
fwriter_attach(struct fwriter *fw, int fd, uint64_t len)
{
	pthread_mutex_lock(&fw->lock);
	fw->fd = fd;
	fw->written = fw->synced = len;
	fw->q_head = fw->q_len = 0;
	fw->err = 0;
	pthread_mutex_unlock(&fw->lock);
}

/* Room for @n more bytes under both bounds; the lock is held. */
static int
has_room(const struct fwriter *fw, size_t n)
{
	return fw->q_len + n <= fw->queue_bytes &&
	       fw->q_len + n + (fw->written - fw->synced) <= fw->max_unsynced;
}

/* Copy @n bytes into the ring's free part at its tail (without the lock). */
static void
ring_put(struct fwriter *fw, size_t tail, const uint8_t *data, size_t n)
{
	size_t first = n < fw->queue_bytes - tail ? n : fw->queue_bytes - tail;

	memcpy(fw->q + tail, data, first);
	memcpy(fw->q, data + first, n - first);
}

int
fwriter_append(struct fwriter *fw, const void *data, size_t n)
{
	const uint8_t *p = data;
	int ret = 0;

	while (ret == 0 && n > 0) {
		/* a piece larger than the queue goes in parts */
		size_t part = n < fw->queue_bytes ? n : fw->queue_bytes, tail;

		pthread_mutex_lock(&fw->lock);
		while (!fw->err && !has_room(fw, part)) {
			fw->receiver_waits = 1;
			pthread_cond_wait(&fw->done, &fw->lock);
		}
		fw->receiver_waits = 0;
		ret = fw->err;
		tail = (fw->q_head + fw->q_len) % fw->queue_bytes;
		pthread_mutex_unlock(&fw->lock);
		if (ret < 0)
			break;
		ring_put(fw, tail, p, part);
		pthread_mutex_lock(&fw->lock);
		fw->q_len += part;
		pthread_cond_signal(&fw->work);
		pthread_mutex_unlock(&fw->lock);
		p += part;
		n -= part;
	}
	return ret;
}

int
fwriter_drain(struct fwriter *fw)
{
	int ret;

	pthread_mutex_lock(&fw->lock);
	pthread_cond_signal(&fw->work);
	/* even after a failure: the caller may close the fd once we return */
	while (fw->busy || (!fw->err && (fw->q_len > 0 || fw->written > fw->synced)))
		pthread_cond_wait(&fw->done, &fw->lock);
	ret = fw->err;
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

int
fwriter_detach(struct fwriter *fw)
{
	int ret = fwriter_drain(fw);

	pthread_mutex_lock(&fw->lock);
	fw->fd = -1;
	fw->q_head = fw->q_len = 0;
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

void
fwriter_stats(struct fwriter *fw, uint64_t *write_ns, uint64_t *sync_ns, uint64_t *syncs)
{
	pthread_mutex_lock(&fw->lock);
	*write_ns = fw->write_ns;
	*sync_ns = fw->sync_ns;
	*syncs = fw->syncs;
	pthread_mutex_unlock(&fw->lock);
}

void
fwriter_stop(struct fwriter *fw)
{
	pthread_mutex_lock(&fw->lock);
	fw->stop = 1;
	pthread_cond_signal(&fw->work);
	pthread_mutex_unlock(&fw->lock);
	pthread_join(fw->id, NULL);
	pthread_cond_destroy(&fw->done);
	pthread_cond_destroy(&fw->work);
	pthread_mutex_destroy(&fw->lock);
	free(fw->q);
}
