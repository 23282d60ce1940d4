/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Roles: what this node's data path of one resource should do next,
 * derived from the state tree and the engine's status.  docs/replication.md
 * is the normative description; this is its one implementation.
 *
 * role_view_load() reads everything a decision needs from the tree into
 * a struct role_view (the I/O); roles_decide() is a pure function from a
 * view and an engine status to one action, so that every rule of the
 * handover, failover and switchover protocol is unit-tested
 * (tests/unit/test_roles.c).  The driver (driver.c) carries actions out.
 */
#ifndef MARS_CLUSTERD_ROLES_H
#define MARS_CLUSTERD_ROLES_H

#include <stdint.h>

#include "engine/engine.h"
#include "repl/repl.h"

#define ROLE_MAX_HOSTS	REPL_MAX_MEMBERS

/* Another host's claim to be primary (resource-RES/actual-X/is-primary). */
struct role_claim {
	char host[REPL_NAME_MAX + 1];
	int is_primary;
	int has_closed;			/* actual-X/closed: "log-N-X,LEN,0", written by */
	uint64_t closed_nr;		/* X's driver after its engine stopped logging */
	uint64_t closed_len;
};

/* Everything a decision reads; filled by role_view_load(). */
struct role_view {
	const char *host;			/* this node */
	const char *res;
	int member;				/* data-HOST exists */
	char disk[4096];			/* its value */
	uint64_t size_bytes;			/* resource size */
	int sw_attach, sw_connect, sw_replay, sw_sync;	/* todo-HOST switches */
	uint64_t syncstatus;			/* syncstatus-HOST: bytes synced */
	struct repl_replay syncpos;		/* syncpos-HOST (valid 0 if none) */
	char primary[REPL_NAME_MAX + 1];	/* designated primary, "" none */
	uint64_t open_count;			/* actual-HOST/open-count */
	struct repl_replay replay;		/* replay-HOST (valid 0 if none) */
	struct repl_history hist;		/* version links, local logfiles */
	struct role_claim claims[ROLE_MAX_HOSTS];	/* other hosts' is-primary */
	size_t n_claims;
	uint64_t rotate_req;			/* todo-HOST/rotate, 0 none */
	uint64_t rotate_done;			/* local-HOST/rotated, 0 none */
	uint64_t rotate_bytes;			/* rotate the primary's logfile at this size, 0 never */
};

enum role_act {
	ROLE_IDLE = 0,		/* nothing to do; why says what is awaited */
	ROLE_DETACH,		/* stop the data path */
	ROLE_START_PRIMARY,	/* write link (own link of the logfile left), then primary */
	ROLE_STOP_PRIMARY,	/* leave the primary role; then the final link */
	ROLE_PUBLISH,		/* write link (own version link) */
	ROLE_START_REPLAY,	/* replay logfile from pos */
	ROLE_SWITCH,		/* write link + next_link + replay link, then replay next */
	ROLE_ROTATE,		/* primary: continue in the next logfile */
	ROLE_SYNC,		/* full sync from peer, from syncstatus on */
};

struct role_action {
	enum role_act act;
	char why[512];				/* for the log and the status page */
	char logfile[MARS_LOGNAME_MAX + 1];	/* START_REPLAY, SWITCH: the logfile */
	uint64_t pos;				/* START_REPLAY: from where */
	uint64_t link_nr;			/* PUBLISH, SWITCH, START_PRIMARY: own link */
	char link[STATEFS_VALUE_MAX + 1];	/* its value ("" none) */
	char next_link[STATEFS_VALUE_MAX + 1];	/* SWITCH: own link of the next logfile */
	int split;				/* set when stopped at a divergence */
	char peer[REPL_NAME_MAX + 1];		/* SYNC: the host to sync from */
};

/* The wanted logfiles of a secondary (for the fetcher), in order. */
struct role_want {
	char name[MARS_LOGNAME_MAX + 1];
	uint64_t final_len;			/* UINT64_MAX: still growing */
};

/*
 * Decide the next action from @v and the engine status @st (@running:
 * an engine child exists).  Fills @a.  Pure.
 */
void roles_decide(const struct role_view *v, const struct mars_engine_status *st, int running,
		  struct role_action *a);

/*
 * The logfiles a secondary must hold next, in order: its current one
 * (not if it is its own) and the successor on the designated history.
 * Returns how many (0..2) were written to @w.  Pure.
 */
size_t roles_wanted(const struct role_view *v, struct role_want *w);

/* Read the view of @res for @host.  Returns 0 or -errno. */
int role_view_load(struct statefs *sf, const char *res, const char *host, struct role_view *v);
void role_view_release(struct role_view *v);

#endif /* MARS_CLUSTERD_ROLES_H */
