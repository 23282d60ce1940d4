/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the serving end keeps once confined (confine.h,
 * docs/protocol.md "Least privilege"): its tree, the data disks the
 * admin gave this host's resources (resource-RES/data-SELF, keys only
 * this host writes, authz.c), read-only for the sync server, and the
 * module's control device, where fetch asks for a logfile's durable end.
 * The disks are read from the tree once, before the first frame: a
 * resource created later is served by the next session, not this one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/confine.h"
#include "clusterd/gossip.h"
#include "clusterd/log.h"
#include "mars/ctl.h"

struct disks {
	struct statefs *sf;
	struct confine *cf;
	char (*paths)[STATEFS_VALUE_MAX + 1];	/* CONFINE_FILES_MAX of them */
	size_t n;
};

static int
add_disk(const char *res, void *arg)
{
	struct disks *d = arg;
	char key[STATEFS_PATH_MAX + 1];

	if (d->n >= CONFINE_FILES_MAX)
		return -E2BIG;
	snprintf(key, sizeof(key), "resource-%s/data-%s", res, d->sf->host);
	if (statefs_get(d->sf, key, d->paths[d->n], sizeof(d->paths[d->n]), NULL) < 0)
		return 0;	/* not a member here, or a tombstone */
	return confine_add_ro(d->cf, d->paths[d->n++]);
}

static void
log_landlock(int abi)
{
	if (abi == 0)
		log_info("kernel without Landlock: this serving end is confined by "
			 "no_new_privs and dropped capabilities only");
	else
		log_debug("confined with Landlock ABI %d", abi);
}

int
serve_confine(struct statefs *sf, const char *root)
{
	struct confine cf = { .tree_dir = root };
	struct disks d = { .sf = sf, .cf = &cf };
	int ret, abi = 0;

	d.paths = calloc(CONFINE_FILES_MAX, sizeof(*d.paths));
	if (!d.paths)
		return -ENOMEM;
	ret = statefs_list_dirs(sf, "", "resource-", add_disk, &d);
	if (ret == -ENOENT)
		ret = 0;
	if (ret == 0)
		ret = confine_add_rw(&cf, "/dev/" MARS_CTL_DEVICE_NAME);
	if (ret == 0)
		ret = confine_self(&cf, &abi);
	free(d.paths);		/* Landlock holds the files, not the names */
	if (ret == 0)
		log_landlock(abi);
	return ret;
}
