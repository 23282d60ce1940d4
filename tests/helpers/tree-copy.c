/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tree-copy FROM_ROOT FROM_HOST TO_ROOT TO_HOST [--logs]
 *
 * One gossip round from FROM to TO without a network: every entry FROM
 * may send (its own names, cluster-wide keys, tombstones) is applied to
 * TO through statefs_merge(), exactly as clusterd applies what a peer
 * sends.  With --logs, logfiles "resource-R/log-N-O" present in FROM and
 * larger there are copied to TO as well (a completed fetch), unless TO
 * holds a tombstone for them.  Prints "applied N" on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mars/names.h"
#include "statefs/statefs.h"

struct copy {
	struct statefs *to;
	const char *from_host;
	int applied;
	int errors;
};

static int
copy_one(const struct statefs_entry *e, void *arg)
{
	struct copy *c = arg;
	int ret = statefs_merge(c->to, e->path, e->value, e->stamp_ns, c->from_host);

	if (ret > 0)
		c->applied++;
	if (ret < 0 && ret != -EEXIST) {
		fprintf(stderr, "tree-copy: '%s' refused: %s\n", e->path, statefs_refusal_str(ret));
		c->errors++;
	}
	return 0;
}

struct logs {
	const char *from_root, *to_root, *res;
	struct statefs *to;
	int errors;
};

static int
copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ret = in < 0 || out < 0 ? -1 : 0;

	while (ret == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		ret = write(out, buf, (size_t)n) == n ? 0 : -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static int
log_one(const char *name, uint64_t size_bytes, void *arg)
{
	struct logs *l = arg;
	char src[8192], dst[8192], key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;
	struct mars_logname ln;
	struct stat st;

	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return 0;
	snprintf(key, sizeof(key), "resource-%s/%s", l->res, name);
	if (statefs_read(l->to, key, &e) == 0)
		return 0;	/* a tombstone: deleted here */
	snprintf(src, sizeof(src), "%s/resource-%s/%s", l->from_root, l->res, name);
	snprintf(dst, sizeof(dst), "%s/resource-%s/%s", l->to_root, l->res, name);
	if (stat(dst, &st) == 0 && (uint64_t)st.st_size >= size_bytes)
		return 0;
	if (copy_file(src, dst) < 0) {
		fprintf(stderr, "tree-copy: cannot copy '%s': %s\n", src, strerror(errno));
		l->errors++;
	}
	return 0;
}

static int
res_logs(const char *res, void *arg)
{
	struct logs *l = arg;
	struct statefs *from = NULL;
	char dir[STATEFS_PATH_MAX + 1];

	l->res = res;
	if (statefs_open(&from, l->from_root, statefs_host(l->to), 0) < 0)
		return -EIO;
	snprintf(dir, sizeof(dir), "resource-%s", res);
	statefs_list_files(from, dir, log_one, l);
	statefs_close(&from);
	return 0;
}

int
main(int argc, char **argv)
{
	struct statefs *from = NULL, *to = NULL;
	struct copy c = { 0 };
	struct logs l = { 0 };
	int ret;

	if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "--logs"))) {
		fprintf(stderr, "usage: tree-copy FROM_ROOT FROM_HOST TO_ROOT TO_HOST [--logs]\n");
		return 2;
	}
	if (statefs_open(&from, argv[1], argv[2], 0) < 0 || statefs_open(&to, argv[3], argv[4], 0) < 0) {
		fprintf(stderr, "tree-copy: cannot open the trees\n");
		return 1;
	}
	c.to = to;
	c.from_host = argv[2];
	ret = statefs_list(from, "", STATEFS_LIST_SENDABLE | STATEFS_LIST_TOMBSTONES, copy_one, &c);
	if (ret == 0 && argc == 6) {
		l.from_root = argv[1];
		l.to_root = argv[3];
		l.to = to;
		ret = statefs_list_dirs(to, "", "resource-", res_logs, &l);
	}
	statefs_close(&from);
	statefs_close(&to);
	printf("applied %d\n", c.applied);
	return ret < 0 || c.errors || l.errors;
}
