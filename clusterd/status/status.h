/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page as one unit the daemon plugs into its poll loop: the
 * HTTP server (http.c), the snapshot it serves (snapshot.c), history
 * (db.c), event detection and webhook alerts (alerts.c).  The daemon
 * calls status_pollfds() before poll(), status_dispatch() after it, and
 * bounds its timeout by status_timeout_ms().  Nothing here blocks.
 */
#ifndef MARS_CLUSTERD_STATUS_H
#define MARS_CLUSTERD_STATUS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterd/status/alerts.h"
#include "clusterd/status/http.h"
#include "statefs/statefs.h"

#define STATUS_DEFAULT_LISTEN	"127.0.0.1:7780"
#define STATUS_FDS_MAX		(1 + ALERTS_FDS_MAX)

struct status_config {
	const char *listen;		/* ADDR:PORT; "none" = no HTTP (STATUS_DEFAULT_LISTEN) */
	int listen_given;		/* set by an option: a bind failure is then fatal */
	const char *token;		/* bearer token for /api and /metrics, NULL = none */
	const char *token_file;		/* read the token from here (status_config_finish) */
	char token_buf[HTTP_TOKEN_MAX + 1];	/* what token points to when read from a file */
	/* Host header names answered besides the defaults (http.h); the
	 * node's name is appended by status_config_finish() */
	const char *allow_hosts[HTTP_ALLOW_HOSTS_MAX + 1];
	size_t n_allow_hosts;
	const char *db_path;		/* history database, NULL = no history */
	const char *alert_urls[ALERTS_URLS_MAX];
	size_t n_alert_urls;
	uint64_t lag_alert_bytes;	/* alert when a replica lags more; 0 = never */
	uint64_t lag_alert_s;		/* alert when a replica's lag in time exceeds
					   this many seconds (300); 0 = never */
	unsigned snapshot_ms;		/* tree re-read period (1000) */
	unsigned sample_ms;		/* history sample period (10000) */
	unsigned silent_ms;		/* heartbeat age of a silent member (60000) */
	uint64_t history_max_age_s;	/* samples/events kept this long (7 days) */
	int64_t history_max_rows;	/* and at most this many of each (200000) */
};

/* Defaults as documented per field above. */
void status_config_init(struct status_config *c);

/*
 * Apply one option of `clusterd` by long name without dashes
 * ("http-listen", "http-token", "http-token-file", "http-allow-host",
 * "db", "alert-url", "lag-alert-bytes", "lag-alert-s", "status-sample-ms",
 * "silent-ms").
 * Returns 0, -EINVAL (bad value), -E2BIG (too many alert URLs or allowed
 * hosts) or -ENOENT (not a status option).
 */
int status_config_option(struct status_config *c, const char *name, const char *arg);

/*
 * After all options, before the daemon starts anything: read the token
 * file, add @self_host (this node's MARS name) to the allowed Host names,
 * and refuse a listen address off loopback without a token.  0, or -errno
 * with @err saying what to change.
 */
int status_config_finish(struct status_config *c, const char *self_host, char *err,
			 size_t errlen);

struct status;

/* Start the server, open the history, set up alerts.  0 or -errno (logged).
 * *sp stays NULL when none of the three is configured or could start. */
int status_open(struct status **sp, const struct status_config *c);
void status_close(struct status *st);

/* Fill up to @max slots; returns the count (at most STATUS_FDS_MAX). */
size_t status_pollfds(struct status *st, struct pollfd *pfd, size_t max);
/* Milliseconds until status_dispatch() must run (>= 0). */
int status_timeout_ms(struct status *st, uint64_t now_ms);
/*
 * Handle the @n slots status_pollfds() filled, and the timers due at
 * @now_ms (monotonic).  @sf is the daemon's open tree, or NULL while it is
 * not ready.
 */
void status_dispatch(struct status *st, struct statefs *sf, const struct pollfd *pfd,
		     size_t n, uint64_t now_ms);

#endif /* MARS_CLUSTERD_STATUS_H */
