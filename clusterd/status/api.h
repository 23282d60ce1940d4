/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The JSON documents of /api/v1 (docs/http-api.md), built with json-c from
 * a snapshot and the history database.  Each function returns a malloc'd,
 * NUL-terminated document and its length, or NULL on failure.
 */
#ifndef MARS_CLUSTERD_API_H
#define MARS_CLUSTERD_API_H

#include <stddef.h>
#include <stdint.h>

#include "clusterd/status/db.h"
#include "clusterd/status/snapshot.h"

#define API_VERSION		1
#define API_EVENTS_LIMIT_MAX	1000	/* most events one request returns */
#define API_HISTORY_LIMIT_MAX	20000	/* most samples one request returns */

/* /api/v1/cluster: uuid, this node, members with heartbeats, gossip counters. */
char *api_cluster(const struct snapshot *s, size_t *len);
/* /api/v1/resources: resources, replicas, view states, lag, red states. */
char *api_resources(const struct snapshot *s, size_t *len);
/* /api/v1/events: events with id > @after_id, at most @limit (db may be NULL). */
char *api_events(struct db *db, int64_t after_id, int limit, size_t *len);
/* /api/v1/history: samples since @since_ms, optionally of one resource/host. */
char *api_history(struct db *db, int64_t since_ms, const char *resource, const char *host,
		  int limit, size_t *len);
/* The alert document posted to webhooks: kind, resource, host, detail, when. */
char *api_alert(const char *self, const char *uuid, const char *kind, const char *resource,
		const char *host, const char *detail, int64_t t_ms);

#endif /* MARS_CLUSTERD_API_H */
