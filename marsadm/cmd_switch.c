/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Todo switches: the desired state this node's daemon works towards for
 * a resource (resource-RES/todo-HOST/{attach,connect,sync,allow-replay}).
 * Every command here only flips switches, so all share one function and
 * differ by a row in switch_defs: which switches, on or off.  The daemon
 * reports what it actually did under actual-HOST/; `marsadm view` shows
 * both.  A list of resources is one transaction: all switch, or none.
 */
#include "marsadm/state.h"

#include <string.h>

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
		state_key(key, "resource-%s/todo-%s/%s", res, host, switch_keys[k]);
		statefs_txn_set(t, key, d->on ? "1" : "0");
	}
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
	statefs_txn_init(&t, &s.sf, 0);
	for (i = 0; i < s.rl.n; i++)
		switch_ops(&t, d, s.rl.names[i], ctx->host);
	ret = state_apply(ctx, &t, &changed);
	statefs_txn_release(&t);
	return state_res_finish(ctx, &s, ret, changed);
}

#define SWITCH_FLAGS (CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN)
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
