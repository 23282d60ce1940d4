/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Webhook alerts: a JSON document POSTed to every configured URL, through
 * libcurl's multi interface driven by the daemon's poll() loop, so a slow
 * or dead receiver never blocks the daemon.  Failed posts are retried with
 * exponential backoff; the queue is bounded and drops the oldest alert
 * (counted) when full.
 */
#ifndef MARS_CLUSTERD_ALERTS_H
#define MARS_CLUSTERD_ALERTS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define ALERTS_URLS_MAX		8	/* --alert-url may be given this often */
#define ALERTS_QUEUE_MAX	64	/* posts pending or waiting for a retry */
#define ALERTS_FDS_MAX		16	/* sockets curl may ask us to watch */
#define ALERTS_TRIES		5	/* attempts per post before it is dropped */
#define ALERTS_BACKOFF_MIN_MS	1000	/* first retry delay, doubled each time */
#define ALERTS_TIMEOUT_MS	5000	/* bound on one attempt (connect + reply) */

struct alerts;

/* Counters since alerts_open(), for /metrics. */
struct alerts_stats {
	uint64_t queued;	/* posts queued (one per URL and alert) */
	uint64_t sent;		/* answered with 2xx */
	uint64_t retried;	/* attempts that failed and were rescheduled */
	uint64_t failed;	/* dropped after ALERTS_TRIES attempts */
	uint64_t dropped;	/* dropped because the queue was full */
};

/* Returns 0 or -ENOMEM / -EIO (libcurl could not be set up). */
int alerts_open(struct alerts **ap, const char *const *urls, size_t n_urls);
void alerts_close(struct alerts *a);

/* Queue @json (copied) for every URL.  Never blocks. */
void alerts_post(struct alerts *a, const char *json);

/* Fill up to @max poll slots with curl's sockets; returns the count. */
size_t alerts_pollfds(struct alerts *a, struct pollfd *pfd, size_t max);
/* Milliseconds until alerts_dispatch() must run, -1 if nothing pending. */
int alerts_timeout_ms(struct alerts *a, uint64_t now_ms);
/* Act on the poll results of the slots alerts_pollfds() filled, and on
 * timers due at @now_ms (monotonic). */
void alerts_dispatch(struct alerts *a, const struct pollfd *pfd, size_t n, uint64_t now_ms);

void alerts_get_stats(const struct alerts *a, struct alerts_stats *st);

#endif /* MARS_CLUSTERD_ALERTS_H */
