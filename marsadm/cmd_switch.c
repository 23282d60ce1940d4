/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Todo switches: the desired state this node's daemon works towards for
 * a resource (resource-RES/todo-HOST/{attach,connect,sync,allow-replay}).
 * Every command here only flips switches, so all share one function and
 * differ by a row in switch_defs: which switches, on or off.  The daemon
 * reports what it actually did under actual-HOST/; `marsadm view` shows
 * both.  A list of resources is one transaction: all switch, or none.
 *
 * A switch returns once this node's daemon carried it out (it echoes
 * todo-HOST/KEY as actual-HOST/acted-KEY; a paused fetch has ended its
 * stream first), bounded by --timeout: a script that pauses the fetch
 * before `primary --force` relies on the pause having happened.  Where
 * no daemon runs the resource here (no fresh .driver-status) nothing
 * fetches, replays or syncs, so the switch is recorded and holds at
 * once; it is said so and not waited for.
 */
#include "marsadm/state.h"
#include "view/view.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	SW_ATTACH	= 1U << 0,
	SW_CONNECT	= 1U << 1,
	SW_REPLAY	= 1U << 2,
	SW_SYNC		= 1U << 3,
	SW_ALL		= SW_ATTACH | SW_CONNECT | SW_REPLAY | SW_SYNC,
};

/* Bit i of a mask is switch_keys[i]. */
static const char *const switch_keys[] = { "attach", "connect", "allow-replay", "sync" };
#define SWITCH_COUNT 4

/* The order of the writes, as MARS does it: up attaches first, down last. */
static const int up_order[SWITCH_COUNT] = { 0, 1, 2, 3 };
static const int down_order[SWITCH_COUNT] = { 2, 3, 1, 0 };

struct switch_def {
	const char *cmd;
	unsigned mask;
	int on;
};

static const struct switch_def switch_defs[] = {
	{ "attach", SW_ATTACH, 1 },		{ "detach", SW_ATTACH, 0 },
	{ "resume-fetch", SW_CONNECT, 1 },	{ "pause-fetch", SW_CONNECT, 0 },
	{ "connect", SW_CONNECT, 1 },		{ "disconnect", SW_CONNECT, 0 },
	{ "resume-replay", SW_REPLAY, 1 },	{ "pause-replay", SW_REPLAY, 0 },
	{ "resume-sync", SW_SYNC, 1 },		{ "pause-sync", SW_SYNC, 0 },
	{ "up", SW_ALL, 1 },			{ "down", SW_ALL, 0 },
	{ NULL, 0, 0 },
};

static const struct switch_def *
switch_find(const char *cmd)
{
	const struct switch_def *d;

	for (d = switch_defs; d->cmd; d++)
		if (!strcmp(d->cmd, cmd))
			return d;
	return NULL;
}

static void
switch_ops(struct statefs_txn *t, const struct switch_def *d, const char *res, const char *host)
{
	char key[STATE_KEY_BYTES];
	int i, k;

	for (i = 0; i < SWITCH_COUNT; i++) {
		k = d->on ? up_order[i] : down_order[i];
		if (!(d->mask & (1U << k)))
			continue;
		statefs_resource_keyf(key, STATE_KEY_BYTES, res, "todo-%s/%s", host, switch_keys[k]);
		statefs_txn_set(t, key, d->on ? "1" : "0");
	}
}

/* The first switch of @d on @res not yet carried out, or NULL. */
static const char *
switch_pending(struct statefs *sf, const struct switch_def *d, const char *res,
	       const char *host)
{
	char key[STATE_KEY_BYTES], val[8];
	int k;

	for (k = 0; k < SWITCH_COUNT; k++) {
		if (!(d->mask & (1U << k)))
			continue;
		state_key(key, "actual-%s/acted-%s", host, switch_keys[k]);
		if (res_get(sf, res, key, val, sizeof(val)) < 0 ||
		    strcmp(val, d->on ? "1" : "0"))
			return switch_keys[k];
	}
	return NULL;
}

static int
switch_done(struct statefs *sf, const char *res, const char *host, void *arg)
{
	return !switch_pending(sf, arg, res, host);
}

/* The daemon's last word on @res, for the timeout's message. */
static void
hint_driver_why(struct statefs *sf, const char *res)
{
	struct view_res *v = calloc(1, sizeof(*v));

	if (!v)
		return;
	snprintf(v->name, sizeof(v->name), "%s", res);
	v->now_ns = statefs_realtime_ns();
	view_driver_load(sf, v);
	if (v->drv.state == DRV_FRESH && v->drv.why[0])
		hint("clusterd says: %s", v->drv.why);
	free(v);
}

/* Wait for this node's daemon to carry out @d on every resource of @s. */
static int
switch_wait(const struct marsadm_ctx *ctx, struct state_res *s, const struct switch_def *d)
{
	time_t deadline = time(NULL) + (ctx->timeout_s < 0 ? INT_MAX / 2 : ctx->timeout_s);
	char what[STATE_KEY_BYTES + 64];
	const char *res, *key;
	size_t i;

	for (i = 0; i < s->rl.n; i++) {
		res = s->rl.names[i];
		if (!switch_pending(s->sf, d, res, ctx->host))
			continue;
		if (!view_driver_runs(s->sf, res, NULL, 0)) {
			note(ctx, 1, "no clusterd runs '%s' on this node: '%s' is recorded and "
			     "takes effect when it starts", res, d->cmd);
			continue;
		}
		snprintf(what, sizeof(what), "clusterd to carry out '%s %s'", d->cmd, res);
		if (state_wait_arg(s->sf, res, ctx->host, (int)(deadline - time(NULL)),
				   switch_done, (void *)d, what) == MX_OK)
			continue;
		key = switch_pending(s->sf, d, res, ctx->host);
		fail(MX_TIMEOUT, "clusterd did not carry out '%s %s' within %d s (todo-%s/%s is %d, "
		     "actual-%s/acted-%s is not yet)", d->cmd, res, ctx->timeout_s, ctx->host,
		     key ? key : "?", d->on, ctx->host, key ? key : "?");
		hint_driver_why(s->sf, res);
		hint("the switch stays set and clusterd goes on trying; wait longer with "
		     "--timeout=SECONDS, or see 'marsadm view %s' and 'journalctl -u clusterd'", res);
		return MX_TIMEOUT;
	}
	return MX_OK;
}

static int
cmd_switch(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const struct switch_def *d = switch_find(ctx->cmd->name);
	struct statefs_txn t;
	struct state_res s;
	int ret, changed = 0;
	size_t i;

	if (!d)
		return fail(MX_FAIL, "internal error: no switch for '%s'", ctx->cmd->name);
	ret = state_res_open(ctx, &s, argv[1], RES_MEMBER);
	if (ret != MX_OK)
		return ret;
	statefs_txn_init(&t, s.sf, 0);
	for (i = 0; i < s.rl.n; i++)
		switch_ops(&t, d, s.rl.names[i], ctx->host);
	ret = state_apply(ctx, &t, &changed);
	statefs_txn_release(&t);
	if (ret == MX_OK && !ctx->dry_run && ctx->timeout_s != 0)
		ret = switch_wait(ctx, &s, d);
	return state_res_finish(ctx, &s, ret, changed);
}

#define SWITCH_FLAGS (CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OPT_TIMEOUT)
#define SWITCH(n, h) { .name = n, .fn = cmd_switch, .flags = SWITCH_FLAGS, \
		       .usage = "RES|all", .help = h }

const struct cmd cmds_switch[] = {
	SWITCH("attach", "let this node's daemon use its device for RES"),
	SWITCH("detach", "stop using the device of RES on this node"),
	SWITCH("resume-fetch", "fetch the logfiles of RES from its primary"),
	SWITCH("pause-fetch", "stop fetching logfiles of RES"),
	SWITCH("connect", "the same as resume-fetch"),
	SWITCH("disconnect", "the same as pause-fetch; metadata still flows"),
	SWITCH("resume-replay", "replay fetched logfiles of RES onto the device"),
	SWITCH("pause-replay", "stop replaying logfiles of RES"),
	SWITCH("resume-sync", "allow a full sync of RES to this node"),
	SWITCH("pause-sync", "hold a full sync of RES to this node"),
	SWITCH("up", "attach, resume-fetch, resume-replay and resume-sync at once"),
	SWITCH("down", "pause-replay, pause-sync, pause-fetch and detach at once"),
	{ .name = NULL },
};
