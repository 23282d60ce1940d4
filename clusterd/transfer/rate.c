/* SPDX-License-Identifier: GPL-2.0-only */
/* The windowed transfer rate of rate.h. */
#include "clusterd/transfer/rate.h"

void
rate_init(struct rate *r, uint64_t now_ms)
{
	r->t0_ms = now_ms;
	r->bytes = 0;
}

void
rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms, uint64_t *bps)
{
	r->bytes += bytes;
	if (now_ms - r->t0_ms >= RATE_WINDOW_MS) {
		*bps = r->bytes * 1000 / (now_ms - r->t0_ms);
		r->t0_ms = now_ms;
		r->bytes = 0;
	}
}

int
rate_idle(const struct rate *r, uint64_t now_ms)
{
	return now_ms - r->t0_ms >= 2 * RATE_WINDOW_MS;
}
