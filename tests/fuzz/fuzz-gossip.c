// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the gossip frame decoder must take any byte sequence
 * without reading outside it, consume only whole frames it could
 * re-encode to the same bytes, and never accept a frame over the bound.
 * The bytes of a decoded FZDATA or SDATA then go through the piece
 * decoder (protocol 1.3), as a receiver would: it either refuses them or
 * yields exactly raw_len bytes, never touching memory beyond.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/transfer/piece.h"
#include "clusterd/gossip/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	static struct piece_unpacker u;
	const uint8_t *raw;
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
		if (m.type == GOSSIP_FZDATA || m.type == GOSSIP_SDATA) {
			if (!u.zlib)
				piece_unpacker_init(&u, 1);	/* kept: one decoder, as a session */
			ret = piece_unpack(&u, m.enc, m.data, m.data_len, m.raw_len, &raw);
			if (ret != 0 && ret != -EPROTO)
				abort();
			if (ret == 0)	/* touch both ends: ASan checks them */
				sink = raw[0] ^ raw[m.raw_len - 1];
		}
		off += used;
	}
	return 0;
}
