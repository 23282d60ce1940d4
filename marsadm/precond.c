/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CMD_NEED_* preconditions, checked once for every command before it
 * runs, so that each refusal has the same words, hint and exit code
 * whichever command hit it.  Nothing here writes, except that
 * CMD_NEED_NEWEST merges the members' trees first, as clusterd would.
 *
 * The tree checks look only at what the original MARS layout guarantees
 * (a "uuid" link at the root, resources in "resource-NAME"); statefs owns
 * the layout, and these two functions are where to call it instead.
 */
#include "marsadm/marsadm.h"
#include "marsadm/state.h"	/* pull_newest() */
#include "statefs/statefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
precond_tree(const struct marsadm_ctx *ctx)
{
	char path[4096];
	struct stat st;

	if (stat(ctx->root, &st) < 0) {
		fail(MX_NOTREE, "state tree '%s' is not accessible: %s", ctx->root, strerror(errno));
		hint("create it with 'marsadm create-cluster', or point --root or MARS_ROOT at it");
		return MX_NOTREE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fail(MX_NOTREE, "state tree root '%s' is not a directory", ctx->root);
		hint("point --root or MARS_ROOT at the MARS state directory");
		return MX_NOTREE;
	}
	snprintf(path, sizeof(path), "%s/uuid", ctx->root);
	if (lstat(path, &st) < 0) {
		fail(MX_NOTREE, "'%s' is not a MARS state tree (no 'uuid' entry)", ctx->root);
		hint("run 'marsadm create-cluster' there first, or fix --root or MARS_ROOT");
		return MX_NOTREE;
	}
	return MX_OK;
}

/* @list: "all", or one or more resource names separated by commas; each
 * a directory of the tree, not a link (statefs follows none). */
static int
precond_resource(const struct marsadm_ctx *ctx, const char *list)
{
	char name[STATEFS_NAME_MAX + 1], path[4096];
	struct stat st;
	const char *p = list;

	if (!strcmp(list, "all"))
		return MX_OK;
	while (*p) {
		int n = (int)strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", n, p);
		if (n == 0 || n >= (int)sizeof(name) ||
		    statefs_resource_path(ctx->root, name, NULL, path, sizeof(path)) < 0 ||
		    lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fail(MX_NOENT, "resource '%.*s' does not exist in '%s'", n, p, ctx->root);
			hint("'marsadm view all' lists the resources");
			return MX_NOENT;
		}
		p += n + (p[n] == ',');
	}
	return MX_OK;
}

static int
precond_module(const struct marsadm_ctx *ctx)
{
	const char *dir = getenv("MARS_MODULE_DIR");
	struct stat st;

	if (!dir || !*dir)
		dir = MARSADM_DEFAULT_MODULE_DIR;
	if (stat(dir, &st) == 0)
		return MX_OK;
	fail(MX_REFUSED, "'%s' needs the mars kernel module, which is not loaded", ctx->cmd->name);
	hint("run 'modprobe mars', or --dry-run to see what the command would do");
	return MX_REFUSED;
}

int
precond_check(struct marsadm_ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	unsigned f = cmd->flags;
	int ret;

	if ((f & (CMD_NEED_TREE | CMD_NEED_RESOURCE | CMD_NEED_NEWEST)) &&
	    (ret = precond_tree(ctx)))
		return ret;
	if ((f & CMD_NEED_NEWEST) && (ret = pull_newest(ctx)))
		return ret;
	if ((f & CMD_NEED_RESOURCE) && argc > 1 && (ret = precond_resource(ctx, argv[1])))
		return ret;
	if ((f & CMD_NEED_ROOT) && !ctx->dry_run && geteuid() != 0) {
		fail(MX_REFUSED, "'%s' must run as root", cmd->name);
		hint("use sudo, or --dry-run to see what the command would do");
		return MX_REFUSED;
	}
	if ((f & CMD_NEED_MODULE) && !ctx->dry_run && (ret = precond_module(ctx)))
		return ret;
	return MX_OK;
}
