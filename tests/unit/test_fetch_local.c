/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetcher's API against a real serving end, without sshd: the local
 * transport runs `clusterd --serve` on the tree ROOTS/alpha over a
 * socketpair, and the fetcher works as node beta on ROOTS/beta.  Checks
 * what the replication driver relies on: the wanted order, follow,
 * fetcher_refetch(), the digest check, compressed pieces and the
 * per-resource setting, errors in the status, and a prompt fetcher_stop().  The cluster: tests/helpers/local_cluster.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/transfer/fetch.h"
#include "tests/helpers/local_cluster.h"
#include "tests/unit/tap.h"

#define RES	"r0"
#define KIB	1024ULL

static struct local_cluster lc;

/* Both nodes know the cluster and each other; alpha holds the logfiles. */
static int
make_trees(void)
{
	const char *uuid = "alpha_1700000000.000000001";
	char dir[512];

	if (local_cluster_set(&lc, "alpha", "uuid", uuid, "ips/ip-alpha", "127.0.0.1") < 0 ||
	    local_cluster_set(&lc, "alpha", "ips/ip-beta", "127.0.0.2", NULL, NULL) < 0 ||
	    local_cluster_set(&lc, "beta", "uuid", uuid, "ips/ip-alpha", "127.0.0.1") < 0 ||
	    local_cluster_set(&lc, "beta", "ips/ip-beta", "127.0.0.2", NULL, NULL) < 0 ||
	    local_cluster_merge(&lc, "alpha", "resource-" RES "/data-beta", "/beta-disk",
				"beta") < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/alpha/resource-%s", lc.roots, RES);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/beta/resource-%s", lc.roots, RES);
	mkdir(dir, 0700);
	return 0;
}

static void
path_of(char *buf, size_t n, const char *host, const char *name)
{
	snprintf(buf, n, "%s/%s/resource-%s/%s", lc.roots, host, RES, name);
}

/* Append @bytes of zeros to alpha's @name: they compress. */
static void
append_zeros(const char *name, uint64_t bytes)
{
	static const uint8_t z[4096];
	char path[1024];
	int fd;

	path_of(path, sizeof(path), "alpha", name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	for (; bytes >= sizeof(z); bytes -= sizeof(z))
		if (write(fd, z, sizeof(z)) != (ssize_t)sizeof(z))
			break;
	close(fd);
}

/* Append @bytes of a pattern seeded by the offset to alpha's @name. */
static void
append(const char *name, uint64_t bytes)
{
	char path[1024];
	uint8_t b[4096];
	int fd;
	off_t off;

	path_of(path, sizeof(path), "alpha", name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	off = lseek(fd, 0, SEEK_END);
	while (bytes) {
		size_t n = bytes < sizeof(b) ? bytes : sizeof(b);

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)((uint64_t)(off + (off_t)i) * 2654435761u >> 13);
		if (write(fd, b, n) != (ssize_t)n)
			break;
		off += (off_t)n;
		bytes -= n;
	}
	close(fd);
}

static int
same_files(const char *name)
{
	char pa[1024], pb[1024];
	static uint8_t a[1 << 20], b[1 << 20];
	FILE *fa, *fb;
	size_t na, nb;

	path_of(pa, sizeof(pa), "alpha", name);
	path_of(pb, sizeof(pb), "beta", name);
	fa = fopen(pa, "r");
	fb = fopen(pb, "r");
	na = fa ? fread(a, 1, sizeof(a), fa) : 0;
	nb = fb ? fread(b, 1, sizeof(b), fb) : 1;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return na == nb && memcmp(a, b, na) == 0;
}

static uint64_t
local_size(const char *name)
{
	char p[1024];
	struct stat st;

	path_of(p, sizeof(p), "beta", name);
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

static void
flip_byte(const char *name, uint64_t at)
{
	char p[1024];
	uint8_t c;
	int fd;

	path_of(p, sizeof(p), "beta", name);
	fd = open(p, O_RDWR);
	if (pread(fd, &c, 1, (off_t)at) == 1) {
		c ^= 0x5a;
		if (pwrite(fd, &c, 1, (off_t)at) != 1)
			tap_diag("cannot damage '%s'", p);
	}
	close(fd);
}

/* Poll the status (every 10 ms, at most @ms) until @name has @len local. */
static int
wait_local(struct fetcher *f, const char *name, uint64_t len, unsigned ms,
	   struct fetch_status *st)
{
	for (unsigned t = 0; t <= ms; t += 10) {
		fetcher_status(f, st);
		if (strcmp(st->name, name) == 0 && st->local_len >= len)
			return 1;
		usleep(10000);
	}
	tap_diag("status: name '%s' local %llu remote %llu peer '%s' error %d why '%s'",
		 st->name, (unsigned long long)st->local_len,
		 (unsigned long long)st->remote_len, st->peer, st->error, st->why);
	return 0;
}

/* Poll the status (every 10 ms, at most @ms) until it says complete. */
static int
wait_complete(struct fetcher *f, unsigned ms, struct fetch_status *st)
{
	for (unsigned t = 0; t <= ms; t += 10) {
		fetcher_status(f, st);
		if (st->complete)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void
test_order_and_refetch(struct fetcher *f)
{
	struct fetch_want w[2] = { { "log-000000001-alpha", 100 * KIB },
				   { "log-000000002-alpha", 50 * KIB } };
	struct fetch_status st;

	append(w[0].name, 60 * KIB);	/* the first one is not complete yet */
	append(w[1].name, 50 * KIB);
	fetcher_want(f, w, 2);
	tap_ok(wait_local(f, w[0].name, 60 * KIB, 5000, &st) && st.remote_len == 60 * KIB &&
	       strcmp(st.peer, "alpha") == 0, "the first entry is fetched as far as it goes");
	usleep(300000);
	fetcher_status(f, &st);
	tap_ok(strcmp(st.name, w[0].name) == 0 && local_size(w[1].name) == UINT64_MAX,
	       "the second entry waits until the first is complete");
	append(w[0].name, 40 * KIB);
	tap_ok(wait_local(f, w[1].name, 50 * KIB, 5000, &st) && same_files(w[0].name) &&
	       same_files(w[1].name) && st.error == 0,
	       "both entries complete, in order, equal");
	tap_ok(wait_complete(f, 2000, &st) && st.bytes_total == 150 * KIB && st.refetches == 0,
	       "status: complete, 150 KiB moved, no refetch");

	/* damage far from the tail: only replay can see it, and asks again */
	flip_byte(w[0].name, 5000);
	fetcher_refetch(f, w[0].name, 4096);
	/* synced (and so counted) a little after the bytes are in the file */
	for (int i = 0; i < 500; i++) {
		fetcher_status(f, &st);
		if (st.refetches == 1 && st.bytes_total == 150 * KIB + 100 * KIB - 4096 &&
		    same_files(w[0].name))
			break;
		usleep(10000);
	}
	tap_ok(same_files(w[0].name) && st.refetches == 1 &&
	       st.bytes_total == 150 * KIB + 100 * KIB - 4096,
	       "fetcher_refetch: bytes from the offset on fetched again (refetches %u, "
	       "bytes %llu)", st.refetches, (unsigned long long)st.bytes_total);

	/* damage in the tail: the digest finds it when the logfile goes on */
	flip_byte(w[1].name, 50 * KIB - 10);
	append(w[1].name, 10 * KIB);
	w[1].final_len = 60 * KIB;
	fetcher_want(f, w, 2);
	tap_ok(wait_local(f, w[1].name, 60 * KIB, 5000, &st) && same_files(w[1].name) &&
	       st.refetches == 2, "a damaged tail is found by the digest and fetched again "
	       "(refetches %u, equal %d)", st.refetches, same_files(w[1].name));
}

static void
test_follow(struct fetcher *f)
{
	struct fetch_want w = { "log-000000003-alpha", FETCH_FOLLOW };
	struct fetch_status st;
	uint64_t t0, ms, max_ms = 0;
	int ok = 1;

	append(w.name, 10 * KIB);
	fetcher_want(f, &w, 1);
	ok = wait_local(f, w.name, 10 * KIB, 5000, &st);
	for (int i = 1; ok && i <= 10; i++) {
		append(w.name, 3 * KIB);
		t0 = gossip_now_ms();
		ok = wait_local(f, w.name, (10 + 3 * (uint64_t)i) * KIB, 1000, &st);
		ms = gossip_now_ms() - t0;
		max_ms = ms > max_ms ? ms : max_ms;
	}
	/* the contract is 0.5 s; 1 s leaves room for a loaded test machine */
	tap_ok(ok && same_files(w.name), "a follow entry keeps up (slowest append: %llu ms, "
	       "durable and reported)", (unsigned long long)max_ms);
	tap_ok(wait_complete(f, 2000, &st) && st.final_len == FETCH_FOLLOW,
	       "a caught-up follow entry is complete");
	/* the origin closes it: the entry becomes final, then the next one */
	append(w.name, 1000);
	w.final_len = 40 * KIB + 1000;
	fetcher_want(f, &w, 1);
	tap_ok(wait_local(f, w.name, 40 * KIB + 1000, 5000, &st) && same_files(w.name),
	       "a follow entry turned final completes");
}

/* Fetch @w, which alpha holds in full; the transfer counters it cost. */
static int
fetch_counted(struct fetcher *f, const struct fetch_want *w, struct piece_stats *z)
{
	struct fetch_status st0, st;
	int ok;

	fetcher_status(f, &st0);
	fetcher_want(f, w, 1);
	ok = wait_local(f, w->name, w->final_len, 5000, &st) && same_files(w->name);
	wait_complete(f, 2000, &st);
	z->bytes_raw = st.z.bytes_raw - st0.z.bytes_raw;
	z->bytes_wire = st.z.bytes_wire - st0.z.bytes_wire;
	z->peer_cpu_ns = st.z.peer_cpu_ns - st0.z.peer_cpu_ns;
	return ok;
}

/* Beta's setting for the resource := @mode, then fetch @bytes of zeros as
 * @name; the transfer counters it cost in *@z. */
static int
fetch_zeros(struct fetcher *f, const char *mode, const char *name, uint64_t bytes,
	    struct piece_stats *z)
{
	struct fetch_want w = { .final_len = bytes };

	snprintf(w.name, sizeof(w.name), "%s", name);
	if (mode)
		local_cluster_set(&lc, "beta", "resource-" RES "/defaults-beta/compress", mode,
				  NULL, NULL);
	append_zeros(name, bytes);
	return fetch_counted(f, &w, z) && z->bytes_raw == bytes;
}

/* Protocol 1.3: zeros travel compressed and arrive byte for byte; a
 * resource set to none on this node asks for raw bytes. */
static void
test_compressed(struct fetcher *f)
{
	struct piece_stats z;
	int ok;

	ok = fetch_zeros(f, NULL, "log-000000005-alpha", 512 * KIB, &z);
	tap_ok(ok && z.bytes_wire < z.bytes_raw / 20 && z.peer_cpu_ns > 0,
	       "zeros travel compressed, arrive the same: %llu bytes for %llu, %llu ns "
	       "compressing at the peer", (unsigned long long)z.bytes_wire,
	       (unsigned long long)z.bytes_raw, (unsigned long long)z.peer_cpu_ns);
	ok = fetch_zeros(f, "none", "log-000000006-alpha", 256 * KIB, &z);
	tap_ok(ok && z.bytes_wire == z.bytes_raw, "compress none for the resource here: the "
	       "same bytes, raw (%llu for %llu)", (unsigned long long)z.bytes_wire,
	       (unsigned long long)z.bytes_raw);
	ok = fetch_zeros(f, "zstd", "log-000000007-alpha", 256 * KIB, &z);
	tap_ok(ok && z.bytes_wire < z.bytes_raw / 20, "set back to zstd: compressed again (%llu "
	       "for %llu)", (unsigned long long)z.bytes_wire, (unsigned long long)z.bytes_raw);
}

static void
test_errors(struct fetcher *f)
{
	struct fetch_want w = { "log-000000009-alpha", 10 };
	struct fetch_status st;
	int seen = 0;

	fetcher_want(f, &w, 1);
	for (int i = 0; i < 300 && !seen; i++) {
		usleep(10000);
		fetcher_status(f, &st);
		seen = st.error != 0 && strstr(st.why, "log-000000009-alpha");
	}
	tap_ok(seen, "a logfile no member has: error in the status ('%s')", st.why);
	w = (struct fetch_want){ "log-000000001-beta", 10 };
	fetcher_want(f, &w, 1);
	tap_ok(wait_complete(f, 2000, &st) && local_size(w.name) == UINT64_MAX,
	       "a logfile whose origin is this node is not fetched");
}

int
main(void)
{
	struct fetcher *f = NULL;
	uint64_t t0;

	if (local_cluster_init(&lc, "test_fetch_local", make_trees) < 0) {
		tap_ok(0, "%s", lc.why);
		return tap_done();
	}
	lc.c.backoff_max_ms = 500;
	tap_ok(fetcher_start(&lc.c, RES, &f) == 0, "fetcher started");
	if (!f)
		return tap_done();
	test_order_and_refetch(f);
	test_follow(f);
	test_compressed(f);
	test_errors(f);
	t0 = gossip_now_ms();
	fetcher_stop(f);
	tap_ok(gossip_now_ms() - t0 < 2000, "fetcher_stop returns promptly (%llu ms)",
	       (unsigned long long)(gossip_now_ms() - t0));
	local_cluster_release(&lc, tap_failed);
	return tap_done();
}
