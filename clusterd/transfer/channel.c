/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bulk-transfer channels and their worker thread (channel.h).  Every wait
 * here polls the channel and the control pipe together and asks the owner
 * (interrupted()) only when the pipe woke us, so a stop or new work ends
 * a connect or a call at once, and an idle wait costs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "clusterd/transfer/channel.h"

/* ---- the worker thread -------------------------------------------------- */

static void
ssh_exit(const struct gossip_config *c)
{
	if (c->transport == &gossip_transport_ssh)
		libssh2_exit();
}

int
channel_thread_start(struct channel_thread *t, const struct gossip_config *c,
		     void *(*fn)(void *), int (*interrupted)(void *), void *arg)
{
	int ret;

	t->c = c;
	t->joined = 0;
	t->interrupted = interrupted;
	t->arg = arg;
	/* libssh2's global init is not thread-safe: done here, in the caller's thread */
	if (c->transport == &gossip_transport_ssh && libssh2_init(0) != 0)
		return -ENOMEM;
	if (pipe2(t->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		ret = -errno;
		goto out_ssh;
	}
	ret = -pthread_create(&t->id, NULL, fn, arg);
	if (ret < 0)
		goto out_pipe;
	return 0;
out_pipe:
	close(t->wake[0]);
	close(t->wake[1]);
out_ssh:
	ssh_exit(c);
	return ret;
}

void
channel_thread_wake(struct channel_thread *t)
{
	char b = 1;

	if (write(t->wake[1], &b, 1) < 0) {
		/* full pipe: a wakeup is pending already */
	}
}

void
channel_thread_drain(struct channel_thread *t)
{
	char b[64];

	while (read(t->wake[0], b, sizeof(b)) > 0)
		;
}

int
channel_thread_wait(struct channel_thread *t, struct channel *ch, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = t->wake[0], .events = POLLIN }, { .fd = -1 } };

	if (ch && ch->link.t)
		p[1].fd = ch->link.ops->poll_fd(ch->link.t, ch->link.out_len > 0, &p[1].events);
	if (poll(p, 2, timeout_ms < 0 ? 0 : timeout_ms) < 0)
		return 0;
	return (p[0].revents & POLLIN) != 0;
}

void
channel_thread_join(struct channel_thread *t)
{
	if (t->joined)
		return;
	channel_thread_wake(t);
	pthread_join(t->id, NULL);
	t->joined = 1;
}

void
channel_thread_release(struct channel_thread *t)
{
	close(t->wake[0]);
	close(t->wake[1]);
	ssh_exit(t->c);
}

/* ---- one channel ---------------------------------------------------------- */

void
channel_init(struct channel *ch, struct channel_thread *t)
{
	memset(ch, 0, sizeof(*ch));
	ch->t = t;
	link_init(&ch->link, t->c->transport);
}

void
channel_close(struct channel *ch)
{
	link_reset(&ch->link);
	ch->consumed = 0;
	ch->flags = 0;
}

void
channel_release(struct channel *ch)
{
	link_release(&ch->link);
	ch->consumed = 0;
}

/* Wait for @ch until @deadline_ms.  1 if the owner must stop waiting. */
static int
channel_wait(struct channel *ch, uint64_t deadline_ms)
{
	return channel_thread_wait(ch->t, ch, (int)(deadline_ms - gossip_now_ms())) &&
	       ch->t->interrupted(ch->t->arg);
}

int
channel_connect(struct channel *ch, char *err, size_t errlen)
{
	uint64_t deadline = gossip_now_ms() + ch->t->c->timeout_ms;
	int ret;

	snprintf(err, errlen, "connection setup failed");
	ret = ch->link.ops->open(&ch->t->c->tconf, &ch->ep, &ch->link.t);
	if (ret < 0) {
		ch->link.t = NULL;
		snprintf(err, errlen, "cannot connect: %s", strerror(-ret));
		return ret;
	}
	while ((ret = ch->link.ops->connect_step(ch->link.t, err, errlen)) == 0) {
		if (gossip_now_ms() >= deadline) {
			snprintf(err, errlen, "timed out connecting");
			ret = -ETIMEDOUT;
			break;
		}
		if (channel_wait(ch, deadline)) {
			ret = -EINTR;
			break;
		}
	}
	if (ret < 0) {
		channel_close(ch);
		return ret;
	}
	ch->consumed = 0;
	return 0;
}

int
channel_call(struct channel *ch, const struct gossip_msg *m, struct gossip_msg *r)
{
	uint64_t deadline = gossip_now_ms() + ch->t->c->timeout_ms;
	int ret = m ? link_send(&ch->link, m) : 0;

	while (ret == 0) {
		ret = link_flush(&ch->link);
		if (ret == 0)
			ret = channel_recv(ch, r);
		if (ret == 1)
			return 0;
		if (ret < 0)
			break;
		if (gossip_now_ms() >= deadline)
			return -ETIMEDOUT;
		if (channel_wait(ch, deadline))
			return -EINTR;
	}
	return ret;
}

const char *
channel_err_str(int ret)
{
	return ret == -ECONNRESET ? "connection closed by peer" :
	       ret == -EMSGSIZE ? "oversized frame" :
	       ret == -EPROTO ? "malformed frame" :
	       ret == -ETIMEDOUT ? "timed out" : strerror(-ret);
}

/* The peer's HELLO @r against ours: 0, or -errno with @err saying why. */
static int
hello_check(const struct channel *ch, const struct gossip_msg *r, const char *uuid,
	    uint16_t feature, const char *feature_name, char *err, size_t errlen)
{
	if (r->type == GOSSIP_ERROR) {
		snprintf(err, errlen, "refused by peer: %s", r->text);
		return -EPERM;
	}
	if (r->type != GOSSIP_HELLO || r->version != GOSSIP_PROTO_VERSION) {
		snprintf(err, errlen, "peer speaks another protocol version");
		return -EPROTO;
	}
	if (strcmp(r->uuid, uuid) != 0) {
		snprintf(err, errlen, "cluster uuid mismatch: peer is in '%s'", r->uuid);
		return -EPERM;
	}
	if (strcmp(r->host, ch->ep.host) != 0) {
		snprintf(err, errlen, "peer answers as '%s'", r->host);
		return -EPERM;
	}
	if (!(r->flags & feature)) {
		snprintf(err, errlen, "peer does not serve %s", feature_name);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int
channel_hello(struct channel *ch, const char *uuid, uint16_t feature,
	      const char *feature_name, char *err, size_t errlen)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION,
				.flags = feature | GOSSIP_HELLO_ZSTD }, r;
	int ret;

	snprintf(m.uuid, sizeof(m.uuid), "%s", uuid);
	snprintf(m.host, sizeof(m.host), "%s", ch->t->c->host);
	ret = channel_call(ch, &m, &r);
	if (ret < 0)
		snprintf(err, errlen, "%s", channel_err_str(ret));
	else
		ret = hello_check(ch, &r, uuid, feature, feature_name, err, errlen);
	if (ret < 0)
		channel_close(ch);
	else
		ch->flags = r.flags;
	return ret;
}

/*
 * A serving end may announce tree changes (NOTIFY) to any client past
 * HELLO; older ones did so before a fetch or sync request too.  These
 * sessions never pull, so the hint is dropped here.
 */
int
channel_recv(struct channel *ch, struct gossip_msg *m)
{
	int ret;

	while ((ret = link_recv_inplace(&ch->link, &ch->consumed, m)) == 1 &&
	       m->type == GOSSIP_NOTIFY)
		;
	return ret;
}
