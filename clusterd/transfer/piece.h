/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compressed pieces of the bulk transfers (protocol 1.3, docs/protocol.md
 * section 11): the logfile bytes of fetch (FDATA / FZDATA) and the chunk
 * bytes of full sync (SDATA).  One piece is compressed on its own, as one
 * zstd frame, so a receiver decodes each frame into a buffer of the
 * announced size and nothing else.
 *
 * The sending end keeps a piece_packer per session.  It never makes a
 * fast link slower: a piece that does not shrink by 1/GOSSIP_PIECE_MARGIN
 * goes raw (and the next PIECE_SKIP pieces too, without trying), and the
 * level adapts per window of PIECE_WINDOW_BYTES raw bytes, weighing the
 * CPU time spent compressing against the link time it saved, measured
 * from the time spent waiting for the link (piece_packer_waited()): see
 * piece_packer_decide() and the top of piece.c.
 *
 * The receiving end decodes with piece_unpack(), which refuses anything
 * but exactly the announced number of bytes; the output never exceeds
 * the caller's buffer, whatever the frame claims.
 */
#ifndef MARS_CLUSTERD_PIECE_H
#define MARS_CLUSTERD_PIECE_H

#include <stddef.h>
#include <stdint.h>

#include "clusterd/gossip/link.h"
#include "clusterd/gossip/proto.h"

/* --compress and resource-RES/defaults-HOST/compress (gossip_compress_mode()). */
enum piece_mode {
	PIECE_NONE	= 0,	/* never compress, never accept compressed pieces */
	PIECE_AUTO	= 1,	/* adaptive: levels 1..3, raw while the CPU is the bottleneck */
	PIECE_ZSTD	= 2,	/* always try: levels 1..3, never raw because of the CPU */
};

#define PIECE_LEVEL_MIN		1	/* zstd level a session starts at */
#define PIECE_LEVEL_MAX		3	/* never more: the link, not the ratio, is the goal */
#define PIECE_WINDOW_BYTES	(1U << 20)	/* raw bytes between level decisions */
#define PIECE_SKIP		16	/* pieces sent raw after one that did not shrink */
#define PIECE_PROBE_WINDOWS	16	/* auto, raw: windows before trying level 1 again */
#define PIECE_FAST_BPS		(1ULL << 30)	/* compressing faster (raw bytes per CPU
						   second) is never the bottleneck */

/* Running totals of one direction of transfer, for status and metrics. */
struct piece_stats {
	uint64_t bytes_raw;	/* payload bytes before compression (= written) */
	uint64_t bytes_wire;	/* payload bytes as carried in the frames */
	uint64_t cpu_ns;	/* CPU time here: compressing (sender), decompressing */
	uint64_t peer_cpu_ns;	/* receiver: the sender's compressing, from ZCOST */
};

/* @a += @b, field by field. */
void piece_stats_add(struct piece_stats *a, const struct piece_stats *b);

struct piece_packer {
	void *cctx;		/* ZSTD_CCtx, NULL until the first compression */
	int mode;		/* enum piece_mode */
	int level;		/* zstd level now; 0 = raw (auto only) */
	unsigned skip;		/* pieces still to send raw */
	unsigned probe;		/* raw windows left before trying level 1 */
	uint64_t win_raw;	/* raw bytes of the current window */
	uint64_t win_wire;	/* the same, as sent */
	uint64_t win_start_ns;	/* CLOCK_MONOTONIC at its first piece */
	uint64_t win_cpu_ns;	/* compressing in the current window */
	uint64_t win_wait_ns;	/* waiting for the link in the current window */
	uint64_t saved_ns;	/* link time compression saved a window, estimated, fading */
	uint64_t probe_cpu_ns;	/* compressing in the window that turned it raw */
	uint64_t probe_saved_pm;	/* its bytes saved, in 1/1024 of raw */
	uint64_t cost_told_ns;	/* st.cpu_ns last returned by piece_packer_cost() */
	struct piece_stats st;	/* session totals */
};

/* A packer in @mode (PIECE_NONE: every piece raw).  Nothing allocated yet. */
void piece_packer_init(struct piece_packer *p, int mode);
void piece_packer_release(struct piece_packer *p);
/* Switch to @mode between streams (the resource's setting may differ). */
void piece_packer_set_mode(struct piece_packer *p, int mode);

/*
 * Compress @raw[0..@len) into @out (@cap bytes) if that pays.  Returns
 * GOSSIP_SDATA_ZSTD with *@out_len set, or GOSSIP_SDATA_RAW: send @raw as
 * it is.  Counts the piece in p->st and in the current window.
 */
int piece_pack(struct piece_packer *p, const void *raw, uint32_t len, void *out, size_t cap,
	       uint32_t *out_len);
/* 1 with the session's CPU time compressing in *@cpu_ns if it grew since
 * the last call (the ZCOST to send), else 0. */
int piece_packer_cost(struct piece_packer *p, uint64_t *cpu_ns);
/* The sender waited @ns for the link (a blocking write of queued frames). */
void piece_packer_waited(struct piece_packer *p, uint64_t ns);
/*
 * The end of a window that took @wall_ns: choose the level for the next
 * from win_cpu_ns and win_wait_ns (the rules are at the top of piece.c),
 * and start a new window.  piece_pack() calls it; exported for the tests.
 */
void piece_packer_decide(struct piece_packer *p, uint64_t wall_ns);

#define PIECE_RAW_MAX	GOSSIP_FDATA_MAX	/* the largest piece of either transfer */

/* A decoder; zlib (1.2 full sync) is accepted only if @zlib is set. */
struct piece_unpacker {
	void *dctx;		/* ZSTD_DCtx, NULL until the first zstd piece */
	uint8_t *buf;		/* PIECE_RAW_MAX bytes: the decoded piece */
	int zlib;
	struct piece_stats st;	/* every piece decoded, raw ones too */
};

void piece_unpacker_init(struct piece_unpacker *u, int zlib);
void piece_unpacker_release(struct piece_unpacker *u);

/*
 * Decode a piece of encoding @enc (GOSSIP_SDATA_*) from @in[0..@in_len),
 * which must yield exactly @raw_len bytes; *@raw then points at them (at
 * @in for a raw piece, else into u->buf until the next call).  Refused
 * with -EPROTO: an unknown or unaccepted encoding, @raw_len of 0 or above
 * PIECE_RAW_MAX, a raw piece of another length, a zstd piece that is not
 * exactly one frame declaring @raw_len bytes or that decodes to anything
 * else, a zlib piece that does not inflate to exactly @raw_len.  -ENOMEM
 * without a decoder.  Never writes past @raw_len bytes nor allocates by
 * what the piece says.
 */
int piece_unpack(struct piece_unpacker *u, uint8_t enc, const void *in, uint32_t in_len,
		 uint32_t raw_len, const uint8_t **raw);

/* CPU time of the calling thread, ns (CLOCK_THREAD_CPUTIME_ID). */
uint64_t piece_cpu_ns(void);
/* CLOCK_MONOTONIC, ns. */
uint64_t piece_mono_ns(void);

/* link_flush(@l) of a serving end, whose stdout blocks: the time it took
 * is the link's, told to @p. */
static inline int
piece_flush(struct piece_packer *p, struct gossip_link *l)
{
	uint64_t t0 = piece_mono_ns();
	int ret = link_flush(l);

	piece_packer_waited(p, piece_mono_ns() - t0);
	return ret;
}

#endif /* MARS_CLUSTERD_PIECE_H */
