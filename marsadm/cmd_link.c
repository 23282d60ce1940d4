/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Low-level access to single keys, for experts and scripts: get-link
 * prints a key's value, set-link writes one through the same checks and
 * atomic update as every other command.  A PATH may be relative to the
 * root or absolute under it ("/mars/resource-r/primary"), as MARS users
 * type it.  Writing another host's name needs --force.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* The key of @path relative to the root, or NULL after saying why not. */
static const char *
link_key(const struct marsadm_ctx *ctx, const char *path)
{
	size_t rl = strlen(ctx->root);
	const char *key = path;
	int ret;

	if (path[0] == '/') {
		while (rl > 1 && ctx->root[rl - 1] == '/')
			rl--;
		if (strncmp(path, ctx->root, rl) != 0 || path[rl] != '/') {
			fail(MX_USAGE, "'%s' is outside the state tree '%s'", path, ctx->root);
			return NULL;
		}
		key = path + rl + 1;
	}
	ret = statefs_key_check(key, NULL);
	if (ret == 0)
		return key;
	fail(MX_USAGE, "'%s' is not a key: %s", path, statefs_refusal_str(ret));
	hint("see docs/state-tree.md for the keys of the state tree");
	return NULL;
}

static int
get_print(const struct marsadm_ctx *ctx, const struct statefs_entry *e)
{
	struct json_object *o;

	if (!ctx->json) {
		printf("%s\n", e->value);
		return MX_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "value", json_object_new_string(e->value));
	json_object_object_add(o, "stamp_ns", json_object_new_uint64(e->stamp_ns));
	return print_json(o);
}

static int
cmd_get_link(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const char *key = link_key(ctx, argv[1]);
	struct statefs_entry e;
	struct statefs *sf = NULL;
	int ret;

	if (!key)
		return MX_USAGE;
	ret = state_open(ctx, &sf, 0);
	if (ret != MX_OK)
		return ret;
	ret = statefs_read(sf, key, &e);
	statefs_close(&sf);
	if (ret == -ENOENT || (ret == 0 && e.tombstone))
		return fail(MX_NOENT, "key '%s' does not exist%s", key,
			    ret == 0 ? " (deleted)" : "");
	if (ret < 0)
		return fail(ret == -EISDIR || ret == -EEXIST ? MX_CORRUPT : MX_IO,
			    "cannot read '%s': %s", key, statefs_refusal_str(ret));
	return get_print(ctx, &e);
}

static int
cmd_set_link(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const char *key = link_key(ctx, argv[2]);
	struct statefs_txn t;
	struct statefs *sf = NULL;
	int ret, changed = 0;

	if (!key)
		return MX_USAGE;
	ret = state_open(ctx, &sf, 0);
	if (ret != MX_OK)
		return ret;
	statefs_txn_init(&t, sf, ctx->force ? STATEFS_TXN_ANY_OWNER : 0);
	statefs_txn_set(&t, key, argv[1]);
	ret = state_apply(ctx, &t, &changed);
	if (ret == MX_REFUSED)
		hint("use --force to write another host's name anyway");
	if (ret == MX_OK)
		ret = state_report(ctx, NULL, changed);
	statefs_txn_release(&t);
	statefs_close(&sf);
	return ret;
}

const struct cmd cmds_link[] = {
	{ .name = "get-link", .fn = cmd_get_link,
	  .flags = CMD_NEED_TREE | CMD_OPT_JSON,
	  .usage = "PATH",
	  .help = "print the value of key PATH" },
	{ .name = "set-link", .fn = cmd_set_link,
	  .flags = CMD_NEED_TREE | CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OPT_FORCE,
	  .usage = "VALUE PATH",
	  .help = "set key PATH to VALUE (cluster-wide keys and this node's names)" },
	{ .name = NULL },
};
