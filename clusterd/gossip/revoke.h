/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef CLUSTERD_REVOKE_H
#define CLUSTERD_REVOKE_H

#include "statefs/statefs.h"

/*
 * Remove from the OpenSSH authorized_keys file @path every line bound to
 * a host that left the cluster: a line whose forced command carries
 * `--peer NAME` while ips/ip-NAME in @sf is a tombstone stamped after the
 * line's `mars-authorized=SECONDS` comment (no comment: any tombstone).
 * Other lines are kept byte for byte; the file is replaced atomically
 * with its mode kept.  @removed (may be NULL) is called with each name
 * whose line went.  Returns the number of lines removed, 0 if the file
 * is absent, or -errno (-EFBIG: larger than AUTHFILE_MAX, authfile.h).
 */
int revoke_departed(struct statefs *sf, const char *path,
		    void (*removed)(const char *host, void *arg), void *arg);

/*
 * The host a line of an authorized_keys file is bound to: the NAME of
 * `--peer NAME` in its command="..." option, copied to @host (@size
 * bytes), and the line's `mars-authorized=SECONDS` in @auth_s (0 if
 * none).  @line is @len bytes, no newline.  Returns 0, or -ENOENT for a
 * line bound to no host (comments, other keys, unbound MARS lines).
 */
int revoke_line_peer(const char *line, size_t len, char *host, size_t size,
		     uint64_t *auth_s);

#endif
