/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The peer list: the members the tree names (ips/ip-HOST, value = address)
 * overlaid with the overrides file (lines "HOST ADDR[:PORT]", '#' comments),
 * which may add peers or change where one is reached.
 */
#ifndef MARS_CLUSTERD_PEERS_H
#define MARS_CLUSTERD_PEERS_H

#include "clusterd/gossip/gossip.h"

#define PEERS_LOAD_MAX	256

/*
 * Call @fn once per wanted peer (this host included; callers skip it).
 * Returns 0, or -errno if the tree cannot be listed (a missing overrides
 * file is not an error; a malformed line is logged and skipped).
 */
int peers_load(const struct gossip_config *c, struct statefs *sf,
	       int (*fn)(const struct gossip_endpoint *ep, void *arg), void *arg);

#endif /* MARS_CLUSTERD_PEERS_H */
