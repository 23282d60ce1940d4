// SPDX-License-Identifier: GPL-2.0-only
/*
 * Self-test of the shared record core, run at load and on request.
 *
 * libmars/logrec.c is tested exhaustively in userspace, but the module
 * compiles it a second time: with the kernel's compiler flags and against
 * the kernel's xxh64 instead of libxxhash.  Only this build can show
 * that the copy inside mars.ko encodes and judges records exactly as the
 * tools do.  The "golden" check pins one record's checksum to the value
 * the userspace build computes, so a kernel whose xxh64 disagrees is
 * caught before it writes a single logfile.
 *
 * The checks work on one buffer holding two records (seq 1 and 2), which
 * every check rebuilds first, so they do not depend on each other.  They
 * run in process context, take no locks and touch nothing global.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>

#include "mars/logrec.h"
#include "mars/le.h"
#include "mars.h"

/* An odd length, so that the record carries padding. */
#define MARS_ST_PAYLOAD_BYTES	4093U
#define MARS_ST_DEV_OFF		(3ULL * 4096)
#define MARS_ST_STAMP_NS	0x0123456789abcdefULL
/* xxh64 checksum of record 1 as computed by the userspace build. */
#define MARS_ST_GOLDEN_CSUM	0xc124575bd115cd54ULL
/* Payload bits flipped: every one of a prime stride, plus the last. */
#define MARS_ST_FLIP_STRIDE	61U

struct mars_st {
	u8 *buf;		/* record 1, then record 2 */
	u8 *payload;		/* MARS_ST_PAYLOAD_BYTES of pattern */
	size_t rec_len;		/* bytes of one record */
	size_t len;		/* bytes of both */
};

struct mars_st_check {
	const char *name;
	bool (*run)(struct mars_st *st);
};

static void
mars_st_hdr(struct mars_rec_hdr *hdr, u64 seq)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->seq = seq;
	hdr->dev_off = MARS_ST_DEV_OFF;
	hdr->stored_len = MARS_ST_PAYLOAD_BYTES;
	hdr->data_len = MARS_ST_PAYLOAD_BYTES;
	hdr->stamp_ns = MARS_ST_STAMP_NS;
}

static bool
mars_st_build(struct mars_st *st)
{
	struct mars_rec_hdr hdr;
	long n1, n2;

	mars_st_hdr(&hdr, 1);
	n1 = mars_rec_encode(st->buf, st->len, &hdr, st->payload, 1);
	mars_st_hdr(&hdr, 2);
	n2 = mars_rec_encode(st->buf + st->rec_len, st->len - st->rec_len,
			     &hdr, st->payload, 1);
	return n1 == (long)st->rec_len && n2 == (long)st->rec_len;
}

static bool
mars_st_scan_is(struct mars_st *st, size_t len, size_t off, u64 expect_seq,
		enum mars_scan_result want)
{
	struct mars_rec rec;

	return mars_rec_scan(st->buf, len, off, expect_seq, &rec) == want;
}

static bool
mars_st_encode(struct mars_st *st)
{
	return mars_st_build(st);
}

static bool
mars_st_golden(struct mars_st *st)
{
	const u8 *trl = st->buf + st->rec_len - MARS_REC_TRL_BYTES;

	return mars_st_build(st) &&
	       mars_get_le64(trl + MARS_TRL_OFF_CHECKSUM) == MARS_ST_GOLDEN_CSUM;
}

static bool
mars_st_round_trip(struct mars_st *st)
{
	struct mars_rec rec;

	if (!mars_st_build(st) ||
	    mars_rec_scan(st->buf, st->len, 0, 1, &rec) != MARS_SCAN_RECORD)
		return false;
	return rec.hdr.seq == 1 && rec.hdr.dev_off == MARS_ST_DEV_OFF &&
	       rec.hdr.stored_len == MARS_ST_PAYLOAD_BYTES &&
	       rec.hdr.stamp_ns == MARS_ST_STAMP_NS &&
	       rec.payload_off == MARS_REC_HDR_BYTES &&
	       rec.next == st->rec_len &&
	       !memcmp(st->buf + rec.payload_off, st->payload,
		       MARS_ST_PAYLOAD_BYTES);
}

/* Header, payload hash and trailer written apart give the same bytes. */
static bool
mars_st_pieces(struct mars_st *st)
{
	u8 *hdr_buf = st->buf + st->rec_len;
	size_t padded = st->rec_len - MARS_REC_OVERHEAD;
	struct mars_rec_hdr hdr;

	if (!mars_st_build(st))
		return false;
	memset(hdr_buf, 0, st->rec_len);
	mars_st_hdr(&hdr, 1);
	if (mars_rec_put_header(hdr_buf, &hdr))
		return false;
	memcpy(hdr_buf + MARS_REC_HDR_BYTES, st->payload, MARS_ST_PAYLOAD_BYTES);
	mars_rec_put_trailer(hdr_buf + MARS_REC_HDR_BYTES + padded, hdr_buf,
			     mars_rec_payload_hash(st->payload,
						   MARS_ST_PAYLOAD_BYTES), 1);
	return !memcmp(st->buf, hdr_buf, st->rec_len);
}

static bool
mars_st_end(struct mars_st *st)
{
	return mars_st_build(st) &&
	       mars_st_scan_is(st, st->len, st->rec_len, 2, MARS_SCAN_RECORD) &&
	       mars_st_scan_is(st, st->len, st->len, 3, MARS_SCAN_END);
}

static bool
mars_st_seq_gap(struct mars_st *st)
{
	return mars_st_build(st) &&
	       mars_st_scan_is(st, st->len, st->rec_len, 3, MARS_SCAN_SEQ_GAP) &&
	       mars_st_scan_is(st, st->len, st->rec_len, 1, MARS_SCAN_SEQ_GAP);
}

/* The validity marker is what makes a record count. */
static bool
mars_st_marker(struct mars_st *st)
{
	u8 *trl = st->buf + st->rec_len - MARS_REC_TRL_BYTES;

	if (!mars_st_build(st))
		return false;
	memset(trl + MARS_TRL_OFF_VALID, 0, 4);
	if (!mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_TORN))
		return false;
	mars_rec_set_marker(trl);
	return mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_RECORD);
}

static bool
mars_st_flip_detected(struct mars_st *st, size_t bit)
{
	bool detected;

	st->buf[bit / 8] ^= 1U << (bit % 8);
	detected = !mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_RECORD);
	st->buf[bit / 8] ^= 1U << (bit % 8);
	return detected;
}

/* Every bit of header and trailer, a stride of the payload bits. */
static bool
mars_st_bit_flips(struct mars_st *st)
{
	size_t hdr_bits = MARS_REC_HDR_BYTES * 8;
	size_t trl_start = (st->rec_len - MARS_REC_TRL_BYTES) * 8;
	size_t bit;

	if (!mars_st_build(st))
		return false;
	for (bit = 0; bit < st->rec_len * 8; bit++) {
		if (bit >= hdr_bits && bit < trl_start &&
		    bit % MARS_ST_FLIP_STRIDE && bit != trl_start - 1)
			continue;
		if (!mars_st_flip_detected(st, bit))
			return false;
	}
	return mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_RECORD);
}

/* A record cut anywhere is never taken for a complete one. */
static bool
mars_st_truncation(struct mars_st *st)
{
	size_t cut;

	if (!mars_st_build(st))
		return false;
	for (cut = 1; cut < st->rec_len; cut++)
		if (!mars_st_scan_is(st, cut, 0, 1, MARS_SCAN_INCOMPLETE))
			return false;
	return true;
}

static bool
mars_st_zeroed(struct mars_st *st)
{
	memset(st->buf, 0, st->len);
	return mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_TORN);
}

/*
 * The logfile being written (docs/logfile-format.md 1.1): a record, then
 * preallocated zeros.  The zeros scan as torn, never as a record, and a
 * record written over them scans whole.
 */
static bool
mars_st_preallocated(struct mars_st *st)
{
	if (!mars_st_build(st))
		return false;
	memset(st->buf + st->rec_len, 0, st->rec_len);
	if (!mars_st_scan_is(st, st->len, 0, 1, MARS_SCAN_RECORD) ||
	    !mars_st_scan_is(st, st->len, st->rec_len, 2, MARS_SCAN_TORN))
		return false;
	return mars_st_build(st) &&
	       mars_st_scan_is(st, st->len, st->rec_len, 2, MARS_SCAN_RECORD);
}

static const struct mars_st_check mars_st_checks[] = {
	{ "encode",		mars_st_encode },
	{ "golden-checksum",	mars_st_golden },
	{ "round-trip",		mars_st_round_trip },
	{ "pieces",		mars_st_pieces },
	{ "end",		mars_st_end },
	{ "sequence-gap",	mars_st_seq_gap },
	{ "marker",		mars_st_marker },
	{ "bit-flips",		mars_st_bit_flips },
	{ "truncation",		mars_st_truncation },
	{ "zeroed",		mars_st_zeroed },
	{ "preallocated",	mars_st_preallocated },
};

static void
mars_st_run_checks(struct mars_st *st, struct mars_selftest_report *rep)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mars_st_checks); i++) {
		rep->checks_run++;
		if (mars_st_checks[i].run(st))
			continue;
		pr_err("self-test check '%s' failed\n", mars_st_checks[i].name);
		if (!rep->checks_failed++)
			rep->first_failure = mars_st_checks[i].name;
	}
	rep->result = rep->checks_failed ? -EIO : 0;
}

void
mars_selftest_run(struct mars_selftest_report *rep)
{
	struct mars_st st;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	st.rec_len = mars_rec_size(MARS_ST_PAYLOAD_BYTES);
	st.len = 2 * st.rec_len;
	st.buf = kmalloc(st.len + MARS_ST_PAYLOAD_BYTES, GFP_KERNEL);
	if (!st.buf) {
		rep->result = -ENOMEM;
		return;
	}
	st.payload = st.buf + st.len;
	for (i = 0; i < MARS_ST_PAYLOAD_BYTES; i++)
		st.payload[i] = (u8)(i * 31 + 7);

	mars_st_run_checks(&st, rep);
	kfree(st.buf);
}
