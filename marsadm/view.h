/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `marsadm view` knows about one resource as seen from one node: the
 * model is read from the tree once (view_model.c), and every macro
 * (view_macros.c) is a small pure function of it, so `view` and each
 * `view-MACRO` can never disagree.  docs/marsadm.8 documents the
 * vocabulary; tests/bats/21-view.bats checks it.
 */
#ifndef MARSADM_VIEW_H
#define MARSADM_VIEW_H

#include <stdint.h>

#include "statefs/statefs.h"
#include "repl/repl.h"

#define VIEW_MAX_MEMBERS	32
#define VIEW_WINDOW_NS		(60ULL * STATEFS_NS_PER_S)	/* heartbeat freshness */

enum view_todo { TODO_ATTACH, TODO_CONNECT, TODO_SYNC, TODO_REPLAY, TODO_COUNT };
enum view_beat { BEAT_NONE, BEAT_STALE, BEAT_FRESH };

/* "log-NNNNNNNNN-ORIGIN,POS,LEN" */
struct view_replay {
	int valid;
	uint64_t lognr;
	char origin[STATEFS_NAME_MAX + 1];
	uint64_t pos_bytes, len_bytes;
};

/* One logfile number as far as the view needs it. */
struct view_log {
	uint64_t nr;
	char origin[STATEFS_NAME_MAX + 1];
	uint64_t local_bytes;		/* size of the local file, if any */
	int local;
	uint64_t primary_bytes;		/* length in the primary's version link */
	int in_primary;
	char version[STATEFS_VALUE_MAX + 1];	/* first version link value seen */
};

struct view_res {
	char name[STATEFS_NAME_MAX + 1];
	char host[STATEFS_NAME_MAX + 1];	/* the node we look from */
	uint64_t size_bytes;
	char primary[STATEFS_NAME_MAX + 1];	/* designated primary, "" for none */
	int member;				/* host has a data- link */
	char data[STATEFS_VALUE_MAX + 1];	/* host's backing device */
	int todo[TODO_COUNT];			/* -1 absent, else 0/1 */
	int is_attached, is_primary;		/* actual-HOST/, -1 absent */
	uint64_t syncstatus_bytes;
	struct view_replay replay;		/* host's replay link */
	char members[VIEW_MAX_MEMBERS][STATEFS_NAME_MAX + 1];
	int n_members, n_alive;
	enum view_beat beat;			/* host's own heartbeat */
	int primary_alive;			/* designated primary's heartbeat fresh */
	struct view_log *logs;			/* sorted by nr, n_logs entries */
	size_t n_logs, cap_logs;
	uint64_t replay_rest_bytes, fetch_rest_bytes;
	int split_brain;			/* repl_split_detect() over the tree */
	struct repl_split split;		/* ... and where, if split_brain */
	char blocker[STATEFS_NAME_MAX + 1];	/* member holding logfile deletion, "" none */
	uint64_t blocker_nr;			/* ... at its replay logfile */
	uint64_t blocked_since_ns;		/* ... since its replay link last moved */
	uint64_t deletable_nr;			/* logfiles below this number may go */
	uint64_t now_ns;
};

/* Read resource @res as seen from @host.  Returns 0 or -errno. */
int view_load(struct statefs *sf, const char *res, const char *host, struct view_res *v);
void view_release(struct view_res *v);

enum view_type { VIEW_STR, VIEW_INT, VIEW_BOOL };

struct view_val {
	enum view_type type;
	char str[STATEFS_VALUE_MAX + 1];	/* text form, always filled */
	uint64_t num;				/* VIEW_INT and VIEW_BOOL */
};

struct view_macro {
	const char *name;	/* "diskstate"; the command is "view-diskstate" */
	void (*fn)(const struct view_res *v, struct view_val *out);
};

/* NULL-terminated, in the order `view --json` lists the fields. */
extern const struct view_macro view_macros[];
const struct view_macro *view_macro_find(const char *name);

#endif /* MARSADM_VIEW_H */
