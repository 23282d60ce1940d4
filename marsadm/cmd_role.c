/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Roles.  A resource has at most one designated primary, a cluster-wide
 * key (resource-RES/primary); every other member is secondary by
 * definition.  `primary` designates this node, `secondary` designates
 * nobody - with a deliberately weak stamp (old stamp + 1 ns), so that a
 * `primary` issued concurrently elsewhere wins.  For now both only record
 * the intent; the handover with the daemons comes with replication.
 */
#include "marsadm/state.h"

#include <string.h>

static void
warn_detached(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	char key[STATE_KEY_BYTES], v[8];

	state_key(key, "resource-%s/todo-%s/attach", res, ctx->host);
	if (statefs_get(sf, key, v, sizeof(v), NULL) < 0 || strcmp(v, "1") != 0)
		warning("resource '%s' is not attached on '%s'; it becomes primary once attached "
			"('marsadm up %s')", res, ctx->host, res);
}

static int
role_set(struct marsadm_ctx *ctx, char *arg, int primary)
{
	char key[STATE_KEY_BYTES];
	struct statefs_txn t;
	struct res_list rl;
	struct statefs sf;
	int ret, changed = 0;
	size_t i;

	ret = state_open(ctx, &sf, 0);
	if (ret == MX_OK)
		ret = res_list_parse(ctx, &sf, arg, RES_MEMBER, &rl);
	if (ret != MX_OK) {
		statefs_close(&sf);
		return ret;
	}
	statefs_txn_init(&t, &sf, 0);
	for (i = 0; i < rl.n; i++) {
		state_key(key, "resource-%s/primary", rl.names[i]);
		if (primary)
			statefs_txn_set(&t, key, ctx->host);
		else
			statefs_txn_set_weak(&t, key, STATEFS_NONE);
	}
	ret = state_apply(ctx, &t, &changed);
	for (i = 0; ret == MX_OK && primary && !ctx->dry_run && i < rl.n; i++)
		warn_detached(ctx, &sf, rl.names[i]);
	if (ret == MX_OK)
		ret = state_report(ctx, &rl, changed);
	statefs_txn_release(&t);
	res_list_release(&rl);
	statefs_close(&sf);
	return ret;
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

const struct cmd cmds_role[] = {
	{ .name = "primary", .fn = cmd_primary,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "RES|all",
	  .help = "designate this node as primary of RES (intent; the daemon acts on it)" },
	{ .name = "secondary", .fn = cmd_secondary,
	  .flags = CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "RES|all",
	  .help = "designate no primary for RES (a concurrent 'primary' elsewhere wins)" },
	{ .name = NULL },
};
