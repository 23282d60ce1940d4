/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lag in time: the age of the oldest write a member has not applied
 * (docs/state-tree.md section 3.6).  Why the primary publishes it rather
 * than every reader working it out: the record that starts a member's
 * backlog may exist only in the primary's logfiles (not fetched yet), and
 * a reader must not need logfiles it does not hold.  Replay positions are
 * record boundaries, so the primary finds that record with one header
 * read; here is where it is (pure) and how a reader takes the result from
 * the tree.
 */
#include "repl/repl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The local logfile numbered @nr; the one of @origin if there are two. */
static const struct repl_logfile *
file_of(const struct repl_history *h, uint64_t nr, const char *origin)
{
	const struct repl_logfile *any = NULL;

	for (size_t i = 0; i < h->n_files; i++) {
		if (h->files[i].nr != nr)
			continue;
		if (!strcmp(h->files[i].origin, origin))
			return &h->files[i];
		any = any ? any : &h->files[i];
	}
	return any;
}

int
repl_lag_first_unapplied(const struct repl_history *h, const struct repl_replay *m,
			 const struct repl_replay *end, struct repl_replay *at)
{
	const struct repl_logfile *f;
	uint64_t nr, off, size;

	if (!m->valid || !end->valid)
		return -EINVAL;
	for (nr = m->nr, off = m->pos_bytes; nr <= end->nr; nr++, off = 0) {
		f = file_of(h, nr, nr == m->nr ? m->origin : end->origin);
		if (!f)
			return -ENOENT;
		size = nr == end->nr ? end->pos_bytes : f->size_bytes;
		if (off < size) {
			memset(at, 0, sizeof(*at));
			snprintf(at->host, sizeof(at->host), "%s", m->host);
			snprintf(at->origin, sizeof(at->origin), "%s", f->origin);
			at->nr = nr;
			at->pos_bytes = off;
			at->valid = 1;
			return 1;
		}
	}
	return 0;
}

uint64_t
repl_lag_age_ns(uint64_t stamp_ns, uint64_t now_ns)
{
	return stamp_ns && now_ns > stamp_ns ? now_ns - stamp_ns : 0;
}

/* resource-@res/@fmt(@a, @b) into @v; 0 if live. */
static int
get2(struct statefs *sf, const char *res, const char *fmt, const char *a, const char *b,
     char *v, size_t size)
{
	char rel[STATEFS_PATH_MAX + 1], key[STATEFS_PATH_MAX + 1];

	snprintf(rel, sizeof(rel), fmt, a, b);
	if (statefs_resource_keyf(key, sizeof(key), res, "%s", rel) < 0)
		return -ENAMETOOLONG;
	return statefs_get(sf, key, v, size, NULL) < 0 ? -ENOENT : 0;
}

int
repl_lag_load(struct statefs *sf, const char *res, const char *primary, const char *member,
	      uint64_t *stamp_ns)
{
	char v[STATEFS_VALUE_MAX + 1];
	struct repl_replay r;

	*stamp_ns = 0;
	if (!strcmp(primary, member))
		return 1;
	if (get2(sf, res, "actual-%s/is-primary%s", primary, "", v, sizeof(v)) < 0 ||
	    strcmp(v, "1") ||
	    get2(sf, res, "actual-%s/" REPL_LAG_KEY "%s", primary, member, v, sizeof(v)) < 0 ||
	    repl_replay_parse(v, &r) < 0)
		return 0;
	*stamp_ns = r.len_bytes;	/* the third field holds the stamp */
	return 1;
}
