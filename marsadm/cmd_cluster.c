/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cluster commands.  create-cluster turns an empty directory (a freshly
 * made file system, lost+found allowed) into the state tree of a
 * one-member cluster: the format marker, the cluster uuid, this host's
 * membership link and its tree version.  It refuses a root that already
 * holds a cluster or anything else, so a second run cannot clobber state.
 *
 * The membership link holds a numeric address peers can dial
 * (docs/state-tree.md): ADDRESS or --ip= resolved if a name, else the
 * address of the interface toward the default route, else what this
 * node's own name resolves to; a loopback answer is no answer.  Nothing is
 * written when none is found.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "clusterd/gossip/addr.h"

/* The root must be an existing, empty directory, then opened into *@sfp;
 * say what it is instead. */
static int
cluster_check_root(const struct marsadm_ctx *ctx, struct statefs **sfp)
{
	char uuid[STATEFS_VALUE_MAX + 1] = "?";
	int ret = statefs_open(sfp, ctx->root, ctx->host, 0);

	if (ret == 0) {
		statefs_get(*sfp, "uuid", uuid, sizeof(uuid), NULL);
		statefs_close(sfp);
		fail(MX_REFUSED, "a cluster already exists in '%s' (uuid %s)", ctx->root, uuid);
		hint("nothing was changed; 'marsadm view all' shows its resources");
		return MX_REFUSED;
	}
	if (ret == -ENOENT || ret == -ENOTDIR) {
		fail(MX_NOTREE, "state tree root '%s' %s", ctx->root,
		     ret == -ENOENT ? "does not exist" : "is not a directory");
		hint("mount the MARS file system there, or create it: mkdir -m 0700 '%s'", ctx->root);
		return MX_NOTREE;
	}
	if (ret == -EMEDIUMTYPE || ret == -EPROTONOSUPPORT) {
		fail(MX_NOTREE, "'%s' is not empty and %s", ctx->root, statefs_open_str(ret));
		hint("create the cluster in an empty directory or on a fresh file system");
		return MX_NOTREE;
	}
	if (ret != -ENODATA)
		return state_open(ctx, sfp, 0);	/* reports the error */
	return state_open(ctx, sfp, STATEFS_OPEN_ANY);
}

static void
cluster_ops(const struct marsadm_ctx *ctx, struct statefs_txn *t, const char *addr,
	    uint64_t now_ns, char *uuid, size_t uuid_size)
{
	char key[STATE_KEY_BYTES];

	snprintf(uuid, uuid_size, "%s_%" PRIu64 ".%09" PRIu64, ctx->host,
		 (uint64_t)(now_ns / STATEFS_NS_PER_S), (uint64_t)(now_ns % STATEFS_NS_PER_S));
	statefs_txn_set(t, "uuid", uuid);
	state_key(key, "ips/ip-%s", ctx->host);
	statefs_txn_set(t, key, addr);
	state_key(key, "actual-%s/tree", ctx->host);
	statefs_txn_set(t, key, "1");
}

static int
cluster_report(const struct marsadm_ctx *ctx, const char *uuid)
{
	struct json_object *o;

	if (!ctx->json) {
		note(ctx, 1, "created cluster %s in '%s'", uuid, ctx->root);
		return MX_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "command", json_object_new_string("create-cluster"));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "host", json_object_new_string(ctx->host));
	return print_json(o);
}

static int
cluster_mark(const struct marsadm_ctx *ctx, struct statefs *sf)
{
	int err;

	if (ctx->dry_run) {
		printf("mark %s format %d\n", ctx->root, STATEFS_TREE_FORMAT);
		return MX_OK;
	}
	err = statefs_mark(sf);
	if (err == 0)
		return MX_OK;
	fail(err == -EOPNOTSUPP ? MX_REFUSED : MX_IO, "cannot create a state tree in '%s': %s",
	     ctx->root, statefs_open_str(err));
	if (err == -EOPNOTSUPP)
		hint("use a file system with nanosecond timestamps, such as ext4");
	return err == -EOPNOTSUPP ? MX_REFUSED : MX_IO;
}

/*
 * Check the keys, mark the tree, write the keys; on a failure after the
 * mark leave the root empty again.  The uuid carries real time, which is
 * the Lamport time of a node that has never written.
 */
static int
cluster_create(const struct marsadm_ctx *ctx, struct statefs *sf, const char *addr)
{
	char uuid[STATEFS_VALUE_MAX + 1];
	struct statefs_txn t;
	int ret;

	statefs_txn_init(&t, sf, 0);
	cluster_ops(ctx, &t, addr, statefs_realtime_ns(), uuid, sizeof(uuid));
	ret = t.error ? state_apply(ctx, &t, NULL) : cluster_mark(ctx, sf);
	if (ret == MX_OK)
		ret = state_apply(ctx, &t, NULL);
	statefs_txn_release(&t);
	if (ret != MX_OK && !ctx->dry_run)
		statefs_unmark(sf);
	if (ret == MX_OK && !ctx->dry_run)
		ret = cluster_report(ctx, uuid);
	return ret;
}

static int
cluster_addr_given(const char *given, char *buf, size_t size)
{
	char err[320];

	if (gossip_addr_resolve(given, buf, size, err, sizeof(err)) == 0)
		return MX_OK;
	fail(MX_REFUSED, "%s", err);
	hint("give this node's address, or a name that resolves here, with --ip=ADDR");
	return MX_REFUSED;
}

/* The default route's interface, else this node's name if it resolves. */
static int
cluster_addr_found(const struct marsadm_ctx *ctx, char *buf, size_t size)
{
	char err[320], err_name[320];

	if (gossip_addr_default(buf, size, err, sizeof(err)) == 0)
		return MX_OK;
	buf[0] = '\0';
	if (gossip_addr_resolve(ctx->host, buf, size, err_name, sizeof(err_name)) == 0 &&
	    gossip_addr_usable(buf))
		return MX_OK;
	fail(MX_REFUSED, "cannot find an address of '%s' that peers can reach: %s, and %s",
	     ctx->host, err, buf[0] ? "the node name resolves to loopback only" : err_name);
	hint("give this node's address, or a name that resolves to it, with --ip=ADDR");
	return MX_REFUSED;
}

/* [ADDRESS] or --ip=ADDRESS, either an address or a name; NULL if neither. */
static int
cluster_args(const struct marsadm_ctx *ctx, int argc, char **argv, const char **given)
{
	*given = NULL;
	for (int i = 1; i < argc; i++) {
		if (!*given && own_opt(argv[i], "--ip", given))
			continue;
		if (argv[i][0] == '-' || *given)
			return usage_error(ctx->cmd, "unexpected argument '%s'", argv[i]);
		*given = argv[i];
	}
	if (*given && !**given)
		return usage_error(ctx->cmd, "option '--ip' needs a non-empty ADDRESS");
	return MX_OK;
}

/* Usage first, then the root, then the address: nothing written on a refusal. */
static int
cmd_create_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct statefs *sf = NULL;
	const char *given;
	char addr[GOSSIP_ADDR_MAX] = "";
	int ret = cluster_args(ctx, argc, argv, &given);

	if (ret != MX_OK)
		return ret;
	ret = cluster_check_root(ctx, &sf);
	if (ret != MX_OK)
		return ret;
	ret = given ? cluster_addr_given(given, addr, sizeof(addr)) :
		      cluster_addr_found(ctx, addr, sizeof(addr));
	if (ret == MX_OK)
		ret = cluster_create(ctx, sf, addr);
	statefs_close(&sf);
	return ret;
}

const struct cmd cmds_cluster[] = {
	{ .name = "create-cluster", .fn = cmd_create_cluster,
	  .flags = CMD_OPT_JSON | CMD_OPT_DRY_RUN | CMD_OWN_OPTS,
	  .usage = "[ADDRESS] [--ip=ADDRESS]",
	  .help = "make an empty directory the state tree of a new cluster with this node" },
	{ .name = NULL },
};
