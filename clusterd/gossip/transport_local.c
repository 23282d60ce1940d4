/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local transport: the peer's serving end is a child process on this
 * machine (`<local_exe> --serve --root <local_roots>/<host> --host <host>
 * --peer <self>`: the binding an SSH forced command would give)
 * reached over a socketpair.  It lets unit tests and benchmarks run many
 * nodes without sshd.  With no local_exe the stream is our own stdin and
 * stdout, which is how the serving end talks to sshd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "clusterd/gossip/transport.h"

struct transport {
	int rfd, wfd;
	pid_t pid;		/* child, or -1 for stdio */
};

static int
spawn_serve(const struct gossip_tconf *cf, const struct gossip_endpoint *ep,
	    struct transport *t)
{
	char root[4096];
	int sv[2];

	snprintf(root, sizeof(root), "%s/%s", cf->local_roots ? cf->local_roots : ".",
		 ep->host);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	t->pid = fork();
	if (t->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (t->pid == 0) {
		char *argv[] = { (char *)cf->local_exe, (char *)"--serve", (char *)"--root",
				 root, (char *)"--host", (char *)ep->host,
				 (char *)"--peer", (char *)(cf->self ? cf->self : ""), NULL };

		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execv(cf->local_exe, argv);
		_exit(127);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	t->rfd = t->wfd = sv[0];
	return 0;
}

static int
local_open(const struct gossip_tconf *cf, const struct gossip_endpoint *ep,
	   struct transport **tp)
{
	struct transport *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->pid = -1;
	t->rfd = 0;
	t->wfd = 1;
	if (cf->local_exe) {
		ret = spawn_serve(cf, ep, t);
		if (ret < 0) {
			free(t);
			return ret;
		}
	}
	*tp = t;
	return 0;
}

static int
local_connect_step(struct transport *t, char *err, size_t errlen)
{
	return 1;
}

static int
local_poll_fd(struct transport *t, int want_write, short *events)
{
	*events = POLLIN | (want_write ? POLLOUT : 0);
	return t->rfd;
}

static ssize_t
local_read(struct transport *t, void *buf, size_t len)
{
	struct pollfd p = { .fd = t->rfd, .events = POLLIN };
	ssize_t n;

	/*
	 * stdin may share its file description with stdout (sshd hands the
	 * command a socketpair), so it is not switched to O_NONBLOCK, which
	 * would make our writes non-blocking too; ask poll instead.
	 */
	if (poll(&p, 1, 0) == 0)
		return -EAGAIN;
	n = read(t->rfd, buf, len);
	if (n < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return n;
}

static ssize_t
local_write(struct transport *t, const void *buf, size_t len)
{
	ssize_t n = write(t->wfd, buf, len);

	if (n < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return n;
}

static void
local_close(struct transport *t)
{
	if (t->pid > 0) {
		close(t->rfd);
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	free(t);
}

const struct gossip_transport_ops gossip_transport_local = {
	.name		= "local",
	.open		= local_open,
	.connect_step	= local_connect_step,
	.poll_fd	= local_poll_fd,
	.read		= local_read,
	.write		= local_write,
	.close		= local_close,
};
