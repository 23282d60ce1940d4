/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon, the other of clusterd's two roles: its one poll() loop over
 * the peers' connections (the top floor; the replication driver runs in a
 * thread of its own, clusterd/driver/, the status page in processes of its
 * own, status_process.c).
 */
#ifndef MARS_CLUSTERD_LOOP_H
#define MARS_CLUSTERD_LOOP_H

#include "clusterd/gossip/gossip.h"

/* The daemon's poll loop until SIGTERM/SIGINT.  Exit status. */
int gossip_daemon(const struct gossip_config *c);

#endif
