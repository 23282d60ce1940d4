// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the gossip frame decoder must take any byte sequence
 * without reading outside it, consume only whole frames it could
 * re-encode to the same bytes, and never accept a frame over the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	struct gossip_msg m;
	size_t off = 0, used;
	int steps = 0;

	while (off < size && steps++ < 4096) {
		int ret = gossip_decode(data + off, size - off, &used, &m);

		if (ret != 1)
			break;
		if (used < 5 || used > size - off || used > GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX)
			abort();
		ret = gossip_encode(&m, again, sizeof(again));
		if (ret != (int)used || memcmp(again, data + off, used) != 0)
			abort();
		off += used;
	}
	return 0;
}
