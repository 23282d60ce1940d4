/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sqlite history, the pkgin way: schema compiled in from schema.sql, one
 * query wrapper (db_prepare) that remembers which named statement failed,
 * a schema-version check at open, savepoints around multi-row work.
 * The daemon is single-threaded and the only writer; WAL mode lets
 * `sqlite3 status.db` read while it runs.
 *
 * The history names members, devices and events of the cluster: only the
 * daemon's user may read it.  The file is created 0600 before sqlite
 * opens it (sqlite gives its -wal and -shm files the database's mode),
 * and an existing file with group or other bits is tightened, with a note
 * for the log, rather than refused: a restart must not lose the history
 * over a mode an older clusterd or a copy left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clusterd/status/db.h"
#include "clusterd/status/db_queries.h"

static const char schema_sql[] = {
#include "clusterd/status/schema.inc"
	0
};

struct db {
	sqlite3 *h;
	const char *stmt_name;		/* statement of the last error */
	char err[512];
};

#define db_prepare(db, q, st) db_prepare_named((db), #q, q, (st))

static int
db_fail(struct db *db, const char *name)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", name, sqlite3_errmsg(db->h));
	db->stmt_name = name;
	return -EIO;
}

static int
db_prepare_named(struct db *db, const char *name, const char *sql, sqlite3_stmt **st)
{
	db->stmt_name = name;
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, name);
	}
	return 0;
}

/* Run a statement without results; @name for the error message. */
static int
db_exec_named(struct db *db, const char *name, const char *sql)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, name);
	return 0;
}
#define db_exec(db, q) db_exec_named((db), #q, q)

/* Step a prepared statement to completion and finalize it. */
static int
db_done(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(db, db->stmt_name);
	return 0;
}

const char *
db_error(const struct db *db)
{
	return db->err;
}

static int
check_version(struct db *db)
{
	sqlite3_stmt *st;
	int ret, v = -1;

	ret = db_prepare(db, Q_SCHEMA_VERSION, &st);
	if (ret < 0)
		return ret;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v != DB_SCHEMA_VERSION) {
		snprintf(db->err, sizeof(db->err),
			 "schema version %d, this clusterd needs %d", v, DB_SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* Make @path (created if @create) a regular file with no group or other bits. */
static int
restrict_one(struct db *db, const char *path, int create, char *note, size_t notelen)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && errno == ENOENT && !create)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(db->err, sizeof(db->err), "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(db->err, sizeof(db->err), "'%s' is not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if (!(st.st_mode & 077))
		goto out;
	if (fchmod(fd, st.st_mode & 0700) < 0) {
		ret = -errno;
		snprintf(db->err, sizeof(db->err), "cannot chmod 600 '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	snprintf(note, notelen, "mode of '%s' tightened from %04o to %04o", path,
		 (unsigned)(st.st_mode & 07777), (unsigned)(st.st_mode & 07700));
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The database and the side files sqlite may have left. */
static int
restrict_files(struct db *db, const char *path, char *note, size_t notelen)
{
	static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
	char side[4096];
	int ret = restrict_one(db, path, 1, note, notelen);

	for (size_t i = 0; ret == 0 && i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (snprintf(side, sizeof(side), "%s%s", path, suffixes[i]) >= (int)sizeof(side))
			break;
		ret = restrict_one(db, side, 0, note, notelen);
	}
	return ret;
}

int
db_open(struct db **dbp, const char *path, char *err, size_t errlen)
{
	struct db *db = calloc(1, sizeof(*db));
	int ret;

	*dbp = NULL;
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	err[0] = '\0';
	ret = restrict_files(db, path, err, errlen);
	if (ret < 0)
		goto out;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		ret = db_fail(db, "open");
		goto out;
	}
	sqlite3_busy_timeout(db->h, 100);
	/* An existing database of another version must not be "upgraded" by
	 * the IF NOT EXISTS statements, so probe the version first. */
	ret = check_version(db);
	if (ret == -EPROTO)
		goto out;
	ret = db_exec_named(db, "schema.sql", schema_sql);
	if (ret == 0)
		ret = check_version(db);
out:
	if (ret < 0) {
		snprintf(err, errlen, "%s", db->err);
		db_close(db);
		return ret;
	}
	*dbp = db;
	return 0;
}

void
db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db);
}

static int
sample_insert(struct db *db, const struct db_sample *s)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, Q_SAMPLE_INSERT, &st);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, s->t_ms);
	sqlite3_bind_text(st, 2, s->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->lag_bytes);
	sqlite3_bind_double(st, 5, s->lag_s);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->replay_pos_bytes);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)s->logfile_bytes);
	return db_done(db, st);
}

int
db_samples_add(struct db *db, const struct db_sample *s, size_t n)
{
	int ret = db_exec(db, Q_SAVEPOINT);

	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = sample_insert(db, &s[i]);
	if (ret < 0) {
		db_exec(db, Q_ROLLBACK);
		db_exec(db, Q_RELEASE);
		return ret;
	}
	return db_exec(db, Q_RELEASE);
}

int
db_event_add(struct db *db, struct db_event *ev)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, Q_EVENT_INSERT, &st);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, ev->t_ms);
	sqlite3_bind_text(st, 2, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->resource ? ev->resource : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->host ? ev->host : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->detail ? ev->detail : "", -1, SQLITE_STATIC);
	ret = db_done(db, st);
	if (ret == 0)
		ev->id = sqlite3_last_insert_rowid(db->h);
	return ret;
}

static int
exec_int(struct db *db, const char *name, const char *sql, int64_t v)
{
	sqlite3_stmt *st;
	int ret = db_prepare_named(db, name, sql, &st);

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, v);
	return db_done(db, st);
}
#define db_exec_int(db, q, v) exec_int((db), #q, q, (v))

int
db_prune(struct db *db, int64_t now_ms, int64_t max_age_ms, int64_t max_rows)
{
	int ret = db_exec(db, Q_SAVEPOINT);

	if (ret == 0)
		ret = db_exec_int(db, Q_SAMPLES_PRUNE_AGE, now_ms - max_age_ms);
	if (ret == 0)
		ret = db_exec_int(db, Q_EVENTS_PRUNE_AGE, now_ms - max_age_ms);
	if (ret == 0)
		ret = db_exec_int(db, Q_SAMPLES_PRUNE_ROWS, max_rows);
	if (ret == 0)
		ret = db_exec_int(db, Q_EVENTS_PRUNE_ROWS, max_rows);
	if (ret < 0) {
		db_exec(db, Q_ROLLBACK);
		db_exec(db, Q_RELEASE);
		return ret;
	}
	return db_exec(db, Q_RELEASE);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

int
db_events_foreach(struct db *db, int64_t after_id, int limit,
		  int (*fn)(const struct db_event *ev, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, Q_EVENTS_SELECT, &st), rc;

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0) {
		struct db_event ev = {
			.id = sqlite3_column_int64(st, 0),
			.t_ms = sqlite3_column_int64(st, 1),
			.kind = col_text(st, 2), .resource = col_text(st, 3),
			.host = col_text(st, 4), .detail = col_text(st, 5),
		};
		ret = fn(&ev, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_fail(db, "Q_EVENTS_SELECT");
	sqlite3_finalize(st);
	return ret;
}

int
db_samples_foreach(struct db *db, int64_t since_ms, const char *resource,
		   const char *host, int limit,
		   int (*fn)(const struct db_sample *s, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, Q_SAMPLES_SELECT, &st), rc;

	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, since_ms);
	if (resource)
		sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
	if (host)
		sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ret == 0) {
		struct db_sample s = {
			.t_ms = sqlite3_column_int64(st, 0),
			.resource = col_text(st, 1), .host = col_text(st, 2),
			.lag_bytes = (uint64_t)sqlite3_column_int64(st, 3),
			.lag_s = sqlite3_column_double(st, 4),
			.replay_pos_bytes = (uint64_t)sqlite3_column_int64(st, 5),
			.logfile_bytes = (uint64_t)sqlite3_column_int64(st, 6),
		};
		ret = fn(&s, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_fail(db, "Q_SAMPLES_SELECT");
	sqlite3_finalize(st);
	return ret;
}

static int64_t
count(struct db *db, const char *name, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (db_prepare_named(db, name, sql, &st) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int64_t
db_count_samples(struct db *db)
{
	return count(db, "Q_SAMPLES_COUNT", Q_SAMPLES_COUNT);
}

int64_t
db_count_events(struct db *db)
{
	return count(db, "Q_EVENTS_COUNT", Q_EVENTS_COUNT);
}
