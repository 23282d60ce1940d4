/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The serving end's stop request.  `clusterd --serve` is one process per
 * SSH session, and the session it starts as (gossip) may become a fetch or
 * a sync session: one flag, set by SIGTERM or SIGINT, ends whichever loop
 * runs, instead of one flag and handler per kind of session.
 */
#include <signal.h>

#include "clusterd/gossip/gossip.h"

static volatile sig_atomic_t serve_stop;

static void
serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

void
gossip_serve_stop_on_signals(void)
{
	signal(SIGTERM, serve_on_signal);
	signal(SIGINT, serve_on_signal);
}

int
gossip_serve_stopping(void)
{
	return serve_stop;
}
