/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bulk-transfer channels: the connections of fetch and sync, and the
 * worker thread that owns them.
 *
 * A channel is a connection of its own over the gossip transport (never
 * a gossip connection, so a long transfer cannot delay gossip), opened
 * with a HELLO that announces one feature (GOSSIP_HELLO_FETCH or _SYNC).
 * Each fetcher and syncer runs one worker thread, because a transfer is
 * long and its disk syncs block.  Inside it everything is sequential and
 * every wait is a poll() bounded by the timeout and woken by the thread's
 * control pipe, so the caller's changes (stop, new work) take effect at
 * once.
 *
 * Failure policy: nothing here logs or remembers a failure.  Calls return
 * -errno (connection setup also a message); retry, backoff and the status
 * are the owner's.
 */
#ifndef MARS_CLUSTERD_CHANNEL_H
#define MARS_CLUSTERD_CHANNEL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/link.h"

struct channel;

/* One worker thread and its control pipe. */
struct channel_thread {
	const struct gossip_config *c;
	pthread_t id;
	int wake[2];			/* control pipe: [0] polled by the thread */
	int joined;			/* the caller's: set by channel_thread_join() */
	/* Called in the thread after a wakeup during a channel's wait (it
	 * drains the pipe itself): nonzero ends the wait with -EINTR. */
	int (*interrupted)(void *arg);
	void *arg;			/* of the thread function and interrupted() */
};

/*
 * Start @fn(@arg) as the worker @t.  libssh2's global init (SSH transport
 * only) is done here, in the caller's thread, because it is not
 * thread-safe.  @c must outlive @t.  Returns 0 or -errno.
 */
int channel_thread_start(struct channel_thread *t, const struct gossip_config *c,
			 void *(*fn)(void *), int (*interrupted)(void *), void *arg);
/* The caller's side: make the thread look at its control block. */
void channel_thread_wake(struct channel_thread *t);
/* The thread's side: empty the control pipe before looking. */
void channel_thread_drain(struct channel_thread *t);
/*
 * Wait until @ch (NULL: none) is ready, the control pipe is written, or
 * @timeout_ms passes.  Returns 1 if the control pipe woke us, else 0.
 */
int channel_thread_wait(struct channel_thread *t, struct channel *ch, int timeout_ms);
/* Wake the thread (told to stop by the caller) and join it.  Idempotent. */
void channel_thread_join(struct channel_thread *t);
/* After channel_thread_join(): close the pipe, undo the libssh2 init. */
void channel_thread_release(struct channel_thread *t);

/* One connection to one peer, used by its worker thread only. */
struct channel {
	struct channel_thread *t;	/* the owner: its pipe ends every wait */
	struct gossip_endpoint ep;	/* the peer */
	struct gossip_link link;	/* link.t == NULL: closed */
	size_t consumed;		/* link_recv_inplace() state */
	uint16_t flags;			/* HELLO flags the peer answered with */
};

/* A closed channel of worker @t; the caller sets ch->ep. */
void channel_init(struct channel *ch, struct channel_thread *t);
/* Close the connection without blame (byte counters are kept). */
void channel_close(struct channel *ch);
void channel_release(struct channel *ch);

/*
 * Transport setup of a closed @ch, bounded by c->timeout_ms.  Returns 0,
 * or -EINTR (woken and interrupted), -ETIMEDOUT or the transport's -errno
 * with the channel closed and @err ("cannot connect: ...", "timed out
 * connecting", the transport's words) saying why.  The message does not
 * name the peer.
 */
int channel_connect(struct channel *ch, char *err, size_t errlen);
/*
 * HELLO as this host of cluster @uuid, announcing @feature and
 * GOSSIP_HELLO_ZSTD (compressed pieces: every channel can take them);
 * the peer must answer as ch->ep.host of the same cluster with @feature
 * set (else "peer does not serve @feature_name"); ch->flags keeps its
 * answer.  Returns 0, or with the channel closed
 * and @err saying why (not for -EINTR): -EINTR, -ETIMEDOUT and transport
 * errors, -EPERM (refused, uuid or host mismatch), -EPROTO (another
 * protocol version), -EPROTONOSUPPORT (no @feature).
 */
int channel_hello(struct channel *ch, const char *uuid, uint16_t feature,
		  const char *feature_name, char *err, size_t errlen);
/* The next frame but NOTIFY, zero-copy (link_recv_inplace()). */
int channel_recv(struct channel *ch, struct gossip_msg *m);
/*
 * Send @m (if any) and wait, bounded by c->timeout_ms, for the next frame
 * into @r.  Returns 0, -EINTR, -ETIMEDOUT or -errno as link_recv(); the
 * channel stays open (the caller decides whether it is of use).
 */
int channel_call(struct channel *ch, const struct gossip_msg *m, struct gossip_msg *r);
/* Words for a -errno of channel_recv() and channel_call(). */
const char *channel_err_str(int ret);

#endif /* MARS_CLUSTERD_CHANNEL_H */
