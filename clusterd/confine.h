/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege for a process that parses a peer's frames
 * (docs/protocol.md, "Least privilege"): no new privileges, no
 * capabilities, and, where the kernel has Landlock, no file outside the
 * few this process needs.  Applied once, before the first peer byte is
 * read, and never undone: a bug in a parser then reaches only what the
 * process was left with.
 */
#ifndef MARS_CLUSTERD_CONFINE_H
#define MARS_CLUSTERD_CONFINE_H

#include <stddef.h>

#define CONFINE_FILES_MAX	256	/* files named in one confinement */

struct confine {
	const char *tree_dir;		/* read-write beneath (files, dirs, symlinks) */
	const char *ro_files[CONFINE_FILES_MAX];	/* read-only, and their size ioctls */
	size_t n_ro;
	const char *rw_files[CONFINE_FILES_MAX];	/* read-write devices (control device) */
	size_t n_rw;
};

/*
 * Add @path to @c's read-only files; 0, or -E2BIG past CONFINE_FILES_MAX.
 * @path is not copied: it must live until confine_self() returned.
 */
int confine_add_ro(struct confine *c, const char *path);
int confine_add_rw(struct confine *c, const char *path);

/*
 * Confine the calling process, which must still be single-threaded
 * (Landlock binds the calling thread and what it creates later): sets
 * no_new_privs, restricts file access to @c where the kernel has Landlock
 * (a file of @c that does not exist is left out: nothing can open it
 * later either), then drops every capability, bounding and ambient sets
 * included.  Without Landlock (ENOSYS, EOPNOTSUPP: an older kernel or
 * one booted without it) the rest still applies and *@landlock_abi is 0.
 * Returns 0, or -errno when a step that every kernel has failed.
 */
int confine_self(const struct confine *c, int *landlock_abi);

/*
 * Confine a serving end (serve_confine.c) to its tree @root, the data
 * disks @sf names for its own host, and the module's control device.
 * 0, or -errno: then the session must end unserved.
 */
struct statefs;
int serve_confine(struct statefs *sf, const char *root);

/* The Landlock ABI version of the running kernel; 0 without Landlock. */
int confine_landlock_abi(void);

#endif
