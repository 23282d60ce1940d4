/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SSH transport: libssh2 in non-blocking mode to the peer's ordinary
 * OpenSSH server.  The peer's authorized_keys entry for the cluster key
 * forces `clusterd --serve`, so whatever command we ask for, the stream
 * reaches the serving end and nothing else.
 *
 * Setup is a chain of small steps (TCP connect, SSH handshake, host key
 * check, public key auth, channel open, exec), each of which may answer
 * "again" and is resumed when the socket is ready: one peer stuck in any
 * step costs the daemon nothing but a poll slot.  Time bounds are kept by
 * the caller.
 *
 * Trust: the host key must be in the known_hosts file for the address
 * (and port) we dialled; an unknown or changed key is refused with the
 * command that accepts it.  Only addresses are compared, never names
 * looked up on the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "clusterd/transport.h"

enum ssh_step { S_TCP, S_HANDSHAKE, S_AUTH, S_CHANNEL, S_EXEC, S_READY };

struct transport {
	const struct gossip_tconf *cf;
	struct gossip_endpoint ep;
	enum ssh_step step;
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
};

static int ssh_lib_ready;

static int
tcp_start(struct transport *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[16];
	int ret, one = 1;

	snprintf(port, sizeof(port), "%u", t->ep.port);
	ret = getaddrinfo(t->ep.addr, port, &hints, &ai);
	if (ret != 0)
		return -EADDRNOTAVAIL;
	t->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		ret = -errno;
		goto out;
	}
	/* Gossip messages are small and latency is the point: no Nagle. */
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = 0;
	if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		ret = -errno;
out:
	freeaddrinfo(ai);
	return ret;
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
	ret = tcp_start(t);
	if (ret < 0) {
		if (t->fd >= 0)
			close(t->fd);
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
		snprintf(err, errlen, "cannot connect to %s port %u: %s", t->ep.addr,
			 t->ep.port, strerror(soerr));
		return -soerr;
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

/* The peer's host key must be listed for the address we dialled. */
static int
hostkey_check(struct transport *t, char *err, size_t errlen)
{
	const char *kh_path = t->cf->known_hosts;
	LIBSSH2_KNOWNHOSTS *kh;
	const char *key;
	size_t len;
	int type, ret;

	key = libssh2_session_hostkey(t->s, &len, &type);
	kh = libssh2_knownhost_init(t->s);
	if (!key || !kh) {
		snprintf(err, errlen, "no host key from %s", t->ep.addr);
		ret = -EPROTO;
		goto out;
	}
	if (libssh2_knownhost_readfile(kh, kh_path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		snprintf(err, errlen, "cannot read known hosts '%s'; create it with "
			 "'ssh-keyscan -p %u %s >> %s'", kh_path, t->ep.port, t->ep.addr, kh_path);
		ret = -ENOENT;
		goto out;
	}
	ret = libssh2_knownhost_checkp(kh, t->ep.addr, (int)t->ep.port, key, len,
				       LIBSSH2_KNOWNHOST_TYPE_PLAIN |
				       LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_type(type), NULL);
	switch (ret) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		snprintf(err, errlen, "host key of %s (%s) CHANGED, refusing; if the change "
			 "is legitimate run 'ssh-keygen -R %s -f %s' and "
			 "'ssh-keyscan -p %u %s >> %s'", t->ep.host, t->ep.addr, t->ep.addr,
			 kh_path, t->ep.port, t->ep.addr, kh_path);
		ret = -EKEYREJECTED;
		break;
	default:
		snprintf(err, errlen, "host key of %s (%s) unknown, refusing; verify it and "
			 "accept with 'ssh-keyscan -p %u %s >> %s'", t->ep.host, t->ep.addr,
			 t->ep.port, t->ep.addr, kh_path);
		ret = -EKEYREJECTED;
	}
out:
	if (kh)
		libssh2_knownhost_free(kh);
	return ret;
}

static int
ssh_error(struct transport *t, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	libssh2_session_last_error(t->s, &msg, NULL, 0);
	snprintf(err, errlen, "%s with %s (%s) failed: %s", what, t->ep.host, t->ep.addr,
		 msg ? msg : "unknown error");
	return -ECONNABORTED;
}

static int
ssh_step_once(struct transport *t, char *err, size_t errlen)
{
	const struct gossip_tconf *cf = t->cf;
	int ret;

	switch (t->step) {
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
