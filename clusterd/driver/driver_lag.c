/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The primary's half of lag in time (docs/state-tree.md section 3.6):
 * about once a second, for every other member, the Lamport stamp of the
 * first record that member has not applied, read from this node's own
 * copy of the log and published as actual-HOST/unapplied-MEMBER.  Only
 * the primary holds every record up to its durable end, so only it can
 * say this for a member that has not fetched them; any node then turns
 * the stamp into an age without reading a logfile.  Failure policy: a
 * member whose record cannot be read keeps its last published entry (its
 * age keeps growing, which is what an operator needs to see); nothing
 * here stops the data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"
#include "common/io.h"
#include "mars/logrec.h"
#include "mars/names.h"

#define LAG_PERIOD_MS	1000

/*
 * The stamp of the record at @at in this node's logfile.  A header alone
 * scans as "incomplete" once it passed every header check, with the
 * header decoded (mars_rec_scan(), include/mars/logrec.h); anything else
 * is no record start.
 */
static int
stamp_at(struct driver *d, const char *res, const struct repl_replay *at, uint64_t *stamp_ns)
{
	char name[MARS_LOGNAME_MAX + 1];
	uint8_t hdr[MARS_REC_HDR_BYTES];
	struct mars_rec rec;
	ssize_t n;
	int fd;

	if (mars_logname_format(name, sizeof(name), at->nr, at->origin) < 0)
		return -EINVAL;
	fd = statefs_file_open(d->sf, res, name, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	n = io_pread_full(fd, hdr, sizeof(hdr), (off_t)at->pos_bytes);
	close(fd);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(hdr) ||
	    mars_rec_scan(hdr, sizeof(hdr), 0, 0, &rec) != MARS_SCAN_INCOMPLETE ||
	    rec.reason != MARS_REASON_SHORT || !rec.hdr.stamp_ns)
		return -EILSEQ;
	*stamp_ns = rec.hdr.stamp_ns;
	return 0;
}

/* The entry of member @m into @value; 0, or -errno when unknown. */
static int
entry_of(struct driver *d, const char *res, const struct repl_history *h,
	 const struct repl_replay *m, const struct repl_replay *end, char *value, size_t size)
{
	struct repl_replay at = *m;
	struct mars_replaylink out = { .len_bytes = 0 };
	int ret = repl_lag_first_unapplied(h, m, end, &at);

	if (ret == 1)
		ret = stamp_at(d, res, &at, &out.len_bytes);	/* the stamp in LEN's place */
	if (ret < 0)
		return ret;
	out.log.nr = (uint32_t)at.nr;			/* parsed by the codec: fits */
	memcpy(out.log.host, at.origin, sizeof(out.log.host));
	out.pos_bytes = at.pos_bytes;
	ret = mars_replaylink_format(value, size, &out);
	return ret < 0 ? ret : 0;
}

void
drv_lag_publish(struct driver *d, struct drv_res *r, const struct role_view *v,
		const struct mars_engine_status *st)
{
	char keys[REPL_MAX_MEMBERS][STATEFS_NAME_MAX * 2 + 32];
	char vals[REPL_MAX_MEMBERS][STATEFS_VALUE_MAX + 1];
	const char *kv[2 * REPL_MAX_MEMBERS];
	struct repl_replay end = { .valid = 1 };
	struct mars_logname writing;
	struct repl_members ms;
	uint64_t now = gossip_now_ms();
	size_t i, n = 0;
	int ret;

	if (now < r->lag_ms + LAG_PERIOD_MS ||
	    mars_logname_parse(st->logfile, strlen(st->logfile), &writing) < 0)
		return;
	r->lag_ms = now;
	end.nr = writing.nr;
	memcpy(end.origin, writing.host, sizeof(writing.host));
	end.pos_bytes = st->synced_pos;
	if (repl_members_load(d->sf, r->name, &ms) < 0)
		return;
	for (i = 0; i < ms.n; i++) {
		if (!strcmp(ms.m[i].host, d->gc->host) || !ms.m[i].valid)
			continue;
		ret = entry_of(d, r->name, &v->hist, &ms.m[i], &end, vals[n], sizeof(vals[n]));
		if (ret < 0) {
			log_debug("%s: no stamp of the oldest write '%s' has not applied: %s",
				  r->name, ms.m[i].host, strerror(-ret));
			continue;
		}
		snprintf(keys[n], sizeof(keys[n]), "actual-%s/" REPL_LAG_KEY "%s", d->gc->host,
			 ms.m[i].host);
		kv[2 * n] = keys[n];
		kv[2 * n + 1] = vals[n];
		n++;
	}
	if (n)
		drv_put(d, r->name, kv, 2 * n);
}
