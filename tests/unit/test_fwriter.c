/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetch pipeline's writer thread (clusterd/fwriter.c) with a sync
 * that the test holds closed: a receiver that runs ahead of the disk is
 * stopped at the bounds, only lengths a finished sync covered are ever
 * reported, the file ends up byte for byte as appended, and a failed
 * sync or write reaches the receiver and reports nothing.  Every wait is
 * for a state, bounded; none is a sleep that decides the verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/transfer/fwriter.h"
#include "tests/unit/tap.h"

#define CHUNK		(64U << 10)
#define QUEUE		(512U << 10)
#define BOUND		(1U << 20)
#define TOTAL		(8U * BOUND)
#define WAIT_NS		(5ULL * 1000000000ULL)

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;		/* 0: syncs wait; 1: pass; -1: fail with EIO */
static int syncs_begun;
static struct fwriter *cur;	/* the fwriter under test */

static int receiver_ret = 1;

/* Reported by the fwriter: the last length and the sum of the news. */
static uint64_t rep_len, rep_sum;
static int rep_bad;		/* a report beyond what a sync covered */
static uint64_t begun_at;	/* written when the last sync began */

static int
gated_sync(int fd)
{
	int ret;

	pthread_mutex_lock(&gate_lock);
	syncs_begun++;
	begun_at = cur->written;	/* only this thread changes it while attached */
	pthread_cond_broadcast(&gate_cond);
	while (gate_open == 0)
		pthread_cond_wait(&gate_cond, &gate_lock);
	ret = gate_open < 0 ? -1 : 0;
	pthread_mutex_unlock(&gate_lock);
	if (ret < 0)
		errno = EIO;
	return ret < 0 ? ret : fdatasync(fd);
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

static uint8_t
pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12));
}

/* Appends TOTAL bytes in chunks, as the fetcher's thread does. */
static void *
receiver(void *arg)
{
	static uint8_t buf[CHUNK];
	struct fwriter *fw = arg;
	int ret = 0;

	for (uint64_t off = 0; ret == 0 && off < TOTAL; off += CHUNK) {
		for (uint32_t i = 0; i < CHUNK; i++)
			buf[i] = pattern(off + i);
		ret = fwriter_append(fw, buf, CHUNK);
	}
	pthread_mutex_lock(&gate_lock);
	receiver_ret = ret;
	pthread_mutex_unlock(&gate_lock);
	return NULL;
}

/* Wait, bounded, until the receiver is held at a bound, a sync held open. */
static int
wait_receiver_held(struct fwriter *fw)
{
	uint64_t end = bucket_now_ns() + WAIT_NS;
	int held = 0;

	while (!held && bucket_now_ns() < end) {
		pthread_mutex_lock(&fw->lock);
		/* waiting, and rightly so: with the sync held this state is stable */
		held = fw->receiver_waits && (fw->q_len + CHUNK > QUEUE ||
					      fw->q_len + fw->written - fw->synced + CHUNK > BOUND);
		pthread_mutex_unlock(&fw->lock);
		pthread_mutex_lock(&gate_lock);
		held = held && syncs_begun > 0;
		pthread_mutex_unlock(&gate_lock);
		if (!held)
			usleep(1000);
	}
	return held;
}

static int
file_ok(int fd)
{
	static uint8_t buf[CHUNK];

	for (uint64_t off = 0; off < TOTAL; off += CHUNK) {
		if (pread(fd, buf, CHUNK, (off_t)off) != CHUNK)
			return 0;
		for (uint32_t i = 0; i < CHUNK; i++)
			if (buf[i] != pattern(off + i))
				return 0;
	}
	return 1;
}

static void
test_bounds_and_reports(int fd)
{
	struct fwriter fw;
	uint64_t pending, queued;
	pthread_t r;
	int held;

	tap_ok(fwriter_start(&fw, QUEUE, BOUND, on_synced, NULL) == 0, "fwriter started");
	cur = &fw;
	fw.sync_fn = gated_sync;
	fwriter_attach(&fw, fd, 0);
	pthread_create(&r, NULL, receiver, &fw);
	held = wait_receiver_held(&fw);
	pthread_mutex_lock(&fw.lock);
	queued = fw.q_len;
	pending = fw.q_len + fw.written - fw.synced;
	pthread_mutex_unlock(&fw.lock);
	pthread_mutex_lock(&gate_lock);
	tap_ok(held && queued <= QUEUE && pending <= BOUND && receiver_ret == 1 &&
	       (queued + CHUNK > QUEUE || pending + CHUNK > BOUND),
	       "a receiver ahead of a stalled disk is held at the bounds (%llu bytes queued, "
	       "bound %u; %llu not durable, bound %u)", (unsigned long long)queued, QUEUE,
	       (unsigned long long)pending, BOUND);
	tap_ok(rep_len == 0 && rep_sum == 0,
	       "nothing is reported while the sync has not returned (reported %llu)",
	       (unsigned long long)rep_len);
	pthread_mutex_unlock(&gate_lock);
	gate_set(1);
	pthread_join(r, NULL);
	tap_ok(receiver_ret == 0 && fwriter_drain(&fw) == 0,
	       "the receiver goes on once syncs pass");
	tap_ok(!rep_bad && rep_len == TOTAL && rep_sum == TOTAL,
	       "every reported length was covered by a finished sync; all is reported after "
	       "the drain (%llu of %u)", (unsigned long long)rep_len, TOTAL);
	tap_ok(file_ok(fd), "the file holds the appended bytes in order, across the ring's wrap");
	tap_ok(fwriter_detach(&fw) == 0, "detach after a drain");
	fwriter_stop(&fw);
}

static void
test_failures(int fd, int rdonly_fd)
{
	static const uint8_t piece[CHUNK];
	struct fwriter fw;
	uint64_t before;

	tap_ok(fwriter_start(&fw, QUEUE, BOUND, on_synced, NULL) == 0, "fwriter started again");
	cur = &fw;
	fw.sync_fn = gated_sync;
	gate_set(-1);
	pthread_mutex_lock(&gate_lock);
	before = rep_sum;
	pthread_mutex_unlock(&gate_lock);
	fwriter_attach(&fw, fd, TOTAL);
	fwriter_append(&fw, piece, CHUNK);
	tap_ok(fwriter_drain(&fw) == -EIO && fwriter_append(&fw, piece, CHUNK) == -EIO,
	       "a failed sync reaches the receiver (-EIO) and stays until the next attach");
	pthread_mutex_lock(&gate_lock);
	tap_ok(rep_sum == before, "a failed sync reports nothing");
	pthread_mutex_unlock(&gate_lock);
	gate_set(1);
	fwriter_attach(&fw, rdonly_fd, 0);
	fwriter_append(&fw, piece, CHUNK);
	tap_ok(fwriter_drain(&fw) == -EBADF, "a failed write reaches the receiver too");
	fwriter_attach(&fw, fd, TOTAL);
	tap_ok(fwriter_drain(&fw) == 0, "attach clears the failure");
	tap_ok(fwriter_start(&fw, BOUND, QUEUE, on_synced, NULL) == -EINVAL,
	       "a queue larger than the unsynced bound is refused");
	fwriter_stop(&fw);
}

int
main(void)
{
	char path[] = "/tmp/test_fwriter.XXXXXX";
	int fd = mkstemp(path), rfd;

	if (!tap_ok(fd >= 0, "scratch file"))
		return tap_done();
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	test_bounds_and_reports(fd);
	test_failures(fd, rfd);
	close(rfd);
	close(fd);
	return tap_done();
}
