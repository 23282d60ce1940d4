/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /metrics: the snapshot and the daemon's counters in the Prometheus text
 * exposition format 0.0.4 (one HELP and TYPE line per family, label values
 * escaped).  Names and meanings are listed in docs/http-api.md.
 */
#ifndef MARS_CLUSTERD_METRICS_H
#define MARS_CLUSTERD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "clusterd/status/alerts.h"
#include "clusterd/status/http.h"
#include "clusterd/status/snapshot.h"

/* Counters from outside the tree; a NULL pointer leaves its family out. */
struct metrics_extra {
	const struct http_stats *http;
	const struct alerts_stats *alerts;
	int64_t history_samples;	/* rows, -1 without a database */
	int64_t history_events;
	uint64_t snapshot_errors;	/* tree reads that failed */
};

/* Render; returns a malloc'd text and its length in *len, NULL on failure. */
char *metrics_render(const struct snapshot *s, const struct metrics_extra *x, size_t *len);

/* Write @v as a label value with \\, \" and \n escaped (exported for tests). */
void metrics_label_escape(char *out, size_t size, const char *v);

#endif /* MARS_CLUSTERD_METRICS_H */
