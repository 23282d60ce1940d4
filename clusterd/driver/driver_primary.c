/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The primary side of the driver (docs/replication.md sections 3.2,
 * 3.3, 4.1, 4.2): start logging, rotate, leave the role, and keep this
 * node's version links of its own logfiles - extending the chain, or
 * starting a new one after the hole of emergency mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"



/*
 * This node's version link of its logfile @nr, moved to @len.  The link
 * exists: drv_ensure_own_link() made it when the engine began that logfile.
 */
static int
own_link(struct driver *d, const char *res, uint64_t nr, uint64_t len, char *out, size_t size)
{
	char key[STATEFS_PATH_MAX + 1], cur[STATEFS_VALUE_MAX + 1], name[MARS_VERNAME_MAX + 1];

	if (mars_vername_format(name, sizeof(name), nr, d->gc->host) < 0)
		return -ERANGE;
	statefs_resource_keyf(key, sizeof(key), res, "%s", name);
	if (statefs_get(d->sf, key, cur, sizeof(cur), NULL) < 0)
		return -ENOENT;
	return repl_version_relength(out, size, cur, len);
}

/*
 * The engine logs to @logfile: make sure this node's version link for it
 * exists.  Normally it extends our link of the logfile before; after a
 * hole in the numbering (emergency mode, docs/engine.md) it is an anchor,
 * and our newest link before it is closed with its file's final length,
 * so that secondaries stop there and are told to resync.
 */
void
drv_ensure_own_link(struct driver *d, struct drv_res *r, const char *logfile)
{
	char key[STATEFS_PATH_MAX + 1], cur[STATEFS_VALUE_MAX + 1], link[STATEFS_VALUE_MAX + 1];
	char vname[MARS_VERNAME_MAX + 1], pkey[MARS_VERNAME_MAX + 1], pname[MARS_LOGNAME_MAX + 1];
	char closed[STATEFS_VALUE_MAX + 1], nrs[32];
	struct mars_logname ln;
	const char *kv[8];
	struct repl_version pv;
	uint64_t nr, back;
	size_t n = 0;

	if (mars_logname_parse(logfile, strlen(logfile), &ln) < 0 || ln.nr == 0 ||
	    mars_vername_format(vname, sizeof(vname), ln.nr, d->gc->host) < 0)
		return;
	nr = ln.nr;
	statefs_resource_keyf(key, sizeof(key), r->name, "%s", vname);
	if (statefs_get(d->sf, key, cur, sizeof(cur), NULL) >= 0)
		return;
	for (back = nr - 1; ; back--) {
		mars_vername_format(pkey, sizeof(pkey), back, d->gc->host);	/* < nr: fits */
		statefs_resource_keyf(key, sizeof(key), r->name, "%s", pkey);
		if (statefs_get(d->sf, key, cur, sizeof(cur), NULL) >= 0 &&
		    repl_version_parse(cur, &pv) == 0)
			break;
		if (back == 0 || nr - back >= 1000) {
			log_warnx("%s: no version link of this node before %s", r->name, logfile);
			return;
		}
	}
	/* The engine logs to @nr, so our logfile before it is final: close
	 * its link at the end of its records.  A rotation whose links a
	 * killed clusterd did not write gets them here, and a secondary never
	 * switches on a stale length.  Finished logfiles end at their last
	 * record (the engine cut them), so this is their size; a logfile
	 * before a hole that a killed engine left with preallocated zeros
	 * ends earlier, and drv_log_length() finds where. */
	mars_logname_format(pname, sizeof(pname), back, d->gc->host);
	if (!strcmp(pv.origin, d->gc->host)) {
		if (repl_version_relength(closed, sizeof(closed), cur,
					  drv_log_length(d, r->name, pname)) < 0 ||
		    repl_version_parse(closed, &pv) < 0)
			return;
		kv[n++] = pkey;
		kv[n++] = closed;
	}
	if (back == nr - 1) {
		if (repl_version_make(link, sizeof(link), nr, d->gc->host, 0, pv.section) < 0)
			return;
	} else {
		/* A hole: start a new history. */
		if (repl_version_make(link, sizeof(link), nr, d->gc->host, 0, NULL) < 0)
			return;
		log_warnx("%s: history of this node jumps from logfile %09" PRIu64 " to %09" PRIu64
			  " (emergency mode): secondaries need 'marsadm invalidate %s'", r->name,
			  back, nr, r->name);
	}
	snprintf(nrs, sizeof(nrs), "%" PRIu64, nr);
	kv[n++] = vname;
	kv[n++] = link;
	kv[n++] = "maxnr";
	kv[n++] = nrs;
	drv_put(d, r->name, kv, n);
}

/* The userspace engine's device: a link in dev_dir to <mount>/<res>, its
 * FUSE file or its link to /dev/nbdN (the module makes /dev/mars/<res>
 * itself). */
static void
device_link(struct driver *d, struct drv_res *r, int up)
{
	char link[4096], target[8192];

	if (d->dc.ops != &mars_engine_proc_ops)
		return;
	snprintf(link, sizeof(link), "%s/%s", d->dc.dev_dir, r->name);
	unlink(link);
	if (!up)
		return;
	snprintf(target, sizeof(target), "%s/%s", r->mount, r->name);
	mkdir(d->dc.dev_dir, 0755);
	if (symlink(target, link) < 0)
		log_warn("%s: cannot link %s", r->name, link);
}

void
drv_stop_primary(struct driver *d, struct drv_res *r, const struct mars_engine_status *st)
{
	char link[STATEFS_VALUE_MAX + 1], key[MARS_VERNAME_MAX + 1], rkey[STATEFS_NAME_MAX + 16];
	char rp[MARS_REPLAY_MAX + 1], ckey[STATEFS_NAME_MAX + 16];
	const char *kv[6] = { key, link, rkey, rp, ckey, rp };
	struct mars_replaylink closed = { .len_bytes = 0 };

	drv_engine_drop(d, r);
	device_link(d, r, 0);
	if (mars_logname_parse(st->logfile, strlen(st->logfile), &closed.log) < 0)
		return;
	/* The engine is gone: the file's length is final.  actual-HOST/closed
	 * says so; a new primary waits for it to match the version link.
	 * Not the file's size: an engine that stopped cleanly cut its
	 * preallocated zeros off, but one that was killed (-9, a crash of
	 * the process) left them, and secondaries must never be told a
	 * length that includes them (docs/logfile-format.md 1.1).  The
	 * zeros stay in the file until recovery cuts them: it is the
	 * writer's file, and a writer that could not be reaped may still
	 * hold it. */
	closed.pos_bytes = drv_log_length(d, r->name, st->logfile);
	if (own_link(d, r->name, closed.log.nr, closed.pos_bytes, link, sizeof(link)) < 0 ||
	    mars_vername_format(key, sizeof(key), closed.log.nr, d->gc->host) < 0 ||
	    mars_replaylink_format(rp, sizeof(rp), &closed) < 0)
		return;
	snprintf(rkey, sizeof(rkey), "replay-%s", d->gc->host);
	snprintf(ckey, sizeof(ckey), "actual-%s/closed", d->gc->host);
	drv_put(d, r->name, kv, 6);
	drv_vouch_final(d, r, st->logfile, closed.pos_bytes);
	log_info("%s: left the primary role; %s closed at %" PRIu64 " bytes", r->name,
		 st->logfile, closed.pos_bytes);
}

void
drv_rotate(struct driver *d, struct drv_res *r, const struct role_view *v,
	   const struct mars_engine_status *st)
{
	char closed[STATEFS_VALUE_MAX + 1], next[STATEFS_VALUE_MAX + 1];
	char k1[MARS_VERNAME_MAX + 1], k2[MARS_VERNAME_MAX + 1], nrs[32], done[32];
	char rkey[STATEFS_NAME_MAX + 16];
	struct mars_engine_status now;
	struct mars_logname ln;
	struct repl_version cv;
	const char *kv[8];
	unsigned waited;
	uint64_t nr;
	int ret;

	if (mars_logname_parse(st->logfile, strlen(st->logfile), &ln) < 0)
		return;
	nr = ln.nr;
	/* The file, not the status snapshot (up to a second old), says
	 * whether the logfile is empty: an empty one is not rotated and a
	 * request is done at once.  Its size is 0 only while it holds no
	 * record: zeros are preallocated only after the first one. */
	if (drv_file_size(d, r->name, st->logfile) == 0) {
		if (v->rotate_req > v->rotate_done) {
			snprintf(done, sizeof(done), "%" PRIu64, v->rotate_req);
			snprintf(rkey, sizeof(rkey), "local-%s/rotated", d->gc->host);
			kv[0] = rkey;
			kv[1] = done;
			drv_put(d, r->name, kv, 2);
		}
		return;
	}
	ret = d->dc.ops->rotate(r->e);
	if (ret) {
		log_warnx("%s: cannot rotate: %s", r->name, strerror(-ret));
		return;
	}
	/* The engine swaps files under its write lock; after the swap the old
	 * file does not grow any more and its length is final.  The
	 * userspace engine cut its zeros before the swap showed; the length
	 * of its records is taken all the same, so that a writer that cuts
	 * later (or not at all) is never closed at a length with zeros. */
	for (waited = 0; waited < DRV_ROTATE_WAIT_MS; waited += 20) {
		if (d->dc.ops->status(r->e, &now) == 0 && strcmp(now.logfile, st->logfile))
			break;
		drv_sleep_ms(20);
	}
	if (waited >= DRV_ROTATE_WAIT_MS) {
		log_warnx("%s: the engine did not rotate %s within %u ms", r->name,
			  st->logfile, DRV_ROTATE_WAIT_MS);
		return;
	}
	if (own_link(d, r->name, nr, drv_log_length(d, r->name, st->logfile), closed,
		     sizeof(closed)) < 0 || repl_version_parse(closed, &cv) < 0 ||
	    repl_version_make(next, sizeof(next), nr + 1, d->gc->host, 0, cv.section) < 0 ||
	    mars_vername_format(k1, sizeof(k1), nr, d->gc->host) < 0 ||
	    mars_vername_format(k2, sizeof(k2), nr + 1, d->gc->host) < 0) {
		log_warnx("%s: cannot build the version links of the rotation", r->name);
		return;
	}
	snprintf(nrs, sizeof(nrs), "%" PRIu64, nr + 1);
	kv[0] = k1; kv[1] = closed;
	kv[2] = k2; kv[3] = next;
	kv[4] = "maxnr"; kv[5] = nrs;
	if (v->rotate_req > v->rotate_done) {
		snprintf(done, sizeof(done), "%" PRIu64, v->rotate_req);
		snprintf(rkey, sizeof(rkey), "local-%s/rotated", d->gc->host);
		kv[6] = rkey; kv[7] = done;
		drv_put(d, r->name, kv, 8);
	} else {
		drv_put(d, r->name, kv, 6);
	}
	log_info("%s: rotated %s at %" PRIu64 " bytes to %s", r->name, st->logfile,
		 cv.len_bytes, now.logfile);
}

void
drv_start_primary(struct driver *d, struct drv_res *r, const struct role_action *a)
{
	struct mars_engine_status st;
	char key[MARS_VERNAME_MAX + 1];
	const char *kv[2];
	int ret;

	if (*a->link) {
		if (mars_vername_format(key, sizeof(key), a->link_nr, d->gc->host) < 0)
			return;
		kv[0] = key;
		kv[1] = a->link;
		if (drv_put(d, r->name, kv, 2) < 0)
			return;
	}
	/* The link first: the engine announces is-primary once its device
	 * is served, and a waiting `marsadm primary` then finds both. */
	device_link(d, r, 1);
	ret = d->dc.ops->set_primary(r->e);
	if (ret) {
		log_warnx("%s: cannot become primary: %s (see %s)", r->name, strerror(-ret),
			  r->log_path);
		device_link(d, r, 0);
		r->retry_at_ms = gossip_now_ms() + DRV_RETRY_MS;
		drv_engine_drop(d, r);
		return;
	}
	d->dc.ops->status(r->e, &st);
	drv_ensure_own_link(d, r, st.logfile);
	log_info("%s: primary, logging to %s (%s)", r->name, st.logfile, a->why);
}
