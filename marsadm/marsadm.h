/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * marsadm: the command table, the context every command receives, and the
 * command-layer error vocabulary.
 *
 * A command family lives in marsadm/cmd_<family>.c and exports exactly one
 * NULL-terminated table `const struct cmd cmds_<family>[]`, listed in
 * marsadm/commands.c.  run_cmd() (main.c) enforces what a command's flags
 * declare - operand count, accepted options, preconditions - before the
 * command function runs, so a command body starts with valid input.
 *
 * Commands return an exit code from marsadm/exitcodes.h: MX_OK, or the
 * value of fail(MX_..., ...), or -1 from error(), which run_cmd() maps to
 * MX_FAIL.  Only main() exits.
 */
#ifndef MARSADM_H
#define MARSADM_H

#include <stdarg.h>

#include "marsadm/exitcodes.h"

struct json_object;

/* Defaults, overridden by options and environment. */
#define MARSADM_DEFAULT_ROOT		"/mars"
#define MARSADM_DEFAULT_TIMEOUT_S	600
#define MARSADM_DEFAULT_MODULE_DIR	"/sys/module/mars"

/* What every command receives; filled by main() from options and env. */
struct marsadm_ctx {
	const char *root;	/* state tree: --root, $MARS_ROOT, "/mars" */
	const char *host;	/* this node's name: --host, $MARS_HOST, uname -n */
	int json;		/* --json: machine-readable output on stdout */
	int dry_run;		/* --dry-run: print the primitive operations only */
	int force;		/* --force: override refusable preconditions */
	int timeout_s;		/* --timeout: seconds to wait, -1 forever, 0 none */
	int parallel;		/* --parallel: resources moved at a time, 0 all */
	int verbose;		/* --verbose: repeatable, 0 = quiet */
	unsigned opts_given;	/* CMD_OPT_* bits of the options on the command line */
	const struct cmd *cmd;	/* the command being run */
	char host_buf[256];	/* storage for the uname -n default */
};

/*
 * Command flags.  Preconditions are checked in this order, each failure
 * ending the command with the code named here before it runs.
 */
#define CMD_NEED_TREE		(1U << 0)  /* root is a MARS state tree (MX_NOTREE) */
#define CMD_NEED_RESOURCE	(1U << 1)  /* operand 1 names existing resources, "all"
					      or a comma list (MX_NOENT); implies TREE */
#define CMD_NEED_ROOT		(1U << 2)  /* effective uid 0, unless --dry-run (MX_REFUSED) */
#define CMD_NEED_MODULE		(1U << 3)  /* mars.ko loaded, unless --dry-run (MX_REFUSED) */
/* Options a command accepts; any other given option is a usage error. */
#define CMD_OPT_JSON		(1U << 8)  /* --json */
#define CMD_OPT_DRY_RUN		(1U << 9)  /* --dry-run */
#define CMD_OPT_FORCE		(1U << 10) /* --force */
#define CMD_OPT_TIMEOUT		(1U << 11) /* --timeout */
/* Options not known globally are left in argv for the command to parse. */
#define CMD_OWN_OPTS		(1U << 12)
/* Not listed by `marsadm help` (aliases, deprecated names). */
#define CMD_HIDDEN		(1U << 13)
#define CMD_OPT_PARALLEL	(1U << 14) /* --parallel */
/* Pull the members' newest trees first (marsadm/pull.c), before the
 * resource check; implies TREE.  Bounded by --timeout, which it needs. */
#define CMD_NEED_NEWEST		(1U << 15)

/*
 * One command.  @usage lists the operands only, as in the man page:
 * "FILE", "RES DEV [SIZE]", "[RES|all]", "RES...".  run_cmd() derives the
 * operand count from it: a word outside brackets is required, a word
 * inside brackets optional, a word containing "..." repeatable; words
 * starting with '-' are not counted.  @help is one line, lowercase, no
 * final period.
 */
struct cmd {
	const char *name;
	int (*fn)(struct marsadm_ctx *ctx, int argc, char **argv);
	unsigned flags;
	const char *usage;
	const char *help;
};

/* The global options, for parsing and for `marsadm help`; NULL-terminated. */
struct marsadm_opt {
	const char *name;	/* long name without the dashes */
	const char *arg;	/* argument name for help, NULL for none */
	unsigned bit;		/* CMD_OPT_* a command must accept, 0 if any may */
	const char *help;
};
extern const struct marsadm_opt marsadm_opts[];

/* The families, in the order `marsadm help` lists them. */
struct cmd_family {
	const char *title;
	const struct cmd *cmds;
};
extern const struct cmd_family cmd_families[];

/* The command named @name, hidden ones included, or NULL. */
const struct cmd *cmd_lookup(const char *name);

/* Command families (marsadm/cmd_<family>.c). */
extern const struct cmd cmds_help[];
extern const struct cmd cmds_log[];

/*
 * Messages, all to stderr.  error() prints "marsadm: MSG" and returns -1,
 * fail() the same and returns @code, so that `return fail(MX_NOENT, ...)`
 * reads naturally.  hint() prints "hint: MSG", the fix, after an error.
 * Messages are lowercase, failure first, the subject quoted: cannot open
 * 'FILE': REASON.
 */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const struct marsadm_ctx *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Print @obj as one line of JSON on stdout (json-c's writer) and drop the
 * caller's reference.  Returns 0 or fail(MX_IO) when stdout fails.
 */
int print_json(struct json_object *obj);

/* Usage line of @cmd to stderr, for commands that parse their own options. */
int usage_error(const struct cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "--NAME=value" into *@val for commands that parse their own options;
 * returns 1 if @arg is that option, else 0 (marsadm/report.c). */
int own_opt(const char *arg, const char *name, const char **val);

/*
 * Check the CMD_NEED_* preconditions of @cmd for operands @argv
 * (marsadm/precond.c).  Returns MX_OK or the exit code, having said why.
 */
int precond_check(struct marsadm_ctx *ctx, const struct cmd *cmd, int argc, char **argv);

/* Run @cmd with @argc/@argv (argv[0] is the command name), options included. */
int run_cmd(struct marsadm_ctx *ctx, const struct cmd *cmd, int argc, char **argv);

#endif /* MARSADM_H */
