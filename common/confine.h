/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege for a process that parses a peer's frames
 * (docs/protocol.md, "Least privilege"): no new privileges, no
 * capabilities, and, where the kernel has Landlock, no file outside the
 * few this process needs.  Applied once, before the first peer byte is
 * read, and never undone: a bug in a parser then reaches only what the
 * process was left with.
 *
 * Use: confine_begin(), one confine_allow_*() per path, confine_apply();
 * confine_release() on every path out.  Without Landlock (ENOSYS,
 * EOPNOTSUPP: an older kernel, or one booted without it) the allow calls
 * do nothing and confine_apply() still sets no_new_privs and drops the
 * capabilities.
 */
#ifndef MARS_COMMON_CONFINE_H
#define MARS_COMMON_CONFINE_H

#include <stdint.h>

struct confine {
	int ruleset;		/* Landlock ruleset fd; -1 without Landlock */
	int abi;		/* the kernel's Landlock ABI; 0 without */
	uint64_t handled_fs;	/* file rights the ruleset restricts (by ABI) */
};

/* 0, or -errno when Landlock is there but refuses a ruleset. */
int confine_begin(struct confine *c);
/* The same as on a kernel of Landlock ABI @abi, at most the running one's
 * (tests/unit/test_confine.c runs each older ABI on a newer kernel). */
int confine_begin_abi(struct confine *c, int abi);
void confine_release(struct confine *c);

/*
 * Allow, beneath directory @path, what a state tree needs: read and write
 * files, list, create directories, regular files and symbolic links,
 * remove (no rename across directories, no special files, no exec).
 * A path that cannot be resolved now is left out (it stays closed);
 * 0, or -errno from Landlock.
 */
int confine_allow_tree(struct confine *c, const char *path);
/* Allow reading and listing beneath directory @path, nothing else. */
int confine_allow_read_tree(struct confine *c, const char *path);
/* Allow TCP connections to @port (where the kernel restricts TCP, ABI 4). */
int confine_allow_connect(struct confine *c, uint16_t port);
/* Allow reading file or device @path and its device ioctls (a disk's size). */
int confine_allow_read(struct confine *c, const char *path);
/* Allow reading, writing and ioctls on device @path (a control device). */
int confine_allow_device(struct confine *c, const char *path);

/*
 * Confine the calling process, which must still be single-threaded
 * (Landlock binds the calling thread and what it creates later): sets
 * no_new_privs, applies the ruleset, then drops every capability,
 * bounding and ambient sets included.  0, or -errno.
 */
int confine_apply(struct confine *c);

/* The Landlock ABI version of the running kernel; 0 without Landlock. */
int confine_landlock_abi(void);

#endif
