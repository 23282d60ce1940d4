/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication driver: clusterd's thread that carries out the role
 * decisions (roles.h) for every resource this node stores - it runs the
 * local engine through the operations table (engine/engine.h), keeps the
 * fetcher (fetch.h) on the logfiles the history needs next, and writes
 * the version, replay and rotation links the protocol asks for
 * (docs/replication.md).
 *
 * Engines outlive the driver: stopping clusterd leaves a primary's
 * device up, and the next clusterd adopts it.
 */
#ifndef MARS_CLUSTERD_DRIVER_H
#define MARS_CLUSTERD_DRIVER_H

#include <stdint.h>

struct gossip_config;
struct mars_engine_ops;

struct driver_config {
	const struct mars_engine_ops *ops;	/* &mars_engine_proc_ops */
	const char *engine_exe;		/* mars-engine [MARS_ENGINE] */
	const char *engine_frontend;	/* its --frontend, auto [MARS_ENGINE_FRONTEND] */
	const char *dev_dir;		/* device links /dev/mars [MARS_DEVDIR] */
	const char *run_dir;		/* FUSE mounts (or links to /dev/nbdN), engine logs /run/mars [MARS_RUNDIR] */
	unsigned tick_ms;		/* decision period (100) */
	uint64_t rotate_bytes;		/* rotate the primary's logfile at this size */
	uint64_t fetch_bwlimit;		/* bytes per second per resource, 0 = unlimited */
	uint64_t node_fetch_bwlimit;	/* ... for all fetches of this node together */
	uint64_t node_sync_bwlimit;	/* disk bytes compared per second, all syncs */
	unsigned cron_ms;		/* delete fully replayed logfiles this often, 0 never */
	uint64_t emergency_free;	/* the engine's emergency mode below this free space */
};

/* Defaults, then the environment in brackets above. */
void driver_config_init(struct driver_config *dc);

struct driver;

/* Start the driver thread for the node of @gc.  Returns 0 or -errno. */
int driver_start(const struct gossip_config *gc, const struct driver_config *dc,
		 struct driver **out);
/* Stop the thread and the fetchers; engines keep running. */
void driver_stop(struct driver *d);

#endif /* MARS_CLUSTERD_DRIVER_H */
