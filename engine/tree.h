/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engines' one way to write their links into the state tree: what a
 * data path publishes about itself (replay link, actual indicators) is
 * always a few keys of one resource, set together with fresh stamps.
 */
#ifndef MARS_ENGINE_TREE_H
#define MARS_ENGINE_TREE_H

#include <stddef.h>

/*
 * Set resource-@res/KEY = VALUE for the @n pairs of @kv (KEY, VALUE, KEY,
 * ...; 2 * @n strings) in one transaction of @host's tree at @root.
 * Returns 0 or -errno (-ENAMETOOLONG for a key that does not fit).
 */
int eng_tree_set(const char *root, const char *res, const char *host, const char *const *kv,
		 size_t n);

#endif /* MARS_ENGINE_TREE_H */
