/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A resource deleted elsewhere: this host deletes its own names in it.
 *
 * Why: `marsadm delete-resource` on one node tombstones every key under
 * resource-RES/, but no host takes the deletion of its own names from a
 * peer (docs/state-tree.md section 8), or any member could delete
 * another's switches and disk.  So each node's driver, seeing the
 * resource's size deleted while names of its own live on in it, deletes
 * those itself, as delete-resource run there would: one command still
 * deletes a resource on every node, which scripts written for MARS rely
 * on.  Only names older than the size's tombstone go: what this host
 * wrote after the deletion is its own later intent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clusterd/driver/driver_internal.h"
#include "common/log.h"

struct own_names {
	struct statefs_txn *t;
	const char *host;
	uint64_t deleted_ns;		/* the stamp of size's tombstone */
	unsigned n;
};

static int
queue_own(const struct statefs_entry *e, void *arg)
{
	struct own_names *o = arg;
	struct statefs_keyinfo ki;

	if (statefs_key_check(e->path, &ki) < 0 || strcmp(ki.owner, o->host) ||
	    e->stamp_ns >= o->deleted_ns)
		return 0;
	o->n++;
	return statefs_txn_delete(o->t, e->path) < 0 ? -ENOMEM : 0;
}

void
driver_follow_deletion(struct driver *d, const char *res)
{
	char path[STATEFS_PATH_MAX + 1];
	struct statefs_entry size;
	struct statefs_txn t;
	struct own_names o = { .t = &t, .host = d->gc->host };
	int ret;

	statefs_resource_keyf(path, sizeof(path), res, "size");
	if (statefs_read(d->sf, path, &size) < 0 || !size.tombstone)
		return;
	o.deleted_ns = size.stamp_ns;
	statefs_resource_key(path, sizeof(path), res);
	statefs_txn_init(&t, d->sf, 0);
	ret = statefs_list(d->sf, path, 0, queue_own, &o);
	if (!ret && o.n)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		log_warnx("%s: deleted on another node; deleting this node's names failed: %s",
			  res, strerror(-ret));
	else if (o.n)
		log_info("%s: deleted on another node: deleted this node's %u name%s in it",
			 res, o.n, o.n == 1 ? "" : "s");
}
