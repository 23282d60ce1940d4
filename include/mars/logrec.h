/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MARS transaction logfile record, format version 1.
 *
 * This header is the only definition of the on-disk record.  The kernel
 * module and every userspace tool compile the codec in libmars/logrec.c
 * against it.  docs/logfile-format.md is the normative description; keep
 * the two in step.
 *
 *   +--------------------+----------------------------+------------------+
 *   | header (64 bytes)  | payload, zero-padded to 8  | trailer (24 b.)  |
 *   +--------------------+----------------------------+------------------+
 *
 * Header, all fields little endian:
 *    0  u64  start magic            MARS_REC_MAGIC
 *    8  u16  format version         MARS_REC_VERSION
 *   10  u16  header length          MARS_REC_HDR_BYTES
 *   12  u32  flags                  MARS_REC_F_*; unknown bits are corrupt
 *   16  u64  sequence number        1, 2, 3, ... within one logfile
 *   24  u64  device offset          byte offset on the replicated device
 *   32  u32  stored payload length  bytes following the header
 *   36  u32  data length            bytes the record writes to the device
 *   40  u64  Lamport stamp          nanoseconds, when the write arrived
 *   48  u32  record length          header + padded payload + trailer
 *   52  u32  reserved, zero
 *   56  u64  reserved, zero
 *
 * Trailer, at 64 + padded payload length:
 *    0  u64  end magic              MARS_REC_END_MAGIC
 *    8  u64  checksum               xxh64(header, seed = xxh64(payload, 0))
 *   16  u32  record length copy     must equal header offset 48
 *   20  u32  validity marker        MARS_REC_VALID, written last
 */
#ifndef MARS_LOGREC_H
#define MARS_LOGREC_H

#include "mars/platform.h"

#define MARS_REC_MAGIC		0x3176636572737261ULL	/* "arsrecv1" */
#define MARS_REC_END_MAGIC	0x646e656365727372ULL	/* "rsrecend" */
#define MARS_REC_VERSION	1
#define MARS_REC_VALID		0x44494c56U		/* "VLID" */

#define MARS_REC_HDR_BYTES	64
#define MARS_REC_TRL_BYTES	24
#define MARS_REC_OVERHEAD	(MARS_REC_HDR_BYTES + MARS_REC_TRL_BYTES)
#define MARS_REC_ALIGN		8
/* Largest payload in one record: 1 MiB, so one large bio is one record. */
#define MARS_REC_MAX_PAYLOAD	(1U << 20)
#define MARS_REC_MAX_BYTES	(MARS_REC_OVERHEAD + MARS_REC_MAX_PAYLOAD)

/* Header field offsets. */
#define MARS_REC_OFF_MAGIC	0
#define MARS_REC_OFF_VERSION	8
#define MARS_REC_OFF_HDRLEN	10
#define MARS_REC_OFF_FLAGS	12
#define MARS_REC_OFF_SEQ	16
#define MARS_REC_OFF_DEVOFF	24
#define MARS_REC_OFF_STORED	32
#define MARS_REC_OFF_DATALEN	36
#define MARS_REC_OFF_STAMP	40
#define MARS_REC_OFF_RECLEN	48
#define MARS_REC_OFF_RSVD1	52
#define MARS_REC_OFF_RSVD2	56

/* Trailer field offsets, relative to the trailer. */
#define MARS_TRL_OFF_MAGIC	0
#define MARS_TRL_OFF_CHECKSUM	8
#define MARS_TRL_OFF_RECLEN	16
#define MARS_TRL_OFF_VALID	20

/*
 * Flags.  Bits 0-3 name the payload compression; version 1 defines only
 * "none", so a record with any flag set is refused as corrupt until a
 * later version gives the bits a meaning.
 */
#define MARS_REC_F_COMPRESS_MASK	0x0000000fU
#define MARS_REC_F_KNOWN		0x00000000U

_Static_assert(MARS_REC_OFF_RSVD2 + 8 == MARS_REC_HDR_BYTES, "header size");
_Static_assert(MARS_TRL_OFF_VALID + 4 == MARS_REC_TRL_BYTES, "trailer size");
_Static_assert(MARS_REC_HDR_BYTES % MARS_REC_ALIGN == 0, "header alignment");
_Static_assert(MARS_REC_TRL_BYTES % MARS_REC_ALIGN == 0, "trailer alignment");

/* The decoded fields of one record; host byte order. */
struct mars_rec_hdr {
	uint64_t seq;		/* 1-based within the logfile */
	uint64_t dev_off;	/* byte offset on the device */
	uint32_t stored_len;	/* payload bytes in the record */
	uint32_t data_len;	/* bytes the record writes to the device */
	uint64_t stamp_ns;	/* Lamport stamp, nanoseconds */
	uint32_t flags;		/* MARS_REC_F_* */
};

/* What the scanner found at one offset. */
enum mars_scan_result {
	MARS_SCAN_RECORD = 0,	/* a valid record; fields filled in */
	MARS_SCAN_END,		/* offset is exactly the end of the buffer */
	MARS_SCAN_INCOMPLETE,	/* a plausible record continues past the end */
	MARS_SCAN_TORN,		/* a record whose write did not complete */
	MARS_SCAN_CORRUPT,	/* bytes that are not a valid record */
	MARS_SCAN_SEQ_GAP,	/* a valid record with an unexpected number */
};

/* Why the scanner stopped; MARS_REASON_NONE for RECORD and END. */
enum mars_scan_reason {
	MARS_REASON_NONE = 0,
	MARS_REASON_SHORT,		/* INCOMPLETE: bytes missing */
	MARS_REASON_ZEROED,		/* TORN: zeros where a record should be */
	MARS_REASON_NO_MARKER,		/* TORN: validity marker not written */
	MARS_REASON_BAD_MAGIC,
	MARS_REASON_BAD_VERSION,
	MARS_REASON_BAD_HDRLEN,
	MARS_REASON_BAD_FLAGS,
	MARS_REASON_BAD_LENGTH,		/* impossible or inconsistent lengths */
	MARS_REASON_BAD_RESERVED,
	MARS_REASON_BAD_END_MAGIC,
	MARS_REASON_BAD_LENGTH_COPY,
	MARS_REASON_BAD_MARKER,
	MARS_REASON_BAD_PADDING,
	MARS_REASON_BAD_CHECKSUM,
	MARS_REASON_SEQ_FORWARD,	/* SEQ_GAP: records are missing */
	MARS_REASON_SEQ_BACKWARD,	/* SEQ_GAP: a number repeats */
	MARS_REASON_COUNT
};

/* One scanned record, or the place and cause of a stop. */
struct mars_rec {
	struct mars_rec_hdr hdr;
	uint64_t checksum;	/* as stored in the trailer */
	size_t offset;		/* where the record starts in the buffer */
	size_t payload_off;	/* where its payload starts in the buffer */
	size_t rec_len;		/* total bytes, header to trailer */
	size_t next;		/* offset of the following record */
	enum mars_scan_reason reason;
};

/* Total bytes a record with @stored_len payload bytes occupies. */
static inline size_t
mars_rec_size(uint32_t stored_len)
{
	size_t padded = ((size_t)stored_len + MARS_REC_ALIGN - 1) &
			~(size_t)(MARS_REC_ALIGN - 1);

	return MARS_REC_OVERHEAD + padded;
}

/*
 * Encode one complete record into @buf (@cap bytes).  The validity marker
 * is set only when @mark is true; writers that want the marker to reach
 * the medium strictly after the rest call mars_rec_set_marker() later.
 * Returns the record length, -EINVAL for a header that cannot be encoded
 * or -ENOSPC when @cap is too small.
 */
long mars_rec_encode(uint8_t *buf, size_t cap, const struct mars_rec_hdr *hdr,
		     const void *payload, int mark);

/*
 * The same in pieces, for writers whose payload is not contiguous with
 * the header (bio pages): write the header, hash the payload with
 * mars_rec_payload_hash(), then write the trailer.
 */
int mars_rec_put_header(uint8_t *hdr_buf, const struct mars_rec_hdr *hdr);
uint64_t mars_rec_payload_hash(const void *payload, uint32_t stored_len);
void mars_rec_put_trailer(uint8_t *trl_buf, const uint8_t *hdr_buf,
			  uint64_t payload_hash, int mark);
void mars_rec_set_marker(uint8_t *trl_buf);

/*
 * Examine the bytes at @off of @buf (@len bytes in all).  On
 * MARS_SCAN_RECORD and MARS_SCAN_SEQ_GAP @rec holds the record; on every
 * other result @rec->offset and @rec->reason say where and why the scan
 * stopped.  @expect_seq is the sequence number the record must carry, or
 * 0 to accept any.  On MARS_SCAN_INCOMPLETE with at least
 * MARS_REC_HDR_BYTES at @off, the header passed every check and @rec->hdr
 * holds it (how a reader takes a record's stamp from its header alone).
 * Never reads outside @buf[0..@len).
 */
enum mars_scan_result mars_rec_scan(const uint8_t *buf, size_t len, size_t off,
				    uint64_t expect_seq, struct mars_rec *rec);

/* Stable lowercase names for messages, JSON and the kernel log. */
const char *mars_scan_result_name(enum mars_scan_result res);
const char *mars_scan_reason_name(enum mars_scan_reason reason);

#endif /* MARS_LOGREC_H */
