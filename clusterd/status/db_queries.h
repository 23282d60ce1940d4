/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every SQL statement of the history database, named.  Included by
 * clusterd/status/db.c only; the names appear in error messages.
 */
#ifndef MARS_CLUSTERD_DB_QUERIES_H
#define MARS_CLUSTERD_DB_QUERIES_H

#define Q_SCHEMA_VERSION \
	"SELECT value FROM meta WHERE key = 'schema_version'"
#define Q_SAMPLE_INSERT \
	"INSERT INTO samples (t_ms, resource, host, lag_bytes, lag_s, replay_pos, " \
	"logfile_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)"
#define Q_EVENT_INSERT \
	"INSERT INTO events (t_ms, kind, resource, host, detail) VALUES (?, ?, ?, ?, ?)"
#define Q_SAMPLES_PRUNE_AGE	"DELETE FROM samples WHERE t_ms < ?"
#define Q_EVENTS_PRUNE_AGE	"DELETE FROM events WHERE t_ms < ?"
#define Q_SAMPLES_PRUNE_ROWS \
	"DELETE FROM samples WHERE rowid <= (SELECT rowid FROM samples " \
	"ORDER BY rowid DESC LIMIT 1 OFFSET ?)"
#define Q_EVENTS_PRUNE_ROWS \
	"DELETE FROM events WHERE id <= (SELECT id FROM events " \
	"ORDER BY id DESC LIMIT 1 OFFSET ?)"
#define Q_EVENTS_SELECT \
	"SELECT id, t_ms, kind, resource, host, detail FROM events " \
	"WHERE id > ? ORDER BY id LIMIT ?"
#define Q_SAMPLES_SELECT \
	"SELECT t_ms, resource, host, lag_bytes, lag_s, replay_pos, logfile_bytes " \
	"FROM samples WHERE t_ms >= ?1 AND (?2 IS NULL OR resource = ?2) " \
	"AND (?3 IS NULL OR host = ?3) ORDER BY t_ms LIMIT ?4"
#define Q_SAMPLES_COUNT		"SELECT count(*) FROM samples"
#define Q_EVENTS_COUNT		"SELECT count(*) FROM events"
#define Q_SAVEPOINT		"SAVEPOINT db_work"
#define Q_RELEASE		"RELEASE db_work"
#define Q_ROLLBACK		"ROLLBACK TO db_work"

#endif /* MARS_CLUSTERD_DB_QUERIES_H */
