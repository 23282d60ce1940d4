// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the NBD request headers the engine's NBD front end
 * reads from the kernel (engine/nbd_req.c).  Input: the device size (8
 * bytes, little endian; short inputs use 1 MiB), then a stream of
 * requests, taken as engine/nbd.c's reader takes them: a header, then the
 * payload it says follows, until DISC, a header that ends the stream, or
 * the end of the input.
 *
 * What must hold: a request to run has a known type; a READ or WRITE to
 * run lies inside the device and is at most ENG_NBD_LEN_MAX; a FLUSH to
 * run has neither length nor offset; what nbd.c allocates and reads
 * (buf_bytes, payload_bytes) is bounded by ENG_NBD_LEN_MAX, the payload
 * fits the buffer, and the data a reply carries (len) fits it too; a
 * refused request carries an errno and no length; the reply header echoes
 * the handle with the reply magic.
 */
#include <errno.h>
#include <linux/nbd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/nbd_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_run(const struct eng_nbd_req *r, uint64_t dev_bytes)
{
	switch (r->type) {
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
		if (r->len > ENG_NBD_LEN_MAX || r->off > dev_bytes ||
		    r->len > dev_bytes - r->off || r->buf_bytes != r->len)
			abort();
		break;
	case NBD_CMD_FLUSH:
		if (r->len || r->off || r->buf_bytes || r->payload_bytes)
			abort();
		break;
	default:
		abort();	/* DISC returns 1, anything else is refused */
	}
}

static void
check_req(const uint8_t *h, const struct eng_nbd_req *r, uint64_t dev_bytes)
{
	uint8_t reply[ENG_NBD_REPLY_BYTES];

	if (r->buf_bytes > ENG_NBD_LEN_MAX || r->payload_bytes > r->buf_bytes ||
	    r->len > r->buf_bytes)
		abort();
	if (r->payload_bytes && r->type != NBD_CMD_WRITE)
		abort();
	if (r->refuse) {
		if (r->refuse < 0 || r->len)
			abort();
	} else {
		check_run(r, dev_bytes);
	}
	eng_nbd_reply_put(reply, r, -r->refuse);
	if (reply[0] != 0x67 || reply[1] != 0x44 || reply[2] != 0x66 || reply[3] != 0x98 ||
	    memcmp(reply + 8, h + 8, 8) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t dev_bytes = 1u << 20;
	struct eng_nbd_req r;
	size_t at = 0;
	int ret, i;

	if (size >= 8) {
		for (dev_bytes = 0, i = 7; i >= 0; i--)
			dev_bytes = dev_bytes << 8 | data[i];
		at = 8;
	}
	for (;;) {
		ret = eng_nbd_req_parse(data + at, size - at, dev_bytes, &r);
		if (ret == -ENODATA && size - at >= ENG_NBD_REQ_BYTES)
			abort();
		if (ret != 0 && ret != 1 && ret != -ENODATA && ret != -EPROTO)
			abort();
		if (ret)
			return 0;	/* DISC, the end, or a stream not to trust */
		check_req(data + at, &r, dev_bytes);
		at += ENG_NBD_REQ_BYTES;
		if (r.payload_bytes > size - at)
			return 0;	/* the stream ends inside the payload */
		at += r.payload_bytes;
	}
}
