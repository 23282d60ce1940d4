/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gossip frame codec: round trips of every message type, and every
 * way a frame can lie about its lengths refused without reading past the
 * buffer.
 */
#include <errno.h>
#include <string.h>

#include "clusterd/gossip/proto.h"
#include "tests/unit/gossip_roundtrip.h"
#include "tests/unit/tap.h"


static void
test_roundtrips(void)
{
	struct gossip_msg a = { .type = GOSSIP_HELLO, .version = 1, .flags = 0 }, b;
	int n;

	strcpy(a.uuid, "alpha_1700000000.000000001");
	strcpy(a.host, "alpha");
	tap_ok(roundtrip(&a, &b) > 0 && b.version == 1 && !strcmp(b.uuid, a.uuid) &&
	       !strcmp(b.host, "alpha"), "HELLO round trip");
	memset(&a, 0, sizeof(a));
	a.type = GOSSIP_ENTRY;
	a.stamp_ns = 0x0102030405060708ULL;
	strcpy(a.path, "resource-r/primary");
	memset(a.value, 'v', GOSSIP_VALUE_MAX);
	n = roundtrip(&a, &b);
	tap_ok(n > 0 && b.stamp_ns == a.stamp_ns && strlen(b.value) == GOSSIP_VALUE_MAX &&
	       !strcmp(b.path, a.path), "ENTRY round trip with a maximal value");
	tap_ok(rt_buf[5] == 0x08 && rt_buf[12] == 0x01, "ENTRY stamp is little-endian on the wire");
	memset(&a, 0, sizeof(a));
	a.type = GOSSIP_PULL;
	a.mode = GOSSIP_PULL_CHANGES;
	tap_ok(roundtrip(&a, &b) == 6 && b.mode == GOSSIP_PULL_CHANGES, "PULL round trip");
	a.type = GOSSIP_END;
	a.count = 77;
	tap_ok(roundtrip(&a, &b) > 0 && b.count == 77, "END round trip");
	a.type = GOSSIP_NOTIFY;
	tap_ok(roundtrip(&a, &b) == 5 && b.type == GOSSIP_NOTIFY, "NOTIFY round trip");
	a.type = GOSSIP_ERROR;
	a.code = GOSSIP_ERR_UUID;
	strcpy(a.text, "cluster uuid mismatch");
	tap_ok(roundtrip(&a, &b) > 0 && b.code == GOSSIP_ERR_UUID &&
	       !strcmp(b.text, a.text), "ERROR round trip");
}

static void
test_encode_limits(void)
{
	struct gossip_msg a = { .type = GOSSIP_ENTRY };

	memset(a.value, 'v', sizeof(a.value));	/* no NUL within the bound */
	a.value[sizeof(a.value) - 1] = 'v';
	strcpy(a.path, "uuid");
	tap_ok(gossip_encode(&a, rt_buf, sizeof(rt_buf)) == -EINVAL, "over-long value not encoded");
	memset(&a, 0, sizeof(a));
	a.type = GOSSIP_HELLO;
	tap_ok(gossip_encode(&a, rt_buf, 8) == -ENOSPC, "small buffer gives -ENOSPC");
	a.type = 99;
	tap_ok(gossip_encode(&a, rt_buf, sizeof(rt_buf)) == -EINVAL, "unknown type not encoded");
}

static void
test_truncation(void)
{
	struct gossip_msg a = { .type = GOSSIP_ENTRY, .stamp_ns = 5 }, b;
	size_t used;
	int n, bad = 0;

	strcpy(a.path, "ips/ip-alpha");
	strcpy(a.value, "10.0.0.1");
	n = gossip_encode(&a, rt_buf, sizeof(rt_buf));
	for (int i = 0; i < n; i++)
		if (gossip_decode(rt_buf, (size_t)i, &used, &b) != 0)
			bad++;
	tap_ok(n > 0 && bad == 0, "every proper prefix asks for more bytes");
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
test_lies(void)
{
	struct gossip_msg m;
	size_t used;
	uint8_t f[64];

	put32(f, 0);
	tap_ok(gossip_decode(f, 8, &used, &m) == -EMSGSIZE, "zero length refused");
	put32(f, GOSSIP_FRAME_MAX + 1);
	tap_ok(gossip_decode(f, 8, &used, &m) == -EMSGSIZE, "length over the maximum refused");
	put32(f, 1);
	f[4] = 42;
	tap_ok(gossip_decode(f, 5, &used, &m) == -EPROTO, "unknown type refused");
	/* PULL with an unknown mode */
	put32(f, 2);
	f[4] = GOSSIP_PULL;
	f[5] = 7;
	tap_ok(gossip_decode(f, 6, &used, &m) == -EPROTO, "unknown pull mode refused");
	/* NOTIFY with a trailing byte */
	put32(f, 2);
	f[4] = GOSSIP_NOTIFY;
	tap_ok(gossip_decode(f, 6, &used, &m) == -EPROTO, "trailing bytes refused");
	/* ERROR whose string count runs past the frame */
	put32(f, 1 + 2 + 2 + 3);
	f[4] = GOSSIP_ERROR;
	f[5] = 1; f[6] = 0;
	f[7] = 200; f[8] = 0;
	memcpy(f + 9, "abc", 3);
	tap_ok(gossip_decode(f, 12, &used, &m) == -EPROTO, "string past the frame refused");
	/* ERROR with an embedded NUL */
	f[7] = 3;
	f[10] = '\0';
	tap_ok(gossip_decode(f, 12, &used, &m) == -EPROTO, "embedded NUL refused");
	/* HELLO whose host string is over its bound */
	memset(f, 'h', sizeof(f));
	put32(f, 1 + 4 + 2 + 2 + 64);
	f[4] = GOSSIP_HELLO;
	f[5] = 1; f[6] = 0; f[7] = 0; f[8] = 0;
	f[9] = 0; f[10] = 0;	/* empty uuid */
	f[11] = 64; f[12] = 0;	/* host: 64 bytes, bound is 63 */
	tap_ok(gossip_decode(f, 13, &used, &m) == 0, "incomplete over-bound frame waits");
	{
		uint8_t g[80];

		memset(g, 'h', sizeof(g));
		memcpy(g, f, 13);
		tap_ok(gossip_decode(g, 13 + 64, &used, &m) == -EPROTO,
		       "host name over its bound refused");
	}
}

int
main(void)
{
	test_roundtrips();
	test_encode_limits();
	test_truncation();
	test_lies();
	return tap_done();
}
