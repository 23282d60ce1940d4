/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building the peer list.  The tree is the truth about membership; the
 * overrides file exists for addresses the tree cannot know (NAT, another
 * port, a test harness).  Both are read whole on every call, which is
 * cheap at the sizes involved and makes "reload on change" trivial.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "clusterd/gossip/peers.h"

struct plist {
	const struct gossip_config *c;
	struct gossip_endpoint ep[PEERS_LOAD_MAX];
	size_t n;
};

static int
set_peer(struct plist *pl, const char *host, const char *addr, unsigned port)
{
	struct gossip_endpoint *ep = NULL;

	if (statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0 ||
	    strlen(addr) >= sizeof(ep->addr) || addr[0] == '\0')
		return -EINVAL;
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->ep[i].host, host) == 0)
			ep = &pl->ep[i];
	if (!ep) {
		if (pl->n >= PEERS_LOAD_MAX)
			return -ENOSPC;
		ep = &pl->ep[pl->n++];
	}
	snprintf(ep->host, sizeof(ep->host), "%s", host);
	snprintf(ep->addr, sizeof(ep->addr), "%s", addr);
	ep->port = port;
	return 0;
}

static int
from_tree(const struct statefs_entry *e, void *arg)
{
	struct plist *pl = arg;
	const char *host = e->path + strlen("ips/ip-");
	char e1[LOG_ESC_BYTES];

	if (strncmp(e->path, "ips/ip-", 7) != 0 || e->tombstone)
		return 0;
	if (set_peer(pl, host, e->value, pl->c->port) < 0)
		log_debug("ignoring member entry '%s'", log_escape(e1, sizeof(e1), e->path));
	return 0;
}

/* "HOST ADDR[:PORT]"; IPv6 addresses in brackets: "[::1]:2222". */
static int
parse_line(struct plist *pl, char *line)
{
	char host[128], addr[300], extra[2], *colon, *end;
	unsigned long port = pl->c->port;

	if (sscanf(line, "%127s %299s %1s", host, addr, extra) != 2)
		return -EINVAL;
	colon = strrchr(addr, ':');
	if (colon && (addr[0] == '[' || !strchr(addr, ':') || colon == strchr(addr, ':'))) {
		port = strtoul(colon + 1, &end, 10);
		if (*end || port == 0 || port > 65535)
			return -EINVAL;
		*colon = '\0';
	}
	if (addr[0] == '[') {
		size_t n = strlen(addr);

		if (n < 3 || addr[n - 1] != ']')
			return -EINVAL;
		addr[n - 1] = '\0';
		memmove(addr, addr + 1, n - 1);
	}
	return set_peer(pl, host, addr, (unsigned)port);
}

static void
from_file(struct plist *pl, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int lineno = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		lineno++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (parse_line(pl, p) < 0)
			log_warnx("%s:%d: malformed peer line, want 'HOST ADDR[:PORT]'",
				  path, lineno);
	}
	fclose(f);
}

int
peers_load(const struct gossip_config *c, struct statefs *sf,
	   int (*fn)(const struct gossip_endpoint *ep, void *arg), void *arg)
{
	struct plist *pl = calloc(1, sizeof(*pl));
	int ret;

	if (!pl)
		return -ENOMEM;
	pl->c = c;
	ret = statefs_list(sf, "ips", 0, from_tree, pl);
	if (ret == -ENOENT)
		ret = 0;
	if (ret == 0 && c->peers_file)
		from_file(pl, c->peers_file);
	for (size_t i = 0; ret == 0 && i < pl->n; i++)
		if (statefs_is_evicted(sf, pl->ep[i].host, NULL, 0) <= 0)
			ret = fn(&pl->ep[i], arg);	/* an evicted host, even in the file: no peer */
	free(pl);
	return ret;
}

/*
 * What gossip refuses on top of statefs's ownership rules: the cluster
 * uuid never changes once set (a member rewriting it would move the node
 * into another cluster), and membership entries must name a valid host
 * and carry an IP address, since the daemon dials them.
 */
int
gossip_entry_policy(const char *uuid, const char *path, const char *value)
{
	unsigned char addr[sizeof(struct in6_addr)];


	if (strcmp(path, "uuid") == 0)
		return uuid[0] && strcmp(value, uuid) != 0 ? -EPERM : 0;
	if (strncmp(path, "ips/", 4) != 0)
		return 0;
	if (strncmp(path, "ips/ip-", 7) != 0 ||
	    statefs_name_check(STATEFS_NAME_HOST, path + 7, NULL) < 0)
		return -EDOM;
	if (strcmp(value, STATEFS_TOMBSTONE) == 0 ||
	    inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1)
		return 0;
	return -EXDEV;
}
