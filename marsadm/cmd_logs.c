/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile rotation and deletion, the tree side.
 *
 * log-rotate (on the designated primary) closes the newest logfile: its
 * version link gets the file's final length, the next number gets an
 * empty logfile and a version link extending the closed one, and maxnr
 * follows.  The logger of the engine picks up the new file.
 *
 * log-delete removes, cluster-wide, every logfile that all members have
 * replayed (numbered below the lowest replay link): the local file is
 * unlinked and a tombstone for its name spreads the deletion to every
 * node.  Version links are kept one logfile longer.  A member that lags
 * holds the limit for everybody; log-delete names it, how long it has
 * not moved, and the fix.  cron runs log-delete for every resource this
 * node stores and then collects old tombstones.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>


#include "repl/repl.h"

/* ---- log-rotate ----------------------------------------------------------- */

/* The size of a local logfile: 0 only while it holds no record (zeros
 * are preallocated after the first), so "is it empty" may ask it. */
static uint64_t
local_size(struct statefs *sf, const char *res, uint64_t nr, const char *origin)
{
	char name[MARS_LOGNAME_MAX + 1];
	struct stat st;

	if (mars_logname_format(name, sizeof(name), nr, origin) < 0)
		return 0;
	return statefs_file_stat(sf, res, name, &st) == 0 && S_ISREG(st.st_mode) ?
	       (uint64_t)st.st_size : 0;
}

/*
 * The length of a local logfile for its closed version link: where its
 * records end, not its size.  Without an engine (the only case this
 * command closes links itself) a logfile a killed engine left keeps its
 * preallocated zeros until recovery; secondaries must never be told a
 * length that includes them (docs/logfile-format.md 1.1).
 */
static uint64_t
local_log_length(struct statefs *sf, const char *res, uint64_t nr, const char *origin)
{
	char name[MARS_LOGNAME_MAX + 1];
	uint64_t len;

	if (mars_logname_format(name, sizeof(name), nr, origin) < 0 ||
	    repl_log_length(sf, res, name, &len) < 0)
		return 0;
	return len;
}

static int
rotate_check(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res,
	     const struct repl_link *last)
{
	char p[STATEFS_NAME_MAX + 1], key[STATE_KEY_BYTES];

	statefs_resource_keyf(key, STATE_KEY_BYTES, res, "primary");
	if (statefs_get(sf, key, p, sizeof(p), NULL) < 0 || strcmp(p, ctx->host)) {
		fail(MX_REFUSED, "'%s' is not the designated primary of '%s'", ctx->host, res);
		hint("only the primary rotates its logfiles; run it there");
		return MX_REFUSED;
	}
	if (!last) {
		fail(MX_CORRUPT, "'%s' has no version link of its own for '%s'", ctx->host, res);
		hint("the history of this node is broken; 'marsadm view %s' and invalidate", res);
		return MX_CORRUPT;
	}
	return MX_OK;
}

/* Queue the closed link for the newest logfile and the next one. */
static int
rotate_ops(struct statefs_txn *t, struct statefs *sf, const char *res, const char *host,
	   const struct repl_link *last, uint64_t *next_nr)
{
	char key[STATE_KEY_BYTES], closed[STATEFS_VALUE_MAX + 1], next[STATEFS_VALUE_MAX + 1];
	struct repl_version c;
	int ret;

	snprintf(closed, sizeof(closed), "%s:%s", last->v.section, last->v.prev);
	if (!strcmp(last->v.origin, host)) {	/* our own logfile: its final length */
		ret = repl_version_relength(closed, sizeof(closed), closed,
					    local_log_length(sf, res, last->nr, host));
		if (ret < 0)
			return ret;
	}
	*next_nr = last->nr + 1;
	if ((ret = repl_version_parse(closed, &c)) < 0 ||
	    (ret = repl_version_make(next, sizeof(next), *next_nr, host, 0, c.section)) < 0 ||
	    (ret = state_version_key(key, res, last->nr, host)) < 0)
		return ret;
	statefs_txn_set(t, key, closed);
	if ((ret = state_version_key(key, res, *next_nr, host)) < 0)
		return ret;
	statefs_txn_set(t, key, next);
	snprintf(closed, sizeof(closed), "%" PRIu64, *next_nr);
	statefs_resource_keyf(key, STATE_KEY_BYTES, res, "maxnr");
	return statefs_txn_set(t, key, closed);
}

static int
create_logfile(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res, uint64_t nr)
{
	char name[MARS_LOGNAME_MAX + 1];
	int fd;

	if (mars_logname_format(name, sizeof(name), nr, ctx->host) < 0)
		return fail(MX_REFUSED, "logfile number %" PRIu64 " is past 999999999", nr);
	if (ctx->dry_run) {
		printf("create resource-%s/%s\n", res, name);
		return MX_OK;
	}
	fd = statefs_file_open(sf, res, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 && fd != -EEXIST)
		return fail(MX_IO, "cannot create '%s/resource-%s/%s': %s", ctx->root, res, name,
			    strerror(-fd));
	if (fd >= 0)
		close(fd);
	return MX_OK;
}

/*
 * While the engine logs, only the replication driver knows when its
 * logfile swapped, so the rotation is asked of it (todo-HOST/rotate) and
 * awaited (local-HOST/rotated), bounded.
 */
#define ROTATE_WAIT_S	30

static int
rotate_request(struct marsadm_ctx *ctx, struct statefs *sf, const char *res, int *changed)
{
	struct timespec pause = { 0, 100 * 1000000L };
	char key[STATE_KEY_BYTES], v[32], done_key[STATE_KEY_BYTES];
	uint64_t want, done;
	struct statefs_txn t;
	time_t start = time(NULL);
	int ret, n = 0;

	snprintf(done_key, sizeof(done_key), "local-%s/rotated", ctx->host);
	snprintf(key, sizeof(key), "todo-%s/rotate", ctx->host);
	done = res_u64(sf, res, done_key, 0);
	want = res_u64(sf, res, key, 0);
	want = (want > done ? want : done) + 1;
	snprintf(v, sizeof(v), "%" PRIu64, want);
	statefs_resource_keyf(key, STATE_KEY_BYTES, res, "todo-%s/rotate", ctx->host);
	statefs_txn_init(&t, sf, 0);
	statefs_txn_set(&t, key, v);
	ret = state_apply(ctx, &t, &n);
	statefs_txn_release(&t);
	*changed += n;
	if (ret != MX_OK || ctx->dry_run)
		return ret;
	while (res_u64(sf, res, done_key, 0) < want) {
		if (time(NULL) - start >= ROTATE_WAIT_S) {
			fail(MX_TIMEOUT, "'%s': the rotation was not done within %d s", res,
			     ROTATE_WAIT_S);
			hint("the replication driver of clusterd does it; is clusterd running here?");
			return MX_TIMEOUT;
		}
		nanosleep(&pause, NULL);
	}
	return MX_OK;
}

static int
engine_logs(struct statefs *sf, const char *res, const char *host)
{
	char key[STATE_KEY_BYTES];

	snprintf(key, sizeof(key), "actual-%s/is-primary", host);
	return res_u64(sf, res, key, 0) == 1;
}

static int
rotate_one(struct marsadm_ctx *ctx, struct statefs *sf, const char *res, int *changed)
{
	const struct repl_link *last;
	struct repl_history h;
	struct statefs_txn t;
	uint64_t next = 0;
	int ret, n = 0;

	if (repl_history_load(sf, res, &h) < 0)
		return fail(MX_IO, "cannot read the version links of '%s'", res);
	last = repl_history_last(&h, ctx->host);
	ret = rotate_check(ctx, sf, res, last);
	if (ret == MX_OK && engine_logs(sf, res, ctx->host)) {
		repl_history_release(&h);
		return rotate_request(ctx, sf, res, changed);
	}
	if (ret == MX_OK && !ctx->force && !strcmp(last->v.origin, ctx->host) &&
	    local_size(sf, res, last->nr, ctx->host) == 0) {
		note(ctx, 0, "'%s': logfile %09" PRIu64 " is empty, nothing to rotate", res, last->nr);
		repl_history_release(&h);
		return MX_OK;
	}
	statefs_txn_init(&t, sf, 0);
	if (ret == MX_OK && rotate_ops(&t, sf, res, ctx->host, last, &next) < 0)
		ret = fail(MX_CORRUPT, "cannot extend the version link of logfile %09" PRIu64, last->nr);
	if (ret == MX_OK)
		ret = create_logfile(ctx, sf, res, next);
	if (ret == MX_OK)
		ret = state_apply(ctx, &t, &n);
	*changed += n;
	statefs_txn_release(&t);
	repl_history_release(&h);
	return ret;
}

static int
cmd_log_rotate(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct state_res s;
	int ret, changed = 0;
	size_t i;

	ret = state_res_open(ctx, &s, argv[1], RES_MEMBER);
	if (ret != MX_OK)
		return ret;
	for (i = 0; ret == MX_OK && i < s.rl.n; i++)
		ret = rotate_one(ctx, s.sf, s.rl.names[i], &changed);
	return state_res_finish(ctx, &s, ret, changed);
}

/* ---- log-delete ----------------------------------------------------------- */

static int
unlink_files(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res,
	     const struct repl_deletion *d)
{
	size_t i, failed = 0;
	int ret;

	if (ctx->dry_run) {
		for (i = 0; i < d->n_files; i++)
			printf("unlink resource-%s/%s\n", res, d->files[i]);
		return MX_OK;
	}
	ret = repl_delete_files(sf, res, d, &failed);
	if (ret)
		return fail(MX_IO, "cannot delete '%s/resource-%s/%s': %s", ctx->root, res,
			    d->files[failed], strerror(-ret));
	return MX_OK;
}

static void
report_blocker(const struct marsadm_ctx *ctx, const char *res, const struct repl_deletion *d)
{
	uint64_t now = statefs_realtime_ns(), s;
	const struct repl_replay *b = d->blocker;

	if (!b || ctx->json)
		return;
	s = now > b->stamp_ns && b->stamp_ns ? (now - b->stamp_ns) / STATEFS_NS_PER_S : 0;
	warning("'%s': logfile deletion is blocked by '%s' at logfile %09" PRIu64
		", which has not moved for %" PRIu64 " s", res, b->host, b->valid ? b->nr : 0, s);
	hint("bring '%s' up to date, or 'marsadm leave-resource %s' there "
	     "(--host=%s --force from another node if it is gone)", b->host, res, b->host);
}

static int
delete_json(const char *res, const struct repl_deletion *d)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	for (i = 0; i < d->n_files; i++)
		json_object_array_add(a, json_object_new_string(d->files[i]));
	json_object_object_add(o, "resource", json_object_new_string(res));
	json_object_object_add(o, "deleted", a);
	json_object_object_add(o, "blocked_by", d->blocker ?
			       json_object_new_string(d->blocker->host) : NULL);
	return print_json(o);
}

static int
delete_one(struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	static struct repl_deletion d;
	struct statefs_txn t;
	int ret;

	statefs_txn_init(&t, sf, STATEFS_TXN_ANY_OWNER);
	if (repl_delete_plan(sf, res, ctx->host, &d, &t) < 0) {
		statefs_txn_release(&t);
		return fail(MX_IO, "cannot read resource '%s' in '%s'", res, ctx->root);
	}
	ret = unlink_files(ctx, sf, res, &d);
	if (ret == MX_OK)
		ret = state_apply(ctx, &t, NULL);
	if (ret == MX_OK && ctx->json && !ctx->dry_run)
		ret = delete_json(res, &d);
	if (ret == MX_OK)
		report_blocker(ctx, res, &d);
	if (ret == MX_OK && !ctx->json && !ctx->dry_run)
		note(ctx, 1, "'%s': %zu logfile%s deleted", res, d.n_files, d.n_files == 1 ? "" : "s");
	statefs_txn_release(&t);
	return ret;
}

static int
delete_all(struct marsadm_ctx *ctx, const char *arg, int collect)
{
	struct state_res s;
	int ret, gc;
	size_t i;

	ret = state_res_open(ctx, &s, arg, RES_MEMBER);
	if (ret != MX_OK)
		return ret;
	for (i = 0; ret == MX_OK && i < s.rl.n; i++)
		ret = delete_one(ctx, s.sf, s.rl.names[i]);
	if (ret == MX_OK && collect && !ctx->dry_run && (gc = statefs_gc(s.sf, NULL)) < 0)
		ret = fail(MX_IO, "cannot collect tombstones in '%s': %s", ctx->root, strerror(-gc));
	state_res_close(&s);
	return ret;
}

static int
cmd_log_delete(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return delete_all(ctx, argv[1], 0);
}

static int
cmd_cron(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return delete_all(ctx, NULL, 1);
}

const struct cmd cmds_logs[] = {
	{ .name = "log-rotate", .fn = cmd_log_rotate,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OPT_FORCE,
	  .usage = "RES|all",
	  .help = "start the next logfile on the primary (--force: even after an empty one)" },
	{ .name = "log-delete", .fn = cmd_log_delete,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "RES|all",
	  .help = "delete on all nodes every logfile that all members have replayed" },
	{ .name = "cron", .fn = cmd_cron,
	  .flags = CMD_NEED_TREE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "",
	  .help = "log-delete for every resource of this node, then collect old tombstones" },
	{ .name = NULL },
};
