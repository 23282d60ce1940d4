/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encoder and decoder of gossip frames.  Pure functions over byte buffers:
 * explicit little-endian fields, a cursor that refuses to step past the
 * end, nothing cast onto a struct.  The decoder is the fuzz target
 * (tests/fuzz/fuzz-gossip.c).
 */
#include <errno.h>
#include <string.h>

#include "clusterd/gossip/proto.h"

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

/* A value out of its bound: refused, not a lack of space. */
static void
enc_refuse(struct cur *c)
{
	c->ok = 0;
	c->bad = 1;
}

/* FETCH flags this decoder knows (1.1 FOLLOW, 1.3 ZSTD). */
#define FETCH_FLAGS	(GOSSIP_FETCH_FOLLOW | GOSSIP_FETCH_ZSTD)

/* Protocol 1.1: the fetch messages (docs/protocol.md section 9). */
static void
encode_fetch(struct cur *c, const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_FETCH:
		put_str(c, m->res, GOSSIP_HOST_MAX);
		put_str(c, m->name, GOSSIP_PATH_MAX);
		put_le(c, m->offset, 8);
		put_le(c, m->end, 8);
		put_le(c, m->fflags, 1);
		put_le(c, m->digest_len, 4);
		put_le(c, m->digest, 8);
		if (m->fflags & ~FETCH_FLAGS || m->digest_len > GOSSIP_DIGEST_MAX)
			enc_refuse(c);
		break;
	case GOSSIP_FDATA:
		put_le(c, m->offset, 8);
		if (m->data_len > GOSSIP_FDATA_MAX)
			enc_refuse(c);
		else
			put_bytes(c, m->data, m->data_len);
		break;
	case GOSSIP_FINFO:
		put_le(c, m->size, 8);
		break;
	case GOSSIP_FEND:
		put_le(c, m->offset, 8);
		put_le(c, m->code, 2);
		put_str(c, m->text, GOSSIP_TEXT_MAX);
		break;
	case GOSSIP_FSTOP:
		break;
	default:
		c->ok = 0;
		c->bad = 1;
	}
}

/* ---- full sync (docs/sync.md) ---- */

/* The SSUMS/SDATA bounds both ends check. */
static int
sync_bounds_ok(const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_SSUMS:
		return m->count >= 1 && m->count <= GOSSIP_SSUMS_MAX &&
		       m->data_len == m->count * GOSSIP_SDIGEST_BYTES;
	case GOSSIP_SDATA:
		return m->raw_len >= 1 && m->raw_len <= GOSSIP_SPIECE_MAX &&
		       m->enc <= GOSSIP_SDATA_ZSTD && m->data_len >= 1 &&
		       (m->enc != GOSSIP_SDATA_RAW || m->data_len == m->raw_len);
	case GOSSIP_FZDATA:
		return m->raw_len >= 1 && m->raw_len <= GOSSIP_FDATA_MAX &&
		       m->enc == GOSSIP_SDATA_ZSTD && m->data_len >= 1;
	case GOSSIP_SYNC:
	case GOSSIP_SINFO:
		return !(m->sflags & ~(GOSSIP_SYNC_ZLIB | GOSSIP_SYNC_ZSTD));
	default:
		return 1;
	}
}

static void
encode_sync(struct cur *c, const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_SYNC:
		put_le(c, m->version, 2);
		put_str(c, m->res, GOSSIP_HOST_MAX);
		put_le(c, m->offset, 8);
		put_le(c, m->size, 8);
		put_le(c, m->chunk_bytes, 4);
		put_le(c, m->sflags, 1);
		put_le(c, m->seed, 8);
		break;
	case GOSSIP_SINFO:
		put_le(c, m->version, 2);
		put_le(c, m->size, 8);
		put_le(c, m->chunk_bytes, 4);
		put_le(c, m->sflags, 1);
		break;
	case GOSSIP_SSUMS:
		put_le(c, m->offset, 8);
		put_le(c, m->count, 4);
		put_bytes(c, m->data, m->data_len);
		break;
	case GOSSIP_SDATA:
	case GOSSIP_FZDATA:
		put_le(c, m->offset, 8);
		put_le(c, m->enc, 1);
		put_le(c, m->raw_len, 4);
		put_bytes(c, m->data, m->data_len);
		break;
	case GOSSIP_ZCOST:
		put_le(c, m->cpu_ns, 8);
		break;
	case GOSSIP_SDONE:
		put_le(c, m->offset, 8);
		put_le(c, m->count, 4);
		put_le(c, m->equal, 4);
		break;
	case GOSSIP_SFIN:
		break;
	case GOSSIP_SEND:
		put_le(c, m->code, 2);
		put_str(c, m->text, GOSSIP_TEXT_MAX);
		put_str(c, m->value, GOSSIP_VALUE_MAX);
		break;
	default:
		enc_refuse(c);
		return;
	}
	if (!sync_bounds_ok(m))
		enc_refuse(c);
}

/* The rest of the frame as the message's bytes (SSUMS, SDATA). */
static void
get_rest(struct cur *c, struct gossip_msg *m)
{
	if (!c->ok)
		return;
	m->data = c->rbuf + c->pos;
	m->data_len = (uint32_t)(c->end - c->pos);
	c->pos = c->end;
}

static void
decode_sync(struct cur *c, struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_SYNC:
		m->version = (uint16_t)get_le(c, 2);
		get_str(c, m->res, GOSSIP_HOST_MAX);
		m->offset = get_le(c, 8);
		m->size = get_le(c, 8);
		m->chunk_bytes = (uint32_t)get_le(c, 4);
		m->sflags = (uint8_t)get_le(c, 1);
		m->seed = get_le(c, 8);
		break;
	case GOSSIP_SINFO:
		m->version = (uint16_t)get_le(c, 2);
		m->size = get_le(c, 8);
		m->chunk_bytes = (uint32_t)get_le(c, 4);
		m->sflags = (uint8_t)get_le(c, 1);
		break;
	case GOSSIP_SSUMS:
		m->offset = get_le(c, 8);
		m->count = (uint32_t)get_le(c, 4);
		get_rest(c, m);
		break;
	case GOSSIP_SDATA:
	case GOSSIP_FZDATA:
		m->offset = get_le(c, 8);
		m->enc = (uint8_t)get_le(c, 1);
		m->raw_len = (uint32_t)get_le(c, 4);
		get_rest(c, m);
		break;
	case GOSSIP_ZCOST:
		m->cpu_ns = get_le(c, 8);
		break;
	case GOSSIP_SDONE:
		m->offset = get_le(c, 8);
		m->count = (uint32_t)get_le(c, 4);
		m->equal = (uint32_t)get_le(c, 4);
		break;
	case GOSSIP_SFIN:
		break;
	case GOSSIP_SEND:
		m->code = (uint16_t)get_le(c, 2);
		get_str(c, m->text, GOSSIP_TEXT_MAX);
		get_str(c, m->value, GOSSIP_VALUE_MAX);
		break;
	default:
		c->ok = 0;
		return;
	}
	if (c->ok && !sync_bounds_ok(m))
		c->ok = 0;
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
		if (m->type >= GOSSIP_SYNC)
			encode_sync(c, m);
		else
			encode_fetch(c, m);
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
decode_fetch(struct cur *c, struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_FETCH:
		get_str(c, m->res, GOSSIP_HOST_MAX);
		get_str(c, m->name, GOSSIP_PATH_MAX);
		m->offset = get_le(c, 8);
		m->end = get_le(c, 8);
		m->fflags = (uint8_t)get_le(c, 1);
		m->digest_len = (uint32_t)get_le(c, 4);
		m->digest = get_le(c, 8);
		if (m->fflags & ~FETCH_FLAGS || m->digest_len > GOSSIP_DIGEST_MAX)
			c->ok = 0;
		break;
	case GOSSIP_FDATA:
		m->offset = get_le(c, 8);
		if (!c->ok)
			break;
		/* the rest of the frame is data; the frame bound caps it */
		m->data = c->rbuf + c->pos;
		m->data_len = (uint32_t)(c->end - c->pos);
		c->pos = c->end;
		break;
	case GOSSIP_FINFO:
		m->size = get_le(c, 8);
		break;
	case GOSSIP_FEND:
		m->offset = get_le(c, 8);
		m->code = (uint16_t)get_le(c, 2);
		get_str(c, m->text, GOSSIP_TEXT_MAX);
		break;
	case GOSSIP_FSTOP:
		break;
	default:
		c->ok = 0;
	}
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
		if (m->type >= GOSSIP_SYNC)
			decode_sync(c, m);
		else
			decode_fetch(c, m);
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
		"FETCH", "FDATA", "FINFO", "FEND", "FSTOP",
	};

	/* full sync (docs/sync.md), then protocol 1.3 */
	static const char *const sync_names[] = {
		"SYNC", "SINFO", "SSUMS", "SDATA", "SDONE", "SFIN", "SEND", "ZCOST", "FZDATA",
	};

	if (type >= GOSSIP_SYNC && type <= GOSSIP_FZDATA)
		return sync_names[type - GOSSIP_SYNC];
	return type >= GOSSIP_HELLO && type <= GOSSIP_FSTOP ? names[type] : "?";
}
