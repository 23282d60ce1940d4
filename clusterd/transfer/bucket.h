/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A token bucket: the bandwidth limit of the bulk transfers (fetch paces
 * its reading, sync its digest batches).  Pure: the caller passes the
 * time, so the unit tests can simulate hours in microseconds.
 */
#ifndef MARS_CLUSTERD_BUCKET_H
#define MARS_CLUSTERD_BUCKET_H

#include <stdint.h>

/*
 * @rate_bps bytes per second, at most @burst_bytes saved up.  Taking may
 * overdraw (a frame is taken whole); the debt delays the next.
 */
struct bucket {
	uint64_t rate_bps;	/* 0 = unlimited */
	uint64_t burst_bytes;
	int64_t tokens;		/* bytes available; negative = debt */
	uint64_t last_ns;	/* time of the last refill */
};

void bucket_init(struct bucket *b, uint64_t rate_bps, uint64_t now_ns);
/* Nanoseconds to wait before taking is allowed (0: now). */
uint64_t bucket_wait_ns(struct bucket *b, uint64_t now_ns);
void bucket_take(struct bucket *b, uint64_t bytes);
/* The clock the callers run their bucket on: CLOCK_MONOTONIC, nanoseconds. */
uint64_t bucket_now_ns(void);

#endif /* MARS_CLUSTERD_BUCKET_H */
