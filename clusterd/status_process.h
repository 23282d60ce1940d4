/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page as processes of their own, confined (status_process.c):
 * part of clusterd's top floor, started by the daemon before its threads.
 */
#ifndef MARS_CLUSTERD_STATUS_PROCESS_H
#define MARS_CLUSTERD_STATUS_PROCESS_H

#include <sys/types.h>

#include "clusterd/gossip/gossip.h"

struct status_config;

/*
 * Fork the status page's supervisor, which runs the page in a confined
 * worker and restarts it when it ends.  Waits (bounded) until the first
 * worker has opened the page.  0 and *@pidp the supervisor's pid, or -1
 * when nothing is configured; -EIO when the page could not start (logged
 * by the worker), -errno when the fork failed.
 */
int status_process_start(const struct gossip_config *c, const struct status_config *sc,
			 pid_t *pidp);
/* End the supervisor (and so the worker): SIGTERM, bounded, then SIGKILL. */
void status_process_stop(pid_t pid);

#endif
