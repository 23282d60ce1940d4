/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Membership of a resource and the resolution of a split brain, as far as
 * the state tree goes (the full sync itself is the daemon's):
 *
 *  - join-resource: this node becomes a member that starts from the
 *    designated primary's current logfile: its replay link points at the
 *    start of it, the primary's version links for it and the one before
 *    are copied as its own, skip-check allows the jump in its chain, and
 *    syncstatus 0 asks for a full sync.
 *  - invalidate: the same restart for a member whose history diverged:
 *    its version links and logfiles past the divergence are removed
 *    (its own logfiles cluster-wide, by tombstone) before it rejoins the
 *    primary's history.
 *  - log-purge-all: only the removal, the last resort when invalidate is
 *    not wanted yet.
 *  - leave-resource: tombstones for every name of this node in the
 *    resource; a member that stays away thereby stops blocking logfile
 *    deletion for the others.
 *
 * Logfiles are regular files, so removing one is two steps: unlink the
 * file, then write its tombstone in the transaction.  The files go first
 * (a link cannot replace a file), so a failed commit leaves them gone but
 * unannounced; running the command again completes it.
 */
#include "common/xalloc.h"
#include "marsadm/state.h"
#include "view/view.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "repl/repl.h"

/* A local logfile operation done before the commit. */
struct file_op {
	const char *res;
	char name[MARS_LOGNAME_MAX + 1];
	uint64_t truncate_to;		/* UINT64_MAX: unlink */
};

/* All of them, as many as the history has logfiles (no cap: an operation
 * left out would leave a logfile whose tombstone is committed). */
struct file_ops {
	struct file_op *op;
	size_t n, cap;
};

static void
res_set(struct statefs_txn *t, const char *res, const char *key, const char *value)
{
	char path[STATE_KEY_BYTES];

	statefs_resource_keyf(path, STATE_KEY_BYTES, res, "%s", key);
	statefs_txn_set(t, path, value);
}

/* The designated primary into @p; MX_REFUSED (explained) if none. */
static int
designated(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res, char *p, size_t n)
{
	if (res_get(sf, res, "primary", p, n) >= 0 && strcmp(p, STATEFS_NONE))
		return MX_OK;
	fail(MX_REFUSED, "resource '%s' has no designated primary", res);
	hint("run 'marsadm primary %s' on the member whose data is to be kept", res);
	return MX_REFUSED;
}

/* The primary's replay link: where a (re)joining member starts. */
static int
primary_replay(struct statefs *sf, const char *res, const char *p, struct repl_replay *r)
{
	char key[STATE_KEY_BYTES], v[STATEFS_VALUE_MAX + 1];

	snprintf(key, sizeof(key), "replay-%s", p);
	if (res_get(sf, res, key, v, sizeof(v)) < 0 || repl_replay_parse(v, r) < 0) {
		fail(MX_REFUSED, "the primary '%s' of '%s' has no valid replay link", p, res);
		hint("wait until its state has arrived here ('marsadm wait-cluster')");
		return MX_REFUSED;
	}
	return MX_OK;
}

/* replay-, skip-check-, syncstatus- and the primary's links N-1, N as ours. */
static void
restart_ops(struct statefs_txn *t, const struct repl_history *h, const char *res,
	    const char *host, const char *p, const struct repl_replay *r)
{
	char key[STATE_KEY_BYTES], v[STATEFS_VALUE_MAX + 1];
	struct mars_replaylink start = { .log.nr = (uint32_t)r->nr };
	const struct repl_link *l;
	uint64_t nr;

	snprintf(key, sizeof(key), "replay-%s", host);
	memcpy(start.log.host, r->origin, sizeof(start.log.host));	/* r parsed: fits */
	if (mars_replaylink_format(v, sizeof(v), &start) >= 0)
		res_set(t, res, key, v);
	for (nr = r->nr ? r->nr - 1 : 0; nr <= r->nr; nr++) {
		l = repl_history_link(h, p, nr);
		if (!l || mars_vername_format(key, sizeof(key), nr, host) < 0)
			continue;
		snprintf(v, sizeof(v), "%s:%s", l->v.section, l->v.prev);
		res_set(t, res, key, v);
	}
	snprintf(key, sizeof(key), "skip-check-%s", host);
	snprintf(v, sizeof(v), "%" PRIu64, r->nr);
	res_set(t, res, key, v);
	snprintf(key, sizeof(key), "syncstatus-%s", host);
	res_set(t, res, key, "0");
}

static void
file_op(struct file_ops *f, const char *res, const char *name, uint64_t truncate_to)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->op = xrealloc(f->op, f->cap * sizeof(*f->op));
	}
	f->op[f->n].res = res;
	snprintf(f->op[f->n].name, sizeof(f->op[f->n].name), "%s", name);
	f->op[f->n++].truncate_to = truncate_to;
}

/*
 * Queue the removal of this node's history from logfile @first on: its
 * version links (except @keep_lo..@keep_hi, which the caller sets), its
 * own logfiles that are not on the primary's history (cluster-wide), and
 * local copies of others' logfiles that are not on it either.  A local
 * logfile that is on it but longer is cut to the primary's length.
 */
static void
purge_ops(struct statefs_txn *t, struct file_ops *f, const struct repl_history *h,
	  const char *res, const char *host, const char *p, uint64_t first,
	  uint64_t keep_lo, uint64_t keep_hi)
{
	char key[STATE_KEY_BYTES], name[STATE_KEY_BYTES];
	const struct repl_logfile *lf;
	const struct repl_link *pl;
	size_t i;

	for (i = 0; i < h->n_links; i++) {
		if (strcmp(h->links[i].host, host) || h->links[i].nr < first ||
		    (h->links[i].nr >= keep_lo && h->links[i].nr <= keep_hi))
			continue;
		if (state_version_key(key, res, h->links[i].nr, host) == 0)
			statefs_txn_delete(t, key);
	}
	for (i = 0; i < h->n_files; i++) {
		lf = &h->files[i];
		if (lf->nr < first)
			continue;
		if (mars_logname_format(name, sizeof(name), lf->nr, lf->origin) < 0)
			continue;	/* the loader parsed it: cannot happen */
		pl = repl_history_link(h, p, lf->nr);
		if (pl && !strcmp(pl->v.origin, lf->origin)) {
			if (lf->size_bytes > pl->v.len_bytes)
				file_op(f, res, name, pl->v.len_bytes);
			continue;
		}
		file_op(f, res, name, UINT64_MAX);
		if (!strcmp(lf->origin, host)) {
			statefs_resource_keyf(key, STATE_KEY_BYTES, res, "%s", name);
			statefs_txn_set(t, key, STATEFS_TOMBSTONE);
		}
	}
}

static int
file_ops_run(const struct marsadm_ctx *ctx, const struct statefs *sf, const struct file_ops *f)
{
	size_t i;
	int ret;

	for (i = 0; i < f->n; i++) {
		const struct file_op *o = &f->op[i];

		if (ctx->dry_run) {
			if (o->truncate_to == UINT64_MAX)
				printf("unlink resource-%s/%s\n", o->res, o->name);
			else
				printf("truncate resource-%s/%s %" PRIu64 "\n", o->res, o->name,
				       o->truncate_to);
			continue;
		}
		if (o->truncate_to == UINT64_MAX)
			ret = statefs_file_unlink(sf, o->res, o->name);
		else
			ret = statefs_file_truncate(sf, o->res, o->name, o->truncate_to);
		if (ret < 0 && ret != -ENOENT)
			return fail(MX_IO, "cannot remove '%s/resource-%s/%s': %s", ctx->root,
				    o->res, o->name, strerror(-ret));
	}
	return MX_OK;
}

/* Split between this node and @p: where this node's history must go from. */
static int
diverged_from(const struct repl_history *h, const char *host, const char *p, uint64_t *first)
{
	struct repl_split s;

	repl_split_pair(h, host, p, &s);
	if (!s.split) {
		struct repl_history files = *h;

		files.n_links = 0;	/* duplicate local logfiles only */
		repl_split_detect(&files, &s);
	}
	*first = s.nr;
	return s.split;
}

/* ---- the commands --------------------------------------------------------- */

typedef int member_fn(struct marsadm_ctx *ctx, struct statefs *sf, const struct res_list *rl,
		      char **argv);

/* Open the tree and run @fn on the one resource argv[1] names. */
static int
on_one_resource(struct marsadm_ctx *ctx, char **argv, unsigned flags, member_fn *fn)
{
	struct state_res s;
	int ret = state_res_open(ctx, &s, argv[1], flags | RES_NO_ALL);

	if (ret != MX_OK)
		return ret;
	if (s.rl.n != 1)
		ret = usage_error(ctx->cmd, "'%s' takes one resource", ctx->cmd->name);
	else
		ret = fn(ctx, s.sf, &s.rl, argv);
	state_res_close(&s);
	return ret;
}

static int
history_load(struct statefs *sf, const char *res, struct repl_history *h)
{
	if (repl_history_load(sf, res, h) < 0)
		return fail(MX_IO, "cannot read the version links of '%s'", res);
	return MX_OK;
}

/*
 * The primary @p's links for the logfile of its replay link @r (N) and
 * the one before, which a restart copies, agree: link N exists and its
 * previous section is link N-1's.  Not so for a moment after a rotation:
 * the engine moves the replay link to logfile N before the driver
 * publishes N-1's final length and link N, and a copy taken then would
 * chain from N-1's unfinished length, a history that diverges from the
 * primary's (a false split brain at the next switch).
 */
static int
history_settled(const struct repl_history *h, const char *p, const struct repl_replay *r)
{
	const struct repl_link *cur = repl_history_link(h, p, r->nr), *prev;

	if (!cur)
		return 0;
	if (!cur->v.has_prev)
		return 1;
	prev = repl_history_link(h, p, cur->v.prev_nr);
	return prev && !strcmp(prev->v.section, cur->v.prev);
}

static int
primary_settled(struct statefs *sf, const char *res, const char *p)
{
	char key[STATE_KEY_BYTES], v[STATEFS_VALUE_MAX + 1];
	struct repl_history h;
	struct repl_replay r;
	int ok;

	snprintf(key, sizeof(key), "replay-%s", p);
	if (res_get(sf, res, key, v, sizeof(v)) < 0 || repl_replay_parse(v, &r) < 0)
		return 1;	/* primary_replay() says what is wrong */
	if (repl_history_load(sf, res, &h) < 0)
		return 1;	/* history_load() does */
	ok = history_settled(&h, p, &r);
	repl_history_release(&h);
	return ok;
}

#define SETTLE_WAIT_S	60	/* a rotation's links arrive within seconds */

#define SETTLE_TRIES	3	/* rotations in a row between check and load */

/*
 * Where a (re)joining member starts: the primary @p's replay link and the
 * history, once the primary's links for it have settled (bounded by
 * --timeout; with 0 an unsettled history is refused).  The loaded pair is
 * checked again: the primary may rotate between the check and the load.
 */
static int
restart_point(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res,
	      const char *p, struct repl_replay *r, struct repl_history *h)
{
	int limit = ctx->timeout_s < 0 || ctx->timeout_s > SETTLE_WAIT_S ? SETTLE_WAIT_S :
		    ctx->timeout_s;
	char what[STATE_KEY_BYTES + 64];
	int ret, tries;

	snprintf(what, sizeof(what), "the version links of '%s' from '%s'", res, p);
	for (tries = 0; tries < SETTLE_TRIES; tries++) {
		if (!primary_settled(sf, res, p) &&
		    (limit <= 0 || state_wait(sf, res, p, limit, primary_settled, what) != MX_OK))
			break;
		ret = primary_replay(sf, res, p, r);
		if (ret == MX_OK)
			ret = history_load(sf, res, h);
		if (ret != MX_OK || history_settled(h, p, r))
			return ret;
		repl_history_release(h);
	}
	fail(limit <= 0 ? MX_REFUSED : MX_TIMEOUT, "the history of '%s' on '%s' is moving: "
	     "its version links for the current logfile have not arrived here", res, p);
	hint("they follow a rotation within seconds; run the command again "
	     "(check 'marsadm view %s' and the connection to '%s')", res, p);
	return limit <= 0 ? MX_REFUSED : MX_TIMEOUT;
}

/* Apply the file ops, then @t, then report; releases @t, @f and @h. */
static int
finish(struct marsadm_ctx *ctx, struct statefs *sf, struct statefs_txn *t,
       struct file_ops *f, struct repl_history *h, const struct res_list *rl)
{
	int changed = 0, ret = file_ops_run(ctx, sf, f);

	if (ret == MX_OK)
		ret = state_apply(ctx, t, &changed);
	if (ret == MX_OK)
		ret = state_report(ctx, rl, changed + (int)f->n);
	statefs_txn_release(t);
	free(f->op);
	repl_history_release(h);
	return ret;
}

/*
 * This node's data path has left the primary role: its engine does not
 * log, and the driver, if it runs, has finished leaving (its last step
 * writes the replay link, which invalidate is about to move).
 */
static int
left_primary(struct statefs *sf, const char *res, const char *host)
{
	char key[STATE_KEY_BYTES], v[8], mode[16];

	snprintf(key, sizeof(key), "actual-%s/is-primary", host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0 && !strcmp(v, "1"))
		return 0;
	return !view_driver_runs(sf, res, mode, sizeof(mode)) || strcmp(mode, "primary");
}

/* After a failover this node may still log; its driver leaves the role
 * once it learns of the new primary.  Wait for that, bounded. */
static int
wait_left_primary(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	int limit = ctx->timeout_s < 0 ? INT_MAX : ctx->timeout_s;
	int may_wait = !ctx->dry_run && limit > 0;
	char what[STATE_KEY_BYTES + 64], why[512];

	if (left_primary(sf, res, ctx->host))
		return MX_OK;
	snprintf(what, sizeof(what), "'%s' to leave the primary role of '%s'", ctx->host, res);
	if (may_wait && state_wait(sf, res, ctx->host, limit, left_primary, what) == MX_OK)
		return MX_OK;
	/* What the driver says it waits for is what the operator needs. */
	if (!view_driver_fresh_why(sf, res, why, sizeof(why)) || !why[0])
		snprintf(why, sizeof(why), "no word from clusterd");
	fail(may_wait ? MX_TIMEOUT : MX_REFUSED, "'%s' still logs as primary of '%s' (%s)",
	     ctx->host, res, why);
	hint("close its device (umount); clusterd then leaves the role, or 'marsadm down %s' "
	     "stops the engine", res);
	return may_wait ? MX_TIMEOUT : MX_REFUSED;
}

static int
invalidate_one(struct marsadm_ctx *ctx, struct statefs *sf, const struct res_list *rl,
	       char **argv)
{
	const char *res = rl->names[0];
	char p[STATEFS_NAME_MAX + 1];
	struct repl_history h;
	struct repl_replay r;
	struct statefs_txn t;
	struct file_ops f = { 0 };
	uint64_t first;
	int ret = designated(ctx, sf, res, p, sizeof(p));

	if (ret == MX_OK && !strcmp(p, ctx->host)) {
		fail(MX_REFUSED, "'%s' is the designated primary of '%s'; its history is the one kept",
		     ctx->host, res);
		hint("invalidate the other side, or make another member primary first");
		return MX_REFUSED;
	}
	if (ret == MX_OK)
		ret = wait_left_primary(ctx, sf, res);
	if (ret == MX_OK)
		ret = restart_point(ctx, sf, res, p, &r, &h);
	if (ret != MX_OK)
		return ret;
	if (!diverged_from(&h, ctx->host, p, &first))
		first = r.nr + 1;
	statefs_txn_init(&t, sf, 0);
	purge_ops(&t, &f, &h, res, ctx->host, p, first, r.nr ? r.nr - 1 : 0, r.nr);
	restart_ops(&t, &h, res, ctx->host, p, &r);
	return finish(ctx, sf, &t, &f, &h, rl);
}

static int
cmd_invalidate(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return on_one_resource(ctx, argv, RES_MEMBER, invalidate_one);
}

static int
purge_one(struct marsadm_ctx *ctx, struct statefs *sf, const struct res_list *rl, char **argv)
{
	const char *res = rl->names[0];
	char p[STATEFS_NAME_MAX + 1];
	struct repl_history h;
	struct statefs_txn t;
	struct file_ops f = { 0 };
	uint64_t first;
	int ret = designated(ctx, sf, res, p, sizeof(p));

	if (ret == MX_OK)
		ret = history_load(sf, res, &h);
	if (ret != MX_OK)
		return ret;
	if (!strcmp(p, ctx->host) || !diverged_from(&h, ctx->host, p, &first)) {
		repl_history_release(&h);
		note(ctx, 0, "'%s': the history of '%s' does not diverge from the primary's; "
		     "nothing to purge", res, ctx->host);
		return state_report(ctx, rl, 0);
	}
	statefs_txn_init(&t, sf, 0);
	purge_ops(&t, &f, &h, res, ctx->host, p, first, 1, 0);
	ret = finish(ctx, sf, &t, &f, &h, rl);
	if (ret == MX_OK && !ctx->dry_run)
		hint("run 'marsadm invalidate %s' to rejoin the primary's history", res);
	return ret;
}

static int
cmd_log_purge_all(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return on_one_resource(ctx, argv, RES_MEMBER, purge_one);
}

/* ---- join-resource -------------------------------------------------------- */

static int
join_check(struct marsadm_ctx *ctx, struct statefs *sf, const char *res, const char *dev,
	   const struct repl_history *h)
{
	char size[32];
	uint64_t want = 0, have;
	struct repl_split s;
	int ret;

	if (statefs_is_member(sf, res, ctx->host) > 0) {
		fail(MX_REFUSED, "'%s' is already a member of '%s'", ctx->host, res);
		hint("'marsadm invalidate %s' restarts its sync", res);
		return MX_REFUSED;
	}
	if (repl_split_detect(h, &s)) {
		fail(MX_REFUSED, "'%s' is in split brain ('%s' and '%s' part at logfile %09" PRIu64 ")",
		     res, s.host_a, s.host_b, s.nr);
		hint("resolve it first ('marsadm view %s'); a new member would follow either side", res);
		return MX_REFUSED;
	}
	ret = state_dev_bytes(dev, &have);
	if (ret == MX_OK && res_get(sf, res, "size", size, sizeof(size)) >= 0)
		want = strtoull(size, NULL, 10);
	if (ret == MX_OK && have < want) {
		fail(MX_REFUSED, "device '%s' has %" PRIu64 " bytes, resource '%s' needs %" PRIu64,
		     dev, have, res, want);
		hint("grow the device first; nothing was changed");
		return MX_REFUSED;
	}
	return ret;
}

static int
join_one(struct marsadm_ctx *ctx, struct statefs *sf, const struct res_list *rl, char **argv)
{
	static const char *const todo[] = { "attach", "connect", "sync", "allow-replay", NULL };
	const char *res = rl->names[0], *dev = argv[2];
	char p[STATEFS_NAME_MAX + 1], key[STATE_KEY_BYTES];
	struct file_ops f = { 0 };
	struct repl_history h;
	struct repl_replay r;
	struct statefs_txn t;
	int ret = designated(ctx, sf, res, p, sizeof(p)), i;

	if (ret == MX_OK)
		ret = restart_point(ctx, sf, res, p, &r, &h);
	if (ret != MX_OK)
		return ret;
	ret = join_check(ctx, sf, res, dev, &h);
	if (ret != MX_OK) {
		repl_history_release(&h);
		return ret;
	}
	statefs_txn_init(&t, sf, 0);
	snprintf(key, sizeof(key), "data-%s", ctx->host);
	res_set(&t, res, key, dev);
	snprintf(key, sizeof(key), "device-%s", ctx->host);
	res_set(&t, res, key, res);
	restart_ops(&t, &h, res, ctx->host, p, &r);
	for (i = 0; todo[i]; i++) {
		snprintf(key, sizeof(key), "todo-%s/%s", ctx->host, todo[i]);
		res_set(&t, res, key, "1");
	}
	return finish(ctx, sf, &t, &f, &h, rl);
}

static int
cmd_join_resource(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return on_one_resource(ctx, argv, 0, join_one);
}

/* ---- leave-resource ------------------------------------------------------- */

static int
leave_check(struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	char v[STATEFS_NAME_MAX + 1], key[STATE_KEY_BYTES];

	if (ctx->force)
		return MX_OK;
	if (res_get(sf, res, "primary", v, sizeof(v)) >= 0 && !strcmp(v, ctx->host)) {
		fail(MX_REFUSED, "'%s' is the designated primary of '%s'", ctx->host, res);
		hint("hand over first ('marsadm primary %s' on another member)", res);
		return MX_REFUSED;
	}
	snprintf(key, sizeof(key), "todo-%s/attach", ctx->host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0 && !strcmp(v, "1")) {
		fail(MX_REFUSED, "'%s' is still attached to '%s'", res, ctx->host);
		hint("run 'marsadm down %s' first (or --force for a dead node, with --host)", res);
		return MX_REFUSED;
	}
	return MX_OK;
}

static void
leave_ops(struct statefs_txn *t, struct statefs *sf, const char *res, const char *host,
	  const struct repl_history *h)
{
	static const char *const keys[] = { "data", "device", "actsize", "replay", "syncstatus",
		"syncpos", "skip-check", "verifystatus", NULL };
	static const char *const dirs[] = { "todo", "actual", "defaults", "local", NULL };
	char key[STATE_KEY_BYTES];
	size_t i;

	for (i = 0; keys[i]; i++) {
		statefs_resource_keyf(key, STATE_KEY_BYTES, res, "%s-%s", keys[i], host);
		statefs_txn_delete(t, key);
	}
	for (i = 0; dirs[i]; i++) {
		statefs_resource_keyf(key, STATE_KEY_BYTES, res, "%s-%s", dirs[i], host);
		if (statefs_is_dir(sf, key) == 1)
			statefs_txn_delete_tree(t, key);
	}
	for (i = 0; i < h->n_links; i++) {
		if (strcmp(h->links[i].host, host))
			continue;
		if (state_version_key(key, res, h->links[i].nr, host) == 0)
			statefs_txn_delete(t, key);
	}
}

static int
leave_one(struct marsadm_ctx *ctx, struct statefs *sf, const struct res_list *rl, char **argv)
{
	const char *res = rl->names[0];
	struct file_ops f = { 0 };
	struct repl_history h;
	struct statefs_txn t;
	int ret = leave_check(ctx, sf, res);

	if (ret == MX_OK)
		ret = history_load(sf, res, &h);
	if (ret != MX_OK)
		return ret;
	statefs_txn_init(&t, sf, 0);
	leave_ops(&t, sf, res, ctx->host, &h);
	return finish(ctx, sf, &t, &f, &h, rl);
}

static int
cmd_leave_resource(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return on_one_resource(ctx, argv, RES_MEMBER, leave_one);
}

const struct cmd cmds_member[] = {
	{ .name = "join-resource", .fn = cmd_join_resource,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_TIMEOUT,
	  .usage = "RES DEV",
	  .help = "become a member of RES on device DEV, starting with a full sync" },
	{ .name = "leave-resource", .fn = cmd_leave_resource,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_FORCE | CMD_OPT_TIMEOUT,
	  .usage = "RES",
	  .help = "stop being a member of RES (tombstones this node's names in it)" },
	{ .name = "invalidate", .fn = cmd_invalidate,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_TIMEOUT,
	  .usage = "RES",
	  .help = "discard this node's diverged history of RES and resync from the primary" },
	{ .name = "log-purge-all", .fn = cmd_log_purge_all,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "RES",
	  .help = "remove this node's version links and logfiles past a split brain" },
	{ .name = NULL },
};
