/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile deletion on a timer (docs/replication.md section 4.3), with
 * repl/delete.c, the code marsadm log-delete uses too.
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

/* ---- logfile deletion on a timer --------------------------------------------- */

static void
cron_resource(struct driver *d, struct drv_res *r)
{
	static struct repl_deletion del;
	struct statefs_txn t;
	size_t failed = 0;
	int ret;

	statefs_txn_init(&t, d->sf, STATEFS_TXN_ANY_OWNER);
	ret = repl_delete_plan(d->sf, r->name, d->gc->host, &del, &t);
	if (!ret && del.n_files)
		ret = repl_delete_files(d->sf, r->name, &del, &failed);
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

void
drv_cron(struct driver *d)
{
	size_t i;

	if (!d->dc.cron_ms || gossip_now_ms() < d->next_cron_ms)
		return;
	d->next_cron_ms = gossip_now_ms() + d->dc.cron_ms;
	for (i = 0; i < d->n_res && !d->quit; i++)
		if (d->res[i]->seen)
			cron_resource(d, d->res[i]);
}
