/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Framing over a transport.  Input is read only while no complete frame is
 * buffered, so one slow consumer never makes us hold more than a frame;
 * output is a queue with a hard bound, so a peer that stops reading costs
 * at most GOSSIP_OUTQ_MAX before it is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/link.h"

void
link_init(struct gossip_link *l, const struct gossip_transport_ops *ops)
{
	memset(l, 0, sizeof(*l));
	l->ops = ops;
}

void
link_reset(struct gossip_link *l)
{
	if (l->t)
		l->ops->close(l->t);
	l->t = NULL;
	l->in_len = 0;
	l->out_len = 0;
}

void
link_release(struct gossip_link *l)
{
	link_reset(l);
	free(l->out);
	l->out = NULL;
	l->out_cap = 0;
}

int
link_send(struct gossip_link *l, const struct gossip_msg *m)
{
	uint8_t frame[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	int n = gossip_encode(m, frame, sizeof(frame));

	if (n < 0)
		return n;
	if (l->out_len + (size_t)n > GOSSIP_OUTQ_MAX)
		return -ENOBUFS;
	if (l->out_len + (size_t)n > l->out_cap) {
		size_t cap = l->out_cap ? l->out_cap : 65536;
		uint8_t *p;

		while (cap < l->out_len + (size_t)n)
			cap *= 2;
		p = realloc(l->out, cap);
		if (!p)
			return -ENOMEM;
		l->out = p;
		l->out_cap = cap;
	}
	memcpy(l->out + l->out_len, frame, (size_t)n);
	l->out_len += (size_t)n;
	return 0;
}

int
link_flush(struct gossip_link *l)
{
	size_t done = 0;
	ssize_t n = 0;

	if (l->out_len == 0)
		return 0;	/* l->out may still be NULL: no pointer arithmetic on it */
	while (done < l->out_len) {
		n = l->ops->write(l->t, l->out + done, l->out_len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	memmove(l->out, l->out + done, l->out_len - done);
	l->out_len -= done;
	l->bytes_out += done;
	return n < 0 && n != -EAGAIN ? (int)n : 0;
}

/* Read until a whole frame is buffered: 1 with @m and its size, 0, or -errno. */
static int
link_fill(struct gossip_link *l, size_t *used, struct gossip_msg *m)
{
	ssize_t n;
	int ret;

	for (;;) {
		ret = gossip_decode(l->in, l->in_len, used, m);
		if (ret != 0)
			return ret;
		n = l->ops->read(l->t, l->in + l->in_len, sizeof(l->in) - l->in_len);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		l->in_len += (size_t)n;
		l->bytes_in += (uint64_t)n;
	}
}

static void
link_consume(struct gossip_link *l, size_t used)
{
	memmove(l->in, l->in + used, l->in_len - used);
	l->in_len -= used;
}

int
link_recv(struct gossip_link *l, struct gossip_msg *m)
{
	size_t used;
	int ret = link_fill(l, &used, m);

	if (ret == 1)
		link_consume(l, used);
	return ret;
}

int
link_recv_inplace(struct gossip_link *l, size_t *consumed, struct gossip_msg *m)
{
	size_t used;
	int ret;

	if (*consumed) {
		link_consume(l, *consumed);
		*consumed = 0;
	}
	ret = link_fill(l, &used, m);
	if (ret == 1)
		*consumed = used;
	return ret;
}
