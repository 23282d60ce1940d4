// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deterministic record generator shared by the forge-log tool and the
 * unit tests.  See forge.h.
 */
#include "forge.h"

/* Lengths chosen to cover padding (1, 7), exact alignment (8), empty
 * records (0), a page, a sector and a large multi-page write. */
static const uint32_t forge_vector_lengths[FORGE_VECTOR_RECORDS] = {
	4096, 512, 1, 7, 8, 12345, 0, 65536,
};

static uint64_t
forge_next(uint64_t *state)
{
	/* xorshift64*: small, deterministic, good enough for test data. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

void
forge_fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t state = seed | 1;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(forge_next(&state) >> 56);
}

uint64_t
forge_payload_seed(unsigned int i, uint64_t seed)
{
	return seed * 1000003ULL + i;
}

void
forge_vector_hdr(unsigned int i, struct mars_rec_hdr *hdr)
{
	uint32_t len = forge_vector_lengths[(i - 1) % FORGE_VECTOR_RECORDS];

	hdr->seq = i;
	hdr->dev_off = (uint64_t)i * 1048576 + (i % 3) * 512;
	hdr->stored_len = len;
	hdr->data_len = len;
	hdr->stamp_ns = FORGE_VECTOR_STAMP0 + (uint64_t)i * 1000;
	hdr->flags = 0;
}

void
forge_generic_hdr(unsigned int i, uint32_t payload, uint64_t dev_bytes,
		  uint64_t seed, struct mars_rec_hdr *hdr)
{
	uint64_t state = forge_payload_seed(i, seed) | 1;
	uint64_t slots = payload ? dev_bytes / payload : 1;

	hdr->seq = i;
	hdr->dev_off = slots ? (forge_next(&state) % slots) * payload : 0;
	hdr->stored_len = payload;
	hdr->data_len = payload;
	hdr->stamp_ns = FORGE_VECTOR_STAMP0 + (uint64_t)i * 1000;
	hdr->flags = 0;
}
