// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power loss on the userspace engine's primary (issue 14): the page cache
 * of the logfile is lost, the disk keeps what reached it.  The crash is
 * taken while the logger runs, after a checkpoint, as three snapshots in
 * this order:
 *   1. the replay link (what recovery starts from),
 *   2. the disk as written (the worst case: every write reached it),
 *   3. the logfile with every byte after its durable length (synced_total)
 *      zeroed: the preallocated zeros (docs/logfile-format.md 1.1) were
 *      made durable by the log sync after they were written, the records
 *      written into them since the last sync are lost,
 * which is a state a real power cut can produce: each snapshot only sees
 * durable things that were durable at the earlier ones too.  Recovery
 * applies that logfile from the link over the disk copy and must stop
 * exactly at the durable length (the end of the file, or zeros there); the
 * result must be "zeros + the surviving log" (what every secondary gets),
 * and the link must lie inside the surviving log.  Preallocation is on
 * with a small chunk, so that the crashes cut through zeroed tails; that
 * they did is checked too.
 *
 * Each round's last writes come from four threads at once, so that the
 * crash also cuts through batched appends.
 *
 * Uses only eng_logger_{start,write,sync,checkpoint,stop} and the
 * logger's byte counters, so the same test runs against older loggers.
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

#include "common/io.h"
#include "engine/internal.h"
#include "engine_fixture.h"
#include "tap.h"

#define PL_SIZE		(4u << 20)
#define PL_ROUNDS	8
#define PL_PREALLOC	(64u << 10)	/* small: several chunks per round */

static struct mars_engine pl_e;
static char pl_tmp[] = "/tmp/test_engine_powerloss.XXXXXX";

static int
pl_setup(void)
{
	return engine_fixture_setup(&pl_e, pl_tmp, PL_SIZE);
}

/* Bytes of the current logfile known durable. */
static uint64_t
pl_durable(struct eng_logger *l)
{
	uint64_t synced = __atomic_load_n(&l->synced_total, __ATOMIC_ACQUIRE), behind;

	pthread_mutex_lock(&l->wr_lock);
	behind = l->total - l->log_end;
	pthread_mutex_unlock(&l->wr_lock);
	return synced > behind ? synced - behind : 0;
}

/* Copy @from to a new file @to with every byte from @keep on zeroed;
 * the first @keep bytes must exist.  *@size gets the file's size. */
static int
pl_copy(const char *from, const char *to, uint64_t keep, uint64_t *size)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct stat st;
	uint64_t len = in >= 0 && fstat(in, &st) == 0 ? (uint64_t)st.st_size : 0;
	uint8_t *buf = calloc(1, len ? len : 1);
	int ret = -1;

	*size = len;
	if (in >= 0 && out >= 0 && buf && keep <= len &&
	    io_pread_full(in, buf, keep, 0) == (ssize_t)keep &&
	    io_write_full(out, buf, len) == 0)
		ret = 0;
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/* Apply @log from @from to the disk image @fd; 0 if it stops at @end
 * with the end of the file or zeros there (what recovery cuts off). */
static int
pl_apply(int fd, const char *log, uint64_t from, uint64_t end)
{
	struct eng_apply a;
	int res, ok;

	if (eng_apply_open(&a, fd, PL_SIZE, log, from))
		return -1;
	res = eng_apply_run(&a, 0);
	ok = a.stop.offset == end &&
	     (res == MARS_SCAN_END ||
	      (res == MARS_SCAN_TORN && a.stop.rec.reason == MARS_REASON_ZEROED));
	eng_apply_close(&a);
	return ok ? 0 : -1;
}

/* 1 if the image at @path holds exactly @want. */
static int
pl_same(const char *path, const uint8_t *want)
{
	uint8_t *got = malloc(PL_SIZE);
	int fd = open(path, O_RDONLY), same;

	same = fd >= 0 && got && io_pread_full(fd, got, PL_SIZE, 0) == PL_SIZE &&
	       memcmp(got, want, PL_SIZE) == 0;
	if (fd >= 0)
		close(fd);
	free(got);
	return same;
}

#define PL_WRITERS	4
#define PL_WRITER_WRITES 8

struct pl_writer {
	struct eng_logger *l;
	uint64_t base;			/* of the round */
	int id, ret;
	pthread_t t;
};

/* Overlapping unsynced 4 KiB writes from several threads at once, so that
 * the logger appends them in batches (logger.c) of whatever arrived. */
static void *
pl_writer(void *arg)
{
	struct pl_writer *w = arg;
	uint8_t buf[4096];
	int i;

	for (i = 0; i < PL_WRITER_WRITES && !w->ret; i++) {
		memset(buf, w->id << 4 | i, sizeof(buf));
		w->ret = eng_logger_write(w->l, buf, sizeof(buf),
					  w->base + 196608 + (uint64_t)((w->id + i) % 5) * 2048);
	}
	return NULL;
}

static int
pl_write_concurrently(struct eng_logger *l, uint64_t base)
{
	struct pl_writer w[PL_WRITERS];
	int i, ret = 0;

	for (i = 0; i < PL_WRITERS; i++) {
		w[i] = (struct pl_writer){ .l = l, .base = base, .id = i };
		pthread_create(&w[i].t, NULL, pl_writer, &w[i]);
	}
	for (i = 0; i < PL_WRITERS; i++) {
		pthread_join(w[i].t, NULL);
		ret = ret ? ret : w[i].ret;
	}
	return ret;
}

/* Writes of @round: an fsynced one, then unsynced ones over it and
 * elsewhere, the last from several threads at once. */
static int
pl_write_round(struct eng_logger *l, int round)
{
	uint8_t buf[65536];
	uint64_t base = (uint64_t)round * 262144;
	int ret;

	memset(buf, 0x10 + round, sizeof(buf));
	ret = eng_logger_write(l, buf, sizeof(buf), base);
	if (!ret)
		ret = eng_logger_sync(l);
	memset(buf, 0x80 + round, sizeof(buf));
	if (!ret)
		ret = eng_logger_write(l, buf, 4096, base + 8192);
	if (!ret)
		ret = eng_logger_write(l, buf, sizeof(buf), base + 131072);
	if (!ret)
		ret = pl_write_concurrently(l, base);
	return ret;
}

/* Take the three snapshots (see the top) into crash<round>.{img,log}. */
static int
pl_snapshot(struct eng_logger *l, int round, struct eng_pos *p, uint64_t *durable,
	    uint64_t *size)
{
	char path[4400], disk[4400], cut[4400];
	uint64_t ignored;

	snprintf(disk, sizeof(disk), "%s/crash%d.img", pl_tmp, round);
	snprintf(cut, sizeof(cut), "%s/crash%d.log", pl_tmp, round);
	if (eng_pos_read(pl_e.root, "r0", "alpha", p))
		return -1;
	snprintf(path, sizeof(path), "%s/disk.img", pl_tmp);
	if (pl_copy(path, disk, PL_SIZE, &ignored))
		return -1;
	*durable = pl_durable(l);
	snprintf(path, sizeof(path), "%s/%s", pl_e.dir, p->logfile);
	return pl_copy(path, cut, *durable, size);
}

/* What every secondary gets: zeros + every surviving record, into @want. */
static int
pl_expected(int round, uint8_t *want, uint64_t durable)
{
	char img[4400], cut[4400];
	int fd, ret = -1;

	snprintf(img, sizeof(img), "%s/expect%d.img", pl_tmp, round);
	snprintf(cut, sizeof(cut), "%s/crash%d.log", pl_tmp, round);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, PL_SIZE) == 0 && pl_apply(fd, cut, 0, durable) == 0 &&
	    io_pread_full(fd, want, PL_SIZE, 0) == PL_SIZE)
		ret = 0;
	close(fd);
	return ret;
}

/* Recovery: the cut log from the link over the crashed disk. */
static int
pl_recover(int round, uint64_t from, uint64_t durable)
{
	char img[4400], cut[4400];
	int fd, ret;

	snprintf(img, sizeof(img), "%s/crash%d.img", pl_tmp, round);
	snprintf(cut, sizeof(cut), "%s/crash%d.log", pl_tmp, round);
	fd = open(img, O_RDWR);
	if (fd < 0)
		return -1;
	ret = pl_apply(fd, cut, from, durable);
	close(fd);
	return ret;
}

/* Crash after a checkpoint and check the invariants of issue 14; 1 if
 * the crashed logfile was longer than its durable log (zeros after it). */
static int
pl_crash_and_check(struct eng_logger *l, int round)
{
	uint8_t *want = calloc(1, PL_SIZE);
	char img[4400];
	struct eng_pos p = { .pos = 0 };
	uint64_t durable = 0, size = 0;
	int ok = want && pl_snapshot(l, round, &p, &durable, &size) == 0;

	tap_ok(ok, "round %d: crash taken (link %s,%llu; durable log %llu of %llu bytes)",
	       round, p.logfile, (unsigned long long)p.pos, (unsigned long long)durable,
	       (unsigned long long)size);
	tap_ok(p.pos <= durable,
	       "round %d: the published applied position is inside the durable log", round);
	tap_ok(pl_expected(round, want, durable) == 0,
	       "round %d: the surviving log applies cleanly to zeros, up to its durable end",
	       round);
	snprintf(img, sizeof(img), "%s/crash%d.img", pl_tmp, round);
	tap_ok((p.pos > durable || pl_recover(round, p.pos, durable) == 0) && pl_same(img, want),
	       "round %d: recovery gives old disk + surviving log, byte for byte", round);
	free(want);
	return size > durable;
}

static int
pl_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	static struct eng_logger l;
	int i, bad = 0, zeroed = 0;

	pl_e.prealloc_bytes = PL_PREALLOC;
	if (pl_setup() || eng_logger_start(&l, &pl_e, 1) ||
	    eng_pos_write(pl_e.root, "r0", "alpha", l.logname, 0, 0)) {
		tap_ok(0, "setup in %s", pl_tmp);
		return tap_done();
	}
	snprintf(l.ckpt_name, sizeof(l.ckpt_name), "%s", l.logname);
	for (i = 0; i < PL_ROUNDS && !bad; i++) {
		bad = pl_write_round(&l, i);
		tap_ok(!bad, "round %d: writes and the fsync succeed", i);
		/* The housekeeping thread's once-a-second checkpoint. */
		tap_ok(eng_logger_checkpoint(&l) == 0, "round %d: checkpoint", i);
		zeroed += pl_crash_and_check(&l, i);
	}
	tap_ok(zeroed == PL_ROUNDS, "every crash (%d of %d) cut through a logfile longer than "
	       "its durable log: preallocated zeros after it", zeroed, PL_ROUNDS);
	eng_logger_stop(&l);
	close(pl_e.disk_fd);
	if (nftw(pl_tmp, pl_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		tap_diag("cannot remove %s", pl_tmp);
	return tap_done();
}
