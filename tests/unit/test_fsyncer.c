/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetch pipeline's sync thread (clusterd/fsyncer.c), with a sync that
 * the test holds closed: a writer that runs ahead of the disk is stopped
 * at the bound, only lengths a finished sync covered are ever reported,
 * and a failed sync reaches the writer and reports nothing.  Every wait
 * is for a state, bounded; none is a sleep that decides the verdict.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "clusterd/bucket.h"
#include "clusterd/fsyncer.h"
#include "tests/unit/tap.h"

#define CHUNK		(64U << 10)
#define BOUND		(1U << 20)
#define WAIT_NS		(5ULL * 1000000000ULL)

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;		/* 0: syncs wait; 1: pass; -1: fail with EIO */
static int syncs_begun;

/* The "appended" bytes of the writer thread (never written to a disk). */
static uint64_t appended;
static int writer_ret = 1;

/* Reported by the fsyncer: the last length and the sum of the news. */
static uint64_t rep_len, rep_sum;
static int rep_bad;		/* a report beyond what a sync covered */
static uint64_t begun_at;	/* appended when the last sync began */

static int
gated_sync(int fd)
{
	int ret;

	(void)fd;
	pthread_mutex_lock(&gate_lock);
	syncs_begun++;
	begun_at = appended;
	pthread_cond_broadcast(&gate_cond);
	while (gate_open == 0)
		pthread_cond_wait(&gate_cond, &gate_lock);
	ret = gate_open < 0 ? -1 : 0;
	pthread_mutex_unlock(&gate_lock);
	if (ret < 0)
		errno = EIO;
	return ret;
}

static void
on_synced(void *arg, uint64_t len, uint64_t n)
{
	(void)arg;
	pthread_mutex_lock(&gate_lock);
	if (len > begun_at || len != rep_len + n)
		rep_bad = 1;
	rep_len = len;
	rep_sum += n;
	pthread_mutex_unlock(&gate_lock);
}

static void
gate_set(int v)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = v;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Appends 8 bounds' worth in chunks, as the fetcher's thread does. */
static void *
writer(void *arg)
{
	struct fsyncer *fs = arg;
	int ret = 0;

	for (int i = 0; ret == 0 && i < (int)(8 * BOUND / CHUNK); i++) {
		pthread_mutex_lock(&gate_lock);
		appended += CHUNK;
		pthread_mutex_unlock(&gate_lock);
		ret = fsyncer_appended(fs, CHUNK);
	}
	pthread_mutex_lock(&gate_lock);
	writer_ret = ret;
	pthread_mutex_unlock(&gate_lock);
	return NULL;
}

/* Wait, bounded, until the writer is held at the bound, a sync held open. */
static int
wait_writer_held(struct fsyncer *fs)
{
	uint64_t end = bucket_now_ns() + WAIT_NS;
	int held = 0;

	while (!held && bucket_now_ns() < end) {
		pthread_mutex_lock(&fs->lock);
		held = fs->writer_waits;
		pthread_mutex_unlock(&fs->lock);
		pthread_mutex_lock(&gate_lock);
		held = held && syncs_begun > 0;	/* and the sync is under way */
		pthread_mutex_unlock(&gate_lock);
		if (!held)
			usleep(1000);
	}
	return held;
}

static void
test_bound_and_reports(void)
{
	struct fsyncer fs;
	pthread_t w;
	uint64_t unsynced;
	int held;

	tap_ok(fsyncer_start(&fs, BOUND, on_synced, NULL) == 0, "fsyncer started");
	fs.sync_fn = gated_sync;
	fsyncer_attach(&fs, 0, 0);
	pthread_create(&w, NULL, writer, &fs);
	held = wait_writer_held(&fs);
	pthread_mutex_lock(&fs.lock);
	unsynced = fs.appended - fs.synced;
	pthread_mutex_unlock(&fs.lock);
	pthread_mutex_lock(&gate_lock);
	tap_ok(held && unsynced > BOUND && unsynced <= BOUND + CHUNK && writer_ret == 1,
	       "a writer ahead of a stalled disk is held at the bound (%llu bytes unsynced, "
	       "bound %u)", (unsigned long long)unsynced, BOUND);
	tap_ok(rep_len == 0 && rep_sum == 0 && syncs_begun >= 1,
	       "nothing is reported while the sync has not returned (reported %llu)",
	       (unsigned long long)rep_len);
	pthread_mutex_unlock(&gate_lock);
	gate_set(1);
	pthread_join(w, NULL);
	tap_ok(writer_ret == 0 && fsyncer_drain(&fs) == 0, "the writer goes on once syncs pass");
	tap_ok(!rep_bad && rep_len == appended && rep_sum == appended,
	       "every reported length was covered by a finished sync; all is reported after "
	       "the drain (%llu of %llu)", (unsigned long long)rep_len,
	       (unsigned long long)appended);
	tap_ok(fsyncer_detach(&fs) == 0, "detach after a drain");
	fsyncer_stop(&fs);
}

static void
test_failed_sync(void)
{
	struct fsyncer fs;
	uint64_t before;

	tap_ok(fsyncer_start(&fs, BOUND, on_synced, NULL) == 0, "fsyncer started again");
	fs.sync_fn = gated_sync;
	gate_set(-1);
	pthread_mutex_lock(&gate_lock);
	before = rep_sum;
	pthread_mutex_unlock(&gate_lock);
	fsyncer_attach(&fs, 0, 4096);
	pthread_mutex_lock(&gate_lock);
	appended = 4096 + CHUNK;
	pthread_mutex_unlock(&gate_lock);
	fsyncer_appended(&fs, CHUNK);
	tap_ok(fsyncer_drain(&fs) == -EIO && fsyncer_appended(&fs, CHUNK) == -EIO,
	       "a failed sync reaches the writer (-EIO) and stays until the next attach");
	pthread_mutex_lock(&gate_lock);
	tap_ok(rep_sum == before, "a failed sync reports nothing");
	pthread_mutex_unlock(&gate_lock);
	fsyncer_attach(&fs, 0, 0);
	tap_ok(fsyncer_drain(&fs) == 0, "attach clears the failure");
	fsyncer_stop(&fs);
}

int
main(void)
{
	test_bound_and_reports();
	test_failed_sync();
	return tap_done();
}
