/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replication driver (driver.h): one thread, one tick every
 * tick_ms.  Per resource a tick reads the view, asks roles_decide() what
 * to do, does it, and hands the fetcher the logfiles roles_wanted()
 * names.  Every tree write here is one statefs transaction, so a crash
 * between two steps leaves a tree the next tick can decide from again;
 * the order of the steps is what docs/replication.md section 3 demands
 * (the engine stops before the links that describe its last position are
 * written).
 */
#include "clusterd/driver.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/fetch.h"
#include "clusterd/gossip.h"
#include "clusterd/log.h"
#include "clusterd/roles.h"
#include "clusterd/sync.h"
#include "engine/engine.h"

#define DRV_MAX_RES		256
#define DRV_RETRY_MS		2000	/* after a failed engine start */
#define DRV_ROTATE_WAIT_MS	5000

struct drv_res {
	char name[REPL_NAME_MAX + 1];
	int seen;			/* still in the tree this tick */
	struct mars_engine *e;
	struct fetcher *f;
	struct syncer *sy;		/* a full sync in progress */
	uint64_t sy_saved;		/* syncstatus last written */
	uint64_t sy_saved_ms;
	uint64_t retry_at_ms;		/* no engine or sync start before this */
	char why[512];			/* last decision's reason, logged on change */
	uint64_t status_ms;		/* .driver-status last written */
	char blocker[REPL_NAME_MAX + 1];	/* deletion blocker last logged */
	char mount[4096], log_path[4096];
};

struct driver {
	const struct gossip_config *gc;
	struct driver_config dc;
	pthread_t thread;
	volatile int quit;
	struct statefs sf;
	int sf_open;
	uint64_t next_cron_ms;		/* logfile deletion runs then */
	struct drv_res *res[DRV_MAX_RES];
	size_t n_res;
};

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

void
driver_config_init(struct driver_config *dc)
{
	const char *v;

	memset(dc, 0, sizeof(*dc));
	dc->ops = &mars_engine_proc_ops;
	dc->engine_exe = env_or("MARS_ENGINE", SBINDIR "/mars-engine");
	dc->dev_dir = env_or("MARS_DEVDIR", "/dev/mars");
	dc->run_dir = env_or("MARS_RUNDIR", "/run/mars");
	dc->tick_ms = 100;
	dc->rotate_bytes = 256ULL << 20;
	dc->cron_ms = 600000;
	dc->emergency_free = 256ULL << 20;
	v = getenv("MARS_ROTATE_BYTES");
	if (v && *v)
		dc->rotate_bytes = strtoull(v, NULL, 10);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- tree writes ---------------------------------------------------------- */

static int
put(struct driver *d, const char *res, const char *const *kv, size_t n)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_txn t;
	size_t i;
	int ret;

	statefs_txn_init(&t, &d->sf, 0);
	for (i = 0; i + 1 < n; i += 2) {
		snprintf(key, sizeof(key), "resource-%s/%s", res, kv[i]);
		statefs_txn_set(&t, key, kv[i + 1]);
	}
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		log_warnx("%s: cannot write %s: %s", res, kv[0], strerror(-ret));
	return ret < 0 ? ret : 0;
}

static uint64_t
file_size(struct driver *d, const char *res, const char *name)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/resource-%s/%s", d->gc->root, res, name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Own version link of own logfile @name, made or moved to @len. */
static int
own_link(struct driver *d, const char *res, uint64_t nr, uint64_t len, char *out, size_t size,
	 char *prev_section, size_t prev_size)
{
	char key[STATEFS_PATH_MAX + 1], cur[STATEFS_VALUE_MAX + 1];
	struct repl_version v;
	uint64_t back;

	snprintf(key, sizeof(key), "resource-%s/version-%09" PRIu64 "-%s", res, nr, d->gc->host);
	if (statefs_get(&d->sf, key, cur, sizeof(cur), NULL) >= 0)
		return repl_version_relength(out, size, cur, len);
	/* A logfile the engine started: extend our newest link before it. */
	for (back = nr; back-- > 0 && nr - back < 1000;) {
		snprintf(key, sizeof(key), "resource-%s/version-%09" PRIu64 "-%s", res, back,
			 d->gc->host);
		if (statefs_get(&d->sf, key, cur, sizeof(cur), NULL) >= 0 &&
		    repl_version_parse(cur, &v) == 0) {
			if (prev_section)
				snprintf(prev_section, prev_size, "%s", v.section);
			return repl_version_make(out, size, nr, d->gc->host, len, v.section);
		}
	}
	return -ENOENT;
}

/*
 * The engine logs to @logfile: make sure this node's version link for it
 * exists.  Normally it extends our link of the logfile before; after a
 * hole in the numbering (emergency mode, docs/engine.md) it is an anchor,
 * and our newest link before it is closed with its file's final length,
 * so that secondaries stop there and are told to resync.
 */
static void
ensure_own_link(struct driver *d, struct drv_res *r, const char *logfile)
{
	char key[STATEFS_PATH_MAX + 1], cur[STATEFS_VALUE_MAX + 1], link[STATEFS_VALUE_MAX + 1];
	char pkey[160], closed[STATEFS_VALUE_MAX + 1], pname[REPL_NAME_MAX + 32], nrs[32];
	char origin[REPL_NAME_MAX + 1];
	const char *kv[8];
	struct repl_version pv;
	uint64_t nr, back;
	size_t n = 0;

	if (sscanf(logfile, "log-%" SCNu64 "-%63s", &nr, origin) != 2 || nr == 0)
		return;
	snprintf(key, sizeof(key), "resource-%s/version-%09" PRIu64 "-%s", r->name, nr,
		 d->gc->host);
	if (statefs_get(&d->sf, key, cur, sizeof(cur), NULL) >= 0)
		return;
	for (back = nr - 1; ; back--) {
		snprintf(pkey, sizeof(pkey), "version-%09" PRIu64 "-%s", back, d->gc->host);
		snprintf(key, sizeof(key), "resource-%s/%s", r->name, pkey);
		if (statefs_get(&d->sf, key, cur, sizeof(cur), NULL) >= 0 &&
		    repl_version_parse(cur, &pv) == 0)
			break;
		if (back == 0 || nr - back >= 1000) {
			log_warnx("%s: no version link of this node before %s", r->name, logfile);
			return;
		}
	}
	if (back == nr - 1) {
		if (repl_version_make(link, sizeof(link), nr, d->gc->host, 0, pv.section) < 0)
			return;
	} else {
		/* A hole: close our last logfile, start a new history. */
		snprintf(pname, sizeof(pname), "log-%09" PRIu64 "-%s", back, d->gc->host);
		if (!strcmp(pv.origin, d->gc->host) &&
		    repl_version_relength(closed, sizeof(closed), cur,
					  file_size(d, r->name, pname)) >= 0) {
			kv[n++] = pkey;
			kv[n++] = closed;
		}
		if (repl_version_make(link, sizeof(link), nr, d->gc->host, 0, NULL) < 0)
			return;
		log_warnx("%s: history of this node jumps from logfile %09" PRIu64 " to %09" PRIu64
			  " (emergency mode): secondaries need 'marsadm invalidate %s'", r->name,
			  back, nr, r->name);
	}
	snprintf(key, sizeof(key), "version-%09" PRIu64 "-%s", nr, d->gc->host);
	snprintf(nrs, sizeof(nrs), "%" PRIu64, nr);
	kv[n++] = key;
	kv[n++] = link;
	kv[n++] = "maxnr";
	kv[n++] = nrs;
	put(d, r->name, kv, n);
}

static void
device_link(struct driver *d, struct drv_res *r, int up)
{
	char link[4096], target[8192];

	snprintf(link, sizeof(link), "%s/%s", d->dc.dev_dir, r->name);
	unlink(link);
	if (!up)
		return;
	snprintf(target, sizeof(target), "%s/%s", r->mount, r->name);
	mkdir(d->dc.dev_dir, 0755);
	if (symlink(target, link) < 0)
		log_warn("%s: cannot link %s", r->name, link);
}

/* ---- actions ------------------------------------------------------------------ */

static void
engine_drop(struct driver *d, struct drv_res *r)
{
	if (!r->e)
		return;
	d->dc.ops->detach(r->e);
	r->e = NULL;
}

static void
do_stop_primary(struct driver *d, struct drv_res *r, const struct mars_engine_status *st)
{
	char link[STATEFS_VALUE_MAX + 1], key[160], rkey[STATEFS_NAME_MAX + 16];
	char rp[STATEFS_VALUE_MAX + 1], origin[REPL_NAME_MAX + 1], ckey[STATEFS_NAME_MAX + 16];
	const char *kv[6] = { key, link, rkey, rp, ckey, rp };
	uint64_t nr, size;

	engine_drop(d, r);
	device_link(d, r, 0);
	if (sscanf(st->logfile, "log-%" SCNu64 "-%63s", &nr, origin) != 2)
		return;
	/* The engine is gone: the file's size is final.  actual-HOST/closed
	 * says so; a new primary waits for it to match the version link. */
	size = file_size(d, r->name, st->logfile);
	if (own_link(d, r->name, nr, size, link, sizeof(link), NULL, 0) < 0)
		return;
	snprintf(key, sizeof(key), "version-%09" PRIu64 "-%s", nr, d->gc->host);
	snprintf(rkey, sizeof(rkey), "replay-%s", d->gc->host);
	snprintf(ckey, sizeof(ckey), "actual-%s/closed", d->gc->host);
	snprintf(rp, sizeof(rp), "%s,%" PRIu64 ",0", st->logfile, size);
	put(d, r->name, kv, 6);
	log_info("%s: left the primary role; %s closed at %" PRIu64 " bytes", r->name,
		 st->logfile, size);
}

static void
do_rotate(struct driver *d, struct drv_res *r, const struct role_view *v,
	  const struct mars_engine_status *st)
{
	char closed[STATEFS_VALUE_MAX + 1], next[STATEFS_VALUE_MAX + 1];
	char k1[160], k2[160], nrs[32], done[32], origin[160];
	struct mars_engine_status now;
	struct repl_version cv;
	const char *kv[8];
	unsigned waited;
	uint64_t nr;
	int ret;

	if (sscanf(st->logfile, "log-%" SCNu64 "-%63s", &nr, origin) != 2)
		return;
	if (st->log_end == 0) {
		/* An empty logfile is not rotated; a request is done at once. */
		if (v->rotate_req > v->rotate_done) {
			snprintf(done, sizeof(done), "%" PRIu64, v->rotate_req);
			snprintf(k1, sizeof(k1), "local-%s/rotated", d->gc->host);
			kv[0] = k1;
			kv[1] = done;
			put(d, r->name, kv, 2);
		}
		return;
	}
	ret = d->dc.ops->rotate(r->e);
	if (ret) {
		log_warnx("%s: cannot rotate: %s", r->name, strerror(-ret));
		return;
	}
	/* The engine swaps files under its write lock; after the swap the old
	 * file does not grow any more and its length is final. */
	for (waited = 0; waited < DRV_ROTATE_WAIT_MS; waited += 20) {
		if (d->dc.ops->status(r->e, &now) == 0 && strcmp(now.logfile, st->logfile))
			break;
		sleep_ms(20);
	}
	if (waited >= DRV_ROTATE_WAIT_MS) {
		log_warnx("%s: the engine did not rotate %s within %u ms", r->name,
			  st->logfile, DRV_ROTATE_WAIT_MS);
		return;
	}
	if (own_link(d, r->name, nr, file_size(d, r->name, st->logfile), closed,
		     sizeof(closed), NULL, 0) < 0 || repl_version_parse(closed, &cv) < 0 ||
	    repl_version_make(next, sizeof(next), nr + 1, d->gc->host, 0, cv.section) < 0) {
		log_warnx("%s: cannot build the version links of the rotation", r->name);
		return;
	}
	snprintf(k1, sizeof(k1), "version-%09" PRIu64 "-%s", nr, d->gc->host);
	snprintf(k2, sizeof(k2), "version-%09" PRIu64 "-%s", nr + 1, d->gc->host);
	snprintf(nrs, sizeof(nrs), "%" PRIu64, nr + 1);
	kv[0] = k1; kv[1] = closed;
	kv[2] = k2; kv[3] = next;
	kv[4] = "maxnr"; kv[5] = nrs;
	if (v->rotate_req > v->rotate_done) {
		snprintf(done, sizeof(done), "%" PRIu64, v->rotate_req);
		snprintf(origin, sizeof(origin), "local-%s/rotated", d->gc->host);
		kv[6] = origin; kv[7] = done;
		put(d, r->name, kv, 8);
	} else {
		put(d, r->name, kv, 6);
	}
	log_info("%s: rotated %s at %" PRIu64 " bytes to %s", r->name, st->logfile,
		 cv.len_bytes, now.logfile);
}

static void
do_switch(struct driver *d, struct drv_res *r, const struct role_action *a)
{
	char k1[160], k2[160], k3[STATEFS_NAME_MAX + 16], rp[STATEFS_VALUE_MAX + 1];
	const char *kv[6];
	struct repl_version nv;

	/* The replay child writes the replay link: it must be gone first. */
	engine_drop(d, r);
	if (repl_version_parse(a->next_link, &nv) < 0)
		return;
	snprintf(k1, sizeof(k1), "version-%09" PRIu64 "-%s", a->link_nr, d->gc->host);
	snprintf(k2, sizeof(k2), "version-%09" PRIu64 "-%s", nv.nr, d->gc->host);
	snprintf(k3, sizeof(k3), "replay-%s", d->gc->host);
	snprintf(rp, sizeof(rp), "%s,0,0", a->logfile);
	kv[0] = k1; kv[1] = a->link;
	kv[2] = k2; kv[3] = a->next_link;
	kv[4] = k3; kv[5] = rp;
	if (put(d, r->name, kv, 6) == 0)
		log_info("%s: %s", r->name, a->why);
}

static int
engine_ensure(struct driver *d, struct drv_res *r, const struct role_view *v)
{
	struct mars_engine_config cfg = {
		.root = d->gc->root, .host = d->gc->host, .resource = r->name,
		.disk = v->disk, .size_bytes = v->size_bytes, .exe = d->dc.engine_exe,
		.mount = r->mount, .log_path = r->log_path,
		.emergency_free_bytes = d->dc.emergency_free,
	};
	int ret;

	if (r->e)
		return 0;
	ret = d->dc.ops->attach(&cfg, &r->e);
	if (ret) {
		snprintf(r->why, sizeof(r->why), "cannot attach disk '%.200s': %s", v->disk,
			 strerror(-ret));
		r->e = NULL;
	}
	return ret;
}

static void
do_start_primary(struct driver *d, struct drv_res *r, const struct role_action *a)
{
	struct mars_engine_status st;
	char key[160];
	const char *kv[2];
	int ret;

	if (*a->link) {
		snprintf(key, sizeof(key), "version-%09" PRIu64 "-%s", a->link_nr, d->gc->host);
		kv[0] = key;
		kv[1] = a->link;
		if (put(d, r->name, kv, 2) < 0)
			return;
	}
	ret = d->dc.ops->set_primary(r->e);
	if (ret) {
		log_warnx("%s: cannot become primary: %s (see %s)", r->name, strerror(-ret),
			  r->log_path);
		r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
		engine_drop(d, r);
		return;
	}
	d->dc.ops->status(r->e, &st);
	ensure_own_link(d, r, st.logfile);
	device_link(d, r, 1);
	log_info("%s: primary, logging to %s (%s)", r->name, st.logfile, a->why);
}

/* A replay that stopped on damage gets the bytes again from the origin. */
static int
replay_trouble(struct driver *d, struct drv_res *r, const struct mars_engine_status *st)
{
	if (st->mode != MARS_ENGINE_REPLAY)
		return 0;
	if (st->replay == MARS_ENGINE_RS_STOPPED) {
		log_warnx("%s: replay of %s stopped at offset %" PRIu64 ": %s (%s); fetching "
			  "again from there", r->name, st->logfile, st->stop_offset,
			  mars_scan_result_name(st->stop_result),
			  mars_scan_reason_name(st->stop_reason));
		if (r->f)
			fetcher_refetch(r->f, st->logfile, st->stop_offset);
	} else if (st->replay == MARS_ENGINE_RS_FAILED) {
		log_warnx("%s: replay of %s failed: %s (see %s)", r->name, st->logfile,
			  strerror(st->error ? -st->error : EIO), r->log_path);
	} else {
		return 0;
	}
	engine_drop(d, r);
	r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
	return 1;
}

static void
feed_fetcher(struct driver *d, struct drv_res *r, const struct role_view *v, int logging)
{
	struct role_want w[2];
	struct fetch_want fw[2];
	size_t n = logging || !v->member || !v->sw_attach ? 0 : roles_wanted(v, w), i;

	if (n == 0) {
		if (r->f)
			fetcher_want(r->f, NULL, 0);
		return;
	}
	if (!r->f) {
		if (fetcher_start(d->gc, r->name, &r->f) < 0) {
			r->f = NULL;
			return;
		}
		fetcher_set_bwlimit(r->f, d->dc.fetch_bwlimit);
	}
	for (i = 0; i < n; i++) {
		snprintf(fw[i].name, sizeof(fw[i].name), "%s", w[i].name);
		fw[i].final_len = w[i].final_len == UINT64_MAX ? FETCH_FOLLOW : w[i].final_len;
	}
	fetcher_want(r->f, fw, n);
}

/* ---- full sync ------------------------------------------------------------------ */

static void
sync_save(struct driver *d, struct drv_res *r, uint64_t pos, const char *syncpos)
{
	char k1[STATEFS_NAME_MAX + 16], k2[STATEFS_NAME_MAX + 16], v1[32];
	const char *kv[4] = { k1, v1, k2, syncpos };

	snprintf(k1, sizeof(k1), "syncstatus-%s", d->gc->host);
	snprintf(k2, sizeof(k2), "syncpos-%s", d->gc->host);
	snprintf(v1, sizeof(v1), "%" PRIu64, pos);
	if (put(d, r->name, kv, syncpos && *syncpos ? 4 : 2) == 0) {
		r->sy_saved = pos;
		r->sy_saved_ms = gossip_now_ms();
	}
}

/* End a sync run, keeping the position reached for the next one. */
static void
sync_end(struct driver *d, struct drv_res *r)
{
	struct sync_status st;

	if (!r->sy)
		return;
	syncer_halt(r->sy);
	syncer_status(r->sy, &st);
	syncer_stop(r->sy);
	r->sy = NULL;
	if (st.pos > r->sy_saved && st.pos < st.size_bytes)
		sync_save(d, r, st.pos, NULL);
}

static void
do_sync(struct driver *d, struct drv_res *r, const struct role_view *v, const char *peer)
{
	struct sync_status st;
	int ret;

	if (!r->sy) {
		if (gossip_now_ms() < r->retry_at_ms)
			return;
		ret = syncer_start(d->gc, r->name, peer, v->disk, v->size_bytes, v->syncstatus,
				   &r->sy);
		if (ret) {
			log_warnx("%s: cannot start the sync from '%s': %s", r->name, peer,
				  strerror(-ret));
			r->sy = NULL;
			r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
			return;
		}
		syncer_set_bwlimit(r->sy, d->dc.fetch_bwlimit);
		r->sy_saved = v->syncstatus;
		log_info("%s: full sync from '%s' starts at byte %" PRIu64 " of %" PRIu64,
			 r->name, peer, v->syncstatus, v->size_bytes);
		return;
	}
	syncer_status(r->sy, &st);
	if (st.done) {
		syncer_stop(r->sy);
		r->sy = NULL;
		sync_save(d, r, st.size_bytes, st.syncpos);
		log_info("%s: full sync from '%s' done: %" PRIu64 " bytes equal, %" PRIu64
			 " copied; consistent once replay reaches %s", r->name, st.peer,
			 st.bytes_equal, st.bytes_copied, st.syncpos);
		return;
	}
	if (syncer_finished(r->sy)) {
		log_warnx("%s: full sync from '%s' stopped at byte %" PRIu64 ": %s; retrying",
			  r->name, peer, st.pos, st.why);
		sync_end(d, r);
		r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
		return;
	}
	/* The position is durable in the syncer; record it for a restart. */
	if (st.pos != r->sy_saved && gossip_now_ms() - r->sy_saved_ms >= 1000)
		sync_save(d, r, st.pos, NULL);
}

/* ---- the status file --------------------------------------------------------- */

static const char *const act_names[] = {
	[ROLE_IDLE] = "idle", [ROLE_DETACH] = "detach", [ROLE_START_PRIMARY] = "start-primary",
	[ROLE_STOP_PRIMARY] = "stop-primary", [ROLE_PUBLISH] = "publish",
	[ROLE_START_REPLAY] = "start-replay", [ROLE_SWITCH] = "switch", [ROLE_ROTATE] = "rotate",
	[ROLE_SYNC] = "sync",
};

/*
 * <root>/resource-RES/.driver-status: what the driver does and how fast,
 * for `marsadm view` on this node (docs/replication.md section 5).
 * Replaced atomically, at most once a second and on every new decision.
 */
static void
status_write(struct driver *d, struct drv_res *r, const struct role_action *a,
	     const struct mars_engine_status *st, int changed)
{
	char path[8192], tmp[8300];
	struct fetch_status fs;
	struct sync_status ss;
	struct timespec now;
	FILE *f;

	if (!changed && gossip_now_ms() - r->status_ms < 1000)
		return;
	r->status_ms = gossip_now_ms();
	snprintf(path, sizeof(path), "%s/resource-%s/.driver-status", d->gc->root, r->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "version=1\nupdated_ns=%" PRIu64 "\naction=%s\nwhy=%s\nsplit=%d\n",
		(uint64_t)(now.tv_sec * 1000000000LL + now.tv_nsec),
		act_names[a->act], a->why, a->split);
	fprintf(f, "engine_mode=%s\nreplay_state=%s\nreplay_logfile=%s\nreplay_pos=%" PRIu64
		"\nreplay_rate=%" PRIu64 "\n", r->e ? mars_engine_mode_name(st->mode) : "none",
		mars_engine_replay_state_name(st->replay), st->logfile, st->applied_pos,
		st->rate_bps);
	if (r->f) {
		fetcher_status(r->f, &fs);
		fprintf(f, "fetch_name=%s\nfetch_local=%" PRIu64 "\nfetch_remote=%" PRIu64
			"\nfetch_peer=%s\nfetch_rate=%" PRIu64 "\nfetch_error=%d\nfetch_why=%s\n"
			"fetch_refetches=%u\n", fs.name, fs.local_len, fs.remote_len, fs.peer,
			fs.rate_bps, fs.error, fs.why, fs.refetches);
	}
	if (r->sy) {
		syncer_status(r->sy, &ss);
		fprintf(f, "sync_peer=%s\nsync_pos=%" PRIu64 "\nsync_size=%" PRIu64
			"\nsync_equal=%" PRIu64 "\nsync_copied=%" PRIu64 "\nsync_rate=%" PRIu64
			"\nsync_error=%d\nsync_why=%s\n", ss.peer, ss.pos, ss.size_bytes,
			ss.bytes_equal, ss.bytes_copied, ss.rate_bps, ss.error, ss.why);
	}
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void
tick_resource(struct driver *d, struct drv_res *r)
{
	struct mars_engine_status st = { .mode = MARS_ENGINE_ATTACHED };
	struct role_action a;
	struct role_view v;
	int running = 0, ret, changed;

	ret = role_view_load(&d->sf, r->name, d->gc->host, &v);
	if (ret) {
		role_view_release(&v);
		return;
	}
	v.rotate_bytes = d->dc.rotate_bytes;
	if (v.member && v.sw_attach && !r->e && gossip_now_ms() >= r->retry_at_ms)
		engine_ensure(d, r, &v);
	if (r->e && d->dc.ops->status(r->e, &st) == 0)
		running = st.mode == MARS_ENGINE_PRIMARY || st.mode == MARS_ENGINE_REPLAY;
	if (running && replay_trouble(d, r, &st)) {
		role_view_release(&v);
		return;
	}
	if (running && st.mode == MARS_ENGINE_PRIMARY)
		ensure_own_link(d, r, st.logfile);	/* e.g. the hole of emergency mode */
	roles_decide(&v, &st, running, &a);
	changed = strcmp(a.why, r->why) != 0;
	if (changed) {
		log_debug("%s: %s", r->name, a.why);
		snprintf(r->why, sizeof(r->why), "%s", a.why);
	}
	if (a.act != ROLE_SYNC)
		sync_end(d, r);
	switch (a.act) {
	case ROLE_IDLE:
		break;
	case ROLE_SYNC:
		do_sync(d, r, &v, a.peer);
		break;
	case ROLE_DETACH:
		engine_drop(d, r);
		break;
	case ROLE_STOP_PRIMARY:
		do_stop_primary(d, r, &st);
		break;
	case ROLE_START_PRIMARY:
		if (r->e)
			do_start_primary(d, r, &a);
		break;
	case ROLE_PUBLISH: {
		char key[160];
		const char *kv[2] = { key, a.link };

		snprintf(key, sizeof(key), "version-%09" PRIu64 "-%s", a.link_nr, d->gc->host);
		put(d, r->name, kv, 2);
		break;
	}
	case ROLE_START_REPLAY:
		if (r->e && gossip_now_ms() >= r->retry_at_ms) {
			ret = d->dc.ops->set_replay(r->e, a.logfile, a.pos);
			if (ret) {
				log_warnx("%s: cannot replay %s: %s", r->name, a.logfile,
					  strerror(-ret));
				r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
			}
		}
		break;
	case ROLE_SWITCH:
		do_switch(d, r, &a);
		break;
	case ROLE_ROTATE:
		do_rotate(d, r, &v, &st);
		break;
	}
	feed_fetcher(d, r, &v, running && st.mode == MARS_ENGINE_PRIMARY);
	status_write(d, r, &a, &st, changed);
	role_view_release(&v);
}

/* ---- the thread ----------------------------------------------------------------- */

static struct drv_res *
res_find(struct driver *d, const char *name)
{
	struct drv_res *r;
	size_t i;

	for (i = 0; i < d->n_res; i++)
		if (!strcmp(d->res[i]->name, name))
			return d->res[i];
	if (d->n_res >= DRV_MAX_RES)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->mount, sizeof(r->mount), "%s/%s", d->dc.run_dir, name);
	snprintf(r->log_path, sizeof(r->log_path), "%s/engine-%s.log", d->dc.run_dir, name);
	d->res[d->n_res++] = r;
	return r;
}

static int
res_visit(const char *name, void *arg)
{
	struct driver *d = arg;
	struct drv_res *r = res_find(d, name);

	if (r)
		r->seen = 1;
	return 0;
}

static void
tick(struct driver *d)
{
	size_t i;

	if (!d->sf_open) {
		if (statefs_open(&d->sf, d->gc->root, d->gc->host, 0) < 0)
			return;
		d->sf_open = 1;
		mkdir(d->dc.run_dir, 0755);
	}
	for (i = 0; i < d->n_res; i++)
		d->res[i]->seen = 0;
	if (statefs_list_dirs(&d->sf, "", "resource-", res_visit, d) < 0)
		return;
	for (i = 0; i < d->n_res && !d->quit; i++) {
		struct drv_res *r = d->res[i];

		if (r->seen) {
			tick_resource(d, r);
		} else if (r->e || r->f || r->sy) {	/* deleted resource */
			struct mars_engine_status st;

			if (r->e && d->dc.ops->status(r->e, &st) == 0 &&
			    st.mode == MARS_ENGINE_PRIMARY)
				continue;	/* never pull a device from under a user */
			engine_drop(d, r);
			if (r->f)
				fetcher_stop(r->f);
			r->f = NULL;
			sync_end(d, r);
		}
	}
}

/* ---- logfile deletion on a timer --------------------------------------------- */

static void
cron_resource(struct driver *d, struct drv_res *r)
{
	static struct repl_deletion del;
	struct statefs_txn t;
	size_t failed = 0;
	int ret;

	statefs_txn_init(&t, &d->sf, STATEFS_TXN_ANY_OWNER);
	ret = repl_delete_plan(&d->sf, r->name, d->gc->host, &del, &t);
	if (!ret && del.n_files)
		ret = repl_delete_files(&d->sf, r->name, &del, &failed);
	if (!ret)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		log_warnx("%s: logfile deletion failed: %s", r->name, strerror(-ret));
	else if (del.n_files)
		log_info("%s: deleted %zu logfile%s replayed by every member", r->name,
			 del.n_files, del.n_files == 1 ? "" : "s");
	if (del.blocker && strcmp(r->blocker, del.blocker->host))
		log_info("%s: logfile deletion held by '%s' at logfile %09" PRIu64, r->name,
			 del.blocker->host, del.blocker->valid ? del.blocker->nr : 0);
	snprintf(r->blocker, sizeof(r->blocker), "%s", del.blocker ? del.blocker->host : "");
}

static void
cron(struct driver *d)
{
	size_t i;

	if (!d->dc.cron_ms || gossip_now_ms() < d->next_cron_ms)
		return;
	d->next_cron_ms = gossip_now_ms() + d->dc.cron_ms;
	for (i = 0; i < d->n_res && !d->quit; i++)
		if (d->res[i]->seen)
			cron_resource(d, d->res[i]);
}

static void *
driver_main(void *arg)
{
	struct driver *d = arg;

	while (!d->quit) {
		tick(d);
		if (d->sf_open)
			cron(d);
		sleep_ms(d->dc.tick_ms);
	}
	return NULL;
}

int
driver_start(const struct gossip_config *gc, const struct driver_config *dc,
	     struct driver **out)
{
	struct driver *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->gc = gc;
	d->dc = *dc;
	ret = -pthread_create(&d->thread, NULL, driver_main, d);
	if (ret) {
		free(d);
		return ret;
	}
	log_info("replication driver: engine %s (%s), devices in %s", dc->ops->name,
		 dc->engine_exe, dc->dev_dir);
	*out = d;
	return 0;
}

void
driver_stop(struct driver *d)
{
	size_t i;

	if (!d)
		return;
	d->quit = 1;
	pthread_join(d->thread, NULL);
	for (i = 0; i < d->n_res; i++) {
		if (d->res[i]->f)
			fetcher_stop(d->res[i]->f);
		sync_end(d, d->res[i]);
		/* The engine handle is dropped without stopping the child:
		 * the device stays up for the next clusterd to adopt. */
		free(d->res[i]->e);
		free(d->res[i]);
	}
	if (d->sf_open)
		statefs_close(&d->sf);
	free(d);
}
