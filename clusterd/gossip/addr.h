/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * This node's address for ips/ip-HOST, and names turned into addresses
 * for it.  The tree keeps numeric addresses only (docs/state-tree.md):
 * whoever writes one resolves first, so no reader ever needs a resolver.
 * These calls block in the system resolver (bounded by its own timeouts,
 * resolv.conf "timeout:" and "attempts:"); they are for one-shot commands
 * (create-cluster, join-cluster, clusterd --join), never the poll loop.
 */
#ifndef MARS_CLUSTERD_ADDR_H
#define MARS_CLUSTERD_ADDR_H

#include <stddef.h>

/* Longest numeric address written, with its NUL ("ffff:...:255.255.255.255"). */
#define GOSSIP_ADDR_MAX	46

/*
 * @name (a numeric IPv4/IPv6 address or a host name) as the numeric
 * address of the resolver's first answer, into @buf.  Returns 0, or
 * -EHOSTUNREACH with "cannot resolve host 'NAME': REASON" in @err.
 */
int gossip_addr_resolve(const char *name, char *buf, size_t size, char *err, size_t errlen);

/*
 * The address of the interface toward the default route (IPv4, else
 * IPv6), found by routing a UDP socket without sending anything.
 * Returns 0, or -ENETUNREACH with the reason in @err.
 */
int gossip_addr_default(char *buf, size_t size, char *err, size_t errlen);

/* 1 if @addr is a numeric address peers could dial (not loopback/any). */
int gossip_addr_usable(const char *addr);

#endif /* MARS_CLUSTERD_ADDR_H */
