/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compressed pieces (protocol 1.3): zstd for what we send, zstd and, for
 * one version, the zlib of 1.2 full sync for what we receive.
 *
 * A piece is one zstd frame with its content size and checksum: the
 * receiver refuses any other, so a damaged or lying piece never reaches
 * a logfile or a disk.
 *
 * Why per piece and not a stream: a piece decodes on its own into a
 * buffer of the size its frame announces, so a hostile peer can make us
 * neither keep state across frames nor allocate by its word.  The price,
 * a dictionary restarted every 32..64 KiB, is small at the low levels
 * used here.
 *
 * The adaptive level, one decision per window of PIECE_WINDOW_BYTES raw
 * bytes (piece_packer_decide()), weighs the CPU the sender spent
 * compressing (cpu) against the link time that saved (saved): the time
 * its writes waited for the link (wait) times raw/wire - 1, that is what
 * the same window raw would have waited more.  The longest such estimate
 * of recent windows counts, fading by 1/8 per window, so that one window
 * in which the link happened not to wait does not flip it.  busy is the
 * window's wall time without the wait: reading, digesting, compressing
 * and idle (a followed logfile that grows slowly makes compression free,
 * as it should).
 *   - cpu above half of saved, above a quarter of busy, and compressing
 *     slower than PIECE_FAST_BPS (faster, it outruns the SSH channel's own
 *     encryption): the CPU is the bottleneck; one level down, and below
 *     level 1 (auto) raw;
 *   - cpu under a quarter of saved: the link is; one level up, at most
 *     PIECE_LEVEL_MAX;
 *   - raw (auto): level 1 again after a window whose wait, at the ratio of
 *     the window that turned compression off, would have saved more than
 *     twice what that window spent compressing, or after
 *     PIECE_PROBE_WINDOWS windows.
 * The factor 2 is the margin by which compressing must pay: on a host
 * whose sshd shares the CPU with us, CPU spent compressing also slows the
 * link.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>
#include <zstd.h>

#include "clusterd/transfer/piece.h"

#define PIECE_WINDOW_LOG_MAX	17	/* a belt: one-pass decoding into the piece needs no window */

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t
piece_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t
piece_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void
piece_stats_add(struct piece_stats *a, const struct piece_stats *b)
{
	a->bytes_raw += b->bytes_raw;
	a->bytes_wire += b->bytes_wire;
	a->cpu_ns += b->cpu_ns;
	a->peer_cpu_ns += b->peer_cpu_ns;
}

/* ---- sending ------------------------------------------------------------- */

void
piece_packer_init(struct piece_packer *p, int mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->level = mode == PIECE_NONE ? 0 : PIECE_LEVEL_MIN;
}

void
piece_packer_set_mode(struct piece_packer *p, int mode)
{
	if (mode == p->mode)
		return;
	p->mode = mode;
	p->level = mode == PIECE_NONE ? 0 : PIECE_LEVEL_MIN;
	p->skip = p->probe = 0;
}

void
piece_packer_release(struct piece_packer *p)
{
	ZSTD_freeCCtx(p->cctx);
	p->cctx = NULL;
}

/* The CPU is the bottleneck: one level down; below the first, raw (auto). */
static void
piece_packer_down(struct piece_packer *p)
{
	if (p->level > PIECE_LEVEL_MIN) {
		p->level--;
	} else if (p->mode == PIECE_AUTO) {
		p->level = 0;
		p->probe = PIECE_PROBE_WINDOWS;
		p->probe_cpu_ns = p->win_cpu_ns;
		p->probe_saved_pm = p->win_raw > p->win_wire ?
				    (p->win_raw - p->win_wire) * 1024 / p->win_raw : 0;
	}
}

void
piece_packer_decide(struct piece_packer *p, uint64_t wall_ns)
{
	uint64_t cpu = p->win_cpu_ns, wait = p->win_wait_ns, saved = 0;
	uint64_t busy = wall_ns > wait ? wall_ns - wait : 0;

	if (p->level == 0) {
		/* raw: what compressing would have saved, at the ratio last seen */
		saved = wait * p->probe_saved_pm / 1024;
		if (p->probe)
			p->probe--;
		if (p->probe == 0 || saved > 2 * p->probe_cpu_ns)
			p->level = PIECE_LEVEL_MIN;
	} else {
		/* the link's time the compression saved: the wait, times raw/wire - 1 */
		if (p->win_wire)
			saved = wait * (p->win_raw - p->win_wire) / p->win_wire;
		if (saved > p->saved_ns)
			p->saved_ns = saved;
		saved = p->saved_ns;
		if (cpu * 2 > saved && cpu * 4 > busy &&
		    p->win_raw * 1000000000ULL / cpu < PIECE_FAST_BPS)
			piece_packer_down(p);
		else if (cpu * 4 < saved && p->level < PIECE_LEVEL_MAX)
			p->level++;
	}
	p->saved_ns -= p->saved_ns / 8;
	p->win_raw = p->win_wire = p->win_cpu_ns = p->win_wait_ns = 0;
}

/* Compress one piece if it shrinks by the margin: its size, or 0. */
static uint32_t
pack_zstd(struct piece_packer *p, const void *raw, uint32_t len, void *out, size_t cap)
{
	size_t want = len - len / GOSSIP_PIECE_MARGIN, n;
	uint64_t t0;

	if (want <= 1)
		return 0;
	if (!p->cctx) {
		p->cctx = ZSTD_createCCtx();
		if (!p->cctx)
			return 0;
		ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_checksumFlag, 1);
	}
	t0 = piece_cpu_ns();
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_compressionLevel, p->level);
	/* too small a buffer makes zstd fail instead of writing what does not pay */
	n = ZSTD_compress2(p->cctx, out, want - 1 < cap ? want - 1 : cap, raw, len);
	t0 = piece_cpu_ns() - t0;
	p->win_cpu_ns += t0;
	p->st.cpu_ns += t0;
	return ZSTD_isError(n) ? 0 : (uint32_t)n;
}

int
piece_pack(struct piece_packer *p, const void *raw, uint32_t len, void *out, size_t cap,
	   uint32_t *out_len)
{
	uint32_t n = 0;

	if (p->win_raw == 0)
		p->win_start_ns = piece_mono_ns();
	if (p->level > 0 && p->skip == 0) {
		n = pack_zstd(p, raw, len, out, cap);
		if (n == 0)
			p->skip = PIECE_SKIP;
	} else if (p->skip) {
		p->skip--;
	}
	p->st.bytes_raw += len;
	p->st.bytes_wire += n ? n : len;
	p->win_raw += len;
	p->win_wire += n ? n : len;
	if (p->mode != PIECE_NONE && p->win_raw >= PIECE_WINDOW_BYTES)
		piece_packer_decide(p, piece_mono_ns() - p->win_start_ns);
	*out_len = n;
	return n ? GOSSIP_SDATA_ZSTD : GOSSIP_SDATA_RAW;
}

int
piece_packer_cost(struct piece_packer *p, uint64_t *cpu_ns)
{
	if (p->st.cpu_ns == p->cost_told_ns)
		return 0;
	*cpu_ns = p->cost_told_ns = p->st.cpu_ns;
	return 1;
}

void
piece_packer_waited(struct piece_packer *p, uint64_t ns)
{
	p->win_wait_ns += ns;
}

/* ---- receiving ----------------------------------------------------------- */

void
piece_unpacker_init(struct piece_unpacker *u, int zlib)
{
	memset(u, 0, sizeof(*u));
	u->zlib = zlib;
}

void
piece_unpacker_release(struct piece_unpacker *u)
{
	ZSTD_freeDCtx(u->dctx);
	free(u->buf);
	u->dctx = NULL;
	u->buf = NULL;
}

static int
unpack_zstd(struct piece_unpacker *u, const void *in, uint32_t in_len, uint32_t raw_len)
{
	size_t n;

	if (!u->dctx) {
		u->dctx = ZSTD_createDCtx();
		if (!u->dctx)
			return -ENOMEM;
		ZSTD_DCtx_setParameter(u->dctx, ZSTD_d_windowLogMax, PIECE_WINDOW_LOG_MAX);
	}
	/* exactly one frame, declaring raw_len bytes and carrying a checksum
	 * (Frame_Header_Descriptor bit 2, RFC 8878 3.1.1.1.1) */
	if (ZSTD_findFrameCompressedSize(in, in_len) != in_len ||
	    ZSTD_getFrameContentSize(in, in_len) != raw_len || in_len < 5 ||
	    !(((const uint8_t *)in)[4] & 0x04))
		return -EPROTO;
	n = ZSTD_decompressDCtx(u->dctx, u->buf, raw_len, in, in_len);
	return ZSTD_isError(n) || n != raw_len ? -EPROTO : 0;
}

static int
unpack_zlib(struct piece_unpacker *u, const void *in, uint32_t in_len, uint32_t raw_len)
{
	uLongf n = raw_len;

	if (!u->zlib)
		return -EPROTO;
	return uncompress(u->buf, &n, in, in_len) != Z_OK || n != raw_len ? -EPROTO : 0;
}

int
piece_unpack(struct piece_unpacker *u, uint8_t enc, const void *in, uint32_t in_len,
	     uint32_t raw_len, const uint8_t **raw)
{
	uint64_t t0;
	int ret;

	if (raw_len == 0 || raw_len > PIECE_RAW_MAX)
		return -EPROTO;
	if (enc == GOSSIP_SDATA_RAW) {
		if (in_len != raw_len)
			return -EPROTO;
		*raw = in;
		goto out;
	}
	if (enc != GOSSIP_SDATA_ZSTD && enc != GOSSIP_SDATA_ZLIB)
		return -EPROTO;
	if (!u->buf)
		u->buf = malloc(PIECE_RAW_MAX);
	if (!u->buf)
		return -ENOMEM;
	t0 = piece_cpu_ns();
	ret = enc == GOSSIP_SDATA_ZSTD ? unpack_zstd(u, in, in_len, raw_len) :
	      unpack_zlib(u, in, in_len, raw_len);
	u->st.cpu_ns += piece_cpu_ns() - t0;
	if (ret < 0)
		return ret;
	*raw = u->buf;
out:
	u->st.bytes_raw += raw_len;
	u->st.bytes_wire += in_len;
	return 0;
}
