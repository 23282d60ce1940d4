/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The designated primary's vouches (docs/state-tree.md 3.8): SHA-256 of
 * the first LEN bytes of each logfile it holds, published as
 * resource-RES/digest-NNNNNNNNN-US, so that a member may take those bytes
 * from any other member and still tell them from forged ones.
 *
 *  - its own logfiles: the one it logs to up to its durable end (a vouch
 *    for bytes a power loss could take back would vouch for a history
 *    that may never be), the earlier ones at their final size;
 *  - the other hosts' logfiles it holds: up to the length its own
 *    version link of that number names, i.e. the history it continues
 *    (after a failover, the part of the dead origin's last logfile it
 *    replayed).
 *
 * Each pass runs at most once a second, newest logfile first; only bytes
 * new since the last pass are hashed (one open SHA-256 state per logfile
 * being worked on), and a vouch is written only when its length changed.
 * Beyond the logfile being written (its growth since the last pass:
 * hashed at 1.8 GB/s with SHA-NI, `openssl speed sha256`), a pass hashes
 * at most VOUCH_PASS_BYTES and goes on where it stopped the next time,
 * so a backlog of old logfiles (a primary restarted, or one that took
 * the role after a failover) never holds the driver's tick for long.  Failure policy: a logfile that cannot be read keeps
 * its last vouch; nothing here stops the data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"

#define VOUCH_PERIOD_MS		1000
#define VOUCH_PASS_BYTES	(64ULL << 20)	/* hashed per pass, at most */

/*
 * The open hash state for logfile @name: its own slot, else one no other
 * logfile used in this pass (an empty one first).  NULL if none is free:
 * the logfile waits for the next pass.
 */
static struct repl_vouch_hash *
hash_slot(struct drv_res *r, const char *name)
{
	size_t i, pick = DRV_VOUCH_SLOTS;

	for (i = 0; i < DRV_VOUCH_SLOTS; i++) {
		if (!strcmp(r->vouch_hash[i].name, name)) {
			pick = i;
			break;
		}
		if (r->vouch_pass[i] != r->vouch_pass_nr &&
		    (pick == DRV_VOUCH_SLOTS || !r->vouch_hash[i].name[0]))
			pick = i;
	}
	if (pick == DRV_VOUCH_SLOTS)
		return NULL;
	r->vouch_pass[pick] = r->vouch_pass_nr;
	return &r->vouch_hash[pick];
}

/* The length this node vouches for of local logfile @lf, 0 if none. */
static uint64_t
vouch_len(struct driver *d, const struct role_view *v, const struct repl_logfile *lf,
	  const struct mars_logname *writing, uint64_t durable)
{
	const struct repl_link *own;

	own = repl_history_link(&v->hist, d->gc->host, lf->nr);
	if (!strcmp(lf->origin, d->gc->host)) {
		if (lf->nr == writing->nr && !strcmp(writing->host, lf->origin))
			return durable < lf->size_bytes ? durable : lf->size_bytes;
		/* Finished: its size is its length (the writer cut its
		 * preallocated zeros), except for one a killed engine left
		 * uncut and recovery never reached (this node replayed
		 * another's logfiles since): its closed version link, written
		 * at the end of its records (drv_stop_primary), says less. */
		if (own && !strcmp(own->v.origin, lf->origin) && own->v.len_bytes &&
		    own->v.len_bytes < lf->size_bytes)
			return own->v.len_bytes;
		return lf->size_bytes;
	}
	if (!own || strcmp(own->v.origin, lf->origin) || own->v.len_bytes > lf->size_bytes)
		return 0;	/* not our history, or we do not hold all of it */
	return own->v.len_bytes;
}

/*
 * Vouch for the first @len bytes of our logfile @name (number @nr),
 * hashing at most *@budget new bytes (taken from it).  0 (done, or more
 * next pass), or -errno.
 */
static int
vouch_one(struct driver *d, struct drv_res *r, const char *name, uint64_t nr, uint64_t len,
	  uint64_t *budget)
{
	char key[MARS_DIGNAME_MAX + 1], val[STATEFS_VALUE_MAX + 1];
	struct repl_vouch_hash *vh;
	struct repl_vouch cur;
	const char *kv[2] = { key, val };
	uint64_t to, before;
	int fd, ret;

	if (repl_vouch_get(d->sf, r->name, name, d->gc->host, &cur) == 1 &&
	    cur.len_bytes == len)
		return 0;
	vh = hash_slot(r, name);
	if (!vh || *budget == 0)
		return 0;
	if (strcmp(vh->name, name) != 0 || vh->len_bytes > len) {
		ret = repl_vouch_hash_reset(vh, name);
		if (ret < 0)
			return ret;
	}
	fd = statefs_file_open(d->sf, r->name, name, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	before = vh->len_bytes;
	to = len - before > *budget ? before + *budget : len;
	ret = repl_vouch_hash_file(vh, fd, to);
	close(fd);
	if (ret < 0) {
		vh->name[0] = '\0';
		return ret;
	}
	*budget -= to - before;
	if (to < len)
		return 0;	/* the rest next pass */
	if (repl_vouch_format(val, sizeof(val), vh) < 0 ||
	    mars_digname_format(key, sizeof(key), nr, d->gc->host) < 0)
		return -EINVAL;
	return drv_put(d, r->name, kv, 2);
}

void
drv_vouch_publish(struct driver *d, struct drv_res *r, const struct role_view *v,
		  const struct mars_engine_status *st)
{
	char name[MARS_LOGNAME_MAX + 1];
	struct mars_logname writing;
	uint64_t now = gossip_now_ms(), len, budget = VOUCH_PASS_BYTES, unbounded;
	int ret;

	if (now < r->vouch_ms + VOUCH_PERIOD_MS ||
	    mars_logname_parse(st->logfile, strlen(st->logfile), &writing) < 0)
		return;
	r->vouch_ms = now;
	r->vouch_pass_nr++;
	for (size_t i = v->hist.n_files; i-- > 0 && budget > 0; ) {	/* newest first */
		const struct repl_logfile *lf = &v->hist.files[i];

		len = vouch_len(d, v, lf, &writing, st->synced_pos);
		if (len == 0 || mars_logname_format(name, sizeof(name), lf->nr, lf->origin) < 0)
			continue;
		/* the logfile being written keeps up whatever it takes (its growth
		 * since the last pass); the budget bounds the backlog */
		unbounded = UINT64_MAX;
		ret = vouch_one(d, r, name, lf->nr, len,
				lf->nr == writing.nr && !strcmp(lf->origin, writing.host) ?
				&unbounded : &budget);
		if (ret < 0)
			log_debug("%s: no vouch for %s at %llu bytes: %s", r->name, name,
				  (unsigned long long)len, strerror(-ret));
	}
}

void
drv_vouch_final(struct driver *d, struct drv_res *r, const char *name, uint64_t len)
{
	uint64_t budget = UINT64_MAX;	/* once, at handover: the whole file if need be */
	struct mars_logname ln;
	int ret;

	if (len == 0 || mars_logname_parse(name, strlen(name), &ln) < 0)
		return;
	r->vouch_pass_nr++;
	ret = vouch_one(d, r, name, ln.nr, len, &budget);
	if (ret < 0)
		log_warnx("%s: no vouch for %s at its final %llu bytes: %s", r->name, name,
			  (unsigned long long)len, strerror(-ret));
}

void
drv_vouch_release(struct drv_res *r)
{
	for (size_t i = 0; i < DRV_VOUCH_SLOTS; i++)
		repl_vouch_hash_release(&r->vouch_hash[i]);
}
