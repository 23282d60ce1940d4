/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The token bucket of the bulk transfers (clusterd/transfer/bucket.c) over a
 * simulated clock: rates, bursts after idling, debt, overflow.
 */
#include <stdint.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/gossip/proto.h"
#include "tests/unit/tap.h"

/* Take whole frames as fetch does; returns simulated ns for @total. */
static uint64_t
simulate(struct bucket *b, uint64_t t, uint64_t total)
{
	uint64_t got = 0, t0 = t;

	while (got < total) {
		uint64_t w = bucket_wait_ns(b, t);

		if (w) {
			t += w;
			continue;
		}
		bucket_take(b, GOSSIP_FDATA_MAX);
		got += GOSSIP_FDATA_MAX;
	}
	return t - t0;
}

static void
test_bucket(void)
{
	const uint64_t s = 1000000000ULL, mib = 1 << 20;
	struct bucket b;
	uint64_t ns;

	bucket_init(&b, 0, 5);
	tap_ok(bucket_wait_ns(&b, 5) == 0 && simulate(&b, 5, 100 * mib) == 0,
	       "rate 0 is unlimited");
	bucket_init(&b, mib, 0);
	ns = simulate(&b, 0, 4 * mib);
	tap_ok(ns >= 3 * s && ns <= 4 * s + s / 10, "4 MiB at 1 MiB/s take 3..4.1 s (%llu ms)",
	       (unsigned long long)(ns / 1000000));
	/* long idle saves at most the burst */
	bucket_init(&b, mib, 0);
	ns = simulate(&b, 3600 * s, 4 * mib);
	tap_ok(ns >= 3 * s, "an hour idle saves no more than a burst (%llu ms)",
	       (unsigned long long)(ns / 1000000));
	bucket_init(&b, 10 * mib, 0);
	ns = simulate(&b, 0, 100 * mib);
	tap_ok(ns >= 9 * s && ns <= 10 * s + s / 10, "100 MiB at 10 MiB/s take 9..10.1 s");
	bucket_init(&b, 1000, 0);
	bucket_take(&b, 2000);
	ns = bucket_wait_ns(&b, 0);
	tap_ok(ns > 2 * s && ns < 2 * s + s / 100, "a 2000-byte debt at 1000 B/s waits 2 s");
	bucket_init(&b, UINT64_MAX / 2, 0);
	tap_ok(bucket_wait_ns(&b, 10 * s) == 0, "a huge rate does not overflow");
}

int
main(void)
{
	test_bucket();
	return tap_done();
}
