/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Decoding and checking NBD request headers (see nbd_req.h).  The kernel
 * is trusted, but a malformed frame must never make the front end read or
 * write past a buffer or the device: every length and offset is checked
 * here, before nbd.c allocates or reads the payload.
 */
#include <errno.h>
#include <linux/nbd.h>
#include <string.h>

#include "engine/nbd_req.h"

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The errno values the protocol knows; anything else is EIO. */
static uint32_t
nbd_errno(int err)
{
	switch (-err) {
	case 0: case EPERM: case EIO: case ENOMEM: case EINVAL: case ENOSPC:
	case EOVERFLOW: case ESHUTDOWN:
		return (uint32_t)-err;
	case EOPNOTSUPP:
		return 95;
	}
	return EIO;
}

/* 0: run it; a positive errno: answer with it without running it;
 * -EPROTO: the stream cannot be trusted past this header. */
static int
nbd_req_check(const struct eng_nbd_req *r, uint64_t size_bytes)
{
	int io = r->type == NBD_CMD_READ || r->type == NBD_CMD_WRITE;

	/* A WRITE's payload follows: too long to hold, and we lose the
	 * frame boundary, so the connection ends. */
	if (r->type == NBD_CMD_WRITE && r->len > ENG_NBD_LEN_MAX)
		return -EPROTO;
	if (r->type == NBD_CMD_READ && r->len > ENG_NBD_LEN_MAX)
		return EINVAL;
	if (io && (r->off > size_bytes || r->len > size_bytes - r->off))
		return r->type == NBD_CMD_WRITE ? ENOSPC : EINVAL;
	if (r->type == NBD_CMD_FLUSH && (r->len || r->off))
		return EINVAL;
	if (!io && r->type != NBD_CMD_FLUSH && r->type != NBD_CMD_DISC)
		return EINVAL;
	return 0;
}

int
eng_nbd_req_parse(const uint8_t *buf, size_t len, uint64_t size_bytes,
		  struct eng_nbd_req *r)
{
	uint32_t tf;
	int bad;

	if (len < ENG_NBD_REQ_BYTES)
		return -ENODATA;
	if (get_be32(buf) != NBD_REQUEST_MAGIC)
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	tf = get_be32(buf + 4);
	r->type = (uint16_t)(tf & 0xffff);
	r->flags = (uint16_t)(tf >> 16);
	memcpy(r->handle, buf + 8, 8);
	r->off = get_be64(buf + 16);
	r->len = get_be32(buf + 24);
	bad = nbd_req_check(r, size_bytes);
	if (bad < 0)
		return bad;
	if (!bad && r->type == NBD_CMD_DISC)
		return 1;
	/* A WRITE's payload is read even when refused (it is bounded), to
	 * keep the frame; a READ's buffer only when it will be served. */
	if (r->type == NBD_CMD_WRITE)
		r->payload_bytes = r->buf_bytes = r->len;
	else if (r->type == NBD_CMD_READ && !bad)
		r->buf_bytes = r->len;
	r->refuse = bad;
	if (bad || r->type == NBD_CMD_FLUSH)
		r->len = 0;
	return 0;
}

void
eng_nbd_reply_put(uint8_t *buf, const struct eng_nbd_req *r, int err)
{
	put_be32(buf, NBD_REPLY_MAGIC);
	put_be32(buf + 4, nbd_errno(err));
	memcpy(buf + 8, r->handle, 8);
}
