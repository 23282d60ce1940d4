/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * marsadm's entry point: build the context from options and environment,
 * find the command, and let run_cmd() check everything the command's flags
 * declare before it runs.  This is the only place that exits.
 *
 * Global options may stand before the command (like git) or among its
 * operands (like MARS's marsadm always allowed); "--" ends them.
 */
#include "marsadm/marsadm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/parse.h"

#ifndef MARS_VERSION
#error "MARS_VERSION comes from AM_CPPFLAGS in Makefile.am (AC_INIT's version)"
#endif

const struct marsadm_opt marsadm_opts[] = {
	{ "root", "DIR", 0, "state tree root (default: $MARS_ROOT, else " MARSADM_DEFAULT_ROOT ")" },
	{ "host", "NAME", 0, "act as node NAME (default: $MARS_HOST, else uname -n)" },
	{ "json", NULL, CMD_OPT_JSON, "machine-readable output, one JSON object per line" },
	{ "dry-run", NULL, CMD_OPT_DRY_RUN, "print the operations a command would do, change nothing" },
	{ "force", NULL, CMD_OPT_FORCE, "override a refusable precondition" },
	{ "timeout", "SECONDS", CMD_OPT_TIMEOUT, "bound every wait (default 600; -1 forever, 0 no wait)" },
	{ "parallel", "N", CMD_OPT_PARALLEL, "move a list N resources at a time (default: all at once)" },
	{ "verbose", NULL, 0, "say more on stderr; repeat for more" },
	{ "help", NULL, 0, "show help for the command and exit" },
	{ "version", NULL, 0, "print the version and exit" },
	{ NULL, NULL, 0, NULL },
};

static void
ctx_init(struct marsadm_ctx *ctx)
{
	struct utsname u;
	const char *env;

	memset(ctx, 0, sizeof(*ctx));
	ctx->timeout_s = MARSADM_DEFAULT_TIMEOUT_S;
	env = getenv("MARS_ROOT");
	ctx->root = env && *env ? env : MARSADM_DEFAULT_ROOT;
	env = getenv("MARS_HOST");
	if (env && *env) {
		ctx->host = env;
	} else if (uname(&u) == 0) {
		snprintf(ctx->host_buf, sizeof(ctx->host_buf), "%s", u.nodename);
		ctx->host = ctx->host_buf;
	} else {
		ctx->host = "localhost";
	}
}

static const struct marsadm_opt *
opt_find(const char *name, size_t len)
{
	for (const struct marsadm_opt *o = marsadm_opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static int
opt_apply(struct marsadm_ctx *ctx, const struct marsadm_opt *o, const char *val)
{
	long long t;

	ctx->opts_given |= o->bit;
	if (!strcmp(o->name, "root"))
		ctx->root = val;
	else if (!strcmp(o->name, "host"))
		ctx->host = val;
	else if (!strcmp(o->name, "json"))
		ctx->json = 1;
	else if (!strcmp(o->name, "dry-run"))
		ctx->dry_run = 1;
	else if (!strcmp(o->name, "force"))
		ctx->force = 1;
	else if (!strcmp(o->name, "verbose"))
		ctx->verbose++;
	else if (!strcmp(o->name, "timeout")) {
		if (parse_int_range(val, -1, INT_MAX, &t))
			return fail(MX_USAGE, "invalid --timeout '%s': expected seconds, -1 or more", val);
		ctx->timeout_s = (int)t;
	} else if (!strcmp(o->name, "parallel")) {
		if (parse_int_range(val, 1, INT_MAX, &t))
			return fail(MX_USAGE, "invalid --parallel '%s': expected 1 or more", val);
		ctx->parallel = (int)t;
	}
	if ((o->arg && !*val))
		return fail(MX_USAGE, "option '--%s' needs a non-empty %s", o->name, o->arg);
	return MX_OK;
}

/*
 * Parse the option at argv[*i].  Returns MX_OK when it was a global
 * option (consumed, *i advanced past its argument), -1 when it is not a
 * global option, or MX_USAGE.  "help" and "version" are left to callers.
 */
static int
opt_parse(struct marsadm_ctx *ctx, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq, *val = NULL;
	const struct marsadm_opt *o;

	if (!strcmp(arg, "-v"))
		arg = "--verbose";
	else if (!strcmp(arg, "-h"))
		arg = "--help";
	if (strncmp(arg, "--", 2))
		return -1;
	arg += 2;
	eq = strchr(arg, '=');
	o = opt_find(arg, eq ? (size_t)(eq - arg) : strlen(arg));
	if (!o || !strcmp(o->name, "help") || !strcmp(o->name, "version"))
		return -1;
	if (o->arg && eq)
		val = eq + 1;
	else if (o->arg && *i + 1 < argc)
		val = argv[++*i];
	else if (o->arg)
		return fail(MX_USAGE, "option '--%s' needs an argument %s", o->name, o->arg);
	else if (eq)
		return fail(MX_USAGE, "option '--%s' takes no argument", o->name);
	(*i)++;
	return opt_apply(ctx, o, val);
}

static int
is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

static int
has_ellipsis(const char *w, size_t len)
{
	for (size_t k = 0; k + 3 <= len; k++)
		if (!strncmp(w + k, "...", 3))
			return 1;
	return 0;
}

/*
 * Count the operands @usage describes (see struct cmd); *@max is -1 when
 * the last one repeats.
 */
static void
usage_arity(const char *usage, int *min, int *max)
{
	int depth = 0;
	const char *p = usage ? usage : "";

	*min = *max = 0;
	while (*p) {
		size_t n = strcspn(p, " \t");
		int optional = depth > 0 || *p == '[';
		const char *w = p;

		for (const char *q = p; q < p + n; q++)
			depth += (*q == '[') - (*q == ']');
		while (*w == '[')
			w++;
		if (*w != '-' && w < p + n) {
			if (!optional)
				(*min)++;
			if (*max >= 0)
				(*max)++;
			if (has_ellipsis(w, (size_t)(p + n - w)))
				*max = -1;
		}
		p += n;
		p += strspn(p, " \t");
	}
}

static int
check_operands(const struct cmd *cmd, int argc)
{
	int min, max, n = argc - 1;

	if (cmd->flags & CMD_OWN_OPTS)
		return MX_OK;
	usage_arity(cmd->usage, &min, &max);
	if (n < min)
		return usage_error(cmd, "'%s' needs %s%d operand%s, got %d", cmd->name,
				   max == min ? "" : "at least ", min, min == 1 ? "" : "s", n);
	if (max >= 0 && n > max)
		return usage_error(cmd, "'%s' takes at most %d operand%s, got %d", cmd->name,
				   max, max == 1 ? "" : "s", n);
	return MX_OK;
}

/* Options given that @cmd does not accept are usage errors. */
static int
check_options(const struct marsadm_ctx *ctx, const struct cmd *cmd)
{
	for (const struct marsadm_opt *o = marsadm_opts; o->name; o++)
		if (o->bit && (ctx->opts_given & o->bit) && !(cmd->flags & o->bit))
			return usage_error(cmd, "option '--%s' does not apply to '%s'",
					   o->name, cmd->name);
	return MX_OK;
}

static int
show_cmd_help(struct marsadm_ctx *ctx, const struct cmd *cmd)
{
	char *argv[] = { "help", (char *)cmd->name, NULL };

	return cmd_lookup("help")->fn(ctx, 2, argv);
}

/*
 * Take the global options out of argv[1..], leaving the operands (and,
 * for CMD_OWN_OPTS commands, the options they parse themselves).
 */
static int
strip_options(struct marsadm_ctx *ctx, const struct cmd *cmd, int *argc, char **argv)
{
	int i = 1, out = 1, ret, operands_only = 0;

	while (i < *argc) {
		if (operands_only || !is_option(argv[i])) {
			argv[out++] = argv[i++];
			continue;
		}
		if (!strcmp(argv[i], "--") && !(cmd->flags & CMD_OWN_OPTS)) {
			operands_only = 1;
			i++;
			continue;
		}
		ret = opt_parse(ctx, *argc, argv, &i);
		if (ret > 0)
			return ret;
		if (ret == 0)
			continue;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -2;
		if (!(cmd->flags & CMD_OWN_OPTS))
			return usage_error(cmd, "unknown option '%s' for '%s'", argv[i], cmd->name);
		argv[out++] = argv[i++];
	}
	argv[out] = NULL;
	*argc = out;
	return MX_OK;
}

int
run_cmd(struct marsadm_ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	int ret;

	ctx->cmd = cmd;
	ret = strip_options(ctx, cmd, &argc, argv);
	if (ret == -2)
		return show_cmd_help(ctx, cmd);
	if (ret == MX_OK)
		ret = check_options(ctx, cmd);
	if (ret == MX_OK)
		ret = check_operands(cmd, argc);
	if (ret == MX_OK)
		ret = precond_check(ctx, cmd, argc, argv);
	if (ret == MX_OK)
		ret = cmd->fn(ctx, argc, argv);
	if (ret < 0 || ret >= MX_COUNT)
		ret = MX_FAIL;
	if (fflush(stdout) == EOF || ferror(stdout))
		ret = fail(MX_IO, "cannot write to standard output: %s", strerror(errno));
	return ret;
}

static int
main_usage(void)
{
	fprintf(stderr, "usage: marsadm [OPTIONS] COMMAND [OPERANDS]\n");
	hint("run 'marsadm help' for the commands, 'man marsadm' for details");
	return MX_USAGE;
}

int
main(int argc, char **argv)
{
	struct marsadm_ctx ctx;
	const struct cmd *cmd;
	int i = 1, ret;

	ctx_init(&ctx);
	while (i < argc && is_option(argv[i])) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("marsadm (MARS) %s\n", MARS_VERSION);
			return MX_OK;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return run_cmd(&ctx, cmd_lookup("help"), 1, (char *[]){ "help", NULL });
		ret = opt_parse(&ctx, argc, argv, &i);
		if (ret > 0)
			return ret;
		if (ret < 0) {
			error("unknown option '%s'", argv[i]);
			return main_usage();
		}
	}
	if (i >= argc)
		return main_usage();
	cmd = cmd_lookup(argv[i]);
	if (!cmd) {
		error("'%s' is not a marsadm command", argv[i]);
		hint("run 'marsadm help' for the list of commands");
		return MX_USAGE;
	}
	return run_cmd(&ctx, cmd, argc - i, argv + i);
}
