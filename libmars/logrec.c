// SPDX-License-Identifier: GPL-2.0-only
/*
 * Codec and scanner for the MARS logfile record (include/mars/logrec.h).
 *
 * This file is compiled twice from the same source: into mars.ko by
 * Kbuild and into libmars.a for userspace.  It is therefore freestanding:
 * no allocation, no I/O, no logging, only pure functions over byte
 * buffers that return a value or -errno.
 *
 * The scanner is the single judge of what a logfile contains.  Replay in
 * the kernel, the userspace engine, fetch and the tools all ask it, so a
 * byte sequence means the same thing everywhere.  It validates every
 * length before using it and never reads outside the buffer it was given.
 */
#include "mars/logrec.h"
#include "mars/le.h"

static size_t
mars_rec_padded(uint32_t stored_len)
{
	return mars_rec_size(stored_len) - MARS_REC_OVERHEAD;
}

static int
mars_rec_hdr_ok(const struct mars_rec_hdr *hdr)
{
	if (hdr->flags & ~MARS_REC_F_KNOWN)
		return 0;
	if (hdr->stored_len > MARS_REC_MAX_PAYLOAD)
		return 0;
	/* Without compression the record carries exactly what it writes. */
	return hdr->data_len == hdr->stored_len;
}

int
mars_rec_put_header(uint8_t *hdr_buf, const struct mars_rec_hdr *hdr)
{
	if (!mars_rec_hdr_ok(hdr))
		return -EINVAL;

	mars_put_le64(hdr_buf + MARS_REC_OFF_MAGIC, MARS_REC_MAGIC);
	mars_put_le16(hdr_buf + MARS_REC_OFF_VERSION, MARS_REC_VERSION);
	mars_put_le16(hdr_buf + MARS_REC_OFF_HDRLEN, MARS_REC_HDR_BYTES);
	mars_put_le32(hdr_buf + MARS_REC_OFF_FLAGS, hdr->flags);
	mars_put_le64(hdr_buf + MARS_REC_OFF_SEQ, hdr->seq);
	mars_put_le64(hdr_buf + MARS_REC_OFF_DEVOFF, hdr->dev_off);
	mars_put_le32(hdr_buf + MARS_REC_OFF_STORED, hdr->stored_len);
	mars_put_le32(hdr_buf + MARS_REC_OFF_DATALEN, hdr->data_len);
	mars_put_le64(hdr_buf + MARS_REC_OFF_STAMP, hdr->stamp_ns);
	mars_put_le32(hdr_buf + MARS_REC_OFF_RECLEN,
		      (uint32_t)mars_rec_size(hdr->stored_len));
	mars_put_le32(hdr_buf + MARS_REC_OFF_RSVD1, 0);
	mars_put_le64(hdr_buf + MARS_REC_OFF_RSVD2, 0);
	return 0;
}

uint64_t
mars_rec_payload_hash(const void *payload, uint32_t stored_len)
{
	return mars_xxh64(payload, stored_len, 0);
}

static uint64_t
mars_rec_checksum(const uint8_t *hdr_buf, uint64_t payload_hash)
{
	return mars_xxh64(hdr_buf, MARS_REC_HDR_BYTES, payload_hash);
}

void
mars_rec_put_trailer(uint8_t *trl_buf, const uint8_t *hdr_buf,
		     uint64_t payload_hash, int mark)
{
	mars_put_le64(trl_buf + MARS_TRL_OFF_MAGIC, MARS_REC_END_MAGIC);
	mars_put_le64(trl_buf + MARS_TRL_OFF_CHECKSUM,
		      mars_rec_checksum(hdr_buf, payload_hash));
	memcpy(trl_buf + MARS_TRL_OFF_RECLEN, hdr_buf + MARS_REC_OFF_RECLEN, 4);
	mars_put_le32(trl_buf + MARS_TRL_OFF_VALID, mark ? MARS_REC_VALID : 0);
}

void
mars_rec_set_marker(uint8_t *trl_buf)
{
	mars_put_le32(trl_buf + MARS_TRL_OFF_VALID, MARS_REC_VALID);
}

long
mars_rec_encode(uint8_t *buf, size_t cap, const struct mars_rec_hdr *hdr,
		const void *payload, int mark)
{
	size_t padded, total;
	int ret;

	if (!mars_rec_hdr_ok(hdr))
		return -EINVAL;
	total = mars_rec_size(hdr->stored_len);
	if (cap < total)
		return -ENOSPC;

	ret = mars_rec_put_header(buf, hdr);
	if (ret)
		return ret;
	padded = mars_rec_padded(hdr->stored_len);
	memcpy(buf + MARS_REC_HDR_BYTES, payload, hdr->stored_len);
	memset(buf + MARS_REC_HDR_BYTES + hdr->stored_len, 0,
	       padded - hdr->stored_len);
	mars_rec_put_trailer(buf + MARS_REC_HDR_BYTES + padded, buf,
			     mars_rec_payload_hash(payload, hdr->stored_len),
			     mark);
	return (long)total;
}

/* ---- scanning ------------------------------------------------------- */

static enum mars_scan_result
mars_scan_stop(struct mars_rec *rec, enum mars_scan_result res,
	       enum mars_scan_reason reason)
{
	rec->reason = reason;
	return res;
}

static int
mars_all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Does @avail bytes at @p agree with the start of the magic number? */
static int
mars_magic_prefix_ok(const uint8_t *p, size_t avail)
{
	uint8_t magic[8];

	mars_put_le64(magic, MARS_REC_MAGIC);
	return memcmp(p, magic, avail < 8 ? avail : 8) == 0;
}

/*
 * Decode and check the fixed header at @h.  Only lengths that are
 * consistent with each other and within the format's bounds survive, so
 * that the caller may trust rec_len before comparing it to the buffer.
 */
static enum mars_scan_reason
mars_scan_header(const uint8_t *h, struct mars_rec *rec)
{
	struct mars_rec_hdr *hdr = &rec->hdr;
	uint32_t rec_len;

	if (mars_get_le16(h + MARS_REC_OFF_VERSION) != MARS_REC_VERSION)
		return MARS_REASON_BAD_VERSION;
	if (mars_get_le16(h + MARS_REC_OFF_HDRLEN) != MARS_REC_HDR_BYTES)
		return MARS_REASON_BAD_HDRLEN;
	hdr->flags = mars_get_le32(h + MARS_REC_OFF_FLAGS);
	if (hdr->flags & ~MARS_REC_F_KNOWN)
		return MARS_REASON_BAD_FLAGS;
	hdr->seq = mars_get_le64(h + MARS_REC_OFF_SEQ);
	hdr->dev_off = mars_get_le64(h + MARS_REC_OFF_DEVOFF);
	hdr->stored_len = mars_get_le32(h + MARS_REC_OFF_STORED);
	hdr->data_len = mars_get_le32(h + MARS_REC_OFF_DATALEN);
	hdr->stamp_ns = mars_get_le64(h + MARS_REC_OFF_STAMP);
	rec_len = mars_get_le32(h + MARS_REC_OFF_RECLEN);
	if (hdr->stored_len > MARS_REC_MAX_PAYLOAD ||
	    hdr->data_len != hdr->stored_len ||
	    rec_len != mars_rec_size(hdr->stored_len) ||
	    hdr->seq == 0 ||
	    hdr->dev_off + hdr->data_len < hdr->dev_off)
		return MARS_REASON_BAD_LENGTH;
	if (mars_get_le32(h + MARS_REC_OFF_RSVD1) ||
	    mars_get_le64(h + MARS_REC_OFF_RSVD2))
		return MARS_REASON_BAD_RESERVED;
	rec->rec_len = rec_len;
	return MARS_REASON_NONE;
}

/* Check the trailer and the checksum of a record known to be complete. */
static enum mars_scan_result
mars_scan_trailer(const uint8_t *r, struct mars_rec *rec)
{
	size_t padded = mars_rec_padded(rec->hdr.stored_len);
	const uint8_t *payload = r + MARS_REC_HDR_BYTES;
	const uint8_t *t = payload + padded;
	uint32_t marker = mars_get_le32(t + MARS_TRL_OFF_VALID);
	uint64_t want;

	if (marker == 0)
		return mars_scan_stop(rec, MARS_SCAN_TORN,
				      MARS_REASON_NO_MARKER);
	if (mars_get_le64(t + MARS_TRL_OFF_MAGIC) != MARS_REC_END_MAGIC)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_END_MAGIC);
	if (mars_get_le32(t + MARS_TRL_OFF_RECLEN) != rec->rec_len)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_LENGTH_COPY);
	if (marker != MARS_REC_VALID)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_MARKER);
	if (!mars_all_zero(payload + rec->hdr.stored_len,
			   padded - rec->hdr.stored_len))
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_PADDING);

	rec->checksum = mars_get_le64(t + MARS_TRL_OFF_CHECKSUM);
	want = mars_rec_checksum(r, mars_rec_payload_hash(payload,
						rec->hdr.stored_len));
	if (rec->checksum != want)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_CHECKSUM);
	return MARS_SCAN_RECORD;
}

static enum mars_scan_result
mars_scan_sequence(struct mars_rec *rec, uint64_t expect_seq)
{
	if (!expect_seq || rec->hdr.seq == expect_seq)
		return mars_scan_stop(rec, MARS_SCAN_RECORD, MARS_REASON_NONE);
	return mars_scan_stop(rec, MARS_SCAN_SEQ_GAP,
			      rec->hdr.seq > expect_seq ?
			      MARS_REASON_SEQ_FORWARD :
			      MARS_REASON_SEQ_BACKWARD);
}

enum mars_scan_result
mars_rec_scan(const uint8_t *buf, size_t len, size_t off,
	      uint64_t expect_seq, struct mars_rec *rec)
{
	const uint8_t *r = buf + off;
	enum mars_scan_reason reason;
	enum mars_scan_result res;
	size_t avail;

	memset(rec, 0, sizeof(*rec));
	rec->offset = off;
	rec->next = off;
	if (off > len)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_LENGTH);
	avail = len - off;
	if (avail == 0)
		return mars_scan_stop(rec, MARS_SCAN_END, MARS_REASON_NONE);

	/* Zeros where a header belongs: space allocated, write never landed. */
	if (mars_all_zero(r, avail < MARS_REC_HDR_BYTES ?
			  avail : MARS_REC_HDR_BYTES))
		return mars_scan_stop(rec, MARS_SCAN_TORN, MARS_REASON_ZEROED);
	if (!mars_magic_prefix_ok(r, avail))
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT,
				      MARS_REASON_BAD_MAGIC);
	if (avail < MARS_REC_HDR_BYTES)
		return mars_scan_stop(rec, MARS_SCAN_INCOMPLETE,
				      MARS_REASON_SHORT);

	reason = mars_scan_header(r, rec);
	if (reason != MARS_REASON_NONE)
		return mars_scan_stop(rec, MARS_SCAN_CORRUPT, reason);
	if (avail < rec->rec_len)
		return mars_scan_stop(rec, MARS_SCAN_INCOMPLETE,
				      MARS_REASON_SHORT);

	res = mars_scan_trailer(r, rec);
	if (res != MARS_SCAN_RECORD)
		return res;
	rec->payload_off = off + MARS_REC_HDR_BYTES;
	rec->next = off + rec->rec_len;
	return mars_scan_sequence(rec, expect_seq);
}

const char *
mars_scan_result_name(enum mars_scan_result res)
{
	switch (res) {
	case MARS_SCAN_RECORD:		return "record";
	case MARS_SCAN_END:		return "end";
	case MARS_SCAN_INCOMPLETE:	return "incomplete";
	case MARS_SCAN_TORN:		return "torn";
	case MARS_SCAN_CORRUPT:		return "corrupt";
	case MARS_SCAN_SEQ_GAP:		return "sequence-gap";
	}
	return "unknown";
}

static const char *const mars_reason_names[MARS_REASON_COUNT] = {
	[MARS_REASON_NONE]		= "none",
	[MARS_REASON_SHORT]		= "short",
	[MARS_REASON_ZEROED]		= "zeroed",
	[MARS_REASON_NO_MARKER]		= "no-marker",
	[MARS_REASON_BAD_MAGIC]		= "bad-magic",
	[MARS_REASON_BAD_VERSION]	= "bad-version",
	[MARS_REASON_BAD_HDRLEN]	= "bad-header-length",
	[MARS_REASON_BAD_FLAGS]		= "bad-flags",
	[MARS_REASON_BAD_LENGTH]	= "bad-length",
	[MARS_REASON_BAD_RESERVED]	= "bad-reserved",
	[MARS_REASON_BAD_END_MAGIC]	= "bad-end-magic",
	[MARS_REASON_BAD_LENGTH_COPY]	= "bad-length-copy",
	[MARS_REASON_BAD_MARKER]	= "bad-marker",
	[MARS_REASON_BAD_PADDING]	= "bad-padding",
	[MARS_REASON_BAD_CHECKSUM]	= "bad-checksum",
	[MARS_REASON_SEQ_FORWARD]	= "sequence-forward",
	[MARS_REASON_SEQ_BACKWARD]	= "sequence-backward",
};

const char *
mars_scan_reason_name(enum mars_scan_reason reason)
{
	if ((unsigned int)reason >= MARS_REASON_COUNT)
		return "unknown";
	return mars_reason_names[reason];
}
