/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client side of gossip for one peer.  Every received entry goes
 * through statefs_merge() as written by the peer's host name, so a peer
 * can change only what the ownership rules let that host change; the name
 * itself is checked against the one its address is registered under.
 *
 * Failure policy: any error, refusal by the peer or missed deadline
 * closes the connection and schedules a new attempt after a doubling
 * backoff; a failure is logged when it differs from the previous one, so
 * a dead peer does not fill the journal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "clusterd/gossip/peer.h"

#define REFUSALS_LOGGED	10	/* per batch; the rest only counted */

/*
 * Anti-entropy: a change pull becomes a full one once a minute.  The
 * serving end's change feed is meant to miss nothing, but if it ever does
 * (a watch the kernel refused, a bug), the miss heals within a minute
 * instead of lasting until the next reconnect.  Merging drops what is not
 * newer, so the cost is one listing of the peer's names per minute.
 */
#define FULL_PULL_EVERY_MS	60000

void
peer_init(struct peer *p, const struct gossip_endpoint *ep,
	  const struct gossip_transport_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->ep = *ep;
	link_init(&p->link, ops);
}

void
peer_release(struct peer *p)
{
	link_release(&p->link);
}

static void
peer_fail(struct gossip_ctx *x, struct peer *p, const char *why)
{
	const struct gossip_config *c = x->c;
	char e1[LOG_ESC_BYTES], e2[LOG_ESC_BYTES];

	/* @why may quote the peer's own error text */
	log_escape(e1, sizeof(e1), p->ep.addr);
	log_escape(e2, sizeof(e2), why);
	if (strcmp(why, p->last_err) != 0)
		log_warnx("peer '%s' (%s): %s", p->ep.host, e1, e2);
	else
		log_debug("peer '%s' (%s): %s", p->ep.host, e1, e2);
	snprintf(p->last_err, sizeof(p->last_err), "%s", why);
	link_reset(&p->link);
	p->state = PEER_IDLE;
	p->next_ms = gossip_now_ms() + p->backoff_ms;
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : c->backoff_min_ms;
	if (p->backoff_ms > c->backoff_max_ms)
		p->backoff_ms = c->backoff_max_ms;
}

static void
peer_failf(struct gossip_ctx *x, struct peer *p, const char *fmt, const char *a,
	   const char *b)
{
	char why[1024];

	snprintf(why, sizeof(why), fmt, a, b);
	peer_fail(x, p, why);
}

static int
peer_send(struct gossip_ctx *x, struct peer *p, const struct gossip_msg *m)
{
	int ret = link_send(&p->link, m);

	if (ret < 0)
		peer_fail(x, p, strerror(-ret));
	return ret;
}

static void
peer_pull(struct gossip_ctx *x, struct peer *p, int mode)
{
	struct gossip_msg m = { .type = GOSSIP_PULL };
	uint64_t now = gossip_now_ms();

	if (now >= p->full_due_ms)
		mode = GOSSIP_PULL_FULL;
	if (mode == GOSSIP_PULL_FULL)
		p->full_due_ms = now + FULL_PULL_EVERY_MS;
	m.mode = (uint8_t)mode;
	if (peer_send(x, p, &m) < 0)
		return;
	p->state = PEER_PULLING;
	p->notify_pending = 0;
	p->batch_refused = 0;
	p->pull_started_ms = gossip_now_ms();
	p->pull_bytes0 = p->link.bytes_in + p->link.bytes_out;
	p->deadline_ms = p->pull_started_ms + x->c->timeout_ms;
}

static void
peer_start(struct gossip_ctx *x, struct peer *p)
{
	char err[256];
	int ret = p->link.ops->open(&x->c->tconf, &p->ep, &p->link.t);

	if (ret < 0) {
		snprintf(err, sizeof(err), "cannot connect: %s", strerror(-ret));
		p->link.t = NULL;
		peer_fail(x, p, err);
		return;
	}
	p->state = PEER_CONNECTING;
	p->deadline_ms = gossip_now_ms() + x->c->timeout_ms;
}

static void
peer_connected(struct gossip_ctx *x, struct peer *p)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };

	snprintf(m.uuid, sizeof(m.uuid), "%s", x->uuid);
	snprintf(m.host, sizeof(m.host), "%s", x->c->host);
	if (peer_send(x, p, &m) < 0)
		return;
	p->state = PEER_HELLO;
	p->deadline_ms = gossip_now_ms() + x->c->timeout_ms;
}

static void
peer_hello(struct gossip_ctx *x, struct peer *p, const struct gossip_msg *m)
{
	if (m->version != GOSSIP_PROTO_VERSION)
		return peer_fail(x, p, "peer speaks another protocol version");
	if (strcmp(m->uuid, x->uuid) != 0)
		return peer_failf(x, p, "cluster uuid mismatch: peer is in '%s', we are in '%s'",
				  m->uuid, x->uuid);
	if (strcmp(m->host, p->ep.host) != 0)
		return peer_failf(x, p, "peer answers as '%s', registered as '%s'",
				  m->host, p->ep.host);
	snprintf(p->remote_host, sizeof(p->remote_host), "%s", m->host);
	snprintf(p->remote_uuid, sizeof(p->remote_uuid), "%s", m->uuid);
	log_info("peer '%s' (%s): %sconnected", p->ep.host, p->ep.addr,
		 p->connected_once ? "re" : "");
	p->connected_once = 1;
	p->last_err[0] = '\0';
	p->backoff_ms = 0;
	peer_pull(x, p, GOSSIP_PULL_FULL);
}

static void
peer_entry(struct gossip_ctx *x, struct peer *p, const struct gossip_msg *m)
{
	int ret = authz_merge(&x->az, p->ep.host, m->path, m->value, m->stamp_ns);

	if (ret > 0)
		p->applied++;
	if (ret < 0) {
		p->refused++;
		p->batch_refused++;
	}
}

static void
peer_end(struct gossip_ctx *x, struct peer *p, const struct gossip_msg *m)
{
	uint64_t now = gossip_now_ms();
	unsigned refused;

	p->applied += authz_batch_end(&x->az, &refused);
	p->refused += refused;
	p->batch_refused += refused;
	if (p->batch_refused > REFUSALS_LOGGED)
		log_warnx("peer '%s': %llu entries refused in one batch", p->ep.host,
			  (unsigned long long)p->batch_refused);
	/* bench/gossip-bench reads this line */
	log_debug("peer '%s': pull of %u entries, %llu bytes, in %llu ms", p->ep.host,
		  m->count, (unsigned long long)(p->link.bytes_in + p->link.bytes_out -
						 p->pull_bytes0),
		  (unsigned long long)(now - p->pull_started_ms));
	p->pulls++;
	p->state = PEER_READY;
	p->next_ms = now + x->c->period_ms;
	if (p->notify_pending)
		peer_pull(x, p, GOSSIP_PULL_CHANGES);
}

static void
peer_msg(struct gossip_ctx *x, struct peer *p, const struct gossip_msg *m)
{
	if (m->type == GOSSIP_ERROR)
		return peer_failf(x, p, "refused by peer: %s%s", m->text, "");
	if (m->type == GOSSIP_HELLO && p->state == PEER_HELLO)
		return peer_hello(x, p, m);
	if (m->type == GOSSIP_ENTRY && p->state == PEER_PULLING)
		return peer_entry(x, p, m);
	if (m->type == GOSSIP_END && p->state == PEER_PULLING)
		return peer_end(x, p, m);
	if (m->type == GOSSIP_NOTIFY && p->state == PEER_READY)
		return peer_pull(x, p, GOSSIP_PULL_CHANGES);
	if (m->type == GOSSIP_NOTIFY && p->state == PEER_PULLING) {
		p->notify_pending = 1;
		return;
	}
	peer_failf(x, p, "unexpected %s message%s", gossip_type_str(m->type), "");
}

int
peer_poll_fd(struct peer *p, short *events)
{
	if (p->state == PEER_IDLE || !p->link.t)
		return -1;
	return p->link.ops->poll_fd(p->link.t, p->link.out_len > 0, events);
}

/*
 * Writing may make libssh2 read (window adjustments) and keep incoming data
 * in its own buffer, where poll() cannot see it; so reading and writing
 * alternate until neither makes progress (bounded).
 */
static void
peer_exchange(struct gossip_ctx *x, struct peer *p)
{
	struct gossip_msg m;
	int ret, got, rounds = 0;

	do {
		ret = link_flush(&p->link);
		if (ret < 0)
			return peer_fail(x, p, strerror(-ret));
		got = 0;
		while (p->state > PEER_CONNECTING && (ret = link_recv(&p->link, &m)) == 1) {
			peer_msg(x, p, &m);
			got = 1;
		}
		if (p->state == PEER_IDLE)
			return;
		if (ret < 0)
			return peer_fail(x, p, ret == -ECONNRESET ? "connection closed by peer" :
					 ret == -EMSGSIZE ? "oversized frame" :
					 ret == -EPROTO ? "malformed frame" : strerror(-ret));
	} while (got && ++rounds < 16);
	ret = link_flush(&p->link);
	if (ret < 0)
		peer_fail(x, p, strerror(-ret));
}

void
peer_dispatch(struct gossip_ctx *x, struct peer *p)
{
	char err[256] = "connection setup failed";
	int ret;

	if (p->state == PEER_CONNECTING) {
		ret = p->link.ops->connect_step(p->link.t, err, sizeof(err));
		if (ret < 0)
			return peer_fail(x, p, err);
		if (ret == 0)
			return;
		peer_connected(x, p);
	}
	if (p->state > PEER_CONNECTING)
		peer_exchange(x, p);
}

uint64_t
peer_timer(struct gossip_ctx *x, struct peer *p, uint64_t now_ms)
{
	switch (p->state) {
	case PEER_IDLE:
		if (now_ms >= p->next_ms)
			peer_start(x, p);
		break;
	case PEER_READY:
		if (now_ms >= p->next_ms)
			peer_pull(x, p, GOSSIP_PULL_CHANGES);
		break;
	default:
		if (now_ms >= p->deadline_ms)
			peer_fail(x, p, "timed out");
		break;
	}
	if (p->state == PEER_IDLE || p->state == PEER_READY)
		return p->next_ms;
	return p->deadline_ms;
}
