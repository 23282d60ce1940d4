/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pending writeback: the writes whose records are in the logfile but whose
 * data is not on the disk yet, kept in memory in log order, and the one
 * background thread that moves them to the disk.
 *
 * Why: the disk may only receive a block once its record is durable in
 * the log (write-ahead, see logger.c).  Writing the disk at append time
 * would put it ahead of the log after a power loss; waiting for the log
 * sync in the writer would make every write an fsync.  So a write is
 * acknowledged once appended and queued here; the thread syncs the log
 * for a whole batch (group commit, bounded by ENG_PEND_DELAY_MS and
 * ENG_PEND_BATCH_BYTES after it first sees an unsynced record) and then
 * writes back every entry the sync covered.
 *
 * Invariants:
 *  - the list is in log order and only its head is ever removed, by a
 *    holder of wb_lock, after the head's data is on the disk: so the disk
 *    receives overlapping writes in log order, and an entry is on the
 *    disk, or in the list, or both (never neither);
 *  - an entry is written back only when synced_total covers its record;
 *  - wb_nr/wb_pos (the applied position the checkpoint may publish) only
 *    move over entries written back, hence never past the durable log;
 *  - bytes (queued and reserved) stay within limit_bytes, except for one
 *    write larger than the limit, admitted alone; writers wait, never fail.
 *
 * Reads hold list_lock shared across the disk read and the overlay of the
 * queued entries, so no entry can leave the list between the two.
 *
 * Failure policy: a failed disk write stops writeback for good (sticky
 * error; the entry stays queued, reads keep seeing its data); writes fail
 * from then on, the log still holds everything acknowledged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/io.h"
#include "common/parse.h"
#include "engine/internal.h"

#define ENG_PEND_DELAY_MS	20		/* log sync at most this long after a record */
#define ENG_PEND_BATCH_BYTES	(4ULL << 20)	/* or once this much is unsynced */

static uint64_t
eng_pend_synced(struct eng_logger *l)
{
	return __atomic_load_n(&l->synced_total, __ATOMIC_ACQUIRE);
}

/* Does the thread have something to do now?  p->lock held. */
static int
eng_pend_ready(struct eng_logger *l, uint64_t *since_ms)
{
	struct eng_pending *p = &l->pend;
	uint64_t synced = eng_pend_synced(l), now;

	if (p->stop)
		return 1;
	if (p->error || !p->head)
		return 0;
	if (p->head->total_end <= synced)
		return 1;		/* synced by an fsync or the last batch */
	if (p->tail->total_end - synced >= p->batch_bytes || p->waiters)
		return 1;
	now = eng_mono_ms();
	if (!*since_ms)
		*since_ms = now;
	return now - *since_ms >= p->delay_ms;
}

/* Wait for work; returns 1 when asked to stop. */
static int
eng_pend_wait(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;
	uint64_t since = 0, until;
	struct timespec ts;
	int stop;

	pthread_mutex_lock(&p->lock);
	while (!eng_pend_ready(l, &since)) {
		if (!since) {
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		until = since + p->delay_ms;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		pthread_cond_timedwait(&p->wake, &p->lock, &ts);
	}
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/* 1 if a queued record is not durable yet. */
static int
eng_pend_unsynced(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = p->tail && p->tail->total_end > eng_pend_synced(l);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void
eng_pend_fail(struct eng_pending *p, int err)
{
	pthread_mutex_lock(&p->lock);
	if (!p->error)
		p->error = err;
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
}

static void *
eng_pend_thread(void *arg)
{
	struct eng_logger *l = arg;
	int ret;

	while (!eng_pend_wait(l)) {
		/* Group commit: one log sync covers the whole batch. */
		if (eng_pend_unsynced(l)) {
			ret = eng_logger_sync_log(l);
			if (ret)
				eng_pend_fail(&l->pend, ret);
		}
		eng_pend_writeback(l);
	}
	return NULL;
}

/* The sync bound: MARS_ENGINE_SYNC_MS (docs/mars-engine.8) or the default. */
static unsigned int
eng_pend_delay_ms(void)
{
	const char *env = getenv("MARS_ENGINE_SYNC_MS");
	uint64_t ms;

	if (env && parse_u64(env, &ms) == 0 && ms > 0 && ms <= 600000)
		return (unsigned int)ms;
	return ENG_PEND_DELAY_MS;
}

int
eng_pend_init(struct eng_logger *l, uint64_t limit_bytes, uint64_t nr)
{
	struct eng_pending *p = &l->pend;
	pthread_rwlockattr_t ra;
	pthread_condattr_t ca;
	int ret;

	memset(p, 0, sizeof(*p));
	p->limit_bytes = limit_bytes ? limit_bytes : ENG_PEND_DEFAULT_BYTES;
	p->delay_ms = eng_pend_delay_ms();
	p->batch_bytes = ENG_PEND_BATCH_BYTES;
	p->wb_nr = nr;
	/* Readers must not starve the writers that queue and pop. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->list_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&p->wb_lock, NULL);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&p->room, NULL);
	ret = -pthread_create(&p->thread, NULL, eng_pend_thread, l);
	if (ret)
		eng_pend_destroy(p);
	return ret;
}

void
eng_pend_destroy(struct eng_pending *p)
{
	struct eng_pend *e;

	while ((e = p->head)) {
		p->head = e->next;
		free(e);
	}
	p->tail = NULL;
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->wb_lock);
	pthread_rwlock_destroy(&p->list_lock);
}

void
eng_pend_stop(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;

	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	/* What the log holds durably still goes to the disk; the rest is
	 * what a crash now would lose too. */
	eng_pend_writeback(l);
	eng_pend_destroy(p);
}

int
eng_pend_reserve(struct eng_logger *l, uint64_t len)
{
	struct eng_pending *p = &l->pend;
	int ret;

	pthread_mutex_lock(&p->lock);
	/* Backpressure: an empty queue admits any write, so none waits forever. */
	while (!p->error && p->bytes && p->bytes + len > p->limit_bytes) {
		p->waiters++;
		pthread_cond_signal(&p->wake);	/* sync now, do not wait for the delay */
		pthread_cond_wait(&p->room, &p->lock);
		p->waiters--;
	}
	ret = p->error;
	if (!ret)
		p->bytes += len;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void
eng_pend_unreserve(struct eng_logger *l, uint64_t len)
{
	struct eng_pending *p = &l->pend;

	if (!len)
		return;
	pthread_mutex_lock(&p->lock);
	p->bytes -= len;
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
}

void
eng_pend_add(struct eng_logger *l, struct eng_pend *e)
{
	struct eng_pending *p = &l->pend;

	e->next = NULL;
	pthread_rwlock_wrlock(&p->list_lock);
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->queued_bytes += e->len;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_rwlock_unlock(&p->list_lock);
}

/* Unlink the head @e (on the disk now) and free it.  wb_lock held. */
static void
eng_pend_pop(struct eng_logger *l, struct eng_pend *e)
{
	struct eng_pending *p = &l->pend;

	pthread_rwlock_wrlock(&p->list_lock);
	pthread_mutex_lock(&p->lock);
	p->head = e->next;
	if (!p->head)
		p->tail = NULL;
	p->bytes -= e->len;
	p->queued_bytes -= e->len;
	p->wb_nr = e->lognr;
	p->wb_pos = e->log_pos;
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
	pthread_rwlock_unlock(&p->list_lock);
	free(e);
}

/* The head if its record is durable and writeback has not failed. */
static struct eng_pend *
eng_pend_next(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;
	struct eng_pend *e;

	pthread_rwlock_rdlock(&p->list_lock);
	pthread_mutex_lock(&p->lock);
	e = p->head;
	if (p->error || (e && e->total_end > eng_pend_synced(l)))
		e = NULL;
	pthread_mutex_unlock(&p->lock);
	pthread_rwlock_unlock(&p->list_lock);
	return e;
}

int
eng_pend_writeback(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;
	struct eng_pend *e;
	int ret = 0;

	pthread_mutex_lock(&p->wb_lock);
	/* Only wb_lock holders remove entries: the head stays valid. */
	while ((e = eng_pend_next(l))) {
		ret = io_pwrite_full(l->disk_fd, e->data, e->len, (off_t)e->off);
		if (ret) {
			eng_pend_fail(p, ret);
			break;
		}
		eng_pend_pop(l, e);
	}
	pthread_mutex_unlock(&p->wb_lock);
	pthread_mutex_lock(&p->lock);
	ret = p->error;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void
eng_pend_kick(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;

	pthread_mutex_lock(&p->lock);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

/* Copy the part of @e inside [off, off + len) over @buf. */
static void
eng_pend_overlay(const struct eng_pend *e, uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t from = e->off > off ? e->off : off;
	uint64_t to = e->off + e->len < off + len ? e->off + e->len : off + len;

	if (from < to)
		memcpy(buf + (from - off), e->data + (from - e->off), (size_t)(to - from));
}

ssize_t
eng_pend_read(struct eng_logger *l, void *buf, size_t len, uint64_t off)
{
	struct eng_pending *p = &l->pend;
	const struct eng_pend *e;
	ssize_t n;

	pthread_rwlock_rdlock(&p->list_lock);
	n = io_pread_full(l->disk_fd, buf, len, (off_t)off);
	/* Later entries are newer: apply in list (= log) order. */
	for (e = p->head; n == (ssize_t)len && e; e = e->next)
		eng_pend_overlay(e, buf, len, off);
	pthread_rwlock_unlock(&p->list_lock);
	return n;
}

void
eng_pend_position(struct eng_logger *l, uint64_t *nr, uint64_t *pos)
{
	struct eng_pending *p = &l->pend;

	pthread_mutex_lock(&p->lock);
	*nr = p->wb_nr;
	*pos = p->wb_pos;
	pthread_mutex_unlock(&p->lock);
}

void
eng_pend_set_position(struct eng_logger *l, uint64_t nr, uint64_t pos)
{
	struct eng_pending *p = &l->pend;

	pthread_mutex_lock(&p->lock);
	p->wb_nr = nr;
	p->wb_pos = pos;
	pthread_mutex_unlock(&p->lock);
}

uint64_t
eng_pend_queued(struct eng_logger *l)
{
	struct eng_pending *p = &l->pend;
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->queued_bytes;
	pthread_mutex_unlock(&p->lock);
	return n;
}
