/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gossip serving end's replies, against a real `clusterd --serve` on
 * the tree ROOTS/alpha over the local transport (no sshd), as node beta.
 * Two findings of tests/fuzz/fuzz-serve, each reproduced here:
 *  - a client that sends its requests and closes its end still gets the
 *    answers (the serving end dropped what it had queued at end of input);
 *  - an ACK counts the entries merged from the client's batch only, not
 *    also those the server sent for a PULL earlier in the session;
 *  - flushing a link that never queued anything did arithmetic on its
 *    NULL queue (UBSan, in the sanitizer build of this test).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "clusterd/gossip/link.h"
#include "tests/helpers/local_cluster.h"
#include "tests/unit/tap.h"

#define UUID	"alpha_1700000000.000000001"

static struct local_cluster lc;

static int
make_trees(void)
{
	if (local_cluster_set(&lc, "alpha", "uuid", UUID, "ips/ip-alpha", "127.0.0.1") < 0 ||
	    local_cluster_set(&lc, "alpha", "ips/ip-beta", "127.0.0.2", NULL, NULL) < 0)
		return -1;
	return 0;
}

/* A session with alpha's serving end: HELLO as beta, then @m[0..n). */
static int
session_open(struct gossip_link *l, const struct gossip_msg *m, int n)
{
	struct gossip_endpoint ep = { .host = "alpha" };
	struct gossip_msg hello = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };
	int ret;

	snprintf(hello.uuid, sizeof(hello.uuid), "%s", UUID);
	snprintf(hello.host, sizeof(hello.host), "beta");
	link_init(l, &gossip_transport_local);
	ret = gossip_transport_local.open(&lc.c.tconf, &ep, &l->t);
	if (ret == 0)
		ret = link_send(l, &hello);
	for (int i = 0; ret == 0 && i < n; i++)
		ret = link_send(l, &m[i]);
	while (ret == 0 && l->out_len > 0)
		ret = link_flush(l);
	return ret;
}

/* Read frames until one of @type (1), the end of the stream (0) or 3 s. */
static int
read_until(struct gossip_link *l, int type, struct gossip_msg *m, int *entries)
{
	short events;
	struct pollfd p = { .fd = l->ops->poll_fd(l->t, 0, &events), .events = POLLIN };
	int ret;

	for (;;) {
		while ((ret = link_recv(l, m)) == 1) {
			*entries += m->type == GOSSIP_ENTRY;
			if (m->type == type)
				return 1;
		}
		if (ret < 0)
			return ret == -ECONNRESET ? 0 : ret;
		if (poll(&p, 1, 3000) <= 0)
			return -ETIMEDOUT;
	}
}

static void
test_answers_after_close(void)
{
	struct gossip_msg pull = { .type = GOSSIP_PULL, .mode = GOSSIP_PULL_FULL }, m = { .count = 0 };
	struct gossip_link l;
	short events;
	int entries = 0, ret = session_open(&l, &pull, 1);

	if (ret == 0)
		ret = shutdown(l.ops->poll_fd(l.t, 0, &events), SHUT_WR);
	if (ret == 0)
		ret = read_until(&l, GOSSIP_END, &m, &entries);
	tap_ok(ret == 1 && entries == 3 && m.count == 3,
	       "a client that closed its end after a PULL still gets the entries and END");
	link_release(&l);
}

static void
test_ack_counts_the_push(void)
{
	struct gossip_msg msgs[2] = { { .type = GOSSIP_PULL, .mode = GOSSIP_PULL_FULL },
				      { .type = GOSSIP_END } }, m = { .count = 0 };
	struct gossip_link l;
	int entries = 0, ret = session_open(&l, msgs, 2);

	if (ret == 0)
		ret = read_until(&l, GOSSIP_ACK, &m, &entries);
	tap_ok(ret == 1 && entries == 3, "the PULL was answered");
	tap_ok(ret == 1 && m.count == 0, "an empty push after a PULL is acknowledged with 0 (got %u)",
	       m.count);
	link_release(&l);
}

static void
test_flush_empty(void)
{
	struct gossip_link l;

	link_init(&l, &gossip_transport_local);
	tap_ok(link_flush(&l) == 0 && l.out_len == 0, "a link that never sent flushes as a no-op");
	link_release(&l);
}

int
main(void)
{
	test_flush_empty();
	if (local_cluster_init(&lc, "test_serve_local", make_trees) < 0) {
		tap_ok(0, "%s", lc.why);
		return tap_done();
	}
	test_answers_after_close();
	test_ack_counts_the_push();
	local_cluster_release(&lc, tap_failed);
	return tap_done();
}
