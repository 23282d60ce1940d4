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
#include "clusterd/driver/driver_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/env.h"
#include "common/log.h"

void
driver_config_init(struct driver_config *dc)
{
	const char *v;

	memset(dc, 0, sizeof(*dc));
	dc->ops = &mars_engine_proc_ops;
	dc->engine_exe = env_or("MARS_ENGINE", SBINDIR "/mars-engine");
	/* As mars-engine's own default: NBD where the kernel has it, FUSE
	 * where not (tests/vm/guest/73 hands over to an NBD primary). */
	dc->engine_frontend = env_or("MARS_ENGINE_FRONTEND", "auto");
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

void
drv_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- tree writes ---------------------------------------------------------- */

int
drv_put(struct driver *d, const char *res, const char *const *kv, size_t n)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_txn t;
	size_t i;
	int ret;

	statefs_txn_init(&t, d->sf, 0);
	for (i = 0; i + 1 < n; i += 2) {
		statefs_resource_keyf(key, sizeof(key), res, "%s", kv[i]);
		statefs_txn_set(&t, key, kv[i + 1]);
	}
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		log_warnx("%s: cannot write %s: %s", res, kv[0], strerror(-ret));
	return ret < 0 ? ret : 0;
}

uint64_t
drv_file_size(struct driver *d, const char *res, const char *name)
{
	struct stat st;

	return statefs_file_stat(d->sf, res, name, &st) == 0 && S_ISREG(st.st_mode) ?
	       (uint64_t)st.st_size : 0;
}

uint64_t
drv_log_length(struct driver *d, const char *res, const char *name)
{
	uint64_t len;

	return repl_log_length(d->sf, res, name, &len) == 0 ? len : 0;
}

/* ---- actions ------------------------------------------------------------------ */

void
drv_engine_drop(struct driver *d, struct drv_res *r)
{
	static const char *const names[] = { "is-attached", "is-primary", "is-replaying",
					     "open-count" };
	char keys[4][STATEFS_NAME_MAX + 32];
	const char *kv[8];
	int i;

	if (!r->e)
		return;
	d->dc.ops->detach(r->e);
	r->e = NULL;
	/* A child that had to be killed could not say it stopped; a new
	 * primary elsewhere waits for is-primary 0.  Equal values are not
	 * rewritten, so this costs nothing after a clean stop. */
	for (i = 0; i < 4; i++) {
		snprintf(keys[i], sizeof(keys[i]), "actual-%s/%s", d->gc->host, names[i]);
		kv[2 * i] = keys[i];
		kv[2 * i + 1] = "0";
	}
	drv_put(d, r->name, kv, 8);
}

static int
engine_ensure(struct driver *d, struct drv_res *r, const struct role_view *v)
{
	struct mars_engine_config cfg = {
		.root = d->gc->root, .host = d->gc->host, .resource = r->name,
		.disk = v->disk, .size_bytes = v->size_bytes, .exe = d->dc.engine_exe,
		.mount = r->mount, .log_path = r->log_path,
		.emergency_free_bytes = d->dc.emergency_free,
		.frontend = d->dc.engine_frontend,
	};
	int ret;

	if (r->e)
		return 0;
	/* Only what the local admin named (peers cannot write data-HOST,
	 * authz.c), and only a block device or an image file itself. */
	ret = sync_disk_open(v->disk, O_RDONLY);
	if (ret < 0) {
		snprintf(r->why, sizeof(r->why), "cannot attach disk '%.200s': %s", v->disk,
			 ret == -ELOOP ? "an image file named through a symbolic link (name "
			 "the file itself)" : ret == -EINVAL ? "not a block device or regular "
			 "file" : strerror(-ret));
		return ret;
	}
	close(ret);
	ret = d->dc.ops->attach(&cfg, &r->e);
	if (ret) {
		snprintf(r->why, sizeof(r->why), "cannot attach disk '%.200s': %s", v->disk,
			 strerror(-ret));
		r->e = NULL;
		return ret;
	}
	r->e_size = v->size_bytes;
	return 0;
}

/*
 * `marsadm resize` grew the resource (docs/replication.md 4.4): the
 * engine was attached with the old size and takes the new one only when
 * attached again.  A replay restarts from its link at any time; a
 * primary's device cannot grow while it is served, so the primary waits
 * until nothing holds it open.  Returns 1 while a restart is pending.
 */
static int
resize_engine(struct driver *d, struct drv_res *r, const struct role_view *v)
{
	if (!r->e || r->e_size == v->size_bytes || v->size_bytes < r->e_size)
		return 0;
	if (v->open_count == 0) {
		log_info("%s: resized from %" PRIu64 " to %" PRIu64 " bytes: attaching again",
			 r->name, r->e_size, v->size_bytes);
		drv_engine_drop(d, r);
		return 0;
	}
	if (r->resize_said != v->size_bytes)
		log_info("%s: resized to %" PRIu64 " bytes; the device keeps %" PRIu64
			 " until it is closed", r->name, v->size_bytes, r->e_size);
	r->resize_said = v->size_bytes;
	return 1;
}

static void
tick_resource(struct driver *d, struct drv_res *r)
{
	struct mars_engine_status st = { .mode = MARS_ENGINE_ATTACHED };
	struct role_action a;
	struct role_view v;
	int running = 0, idle_attached = 0, ret, changed, resize_pending;

	ret = role_view_load(d->sf, r->name, d->gc->host, &v);
	if (ret) {
		role_view_release(&v);
		return;
	}
	v.rotate_bytes = d->dc.rotate_bytes;
	resize_pending = resize_engine(d, r, &v);
	if (v.member && v.sw_attach && !r->e && gossip_now_ms() >= r->retry_at_ms)
		engine_ensure(d, r, &v);
	if (r->e && d->dc.ops->status(r->e, &st) == 0) {
		running = st.mode == MARS_ENGINE_PRIMARY || st.mode == MARS_ENGINE_REPLAY;
		idle_attached = st.mode == MARS_ENGINE_ATTACHED;
	}
	if (running && drv_replay_trouble(d, r, &st)) {
		role_view_release(&v);
		return;
	}
	if (running && st.mode == MARS_ENGINE_PRIMARY)
		drv_ensure_own_link(d, r, st.logfile);	/* e.g. the hole of emergency mode */
	roles_decide(&v, &st, running, &a);
	if (resize_pending)
		snprintf(a.why + strlen(a.why), sizeof(a.why) - strlen(a.why),
			 "; grows to %" PRIu64 " bytes once the device is closed", v.size_bytes);
	changed = strcmp(a.why, r->why) != 0;
	if (changed) {
		log_debug("%s: %s", r->name, a.why);
		snprintf(r->why, sizeof(r->why), "%s", a.why);
	}
	if (a.act != ROLE_SYNC)
		drv_sync_end(d, r);
	switch (a.act) {
	case ROLE_IDLE:
		/* Detached while idling attached (no child): let go of the disk. */
		if (idle_attached && (!v.member || !v.sw_attach))
			drv_engine_drop(d, r);
		break;
	case ROLE_SYNC:
		drv_sync(d, r, &v, a.peer);
		break;
	case ROLE_DETACH:
		drv_engine_drop(d, r);
		break;
	case ROLE_STOP_PRIMARY:
		drv_stop_primary(d, r, &st);
		break;
	case ROLE_START_PRIMARY:
		if (r->e)
			drv_start_primary(d, r, &a);
		break;
	case ROLE_PUBLISH: {
		char key[MARS_VERNAME_MAX + 1];
		const char *kv[2] = { key, a.link };

		if (mars_vername_format(key, sizeof(key), a.link_nr, d->gc->host) >= 0)
			drv_put(d, r->name, kv, 2);
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
		drv_switch(d, r, &a);
		break;
	case ROLE_ROTATE:
		drv_rotate(d, r, &v, &st);
		break;
	}
	/* An engine stopped above (a paused replay, a switchover) keeps its
	 * disk attached, so that what drv_acted_write() reports holds. */
	if (v.member && v.sw_attach && !r->e && gossip_now_ms() >= r->retry_at_ms)
		engine_ensure(d, r, &v);
	drv_feed_fetcher(d, r, &v, running && st.mode == MARS_ENGINE_PRIMARY);
	/* Only the designated primary's figures count (state-tree.md 3.6); an
	 * old primary still logging after a failover has none to give. */
	if (running && st.mode == MARS_ENGINE_PRIMARY && a.act != ROLE_STOP_PRIMARY &&
	    !strcmp(v.primary, v.host)) {
		drv_lag_publish(d, r, &v, &st);
		drv_vouch_publish(d, r, &v, &st);
	}
	drv_acted_write(d, r, &v);
	drv_status_write(d, r, &a, &st, changed);
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
	if (statefs_list_dirs(d->sf, "", "resource-", res_visit, d) < 0)
		return;
	/* Limits first, so that a new fetcher starts on its share and the
	 * status files written below say what applies. */
	for (i = 0; i < d->n_res; i++)
		if (d->res[i]->seen)
			drv_limits_read(d, d->res[i]);
	drv_limits_share(d);
	for (i = 0; i < d->n_res && !d->quit; i++) {
		struct drv_res *r = d->res[i];

		if (r->seen) {
			driver_follow_deletion(d, r->name);
			tick_resource(d, r);
		} else if (r->e || r->f || r->sy) {	/* deleted resource */
			struct mars_engine_status st;

			if (r->e && d->dc.ops->status(r->e, &st) == 0 &&
			    st.mode == MARS_ENGINE_PRIMARY)
				continue;	/* never pull a device from under a user */
			drv_engine_drop(d, r);
			if (r->f)
				fetcher_stop(r->f);
			r->f = NULL;
			drv_sync_end(d, r);
		}
	}
}

static void *
driver_main(void *arg)
{
	struct driver *d = arg;

	while (!d->quit) {
		tick(d);
		if (d->sf_open)
			drv_cron(d);
		drv_sleep_ms(d->dc.tick_ms);
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
		drv_sync_end(d, d->res[i]);
		/* The engine handle is dropped without stopping the child:
		 * the device stays up for the next clusterd to adopt. */
		free(d->res[i]->e);
		drv_vouch_release(d->res[i]);
		free(d->res[i]);
	}
	if (d->sf_open)
		statefs_close(&d->sf);
	free(d);
}
