/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The measured rate of a bulk transfer, for its status (fetch: bytes
 * synced, sync: bytes compared): bytes counted over windows of
 * RATE_WINDOW_MS, so the rate shown is recent but does not jitter with
 * each frame.  Pure: the caller passes the time and holds the lock that
 * guards the struct.
 */
#ifndef MARS_CLUSTERD_RATE_H
#define MARS_CLUSTERD_RATE_H

#include <stdint.h>

#define RATE_WINDOW_MS	1000

struct rate {
	uint64_t t0_ms;		/* start of the current window */
	uint64_t bytes;		/* counted in it */
};

void rate_init(struct rate *r, uint64_t now_ms);
/* Count @bytes; when the window is over, its rate (bytes/s) into *@bps. */
void rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms, uint64_t *bps);
/* 1 if no window ended for two windows: the rate shown should read 0. */
int rate_idle(const struct rate *r, uint64_t now_ms);

#endif /* MARS_CLUSTERD_RATE_H */
