// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the shared record core (libmars/logrec.c): round trips,
 * every scanner outcome, single bit flips anywhere in a record, truncation
 * at every byte, and the size limits.
 */
#include <stdlib.h>
#include <string.h>

#include "mars/logrec.h"
#include "mars/le.h"
#include "tests/helpers/forge.h"
#include "tap.h"

static uint8_t payload[MARS_REC_MAX_PAYLOAD];
static uint8_t buf[2 * MARS_REC_MAX_BYTES];

static void
make_hdr(struct mars_rec_hdr *hdr, uint64_t seq, uint32_t len)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->seq = seq;
	hdr->dev_off = seq * 4096;
	hdr->stored_len = len;
	hdr->data_len = len;
	hdr->stamp_ns = 1000 + seq;
}

static long
encode(uint8_t *at, uint64_t seq, uint32_t len)
{
	struct mars_rec_hdr hdr;

	make_hdr(&hdr, seq, len);
	forge_fill(payload, len, seq);
	return mars_rec_encode(at, MARS_REC_MAX_BYTES, &hdr, payload, 1);
}

static void
test_round_trip(void)
{
	static const uint32_t lens[] = { 0, 1, 7, 8, 9, 512, 4096, 65537,
					 MARS_REC_MAX_PAYLOAD };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct mars_rec rec;
		long n = encode(buf, i + 1, lens[i]);
		int same;

		same = n == (long)mars_rec_size(lens[i]) &&
		       n % MARS_REC_ALIGN == 0 &&
		       mars_rec_scan(buf, (size_t)n, 0, i + 1, &rec) ==
		       MARS_SCAN_RECORD &&
		       rec.hdr.seq == i + 1 && rec.hdr.dev_off == (i + 1) * 4096 &&
		       rec.hdr.data_len == lens[i] &&
		       rec.hdr.stamp_ns == 1000 + i + 1 &&
		       rec.next == (size_t)n &&
		       memcmp(buf + rec.payload_off, payload, lens[i]) == 0;
		tap_ok(same, "round trip of a %u-byte payload", lens[i]);
	}
}

static void
test_limits(void)
{
	struct mars_rec_hdr hdr;
	uint8_t small[MARS_REC_OVERHEAD + 8];

	make_hdr(&hdr, 1, MARS_REC_MAX_PAYLOAD + 1);
	tap_ok(mars_rec_encode(buf, sizeof(buf), &hdr, payload, 1) == -EINVAL,
	       "payload above 1 MiB is refused");
	make_hdr(&hdr, 1, 9);
	tap_ok(mars_rec_encode(small, sizeof(small), &hdr, payload, 1) ==
	       -ENOSPC, "encoding into a too small buffer is refused");
	make_hdr(&hdr, 1, 8);
	hdr.flags = 1;
	tap_ok(mars_rec_encode(buf, sizeof(buf), &hdr, payload, 1) == -EINVAL,
	       "unknown flags are refused by the encoder");
	make_hdr(&hdr, 1, 8);
	hdr.data_len = 16;
	tap_ok(mars_rec_encode(buf, sizeof(buf), &hdr, payload, 1) == -EINVAL,
	       "data length differing from stored length is refused");
}

static void
test_sequence_of_records(void)
{
	struct mars_rec rec;
	size_t off = 0, len = 0;
	uint64_t seq;
	int ok = 1;

	for (seq = 1; seq <= 5; seq++)
		len += (size_t)encode(buf + len, seq, (uint32_t)(seq * 100));
	for (seq = 1; seq <= 5; seq++) {
		ok &= mars_rec_scan(buf, len, off, seq, &rec) == MARS_SCAN_RECORD;
		off = rec.next;
	}
	tap_ok(ok, "five records scan in order");
	tap_ok(mars_rec_scan(buf, len, off, 6, &rec) == MARS_SCAN_END &&
	       rec.offset == len, "clean end after the last record");
	tap_ok(mars_rec_scan(buf, len, len + 1, 6, &rec) == MARS_SCAN_CORRUPT,
	       "an offset beyond the buffer is refused");
}

static void
test_sequence_gaps(void)
{
	struct mars_rec rec;
	long n = encode(buf, 7, 16);

	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 5, &rec) == MARS_SCAN_SEQ_GAP &&
	       rec.reason == MARS_REASON_SEQ_FORWARD && rec.hdr.seq == 7,
	       "a forward jump in numbering is a sequence gap");
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 9, &rec) == MARS_SCAN_SEQ_GAP &&
	       rec.reason == MARS_REASON_SEQ_BACKWARD,
	       "a repeated number is a sequence gap");
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 0, &rec) == MARS_SCAN_RECORD,
	       "expect_seq 0 accepts any number");
}

static void
test_truncation_everywhere(void)
{
	long n = encode(buf, 1, 300);
	struct mars_rec rec;
	int ok = 1;
	long cut;

	for (cut = 1; cut < n; cut++) {
		enum mars_scan_result res;

		res = mars_rec_scan(buf, (size_t)cut, 0, 1, &rec);
		ok &= res == MARS_SCAN_INCOMPLETE &&
		      rec.reason == MARS_REASON_SHORT;
	}
	tap_ok(ok, "truncation at every byte of a record is incomplete");
	mars_rec_scan(buf, MARS_REC_HDR_BYTES, 0, 0, &rec);
	tap_ok(rec.hdr.seq == 1 && rec.hdr.stamp_ns == 1001 && rec.hdr.stored_len == 300,
	       "a header alone: incomplete, with the checked header decoded");
}

static void
test_bit_flips_everywhere(void)
{
	long n = encode(buf, 1, 200);
	struct mars_rec rec;
	int detected = 1;
	long byte;
	int bit;

	for (byte = 0; byte < n; byte++) {
		for (bit = 0; bit < 8; bit++) {
			enum mars_scan_result res;

			buf[byte] ^= (uint8_t)(1 << bit);
			res = mars_rec_scan(buf, (size_t)n, 0, 1, &rec);
			buf[byte] ^= (uint8_t)(1 << bit);
			/* A flip in the length fields may make the record
			 * look longer than the buffer: still not accepted. */
			if (res == MARS_SCAN_RECORD) {
				tap_diag("flip at byte %ld bit %d not detected",
					 byte, bit);
				detected = 0;
			}
		}
	}
	tap_ok(detected, "every single bit flip in a record is detected");
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_RECORD,
	       "the record is intact after the flips were undone");
}

static void
test_corrupt_reasons(void)
{
	long n = encode(buf, 1, 16);
	size_t trl = (size_t)n - MARS_REC_TRL_BYTES;
	struct mars_rec rec;

	buf[0] ^= 0xff;
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_CORRUPT &&
	       rec.reason == MARS_REASON_BAD_MAGIC, "bad start magic");
	buf[0] ^= 0xff;
	mars_put_le32(buf + MARS_REC_OFF_STORED, MARS_REC_MAX_PAYLOAD + 8);
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_CORRUPT &&
	       rec.reason == MARS_REASON_BAD_LENGTH, "impossible length");
	mars_put_le32(buf + MARS_REC_OFF_STORED, 16);
	buf[trl] ^= 1;
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_CORRUPT &&
	       rec.reason == MARS_REASON_BAD_END_MAGIC, "bad end magic");
	buf[trl] ^= 1;
	buf[MARS_REC_HDR_BYTES] ^= 1;
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_CORRUPT &&
	       rec.reason == MARS_REASON_BAD_CHECKSUM, "bad checksum");
	buf[MARS_REC_HDR_BYTES] ^= 1;
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_RECORD,
	       "restored record is valid again");
}

static void
test_torn(void)
{
	struct mars_rec_hdr hdr;
	struct mars_rec rec;
	long n;

	make_hdr(&hdr, 1, 32);
	n = mars_rec_encode(buf, sizeof(buf), &hdr, payload, 0);
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_TORN &&
	       rec.reason == MARS_REASON_NO_MARKER,
	       "a record without its validity marker is torn");
	mars_rec_set_marker(buf + n - MARS_REC_TRL_BYTES);
	tap_ok(mars_rec_scan(buf, (size_t)n, 0, 1, &rec) == MARS_SCAN_RECORD,
	       "setting the marker later makes it valid");
	memset(buf, 0, 200);
	tap_ok(mars_rec_scan(buf, 200, 0, 1, &rec) == MARS_SCAN_TORN &&
	       rec.reason == MARS_REASON_ZEROED, "a zeroed region is torn");
	tap_ok(mars_rec_scan(buf, 3, 0, 1, &rec) == MARS_SCAN_TORN,
	       "three zero bytes at the end are torn");
}

static void
test_split_encoding_matches(void)
{
	static uint8_t whole[MARS_REC_OVERHEAD + 104];
	uint8_t hdr_buf[MARS_REC_HDR_BYTES], trl_buf[MARS_REC_TRL_BYTES];
	struct mars_rec_hdr hdr;
	long n;

	make_hdr(&hdr, 3, 100);
	forge_fill(payload, 100, 3);
	n = mars_rec_encode(whole, sizeof(whole), &hdr, payload, 1);
	mars_rec_put_header(hdr_buf, &hdr);
	mars_rec_put_trailer(trl_buf, hdr_buf,
			     mars_rec_payload_hash(payload, 100), 1);
	tap_ok(n == (long)sizeof(whole) &&
	       memcmp(whole, hdr_buf, sizeof(hdr_buf)) == 0 &&
	       memcmp(whole + n - MARS_REC_TRL_BYTES, trl_buf,
		      sizeof(trl_buf)) == 0,
	       "piecewise encoding equals whole-record encoding");
}

static void
test_names(void)
{
	int ok = 1;
	int r;

	for (r = 0; r < MARS_REASON_COUNT; r++)
		ok &= mars_scan_reason_name((enum mars_scan_reason)r) != NULL &&
		      strcmp(mars_scan_reason_name((enum mars_scan_reason)r),
			     "unknown") != 0;
	tap_ok(ok, "every reason has a name");
	tap_ok(strcmp(mars_scan_result_name(MARS_SCAN_SEQ_GAP),
		      "sequence-gap") == 0, "result names are stable");
}

int
main(void)
{
	test_round_trip();
	test_limits();
	test_sequence_of_records();
	test_sequence_gaps();
	test_truncation_everywhere();
	test_bit_flips_everywhere();
	test_corrupt_reasons();
	test_torn();
	test_split_encoding_matches();
	test_names();
	return tap_done();
}
