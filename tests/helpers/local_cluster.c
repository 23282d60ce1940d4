/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The two-node local cluster of the bulk-transfer unit tests
 * (local_cluster.h): one place that knows how the trees and beta's
 * configuration are laid out.
 */
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers/local_cluster.h"

int
local_cluster_init(struct local_cluster *lc, const char *name,
		   int (*make_trees)(void))
{
	const char *bin = getenv("CLUSTERD");

	signal(SIGPIPE, SIG_IGN);
	if (!realpath(bin ? bin : "clusterd/clusterd", lc->exe) || access(lc->exe, X_OK) < 0) {
		snprintf(lc->why, sizeof(lc->why), "clusterd binary found (set CLUSTERD)");
		return -1;
	}
	snprintf(lc->roots, sizeof(lc->roots), "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(lc->roots) || make_trees() < 0) {
		snprintf(lc->why, sizeof(lc->why), "trees created in %s", lc->roots);
		return -1;
	}
	snprintf(lc->beta_root, sizeof(lc->beta_root), "%s/beta", lc->roots);
	gossip_config_init(&lc->c);
	snprintf(lc->c.host, sizeof(lc->c.host), "beta");
	lc->c.root = lc->beta_root;
	lc->c.peers_file = NULL;
	lc->c.transport = &gossip_transport_local;
	lc->c.tconf.local_exe = lc->exe;
	lc->c.tconf.local_roots = lc->roots;
	lc->c.timeout_ms = 3000;
	gossip_config_finish(&lc->c);
	return 0;
}

int
local_cluster_set(struct local_cluster *lc, const char *host, const char *k1,
		  const char *v1, const char *k2, const char *v2)
{
	char root[512];
	struct statefs *sf = NULL;
	struct statefs_txn t;
	int ret;

	snprintf(root, sizeof(root), "%s/%s", lc->roots, host);
	mkdir(root, 0700);
	ret = statefs_open(&sf, root, host, STATEFS_OPEN_ANY);
	if (ret < 0)
		return ret;
	ret = statefs_mark(sf);
	statefs_txn_init(&t, sf, 0);
	if (ret == 0)
		ret = statefs_txn_set(&t, k1, v1);
	if (ret == 0 && k2)
		ret = statefs_txn_set(&t, k2, v2);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	statefs_close(&sf);
	return ret;
}

int
local_cluster_merge(struct local_cluster *lc, const char *host, const char *key,
		    const char *value, const char *origin)
{
	char root[512];
	struct statefs *sf = NULL;
	uint64_t stamp;
	int ret;

	snprintf(root, sizeof(root), "%s/%s", lc->roots, host);
	ret = statefs_open(&sf, root, host, 0);
	if (ret < 0)
		return ret;
	ret = statefs_clock_tick(sf, &stamp);
	if (ret == 0)
		ret = statefs_merge(sf, key, value, stamp, origin);
	statefs_close(&sf);
	return ret < 0 ? ret : 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

void
local_cluster_release(struct local_cluster *lc, int keep)
{
	if (keep)
		printf("# trees kept in %s\n", lc->roots);
	else
		nftw(lc->roots, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
