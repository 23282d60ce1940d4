/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Full sync (docs/sync.md), the parts that need no peer: chunk and batch
 * arithmetic, digests, and the sync frames (round trips and every bound
 * the decoder must refuse), with the compressed ones of protocol 1.3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/transfer/sync.h"
#include "tests/unit/tap.h"

#define KIB	1024ULL
#define MIB	(1024 * KIB)

static void
test_chunks(void)
{
	uint64_t off;
	uint32_t len;

	tap_ok(sync_chunk_at(0, 64 * KIB, MIB, 0, &off, &len) == 0 && off == 0 &&
	       len == 64 * KIB, "chunk 0 of a batch at 0");
	tap_ok(sync_chunk_at(128 * KIB, 64 * KIB, MIB, 3, &off, &len) == 0 &&
	       off == 320 * KIB && len == 64 * KIB, "chunk 3 of a batch at 128 KiB");
	tap_ok(sync_chunk_at(MIB - 64 * KIB, 64 * KIB, MIB - 1000, 0, &off, &len) == 0 &&
	       len == 64 * KIB - 1000, "the last chunk is clipped to the size");
	tap_ok(sync_chunk_at(MIB - 64 * KIB, 64 * KIB, MIB, 1, &off, &len) == -ERANGE,
	       "a chunk at the size is out of range");
	tap_ok(sync_chunk_at(UINT64_MAX - 10, 64 * KIB, UINT64_MAX, 2, &off, &len) == -ERANGE,
	       "an offset that wraps is out of range");
}

static void
test_batches(void)
{
	tap_ok(sync_batch_chunks(0, 100 * MIB, 64 * KIB, 256, 0) == 256,
	       "unlimited: a full batch");
	tap_ok(sync_batch_chunks(100 * MIB - 3 * 64 * KIB - 1, 100 * MIB, 64 * KIB, 256, 0) == 4,
	       "near the end: the chunks left, a partial one included");
	tap_ok(sync_batch_chunks(100 * MIB, 100 * MIB, 64 * KIB, 256, 0) == 0,
	       "at the end: nothing");
	tap_ok(sync_batch_chunks(0, 100 * MIB, 64 * KIB, 256, 4 * MIB) == 16,
	       "4 MiB/s: a quarter second per batch (16 chunks)");
	tap_ok(sync_batch_chunks(0, 100 * MIB, 64 * KIB, 256, 1000) == 1,
	       "a tiny rate: still one chunk");
	tap_ok(sync_round_from(100 * KIB, 64 * KIB, MIB) == 64 * KIB,
	       "from rounds down to a chunk");
	tap_ok(sync_round_from(5 * MIB, 64 * KIB, MIB) == MIB, "from past the size: the size");
	tap_ok(sync_round_from(MIB - 1, 64 * KIB, MIB - 1) == MIB - 64 * KIB,
	       "from at an unaligned size: its chunk's start");
}

static void
test_digests(void)
{
	static uint8_t a[64 * KIB], b[64 * KIB];
	struct sync_digest da, db;

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 2654435761u >> 11);
	sync_digest(a, sizeof(a), 42, &da);
	sync_digest(b, sizeof(b), 42, &db);
	tap_ok(memcmp(da.b, db.b, sizeof(da.b)) == 0, "equal chunks: equal digests");
	b[40000] ^= 1;
	sync_digest(b, sizeof(b), 42, &db);
	tap_ok(memcmp(da.b, db.b, sizeof(da.b)) != 0, "one bit flipped: digests differ");
	sync_digest(a, sizeof(a), 43, &db);
	tap_ok(memcmp(da.b, db.b, sizeof(da.b)) != 0, "another seed: another digest");
	sync_digest(a, 4096, 42, &db);
	tap_ok(memcmp(da.b, db.b, sizeof(da.b)) != 0, "a prefix: another digest");
}

static int
round_trip(const struct gossip_msg *m, struct gossip_msg *out)
{
	static uint8_t frame[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	size_t used = 0;
	int n = gossip_encode(m, frame, sizeof(frame));

	if (n < 0)
		return n;
	return gossip_decode(frame, (size_t)n, &used, out) == 1 && used == (size_t)n ? 0 : -EPROTO;
}

static void
test_frames(void)
{
	static uint8_t sums[GOSSIP_SSUMS_MAX * GOSSIP_SDIGEST_BYTES + 16], piece[GOSSIP_SPIECE_MAX + 1];
	struct gossip_msg m = { .type = GOSSIP_SYNC, .version = 1, .offset = 64 * KIB,
				.size = 32 * MIB, .chunk_bytes = 64 * KIB,
				.sflags = GOSSIP_SYNC_ZLIB, .seed = 0x1122334455667788ULL }, r;

	strcpy(m.res, "r0");
	tap_ok(round_trip(&m, &r) == 0 && r.offset == m.offset && r.size == m.size &&
	       r.chunk_bytes == m.chunk_bytes && r.seed == m.seed && !strcmp(r.res, "r0") &&
	       r.sflags == GOSSIP_SYNC_ZLIB, "SYNC round trip");
	m.sflags = 0x80;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SYNC with an unknown flag is refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SSUMS;
	m.offset = 128 * KIB;
	m.count = 3;
	m.data = sums;
	m.data_len = 3 * GOSSIP_SDIGEST_BYTES;
	sums[17] = 0xab;
	tap_ok(round_trip(&m, &r) == 0 && r.count == 3 && r.data_len == 48 && r.data[17] == 0xab,
	       "SSUMS round trip, digests in place");
	m.data_len = 47;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SSUMS whose digests do not match count: refused");
	m.count = GOSSIP_SSUMS_MAX + 1;
	m.data_len = m.count * GOSSIP_SDIGEST_BYTES;
	tap_ok(round_trip(&m, &r) < 0, "SSUMS over GOSSIP_SSUMS_MAX: refused");
	m.count = 0;
	m.data_len = 0;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SSUMS of no chunk: refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SDATA;
	m.offset = 3 * 64 * KIB;
	m.raw_len = GOSSIP_SPIECE_MAX;
	m.data = piece;
	m.data_len = GOSSIP_SPIECE_MAX;
	tap_ok(round_trip(&m, &r) == 0 && r.raw_len == GOSSIP_SPIECE_MAX &&
	       r.data_len == GOSSIP_SPIECE_MAX, "SDATA raw round trip");
	m.raw_len = m.data_len = GOSSIP_SPIECE_MAX + 1;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SDATA over the piece size: refused");
	m.raw_len = 100;
	m.data_len = 99;
	tap_ok(round_trip(&m, &r) == -EINVAL, "raw SDATA whose length differs: refused");
	m.enc = GOSSIP_SDATA_ZLIB;
	tap_ok(round_trip(&m, &r) == 0 && r.enc == GOSSIP_SDATA_ZLIB && r.data_len == 99,
	       "zlib SDATA may be shorter than raw_len");
	m.enc = 7;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SDATA with an unknown encoding: refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SDONE;
	m.offset = MIB;
	m.count = 256;
	m.equal = 250;
	tap_ok(round_trip(&m, &r) == 0 && r.count == 256 && r.equal == 250, "SDONE round trip");
	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SEND;
	m.code = GOSSIP_SYNC_OK;
	strcpy(m.value, "log-000000003-alpha,4096,0");
	tap_ok(round_trip(&m, &r) == 0 && !strcmp(r.value, m.value), "SEND carries the syncpos");
	tap_ok(!strcmp(gossip_type_str(GOSSIP_SDATA), "SDATA") &&
	       !strcmp(gossip_type_str(GOSSIP_SEND), "SEND") &&
	       !strcmp(gossip_type_str(GOSSIP_ZCOST), "ZCOST") &&
	       !strcmp(gossip_type_str(GOSSIP_FZDATA), "FZDATA") &&
	       !strcmp(gossip_type_str(GOSSIP_FZDATA + 1), "?"), "type names");
}

/* A truncated or trailing-byte frame never decodes. */
static void
test_malformed(void)
{
	uint8_t frame[64];
	struct gossip_msg m = { .type = GOSSIP_SDONE, .offset = 1, .count = 2, .equal = 3 }, r;
	size_t used;
	int n = gossip_encode(&m, frame, sizeof(frame));

	tap_ok(n > 0 && gossip_decode(frame, (size_t)n - 1, &used, &r) == 0,
	       "a partial frame waits for more");
	frame[0]++;	/* claims one more byte than SDONE has */
	frame[n] = 0;
	tap_ok(gossip_decode(frame, (size_t)n + 1, &used, &r) == -EPROTO,
	       "SDONE with a trailing byte is malformed");
	frame[0]--;
	frame[0] -= 2;	/* equal runs past the frame */
	tap_ok(gossip_decode(frame, (size_t)n - 2, &used, &r) == -EPROTO,
	       "SDONE cut short is malformed");
}

/* What a disk path may be (docs/state-tree.md section 8): a regular file
 * or block device itself; a link is not followed, a FIFO does not block. */
static void
test_disk_open(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], img[600], lnk[600], fifo[600];
	int fd;

	snprintf(dir, sizeof(dir), "%s/test-sync-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(lnk, sizeof(lnk), "%s/link", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	fd = open(img, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	tap_ok(symlink(img, lnk) == 0 && mkfifo(fifo, 0600) == 0, "fixtures");
	fd = sync_disk_open(img, O_RDWR);
	tap_ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "a regular file opens, blocking");
	if (fd >= 0)
		close(fd);
	tap_ok(sync_disk_open(lnk, O_RDONLY) == -ELOOP, "a symbolic link to it is refused");
	tap_ok(sync_disk_open(fifo, O_RDONLY) == -EINVAL, "a FIFO is refused without blocking");
	tap_ok(sync_disk_open(dir, O_RDONLY) == -EINVAL, "a directory is refused");
	unlink(lnk);
	tap_ok(symlink("/dev/null", lnk) == 0 && sync_disk_open(lnk, O_RDONLY) == -EINVAL,
	       "a link to a character device is refused");
	unlink(lnk);
	/* LVM and udev name block devices through links: those are fine. */
	if (access("/dev/loop0", R_OK) == 0 && symlink("/dev/loop0", lnk) == 0) {
		fd = sync_disk_open(lnk, O_RDONLY);
		tap_ok(fd >= 0, "a link to a block device opens (/dev/VG/LV, /dev/mapper/NAME)");
		if (fd >= 0)
			close(fd);
	} else {
		tap_diag("no /dev/loop0 here: a link to a block device not tried");
	}
	unlink(img);
	unlink(lnk);
	unlink(fifo);
	rmdir(dir);
}

/* Protocol 1.3: FZDATA, ZCOST, zstd SDATA and the ZSTD flags. */
static void
test_frames_zstd(void)
{
	static uint8_t data[GOSSIP_FRAME_MAX];
	struct gossip_msg m = { .type = GOSSIP_FZDATA, .offset = 1234, .enc = GOSSIP_SDATA_ZSTD,
				.raw_len = GOSSIP_FDATA_MAX, .data = data, .data_len = 100 }, r;

	tap_ok(round_trip(&m, &r) == 0 && r.offset == 1234 && r.enc == GOSSIP_SDATA_ZSTD &&
	       r.raw_len == GOSSIP_FDATA_MAX && r.data_len == 100, "FZDATA round trip");
	m.raw_len = GOSSIP_FDATA_MAX + 1;
	tap_ok(round_trip(&m, &r) == -EINVAL, "FZDATA raw_len over an FDATA's: refused");
	m.raw_len = 0;
	tap_ok(round_trip(&m, &r) == -EINVAL, "FZDATA raw_len 0: refused");
	m.raw_len = 100;
	m.enc = GOSSIP_SDATA_RAW;
	tap_ok(round_trip(&m, &r) == -EINVAL, "FZDATA of encoding raw: refused");
	m.enc = GOSSIP_SDATA_ZLIB;
	tap_ok(round_trip(&m, &r) == -EINVAL, "FZDATA of encoding zlib: refused");
	m.enc = GOSSIP_SDATA_ZSTD;
	m.data_len = GOSSIP_FRAME_MAX - 1 - 8 - 1 - 4 + 1;
	tap_ok(round_trip(&m, &r) < 0, "FZDATA over the frame bound: refused");
	m.data_len = 0;
	tap_ok(round_trip(&m, &r) == -EINVAL, "FZDATA without bytes: refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_ZCOST;
	m.cpu_ns = 0x0102030405060708ULL;
	tap_ok(round_trip(&m, &r) == 0 && r.cpu_ns == m.cpu_ns, "ZCOST round trip");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SDATA;
	m.raw_len = 100;
	m.data = data;
	m.data_len = 10;
	m.enc = GOSSIP_SDATA_ZSTD;
	tap_ok(round_trip(&m, &r) == 0 && r.enc == GOSSIP_SDATA_ZSTD, "SDATA of encoding zstd");
	m.enc = GOSSIP_SDATA_ZSTD + 1;
	tap_ok(round_trip(&m, &r) == -EINVAL, "SDATA of an unknown encoding: refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_SINFO;
	m.sflags = GOSSIP_SYNC_ZSTD | GOSSIP_SYNC_ZLIB;
	tap_ok(round_trip(&m, &r) == 0 && r.sflags == m.sflags, "SINFO flags ZLIB and ZSTD");
	m.sflags = 0x04;
	tap_ok(round_trip(&m, &r) == -EINVAL, "an unknown SINFO flag: refused");

	memset(&m, 0, sizeof(m));
	m.type = GOSSIP_FETCH;
	strcpy(m.res, "r0");
	strcpy(m.name, "log-000000001-alpha");
	m.fflags = GOSSIP_FETCH_FOLLOW | GOSSIP_FETCH_ZSTD;
	tap_ok(round_trip(&m, &r) == 0 && r.fflags == m.fflags, "FETCH flag ZSTD");
}

int
main(void)
{
	test_disk_open();
	test_chunks();
	test_batches();
	test_digests();
	test_frames();
	test_frames_zstd();
	test_malformed();
	return tap_done();
}
