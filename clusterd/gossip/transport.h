/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip transports: how a byte stream to a peer's serving end is made.
 * Each implementation file exports exactly one ops object:
 *   gossip_transport_ssh    libssh2 to the peer's OpenSSH, whose forced
 *                           command runs `clusterd --serve` (production)
 *   gossip_transport_local  a child `clusterd --serve` over a socketpair
 *                           (unit tests, benchmarks), or stdin/stdout
 * Every operation is non-blocking: the caller polls poll_fd() and calls
 * again; no operation waits on the network.
 */
#ifndef MARS_CLUSTERD_TRANSPORT_H
#define MARS_CLUSTERD_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Where a peer is. */
struct gossip_endpoint {
	char host[64];		/* the peer's node name (expected in its HELLO) */
	char addr[256];		/* ssh: IPv4 address or DNS name; local: unused */
	unsigned port;		/* ssh: TCP port (22) */
};

/* Transport settings shared by all peers (pointers owned by the caller). */
struct gossip_tconf {
	const char *user;		/* ssh login name ("root") */
	const char *key_path;		/* ssh private key of the cluster */
	const char *pub_path;		/* its public half (key_path + ".pub") */
	const char *known_hosts;	/* OpenSSH known_hosts of the cluster */
	const char *remote_cmd;		/* command requested; the forced one wins */
	const char *local_exe;		/* local: serving program; NULL = stdio */
	const char *local_roots;	/* local: peer HOST's tree is ROOTS/HOST */
	const char *self;		/* local: this host, the serving end's --peer */
};

struct transport;

struct gossip_transport_ops {
	const char *name;
	/* Begin connecting to @ep.  Returns 0 with *@tp set, or -errno. */
	int (*open)(const struct gossip_tconf *cf, const struct gossip_endpoint *ep,
		    struct transport **tp);
	/*
	 * Advance the connection setup.  Returns 1 when the stream is ready,
	 * 0 while in progress (poll and call again), <0 on failure with a
	 * lowercase reason in @err.
	 */
	int (*connect_step)(struct transport *t, char *err, size_t errlen);
	/* The descriptor to poll and the events wanted (@want_write: output queued). */
	int (*poll_fd)(struct transport *t, int want_write, short *events);
	/* >0 bytes, 0 end of stream, -EAGAIN nothing now, other -errno. */
	ssize_t (*read)(struct transport *t, void *buf, size_t len);
	/* >0 bytes taken, -EAGAIN none now, other -errno. */
	ssize_t (*write)(struct transport *t, const void *buf, size_t len);
	void (*close)(struct transport *t);
};

extern const struct gossip_transport_ops gossip_transport_ssh;
extern const struct gossip_transport_ops gossip_transport_local;

#endif /* MARS_CLUSTERD_TRANSPORT_H */
