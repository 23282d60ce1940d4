/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frame tests' round trip (test_gossip_proto.c, test_fetch.c): encode
 * @in into rt_buf, decode it back into @out, and insist that the decoder
 * took exactly the bytes the encoder wrote.  Header-only: each test is one
 * program.  Returns the frame's bytes or -errno.
 */
#ifndef MARS_TESTS_GOSSIP_ROUNDTRIP_H
#define MARS_TESTS_GOSSIP_ROUNDTRIP_H

#include <errno.h>
#include <stdint.h>

#include "clusterd/gossip/proto.h"

/* One maximal frame and some slack; tests also forge frames in it. */
static uint8_t rt_buf[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX + 16];

static inline int
roundtrip(const struct gossip_msg *in, struct gossip_msg *out)
{
	size_t used = 0;
	int n = gossip_encode(in, rt_buf, sizeof(rt_buf));

	if (n < 0)
		return n;
	if (gossip_decode(rt_buf, (size_t)n, &used, out) != 1 || used != (size_t)n)
		return -EPROTO;
	return n;
}

#endif /* MARS_TESTS_GOSSIP_ROUNDTRIP_H */
