/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the statefs source files; not part of the API.
 * Every function here works relative to sf->root_fd and never follows a
 * symbolic link on the way, so no key can lead outside the root.
 */
#ifndef MARS_STATEFS_INTERNAL_H
#define MARS_STATEFS_INTERNAL_H

#include <sys/stat.h>

#include "statefs/statefs.h"

#define SF_CLOCK_FILE	".clock"	/* Lamport clock + node lock */
#define SF_FORMAT_FILE	".format"	/* link to the tree format number */
#define SF_COUNTERS_FILE ".counters"	/* node-local counters (counters.c) */
#define SF_TMP_PREFIX	".tmp."		/* in-flight links: .tmp.<pid>.<name> */
#define SF_MAX_DEPTH	4		/* components in the longest key */

/* An open state tree (opaque outside statefs/: statefs.h). */
struct statefs {
	char root[4096];		/* root directory as given */
	char host[STATEFS_NAME_MAX + 1];/* this node's name, validated */
	int root_fd;			/* O_DIRECTORY descriptor of root */
	int lock_fd;			/* <root>/.clock, opened at first mutation, else -1 */
	int lock_depth;			/* nesting count of the node lock */
	uint64_t future_bound_ns;	/* see STATEFS_FUTURE_BOUND_NS; settable */
	struct statefs_stats stats;
};

/* The node lock (clock.c); nests within one process. */
int sf_lock(struct statefs *sf);
void sf_unlock(struct statefs *sf);

/* Clock operations for callers that already hold the node lock. */
int sf_clock_tick_locked(struct statefs *sf, uint64_t *stamp_ns);
int sf_clock_witness_locked(struct statefs *sf, uint64_t stamp_ns);

/*
 * The node-private small files at the root (smallfile.c): @name opened
 * with @flags (O_RDWR, O_CREAT, ...; mode 0600), never through a link,
 * and a regular file (-EINVAL otherwise); flock @op (LOCK_SH, LOCK_EX,
 * LOCK_UN) through EINTR; read whole from offset 0 (bytes or -errno);
 * rewritten in place, truncated to @len.  Descriptors or 0, else -errno.
 */
int sf_small_open(struct statefs *sf, const char *name, int flags);
int sf_small_lock(int fd, int op);
int sf_small_open_locked(struct statefs *sf, const char *name, int flags, int op);
ssize_t sf_small_read(int fd, char *buf, size_t size);
int sf_small_rewrite(int fd, const char *buf, size_t len);

/* Link mtime of @st as a stamp. */
uint64_t sf_stamp_of(const struct stat *st);

/*
 * Open the directory holding key @path; *base then points at the last
 * component inside @path.  With @create, missing directories are made
 * (mode 0700) and *created_depth is set to the index of the first one made
 * (-1 if none).  Returns a descriptor or -errno.
 */
int sf_open_parent(struct statefs *sf, const char *path, int create,
		   const char **base, int *created_depth);

/* Remove the directories of @path at depth @from and deeper, if empty. */
void sf_remove_dirs(struct statefs *sf, const char *path, int from);

/* Read the link @name in @dfd into @e (value, stamp, tombstone flag). */
int sf_read_at(int dfd, const char *name, struct statefs_entry *e);

/* Atomically make @name in @dfd a link to @value stamped @stamp_ns. */
int sf_write_at(int dfd, const char *name, const char *value, uint64_t stamp_ns);

/* Whole-tree walk (walk.c): @fn sees every non-directory entry. */
struct sf_item {
	int dfd;			/* directory holding the entry */
	const char *name;		/* entry name in @dfd */
	const char *path;		/* path relative to the root */
	const struct stat *st;		/* lstat of the entry */
};
typedef int (*sf_visit_fn)(struct statefs *sf, const struct sf_item *it, void *arg);

#define SF_WALK_PRIVATE	(1U << 0)	/* visit names starting with '.' too */
int sf_walk(struct statefs *sf, const char *subtree, unsigned flags,
	    sf_visit_fn fn, void *arg);

/* Sorted names of directory @dfd (not "." / ".."); free with sf_names_free. */
int sf_read_names(int dfd, char ***names, size_t *n);
void sf_names_free(char **names, size_t n);

#endif /* MARS_STATEFS_INTERNAL_H */
