/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile deletion, cluster-wide: every logfile numbered below the lowest
 * replay link of any member has been replayed everywhere and may go.
 * The local file is unlinked and a tombstone for its name spreads the
 * deletion, and this node's vouch for it (state-tree.md 3.8) goes with
 * it; this node's version links are kept one logfile longer.  One
 * implementation for `marsadm log-delete`/`cron` and clusterd's timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "repl/repl.h"

int
repl_delete_plan(struct statefs *sf, const char *res, const char *host,
		 struct repl_deletion *d, struct statefs_txn *t)
{
	char key[STATEFS_PATH_MAX + 1], name[MARS_VERNAME_MAX + 1], dname[MARS_DIGNAME_MAX + 1];
	struct repl_history h;
	size_t i;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = repl_members_load(sf, res, &d->members);
	if (ret)
		return ret;
	ret = repl_history_load(sf, res, &h);
	if (ret)
		return ret;
	repl_delete_limit(&d->members, &d->limit_nr, &d->blocker);
	for (i = 0; i < h.n_files && d->n_files < REPL_DELETE_MAX; i++) {
		if (h.files[i].nr >= d->limit_nr)
			continue;
		if (mars_logname_format(d->files[d->n_files], sizeof(d->files[0]),
					h.files[i].nr, h.files[i].origin) < 0)
			continue;	/* the loader parsed it: cannot happen */
		statefs_resource_keyf(key, sizeof(key), res, "%s", d->files[d->n_files++]);
		statefs_txn_set(t, key, STATEFS_TOMBSTONE);
		if (mars_digname_format(dname, sizeof(dname), h.files[i].nr, host) >= 0 &&
		    statefs_resource_keyf(key, sizeof(key), res, "%s", dname) == 0)
			statefs_txn_delete(t, key);	/* absent: skipped */
	}
	for (i = 0; i < h.n_links; i++) {
		if (strcmp(h.links[i].host, host) || h.links[i].nr + 1 >= d->limit_nr ||
		    mars_vername_format(name, sizeof(name), h.links[i].nr, host) < 0)
			continue;
		statefs_resource_keyf(key, sizeof(key), res, "%s", name);
		statefs_txn_delete(t, key);
	}
	repl_history_release(&h);
	return 0;
}

int
repl_delete_files(struct statefs *sf, const char *res, const struct repl_deletion *d,
		  size_t *failed)
{
	size_t i;
	int ret;

	for (i = 0; i < d->n_files; i++) {
		ret = statefs_file_unlink(sf, res, d->files[i]);
		if (ret < 0 && ret != -ENOENT) {
			*failed = i;
			return ret;
		}
	}
	return 0;
}
