/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Addresses and names: which numeric addresses may be recorded for peers,
 * names resolved to numeric addresses, and the SSH transport resolving a
 * name as a polled step (to a local TCP listener that hangs up, so the
 * chain must get past the lookup and the connect to fail in the SSH
 * handshake) and being closed while its lookup may still run.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/gossip/addr.h"
#include "clusterd/gossip/transport.h"
#include "tests/unit/tap.h"

static void
test_usable(void)
{
	tap_ok(gossip_addr_usable("10.0.0.1"), "IPv4 address usable");
	tap_ok(gossip_addr_usable("fd00::1"), "IPv6 address usable");
	tap_ok(!gossip_addr_usable("127.0.1.1"), "IPv4 loopback not usable");
	tap_ok(!gossip_addr_usable("::1"), "IPv6 loopback not usable");
	tap_ok(!gossip_addr_usable("0.0.0.0"), "any address not usable");
	tap_ok(!gossip_addr_usable("fe80::1"), "link-local address not usable");
	tap_ok(!gossip_addr_usable("alpha"), "a name is no address");
}

static void
test_resolve(void)
{
	char buf[GOSSIP_ADDR_MAX] = "", err[256] = "";

	tap_ok(gossip_addr_resolve("10.1.2.3", buf, sizeof(buf), err, sizeof(err)) == 0 &&
	       strcmp(buf, "10.1.2.3") == 0, "numeric IPv4 kept: '%s'", buf);
	tap_ok(gossip_addr_resolve("fd00:0::2", buf, sizeof(buf), err, sizeof(err)) == 0 &&
	       strcmp(buf, "fd00::2") == 0, "numeric IPv6 in canonical form: '%s'", buf);
}

static int
listener(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Step the transport until it fails; hang up on each connection accepted. */
static int
run_until_failure(struct transport *t, int lfd, char *err, size_t errlen, int *steps)
{
	const struct gossip_transport_ops *ops = &gossip_transport_ssh;
	time_t deadline = time(NULL) + 20;
	int ret;

	while ((ret = ops->connect_step(t, err, errlen)) == 0 && time(NULL) < deadline) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN } };
		int c;

		p[1].fd = ops->poll_fd(t, 0, &p[1].events);
		(*steps)++;
		if (poll(p, 2, 1000) < 0)
			return -errno;
		if ((p[0].revents & POLLIN) && (c = accept(lfd, NULL, NULL)) >= 0)
			close(c);
	}
	return ret;
}

static void
test_transport_name(void)
{
	const struct gossip_transport_ops *ops = &gossip_transport_ssh;
	struct gossip_tconf cf = { .user = "root", .key_path = "/nonexistent",
				   .pub_path = "/nonexistent.pub", .known_hosts = "/nonexistent",
				   .remote_cmd = "true" };
	struct gossip_endpoint ep = { .host = "self", .addr = "localhost" };
	struct transport *t;
	char err[512] = "";
	int lfd = listener(&ep.port), steps = 0, ret;

	if (!tap_ok(lfd >= 0, "local listener"))
		return;
	ret = ops->open(&cf, &ep, &t);
	if (!tap_ok(ret == 0, "open with a name does not block: %d", ret))
		goto out;
	ret = run_until_failure(t, lfd, err, sizeof(err), &steps);
	tap_ok(ret < 0 && strstr(err, "ssh handshake with self (127.0.0.1) failed"),
	       "name resolved and connected, then the handshake failed: '%s'", err);
	ops->close(t);
	/* Closed at once, its lookup perhaps still running: nothing leaks or crashes. */
	for (int i = 0; i < 50; i++)
		if (ops->open(&cf, &ep, &t) == 0)
			ops->close(t);
	tap_ok(1, "fifty transports closed during their lookups");
out:
	close(lfd);
}

int
main(void)
{
	test_usable();
	test_resolve();
	test_transport_name();
	return tap_done();
}
