/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counters that several processes of one node add to and one reads.  The
 * serving ends (`clusterd --serve`, one short-lived process per SSH
 * session) count their refusals here, and the daemon's status page adds
 * them to its own (docs/http-api.md, metrics).
 *
 * They live in one node-private regular file, <root>/.counters (a leading
 * '.': never listed, never gossiped), of at most STATEFS_COUNTERS_MAX
 * lines "NAME VALUE\n".  A writer takes an exclusive flock(2) on the file,
 * reads it whole, adds, and rewrites it in place; a reader takes a shared
 * one, so nobody sees a half-written file.  The file lock is its own, not
 * the node lock of the tree: counting never holds up a tree write.
 *
 * Counters are no state: a file that does not parse (a write torn by a
 * power loss, a stray edit) counts as empty and is rewritten by the next
 * add, which a metrics scraper sees as a counter reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefs/internal.h"

#define COUNTERS_FILE_MAX	4096	/* bytes; STATEFS_COUNTERS_MAX lines fit */

static int
name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz_");

	return n > 0 && n <= STATEFS_COUNTER_NAME_MAX && name[n] == '\0';
}

/* One line "NAME VALUE" of @len bytes (no newline) into @c.  0 or -EINVAL. */
static int
parse_line(struct statefs_counters *c, const char *line, size_t len)
{
	char buf[STATEFS_COUNTER_NAME_MAX + 24], *sp, *end;

	if (len >= sizeof(buf) || c->n == STATEFS_COUNTERS_MAX)
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	sp = strchr(buf, ' ');
	if (!sp || sp[1] < '0' || sp[1] > '9')
		return -EINVAL;
	*sp = '\0';
	if (!name_ok(buf))
		return -EINVAL;
	errno = 0;
	c->c[c->n].value = strtoull(sp + 1, &end, 10);
	if (*end || errno)
		return -EINVAL;
	memcpy(c->c[c->n].name, buf, (size_t)(sp - buf) + 1);	/* name_ok(): it fits */
	c->n++;
	return 0;
}

/* The whole file at @fd into @c; a file that does not parse leaves @c empty. */
static int
load(int fd, struct statefs_counters *c)
{
	char buf[COUNTERS_FILE_MAX + 1];
	ssize_t len = sf_small_read(fd, buf, sizeof(buf));

	memset(c, 0, sizeof(*c));
	if (len < 0)
		return (int)len;
	if (len > COUNTERS_FILE_MAX)
		return 0;
	for (ssize_t i = 0; i < len;) {
		char *nl = memchr(buf + i, '\n', (size_t)(len - i));

		if (!nl || parse_line(c, buf + i, (size_t)(nl - (buf + i))) < 0) {
			memset(c, 0, sizeof(*c));
			return 0;
		}
		i = nl - buf + 1;
	}
	return 0;
}

static int
store(int fd, const struct statefs_counters *c)
{
	char buf[COUNTERS_FILE_MAX];
	size_t len = 0;

	for (size_t i = 0; i < c->n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %llu\n", c->c[i].name,
					(unsigned long long)c->c[i].value);
	return sf_small_rewrite(fd, buf, len);
}

static struct statefs_counter *
find(struct statefs_counters *c, const char *name, int add)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->c[i].name, name))
			return &c->c[i];
	if (!add || c->n == STATEFS_COUNTERS_MAX)
		return NULL;
	snprintf(c->c[c->n].name, sizeof(c->c[c->n].name), "%s", name);
	c->c[c->n].value = 0;
	return &c->c[c->n++];
}

int
statefs_counters_add(struct statefs *sf, const struct statefs_counters *delta)
{
	struct statefs_counters have;
	struct statefs_counter *to;
	int fd, ret = 0;

	for (size_t i = 0; i < delta->n; i++)
		if (!name_ok(delta->c[i].name))
			return -EINVAL;
	fd = sf_small_open_locked(sf, SF_COUNTERS_FILE, O_RDWR | O_CREAT, LOCK_EX);
	if (fd < 0)
		return fd;
	ret = load(fd, &have);
	for (size_t i = 0; i < delta->n && ret == 0; i++) {
		to = find(&have, delta->c[i].name, 1);
		if (!to)
			ret = -ENOSPC;
		else
			to->value += delta->c[i].value;
	}
	if (ret == 0)
		ret = store(fd, &have);
	close(fd);	/* drops the lock */
	return ret;
}

int
statefs_counter_add(struct statefs *sf, const char *name, uint64_t n)
{
	struct statefs_counters d = { .n = 1 };

	if (!name_ok(name))
		return -EINVAL;
	snprintf(d.c[0].name, sizeof(d.c[0].name), "%s", name);
	d.c[0].value = n;
	return statefs_counters_add(sf, &d);
}

int
statefs_counters_read(struct statefs *sf, struct statefs_counters *c)
{
	int fd = sf_small_open_locked(sf, SF_COUNTERS_FILE, O_RDONLY, LOCK_SH), ret;

	memset(c, 0, sizeof(*c));
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	ret = load(fd, c);
	close(fd);
	return ret;
}

uint64_t
statefs_counters_get(const struct statefs_counters *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->c[i].name, name))
			return c->c[i].value;
	return 0;
}

int
statefs_counters_reset(struct statefs *sf)
{
	int fd = sf_small_open_locked(sf, SF_COUNTERS_FILE, O_RDWR, LOCK_EX), ret;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	ret = sf_small_rewrite(fd, "", 0);
	close(fd);
	return ret;
}

/* The fields of struct statefs_stats as counters: the refusals first, by
 * the reason labels of the gossip metrics, then the rest. */
static const struct {
	const char *name;
	size_t off;
} stats_fields[] = {
	{ "path", offsetof(struct statefs_stats, refused_path) },
	{ "owner", offsetof(struct statefs_stats, refused_owner) },
	{ "value", offsetof(struct statefs_stats, refused_value) },
	{ "stamp", offsetof(struct statefs_stats, refused_stamp) },
	{ "type", offsetof(struct statefs_stats, refused_type) },
	{ "policy", offsetof(struct statefs_stats, refused_policy) },
	{ "applied", offsetof(struct statefs_stats, applied) },
	{ "kept", offsetof(struct statefs_stats, kept) },
	{ "tombstones_ignored", offsetof(struct statefs_stats, tombstones_ignored) },
	{ "future_bounded", offsetof(struct statefs_stats, future_bounded) },
	{ "errors", offsetof(struct statefs_stats, errors) },
};
#define STATS_REFUSALS	6	/* the first six */

static void
stats_to_counters(const struct statefs_stats *st, struct statefs_counters *c, size_t n)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		snprintf(c->c[i].name, sizeof(c->c[i].name), "%s", stats_fields[i].name);
		memcpy(&c->c[i].value, (const char *)st + stats_fields[i].off, sizeof(uint64_t));
	}
	c->n = n;
}

void
statefs_stats_refusals(const struct statefs_stats *st, struct statefs_counters *c)
{
	stats_to_counters(st, c, STATS_REFUSALS);
}

void
statefs_stats_counters(const struct statefs_stats *st, struct statefs_counters *c)
{
	stats_to_counters(st, c, sizeof(stats_fields) / sizeof(stats_fields[0]));
}

void
statefs_stats_from_counters(const struct statefs_counters *c, struct statefs_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sizeof(stats_fields) / sizeof(stats_fields[0]); i++) {
		uint64_t v = statefs_counters_get(c, stats_fields[i].name);

		memcpy((char *)st + stats_fields[i].off, &v, sizeof(v));
	}
}
