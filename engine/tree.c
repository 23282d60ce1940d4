/* SPDX-License-Identifier: GPL-2.0-only */
/* eng_tree_set(): see engine/tree.h. */
#include "engine/tree.h"

#include <errno.h>
#include <stdio.h>

#include "statefs/statefs.h"

int
eng_tree_set(const char *root, const char *res, const char *host, const char *const *kv,
	     size_t n)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_txn t;
	struct statefs *sf = NULL;
	size_t i;
	int ret;

	ret = statefs_open(&sf, root, host, STATEFS_OPEN_ANY);
	if (ret)
		return ret;
	statefs_txn_init(&t, sf, 0);
	for (i = 0; i < n && !ret; i++) {
		ret = statefs_resource_keyf(key, sizeof(key), res, "%s", kv[2 * i]);
		if (ret == 0)
			ret = statefs_txn_set(&t, key, kv[2 * i + 1]);
	}
	if (!ret)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	statefs_close(&sf);
	return ret < 0 ? ret : 0;
}
