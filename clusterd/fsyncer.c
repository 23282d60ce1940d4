/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sync thread of the fetch pipeline (fsyncer.h).  Ordering invariant:
 * a length is taken as the target under the lock *before* fdatasync
 * starts, so every byte up to it was appended (pwrite returned) before
 * the sync began; only that target is reported, after the sync returned.
 */
#include <errno.h>
#include <unistd.h>

#include "clusterd/bucket.h"
#include "clusterd/fsyncer.h"

/* One sync of what is appended now; the lock is held on entry and exit. */
static void
sync_once(struct fsyncer *fs)
{
	uint64_t target = fs->appended, t0, n;
	int fd = fs->fd, ret;

	fs->syncing = 1;
	pthread_mutex_unlock(&fs->lock);
	t0 = bucket_now_ns();
	ret = fs->sync_fn(fd) < 0 ? -errno : 0;
	t0 = bucket_now_ns() - t0;
	pthread_mutex_lock(&fs->lock);
	fs->syncing = 0;
	fs->sync_ns += t0;
	fs->syncs++;
	if (ret < 0 && !fs->err)
		fs->err = ret;
	n = ret == 0 && target > fs->synced ? target - fs->synced : 0;
	if (n) {
		fs->synced = target;
		pthread_mutex_unlock(&fs->lock);
		fs->on_synced(fs->arg, target, n);
		pthread_mutex_lock(&fs->lock);
	}
	pthread_cond_broadcast(&fs->done);
}

static void *
fsyncer_thread(void *arg)
{
	struct fsyncer *fs = arg;

	pthread_mutex_lock(&fs->lock);
	while (!fs->stop) {
		if (fs->fd >= 0 && !fs->err && fs->appended > fs->synced)
			sync_once(fs);
		else
			pthread_cond_wait(&fs->work, &fs->lock);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

int
fsyncer_start(struct fsyncer *fs, uint64_t max_unsynced_bytes,
	      void (*on_synced)(void *arg, uint64_t len, uint64_t n), void *arg)
{
	int ret;

	*fs = (struct fsyncer){ .fd = -1, .max_unsynced = max_unsynced_bytes,
				.on_synced = on_synced, .sync_fn = fdatasync, .arg = arg };
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->work, NULL);
	pthread_cond_init(&fs->done, NULL);
	ret = -pthread_create(&fs->id, NULL, fsyncer_thread, fs);
	if (ret < 0) {
		pthread_cond_destroy(&fs->done);
		pthread_cond_destroy(&fs->work);
		pthread_mutex_destroy(&fs->lock);
	}
	return ret;
}

void
fsyncer_attach(struct fsyncer *fs, int fd, uint64_t len)
{
	pthread_mutex_lock(&fs->lock);
	fs->fd = fd;
	fs->appended = fs->synced = len;
	fs->err = 0;
	pthread_mutex_unlock(&fs->lock);
}

int
fsyncer_appended(struct fsyncer *fs, uint64_t n)
{
	int ret;

	pthread_mutex_lock(&fs->lock);
	fs->appended += n;
	pthread_cond_signal(&fs->work);
	while (!fs->err && fs->appended - fs->synced > fs->max_unsynced) {
		fs->writer_waits = 1;
		pthread_cond_wait(&fs->done, &fs->lock);
	}
	fs->writer_waits = 0;
	ret = fs->err;
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

int
fsyncer_drain(struct fsyncer *fs)
{
	int ret;

	pthread_mutex_lock(&fs->lock);
	pthread_cond_signal(&fs->work);
	/* even after a failure: the caller may close the fd once we return */
	while (fs->syncing || (!fs->err && fs->appended > fs->synced))
		pthread_cond_wait(&fs->done, &fs->lock);
	ret = fs->err;
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

int
fsyncer_detach(struct fsyncer *fs)
{
	int ret = fsyncer_drain(fs);

	pthread_mutex_lock(&fs->lock);
	fs->fd = -1;
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

void
fsyncer_stats(struct fsyncer *fs, uint64_t *sync_ns, uint64_t *syncs)
{
	pthread_mutex_lock(&fs->lock);
	*sync_ns = fs->sync_ns;
	*syncs = fs->syncs;
	pthread_mutex_unlock(&fs->lock);
}

void
fsyncer_stop(struct fsyncer *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->stop = 1;
	pthread_cond_signal(&fs->work);
	pthread_mutex_unlock(&fs->lock);
	pthread_join(fs->id, NULL);
	pthread_cond_destroy(&fs->done);
	pthread_cond_destroy(&fs->work);
	pthread_mutex_destroy(&fs->lock);
}
