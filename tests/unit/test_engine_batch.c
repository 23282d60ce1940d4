// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the engine's batched log appends (engine/logger.c,
 * "Appending, in batches"): writes that arrive while another write is
 * being appended go into the log with one pwritev, in arrival order,
 * split at the batch bound; a pwritev that fails is cut back to the
 * start of its batch and fails every write in it, with nothing queued.
 *
 * Batches are made deterministic by holding wr_lock: the first writer
 * becomes the appender and waits for it, the others join the arrivals,
 * and the test lets go once it has seen all of them arrive.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/logreader.h"
#include "engine/internal.h"
#include "engine_fixture.h"
#include "tap.h"

#define TB_SIZE		(8u << 20)
#define TB_AT		(1u << 20)	/* where every write of a batch starts */
#define TB_WRITERS	3
#define TB_WAIT_MS	10000		/* for the writers to arrive */

static struct mars_engine tb_e;
static char tb_tmp[] = "/tmp/test_engine_batch.XXXXXX";

struct tb_writer {
	struct eng_logger *l;
	size_t len;
	int fill;
	int ret;
	pthread_t t;
};

static void *
tb_write(void *arg)
{
	struct tb_writer *w = arg;
	uint8_t *buf = malloc(w->len);

	if (!buf) {
		w->ret = -ENOMEM;
		return NULL;
	}
	memset(buf, w->fill, w->len);
	w->ret = eng_logger_write(w->l, buf, w->len, TB_AT);
	free(buf);
	return NULL;
}

static unsigned int
tb_arrived(struct eng_logger *l)
{
	struct eng_append *a;
	unsigned int n = 0;

	pthread_mutex_lock(&l->app_lock);
	for (a = l->app_head; a; a = a->next)
		n++;
	pthread_mutex_unlock(&l->app_lock);
	return n;
}

/* Start the writers one at a time, each once the one before arrived, with
 * wr_lock held so that none is appended yet.  Returns 0 or -1 (timeout). */
static int
tb_start(struct eng_logger *l, struct tb_writer *w, unsigned int n)
{
	struct timespec tick = { 0, 1000000L };
	unsigned int i, ms;

	for (i = 0; i < n; i++) {
		w[i].l = l;
		pthread_create(&w[i].t, NULL, tb_write, &w[i]);
		for (ms = 0; tb_arrived(l) < i + 1 && ms < TB_WAIT_MS; ms++)
			nanosleep(&tick, NULL);
		if (tb_arrived(l) < i + 1)
			return -1;
	}
	return 0;
}

static void
tb_join(struct tb_writer *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
}

/* The first byte of each of the last @n records of logfile 1 into @fills,
 * and their sequence numbers into @seqs; returns the records read or -1. */
static long
tb_last_records(unsigned int n, int *fills, uint64_t *seqs)
{
	char name[64], path[4200];
	struct logreader lr;
	struct logreader_rec r;
	long count = 0;

	eng_log_name(name, sizeof(name), 1, "alpha");
	snprintf(path, sizeof(path), "%s/%s", tb_e.dir, name);
	if (logreader_open(&lr, path))
		return -1;
	while (logreader_next(&lr, &r) == 0 && r.result == MARS_SCAN_RECORD) {
		memmove(fills, fills + 1, (n - 1) * sizeof(*fills));
		memmove(seqs, seqs + 1, (n - 1) * sizeof(*seqs));
		fills[n - 1] = r.payload[0];
		seqs[n - 1] = r.rec.hdr.seq;
		count++;
	}
	logreader_close(&lr);
	return r.result == MARS_SCAN_END ? count : -1;
}

static int
tb_reads_as(struct eng_logger *l, uint64_t off, size_t len, int c)
{
	uint8_t back[4096];
	size_t i;

	if (len > sizeof(back) || eng_logger_read(l, back, len, off) != (ssize_t)len)
		return 0;
	for (i = 0; i < len; i++)
		if (back[i] != c)
			return 0;
	return 1;
}

/*
 * 4 KiB, then 1 MiB + 4 KiB (two records), then 4 KiB, all at TB_AT: one
 * batch arrives, and the bound splits it into three pwritevs (the 4 KiB
 * record; the 1 MiB record alone; its 4 KiB tail with the last write).
 */
static void
test_batch_order(struct eng_logger *l)
{
	struct tb_writer w[TB_WRITERS] = {
		{ .len = 4096, .fill = 0xa1 },
		{ .len = MARS_REC_MAX_PAYLOAD + 4096, .fill = 0xb2 },
		{ .len = 4096, .fill = 0xc3 },
	};
	int fills[4] = { 0 }, want[4] = { 0xa1, 0xb2, 0xb2, 0xc3 }, arrived;
	uint64_t seqs[4] = { 0 }, appends, records, seq;
	long scanned;

	pthread_mutex_lock(&l->wr_lock);
	appends = l->appends;
	records = l->records;
	seq = l->next_seq;
	arrived = tb_start(l, w, TB_WRITERS) == 0;
	pthread_mutex_unlock(&l->wr_lock);
	tb_join(w, TB_WRITERS);
	tap_ok(arrived, "three writers arrived while the log was busy");
	tap_ok(!w[0].ret && !w[1].ret && !w[2].ret, "all three writes succeed");
	tap_ok(l->records - records == 4 && l->appends - appends == 3,
	       "4 records in 3 appends (%llu, %llu)", (unsigned long long)(l->records - records),
	       (unsigned long long)(l->appends - appends));
	scanned = tb_last_records(4, fills, seqs);
	tap_ok(scanned > 0 && !memcmp(fills, want, sizeof(want)) &&
	       seqs[0] == seq && seqs[3] == seq + 3,
	       "the log holds them in arrival order (%x %x %x %x, seq %llu..%llu)",
	       fills[0], fills[1], fills[2], fills[3], (unsigned long long)seqs[0],
	       (unsigned long long)seqs[3]);
	tap_ok(tb_reads_as(l, TB_AT, 4096, 0xc3) && tb_reads_as(l, TB_AT + 4096, 4096, 0xb2),
	       "the device reads as the last write over the larger one");
	tap_ok(eng_logger_sync(l) == 0 && eng_logger_drain(l) == 0 && eng_pend_queued(l) == 0 &&
	       tb_reads_as(l, TB_AT, 4096, 0xc3), "and so does the disk after writeback");
}

/* A batch whose pwritev stops short (RLIMIT_FSIZE in the middle of it). */
static void
test_batch_cut_back(struct eng_logger *l)
{
	struct tb_writer w[TB_WRITERS] = {
		{ .len = 4096, .fill = 0x11 },
		{ .len = 4096, .fill = 0x22 },
		{ .len = 4096, .fill = 0x33 },
	};
	struct rlimit old, lim;
	struct stat st;
	uint64_t end, records, total;
	int arrived, fills[1], fails;
	uint64_t seqs[1];

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	pthread_mutex_lock(&l->wr_lock);
	end = l->log_end;
	records = l->records;
	total = l->total;
	/* The first record fits, the second stops half way. */
	lim = (struct rlimit){ end + mars_rec_size(4096) * 3 / 2, old.rlim_max };
	setrlimit(RLIMIT_FSIZE, &lim);
	arrived = tb_start(l, w, TB_WRITERS) == 0;
	pthread_mutex_unlock(&l->wr_lock);
	tb_join(w, TB_WRITERS);
	setrlimit(RLIMIT_FSIZE, &old);
	fails = !!w[0].ret + !!w[1].ret + !!w[2].ret;
	tap_ok(arrived && fails == 3, "a batch cut short fails all its writes (%d, %d %d %d)",
	       fails, w[0].ret, w[1].ret, w[2].ret);
	tap_ok(l->log_end == end && l->total == total && l->records == records && !l->error,
	       "the log end did not move, and the log is not read-only");
	if (fstat(l->log_fd, &st) < 0)
		st.st_size = -1;
	tap_ok((uint64_t)st.st_size == end,
	       "the partial batch was cut back (%lld bytes)", (long long)st.st_size);
	tap_ok(eng_pend_queued(l) == 0 && tb_reads_as(l, TB_AT, 4096, 0xc3),
	       "nothing of it was queued: the device reads as before");
	w[0].fill = 0x44;
	w[0].ret = -1;
	tb_write(&w[0]);
	tap_ok(w[0].ret == 0 && tb_last_records(1, fills, seqs) > 0 && fills[0] == 0x44 &&
	       seqs[0] == l->next_seq - 1, "the next write appends after the cut, in sequence");
}

static int
tb_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	static struct eng_logger l;

	if (engine_fixture_setup(&tb_e, tb_tmp, TB_SIZE) || eng_logger_start(&l, &tb_e, 1)) {
		tap_ok(0, "setup in %s", tb_tmp);
		return tap_done();
	}
	/* Only the tests sync the log: a thread's sync would not change
	 * what is checked, but keeps the figures simple. */
	pthread_mutex_lock(&l.pend.lock);
	l.pend.delay_ms = 3600 * 1000;
	pthread_mutex_unlock(&l.pend.lock);
	test_batch_order(&l);
	test_batch_cut_back(&l);
	eng_logger_stop(&l);
	close(tb_e.disk_fd);
	if (nftw(tb_tmp, tb_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		tap_diag("cannot remove %s", tb_tmp);
	return tap_done();
}
