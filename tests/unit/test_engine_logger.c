// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the userspace engine's write path (engine/logger.c)
 * without FUSE: records and writeback, the size limit, group commit
 * under concurrent syncs, rotation, and the checkpoint's replay link.
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
#include "tap.h"

#define TL_SIZE		(8u << 20)
#define TL_THREADS	8
#define TL_ROUNDS	60

static struct mars_engine tl_e;
static char tl_tmp[] = "/tmp/test_engine_logger.XXXXXX";

static int
tl_setup(void)
{
	char path[4200];

	if (!mkdtemp(tl_tmp))
		return -1;
	snprintf(tl_e.root, sizeof(tl_e.root), "%s", tl_tmp);
	snprintf(tl_e.dir, sizeof(tl_e.dir), "%s/resource-r0", tl_tmp);
	snprintf(tl_e.resource, sizeof(tl_e.resource), "r0");
	snprintf(tl_e.host, sizeof(tl_e.host), "alpha");
	snprintf(path, sizeof(path), "%s/disk.img", tl_tmp);
	tl_e.disk_fd = open(path, O_RDWR | O_CREAT, 0600);
	tl_e.size_bytes = TL_SIZE;
	if (tl_e.disk_fd < 0 || ftruncate(tl_e.disk_fd, TL_SIZE) < 0)
		return -1;
	return eng_mkdir(tl_e.dir);
}

/* Records in logfile @nr that scan clean, or -1; *@end gets the stop. */
static long
tl_count_records(uint64_t nr, enum mars_scan_result *end)
{
	char name[64], path[4200];
	struct logreader lr;
	struct logreader_rec r;
	long n = 0;

	eng_log_name(name, sizeof(name), nr, "alpha");
	snprintf(path, sizeof(path), "%s/%s", tl_e.dir, name);
	if (logreader_open(&lr, path))
		return -1;
	while (logreader_next(&lr, &r) == 0 && r.result == MARS_SCAN_RECORD)
		n++;
	*end = r.result;
	logreader_close(&lr);
	return n;
}

static void
test_write_and_split(struct eng_logger *l)
{
	size_t big = MARS_REC_MAX_PAYLOAD + 4096;
	uint8_t *buf = malloc(big), *back = malloc(big);
	enum mars_scan_result end;

	memset(buf, 0xa5, big);
	tap_ok(eng_logger_write(l, buf, 4096, 0) == 0, "a 4 KiB write succeeds");
	tap_ok(eng_logger_write(l, buf, big, 65536) == 0, "a write over 1 MiB succeeds");
	tap_ok(l->records == 3 && l->next_seq == 4, "it became two records (3 in all)");
	tap_ok(pread(tl_e.disk_fd, back, big, 65536) == (ssize_t)big &&
	       memcmp(back, buf, big) == 0, "the disk holds the data at once");
	tap_ok(tl_count_records(1, &end) == 3 && end == MARS_SCAN_END,
	       "the logfile scans as 3 clean records");
	tap_ok(eng_logger_write(l, buf, 8192, TL_SIZE - 4096) == -ENOSPC,
	       "a write past the end is refused");
	tap_ok(l->records == 3, "and logs nothing");
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

static void
test_rotate(struct eng_logger *l)
{
	enum mars_scan_result end;
	uint8_t buf[512] = { 1 };
	long before = tl_count_records(1, &end);

	tap_ok(eng_logger_rotate(l) == 0 && l->lognr == 2 && l->log_end == 0,
	       "rotation continues in logfile 2");
	tap_ok(eng_logger_rotate(l) == 0 && l->lognr == 2,
	       "rotating an empty logfile is a no-op");
	tap_ok(l->synced_total == l->total, "the old logfile was synced");
	tap_ok(eng_logger_write(l, buf, sizeof(buf), 0) == 0 && l->next_seq == 2,
	       "the new logfile starts at sequence 1");
	tap_ok(tl_count_records(1, &end) == before && end == MARS_SCAN_END,
	       "the old logfile is unchanged");
	tap_ok(tl_count_records(2, &end) == 1, "the new one has the write");
}

static void
test_checkpoint(struct eng_logger *l)
{
	struct eng_pos p;
	char want[64];

	tap_ok(eng_logger_checkpoint(l) == 0, "checkpoint succeeds");
	tap_ok(eng_pos_read(tl_e.root, "r0", "alpha", &p) == 0 && p.nr == 2 &&
	       p.pos == l->log_end && strcmp(p.origin, "alpha") == 0,
	       "the replay link names logfile 2 at its end");
	snprintf(want, sizeof(want), "log-000000002-alpha");
	tap_ok(strcmp(p.logfile, want) == 0, "and its name");
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

	if (tl_setup() || eng_logger_start(&l, &tl_e, 1)) {
		tap_ok(0, "setup in %s", tl_tmp);
		return tap_done();
	}
	tap_ok(eng_logger_start(&(struct eng_logger){ 0 }, &tl_e, 1) == -EEXIST,
	       "an existing logfile is never reopened");
	test_write_and_split(&l);
	test_group_commit(&l);
	test_rotate(&l);
	test_checkpoint(&l);
	eng_logger_stop(&l);
	close(tl_e.disk_fd);
	if (nftw(tl_tmp, tl_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		tap_diag("cannot remove %s", tl_tmp);
	return tap_done();
}
