/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page's history in sqlite: samples of each replica's figures
 * and an event log.  The schema (clusterd/status/schema.sql) is compiled in, every
 * statement is a named constant in clusterd/status/db_queries.h, all go through
 * one wrapper that records the statement for error messages, and multi-row
 * work runs inside a savepoint.  A database written by another schema
 * version is refused at open rather than guessed at.
 */
#ifndef MARS_CLUSTERD_DB_H
#define MARS_CLUSTERD_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_SCHEMA_VERSION	1

struct db;

/* One row of the samples table. */
struct db_sample {
	int64_t t_ms;			/* realtime of the sample, ms since the epoch */
	const char *resource;
	const char *host;
	uint64_t lag_bytes;
	double lag_s;
	uint64_t replay_pos_bytes;	/* cumulative position hint for throughput */
	uint64_t logfile_bytes;
};

/* One row of the events table. */
struct db_event {
	int64_t id;			/* increasing, assigned by the database */
	int64_t t_ms;			/* realtime, ms since the epoch */
	const char *kind;		/* "role", "member-join", "split-brain", ... */
	const char *resource;		/* "" for cluster-wide events */
	const char *host;		/* "" if not about one host */
	const char *detail;		/* human-readable sentence */
};

/*
 * Open (creating if absent) the database at @path and check its schema
 * version.  The file is created 0600; group or other bits on an existing
 * one (or its -wal, -shm, -journal) are removed.  Returns 0 or -errno:
 * -EPROTO for another schema version, -EIO for other sqlite failures; @err
 * gets a message.  On success @err is empty, or a note for the log (a mode
 * was tightened).
 */
int db_open(struct db **dbp, const char *path, char *err, size_t errlen);
void db_close(struct db *db);

/* Last error message of @db (the failing statement's name and sqlite's text). */
const char *db_error(const struct db *db);

/* Insert @n samples in one savepoint.  Returns 0 or -EIO. */
int db_samples_add(struct db *db, const struct db_sample *s, size_t n);
/* Append one event; its id is returned in ev->id (may be NULL).  0 or -EIO. */
int db_event_add(struct db *db, struct db_event *ev);

/*
 * Drop samples and events older than @max_age_ms before @now_ms, then keep
 * at most @max_rows of each table (newest kept).  Returns 0 or -EIO.
 */
int db_prune(struct db *db, int64_t now_ms, int64_t max_age_ms, int64_t max_rows);

/* Visit events with id > @after_id, oldest first, at most @limit. */
int db_events_foreach(struct db *db, int64_t after_id, int limit,
		      int (*fn)(const struct db_event *ev, void *arg), void *arg);

/*
 * Visit samples with t_ms >= @since_ms, oldest first, at most @limit,
 * restricted to @resource / @host when not NULL.
 */
int db_samples_foreach(struct db *db, int64_t since_ms, const char *resource,
		       const char *host, int limit,
		       int (*fn)(const struct db_sample *s, void *arg), void *arg);

/* Row counts, for metrics and tests. */
int64_t db_count_samples(struct db *db);
int64_t db_count_events(struct db *db);

#endif /* MARS_CLUSTERD_DB_H */
