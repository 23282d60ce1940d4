-- The status page's history (clusterd/db.c).  Schema version 1: bump
-- DB_SCHEMA_VERSION in clusterd/db.h and the value below together.
PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS meta (
	key	TEXT PRIMARY KEY,
	value	TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');

-- One row per replica and sample period.
CREATE TABLE IF NOT EXISTS samples (
	t_ms		INTEGER NOT NULL,	-- realtime, ms since the epoch
	resource	TEXT NOT NULL,
	host		TEXT NOT NULL,
	lag_bytes	INTEGER NOT NULL,
	lag_s		REAL NOT NULL,
	replay_pos	INTEGER NOT NULL,
	logfile_bytes	INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_t ON samples (t_ms);
CREATE INDEX IF NOT EXISTS samples_rh ON samples (resource, host, t_ms);

-- Role changes, member joins and leaves, split brain, emergency, alerts.
CREATE TABLE IF NOT EXISTS events (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	t_ms		INTEGER NOT NULL,
	kind		TEXT NOT NULL,
	resource	TEXT NOT NULL,
	host		TEXT NOT NULL,
	detail		TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_t ON events (t_ms);
