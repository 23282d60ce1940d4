/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A framed message stream over a transport: bounded input buffer (one
 * maximal frame), bounded output queue, byte counters for the benchmark.
 */
#ifndef MARS_CLUSTERD_LINK_H
#define MARS_CLUSTERD_LINK_H

#include <stdint.h>

#include "clusterd/gossip/proto.h"
#include "clusterd/gossip/transport.h"

#define GOSSIP_OUTQ_MAX	(4U << 20)	/* queued output bytes per link */

struct gossip_link {
	const struct gossip_transport_ops *ops;
	struct transport *t;			/* NULL when closed */
	uint8_t in[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	size_t in_len;				/* bytes buffered in in[] */
	uint8_t *out;				/* output queue */
	size_t out_len, out_cap;
	uint64_t bytes_in, bytes_out;		/* since link_init */
};

void link_init(struct gossip_link *l, const struct gossip_transport_ops *ops);
/* Close the transport and drop buffered data (counters are kept). */
void link_reset(struct gossip_link *l);
void link_release(struct gossip_link *l);

/* Queue @m.  Returns 0, -ENOBUFS if the queue would pass GOSSIP_OUTQ_MAX. */
int link_send(struct gossip_link *l, const struct gossip_msg *m);
/* Write queued bytes until done or -EAGAIN.  Returns 0 or -errno. */
int link_flush(struct gossip_link *l);
/*
 * Take the next whole message.  Returns 1 with @m, 0 if none is complete
 * yet, -ECONNRESET at end of stream, -EMSGSIZE/-EPROTO for a bad frame,
 * other -errno from the transport.
 */
int link_recv(struct gossip_link *l, struct gossip_msg *m);
/*
 * link_recv() without copying, for the bulk transfers: the data of FDATA,
 * SSUMS and SDATA points into l->in, which holds the frame until the next
 * call (*@consumed, 0 at first, carries the frame's size to it).  Same
 * returns as link_recv().
 */
int link_recv_inplace(struct gossip_link *l, size_t *consumed, struct gossip_msg *m);

#endif /* MARS_CLUSTERD_LINK_H */
