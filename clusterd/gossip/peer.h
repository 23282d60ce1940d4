/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One peer as the daemon's client sees it: a small state machine driven
 * by the poll loop (dispatch) and by time (timer), never blocking.
 *
 *   IDLE --open--> CONNECTING --ready--> HELLO --HELLO ok--> PULLING
 *     ^                                                  END |  ^ NOTIFY,
 *     +---- any failure or timeout (backoff) ----       READY --+ period
 */
#ifndef MARS_CLUSTERD_PEER_H
#define MARS_CLUSTERD_PEER_H

#include <stdint.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/link.h"

/* What all peers share: the configuration and the local tree. */
struct gossip_ctx {
	const struct gossip_config *c;
	struct statefs *sf;
	char uuid[GOSSIP_UUID_MAX + 1];		/* local cluster uuid */
	struct authz az;			/* what peers may write (authz.h) */
};

enum peer_state { PEER_IDLE, PEER_CONNECTING, PEER_HELLO, PEER_PULLING, PEER_READY };

struct peer {
	struct gossip_endpoint ep;
	enum peer_state state;
	struct gossip_link link;
	uint64_t deadline_ms;		/* bound on the current wait */
	uint64_t next_ms;		/* IDLE: next attempt; READY: next keepalive pull */
	unsigned backoff_ms;		/* delay before the next attempt after a failure */
	int notify_pending;		/* NOTIFY arrived while a pull was running */
	int connected_once;		/* for "connected" vs "reconnected" */
	uint64_t batch_refused;		/* refusals in the current batch */
	uint64_t applied, refused;	/* entries merged / refused, all time */
	uint64_t pulls;			/* completed pulls, all time */
	uint64_t full_due_ms;		/* next pull is a full one from then on */
	uint64_t pull_started_ms;
	uint64_t pull_bytes0;		/* link byte counters when the pull began */
	char remote_host[GOSSIP_HOST_MAX + 1];	/* from HELLO */
	char remote_uuid[GOSSIP_UUID_MAX + 1];	/* from HELLO */
	char last_err[1024];		/* last failure, logged once per change */
	int mark;			/* reconcile scratch */
};

void peer_init(struct peer *p, const struct gossip_endpoint *ep,
	       const struct gossip_transport_ops *ops);
void peer_release(struct peer *p);
/* Descriptor and events to poll, or -1 (idle). */
int peer_poll_fd(struct peer *p, short *events);
/* Drive the peer after poll (libssh2 buffers, so whether or not it polled ready). */
void peer_dispatch(struct gossip_ctx *x, struct peer *p);
/* Start attempts, enforce deadlines, send keepalive pulls.  Returns the
 * next time (ms) the peer needs the timer. */
uint64_t peer_timer(struct gossip_ctx *x, struct peer *p, uint64_t now_ms);

#endif /* MARS_CLUSTERD_PEER_H */
