/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scratch state tree for the statefs and serving-end fuzz targets:
 * created once per process under a sandbox directory, emptied between
 * inputs, removed at exit.  The sandbox holds the tree ("tree"), the
 * disk of the tree's one resource ("disk", for the sync server) and a
 * decoy directory ("outside") that nothing may ever write to, so that an
 * escape from the root through ".." or a planted link is seen.
 */
#ifndef MARS_FUZZ_TREE_H
#define MARS_FUZZ_TREE_H

#include <stdio.h>
#include <stdlib.h>

#include "statefs/statefs.h"

/* A broken invariant: say which, and abort so that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

struct fuzz_tree {
	char sandbox[4096];	/* /tmp/mars-fuzz-XXXXXX */
	char root[4096];	/* sandbox/tree, the state tree */
	char outside[4096];	/* sandbox/outside, must stay empty */
	char disk[4096];	/* sandbox/disk, resource r's disk on this node */
	struct statefs *sf;	/* the tree, opened as FUZZ_TREE_HOST */
};

#define FUZZ_TREE_HOST	"node"		/* the scratch tree's own host name */
#define FUZZ_TREE_UUID	"fuzz-uuid"	/* its cluster uuid */
#define FUZZ_TREE_DISK_BYTES	65536	/* size of resource r and its disk */
#define FUZZ_TREE_DISK_SIZE	"65536"
#define FUZZ_TREE_DATA_KEY	"resource-r/data-" FUZZ_TREE_HOST	/* -> disk */

/* Create the sandbox and a marked tree with a uuid; aborts on failure. */
void fuzz_tree_init(struct fuzz_tree *ft);

/* Remove every public name of the tree (private ones stay), then write
 * the uuid, resource r (its size, its disk as data-node), and plant
 * "resource-evil" as a link to the decoy and the regular file
 * "resource-r/log-000000001-alpha" as a logfile. */
void fuzz_tree_reset(struct fuzz_tree *ft);

/*
 * Abort unless the sandbox holds exactly "tree" and an empty "outside",
 * and every entry of the tree is a directory, the private names the
 * library keeps (.clock, .format), the planted logfile, or a link whose
 * path is a key of tree format 1 (the planted link excepted).  No ".tmp." link may be left over.
 */
void fuzz_tree_check(struct fuzz_tree *ft);

#endif /* MARS_FUZZ_TREE_H */
