/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Run-time settings clusterd follows while it runs (docs/state-tree.md
 * 3.7): the fetch limit of a resource or of the node, a resource's weight
 * in the node limit, its compression mode.  Each is a key in a defaults
 * directory: the general one (any member may write it, every node reads
 * it) or, with --this-node, this node's own defaults-HOST, which wins for
 * this node.  A value is checked with the parser clusterd applies
 * (repl/limits.c), so what is written here is what the daemon takes.
 * "clear" deletes the key: the next level, or clusterd's option, applies.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "clusterd/gossip/gossip.h"
#include "common/parse.h"
#include "repl/repl.h"

#define VALUE_BYTES	32

/* One setting: its key and how a command-line value becomes a tree value. */
struct setting {
	const char *key;
	int node_level;		/* "all" names the node: root defaults */
	int (*canon)(const char *arg, char *out);	/* MX_OK or MX_USAGE, said */
	int (*parse)(const char *s, uint64_t *out);	/* the tree grammar */
};

static int
canon_limit(const char *arg, char *out)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0 || (v && (v < REPL_LIMIT_MIN_BPS || v > REPL_LIMIT_MAX_BPS))) {
		fail(MX_USAGE, "'%s' is not a fetch limit: bytes per second, 0, or from %llu "
		     "to %llu (1 TiB/s)", arg, (unsigned long long)REPL_LIMIT_MIN_BPS,
		     (unsigned long long)REPL_LIMIT_MAX_BPS);
		hint("e.g. 10M (10 MiB/s), 5000000, 0 for no limit at this level, clear to delete");
		return MX_USAGE;
	}
	snprintf(out, VALUE_BYTES, "%" PRIu64, v);
	return MX_OK;
}

static int
canon_weight(const char *arg, char *out)
{
	uint64_t v;

	if (repl_weight_parse(arg, &v) < 0) {
		fail(MX_USAGE, "'%s' is not a weight: a number from %llu to %llu", arg,
		     (unsigned long long)REPL_WEIGHT_MIN, (unsigned long long)REPL_WEIGHT_MAX);
		hint("the default weight is %llu; 300 beside 100 gets three times the share",
		     (unsigned long long)REPL_WEIGHT_DEFAULT);
		return MX_USAGE;
	}
	snprintf(out, VALUE_BYTES, "%" PRIu64, v);
	return MX_OK;
}

static int
canon_compress(const char *arg, char *out)
{
	if (gossip_compress_parse(arg) < 0) {
		fail(MX_USAGE, "'%s' is not a compression mode", arg);
		hint("one of auto, zstd, none; clear to delete");
		return MX_USAGE;
	}
	snprintf(out, VALUE_BYTES, "%s", arg);
	return MX_OK;
}

static const struct setting set_bwlimit = {
	"fetch-bwlimit", 1, canon_limit, repl_limit_parse };
static const struct setting set_priority = {
	"fetch-priority", 0, canon_weight, repl_weight_parse };
static const struct setting set_compress = {
	"compress", 0, canon_compress, gossip_compress_setting };

/* The operands and --this-node of a set command; MX_OK or MX_USAGE. */
static int
set_args(const struct marsadm_ctx *ctx, int argc, char **argv, const char **ops, int *this_node)
{
	int i, n = 0;

	*this_node = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--this-node"))
			*this_node = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error(ctx->cmd, "unknown option '%s' for '%s'", argv[i],
					   ctx->cmd->name);
		else if (n < 2)
			ops[n++] = argv[i];
		else
			return usage_error(ctx->cmd, "'%s' takes 2 operands", ctx->cmd->name);
	}
	return n == 2 ? MX_OK : usage_error(ctx->cmd, "'%s' needs 2 operands, got %d",
					    ctx->cmd->name, n);
}

/* Queue the write (or the delete, for "clear") of @st's key for @res (NULL: node). */
static int
set_queue(const struct marsadm_ctx *ctx, struct statefs_txn *t, const struct setting *st,
	  const char *res, int this_node, const char *value)
{
	char key[STATE_KEY_BYTES], dir[STATE_KEY_BYTES];

	if (this_node)
		state_key(dir, "defaults-%s", ctx->host);
	else
		state_key(dir, "defaults");
	if (res)
		statefs_resource_keyf(key, STATE_KEY_BYTES, res, "%s/%s", dir, st->key);
	else
		state_key(key, "%s/%s", dir, st->key);
	return value ? statefs_txn_set(t, key, value) : statefs_txn_delete(t, key);
}

static int
set_run(struct marsadm_ctx *ctx, int argc, char **argv, const struct setting *st)
{
	char value[VALUE_BYTES];
	const char *ops[2];
	struct statefs_txn t;
	struct state_res s;
	int this_node, clear, changed = 0, node, ret;
	size_t i;

	ret = set_args(ctx, argc, argv, ops, &this_node);
	if (ret != MX_OK)
		return ret;
	clear = !strcmp(ops[1], "clear");
	if (!clear && (ret = st->canon(ops[1], value)) != MX_OK)
		return ret;
	node = st->node_level && !strcmp(ops[0], "all");
	ret = node ? state_open(ctx, &s.sf, 0) :
	      state_res_open(ctx, &s, ops[0], RES_NO_ALL);
	if (ret != MX_OK)
		return ret;
	if (node)
		memset(&s.rl, 0, sizeof(s.rl));
	statefs_txn_init(&t, s.sf, 0);
	for (i = 0; node ? i < 1 : i < s.rl.n; i++)
		set_queue(ctx, &t, st, node ? NULL : s.rl.names[i], this_node,
			  clear ? NULL : value);
	ret = state_apply(ctx, &t, &changed);
	statefs_txn_release(&t);
	return state_res_finish(ctx, &s, ret, changed);
}

static int
cmd_set_fetch_bwlimit(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return set_run(ctx, argc, argv, &set_bwlimit);
}

static int
cmd_set_fetch_priority(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return set_run(ctx, argc, argv, &set_priority);
}

static int
cmd_set_compress(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return set_run(ctx, argc, argv, &set_compress);
}

/* ---- show-settings ---------------------------------------------------------- */

/* One setting of @res (NULL: node) as the tree holds it for this node. */
static void
show_one(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res,
	 const struct setting *st, struct json_object *o)
{
	static const char *const errs[] = { "not in the grammar", "out of range" };
	struct json_object *j, *bad = json_object_new_array();
	struct repl_setting s;
	char val[VALUE_BYTES];
	int i;

	repl_setting_read(sf, res, ctx->host, st->key, st->parse, &s);
	if (st->parse == gossip_compress_setting)
		snprintf(val, sizeof(val), "%s", gossip_compress_name((int)s.value));
	else
		snprintf(val, sizeof(val), "%" PRIu64, s.value);
	if (!ctx->json)
		printf("%s %s %s %s\n", res ? res : "(node)", st->key,
		       s.from != REPL_FROM_NONE ? val : "-",
		       s.from == REPL_FROM_HOST ? "defaults-HOST" :
		       s.from == REPL_FROM_DEFAULTS ? "defaults" : "unset");
	for (i = 0; i < 2; i++) {
		if (!s.bad[i].present)
			continue;
		if (!ctx->json)
			printf("  ignored: %s = '%s' (%s)\n", s.bad[i].key, s.bad[i].value,
			       errs[s.bad[i].err == -ERANGE]);
		j = json_object_new_object();
		json_object_object_add(j, "key", json_object_new_string(s.bad[i].key));
		json_object_object_add(j, "value", json_object_new_string(s.bad[i].value));
		json_object_array_add(bad, j);
	}
	j = json_object_new_object();
	json_object_object_add(j, "value", s.from != REPL_FROM_NONE ?
			       json_object_new_string(val) : NULL);
	json_object_object_add(j, "from", json_object_new_string(repl_from_name(s.from)));
	json_object_object_add(j, "ignored", bad);
	json_object_object_add(o, st->key, j);
}

/* The settings of @res, or of the node with @res NULL: one line each, or one object. */
static int
show_scope(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "resource", res ? json_object_new_string(res) : NULL);
	show_one(ctx, sf, res, &set_bwlimit, o);
	if (res) {
		show_one(ctx, sf, res, &set_priority, o);
		show_one(ctx, sf, res, &set_compress, o);
	}
	if (ctx->json)
		return print_json(o);
	json_object_put(o);
	return MX_OK;
}

static int
cmd_show_settings(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const char *arg = argc > 1 ? argv[1] : "all";
	struct state_res s;
	int ret;
	size_t i;

	ret = state_res_open(ctx, &s, arg, 0);
	if (ret != MX_OK)
		return ret;
	if (!strcmp(arg, "all"))
		ret = show_scope(ctx, s.sf, NULL);
	for (i = 0; ret == MX_OK && i < s.rl.n; i++)
		ret = show_scope(ctx, s.sf, s.rl.names[i]);
	state_res_close(&s);
	return ret;
}

#define SET_FLAGS (CMD_NEED_TREE | CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OWN_OPTS)

const struct cmd cmds_settings[] = {
	{ .name = "set-fetch-bwlimit", .fn = cmd_set_fetch_bwlimit, .flags = SET_FLAGS,
	  .usage = "RES|all BYTES|clear [--this-node]",
	  .help = "limit the fetch of RES (all: of the node) to BYTES per second; 0 none" },
	{ .name = "set-fetch-priority", .fn = cmd_set_fetch_priority, .flags = SET_FLAGS,
	  .usage = "RES WEIGHT|clear [--this-node]",
	  .help = "weight of RES in the node's fetch limit (1..10000, default 100)" },
	{ .name = "set-compress", .fn = cmd_set_compress, .flags = SET_FLAGS,
	  .usage = "RES MODE|clear [--this-node]",
	  .help = "compress the transfers of RES: auto, zstd or none" },
	{ .name = "show-settings", .fn = cmd_show_settings,
	  .flags = CMD_NEED_TREE | CMD_OPT_JSON, .usage = "[RES|all]",
	  .help = "the fetch limits, weights and compression modes the tree sets here" },
	{ .name = NULL },
};
