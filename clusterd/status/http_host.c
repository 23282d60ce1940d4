/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may talk to the status page, judged from addresses and names alone.
 *
 * Why a Host check: a page on any web site can make the browser of an
 * admin on this node fetch http://evil.example:7780/ after pointing
 * evil.example at 127.0.0.1 (DNS rebinding); the browser then treats our
 * answers as evil.example's and hands them to its script.  Without a
 * token nothing else stops that, so the server answers only requests
 * whose Host names this server: what it is bound to, loopback, the
 * node's names, and names the admin adds.  An IP literal cannot be
 * rebound, so a server bound to the wildcard address also answers any
 * literal (it is reachable under every address of the node).
 *
 * Why loopback matters: a server reachable from the network without a
 * token shows the cluster's layout to anyone on that network; status.c
 * refuses to start it (http_addr_is_loopback()).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "clusterd/status/http.h"

int
http_addr_is_loopback(const struct sockaddr *sa)
{
	const struct in6_addr *a6;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return 0;
	a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

int
http_addr_is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* The name of "NAME", "NAME:PORT", "[V6]" or "[V6]:PORT" into @name; -1 if malformed. */
static int
host_name(const char *header, char *name, size_t namelen)
{
	const char *end, *port;
	size_t len;

	if (header[0] == '[') {
		end = strchr(header, ']');
		if (!end)
			return -1;
		header++;
		port = end + 1;
	} else {
		end = strchr(header, ':');
		if (!end)
			end = header + strlen(header);
		port = end;
	}
	if (*port && (*port != ':' || strspn(port + 1, "0123456789") != strlen(port + 1)))
		return -1;
	len = (size_t)(end - header);
	if (len > 0 && header[len - 1] == '.')	/* "localhost." is "localhost" */
		len--;
	if (len == 0 || len >= namelen)
		return -1;
	memcpy(name, header, len);
	name[len] = '\0';
	return 0;
}

static int
is_ip_literal(const char *name)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int
http_host_allowed(const char *header, const char *const *names, size_t n_names, int any_ip)
{
	char name[256];

	/* No Host at all: an HTTP/1.0 client, never a browser (HTTP/1.1
	 * without Host is refused by libmicrohttpd itself). */
	if (!header)
		return 1;
	if (host_name(header, name, sizeof(name)) < 0)
		return 0;
	for (size_t i = 0; i < n_names; i++)
		if (names[i] && strcasecmp(name, names[i]) == 0)
			return 1;
	return any_ip && is_ip_literal(name);
}
