/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Addresses for the tree's ips/ entries (clusterd/gossip/addr.h).  The default
 * address is the source the kernel would pick toward a documentation
 * address (RFC 5737 / RFC 3849) that only the default route leads to: a
 * connect() on a UDP socket routes without sending a packet.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clusterd/gossip/addr.h"

static int
numeric(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	return getnameinfo(sa, len, buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST) == 0 ?
	       0 : -EINVAL;
}

int
gossip_addr_resolve(const char *name, char *buf, size_t size, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai;
	int ret = getaddrinfo(name, NULL, &hints, &ai);

	if (ret != 0) {
		snprintf(err, errlen, "cannot resolve host '%s': %s", name, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	ret = numeric(ai->ai_addr, ai->ai_addrlen, buf, size);
	freeaddrinfo(ai);
	if (ret < 0)
		snprintf(err, errlen, "cannot resolve host '%s': no usable address", name);
	return ret < 0 ? -EHOSTUNREACH : 0;
}

/* The local address a UDP socket toward @dst would use. */
static int
route_source(const struct sockaddr *dst, socklen_t len, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, dst, len) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		ret = -errno;
	close(fd);
	if (ret == 0)
		ret = numeric((struct sockaddr *)&ss, sl, buf, size);
	return ret;
}

int
gossip_addr_default(char *buf, size_t size, char *err, size_t errlen)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	int ret;

	inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	ret = route_source((struct sockaddr *)&v4, sizeof(v4), buf, size);
	if (ret == 0 && gossip_addr_usable(buf))
		return 0;
	ret = route_source((struct sockaddr *)&v6, sizeof(v6), buf, size);
	if (ret == 0 && gossip_addr_usable(buf))
		return 0;
	snprintf(err, errlen, "no default route (%s)",
		 ret < 0 ? strerror(-ret) : "it leads to loopback");
	return -ENETUNREACH;
}

int
gossip_addr_usable(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) != 127 && a4.s_addr != htonl(INADDR_ANY);
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return !IN6_IS_ADDR_LOOPBACK(&a6) && !IN6_IS_ADDR_UNSPECIFIED(&a6) &&
		       !IN6_IS_ADDR_LINKLOCAL(&a6) && !IN6_IS_ADDR_V4MAPPED(&a6);
	return 0;
}
