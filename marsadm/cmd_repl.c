/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Roles.  A resource has at most one designated primary, a cluster-wide
 * key (resource-RES/primary); every other member is secondary.
 *
 * `primary` is the planned handover: it moves the key only when the tree
 * shows that no write can be lost - no split brain, this node's disk
 * consistent, the old primary's device closed, and this node caught up
 * with the old primary's history (its newest version link equal to the
 * old primary's and replayed to its end).  While a condition that time
 * can fix is unmet it waits, up to --timeout, and then says which one and
 * the fix.  `primary --force` is the failover: it takes this node's
 * history as it is, and like MARS demands a paused fetch first, so that
 * nothing from the old primary arrives in the middle; it will usually
 * cause a split brain, which `view` reports.  `secondary` designates
 * nobody with a weak stamp, so that a concurrent `primary` wins.
 * `wait-resource` waits for any view macro to take a value.
 */
#include "marsadm/state.h"
#include "view/view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repl/repl.h"

#define POLL_MS		200
#define PROGRESS_S	5

/* Why a handover cannot happen (yet). */
struct refusal {
	int waitable;		/* time (the daemons) may fix it */
	char why[512];
	char fix[512];
};

static int
refuse(struct refusal *r, int waitable, const char *why, const char *fix)
{
	r->waitable = waitable;
	snprintf(r->why, sizeof(r->why), "%s", why);
	snprintf(r->fix, sizeof(r->fix), "%s", fix);
	return -1;
}

static int
check_split(struct statefs *sf, const char *res, struct refusal *r)
{
	struct repl_history h;
	struct repl_split s;
	char why[512];
	int split;

	if (repl_history_load(sf, res, &h) < 0)
		return refuse(r, 0, "cannot read the version links", "check the state tree");
	split = repl_split_detect(&h, &s);
	repl_history_release(&h);
	if (!split)
		return 0;
	snprintf(why, sizeof(why), "split brain: '%s' and '%s' part at logfile %09" PRIu64
		 " byte %" PRIu64 " ('%s' has %" PRIu64 " bytes after it, '%s' %" PRIu64 ")",
		 s.host_a, s.host_b, s.nr, s.pos_bytes, s.host_a, s.after_a_bytes, s.host_b,
		 s.after_b_bytes);
	return refuse(r, 0, why, "run 'marsadm invalidate RES' on the side to discard first, "
		      "or take this node's history with 'pause-fetch' and 'primary --force'");
}

static int
check_consistent(struct statefs *sf, const char *res, const char *host, struct refusal *r)
{
	struct repl_replay rp = { .valid = 0 }, mark = { .valid = 0 };
	char key[STATE_KEY_BYTES], v[STATEFS_VALUE_MAX + 1];

	snprintf(key, sizeof(key), "syncstatus-%s", host);
	if (res_u64(sf, res, key, 0) < res_u64(sf, res, "size", 1))
		return refuse(r, 1, "the full sync to this node has not finished (InConsistent)",
			      "wait for it: 'marsadm wait-resource RES sync-rest=0'");
	snprintf(key, sizeof(key), "syncpos-%s", host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0)
		repl_replay_parse(v, &mark);
	snprintf(key, sizeof(key), "replay-%s", host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0)
		repl_replay_parse(v, &rp);
	if (repl_replay_reached(&rp, &mark))
		return 0;
	return refuse(r, 1, "the synced disk becomes consistent only when replay reaches the "
		      "primary's log position at the end of the sync (InConsistent)",
		      "wait for it: 'marsadm wait-resource RES diskstate=UpToDate'");
}

static int
check_closed(struct statefs *sf, const char *res, const char *old, struct refusal *r)
{
	char key[STATE_KEY_BYTES], why[256];
	uint64_t opens;

	snprintf(key, sizeof(key), "actual-%s/open-count", old);
	opens = res_u64(sf, res, key, 0);
	if (opens == 0)
		return 0;
	snprintf(why, sizeof(why), "the device of RES is still open on '%s' (open-count %" PRIu64 ")",
		 old, opens);
	return refuse(r, 1, why, "stop the application and unmount /dev/mars/RES there");
}

/* Caught up: own newest link equals the old primary's, replayed to its end. */
static int
check_caught_up(struct statefs *sf, const char *res, const char *host, const char *old,
		struct refusal *r)
{
	const struct repl_link *mine, *theirs;
	struct repl_replay rp = { .valid = 0 };
	struct repl_history h;
	char v[STATEFS_VALUE_MAX + 1], key[STATE_KEY_BYTES], why[512];
	int ok;

	snprintf(key, sizeof(key), "replay-%s", host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0)
		repl_replay_parse(v, &rp);
	if (repl_history_load(sf, res, &h) < 0)
		return refuse(r, 0, "cannot read the version links", "check the state tree");
	mine = repl_history_last(&h, host);
	theirs = repl_history_last(&h, old);
	ok = mine && theirs && mine->nr == theirs->nr && !strcmp(mine->v.section, theirs->v.section) &&
	     rp.valid && rp.nr == theirs->nr && rp.pos_bytes >= theirs->v.len_bytes;
	if (!ok)
		snprintf(why, sizeof(why), "not caught up with '%s': it has logged up to logfile %09"
			 PRIu64 " byte %" PRIu64 ", this node replayed up to logfile %09" PRIu64
			 " byte %" PRIu64, old, theirs ? theirs->nr : 0,
			 theirs ? theirs->v.len_bytes : 0, rp.valid ? rp.nr : 0,
			 rp.valid ? rp.pos_bytes : 0);
	repl_history_release(&h);
	if (ok)
		return 0;
	return refuse(r, 1, why, "check fetch and replay here ('marsadm view RES', resume-fetch, "
		      "resume-replay); if the old primary is gone, fail over with 'primary --force'");
}

/*
 * The driver takes a designated primary whose fetch is off for a failover
 * (docs/replication.md 3.3): it would log on top of its history as
 * replayed and drop what the old primary logged after it.  A planned
 * handover therefore needs the fetch on.
 */
static int
check_fetching(struct statefs *sf, const char *res, const char *host, struct refusal *r)
{
	char key[STATE_KEY_BYTES], v[8];

	snprintf(key, sizeof(key), "todo-%s/connect", host);
	if (res_get(sf, res, key, v, sizeof(v)) < 0 || strcmp(v, "0"))
		return 0;
	return refuse(r, 0, "fetch is paused here, so a handover would drop what the old "
		      "primary logged after this node's replay",
		      "run 'marsadm resume-fetch RES' first, or fail over on purpose with "
		      "'marsadm primary --force RES'");
}

static int
handover_check(struct statefs *sf, const char *res, const char *host, struct refusal *r)
{
	char old[STATEFS_NAME_MAX + 1];

	if (check_split(sf, res, r) || check_consistent(sf, res, host, r))
		return -1;
	if (res_get(sf, res, "primary", old, sizeof(old)) < 0 || !strcmp(old, STATEFS_NONE) ||
	    !strcmp(old, host))
		return 0;
	if (check_fetching(sf, res, host, r) || check_closed(sf, res, old, r) ||
	    check_caught_up(sf, res, host, old, r))
		return -1;
	return 0;
}

static int
failover_check(struct statefs *sf, const char *res, const char *host, struct refusal *r)
{
	char key[STATE_KEY_BYTES], v[8];

	snprintf(key, sizeof(key), "todo-%s/connect", host);
	if (res_get(sf, res, key, v, sizeof(v)) >= 0 && strcmp(v, "0"))
		return refuse(r, 0, "fetch is still switched on here",
			      "run 'marsadm pause-fetch RES' first, so that nothing from the old "
			      "primary arrives while this node takes over");
	if (!check_consistent(sf, res, host, r))
		return 0;
	r->waitable = 0;
	snprintf(r->fix, sizeof(r->fix), "a node with an incomplete sync cannot become primary; "
		 "fail over to another member");
	return -1;
}

/* @in with every "RES" replaced by @res. */
static void
subst_res(const char *in, const char *res, char *out, size_t size)
{
	size_t n = 0;

	while (*in && n + 1 < size) {
		if (!strncmp(in, "RES", 3)) {
			n += (size_t)snprintf(out + n, size - n, "%s", res);
			in += 3;
		} else {
			out[n++] = *in++;
		}
		n = n < size ? n : size - 1;
	}
	out[n] = '\0';
}

static int
explain(const struct marsadm_ctx *ctx, int code, const char *res, const struct refusal *r)
{
	char why[700], fix[700];

	subst_res(r->why, res, why, sizeof(why));
	subst_res(r->fix, res, fix, sizeof(fix));
	fail(code, "cannot make '%s' primary of '%s': %s", ctx->host, res, why);
	hint("%s", fix);
	return code;
}

/* Check, waiting while the refusal is one that time can fix; *@waited
 * is set when it did not pass at once. */
static int
wait_handover(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res,
	      int *waited)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };
	time_t start = time(NULL), said = start;
	struct refusal r;

	for (;; *waited = 1) {
		if (ctx->force ? failover_check(sf, res, ctx->host, &r) == 0 :
		    handover_check(sf, res, ctx->host, &r) == 0)
			return MX_OK;
		if (!r.waitable || ctx->timeout_s == 0 || ctx->dry_run)
			return explain(ctx, MX_REFUSED, res, &r);
		if (ctx->timeout_s > 0 && time(NULL) - start >= ctx->timeout_s)
			return explain(ctx, MX_TIMEOUT, res, &r);
		if (time(NULL) - said >= PROGRESS_S) {
			fprintf(stderr, "marsadm: waiting for '%s': %s\n", res, r.why);
			said = time(NULL);
		}
		nanosleep(&pause, NULL);
	}
}

static void
warn_detached(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	char key[STATE_KEY_BYTES], v[8];

	statefs_resource_keyf(key, STATE_KEY_BYTES, res, "todo-%s/attach", ctx->host);
	if (statefs_get(sf, key, v, sizeof(v), NULL) < 0 || strcmp(v, "1") != 0)
		warning("resource '%s' is not attached on '%s'; it becomes primary once attached "
			"('marsadm up %s')", res, ctx->host, res);
}

/*
 * The key moved; where a data path runs here, the replication driver
 * now finishes the handover (docs/replication.md 3.3): wait for it.
 */
#define TAKEOVER_WAIT_S	300

static int
took_primary(struct statefs *sf, const char *res, const char *host)
{
	char key[STATE_KEY_BYTES], v[8];

	snprintf(key, sizeof(key), "actual-%s/is-primary", host);
	return res_get(sf, res, key, v, sizeof(v)) >= 0 && !strcmp(v, "1");
}

static int
wait_takeover(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	char key[STATE_KEY_BYTES], v[8], what[STATE_KEY_BYTES + 64];
	int limit = ctx->timeout_s > 0 ? ctx->timeout_s : TAKEOVER_WAIT_S;

	/* A data path runs here if the driver keeps its status file fresh,
	 * or an engine is attached; the engine alone is not enough, as it
	 * detaches for a moment whenever the replay moves to a new logfile. */
	snprintf(key, sizeof(key), "actual-%s/is-attached", ctx->host);
	if (ctx->timeout_s == 0 ||
	    (!view_driver_runs(sf, res, NULL, 0) &&
	     (res_get(sf, res, key, v, sizeof(v)) < 0 || strcmp(v, "1"))))
		return MX_OK;
	snprintf(what, sizeof(what), "the data path of '%s' to take the primary role", res);
	if (state_wait(sf, res, ctx->host, limit, took_primary, what) == MX_OK)
		return MX_OK;
	fail(MX_TIMEOUT, "'%s' is designated primary of '%s', but its data path did "
	     "not take the role within %d s", ctx->host, res, limit);
	hint("clusterd's log says what it waits for; 'marsadm view %s'", res);
	return MX_TIMEOUT;
}

#define HANDOVER_ROUNDS	10	/* of checking a list until all pass at once */

/* Move the role of @n resources from @names together: checks, one
 * transaction, then the wait for every takeover. */
static int
role_move(struct marsadm_ctx *ctx, struct statefs *sf, char (*names)[STATEFS_NAME_MAX + 1],
	  size_t n, const char *arg, int primary, int *changed)
{
	char key[STATE_KEY_BYTES];
	struct statefs_txn t;
	int ret = MX_OK, waited, rounds = 0, moved = 0;
	size_t i;

	/* Several resources: a check passed before a later one's wait may
	 * not hold after it, so the round repeats until all pass at once. */
	do {
		waited = 0;
		for (i = 0; primary && ret == MX_OK && i < n; i++)
			ret = wait_handover(ctx, sf, names[i], &waited);
	} while (ret == MX_OK && waited && n > 1 && ++rounds < HANDOVER_ROUNDS);
	if (ret == MX_OK && waited && n > 1) {
		ret = fail(MX_TIMEOUT, "the checks of '%s' did not hold for all of them at once "
			   "in %d rounds", arg, HANDOVER_ROUNDS);
		hint("'marsadm view %s' shows what keeps changing; or move them one by one "
		     "(--parallel 1)", arg);
	}
	statefs_txn_init(&t, sf, 0);
	for (i = 0; i < n; i++) {
		statefs_resource_keyf(key, STATE_KEY_BYTES, names[i], "primary");
		if (primary)
			statefs_txn_set(&t, key, ctx->host);
		else
			statefs_txn_set_weak(&t, key, STATEFS_NONE);
	}
	if (ret == MX_OK)
		ret = state_apply(ctx, &t, &moved);
	statefs_txn_release(&t);
	*changed |= moved;
	for (i = 0; ret == MX_OK && primary && !ctx->dry_run && i < n; i++)
		warn_detached(ctx, sf, names[i]);
	for (i = 0; ret == MX_OK && primary && !ctx->dry_run && i < n; i++)
		ret = wait_takeover(ctx, sf, names[i]);
	return ret;
}

/*
 * A list moves together, or with --parallel N in groups of N, each group
 * taken over before the next starts (fleets: bounded catch-up load).  A
 * refused group stops the command; the groups before it have moved.
 */
static int
role_set(struct marsadm_ctx *ctx, char *arg, int primary)
{
	struct state_res s;
	int ret, changed = 0;
	size_t i, group, n;

	ret = state_res_open(ctx, &s, arg, RES_MEMBER);
	if (ret != MX_OK)
		return ret;
	group = ctx->parallel > 0 ? (size_t)ctx->parallel : s.rl.n;
	for (i = 0; ret == MX_OK && i < s.rl.n; i += group) {
		n = s.rl.n - i < group ? s.rl.n - i : group;
		if (group < s.rl.n)
			fprintf(stderr, "marsadm: moving resources %zu to %zu of %zu ('%s'...)\n",
				i + 1, i + n, s.rl.n, s.rl.names[i]);
		ret = role_move(ctx, s.sf, s.rl.names + i, n, arg, primary, &changed);
	}
	return state_res_finish(ctx, &s, ret, changed);
}

static int
cmd_primary(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return role_set(ctx, argv[1], 1);
}

static int
cmd_secondary(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return role_set(ctx, argv[1], 0);
}

/* ---- wait-resource ------------------------------------------------------ */

/* "MACRO" (a boolean that must be 1) or "MACRO=VALUE". */
static int
cond_parse(const struct marsadm_ctx *ctx, const char *cond, const struct view_macro **m,
	   char *want, size_t size)
{
	char name[64];
	const char *eq = strchr(cond, '=');
	size_t n = eq ? (size_t)(eq - cond) : strlen(cond);

	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), cond);
	*m = view_macro_find(name);
	if (!*m || n >= sizeof(name)) {
		usage_error(ctx->cmd, "unknown condition '%s'", cond);
		hint("a condition is MACRO or MACRO=VALUE, MACRO one of the view-MACRO commands");
		return MX_USAGE;
	}
	snprintf(want, size, "%s", eq ? eq + 1 : "1");
	return MX_OK;
}

static int
cond_now(struct statefs *sf, const struct marsadm_ctx *ctx, const char *res,
	 const struct view_macro *m, struct view_val *val)
{
	struct view_inputs in;
	struct view_res v;

	view_inputs_local(&in);
	if (view_load(sf, res, ctx->host, &in, &v) < 0)
		return fail(MX_IO, "cannot read resource '%s' in '%s'", res, ctx->root);
	m->fn(&v, val);
	view_release(&v);
	return MX_OK;
}

static int
cmd_wait_resource(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };
	const struct view_macro *m;
	time_t start = time(NULL);
	char want[STATEFS_VALUE_MAX + 1];
	struct view_val val;
	struct statefs *sf = NULL;
	int ret = cond_parse(ctx, argv[2], &m, want, sizeof(want));

	if (ret == MX_OK && (!strcmp(argv[1], "all") || strchr(argv[1], ',')))
		ret = usage_error(ctx->cmd, "wait-resource waits for one resource");
	if (ret == MX_OK)
		ret = state_open(ctx, &sf, 0);
	if (ret != MX_OK)
		return ret;
	while ((ret = cond_now(sf, ctx, argv[1], m, &val)) == MX_OK && strcmp(val.str, want)) {
		if (ctx->timeout_s >= 0 && time(NULL) - start >= ctx->timeout_s) {
			ret = fail(MX_TIMEOUT, "'%s' of '%s' is '%s', not '%s', after %d s", m->name,
				   argv[1], val.str, want, ctx->timeout_s);
			hint("'marsadm view %s' shows the state; raise --timeout to wait longer",
			     argv[1]);
			break;
		}
		nanosleep(&pause, NULL);
	}
	statefs_close(&sf);
	if (ret == MX_OK && !ctx->json)
		note(ctx, 1, "'%s' of '%s' is '%s'", m->name, argv[1], val.str);
	return ret;
}

const struct cmd cmds_repl[] = {
	{ .name = "primary", .fn = cmd_primary,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_FORCE | CMD_OPT_TIMEOUT | CMD_OPT_PARALLEL,
	  .usage = "RES|all",
	  .help = "hand the primary role of RES over to this node (--force: fail over)" },
	{ .name = "secondary", .fn = cmd_secondary,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OPT_PARALLEL,
	  .usage = "RES|all",
	  .help = "designate no primary for RES (a concurrent 'primary' elsewhere wins)" },
	{ .name = "wait-resource", .fn = cmd_wait_resource,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_TIMEOUT,
	  .usage = "RES COND",
	  .help = "wait until view macro COND (MACRO or MACRO=VALUE) holds for RES" },
	{ .name = NULL },
};
