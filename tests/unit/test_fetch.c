/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile transfer, the parts without a network: the fetch frames of
 * protocol 1.1 (round trips, wire layout, bounds); logfile names are
 * the shared codec's (test_mars_names.c).
 * The token bucket has its own test (test_bucket.c).
 */
#include <errno.h>
#include <string.h>

#include "clusterd/transfer/fetch.h"
#include "clusterd/gossip/proto.h"
#include "tests/unit/gossip_roundtrip.h"
#include "tests/unit/tap.h"

static uint8_t data[GOSSIP_FDATA_MAX + 1];

static uint64_t
le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
test_fetch_frame(void)
{
	struct gossip_msg a = { .type = GOSSIP_FETCH, .offset = 0x0102030405060708ULL,
				.end = UINT64_MAX, .fflags = GOSSIP_FETCH_FOLLOW,
				.digest_len = 65536, .digest = 0xfeedfacecafebeefULL }, b;
	int n;

	strcpy(a.res, "lv0");
	strcpy(a.name, "log-000000001-alpha");
	n = roundtrip(&a, &b);
	tap_ok(n == 4 + 1 + 2 + 3 + 2 + 19 + 8 + 8 + 1 + 4 + 8, "FETCH round trip, size %d", n);
	tap_ok(b.type == GOSSIP_FETCH && strcmp(b.res, "lv0") == 0 &&
	       strcmp(b.name, "log-000000001-alpha") == 0 && b.offset == a.offset &&
	       b.end == UINT64_MAX && b.fflags == GOSSIP_FETCH_FOLLOW &&
	       b.digest_len == 65536 && b.digest == a.digest, "FETCH fields survive");
	tap_ok(le64_at(rt_buf + 4 + 1 + 2 + 3 + 2 + 19) == a.offset &&
	       rt_buf[4 + 1 + 2 + 3 + 2 + 19] == 0x08, "FETCH offset is little-endian on the wire");
	a.digest_len = 65537;
	tap_ok(gossip_encode(&a, rt_buf, sizeof(rt_buf)) == -EINVAL, "digest over 64 KiB not encoded");
	a.digest_len = 0;
	a.fflags = 0x80;
	tap_ok(gossip_encode(&a, rt_buf, sizeof(rt_buf)) == -EINVAL, "unknown FETCH flag not encoded");
	/* and on receipt: patch the flag byte of a valid frame */
	a.fflags = 0;
	n = gossip_encode(&a, rt_buf, sizeof(rt_buf));
	rt_buf[n - 13] = 0x04;	/* 0x01 FOLLOW, 0x02 ZSTD (protocol 1.3) */
	tap_ok(gossip_decode(rt_buf, (size_t)n, &(size_t){ 0 }, &b) == -EPROTO,
	       "unknown FETCH flag refused");
	memcpy(a.name, "x", 2);
	memset(a.res, 'r', sizeof(a.res) - 1);
	a.res[sizeof(a.res) - 1] = '\0';
	tap_ok(roundtrip(&a, &b) > 0, "FETCH resource of 63 bytes passes");
}

static void
test_data_frames(void)
{
	struct gossip_msg a = { .type = GOSSIP_FDATA, .offset = 77, .data = data }, b;
	size_t used;
	int n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	a.data_len = GOSSIP_FDATA_MAX;
	n = roundtrip(&a, &b);
	tap_ok(n == GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX, "a full FDATA is one maximal frame");
	tap_ok(b.offset == 77 && b.data_len == GOSSIP_FDATA_MAX &&
	       b.data == rt_buf + 13 && memcmp(b.data, data, b.data_len) == 0,
	       "FDATA data points into the frame, bytes intact");
	a.data_len = GOSSIP_FDATA_MAX + 1;
	tap_ok(gossip_encode(&a, rt_buf, sizeof(rt_buf)) == -EINVAL, "FDATA over the frame refused");
	a.data_len = 0;
	tap_ok(roundtrip(&a, &b) == 13 && b.data_len == 0, "empty FDATA round trip");
	/* FDATA shorter than its offset field */
	memcpy(rt_buf, "\x05\x00\x00\x00\x09\x01\x02\x03\x04", 9);
	tap_ok(gossip_decode(rt_buf, 9, &used, &b) == -EPROTO, "FDATA without a whole offset refused");

	a = (struct gossip_msg){ .type = GOSSIP_FINFO, .size = 123456789 };
	tap_ok(roundtrip(&a, &b) == 13 && b.size == 123456789, "FINFO round trip");
	a = (struct gossip_msg){ .type = GOSSIP_FEND, .offset = 9, .code = GOSSIP_FETCH_MISMATCH };
	strcpy(a.text, "differs");
	tap_ok(roundtrip(&a, &b) > 0 && b.offset == 9 && b.code == GOSSIP_FETCH_MISMATCH &&
	       strcmp(b.text, "differs") == 0, "FEND round trip");
	a = (struct gossip_msg){ .type = GOSSIP_FSTOP };
	tap_ok(roundtrip(&a, &b) == 5 && b.type == GOSSIP_FSTOP, "FSTOP round trip");
	memcpy(rt_buf, "\x02\x00\x00\x00\x0c\x00", 6);
	tap_ok(gossip_decode(rt_buf, 6, &used, &b) == -EPROTO, "FSTOP with a trailing byte refused");
	tap_ok(strcmp(gossip_type_str(GOSSIP_FDATA), "FDATA") == 0 &&
	       strcmp(gossip_type_str(200), "?") == 0, "type names");
}

int
main(void)
{
	test_fetch_frame();
	test_data_frames();
	return tap_done();
}
