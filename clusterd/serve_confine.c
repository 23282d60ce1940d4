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

#include "clusterd/gossip/gossip.h"
#include "clusterd/serve.h"
#include "common/confine.h"
#include "common/log.h"
#include "engine/engine.h"
#include "mars/ctl.h"

struct disks {
	struct statefs *sf;
	struct confine *cf;
};

static int
allow_disk(const char *res, void *arg)
{
	struct disks *d = arg;
	char key[STATEFS_PATH_MAX + 1], path[STATEFS_VALUE_MAX + 1];

	statefs_resource_keyf(key, sizeof(key), res, "data-%s", statefs_host(d->sf));
	if (statefs_get(d->sf, key, path, sizeof(path), NULL) < 0)
		return 0;	/* not a member here, or a tombstone */
	return confine_allow_read(d->cf, path);
}

static int
allow_all(struct confine *cf, struct statefs *sf, const char *root)
{
	struct disks d = { .sf = sf, .cf = cf };
	int ret = confine_allow_tree(cf, root);

	if (ret == 0)
		ret = statefs_list_dirs(sf, "", "resource-", allow_disk, &d);
	if (ret == -ENOENT)
		ret = 0;
	if (ret == 0)
		ret = confine_allow_device(cf, "/dev/" MARS_CTL_DEVICE_NAME);
	return ret;
}

int
serve_confine(struct statefs *sf, const char *root)
{
	struct confine cf;
	int ret = confine_begin(&cf);

	/* Opened before the rules: an open descriptor needs no rule, so the
	 * durable end stays known even where the device rights are narrower. */
	mars_engine_durable_prepare();
	if (ret == 0)
		ret = allow_all(&cf, sf, root);
	if (ret == 0)
		ret = confine_apply(&cf);
	/* the daemon says once at start when there is no Landlock */
	if (ret == 0)
		log_debug("confined, Landlock ABI %d", cf.abi);
	confine_release(&cf);
	return ret;
}
