/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the replication driver, shared by its files:
 *   driver.c          the thread, the tick, the dispatch of decisions
 *   driver_primary.c  starting, rotating and leaving the primary role,
 *                     this node's version links of its own logfiles
 *   driver_replay.c   replay, switchover, the fetcher's wanted list
 *   driver_sync.c     the full sync and its recorded position
 *   driver_cron.c     logfile deletion on a timer
 *   driver_status.c   the status file for marsadm view, the switches obeyed
 *   driver_limits.c   fetch limits, weights and compression from the tree
 */
#ifndef MARS_CLUSTERD_DRIVER_INTERNAL_H
#define MARS_CLUSTERD_DRIVER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "clusterd/driver/driver.h"
#include "clusterd/transfer/fetch.h"
#include "clusterd/gossip/gossip.h"
#include "clusterd/driver/roles.h"
#include "clusterd/transfer/sync.h"
#include "engine/engine.h"
#include "repl/repl.h"

#define DRV_MAX_RES		256
#define DRV_VOUCH_SLOTS		4	/* open SHA-256 states of recent logfiles */
#define DRV_RETRY_MS		2000	/* after a failed engine start */
#define DRV_ROTATE_WAIT_MS	5000	/* for the engine to swap logfiles */

/* A limit in force and where it comes from (docs/replication.md 5). */
struct drv_limit {
	uint64_t bps;			/* bytes per second, 0 = none */
	const char *from;		/* "none", "option", "defaults", "defaults-HOST" */
};

/* A resource's run-time settings (driver_limits.c), read every tick. */
struct drv_limits {
	struct drv_limit fetch;		/* its own limit: the tighter of option and tree */
	uint64_t weight;		/* fetch-priority */
	int compress;			/* enum piece_mode */
	uint64_t share_bps;		/* what its fetcher runs on (or starts on), 0 = none */
	uint64_t said[3][2];		/* bad values logged: bwlimit, priority, compress */
};

struct drv_res {
	char name[REPL_NAME_MAX + 1];
	int seen;			/* still in the tree this tick */
	struct mars_engine *e;
	uint64_t e_size;		/* the resource size the engine was given */
	uint64_t resize_said;		/* size whose pending restart was logged */
	struct fetcher *f;
	struct syncer *sy;		/* a full sync in progress */
	struct piece_stats sy_z;	/* transfer counters of the syncs that ended */
	uint64_t sy_saved;		/* syncstatus last written */
	uint64_t sy_saved_ms;
	uint64_t retry_at_ms;		/* no engine or sync start before this */
	char why[512];			/* last decision's reason, logged on change */
	uint64_t status_ms;		/* .driver-status last written */
	uint64_t lag_ms;		/* unapplied- entries last published */
	uint64_t vouch_ms;		/* digest- vouches last published */
	struct repl_vouch_hash vouch_hash[DRV_VOUCH_SLOTS];	/* driver_vouch.c */
	unsigned vouch_pass[DRV_VOUCH_SLOTS];	/* the pass that used each slot last */
	unsigned vouch_pass_nr;			/* the current pass */
	char blocker[REPL_NAME_MAX + 1];	/* deletion blocker last logged */
	char mount[4096], log_path[4096];
	struct drv_limits lim;
};

struct driver {
	const struct gossip_config *gc;
	struct driver_config dc;
	pthread_t thread;
	volatile int quit;
	struct statefs *sf;
	int sf_open;
	uint64_t next_cron_ms;		/* logfile deletion runs then */
	struct drv_res *res[DRV_MAX_RES];
	size_t n_res;
	struct drv_limit node_limit;	/* all fetches together (driver_limits.c) */
	uint64_t node_said[2];		/* its bad values logged */
};

/* ---- driver.c ------------------------------------------------------------ */

/* Write key/value pairs @kv[0..n) under resource-@res in one transaction. */
int drv_put(struct driver *d, const char *res, const char *const *kv, size_t n);
/* Size of the local logfile @name of @res, 0 if absent. */
uint64_t drv_file_size(struct driver *d, const char *res, const char *name);
/* The length of logfile @name: where its records end (common/logend.h),
 * not its size, which may include zeros a killed engine left after its
 * log end; 0 if it cannot be read. */
uint64_t drv_log_length(struct driver *d, const char *res, const char *name);
/* Stop and forget the engine of @r (the child ends). */
void drv_engine_drop(struct driver *d, struct drv_res *r);
void drv_sleep_ms(unsigned ms);

/* ---- driver_primary.c ------------------------------------------------------ */

void drv_ensure_own_link(struct driver *d, struct drv_res *r, const char *logfile);
void drv_start_primary(struct driver *d, struct drv_res *r, const struct role_action *a);
void drv_stop_primary(struct driver *d, struct drv_res *r, const struct mars_engine_status *st);
void drv_rotate(struct driver *d, struct drv_res *r, const struct role_view *v,
		const struct mars_engine_status *st);

/* ---- driver_replay.c ------------------------------------------------------- */

void drv_switch(struct driver *d, struct drv_res *r, const struct role_action *a);
int drv_replay_trouble(struct driver *d, struct drv_res *r, const struct mars_engine_status *st);
void drv_feed_fetcher(struct driver *d, struct drv_res *r, const struct role_view *v, int logging);

/* ---- driver_sync.c ---------------------------------------------------------- */

void drv_sync(struct driver *d, struct drv_res *r, const struct role_view *v, const char *peer);
/* End a sync run, recording the position reached. */
void drv_sync_end(struct driver *d, struct drv_res *r);

/* ---- driver_cron.c ------------------------------------------------------------ */

void drv_cron(struct driver *d);

/* driver_deleted.c: RES's size is a tombstone (deleted on another node):
 * tombstone this host's older names in it, as delete-resource here would. */
void driver_follow_deletion(struct driver *d, const char *res);

/* ---- driver_lag.c ----------------------------------------------------------------- */

/* While this node logs @r: publish, at most once a second, the stamp of
 * the first record each other member has not applied (actual-HOST/
 * unapplied-MEMBER, docs/state-tree.md 3.6). */
void drv_lag_publish(struct driver *d, struct drv_res *r, const struct role_view *v,
		     const struct mars_engine_status *st);

/* ---- driver_vouch.c ------------------------------------------------------------ */

/* While this node is the designated primary and logs @r: publish, at most
 * once a second, its vouches for the logfiles it holds (digest-N-US,
 * docs/state-tree.md 3.8). */
void drv_vouch_publish(struct driver *d, struct drv_res *r, const struct role_view *v,
		       const struct mars_engine_status *st);
/* Vouch for our logfile @name at its final @len bytes now (handover). */
void drv_vouch_final(struct driver *d, struct drv_res *r, const char *name, uint64_t len);
/* Free @r's hash states. */
void drv_vouch_release(struct drv_res *r);

/* ---- driver_limits.c ------------------------------------------------------------ */

/* Read @r's fetch limit, weight and compression mode from the tree. */
void drv_limits_read(struct driver *d, struct drv_res *r);
/* Share the node limits among the busy transfers and apply every limit. */
void drv_limits_share(struct driver *d);
/* Write @r's limit_* lines into the status file @f. */
void drv_limits_status(FILE *f, const struct driver *d, const struct drv_res *r);

/* ---- driver_status.c ------------------------------------------------------------ */

void drv_status_write(struct driver *d, struct drv_res *r, const struct role_action *a,
		      const struct mars_engine_status *st, int changed);
/* Publish which todo switches of @v the data path obeys (actual-HOST/acted-*). */
void drv_acted_write(struct driver *d, struct drv_res *r, const struct role_view *v);

#endif /* MARS_CLUSTERD_DRIVER_INTERNAL_H */
