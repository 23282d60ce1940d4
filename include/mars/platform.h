/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The thin shim between the freestanding core (libmars/) and the world it
 * is compiled into.  The core itself includes no libc and no kernel
 * header; it sees only fixed-width integers, memcpy/memset and one
 * checksum primitive, provided here per side.
 *
 * The checksum is xxHash64: the kernel has it built in (lib/xxhash.c,
 * CONFIG_XXHASH) and userspace takes it from Debian's libxxhash, so both
 * sides run well-kept implementations of the same algorithm.
 */
#ifndef MARS_PLATFORM_H
#define MARS_PLATFORM_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/xxhash.h>

static inline uint64_t
mars_xxh64(const void *buf, size_t len, uint64_t seed)
{
	return xxh64(buf, len, seed);
}
#else
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <xxhash.h>

static inline uint64_t
mars_xxh64(const void *buf, size_t len, uint64_t seed)
{
	return (uint64_t)XXH64(buf, len, (XXH64_hash_t)seed);
}
#endif

#endif /* MARS_PLATFORM_H */
