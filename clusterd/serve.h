/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The serving end, one of clusterd's two roles (the top floor: it
 * dispatches a session to gossip, logfile transfer or full sync).
 */
#ifndef MARS_CLUSTERD_SERVE_H
#define MARS_CLUSTERD_SERVE_H

#include "clusterd/gossip/gossip.h"

/* `clusterd --serve --peer NAME`: answer one client on stdin/stdout.
 * @peer is the host the client's SSH key is bound to (authorized_keys);
 * the client's HELLO must name it.  NULL (a line without --peer) is
 * refused.  Exit status. */
int gossip_serve(const struct gossip_config *c, const char *peer);

/*
 * Confine a serving end (serve_confine.c) to its tree @root, the data
 * disks @sf names for its own host, and the module's control device.
 * 0, or -errno: then the session must end unserved.
 */
int serve_confine(struct statefs *sf, const char *root);

#endif
