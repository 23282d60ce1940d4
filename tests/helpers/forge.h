/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deterministic logfile forging for tests: the same inputs always give
 * the same bytes, so the committed test vector can be regenerated and
 * checked byte for byte, here and inside the VM against mars.ko.
 */
#ifndef MARS_TEST_FORGE_H
#define MARS_TEST_FORGE_H

#include <stddef.h>
#include <stdint.h>
#include "mars/logrec.h"

/* Records of the canonical test vector (tests/vectors/basic.log). */
#define FORGE_VECTOR_RECORDS	8
#define FORGE_VECTOR_STAMP0	1700000000000000000ULL

/* Fill @buf with @len pseudo-random bytes derived from @seed. */
void forge_fill(uint8_t *buf, size_t len, uint64_t seed);

/* Header of record @i (1-based) of the canonical vector. */
void forge_vector_hdr(unsigned int i, struct mars_rec_hdr *hdr);

/*
 * Header of record @i of a generic forged log: @payload bytes each,
 * device offsets spread over @dev_bytes, stamps one microsecond apart.
 */
void forge_generic_hdr(unsigned int i, uint32_t payload, uint64_t dev_bytes,
		       uint64_t seed, struct mars_rec_hdr *hdr);

/* Payload seed for record @i, so readers can check payload bytes. */
uint64_t forge_payload_seed(unsigned int i, uint64_t seed);

#endif
