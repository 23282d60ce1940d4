/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state-tree side of the command layer, shared by the families that
 * read and write the tree (cluster, resource, switch, role, link, view):
 * opening the tree with errors that name the fix, turning a RES operand
 * ("all", "a,b") into resource names, and applying a transaction - or
 * printing it with --dry-run.  Every function returns an MX_* code, having
 * said why when it is not MX_OK.
 */
#ifndef MARSADM_STATE_H
#define MARSADM_STATE_H

#include "marsadm/marsadm.h"
#include "statefs/statefs.h"

/* The statefs command families (cmd_cluster.c ... cmd_view.c, cmd_repl.c ...). */
extern const struct cmd cmds_cluster[];
extern const struct cmd cmds_resource[];
extern const struct cmd cmds_switch[];
extern const struct cmd cmds_repl[];	/* cmd_repl.c: primary, secondary, wait-resource */
extern const struct cmd cmds_member[];	/* cmd_member.c: join/leave-resource, invalidate */
extern const struct cmd cmds_logs[];	/* cmd_logs.c: log-rotate, log-delete, cron */
extern const struct cmd cmds_link[];
extern const struct cmd cmds_view[];
extern const struct cmd cmds_settings[];	/* cmd_settings.c: fetch limits, compression */

/* Key paths are built into buffers of this size; names are bounded. */
#define STATE_KEY_BYTES (STATEFS_PATH_MAX + 1)

/*
 * The size in bytes of the disk @dev an admin names for data-HOST: an
 * absolute path to a block device or a regular file itself, not a
 * symbolic link (clusterd opens disks with O_NOFOLLOW, docs/state-tree.md
 * section 8; the hint names the link's target).
 */
int state_dev_bytes(const char *dev, uint64_t *bytes);

/* Open ctx->root as a state tree for ctx->host (statefs_open, mapped). */
int state_open(const struct marsadm_ctx *ctx, struct statefs **sfp, unsigned flags);

/* A list of resource names from a RES operand. */
struct res_list {
	char (*names)[STATEFS_NAME_MAX + 1];
	size_t n;
	size_t cap;
};

#define RES_MEMBER	(1U << 0)	/* this host must be a storage member;
					   "all" means all resources it is member of */
#define RES_NO_ALL	(1U << 1)	/* "all" is refused (destructive commands) */

/*
 * Resolve @arg (NULL = "all") into @rl: "all", or comma-separated names that
 * must be valid (MX_USAGE), exist (MX_NOENT) and, with RES_MEMBER, have
 * this host as a member (MX_REFUSED).  Release with res_list_release().
 */
int res_list_parse(const struct marsadm_ctx *ctx, struct statefs *sf, const char *arg,
		   unsigned flags, struct res_list *rl);
void res_list_release(struct res_list *rl);

/*
 * How most resource commands start: the tree open and a RES operand
 * resolved.  state_res_open() is state_open() then res_list_parse(); on
 * failure it leaves nothing to release.  state_res_close() releases both;
 * state_res_finish() first ends the command with state_report() when
 * @ret is MX_OK, and returns the command's result.
 */
struct state_res {
	struct statefs *sf;
	struct res_list rl;
};

int state_res_open(const struct marsadm_ctx *ctx, struct state_res *s, const char *arg,
		   unsigned flags);
void state_res_close(struct state_res *s);
int state_res_finish(const struct marsadm_ctx *ctx, struct state_res *s, int ret, int changed);

/*
 * Wait until @done(sf, res, host) returns 1, polling every 200 ms, for at
 * most @limit_s seconds; a progress line "marsadm: waiting for WHAT (N s)"
 * every 5 s.  MX_OK, or MX_TIMEOUT without a message: the caller says
 * what did not happen and the fix.
 */
typedef int state_done_fn(struct statefs *sf, const char *res, const char *host);
int state_wait(struct statefs *sf, const char *res, const char *host, int limit_s,
	       state_done_fn *done, const char *what);
/* The same with @arg passed to @done. */
typedef int state_done_arg_fn(struct statefs *sf, const char *res, const char *host, void *arg);
int state_wait_arg(struct statefs *sf, const char *res, const char *host, int limit_s,
		   state_done_arg_fn *done, void *arg, const char *what);

/* Append @name unless present.  Returns MX_OK or MX_FAIL (out of memory). */
int res_list_add(struct res_list *rl, const char *name);

/* 1 if resource @res exists (live size link), 0 if not. */
int res_exists(struct statefs *sf, const char *res);

/* resource-RES/KEY into @buf: its length, or -ENOENT if absent. */
int res_get(struct statefs *sf, const char *res, const char *key, char *buf, size_t size);

/* resource-RES/KEY as a decimal number, @dflt if absent or not a number. */
uint64_t res_u64(struct statefs *sf, const char *res, const char *key, uint64_t dflt);

/* Format a key path into @buf (STATE_KEY_BYTES). */
void state_key(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * resource-RES/ and the name of @host's version link for logfile @nr, the
 * name made by the shared codec, into @buf (STATE_KEY_BYTES).  Returns 0,
 * or -ERANGE (@nr past 999999999) / -EINVAL (a bad host), @buf then "".
 * (A logfile is a file, not a key: statefs_file_*() reach it.)
 */
int state_version_key(char *buf, const char *res, uint64_t nr, const char *host);

/*
 * Apply @t: report a refused add, print the ops with --dry-run, or
 * commit.  *changed (may be NULL) receives the number of keys changed.
 */
int state_apply(const struct marsadm_ctx *ctx, struct statefs_txn *t, int *changed);

/*
 * The usual ending of a command that changed resources: with --json one
 * object {"command", "resources", "changed"}; else a note when nothing
 * needed changing.
 */
int state_report(const struct marsadm_ctx *ctx, const struct res_list *rl, int changed);

/*
 * The update step (marsadm/pull.c): pull every reachable member's tree and
 * merge it through gossip_update(), the daemon's exchange and checks.
 */
struct pull {
	struct marsadm_ctx *ctx;
	int strict;		/* the caller fails on a silent member (no "going on") */
	int quiet;		/* no warning per silent member (the caller retries) */
	uint64_t deadline_ms;	/* gossip_now_ms() bound; 0: from --timeout */
	/* Pull from @host? NULL: every member. */
	int (*want)(struct pull *p, const char *host);
	/* Called for each member that answered. */
	void (*answered)(struct pull *p, const char *host);
	void *arg;		/* for @want and @answered */
	struct json_object *json;	/* array: one object per member, or NULL */
	/* Results of the last pull_run(). */
	int members, failed, timed_out;
	char first_failed[STATEFS_NAME_MAX + 1];
	char first_err[256];	/* why first_failed did not answer */
};

/* One pull from every member @p wants.  MX_OK, or the code of a local
 * failure (no tree, unreadable members); silent members are counted in @p. */
int pull_run(struct pull *p);

/*
 * CMD_NEED_NEWEST, before the other preconditions: pull from all members;
 * a silent member is a warning.  Skipped with --dry-run and --timeout=0.
 */
int pull_newest(struct marsadm_ctx *ctx);

#endif /* MARSADM_STATE_H */
