/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A two-node cluster for the unit tests of the bulk transfers (fetch,
 * sync), without sshd: the local transport runs `clusterd --serve` on
 * the tree ROOTS/alpha over a socketpair, and the code under test works
 * as node beta on ROOTS/beta.  $CLUSTERD names the binary (default
 * clusterd/clusterd, relative to the build directory `make check` runs
 * in).  Nothing here prints a TAP result: the test reports.
 */
#ifndef MARS_TEST_LOCAL_CLUSTER_H
#define MARS_TEST_LOCAL_CLUSTER_H

#include "clusterd/gossip/gossip.h"

struct local_cluster {
	char roots[256];		/* temporary directory of the trees */
	char exe[4096];			/* the clusterd binary, absolute */
	char beta_root[300];		/* ROOTS/beta */
	struct gossip_config c;		/* node beta's, over the local transport */
	char why[512];			/* what local_cluster_init() could not do */
};

/*
 * Find the binary, make /tmp/@name.XXXXXX, have @make_trees fill it (0 or
 * -1) and fill lc->c for beta (timeout 3 s).  Ignores SIGPIPE: a serving
 * end that dies must not kill the test.  0, or -1 with lc->why the name
 * of the check that failed (for the test's tap_ok()).
 */
int local_cluster_init(struct local_cluster *lc, const char *name,
		       int (*make_trees)(void));
/* Set @k1 = @v1 and, unless @k2 is NULL, @k2 = @v2 in @host's tree
 * (created if new) in one transaction.  0 or -errno. */
int local_cluster_set(struct local_cluster *lc, const char *host, const char *k1,
		      const char *v1, const char *k2, const char *v2);
/* Merge @key = @value into @host's tree as @origin wrote it now (what
 * gossip from @origin would do), e.g. another member's data- link.
 * 0 or -errno. */
int local_cluster_merge(struct local_cluster *lc, const char *host, const char *key,
			const char *value, const char *origin);
/* Remove the trees, or with @keep say (TAP comment) where they are kept. */
void local_cluster_release(struct local_cluster *lc, int keep);

#endif /* MARS_TEST_LOCAL_CLUSTER_H */
