/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compressed pieces (protocol 1.3, docs/protocol.md section 11): the
 * codec's edge cases a hostile sender could aim at (corrupt, lying about
 * its length, bigger than announced, unknown encodings), what goes raw,
 * and the adaptive level's decisions over made-up times.  The new frames'
 * bounds in the decoder are in test_sync.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/gossip/proto.h"
#include "tests/unit/tap.h"

#define PIECE	32768U

static uint8_t raw[PIECE], out[PIECE], noise[PIECE];

/* Not compressible: a xorshift stream. */
static void
fill_noise(uint8_t *p, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* Compressible: text-like repetition with some variety. */
static void
fill_text(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)("the quick brown fox "[i % 20] + (i / 4096) % 3);
}

static void
test_pack(void)
{
	struct piece_packer p;
	struct piece_unpacker u;
	const uint8_t *back;
	uint32_t n = 0;
	int enc;

	fill_text(raw, sizeof(raw));
	fill_noise(noise, sizeof(noise));
	piece_packer_init(&p, PIECE_AUTO);
	piece_unpacker_init(&u, 0);
	enc = piece_pack(&p, raw, PIECE, out, sizeof(out), &n);
	tap_ok(enc == GOSSIP_SDATA_ZSTD && n > 0 && n < PIECE - PIECE / GOSSIP_PIECE_MARGIN,
	       "a compressible piece goes zstd (%u bytes for %u)", n, PIECE);
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, out, n, PIECE, &back) == 0 &&
	       memcmp(back, raw, PIECE) == 0, "and decodes to the very bytes");
	tap_ok(u.st.bytes_raw == PIECE && u.st.bytes_wire == n,
	       "the receiver counts raw and wire bytes");
	enc = piece_pack(&p, noise, PIECE, out, sizeof(out), &n);
	tap_ok(enc == GOSSIP_SDATA_RAW && n == 0, "an incompressible piece goes raw");
	tap_ok(p.skip == PIECE_SKIP, "and the next %u are not even tried", PIECE_SKIP);
	enc = piece_pack(&p, raw, PIECE, out, sizeof(out), &n);
	tap_ok(enc == GOSSIP_SDATA_RAW && p.skip == PIECE_SKIP - 1,
	       "a compressible piece right after goes raw too");
	tap_ok(p.st.bytes_raw == 3 * PIECE && p.st.bytes_wire > 2 * PIECE &&
	       p.st.cpu_ns > 0, "the sender counts raw, wire and CPU");
	enc = piece_pack(&p, raw, 1, out, sizeof(out), &n);
	tap_ok(enc == GOSSIP_SDATA_RAW, "a 1-byte piece goes raw");
	piece_packer_release(&p);

	piece_packer_init(&p, PIECE_NONE);
	tap_ok(piece_pack(&p, raw, PIECE, out, sizeof(out), &n) == GOSSIP_SDATA_RAW &&
	       p.cctx == NULL, "mode none: raw, no compressor made");
	piece_packer_set_mode(&p, PIECE_ZSTD);
	tap_ok(piece_pack(&p, raw, PIECE, out, sizeof(out), &n) == GOSSIP_SDATA_ZSTD,
	       "switched to zstd between streams: compressed");
	piece_packer_release(&p);
	piece_unpacker_release(&u);
}

/* A zstd frame of @len bytes of @src into @dst, as senders write it
 * (content size and checksum; without: @bare); its size. */
static size_t
zframe_as(void *dst, size_t cap, const void *src, size_t len, int bare)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t n;

	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, !bare);
	n = ZSTD_compress2(c, dst, cap, src, len);
	ZSTD_freeCCtx(c);
	return n;
}

static size_t
zframe(void *dst, size_t cap, const void *src, size_t len)
{
	return zframe_as(dst, cap, src, len, 0);
}

static void
test_unpack_refusals(void)
{
	static uint8_t big[1 << 20], frame[2 * PIECE], two[4 * PIECE];
	struct piece_unpacker u;
	const uint8_t *back;
	size_t n, m;

	fill_text(raw, sizeof(raw));
	piece_unpacker_init(&u, 0);
	n = zframe(frame, sizeof(frame), raw, PIECE);
	tap_ok(!ZSTD_isError(n) && piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n,
						 PIECE, &back) == 0, "a good frame decodes");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, PIECE - 1, &back) ==
	       -EPROTO, "declared length one short: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, PIECE + 1, &back) ==
	       -EPROTO, "declared length one long: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, PIECE_RAW_MAX + 1,
			    &back) == -EPROTO, "declared length over the cap: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, 0, &back) == -EPROTO,
	       "declared length 0: refused");

	frame[n / 2] ^= 0x5a;
	frame[n / 2 + 1] ^= 0xa5;
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, PIECE, &back) == -EPROTO,
	       "corrupt frame: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, "garbage!", 8, 8, &back) == -EPROTO,
	       "not a frame at all: refused");
	n = zframe(frame, sizeof(frame), raw, PIECE);
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n - 1, PIECE, &back) ==
	       -EPROTO, "truncated frame: refused");
	n = zframe_as(frame, sizeof(frame), raw, PIECE, 1);
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)n, PIECE, &back) == -EPROTO,
	       "a frame without checksum: refused");

	/* a zip bomb: 1 MiB of zeros in a few hundred bytes, announced as a piece */
	m = zframe(frame, sizeof(frame), big, sizeof(big));
	tap_ok(!ZSTD_isError(m) && m < 1024 &&
	       piece_unpack(&u, GOSSIP_SDATA_ZSTD, frame, (uint32_t)m, PIECE_RAW_MAX, &back) ==
	       -EPROTO, "a frame of 1 MiB announced as %u bytes: refused (%zu bytes in)",
	       PIECE_RAW_MAX, m);

	/* two frames back to back, and a frame with trailing bytes */
	n = zframe(two, sizeof(two), raw, PIECE / 2);
	m = zframe(two + n, sizeof(two) - n, raw, PIECE / 2);
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, two, (uint32_t)(n + m), PIECE, &back) ==
	       -EPROTO, "two frames in one piece: refused");
	two[n] = 0;
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZSTD, two, (uint32_t)n + 1, PIECE / 2, &back) ==
	       -EPROTO, "trailing bytes after the frame: refused");

	tap_ok(piece_unpack(&u, 3, raw, 10, 10, &back) == -EPROTO, "unknown encoding 3: refused");
	tap_ok(piece_unpack(&u, 255, raw, 10, 10, &back) == -EPROTO,
	       "unknown encoding 255: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_RAW, raw, 10, 11, &back) == -EPROTO,
	       "raw piece of another length: refused");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_RAW, raw, 10, 10, &back) == 0 && back == raw,
	       "raw piece: passed through without a copy");
	piece_unpacker_release(&u);
}

static void
test_zlib(void)
{
	static uint8_t z[2 * PIECE];
	struct piece_unpacker u;
	const uint8_t *back;
	uLongf n = sizeof(z);

	fill_text(raw, sizeof(raw));
	compress2(z, &n, raw, PIECE, 1);
	piece_unpacker_init(&u, 0);
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZLIB, z, (uint32_t)n, PIECE, &back) == -EPROTO,
	       "zlib not negotiated: refused");
	u.zlib = 1;
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZLIB, z, (uint32_t)n, PIECE, &back) == 0 &&
	       memcmp(back, raw, PIECE) == 0, "zlib of a 1.2 peer: decoded");
	tap_ok(piece_unpack(&u, GOSSIP_SDATA_ZLIB, z, (uint32_t)n, PIECE - 1, &back) == -EPROTO,
	       "zlib inflating past its announced length: refused");
	piece_unpacker_release(&u);
}

/* One made-up window: @cpu compressing, @wait on the link, @wall in all. */
static void
window(struct piece_packer *p, uint64_t raw_b, uint64_t wire_b, uint64_t cpu, uint64_t wait,
       uint64_t wall)
{
	p->win_raw = raw_b;
	p->win_wire = wire_b;
	p->win_cpu_ns = cpu;
	p->win_wait_ns = wait;
	piece_packer_decide(p, wall);
}

#define MS	1000000ULL

static void
test_adapt(void)
{
	struct piece_packer p;
	int i;

	piece_packer_init(&p, PIECE_AUTO);
	tap_ok(p.level == PIECE_LEVEL_MIN, "a session starts at level %d", PIECE_LEVEL_MIN);
	/* a slow link: waiting dominates */
	for (i = 0; i < 5; i++)
		window(&p, 1 << 20, 300000, 2 * MS, 80 * MS, 90 * MS);
	tap_ok(p.level == PIECE_LEVEL_MAX, "slow link: up to level %d, never more", p.level);
	/* the link became fast: compressing dominates and saves nothing */
	for (i = 0; i < 40 && p.level; i++)
		window(&p, 1 << 20, 300000, 3 * MS, 0, 4 * MS);
	tap_ok(p.level == 0, "CPU-bound (auto): down to raw");
	window(&p, 1 << 20, 1 << 20, 0, MS / 10, MS);
	tap_ok(p.level == 0, "raw, and the link waits less than compressing cost: stays raw");
	for (i = 0; i < PIECE_PROBE_WINDOWS && p.level == 0; i++)
		window(&p, 1 << 20, 1 << 20, 0, 0, MS);
	tap_ok(p.level == PIECE_LEVEL_MIN && i == PIECE_PROBE_WINDOWS - 1,
	       "raw: level 1 tried again after %d windows", PIECE_PROBE_WINDOWS);
	window(&p, 1 << 20, 300000, 3 * MS, 0, 4 * MS);
	tap_ok(p.level == 0, "the probe was CPU-bound: raw again");
	window(&p, 1 << 20, 1 << 20, 0, 20 * MS, 21 * MS);
	tap_ok(p.level == PIECE_LEVEL_MIN, "a raw window that waited longer than compressing "
	       "cost: compressed again");

	piece_packer_init(&p, PIECE_AUTO);
	window(&p, 1 << 20, 600, MS / 5, MS / 100, MS / 2);
	window(&p, 1 << 20, 600, MS / 5, 0, MS / 2);
	tap_ok(p.level >= PIECE_LEVEL_MIN, "zeros on a fast link: the ratio keeps it on "
	       "(level %d)", p.level);
	piece_packer_init(&p, PIECE_AUTO);
	window(&p, 1 << 20, 300000, MS, 0, 100 * MS);
	tap_ok(p.level == PIECE_LEVEL_MIN, "a mostly idle window: compressing is free, kept");
	piece_packer_init(&p, PIECE_AUTO);
	window(&p, 1 << 20, 600, MS / 5, 0, MS / 4);
	tap_ok(p.level == PIECE_LEVEL_MIN, "compressing at 5 GB/s, the link never waited: kept");

	piece_packer_init(&p, PIECE_AUTO);
	window(&p, 1 << 20, 786432, 1300000, 5 * MS, 6500000);
	tap_ok(p.level == 0, "text at 4:3 where sshd shares the CPU: saving less than twice "
	       "the cost, raw");
	window(&p, 1 << 20, 1 << 20, 0, 6 * MS, 7 * MS);
	tap_ok(p.level == 0, "and a raw window waiting for sshd does not turn it on again");
	piece_packer_init(&p, PIECE_ZSTD);
	for (i = 0; i < 10; i++)
		window(&p, 1 << 20, 300000, 3 * MS, 0, 4 * MS);
	tap_ok(p.level == PIECE_LEVEL_MIN, "mode zstd: CPU-bound, but never raw");
	piece_packer_release(&p);
}

static void
test_modes(void)
{
	tap_ok(gossip_compress_parse("auto") == PIECE_AUTO &&
	       gossip_compress_parse("zstd") == PIECE_ZSTD &&
	       gossip_compress_parse("none") == PIECE_NONE, "modes parse");
	tap_ok(gossip_compress_parse("zlib") == -EINVAL && gossip_compress_parse("") == -EINVAL &&
	       gossip_compress_parse("Auto") == -EINVAL, "anything else is refused");
}

int
main(void)
{
	test_pack();
	test_unpack_refusals();
	test_zlib();
	test_adapt();
	test_modes();
	return tap_done();
}
