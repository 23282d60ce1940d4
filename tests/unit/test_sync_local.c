/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The syncer's API against a real serving end, without sshd: the local
 * transport runs `clusterd --serve` on the tree ROOTS/alpha over a
 * socketpair, and the syncer works as node beta.  Disks are files of
 * 8 MiB + 1000 bytes (an unaligned tail).  Checks what the driver relies
 * on: only differing chunks move, the disks end equal, resume from a
 * position, refusals (too small, not a member, unknown resource, beyond
 * the size) before anything is written, a prompt syncer_stop().  The
 * cluster: tests/helpers/local_cluster.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/transfer/sync.h"
#include "mars/logrec.h"
#include "tests/helpers/local_cluster.h"
#include "tests/unit/tap.h"

#define SYNC_REC_BYTES	(4096 + MARS_REC_OVERHEAD)	/* one record of 4 KiB */

#define KIB		1024ULL
#define DISK_BYTES	(8 * 1024 * KIB + 1000)

static struct local_cluster lc;

static void
disk_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s.img", lc.roots, name);
}

/* A disk of @bytes: a pattern seeded by @seed (0: zeros). */
static void
make_disk(const char *name, uint64_t bytes, unsigned seed)
{
	static uint8_t b[64 * KIB];
	char p[512];
	int fd;

	disk_path(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (uint64_t off = 0; off < bytes; off += sizeof(b)) {
		size_t n = bytes - off < sizeof(b) ? bytes - off : sizeof(b);

		for (size_t i = 0; i < n; i++)
			b[i] = seed ? (uint8_t)((off + i) * (2654435761u + seed) >> 13) : 0;
		if (pwrite(fd, b, n, (off_t)off) != (ssize_t)n)
			break;
	}
	close(fd);
}

static void
poke(const char *name, uint64_t off, uint8_t v)
{
	char p[512];
	int fd;

	disk_path(p, sizeof(p), name);
	fd = open(p, O_WRONLY);
	if (pwrite(fd, &v, 1, (off_t)off) != 1)
		tap_diag("poke failed");
	close(fd);
}

static int
same_disks(const char *a, const char *b)
{
	static uint8_t x[64 * KIB], y[64 * KIB];
	char pa[512], pb[512];
	FILE *fa, *fb;
	size_t na, nb;
	int same = 1;

	disk_path(pa, sizeof(pa), a);
	disk_path(pb, sizeof(pb), b);
	fa = fopen(pa, "r");
	fb = fopen(pb, "r");
	if (!fa || !fb)
		same = 0;
	while (same && (na = fread(x, 1, sizeof(x), fa)) > 0) {
		nb = fread(y, 1, sizeof(y), fb);
		same = na == nb && memcmp(x, y, na) == 0;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* Run one sync of beta's @disk from @peer to its end; the final status. */
static void
run(const char *res, const char *peer, const char *disk, uint64_t size, uint64_t from,
    uint64_t bw, struct sync_status *st)
{
	struct syncer *s = NULL;
	char p[512];
	uint64_t t0 = gossip_now_ms();

	memset(st, 0, sizeof(*st));
	disk_path(p, sizeof(p), disk);
	if (syncer_start(&lc.c, res, peer, p, size, from, &s) < 0) {
		st->error = -1;
		return;
	}
	syncer_set_bwlimit(s, bw);
	while (!syncer_finished(s) && gossip_now_ms() - t0 < 30000)
		usleep(10000);
	syncer_halt(s);
	syncer_status(s, st);
	syncer_stop(s);
	tap_diag("sync of %s from %s: %llu ms%s%s", res, peer,
		 (unsigned long long)(gossip_now_ms() - t0), st->error ? ", " : "", st->why);
}

static void
test_transfers(void)
{
	struct sync_status st;

	make_disk("alpha", DISK_BYTES, 7);
	make_disk("beta", DISK_BYTES, 7);
	run("r0", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.done && st.pos == DISK_BYTES && st.bytes_copied == 0 &&
	       st.bytes_equal == DISK_BYTES, "identical disks: done, nothing copied");
	tap_ok(st.net_bytes < DISK_BYTES / 100, "identical disks: %llu bytes received (< 1%%)",
	       (unsigned long long)st.net_bytes);
	tap_ok(!strcmp(st.syncpos, "log-000000004-alpha,4184,0"),
	       "syncpos: the newest logfile at the end of its records, not its size (%s)",
	       st.syncpos);

	make_disk("beta", DISK_BYTES, 9);
	run("r0", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.done && st.bytes_copied == DISK_BYTES && same_disks("alpha", "beta"),
	       "different disks: all copied, equal after");

	poke("alpha", 100, 1);
	poke("alpha", 3 * 64 * KIB + 5, 1);
	poke("alpha", DISK_BYTES - 1, 1);	/* in the short last chunk */
	run("r0", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.done && st.bytes_copied == 2 * 64 * KIB + 1000 && same_disks("alpha", "beta"),
	       "three scattered changes: three chunks copied (%llu bytes)",
	       (unsigned long long)st.bytes_copied);

	make_disk("alpha", DISK_BYTES, 0);	/* zeros compress */
	run("r0", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.done && same_disks("alpha", "beta") && st.net_bytes < DISK_BYTES / 20,
	       "zeros travel compressed: %llu bytes for %llu", (unsigned long long)st.net_bytes,
	       (unsigned long long)st.bytes_copied);
	tap_ok(st.z.bytes_raw == st.bytes_copied && st.z.bytes_wire < st.z.bytes_raw / 20 &&
	       st.z.peer_cpu_ns > 0, "zstd (protocol 1.3): %llu bytes as written, %llu as carried, "
	       "%llu ns compressing at the peer", (unsigned long long)st.z.bytes_raw,
	       (unsigned long long)st.z.bytes_wire, (unsigned long long)st.z.peer_cpu_ns);

	make_disk("beta", DISK_BYTES, 3);
	run("r0", "alpha", "beta", DISK_BYTES, 4 * 1024 * KIB + 77, 0, &st);
	tap_ok(st.done && st.from == 4 * 1024 * KIB && st.bytes_copied == DISK_BYTES - st.from,
	       "from: rounded to a chunk, only the rest compared");
}

static void
test_refusals(void)
{
	struct sync_status st;
	struct stat sb;
	char p[512];

	make_disk("small", DISK_BYTES - 1, 5);
	run("r0", "alpha", "small", DISK_BYTES, 0, 0, &st);
	disk_path(p, sizeof(p), "small");
	tap_ok(!st.done && st.error == -ENOSPC && stat(p, &sb) == 0 &&
	       (uint64_t)sb.st_size == DISK_BYTES - 1, "a disk too small: refused, untouched");
	run("r1", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.error == -EPERM && strstr(st.why, "not a member"),
	       "a peer without a disk of the resource: refused");
	run("r9", "alpha", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.error == -ENOENT && strstr(st.why, "no such resource"),
	       "an unknown resource: refused");
	make_disk("big", DISK_BYTES + 64 * KIB, 5);
	run("r0", "alpha", "big", DISK_BYTES + 64 * KIB, 0, 0, &st);
	tap_ok(st.error == -ERANGE, "beyond the resource size: refused");
	run("r0", "gamma", "beta", DISK_BYTES, 0, 0, &st);
	tap_ok(st.error == -ENOENT && !st.done, "an unknown host: error, no crash");
	tap_ok(syncer_start(&lc.c, "r0", "beta", "/x", 1, 0, &(struct syncer *){ NULL }) == -EINVAL,
	       "syncing from oneself is refused");
}

static void
test_stop(void)
{
	struct syncer *s = NULL;
	struct sync_status st;
	uint64_t t0;
	char p[512];

	make_disk("beta", DISK_BYTES, 11);
	disk_path(p, sizeof(p), "beta");
	if (!tap_ok(syncer_start(&lc.c, "r0", "alpha", p, DISK_BYTES, 0, &s) == 0,
		    "rate-limited syncer started"))
		return;
	syncer_set_bwlimit(s, 1024 * KIB);
	t0 = gossip_now_ms();
	do {
		usleep(10000);
		syncer_status(s, &st);
	} while (st.pos < 1024 * KIB && gossip_now_ms() - t0 < 10000);
	tap_ok(st.pos >= 1024 * KIB && st.pos < DISK_BYTES && !st.done,
	       "at 1 MiB/s it makes progress and is not done yet (pos %llu)",
	       (unsigned long long)st.pos);
	t0 = gossip_now_ms();
	syncer_halt(s);
	syncer_status(s, &st);
	syncer_stop(s);
	tap_ok(gossip_now_ms() - t0 < 2000, "syncer_stop returns promptly (%llu ms)",
	       (unsigned long long)(gossip_now_ms() - t0));
	tap_ok(!st.error && !st.done && st.pos % (64 * KIB) == 0, "stopped: no error, pos %llu",
	       (unsigned long long)st.pos);
	run("r0", "alpha", "beta", DISK_BYTES, st.pos, 0, &st);
	tap_ok(st.done && same_disks("alpha", "beta") && st.bytes_equal + st.bytes_copied <
	       DISK_BYTES, "resumed from pos: done, equal, less than all compared");
}

static int
make_trees(void)
{
	const char *uuid = "alpha_1700000000.000000001";
	static const uint8_t payload[4096];
	static uint8_t rec[SYNC_REC_BYTES];
	struct mars_rec_hdr hdr = { .seq = 1, .stored_len = sizeof(payload),
				    .data_len = sizeof(payload), .stamp_ns = 1 };
	char v[64], p[512], log[600];
	long len;
	int fd;

	snprintf(v, sizeof(v), "%llu", (unsigned long long)DISK_BYTES);
	disk_path(p, sizeof(p), "alpha");
	if (local_cluster_set(&lc, "alpha", "uuid", uuid, "ips/ip-alpha", "127.0.0.1") < 0 ||
	    local_cluster_set(&lc, "alpha", "resource-r0/size", v,
			      "resource-r0/data-alpha", p) < 0 ||
	    local_cluster_set(&lc, "alpha", "resource-r0/replay-alpha",
			      "log-000000003-alpha,123,0", "resource-r1/size", v) < 0 ||
	    local_cluster_set(&lc, "alpha", "resource-r0/primary", "alpha", NULL, NULL) < 0 ||
	    local_cluster_merge(&lc, "alpha", "resource-r0/data-beta", "/beta-disk", "beta") < 0 ||
	    local_cluster_set(&lc, "beta", "uuid", uuid, "ips/ip-alpha", "127.0.0.1") < 0)
		return -1;
	/* the logfile being written is newer than the replay link says, and
	 * holds one record, then preallocated zeros */
	snprintf(log, sizeof(log), "%s/alpha/resource-r0/log-000000004-alpha", lc.roots);
	fd = open(log, O_WRONLY | O_CREAT, 0600);
	len = mars_rec_encode(rec, sizeof(rec), &hdr, payload, 1);
	if (fd < 0 || len != SYNC_REC_BYTES || write(fd, rec, (size_t)len) != len ||
	    ftruncate(fd, 5000 + (4 << 20)) < 0)
		return -1;
	close(fd);
	return 0;
}

int
main(void)
{
	if (local_cluster_init(&lc, "test_sync_local", make_trees) < 0) {
		tap_ok(0, "%s", lc.why);
		return tap_done();
	}
	test_transfers();
	test_refusals();
	test_stop();
	local_cluster_release(&lc, tap_failed);
	return tap_done();
}
