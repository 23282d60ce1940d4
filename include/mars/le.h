/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Explicit little-endian load/store over byte buffers.
 *
 * Every on-disk and on-wire integer in MARS is little endian and is read
 * and written through these helpers, never by casting a buffer to a
 * struct: that keeps the format independent of the host's byte order and
 * alignment, in the kernel and in userspace alike.
 */
#ifndef MARS_LE_H
#define MARS_LE_H

#include "mars/platform.h"

static inline void
mars_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
mars_put_le32(uint8_t *p, uint32_t v)
{
	mars_put_le16(p, (uint16_t)v);
	mars_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void
mars_put_le64(uint8_t *p, uint64_t v)
{
	mars_put_le32(p, (uint32_t)v);
	mars_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
mars_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t
mars_get_le32(const uint8_t *p)
{
	return mars_get_le16(p) | (uint32_t)mars_get_le16(p + 2) << 16;
}

static inline uint64_t
mars_get_le64(const uint8_t *p)
{
	return mars_get_le32(p) | (uint64_t)mars_get_le32(p + 4) << 32;
}

#endif /* MARS_LE_H */
