/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SSH transport: libssh2 in non-blocking mode to the peer's ordinary
 * OpenSSH server.  The peer's authorized_keys entry for the cluster key
 * forces `clusterd --serve`, so whatever command we ask for, the stream
 * reaches the serving end and nothing else.
 *
 * Setup is a chain of small steps (name lookup, TCP connect, SSH
 * handshake, host key check, public key auth, channel open, exec), each of
 * which may answer "again" and is resumed when its descriptor is ready:
 * one peer stuck in any step costs the daemon nothing but a poll slot.
 * Time bounds are kept by the caller.
 *
 * Names: a numeric address is taken at once; anything else is looked up
 * with glibc's getaddrinfo_a(), whose resolver thread wakes a pipe that
 * the caller polls, so a slow DNS server never stalls the poll loop.  The
 * lookup is shared with that thread until it has notified us (struct
 * ssh_lookup, reference counted); a transport closed earlier leaves the
 * last release to the thread.  Every address of the answer
 * (IPv4 and IPv6, in the resolver's order) is tried in turn.
 *
 * Trust, as OpenSSH checks it: the host key must be listed in the
 * cluster's known_hosts for the address (and port) connected to, or, when
 * a name was dialled, for that name as written; a listed key that differs
 * under either is refused as changed.  Names looked up on the way (reverse
 * lookups, aliases) are never compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "clusterd/gossip/transport.h"

enum ssh_step { S_RESOLVE, S_TCP, S_HANDSHAKE, S_AUTH, S_CHANNEL, S_EXEC, S_READY };

/* One getaddrinfo_a() request, shared with the resolver's notify thread. */
struct ssh_lookup {
	struct gaicb cb;		/* cb.ar_result: the answer, freed with us */
	struct addrinfo hints;
	char name[256];
	char port[8];
	int wake_fd;			/* write end; the notify thread's, it closes it */
	atomic_int refs;		/* the transport's and the notify thread's */
};

struct transport {
	const struct gossip_tconf *cf;
	struct gossip_endpoint ep;
	enum ssh_step step;
	int fd;				/* the TCP socket, or -1 */
	int wait_fd;			/* S_RESOLVE: the lookup's read end, or -1 */
	struct ssh_lookup *lookup;	/* a name's lookup, or NULL */
	struct addrinfo *numeric;	/* a numeric address's answer, or NULL */
	struct addrinfo *next;		/* the next address to try */
	char addr[64];			/* the address connected to, numeric */
	int last_err;			/* errno of the last address tried */
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
};

static int ssh_lib_ready;

static void
lookup_put(struct ssh_lookup *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->cb.ar_result)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

/* The resolver's notify thread: wake the poll loop, drop its reference. */
static void
lookup_done(union sigval sv)
{
	struct ssh_lookup *l = sv.sival_ptr;
	char c = 1;

	/* No SIGPIPE if the transport is gone; a full buffer already woke it. */
	(void)!send(l->wake_fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(l->wake_fd);
	lookup_put(l);
}

static int
lookup_start(struct transport *t)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD,
				.sigev_notify_function = lookup_done };
	struct gaicb *list[1];
	struct ssh_lookup *l = calloc(1, sizeof(*l));
	int p[2], ret;

	if (!l)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) < 0) {
		ret = -errno;
		free(l);
		return ret;
	}
	snprintf(l->name, sizeof(l->name), "%s", t->ep.addr);
	snprintf(l->port, sizeof(l->port), "%u", t->ep.port);
	l->hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: an address we cannot reach fails fast, and the
	 * next one is tried. */
	l->hints.ai_flags = AI_NUMERICSERV;
	l->cb.ar_name = l->name;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	l->wake_fd = p[1];
	atomic_init(&l->refs, 2);
	sev.sigev_value.sival_ptr = l;
	list[0] = &l->cb;
	ret = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (ret != 0) {
		close(p[0]);
		close(p[1]);
		free(l);
		return ret == EAI_MEMORY ? -ENOMEM : -EAGAIN;
	}
	t->lookup = l;
	t->wait_fd = p[0];
	t->step = S_RESOLVE;
	return 0;
}

/*
 * Release the lookup.  One still under way is not cancelled (glibc would
 * leak its notification record): it ends within the resolver's own
 * timeouts, and its notify thread drops the last reference.
 */
static void
lookup_stop(struct transport *t)
{
	if (!t->lookup)
		return;
	close(t->wait_fd);
	t->wait_fd = -1;
	lookup_put(t->lookup);
	t->lookup = NULL;
}

/* Connect to the next address of the answer; 0 with t->fd set, or -errno. */
static int
tcp_next(struct transport *t)
{
	int one = 1;

	for (; t->next; t->next = t->next->ai_next) {
		struct addrinfo *ai = t->next;

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, t->addr, sizeof(t->addr), NULL, 0,
				NI_NUMERICHOST) != 0)
			snprintf(t->addr, sizeof(t->addr), "?");
		t->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t->fd < 0) {
			t->last_err = errno;
			continue;
		}
		/* Gossip messages are small and latency is the point: no Nagle. */
		setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			t->next = ai->ai_next;
			t->step = S_TCP;
			return 0;
		}
		t->last_err = errno;
		close(t->fd);
		t->fd = -1;
	}
	return -(t->last_err ? t->last_err : EADDRNOTAVAIL);
}

static int
tcp_failed(struct transport *t, char *err, size_t errlen)
{
	if (strcmp(t->addr, t->ep.addr) == 0)
		snprintf(err, errlen, "cannot connect to %s port %u: %s", t->ep.addr,
			 t->ep.port, strerror(t->last_err));
	else
		snprintf(err, errlen, "cannot connect to '%s' (%s) port %u: %s", t->ep.addr,
			 t->addr, t->ep.port, strerror(t->last_err));
	return -t->last_err;
}

/* A numeric address needs no lookup; a name waits for the resolver. */
static int
tcp_start(struct transport *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char port[16];

	snprintf(port, sizeof(port), "%u", t->ep.port);
	if (getaddrinfo(t->ep.addr, port, &hints, &t->numeric) != 0) {
		t->numeric = NULL;
		return lookup_start(t);
	}
	t->next = t->numeric;
	return tcp_next(t);
}

static int
resolve_step(struct transport *t, char *err, size_t errlen)
{
	int ret = gai_error(&t->lookup->cb);

	if (ret == EAI_INPROGRESS)
		return 0;
	if (ret != 0) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", t->ep.addr,
			 gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	t->next = t->lookup->cb.ar_result;
	ret = tcp_next(t);
	if (ret < 0) {
		t->last_err = -ret;
		return tcp_failed(t, err, errlen);
	}
	return 1;
}

static int
ssh_open(const struct gossip_tconf *cf, const struct gossip_endpoint *ep,
	 struct transport **tp)
{
	struct transport *t;
	int ret;

	if (!ssh_lib_ready) {
		if (libssh2_init(0) != 0)
			return -ENOMEM;
		ssh_lib_ready = 1;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cf = cf;
	t->ep = *ep;
	t->fd = -1;
	t->wait_fd = -1;
	ret = tcp_start(t);
	if (ret < 0) {
		if (t->numeric)
			freeaddrinfo(t->numeric);
		free(t);
		return ret;
	}
	*tp = t;
	return 0;
}

static int
tcp_step(struct transport *t, char *err, size_t errlen)
{
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int soerr = 0;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		/* Try the answer's next address before giving up. */
		close(t->fd);
		t->fd = -1;
		t->last_err = soerr;
		if (tcp_next(t) == 0)
			return 1;
		return tcp_failed(t, err, errlen);
	}
	t->s = libssh2_session_init();
	if (!t->s)
		return -ENOMEM;
	libssh2_session_set_blocking(t->s, 0);
	t->step = S_HANDSHAKE;
	return 1;
}

static int
knownhost_type(int hostkey_type)
{
	switch (hostkey_type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:	return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:	return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default:				return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

/* libssh2's verdict on @key under the known_hosts name @name. */
static int
kh_verdict(LIBSSH2_KNOWNHOSTS *kh, const char *name, unsigned port, const char *key,
	   size_t len, int type)
{
	return libssh2_knownhost_checkp(kh, name, (int)port, key, len,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_type(type), NULL);
}

/*
 * The key must be listed for the address connected to or for the name
 * dialled, and listed differently under neither (see the top comment).
 */
static int
hostkey_verdict(struct transport *t, LIBSSH2_KNOWNHOSTS *kh, const char **changed)
{
	const char *key;
	size_t len;
	int type, by_addr, by_name = LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;

	key = libssh2_session_hostkey(t->s, &len, &type);
	if (!key)
		return -EPROTO;
	by_addr = kh_verdict(kh, t->addr, t->ep.port, key, len, type);
	if (strcmp(t->addr, t->ep.addr) != 0)
		by_name = kh_verdict(kh, t->ep.addr, t->ep.port, key, len, type);
	*changed = by_addr == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ? t->addr :
		   by_name == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ? t->ep.addr : NULL;
	if (*changed)
		return -EKEYREJECTED;
	if (by_addr == LIBSSH2_KNOWNHOST_CHECK_MATCH || by_name == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	return -ENOKEY;
}

static int
hostkey_check(struct transport *t, char *err, size_t errlen)
{
	const char *kh_path = t->cf->known_hosts, *changed = NULL;
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(t->s);
	int ret;

	if (!kh) {
		snprintf(err, errlen, "no host key from %s", t->addr);
		return -EPROTO;
	}
	if (libssh2_knownhost_readfile(kh, kh_path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		snprintf(err, errlen, "cannot read known hosts '%s'; create it with "
			 "'ssh-keyscan -p %u %s >> %s'", kh_path, t->ep.port, t->addr, kh_path);
		ret = -ENOENT;
		goto out;
	}
	ret = hostkey_verdict(t, kh, &changed);
	if (ret == -EPROTO)
		snprintf(err, errlen, "no host key from %s", t->addr);
	else if (ret == -EKEYREJECTED)
		snprintf(err, errlen, "host key of %s (%s) CHANGED, refusing; if the change "
			 "is legitimate run 'ssh-keygen -R %s -f %s' and "
			 "'ssh-keyscan -p %u %s >> %s'", t->ep.host, changed, changed,
			 kh_path, t->ep.port, changed, kh_path);
	else if (ret == -ENOKEY)
		snprintf(err, errlen, "host key of %s (%s) unknown, refusing; verify it and "
			 "accept with 'ssh-keyscan -p %u %s >> %s'", t->ep.host, t->addr,
			 t->ep.port, t->addr, kh_path);
	if (ret == -ENOKEY)
		ret = -EKEYREJECTED;
out:
	libssh2_knownhost_free(kh);
	return ret;
}

static int
ssh_error(struct transport *t, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	libssh2_session_last_error(t->s, &msg, NULL, 0);
	snprintf(err, errlen, "%s with %s (%s) failed: %s", what, t->ep.host, t->addr,
		 msg ? msg : "unknown error");
	return -ECONNABORTED;
}

static int
ssh_step_once(struct transport *t, char *err, size_t errlen)
{
	const struct gossip_tconf *cf = t->cf;
	int ret;

	switch (t->step) {
	case S_RESOLVE:
		return resolve_step(t, err, errlen);
	case S_TCP:
		return tcp_step(t, err, errlen);
	case S_HANDSHAKE:
		ret = libssh2_session_handshake(t->s, t->fd);
		if (ret == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (ret)
			return ssh_error(t, "ssh handshake", err, errlen);
		ret = hostkey_check(t, err, errlen);
		if (ret < 0)
			return ret;
		t->step = S_AUTH;
		return 1;
	case S_AUTH:
		ret = libssh2_userauth_publickey_fromfile_ex(t->s, cf->user,
				(unsigned)strlen(cf->user), cf->pub_path, cf->key_path, NULL);
		if (ret == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (ret)
			return ssh_error(t, "public key login", err, errlen);
		t->step = S_CHANNEL;
		return 1;
	case S_CHANNEL:
		t->ch = libssh2_channel_open_session(t->s);
		if (!t->ch)
			return libssh2_session_last_errno(t->s) == LIBSSH2_ERROR_EAGAIN ? 0 :
			       ssh_error(t, "channel open", err, errlen);
		libssh2_channel_handle_extended_data2(t->ch, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
		t->step = S_EXEC;
		return 1;
	case S_EXEC:
		ret = libssh2_channel_exec(t->ch, cf->remote_cmd);
		if (ret == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (ret)
			return ssh_error(t, "remote command", err, errlen);
		t->step = S_READY;
		return 1;
	case S_READY:
		return 1;
	}
	return -EINVAL;
}

static int
ssh_connect_step(struct transport *t, char *err, size_t errlen)
{
	int ret;

	/* Run the steps that can complete now; stop at the first "again". */
	do {
		ret = ssh_step_once(t, err, errlen);
	} while (ret == 1 && t->step != S_READY);
	return ret;
}

static int
ssh_poll_fd(struct transport *t, int want_write, short *events)
{
	int dir;

	if (t->step == S_RESOLVE) {
		*events = POLLIN;
		return t->wait_fd;
	}
	if (t->step == S_TCP) {
		*events = POLLOUT;
		return t->fd;
	}
	dir = libssh2_session_block_directions(t->s);
	*events = 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND || t->step == S_READY)
		*events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND || (want_write && t->step == S_READY))
		*events |= POLLOUT;
	return t->fd;
}

static ssize_t
ssh_read(struct transport *t, void *buf, size_t len)
{
	ssize_t n = libssh2_channel_read(t->ch, buf, len);

	if (n > 0)
		return n;
	if (libssh2_channel_eof(t->ch))
		return 0;
	if (n == 0 || n == LIBSSH2_ERROR_EAGAIN)
		return -EAGAIN;
	return -ECONNABORTED;
}

static ssize_t
ssh_write(struct transport *t, const void *buf, size_t len)
{
	ssize_t n = libssh2_channel_write(t->ch, buf, len);

	if (n >= 0)
		return n > 0 ? n : -EAGAIN;
	return n == LIBSSH2_ERROR_EAGAIN ? -EAGAIN : -ECONNABORTED;
}

static void
ssh_close(struct transport *t)
{
	/*
	 * The socket goes first, so that libssh2's goodbye messages fail at
	 * once instead of waiting on a peer that may be gone.
	 */
	if (t->fd >= 0)
		close(t->fd);
	if (t->ch)
		libssh2_channel_free(t->ch);
	if (t->s)
		libssh2_session_free(t->s);
	lookup_stop(t);
	if (t->numeric)
		freeaddrinfo(t->numeric);
	free(t);
}

const struct gossip_transport_ops gossip_transport_ssh = {
	.name		= "ssh",
	.open		= ssh_open,
	.connect_step	= ssh_connect_step,
	.poll_fd	= ssh_poll_fd,
	.read		= ssh_read,
	.write		= ssh_write,
	.close		= ssh_close,
};
