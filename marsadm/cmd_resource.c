/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Resource commands.  create-resource writes a resource's genesis in one
 * transaction: size, this host as designated primary, the first logfile
 * number, this host's membership (data-, device-, syncstatus-, replay-
 * links), the two genesis version links and the todo switches, all on
 * (docs/state-tree.md, section 3.4).  delete-resource writes tombstones
 * for every key of the resource, other hosts' names included - the
 * cluster-wide sledgehammer - and so refuses while any member is still
 * attached, unless --force.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "common/parse.h"
#include "repl/repl.h"

#define RECREATE_STEP	100000	/* start number distance to an earlier incarnation */
#define SIZE_ALIGN	512

/* ---- create-resource ---------------------------------------------------- */

/* DEV must be an absolute path to a block device or a regular file. */
static int
dev_probe(const char *dev, uint64_t *bytes)
{
	int ret = state_dev_bytes(dev, bytes);

	if (ret == MX_OK)
		*bytes -= *bytes % SIZE_ALIGN;
	return ret;
}

static int
res_size(const char *dev, const char *arg, uint64_t *bytes)
{
	uint64_t avail, want;
	int ret = dev_probe(dev, &avail);

	if (ret != MX_OK)
		return ret;
	if (arg && (parse_size(arg, &want) < 0 || want == 0 || want % SIZE_ALIGN)) {
		fail(MX_USAGE, "invalid size '%s'", arg);
		hint("a positive multiple of 512 bytes, e.g. 10G, 512M, 4096");
		return MX_USAGE;
	}
	if (!arg && avail == 0) {
		fail(MX_REFUSED, "device '%s' has size 0", dev);
		hint("give the resource size as third operand");
		return MX_REFUSED;
	}
	if (arg && want > avail) {
		fail(MX_REFUSED, "size %" PRIu64 " exceeds the %" PRIu64 " bytes of '%s'", want,
		     avail, dev);
		hint("grow the device or give a smaller size");
		return MX_REFUSED;
	}
	*bytes = arg ? want : avail;
	return MX_OK;
}

/* The logfile number a version link or logfile name carries, else 0. */
static uint64_t
name_number(const char *name)
{
	const char *p = strrchr(name, '/');
	struct mars_logname ln;

	p = p ? p + 1 : name;
	if (mars_vername_parse(p, strlen(p), &ln) == 0 || mars_logname_parse(p, strlen(p), &ln) == 0)
		return ln.nr;
	return 0;
}

static int
max_key_visit(const struct statefs_entry *e, void *arg)
{
	uint64_t *max = arg, nr = name_number(e->path);

	*max = nr > *max ? nr : *max;
	return 0;
}

static int
max_file_visit(const char *name, uint64_t size, void *arg)
{
	uint64_t *max = arg, nr = name_number(name);

	(void)size;
	*max = nr > *max ? nr : *max;
	return 0;
}

/* 1 for a new name; beyond every number an earlier incarnation left. */
static uint64_t
start_number(struct statefs *sf, const char *res)
{
	char dir[STATE_KEY_BYTES];
	uint64_t max = 0;

	statefs_resource_key(dir, STATE_KEY_BYTES, res);
	statefs_list(sf, dir, STATEFS_LIST_TOMBSTONES, max_key_visit, &max);
	statefs_list_files(sf, dir, max_file_visit, &max);
	return max ? max + RECREATE_STEP : 1;
}

static void
set_fmt(struct statefs_txn *t, const char *res, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Queue resource-RES/KEY = printf(fmt, ...). */
static void
set_fmt(struct statefs_txn *t, const char *res, const char *key, const char *fmt, ...)
{
	char path[STATE_KEY_BYTES], value[STATEFS_VALUE_MAX + 2];
	va_list ap;

	statefs_resource_keyf(path, STATE_KEY_BYTES, res, "%s", key);
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	statefs_txn_set(t, path, value);
}

/*
 * The anchor version-(S-1)-HOST and the first link version-S-HOST, made by
 * the one implementation of the format (repl/version.c).
 */
static void
genesis_versions(struct statefs_txn *t, const char *res, const char *host, uint64_t s)
{
	char anchor[STATEFS_VALUE_MAX + 1], first[STATEFS_VALUE_MAX + 1];
	char key[STATE_KEY_BYTES], key2[STATE_KEY_BYTES];
	struct repl_version a;
	int ret;

	if ((ret = repl_version_make(anchor, sizeof(anchor), s - 1, host, 0, NULL)) < 0 ||
	    (ret = repl_version_parse(anchor, &a)) < 0 ||
	    (ret = repl_version_make(first, sizeof(first), s, host, 0, a.section)) < 0 ||
	    (ret = mars_vername_format(key, sizeof(key), s - 1, host)) < 0 ||
	    (ret = mars_vername_format(key2, sizeof(key2), s, host)) < 0) {
		t->error = t->error ? t->error : ret;	/* refuses the commit */
		return;
	}
	set_fmt(t, res, key, "%s", anchor);
	set_fmt(t, res, key2, "%s", first);
}

static void
genesis_ops(struct statefs_txn *t, const char *res, const char *host, const char *dev,
	    uint64_t size, uint64_t s)
{
	static const char *const todo[] = { "attach", "connect", "sync", "allow-replay", NULL };
	char key[STATE_KEY_BYTES], value[MARS_REPLAY_MAX + 1];
	struct mars_replaylink start = { .log.nr = (uint32_t)s };
	int i;

	set_fmt(t, res, "size", "%" PRIu64, size);
	set_fmt(t, res, "primary", "%s", host);
	set_fmt(t, res, "maxnr", "%" PRIu64, s);
	snprintf(key, sizeof(key), "data-%s", host);
	set_fmt(t, res, key, "%s", dev);
	snprintf(key, sizeof(key), "device-%s", host);
	set_fmt(t, res, key, "%s", res);
	snprintf(key, sizeof(key), "syncstatus-%s", host);
	set_fmt(t, res, key, "%" PRIu64, size);
	snprintf(key, sizeof(key), "replay-%s", host);
	snprintf(start.log.host, sizeof(start.log.host), "%s", host);
	if (s > MARS_LOGNR_MAX || mars_replaylink_format(value, sizeof(value), &start) < 0) {
		t->error = t->error ? t->error : -ERANGE;	/* refuses the commit */
		return;
	}
	set_fmt(t, res, key, "%s", value);
	genesis_versions(t, res, host, s);
	for (i = 0; todo[i]; i++) {
		snprintf(key, sizeof(key), "todo-%s/%s", host, todo[i]);
		set_fmt(t, res, key, "1");
	}
}

static int
create_check(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	char key[STATE_KEY_BYTES], v[STATEFS_VALUE_MAX + 1];
	const char *why;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, &why) < 0) {
		fail(MX_USAGE, "invalid resource name '%s': %s", res, why);
		hint("resource names are [a-z][a-z0-9-]*, at most 63 characters");
		return MX_USAGE;
	}
	state_key(key, "ips/ip-%s", ctx->host);
	if (statefs_get(sf, key, v, sizeof(v), NULL) < 0) {
		fail(MX_REFUSED, "host '%s' is not a member of the cluster in '%s'", ctx->host,
		     ctx->root);
		hint("join the cluster first, or name the member with --host");
		return MX_REFUSED;
	}
	if (res_exists(sf, res)) {
		fail(MX_REFUSED, "resource '%s' already exists", res);
		hint("nothing was changed; 'marsadm view %s' shows it", res);
		return MX_REFUSED;
	}
	return MX_OK;
}

static int
cmd_create_resource(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct res_list rl = { 0 };
	struct statefs_txn t;
	struct statefs *sf = NULL;
	uint64_t size;
	int ret = state_open(ctx, &sf, 0), changed = 0;

	if (ret != MX_OK)
		return ret;
	ret = create_check(ctx, sf, argv[1]);
	if (ret == MX_OK)
		ret = res_size(argv[2], argc > 3 ? argv[3] : NULL, &size);
	if (ret == MX_OK) {
		statefs_txn_init(&t, sf, 0);
		genesis_ops(&t, argv[1], ctx->host, argv[2], size, start_number(sf, argv[1]));
		ret = state_apply(ctx, &t, &changed);
		statefs_txn_release(&t);
	}
	if (ret == MX_OK)
		ret = res_list_add(&rl, argv[1]);
	if (ret == MX_OK)
		ret = state_report(ctx, &rl, changed);
	res_list_release(&rl);
	statefs_close(&sf);
	return ret;
}

/* ---- delete-resource ---------------------------------------------------- */

struct attached {
	char hosts[512];
};

static int
attached_visit(const struct statefs_entry *e, void *arg)
{
	struct attached *a = arg;
	const char *p = strstr(e->path, "/todo-"), *slash;

	if (!p || strcmp(e->value, "1") != 0)
		return 0;
	slash = strchr(p + 6, '/');
	if (!slash || strcmp(slash, "/attach") != 0)
		return 0;
	snprintf(a->hosts + strlen(a->hosts), sizeof(a->hosts) - strlen(a->hosts), "%s%.*s",
		 a->hosts[0] ? ", " : "", (int)(slash - p - 6), p + 6);
	return 0;
}

/* Refuse while a member is attached: its device would vanish under it. */
static int
delete_check(const struct marsadm_ctx *ctx, struct statefs *sf, const char *res)
{
	struct attached a = { .hosts = "" };
	char dir[STATE_KEY_BYTES];

	statefs_resource_key(dir, STATE_KEY_BYTES, res);
	statefs_list(sf, dir, 0, attached_visit, &a);
	if (!a.hosts[0] || ctx->force)
		return MX_OK;
	fail(MX_REFUSED, "resource '%s' is still attached on %s", res, a.hosts);
	hint("run 'marsadm down %s' on those hosts first, or --force to delete anyway", res);
	return MX_REFUSED;
}

static int
cmd_delete_resource(struct marsadm_ctx *ctx, int argc, char **argv)
{
	char dir[STATE_KEY_BYTES];
	struct statefs_txn t;
	struct state_res s;
	int ret, changed = 0;
	size_t i;

	ret = state_res_open(ctx, &s, argv[1], RES_NO_ALL);
	if (ret != MX_OK)
		return ret;
	for (i = 0; ret == MX_OK && i < s.rl.n; i++)
		ret = delete_check(ctx, s.sf, s.rl.names[i]);
	statefs_txn_init(&t, s.sf, STATEFS_TXN_ANY_OWNER);
	for (i = 0; ret == MX_OK && i < s.rl.n; i++) {
		statefs_resource_key(dir, STATE_KEY_BYTES, s.rl.names[i]);
		statefs_txn_delete_tree(&t, dir);
	}
	if (ret == MX_OK)
		ret = state_apply(ctx, &t, &changed);
	statefs_txn_release(&t);
	return state_res_finish(ctx, &s, ret, changed);
}

/* ---- resize --------------------------------------------------------------- */

/*
 * resize RES [SIZE] on the designated primary, after growing the disks of
 * all members (docs/replication.md 4.4): the new size, and this node's
 * syncstatus at it, in one transaction.  The other members' syncstatus
 * stays at the old size, so their drivers sync exactly the new tail; each
 * engine takes the new size when attached again (a primary's device once
 * it is closed).  Shrinking is refused: data past the new end would be
 * lost on every node.
 */
static int
resize_one(struct marsadm_ctx *ctx, struct statefs *sf, const char *res, const char *arg,
	   int *changed)
{
	char key[STATE_KEY_BYTES], primary[STATEFS_VALUE_MAX + 1], dev[STATEFS_VALUE_MAX + 1];
	uint64_t old = res_u64(sf, res, "size", 0), size;
	struct statefs_txn t;
	int ret;

	if (res_get(sf, res, "primary", primary, sizeof(primary)) < 0 ||
	    strcmp(primary, ctx->host)) {
		fail(MX_REFUSED, "'%s' is not the designated primary of '%s'", ctx->host, res);
		hint("grow the disks of all members, then run 'marsadm resize %s' on the primary",
		     res);
		return MX_REFUSED;
	}
	snprintf(key, sizeof(key), "data-%s", ctx->host);
	if (res_get(sf, res, key, dev, sizeof(dev)) < 0)
		return fail(MX_IO, "cannot read this node's disk of '%s'", res);
	ret = res_size(dev, arg, &size);
	if (ret != MX_OK)
		return ret;
	if (size < old) {
		fail(MX_REFUSED, "'%s' has %" PRIu64 " bytes; shrinking to %" PRIu64
		     " is not supported", res, old, size);
		hint("data past the new end would be lost on every member");
		return MX_REFUSED;
	}
	if (size == old) {
		note(ctx, 0, "'%s' already has %" PRIu64 " bytes; grow the disk '%s' first",
		     res, size, dev);
		return MX_OK;
	}
	statefs_txn_init(&t, sf, 0);
	set_fmt(&t, res, "size", "%" PRIu64, size);
	snprintf(key, sizeof(key), "syncstatus-%s", ctx->host);
	set_fmt(&t, res, key, "%" PRIu64, size);
	ret = state_apply(ctx, &t, changed);
	statefs_txn_release(&t);
	if (ret == MX_OK && !ctx->dry_run)
		note(ctx, 0, "'%s' grows from %" PRIu64 " to %" PRIu64 " bytes; the other members "
		     "sync the new tail, and a device that is open keeps the old size until it "
		     "is closed", res, old, size);
	return ret;
}

static int
cmd_resize(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct state_res s;
	int ret = state_res_open(ctx, &s, argv[1], RES_MEMBER | RES_NO_ALL), changed = 0;

	if (ret != MX_OK)
		return ret;
	if (s.rl.n != 1)
		ret = usage_error(ctx->cmd, "'%s' takes one resource", ctx->cmd->name);
	if (ret == MX_OK)
		ret = resize_one(ctx, s.sf, s.rl.names[0], argc > 2 ? argv[2] : NULL, &changed);
	return state_res_finish(ctx, &s, ret, changed);
}

const struct cmd cmds_resource[] = {
	{ .name = "create-resource", .fn = cmd_create_resource,
	  .flags = CMD_NEED_TREE | CMD_OPT_JSON | CMD_OPT_DRY_RUN,
	  .usage = "RES DEV [SIZE]",
	  .help = "create resource RES on device DEV with this node as primary" },
	{ .name = "delete-resource", .fn = cmd_delete_resource,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_FORCE | CMD_OPT_TIMEOUT,
	  .usage = "RES",
	  .help = "delete resource RES on all nodes (tombstones every key)" },
	{ .name = "resize", .fn = cmd_resize,
	  .flags = CMD_NEED_NEWEST | CMD_NEED_RESOURCE | CMD_OPT_JSON | CMD_OPT_DRY_RUN |
		   CMD_OPT_TIMEOUT,
	  .usage = "RES [SIZE]",
	  .help = "on the primary, after growing every member's disk: grow RES to SIZE "
		  "(default: this node's disk); members sync the new tail" },
	{ .name = NULL },
};
