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
 * The file is read whole (it is small), filtered, and replaced by rename
 * so that sshd never sees half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int
read_all(const char *path, char **buf, size_t *len, mode_t *mode)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if (st.st_size > REVOKE_FILE_MAX) {
		ret = -EFBIG;
		goto out;
	}
	*mode = st.st_mode & 07777;
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	n = read(fd, *buf, (size_t)st.st_size);
	if (n < 0) {
		ret = -errno;
		free(*buf);
		goto out;
	}
	*len = (size_t)n;
out:
	close(fd);
	return ret;
}

static int
write_all(const char *path, const char *buf, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.mars-revoke", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		ret = -errno;
	else if (write(fd, buf, len) != (ssize_t)len)
		ret = -EIO;
	else if (fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int
revoke_departed(struct statefs *sf, const char *path,
		void (*removed)(const char *host, void *arg), void *arg)
{
	char *buf = NULL, *out = NULL, host[STATEFS_NAME_MAX + 1];
	size_t len = 0, out_len = 0;
	mode_t mode = 0600;
	uint64_t auth_s;
	int ret = read_all(path, &buf, &len, &mode), gone = 0;

	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	out = malloc(len + 1);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len;) {
		char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;

		if (revoke_line_peer(buf + i, n, host, sizeof(host), &auth_s) == 0 &&
		    departed(sf, host, auth_s)) {
			gone++;
			if (removed)
				removed(host, arg);
		} else {
			memcpy(out + out_len, buf + i, n + (nl != NULL));
			out_len += n + (nl != NULL);
		}
		i += n + (nl != NULL);
	}
	ret = gone ? write_all(path, out, out_len, mode) : 0;
out:
	free(out);
	free(buf);
	return ret < 0 ? ret : gone;
}
