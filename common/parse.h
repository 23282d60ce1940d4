/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict number parsing for command lines and state values: the whole
 * string must be the number, no sign where none is allowed, no overflow.
 * Each returns 0 or -EINVAL (not a number) / -ERANGE (out of range).
 */
#ifndef MARS_COMMON_PARSE_H
#define MARS_COMMON_PARSE_H

#include <stdint.h>

/* Decimal, or hexadecimal with a 0x prefix. */
int parse_u64(const char *s, uint64_t *out);

/* Decimal with an optional leading '-', within [@min, @max]. */
int parse_int_range(const char *s, long long min, long long max, long long *out);

/*
 * A byte count with an optional suffix, as marsadm has always taken them:
 * k m g t p multiply by powers of 1000, K M G T P by powers of 1024, an
 * optional trailing 'B' or "iB" is ignored ("4KiB", "10M", "1g").
 */
int parse_size(const char *s, uint64_t *out_bytes);

#endif /* MARS_COMMON_PARSE_H */
