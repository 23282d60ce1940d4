/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The token bucket of the bulk transfers.  Arithmetic is in 128 bits so
 * that neither a huge rate nor a long pause can overflow a refill.
 */
#include <time.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/gossip/proto.h"

void
bucket_init(struct bucket *b, uint64_t rate_bps, uint64_t now_ns)
{
	b->rate_bps = rate_bps;
	/* an eighth of a second saved up at most, and never less than a frame */
	b->burst_bytes = rate_bps / 8 > GOSSIP_FDATA_MAX ? rate_bps / 8 : GOSSIP_FDATA_MAX;
	b->tokens = 0;
	b->last_ns = now_ns;
}

static void
bucket_refill(struct bucket *b, uint64_t now_ns)
{
	uint64_t dt = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	unsigned __int128 add = (unsigned __int128)dt * b->rate_bps / 1000000000u;
	unsigned __int128 room = (unsigned __int128)((int64_t)b->burst_bytes - b->tokens);

	b->last_ns = now_ns;
	if (b->tokens >= (int64_t)b->burst_bytes || add >= room)
		b->tokens = (int64_t)b->burst_bytes;
	else
		b->tokens += (int64_t)add;
}

uint64_t
bucket_wait_ns(struct bucket *b, uint64_t now_ns)
{
	if (b->rate_bps == 0)
		return 0;
	bucket_refill(b, now_ns);
	if (b->tokens > 0)
		return 0;
	/* until one byte is available */
	return (uint64_t)((unsigned __int128)(uint64_t)(1 - b->tokens) * 1000000000u /
			  b->rate_bps) + 1;
}

void
bucket_take(struct bucket *b, uint64_t bytes)
{
	if (b->rate_bps)
		b->tokens -= (int64_t)bytes;
}

uint64_t
bucket_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
