/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reader of "key=value" status files (kvfile.h).  The files are
 * written by this node's own daemons, but they live under /mars: every
 * line is bounded, a value never overruns its field, and a file too long
 * or unreadable is an error, not a partial result.
 */
#include "common/kvfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One line of @len bytes into @base; returns the group bits of its key. */
static int
kv_line(const struct kv_field *t, size_t n, void *base, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	char val[512], *end, *dst;
	size_t klen, vlen, i;

	if (!eq)
		return 0;
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	vlen = vlen < sizeof(val) ? vlen : sizeof(val) - 1;
	memcpy(val, eq + 1, vlen);
	val[vlen] = '\0';
	for (i = 0; i < n; i++) {
		if (strlen(t[i].key) != klen || memcmp(t[i].key, line, klen))
			continue;
		dst = (char *)base + t[i].off;
		if (t[i].kind == KV_STR)
			snprintf(dst, t[i].size, "%s", val);
		else if (t[i].kind == KV_U64)
			*(uint64_t *)(void *)dst = strtoull(val, &end, 10);
		else
			*(int64_t *)(void *)dst = strtoll(val, &end, 10);
		return t[i].group;
	}
	return 0;
}

int
kvfile_load(int dirfd, const char *path, const struct kv_field *t, size_t n, void *base)
{
	char *buf, *p, *nl;
	int fd, groups = 0;
	ssize_t len;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(KVFILE_MAX_BYTES);
	len = buf ? read(fd, buf, KVFILE_MAX_BYTES) : -1;
	close(fd);
	for (p = buf; len > 0 && p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		groups |= kv_line(t, n, base, p, (size_t)(nl - p));
	}
	free(buf);
	return len < 0 ? -EIO : groups;
}
