/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The windowed transfer rate of the bulk transfers (clusterd/transfer/rate.c)
 * over a simulated clock.
 */
#include <stdint.h>

#include "clusterd/transfer/rate.h"
#include "tests/unit/tap.h"

int
main(void)
{
	struct rate r;
	uint64_t bps = 7;

	rate_init(&r, 1000);
	rate_add(&r, 500, 1500, &bps);
	tap_ok(bps == 7, "inside the first window the rate shown is kept");
	rate_add(&r, 1500, 2000, &bps);
	tap_ok(bps == 2000, "a window's bytes over its length (%llu B/s)",
	       (unsigned long long)bps);
	rate_add(&r, 3000, 4000, &bps);
	tap_ok(bps == 1500, "a longer window: bytes over its real length (%llu B/s)",
	       (unsigned long long)bps);
	tap_ok(!rate_idle(&r, 4000 + 2 * RATE_WINDOW_MS - 1) &&
	       rate_idle(&r, 4000 + 2 * RATE_WINDOW_MS), "idle after two windows, not before");
	return tap_done();
}
