/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A non-blocking inotify change feed over the state tree for the poll
 * loop of the serving end.
 *
 * Why not statefs_watch_next(): with libinotifytools 3.22,
 * inotifytools_next_event(0) blocks until an event arrives, so a
 * "timeout 0" drain hangs a poll loop once the queue is empty.  Until
 * statefs offers a truly non-blocking drain, this small reader over raw
 * inotify does the job; it only reads the tree, never writes it.
 */
#ifndef MARS_CLUSTERD_WATCH_H
#define MARS_CLUSTERD_WATCH_H

#include <stddef.h>

struct gossip_watch;

/* Watch @root and every directory below it.  Returns 0 or -errno. */
int gossip_watch_open(const char *root, struct gossip_watch **wp);
/* Descriptor for poll (POLLIN when events are pending). */
int gossip_watch_fd(const struct gossip_watch *w);
/*
 * Next changed key path (relative), never blocking.  A directory path
 * means "rescan it"; "" means events were lost (rescan everything).
 * Names starting with '.' are skipped.  Returns 1 with a path, 0 if
 * nothing is pending, -errno on failure.
 */
int gossip_watch_next(struct gossip_watch *w, char *path, size_t size);
void gossip_watch_close(struct gossip_watch *w);

#endif /* MARS_CLUSTERD_WATCH_H */
