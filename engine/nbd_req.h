/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NBD request header as the engine's NBD front end (nbd.c) reads it
 * from the kernel: decoded from bytes and checked against the protocol
 * and the device, with no I/O, so that a fuzz target
 * (tests/fuzz/fuzz-nbd.c) can drive it.  Request, big endian:
 *
 *   0     4      8                16       24     28
 *   +-----+------+----------------+--------+------+------------
 *   |magic|flags:|     handle     | offset |length| data (WRITE)
 *   |     | type |                |        |      |
 *   +-----+------+----------------+--------+------+------------
 *
 * Reply: magic (4), error (4), handle (8), then the data of a READ
 * that succeeded.  No handshake: the kernel is given its end of the
 * socket with ioctls (nbd.c), so only the transmission phase is spoken.
 */
#ifndef MARS_ENGINE_NBD_REQ_H
#define MARS_ENGINE_NBD_REQ_H

#include <stddef.h>
#include <stdint.h>

#define ENG_NBD_REQ_BYTES	28
#define ENG_NBD_REPLY_BYTES	16
#define ENG_NBD_LEN_MAX		(32u << 20)	/* nbd.ko's max_hw_sectors: 32 MiB */

/* One request header, decoded and judged. */
struct eng_nbd_req {
	uint16_t type;			/* NBD_CMD_* */
	uint16_t flags;			/* NBD_CMD_FLAG_* >> 16 */
	uint8_t handle[8];		/* echoed, never interpreted */
	uint64_t off;			/* device offset, bytes */
	uint32_t len;			/* bytes to read or write; 0 if refused */
	int refuse;			/* errno to answer with, not run; or 0 */
	uint32_t payload_bytes;		/* data following the header in the stream */
	uint32_t buf_bytes;		/* buffer the request needs (payload or READ data) */
};

/*
 * Decode the header in the @len bytes at @buf for a device of
 * @size_bytes.  Returns 0 with *@r filled (r->refuse says whether to run
 * it), 1 for a DISC that is to end the stream, -ENODATA when @len is
 * short of a header, -EPROTO when the stream cannot be trusted past it
 * (bad magic, or a WRITE payload too long to hold: the frame is lost).
 */
int eng_nbd_req_parse(const uint8_t *buf, size_t len, uint64_t size_bytes,
		      struct eng_nbd_req *r);

/* The reply header for @r with -errno @err, into @buf of ENG_NBD_REPLY_BYTES. */
void eng_nbd_reply_put(uint8_t *buf, const struct eng_nbd_req *r, int err);

#endif /* MARS_ENGINE_NBD_REQ_H */
