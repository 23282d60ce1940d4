/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening the tree, resolving resource operands and applying transactions
 * for the state commands.  statefs speaks errno; this file is where errno
 * becomes an exit code and a message that names the fix, so that every
 * command words the same situation the same way.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mars/names.h"

static int
open_failed(const struct marsadm_ctx *ctx, int err)
{
	const char *why;

	switch (-err) {
	case ESRCH:
		statefs_name_check(STATEFS_NAME_HOST, ctx->host, &why);
		fail(MX_USAGE, "invalid host name '%s': %s", ctx->host, why ? why : "invalid");
		hint("set a node name with --host=NAME or MARS_HOST ([a-z][a-z0-9-]*)");
		return MX_USAGE;
	case ENOENT: case ENOTDIR: case ENODATA:
		fail(MX_NOTREE, "no MARS state tree at '%s': %s", ctx->root, statefs_open_str(err));
		hint("run 'marsadm create-cluster' there, or point --root or MARS_ROOT at the tree");
		return MX_NOTREE;
	case EMEDIUMTYPE: case EPROTONOSUPPORT:
		fail(MX_NOTREE, "'%s' is %s", ctx->root, statefs_open_str(err));
		hint("point --root or MARS_ROOT at a MARS state tree; nothing was changed");
		return MX_NOTREE;
	default:
		return fail(MX_IO, "cannot open state tree '%s': %s", ctx->root,
			    statefs_open_str(err));
	}
}

int
state_dev_bytes(const char *dev, uint64_t *bytes)
{
	char real[PATH_MAX];
	struct stat st;
	int fd, ret = MX_OK;

	if (dev[0] != '/')
		return fail(MX_USAGE, "device '%s' is not an absolute path", dev);
	if (lstat(dev, &st) < 0)
		return fail(errno == ENOENT ? MX_NOENT : MX_IO, "cannot use device '%s': %s", dev,
			    strerror(errno));
	/* Links to block devices are how LVM and udev name them stably;
	 * a regular image file must be named itself (clusterd opens it so). */
	if (S_ISLNK(st.st_mode) && stat(dev, &st) == 0 && S_ISREG(st.st_mode)) {
		ret = fail(MX_USAGE, "image file '%s' is named through a symbolic link", dev);
		if (realpath(dev, real))
			hint("name the file itself: '%s'", real);
		return ret;
	}
	if (S_ISLNK(st.st_mode))
		return fail(errno == ENOENT ? MX_NOENT : MX_IO, "cannot use device '%s': %s", dev,
			    strerror(errno));
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return MX_OK;
	}
	if (!S_ISBLK(st.st_mode))
		return fail(MX_USAGE, "device '%s' is neither a block device nor a regular file", dev);
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, bytes) < 0)
		ret = fail(MX_IO, "cannot read the size of '%s': %s", dev, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

int
state_open(const struct marsadm_ctx *ctx, struct statefs **sfp, unsigned flags)
{
	int ret = statefs_open(sfp, ctx->root, ctx->host, flags);

	return ret < 0 ? open_failed(ctx, ret) : MX_OK;
}

void
state_key(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, STATE_KEY_BYTES, fmt, ap);
	va_end(ap);
}

static int
state_named_key(char *buf, const char *res, const char *name, int made)
{
	if (made < 0) {
		buf[0] = '\0';
		return made;
	}
	statefs_resource_keyf(buf, STATE_KEY_BYTES, res, "%s", name);
	return 0;
}

int
state_version_key(char *buf, const char *res, uint64_t nr, const char *host)
{
	char name[MARS_VERNAME_MAX + 1];

	return state_named_key(buf, res, name, mars_vername_format(name, sizeof(name), nr, host));
}

int
res_exists(struct statefs *sf, const char *res)
{
	char key[STATE_KEY_BYTES], v[64];

	statefs_resource_keyf(key, STATE_KEY_BYTES, res, "size");
	return statefs_get(sf, key, v, sizeof(v), NULL) >= 0;
}

int
res_get(struct statefs *sf, const char *res, const char *key, char *buf, size_t size)
{
	char path[STATE_KEY_BYTES];

	statefs_resource_keyf(path, STATE_KEY_BYTES, res, "%s", key);
	return statefs_get(sf, path, buf, size, NULL);
}

uint64_t
res_u64(struct statefs *sf, const char *res, const char *key, uint64_t dflt)
{
	char v[32], *end;
	uint64_t n;

	if (res_get(sf, res, key, v, sizeof(v)) < 0)
		return dflt;
	n = strtoull(v, &end, 10);
	return *end ? dflt : n;
}

void
res_list_release(struct res_list *rl)
{
	free(rl->names);
	memset(rl, 0, sizeof(*rl));
}

int
res_list_add(struct res_list *rl, const char *name)
{
	void *grown;
	size_t i;

	for (i = 0; i < rl->n; i++)
		if (!strcmp(rl->names[i], name))
			return MX_OK;
	if (rl->n == rl->cap) {
		rl->cap = rl->cap ? rl->cap * 2 : 8;
		grown = realloc(rl->names, rl->cap * sizeof(*rl->names));
		if (!grown)
			return fail(MX_FAIL, "out of memory");
		rl->names = grown;
	}
	snprintf(rl->names[rl->n++], sizeof(*rl->names), "%s", name);
	return MX_OK;
}

struct all_ctx {
	const struct marsadm_ctx *ctx;
	struct statefs *sf;
	unsigned flags;
	struct res_list *rl;
};

static int
all_visit(const char *name, void *arg)
{
	struct all_ctx *a = arg;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, name, NULL) < 0 || !res_exists(a->sf, name))
		return 0;
	if ((a->flags & RES_MEMBER) && statefs_is_member(a->sf, name, a->ctx->host) <= 0)
		return 0;
	return res_list_add(a->rl, name) ? -ENOMEM : 0;
}

static int
res_one(const struct marsadm_ctx *ctx, struct statefs *sf, const char *name, unsigned flags,
	struct res_list *rl)
{
	const char *why;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, name, &why) < 0) {
		fail(MX_USAGE, "invalid resource name '%s': %s", name, why);
		hint("resource names are [a-z][a-z0-9-]*, at most 63 characters");
		return MX_USAGE;
	}
	if (!res_exists(sf, name)) {
		fail(MX_NOENT, "resource '%s' does not exist in '%s'", name, ctx->root);
		hint("'marsadm view all' lists the resources");
		return MX_NOENT;
	}
	if ((flags & RES_MEMBER) && statefs_is_member(sf, name, ctx->host) <= 0) {
		fail(MX_REFUSED, "host '%s' is not a member of resource '%s'", ctx->host, name);
		hint("run the command on a member, or name it with --host");
		return MX_REFUSED;
	}
	return res_list_add(rl, name);
}

static int
res_all(const struct marsadm_ctx *ctx, struct statefs *sf, unsigned flags, struct res_list *rl)
{
	struct all_ctx a = { .ctx = ctx, .sf = sf, .flags = flags, .rl = rl };
	int ret;

	if (flags & RES_NO_ALL) {
		fail(MX_USAGE, "'%s' does not take 'all'; name the resources", ctx->cmd->name);
		hint("a comma-separated list names several resources");
		return MX_USAGE;
	}
	ret = statefs_list_dirs(sf, "", "resource-", all_visit, &a);
	if (ret < 0)
		return fail(MX_IO, "cannot list resources in '%s': %s", ctx->root, strerror(-ret));
	return MX_OK;
}

/* "a,b,c": every name valid and existing; "" and "a,,b" name an empty one. */
static int
res_names(const struct marsadm_ctx *ctx, struct statefs *sf, const char *arg, unsigned flags,
	  struct res_list *rl)
{
	char name[STATEFS_NAME_MAX + 2];
	const char *p = arg;
	size_t len;
	int ret;

	do {
		len = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), p);
		ret = res_one(ctx, sf, name, flags, rl);
		p += len;
	} while (ret == MX_OK && *p++ == ',');
	return ret;
}

int
res_list_parse(const struct marsadm_ctx *ctx, struct statefs *sf, const char *arg,
	       unsigned flags, struct res_list *rl)
{
	int ret;

	memset(rl, 0, sizeof(*rl));
	if (!arg || !strcmp(arg, "all"))
		ret = res_all(ctx, sf, flags, rl);
	else
		ret = res_names(ctx, sf, arg, flags, rl);
	if (ret != MX_OK)
		res_list_release(rl);
	return ret;
}

/* ---- applying ----------------------------------------------------------- */

static const char *const op_names[] = {
	[STATEFS_OP_SET] = "set", [STATEFS_OP_SET_WEAK] = "set-weak",
	[STATEFS_OP_DELETE] = "delete",
};

static int
print_op(enum statefs_op_kind kind, const char *path, const char *value, void *arg)
{
	const struct marsadm_ctx *ctx = arg;
	struct json_object *o;

	if (!ctx->json) {
		if (kind == STATEFS_OP_DELETE)
			printf("%s %s\n", op_names[kind], path);
		else
			printf("%s %s %s\n", op_names[kind], path, value);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string(op_names[kind]));
	json_object_object_add(o, "path", json_object_new_string(path));
	if (kind != STATEFS_OP_DELETE)
		json_object_object_add(o, "value", json_object_new_string(value));
	return print_json(o) ? -EIO : 0;
}

static int
refused(const struct marsadm_ctx *ctx, int err, const char *path)
{
	if (err == -EPERM) {
		fail(MX_REFUSED, "'%s' belongs to another host than '%s'", path, ctx->host);
		hint("a node writes only its own names and cluster-wide keys (docs/state-tree.md)");
		return MX_REFUSED;
	}
	fail(MX_USAGE, "refusing to write '%s': %s", path, statefs_refusal_str(err));
	hint("see docs/state-tree.md for the names and values of the state tree");
	return MX_USAGE;
}

static int
commit_failed(const struct marsadm_ctx *ctx, int err, const char *path)
{
	if (err == -EISDIR || err == -EEXIST || err == -ENOTDIR || err == -ELOOP) {
		fail(MX_CORRUPT, "cannot write '%s' in '%s': something else stands in its place",
		     path ? path : "?", ctx->root);
		hint("inspect that path; the tree was left as it was");
		return MX_CORRUPT;
	}
	fail(MX_IO, "cannot write '%s' in '%s': %s", path ? path : "the clock", ctx->root,
	     strerror(-err));
	hint("the tree was left as it was; fix the cause and run the command again");
	return MX_IO;
}

int
state_apply(const struct marsadm_ctx *ctx, struct statefs_txn *t, int *changed)
{
	const char *failed = NULL;
	int ret;

	if (changed)
		*changed = 0;
	if (t->error)
		return refused(ctx, t->error, t->error_path);
	if (ctx->dry_run)
		return statefs_txn_foreach(t, print_op, (void *)ctx) ? MX_IO : MX_OK;
	ret = statefs_txn_commit(t, &failed);
	if (ret < 0)
		return commit_failed(ctx, ret, failed);
	if (changed)
		*changed = ret;
	return MX_OK;
}

int
state_report(const struct marsadm_ctx *ctx, const struct res_list *rl, int changed)
{
	struct json_object *o, *a;
	size_t i;

	if (ctx->dry_run)
		return MX_OK;
	if (!ctx->json) {
		if (changed == 0)
			note(ctx, 1, "'%s': nothing to change", ctx->cmd->name);
		return MX_OK;
	}
	o = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; rl && i < rl->n; i++)
		json_object_array_add(a, json_object_new_string(rl->names[i]));
	json_object_object_add(o, "command", json_object_new_string(ctx->cmd->name));
	json_object_object_add(o, "resources", a);
	json_object_object_add(o, "changed", json_object_new_int(changed));
	return print_json(o);
}

/* ---- the usual command frame -------------------------------------------- */

int
state_res_open(const struct marsadm_ctx *ctx, struct state_res *s, const char *arg,
	       unsigned flags)
{
	int ret = state_open(ctx, &s->sf, 0);

	if (ret == MX_OK)
		ret = res_list_parse(ctx, s->sf, arg, flags, &s->rl);
	if (ret != MX_OK)
		statefs_close(&s->sf);
	return ret;
}

void
state_res_close(struct state_res *s)
{
	res_list_release(&s->rl);
	statefs_close(&s->sf);
}

int
state_res_finish(const struct marsadm_ctx *ctx, struct state_res *s, int ret, int changed)
{
	if (ret == MX_OK)
		ret = state_report(ctx, &s->rl, changed);
	state_res_close(s);
	return ret;
}

/* ---- waiting for the data path ------------------------------------------ */

#define WAIT_POLL_MS		200
#define WAIT_PROGRESS_S		5

int
state_wait_arg(struct statefs *sf, const char *res, const char *host, int limit_s,
	       state_done_arg_fn *done, void *arg, const char *what)
{
	struct timespec pause = { 0, WAIT_POLL_MS * 1000000L };
	time_t start = time(NULL), said = start;

	while (!done(sf, res, host, arg)) {
		if (time(NULL) - start >= limit_s)
			return MX_TIMEOUT;
		if (time(NULL) - said >= WAIT_PROGRESS_S) {
			fprintf(stderr, "marsadm: waiting for %s (%ld s)\n", what,
				(long)(time(NULL) - start));
			said = time(NULL);
		}
		nanosleep(&pause, NULL);
	}
	return MX_OK;
}

static int
done_noarg(struct statefs *sf, const char *res, const char *host, void *arg)
{
	state_done_fn **done = arg;

	return (*done)(sf, res, host);
}

int
state_wait(struct statefs *sf, const char *res, const char *host, int limit_s,
	   state_done_fn *done, const char *what)
{
	return state_wait_arg(sf, res, host, limit_s, done_noarg, &done, what);
}
