/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encoder and decoder of gossip frames.  Pure functions over byte buffers:
 * explicit little-endian fields, a cursor that refuses to step past the
 * end, nothing cast onto a struct.  The decoder is the fuzz target
 * (tests/fuzz/fuzz-gossip.c).
 */
#include <errno.h>
#include <string.h>

#include "clusterd/proto.h"

/* A bounded read or write cursor; ok drops to 0 on the first overrun. */
struct cur {
	uint8_t *wbuf;
	const uint8_t *rbuf;
	size_t pos, end;
	int ok;
	int bad;	/* encoding: a value out of its bound, not lack of space */
};

static void
put_bytes(struct cur *c, const void *p, size_t n)
{
	if (!c->ok || n > c->end - c->pos) {
		c->ok = 0;
		return;
	}
	memcpy(c->wbuf + c->pos, p, n);
	c->pos += n;
}

static void
put_le(struct cur *c, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(c, b, (size_t)bytes);
}

static void
put_str(struct cur *c, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max) {
		c->ok = 0;
		c->bad = 1;
		return;
	}
	put_le(c, n, 2);
	put_bytes(c, s, n);
}

static uint64_t
get_le(struct cur *c, int bytes)
{
	uint64_t v = 0;

	if (!c->ok || (size_t)bytes > c->end - c->pos) {
		c->ok = 0;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)c->rbuf[c->pos + (size_t)i] << (8 * i);
	c->pos += (size_t)bytes;
	return v;
}

/* A string into @dst of @max + 1 bytes: bounded, no embedded NUL. */
static void
get_str(struct cur *c, char *dst, size_t max)
{
	size_t n = (size_t)get_le(c, 2);

	dst[0] = '\0';
	if (!c->ok || n > max || n > c->end - c->pos ||
	    memchr(c->rbuf + c->pos, '\0', n)) {
		c->ok = 0;
		return;
	}
	memcpy(dst, c->rbuf + c->pos, n);
	dst[n] = '\0';
	c->pos += n;
}

static void
encode_body(struct cur *c, const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_HELLO:
		put_le(c, m->version, 2);
		put_le(c, m->flags, 2);
		put_str(c, m->uuid, GOSSIP_UUID_MAX);
		put_str(c, m->host, GOSSIP_HOST_MAX);
		break;
	case GOSSIP_PULL:
		put_le(c, m->mode, 1);
		break;
	case GOSSIP_ENTRY:
		put_le(c, m->stamp_ns, 8);
		put_str(c, m->path, GOSSIP_PATH_MAX);
		put_str(c, m->value, GOSSIP_VALUE_MAX);
		break;
	case GOSSIP_END:
	case GOSSIP_ACK:
		put_le(c, m->count, 4);
		break;
	case GOSSIP_NOTIFY:
		break;
	case GOSSIP_ERROR:
		put_le(c, m->code, 2);
		put_str(c, m->text, GOSSIP_TEXT_MAX);
		break;
	default:
		c->ok = 0;
		c->bad = 1;
	}
}

int
gossip_encode(const struct gossip_msg *m, uint8_t *buf, size_t cap)
{
	struct cur c = { .wbuf = buf, .pos = 0, .end = cap, .ok = 1 };
	size_t body;

	put_le(&c, 0, 4);	/* length, filled below */
	put_le(&c, m->type, 1);
	encode_body(&c, m);
	if (!c.ok)
		return c.bad ? -EINVAL : -ENOSPC;
	body = c.pos - GOSSIP_HDR_BYTES;
	if (body > GOSSIP_FRAME_MAX)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		buf[i] = (uint8_t)(body >> (8 * i));
	return (int)c.pos;
}

static void
decode_body(struct cur *c, struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_HELLO:
		m->version = (uint16_t)get_le(c, 2);
		m->flags = (uint16_t)get_le(c, 2);
		get_str(c, m->uuid, GOSSIP_UUID_MAX);
		get_str(c, m->host, GOSSIP_HOST_MAX);
		break;
	case GOSSIP_PULL:
		m->mode = (uint8_t)get_le(c, 1);
		if (m->mode > GOSSIP_PULL_CHANGES)
			c->ok = 0;
		break;
	case GOSSIP_ENTRY:
		m->stamp_ns = get_le(c, 8);
		get_str(c, m->path, GOSSIP_PATH_MAX);
		get_str(c, m->value, GOSSIP_VALUE_MAX);
		break;
	case GOSSIP_END:
	case GOSSIP_ACK:
		m->count = (uint32_t)get_le(c, 4);
		break;
	case GOSSIP_NOTIFY:
		break;
	case GOSSIP_ERROR:
		m->code = (uint16_t)get_le(c, 2);
		get_str(c, m->text, GOSSIP_TEXT_MAX);
		break;
	default:
		c->ok = 0;
	}
}

int
gossip_decode(const uint8_t *buf, size_t len, size_t *used, struct gossip_msg *m)
{
	struct cur c = { .rbuf = buf, .pos = 0, .end = len, .ok = 1 };
	uint64_t body;

	if (len < GOSSIP_HDR_BYTES)
		return 0;
	body = get_le(&c, 4);
	if (body == 0 || body > GOSSIP_FRAME_MAX)
		return -EMSGSIZE;
	if (len - GOSSIP_HDR_BYTES < body)
		return 0;
	c.end = GOSSIP_HDR_BYTES + (size_t)body;
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)get_le(&c, 1);
	decode_body(&c, m);
	if (!c.ok || c.pos != c.end)
		return -EPROTO;
	*used = c.end;
	return 1;
}

const char *
gossip_type_str(int type)
{
	static const char *const names[] = {
		"?", "HELLO", "PULL", "ENTRY", "END", "NOTIFY", "ACK", "ERROR",
	};

	return type >= GOSSIP_HELLO && type <= GOSSIP_ERROR ? names[type] : "?";
}
