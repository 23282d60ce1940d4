/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `marsadm help`: everything it prints comes from the command table, the
 * option table and the exit-code table, so help cannot drift from what
 * the program does.  The machine-readable lists (--commands, --options,
 * --exit-codes) feed bash completion and the man-page consistency test.
 */
#include "marsadm/marsadm.h"

#include <stdio.h>
#include <string.h>

static void
help_options(FILE *out)
{
	for (const struct marsadm_opt *o = marsadm_opts; o->name; o++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? "=" : "",
			 o->arg ? o->arg : "");
		fprintf(out, "  %-20s %s\n", left, o->help);
	}
}

static int
help_overview(void)
{
	printf("usage: marsadm [OPTIONS] COMMAND [OPERANDS]\n\n");
	printf("Options (before the command or among its operands):\n");
	help_options(stdout);
	for (const struct cmd_family *f = cmd_families; f->cmds; f++) {
		printf("\n%s:\n", f->title);
		for (const struct cmd *c = f->cmds; c->name; c++) {
			char left[64];

			if (c->flags & CMD_HIDDEN)
				continue;
			snprintf(left, sizeof(left), "%s %s", c->name, c->usage ? c->usage : "");
			if (strlen(left) > 28)
				printf("  %s\n  %-28s %s\n", left, "", c->help);
			else
				printf("  %-28s %s\n", left, c->help);
		}
	}
	printf("\nRun 'marsadm help COMMAND' for one command, 'marsadm help --exit-codes'\n"
	       "for the exit status table, 'man marsadm' for everything.\n");
	return MX_OK;
}

static int
help_command(const struct cmd *c)
{
	const char *sep = "";

	printf("usage: marsadm %s%s%s\n\n  %s\n", c->name, c->usage && *c->usage ? " " : "",
	       c->usage ? c->usage : "", c->help);
	printf("\noptions accepted: --root --host --verbose");
	for (const struct marsadm_opt *o = marsadm_opts; o->name; o++)
		if (o->bit && (c->flags & o->bit))
			printf(" --%s", o->name);
	printf("\n");
	if (c->flags & (CMD_NEED_TREE | CMD_NEED_RESOURCE | CMD_NEED_ROOT | CMD_NEED_MODULE)) {
		printf("needs:");
		if (c->flags & (CMD_NEED_TREE | CMD_NEED_RESOURCE))
			printf("%s a state tree", sep), sep = ",";
		if (c->flags & CMD_NEED_NEWEST)
			printf("%s the members' newest trees (pulled first)", sep), sep = ",";
		if (c->flags & CMD_NEED_RESOURCE)
			printf("%s an existing resource", sep), sep = ",";
		if (c->flags & CMD_NEED_ROOT)
			printf("%s root", sep), sep = ",";
		if (c->flags & CMD_NEED_MODULE)
			printf("%s the kernel module", sep);
		printf("\n");
	}
	return MX_OK;
}

static int
help_list(const char *what)
{
	if (!strcmp(what, "--commands")) {
		for (const struct cmd_family *f = cmd_families; f->cmds; f++)
			for (const struct cmd *c = f->cmds; c->name; c++)
				if (!(c->flags & CMD_HIDDEN))
					printf("%s\n", c->name);
	} else if (!strcmp(what, "--options")) {
		for (const struct marsadm_opt *o = marsadm_opts; o->name; o++)
			printf("--%s\n", o->name);
	} else if (!strcmp(what, "--exit-codes")) {
		for (int code = 0; code < MX_COUNT; code++)
			printf("%d %s %s\n", code, mx_name(code), mx_description(code));
	} else {
		return -1;
	}
	return MX_OK;
}

static int
cmd_help(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;

	if (argc > 2)
		return usage_error(ctx->cmd, "'help' takes at most one operand");
	if (argc == 1)
		return help_overview();
	if (argv[1][0] == '-') {
		if (help_list(argv[1]) == 0)
			return MX_OK;
		return usage_error(ctx->cmd, "unknown option '%s' for 'help'", argv[1]);
	}
	c = cmd_lookup(argv[1]);
	if (!c) {
		fail(MX_USAGE, "'%s' is not a marsadm command", argv[1]);
		hint("run 'marsadm help' for the list of commands");
		return MX_USAGE;
	}
	return help_command(c);
}

const struct cmd cmds_help[] = {
	{ .name = "help", .fn = cmd_help, .flags = CMD_OWN_OPTS,
	  .usage = "[COMMAND|--commands|--options|--exit-codes]",
	  .help = "show the commands, one command's usage, or a machine-readable list" },
	{ .name = NULL },
};
