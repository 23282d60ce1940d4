/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Revoking the keys of departed members.  A member's key is accepted here
 * by one authorized_keys line bound to its name (mars-setup-ssh
 * --authorize; docs/protocol.md, "Trust model: identity"):
 *
 *   restrict,from="ADDR",command="clusterd --serve --peer NAME" KEY mars-authorized=SECONDS
 *
 * When NAME leaves the cluster (ips/ip-NAME becomes a tombstone, written
 * by NAME's leave-cluster and gossiped everywhere, or by each daemon
 * itself once another member evicted NAME, clusterd/loop.c), every node's daemon
 * removes that line, so the key no longer logs in anywhere.  A line
 * authorized after the departure (its stamp newer than the tombstone) is
 * kept: that is how a departed host is let back in.  Lines bound to no
 * host are never touched; the serving end refuses them anyway.
 *
 * The file is read whole (it is small), filtered, and replaced by
 * authfile_replace() so that sshd never sees half a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/authfile.h"
#include "clusterd/gossip/revoke.h"

#define PEER_OPT	" --peer "
#define AUTH_TAG	" mars-authorized="

/* @needle in the @len bytes at @s, or NULL. */
static const char *
find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

int
revoke_line_peer(const char *line, size_t len, char *host, size_t size,
		 uint64_t *auth_s)
{
	const char *cmd = find(line, len, "command=\""), *end, *p, *a;
	size_t n;

	if (!cmd)
		return -ENOENT;
	cmd += strlen("command=\"");
	end = memchr(cmd, '"', len - (size_t)(cmd - line));
	if (!end)
		return -ENOENT;
	p = find(cmd, (size_t)(end - cmd), PEER_OPT);
	if (!p)
		return -ENOENT;
	p += strlen(PEER_OPT);
	for (n = 0; p + n < end && p[n] != ' '; n++)
		;
	if (n == 0 || n >= size)
		return -ENOENT;
	memcpy(host, p, n);
	host[n] = '\0';
	if (statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return -ENOENT;
	*auth_s = 0;
	a = find(end, len - (size_t)(end - line), AUTH_TAG);
	if (a)
		*auth_s = strtoull(a + strlen(AUTH_TAG), NULL, 10);
	return 0;
}

/* Is the line's host gone since the line was written? */
static int
departed(struct statefs *sf, const char *host, uint64_t auth_s)
{
	char path[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;

	snprintf(path, sizeof(path), "ips/ip-%s", host);
	if (statefs_read(sf, path, &e) < 0 || !e.tombstone)
		return 0;
	return e.stamp_ns / STATEFS_NS_PER_S >= auth_s;
}

int
revoke_departed(struct statefs *sf, const char *path,
		void (*removed)(const char *host, void *arg), void *arg)
{
	char *out = NULL, host[STATEFS_NAME_MAX + 1];
	struct authfile f;
	size_t out_len = 0;
	uint64_t auth_s;
	int ret = authfile_read(path, &f), gone = 0;

	if (ret < 0) {
		authfile_release(&f);
		return ret == -ENOENT ? 0 : ret;
	}
	out = malloc(f.len + 1);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < f.len;) {
		char *nl = memchr(f.buf + i, '\n', f.len - i);
		size_t n = nl ? (size_t)(nl - (f.buf + i)) : f.len - i;

		if (revoke_line_peer(f.buf + i, n, host, sizeof(host), &auth_s) == 0 &&
		    departed(sf, host, auth_s)) {
			gone++;
			if (removed)
				removed(host, arg);
		} else {
			memcpy(out + out_len, f.buf + i, n + (nl != NULL));
			out_len += n + (nl != NULL);
		}
		i += n + (nl != NULL);
	}
	ret = gone ? authfile_replace(path, out, out_len, &f.st) : 0;
out:
	free(out);
	authfile_release(&f);
	return ret < 0 ? ret : gone;
}
