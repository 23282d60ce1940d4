// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the userspace engine's write path (engine/logger.c,
 * engine/pending.c) without FUSE: records, the size limit, writeback only
 * after the log sync, reads of queued data, backpressure of a tiny queue,
 * group commit under concurrent syncs, rotation, the checkpoint's
 * replay link, and the durable mark across an emergency entry; all with
 * preallocation on (zeros after the log end of the logfile being written,
 * cut off at rotation, emergency entry and stop).  (Power loss:
 * test_engine_powerloss.c.)
 * Runs in a temporary directory; needs no privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logreader.h"
#include "engine/internal.h"
#include "statefs/statefs.h"
#include "engine_fixture.h"
#include "tap.h"

#define TL_SIZE		(8u << 20)
#define TL_THREADS	8
#define TL_ROUNDS	60
#define TL_PREALLOC	(64u << 10)	/* small: the tests cross chunks often */

static struct mars_engine tl_e;
static char tl_tmp[] = "/tmp/test_engine_logger.XXXXXX";

static int
tl_setup(void)
{
	return engine_fixture_setup(&tl_e, tl_tmp, TL_SIZE);
}

/* The path of logfile @nr into @path. */
static void
tl_log_path(uint64_t nr, char *path, size_t size)
{
	char name[64];

	eng_log_name(name, sizeof(name), nr, "alpha");
	snprintf(path, size, "%s/%s", tl_e.dir, name);
}

/* Records in logfile @nr that scan clean, or -1; *@end gets the stop,
 * *@at its offset and *@reason its reason. */
static long
tl_scan(uint64_t nr, enum mars_scan_result *end, uint64_t *at, enum mars_scan_reason *reason)
{
	char path[4200];
	struct logreader lr;
	struct logreader_rec r;
	long n = 0;

	tl_log_path(nr, path, sizeof(path));
	if (logreader_open(&lr, path))
		return -1;
	while (logreader_next(&lr, &r) == 0 && r.result == MARS_SCAN_RECORD)
		n++;
	*end = r.result;
	*at = r.offset;
	*reason = r.rec.reason;
	logreader_close(&lr);
	return n;
}

static long
tl_count_records(uint64_t nr, enum mars_scan_result *end)
{
	enum mars_scan_reason reason;
	uint64_t at;

	return tl_scan(nr, end, &at, &reason);
}

/* The size of logfile @nr, or -1. */
static long long
tl_log_size(uint64_t nr)
{
	char path[4200];
	struct stat st;

	tl_log_path(nr, path, sizeof(path));
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* 1 if the logfile being written is @l's records, then zeros
 * preallocated after its log end (docs/logfile-format.md 1.1). */
static int
tl_zeroed_tail(struct eng_logger *l)
{
	enum mars_scan_result end;
	enum mars_scan_reason reason;
	uint64_t at;

	return tl_scan(l->lognr, &end, &at, &reason) >= 0 && end == MARS_SCAN_TORN &&
	       reason == MARS_REASON_ZEROED && at == l->log_end &&
	       tl_log_size(l->lognr) == (long long)l->zeroed_end &&
	       l->zeroed_end >= l->log_end + TL_PREALLOC / 2;
}

/* 1 if logfile @nr is finished: it ends at its last record. */
static int
tl_finished(uint64_t nr)
{
	enum mars_scan_result end;
	enum mars_scan_reason reason;
	uint64_t at;

	return tl_scan(nr, &end, &at, &reason) > 0 && end == MARS_SCAN_END &&
	       tl_log_size(nr) == (long long)at;
}

/* Set the queue's knobs (pending.c) under its lock. */
static void
tl_pend_config(struct eng_logger *l, unsigned int delay_ms, uint64_t limit_bytes)
{
	pthread_mutex_lock(&l->pend.lock);
	l->pend.delay_ms = delay_ms;
	l->pend.limit_bytes = limit_bytes;
	pthread_mutex_unlock(&l->pend.lock);
}

/* 1 if @len bytes at @off of the disk are all @c. */
static int
tl_disk_is(uint64_t off, size_t len, int c)
{
	uint8_t *back = malloc(len);
	size_t i;
	int same = back && pread(tl_e.disk_fd, back, len, (off_t)off) == (ssize_t)len;

	for (i = 0; same && i < len; i++)
		same = back[i] == c;
	free(back);
	return same;
}

static void
test_write_and_split(struct eng_logger *l)
{
	size_t big = MARS_REC_MAX_PAYLOAD + 4096;
	uint8_t *buf = malloc(big), *back = malloc(big);
	enum mars_scan_result end;

	/* No log sync by the thread during this test: only fsync syncs. */
	tl_pend_config(l, 3600 * 1000, ENG_PEND_DEFAULT_BYTES);
	memset(buf, 0xa5, big);
	tap_ok(eng_logger_write(l, buf, 4096, 0) == 0, "a 4 KiB write succeeds");
	tap_ok(eng_logger_write(l, buf, big, 65536) == 0, "a write over 1 MiB succeeds");
	tap_ok(l->records == 3 && l->next_seq == 4, "it became two records (3 in all)");
	tap_ok(tl_disk_is(65536, big, 0), "the disk does not have it before the log sync");
	tap_ok(eng_pend_queued(l) == 4096 + big, "it is queued (%llu bytes)",
	       (unsigned long long)eng_pend_queued(l));
	memset(back, 0, big);
	tap_ok(eng_logger_read(l, back, big, 65536) == (ssize_t)big &&
	       memcmp(back, buf, big) == 0, "reads return the queued data");
	memset(buf, 0x3c, 512);
	tap_ok(eng_logger_write(l, buf, 512, 65536 + 1000) == 0 &&
	       eng_logger_read(l, back, 4096, 65536) == 4096 &&
	       back[999] == 0xa5 && back[1000] == 0x3c && back[1511] == 0x3c &&
	       back[1512] == 0xa5, "an overlapping queued write reads newest-first");
	tap_ok(eng_logger_sync(l) == 0 && eng_logger_drain(l) == 0 && eng_pend_queued(l) == 0,
	       "after the log sync writeback empties the queue");
	tap_ok(tl_disk_is(65536, 1000, 0xa5) && tl_disk_is(65536 + 1000, 512, 0x3c) &&
	       tl_disk_is(65536 + 1512, big - 1512, 0xa5), "the disk holds the data, in log order");
	memset(buf, 0xa5, big);
	tap_ok(tl_count_records(1, &end) == 4 && tl_zeroed_tail(l),
	       "the logfile scans as 4 clean records, then zeros up to its size %lld "
	       "(preallocated, log end %llu)", tl_log_size(1), (unsigned long long)l->log_end);
	tap_ok(eng_logger_write(l, buf, 8192, TL_SIZE - 4096) == -ENOSPC,
	       "a write past the end is refused");
	tap_ok(l->records == 4, "and logs nothing");
	free(buf);
	free(back);
}

static void *
tl_writer(void *arg)
{
	struct eng_logger *l = arg;
	uint8_t buf[4096];
	int i;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < TL_ROUNDS; i++) {
		if (eng_logger_write(l, buf, sizeof(buf), (uint64_t)i * 4096) ||
		    eng_logger_sync(l))
			return (void *)1;
	}
	return NULL;
}

static void
test_group_commit(struct eng_logger *l)
{
	pthread_t t[TL_THREADS];
	void *bad = NULL, *r;
	uint64_t req0 = l->sync_requests, syncs0 = l->log_syncs, req, syncs;
	int i;

	for (i = 0; i < TL_THREADS; i++)
		pthread_create(&t[i], NULL, tl_writer, l);
	for (i = 0; i < TL_THREADS; i++) {
		pthread_join(t[i], &r);
		bad = bad ? bad : r;
	}
	req = l->sync_requests - req0;
	syncs = l->log_syncs - syncs0;
	tap_ok(!bad, "%d threads wrote and synced without error", TL_THREADS);
	tap_ok(req == TL_THREADS * TL_ROUNDS, "every sync was counted (%llu)",
	       (unsigned long long)req);
	tap_diag("%llu sync requests cost %llu fdatasyncs", (unsigned long long)req,
		 (unsigned long long)syncs);
	tap_ok(syncs > 0 && syncs < req, "concurrent syncs share fdatasyncs");
	tap_ok(l->synced_total == l->total, "everything written is durable");
}

#define TL_BP_THREADS	4
#define TL_BP_WRITES	200
#define TL_BP_LIMIT	8192

struct tl_bp {
	struct eng_logger *l;
	int id;
	uint64_t max_bytes;		/* the most the queue held after a write */
};

/* Writer @id's @i-th write, into slot i % 16 of its area. */
static int
tl_bp_pattern(int id, int i)
{
	return id << 6 | (i & 63);
}

/* Each writer owns a 64 KiB area and rewrites its 16 slots in turn. */
static void *
tl_bp_writer(void *arg)
{
	struct tl_bp *w = arg;
	uint64_t off = (4u << 20) + (uint64_t)w->id * 65536;
	uint8_t buf[4096];
	int i;

	for (i = 0; i < TL_BP_WRITES; i++) {
		memset(buf, tl_bp_pattern(w->id, i), sizeof(buf));
		if (eng_logger_write(w->l, buf, sizeof(buf), off + (uint64_t)(i % 16) * 4096))
			return (void *)1;
		pthread_mutex_lock(&w->l->pend.lock);
		if (w->l->pend.bytes > w->max_bytes)
			w->max_bytes = w->l->pend.bytes;
		pthread_mutex_unlock(&w->l->pend.lock);
	}
	return NULL;
}

static void
test_backpressure(struct eng_logger *l)
{
	pthread_t t[TL_BP_THREADS];
	struct tl_bp w[TL_BP_THREADS];
	uint64_t max = 0;
	void *r, *bad = NULL;
	int i, ok = 1;

	/* Two 4 KiB writes fill the queue; the thread syncs as soon as a
	 * writer waits, and at least every 5 ms. */
	tl_pend_config(l, 5, TL_BP_LIMIT);
	for (i = 0; i < TL_BP_THREADS; i++) {
		w[i] = (struct tl_bp){ .l = l, .id = i };
		pthread_create(&t[i], NULL, tl_bp_writer, &w[i]);
	}
	for (i = 0; i < TL_BP_THREADS; i++) {
		pthread_join(t[i], &r);
		bad = bad ? bad : r;
		max = w[i].max_bytes > max ? w[i].max_bytes : max;
	}
	tap_ok(!bad, "%d writers x %d writes through an %d-byte queue all succeed",
	       TL_BP_THREADS, TL_BP_WRITES, TL_BP_LIMIT);
	tap_ok(max <= TL_BP_LIMIT, "the queue never held more than its limit (%llu)",
	       (unsigned long long)max);
	tap_ok(eng_logger_drain(l) == 0 && eng_pend_queued(l) == 0, "and drains");
	for (i = 0; i < TL_BP_THREADS * 16; i++)
		ok &= tl_disk_is((4u << 20) + (uint64_t)i * 4096, 4096,
				 tl_bp_pattern(i / 16, i % 16 + (TL_BP_WRITES - 1 - i % 16) / 16 * 16));
	tap_ok(ok, "the disk holds every writer's last patterns");
	tl_pend_config(l, 3600 * 1000, ENG_PEND_DEFAULT_BYTES);
}

static void
test_rotate(struct eng_logger *l)
{
	enum mars_scan_result end;
	uint8_t buf[512] = { 1 };
	long before = tl_count_records(1, &end);

	tap_ok(eng_logger_rotate(l) == 0 && l->lognr == 2 && l->log_end == 0,
	       "rotation continues in logfile 2");
	tap_ok(tl_log_size(2) == 0, "which is empty: no zeros before the first record");
	tap_ok(eng_logger_rotate(l) == 0 && l->lognr == 2,
	       "rotating an empty logfile is a no-op");
	tap_ok(l->synced_total == l->total, "the old logfile was synced");
	tap_ok(eng_logger_write(l, buf, sizeof(buf), 0) == 0 && l->next_seq == 2,
	       "the new logfile starts at sequence 1");
	tap_ok(tl_count_records(1, &end) == before && end == MARS_SCAN_END,
	       "the old logfile is unchanged");
	tap_ok(tl_finished(1), "the old logfile ends at its last record (zeros cut off)");
	tap_ok(tl_count_records(2, &end) == 1 && tl_zeroed_tail(l),
	       "the new one has the write, and zeros after it");
}

static void
test_checkpoint(struct eng_logger *l)
{
	struct eng_pos p;
	char want[64];

	tap_ok(eng_logger_checkpoint(l) == 0 && eng_pos_read(tl_e.root, "r0", "alpha", &p) == 0 &&
	       p.nr == 1, "checkpoint succeeds, behind the unsynced write in logfile 2");
	tap_ok(eng_logger_drain(l) == 0 && eng_logger_checkpoint(l) == 0,
	       "after a drain, checkpoint succeeds");
	tap_ok(eng_pos_read(tl_e.root, "r0", "alpha", &p) == 0 && p.nr == 2 &&
	       p.pos == l->log_end && strcmp(p.origin, "alpha") == 0,
	       "the replay link names logfile 2 at its end");
	snprintf(want, sizeof(want), "log-000000002-alpha");
	tap_ok(strcmp(p.logfile, want) == 0, "and its name");
}

/* Emergency mode skips to a new logfile: the serving end must then send
 * the old one to its end, unsynced tail included (the entry flushed it),
 * and the engine must not hold it open while it waits for space. */
static void
test_emergency_mark(struct eng_logger *l)
{
	uint8_t buf[4096] = { 7 };
	char name[64], path[4200];
	struct stat st;
	uint64_t end = 0;
	struct statefs *sf = NULL;
	int ret;

	eng_log_name(name, sizeof(name), l->lognr, "alpha");
	snprintf(path, sizeof(path), "%s/%s", tl_e.dir, name);
	tap_ok(eng_logger_write(l, buf, sizeof(buf), 0) == 0 && eng_logger_sync(l) == 0 &&
	       eng_logger_write(l, buf, sizeof(buf), 4096) == 0,
	       "a synced write and one not yet synced");
	pthread_mutex_lock(&l->wr_lock);
	l->emergency_free = UINT64_MAX / 4;	/* no file system has that much free */
	l->space_checked = 0;
	pthread_mutex_unlock(&l->wr_lock);
	tap_ok(eng_logger_write(l, buf, sizeof(buf), 8192) == 0 && l->emergency,
	       "a write with too little space enters emergency mode");
	ret = statefs_open(&sf, tl_e.root, "alpha", STATEFS_OPEN_ANY);
	if (ret == 0)
		ret = mars_engine_durable_end(sf, "r0", name, &end);
	statefs_close(&sf);
	if (stat(path, &st) < 0)
		st.st_size = -1;
	tap_ok(st.st_size > 8192 && (ret == 0 || (ret == 1 && end == (uint64_t)st.st_size)),
	       "the old logfile is durable to its end (%d, %llu of %lld bytes)", ret,
	       (unsigned long long)end, (long long)st.st_size);
	tap_ok(eng_logger_emergency_check(l) == 0 && l->emergency && l->retired_fd < 0,
	       "still short of space, the old logfile is closed (deleted, it frees its space)");
	tap_ok(tl_finished(l->lognr - 10), "the old logfile ends at its last record");
}

/* The zeros stay ahead of the log end as it grows, a chunk at a time. */
static void
test_prealloc_ahead(struct eng_logger *l)
{
	uint8_t buf[24 << 10];
	int i, ok = 1;

	memset(buf, 0x5a, sizeof(buf));
	/* 12 writes of 24 KiB cross several 64 KiB chunks */
	for (i = 0; i < 12 && ok; i++)
		ok = eng_logger_write(l, buf, sizeof(buf), (uint64_t)i * sizeof(buf)) == 0 &&
		     eng_logger_sync(l) == 0 && tl_zeroed_tail(l);
	tap_ok(ok, "after each of 12 synced 24 KiB writes the zeros reach at least half "
	       "a chunk past the log end (write %d: log end %llu, file %lld)", i,
	       (unsigned long long)l->log_end, tl_log_size(l->lognr));
}

/* A clean stop finishes the logfile being written. */
static void
test_stop_cuts(struct eng_logger *l)
{
	uint64_t nr = l->lognr, end = l->log_end;

	eng_logger_stop(l);
	tap_ok(tl_finished(nr) && tl_log_size(nr) == (long long)end,
	       "after a clean stop logfile %llu ends at its log end %llu (file %lld)",
	       (unsigned long long)nr, (unsigned long long)end, tl_log_size(nr));
}

static int
tl_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	static struct eng_logger l;

	tl_e.prealloc_bytes = TL_PREALLOC;
	if (tl_setup() || eng_logger_start(&l, &tl_e, 1)) {
		tap_ok(0, "setup in %s", tl_tmp);
		return tap_done();
	}
	tap_ok(eng_logger_start(&(struct eng_logger){ 0 }, &tl_e, 1) == -EEXIST,
	       "an existing logfile is never reopened");
	tap_ok(tl_log_size(1) == 0, "a new logfile is empty");
	test_write_and_split(&l);
	test_prealloc_ahead(&l);
	test_backpressure(&l);
	test_group_commit(&l);
	test_rotate(&l);
	test_checkpoint(&l);
	test_emergency_mark(&l);
	eng_logger_stop(&l);
	/* Logging again after the emergency, then a clean stop. */
	if (eng_logger_start(&l, &tl_e, 20) == 0) {
		uint8_t buf[4096] = { 9 };

		tap_ok(eng_logger_write(&l, buf, sizeof(buf), 0) == 0 && eng_logger_sync(&l) == 0 &&
		       tl_zeroed_tail(&l), "a new logger preallocates after its first record");
		test_stop_cuts(&l);
	} else {
		tap_ok(0, "a new logger starts in logfile 20");
	}
	close(tl_e.disk_fd);
	if (nftw(tl_tmp, tl_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		tap_diag("cannot remove %s", tl_tmp);
	return tap_done();
}
