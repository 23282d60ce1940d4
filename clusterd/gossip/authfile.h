/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The OpenSSH authorized_keys file clusterd manages (--authorized-keys):
 * read whole, and replaced atomically.  Revocation (revoke.c) removes
 * departed members' lines from it, key distribution (keys.c) adds new
 * members' lines; both rewrite it only through authfile_replace().
 */
#ifndef CLUSTERD_AUTHFILE_H
#define CLUSTERD_AUTHFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Largest authorized_keys file read, bytes. */
#define AUTHFILE_MAX		(1024 * 1024)

struct authfile {
	char *buf;		/* the whole file, NUL-terminated (malloc) */
	size_t len;		/* bytes in buf */
	struct stat st;		/* of the file read: mode and owner to keep */
};

/*
 * Read the regular file @path (not through a link) into @f.  Returns 0,
 * or -errno (-ENOENT: absent, -EFBIG: larger than AUTHFILE_MAX, -EINVAL:
 * not a regular file).  authfile_release() frees it in any case.
 */
int authfile_read(const char *path, struct authfile *f);
void authfile_release(struct authfile *f);

/*
 * Replace @path by the @len bytes at @buf so that sshd reads the old file
 * or the new one, never half of one: a temporary file next to it with the
 * mode and owner of @st (NULL: 0600, this process's; the owner only where
 * this process may chown), written, fsynced,
 * renamed over @path, and the directory fsynced.  Returns 0 or -errno;
 * @path is unchanged on failure.
 */
int authfile_replace(const char *path, const char *buf, size_t len, const struct stat *st);

#endif
