/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small state-tree tool for the gossip suites, through statefs only:
 *   gossip-tree ROOT HOST create IP     a fresh cluster: uuid, ips/ip-HOST
 *   gossip-tree ROOT HOST set PATH VALUE
 *   gossip-tree ROOT HOST get PATH      value on stdout; exit 1 if absent
 *   gossip-tree ROOT HOST merge PATH VALUE ORIGIN  as gossip from ORIGIN
 *                                       would (statefs_merge, stamped now)
 *   gossip-tree ROOT HOST dump [PREFIX] "path value" of live keys, sorted
 *   gossip-tree ROOT HOST fill N [shared]  N resources: own replay-HOST
 *                                       keys (and their size if shared)
 * It lets the suites run before and independently of marsadm.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mars/names.h"
#include "statefs/statefs.h"

static int
set_keys(struct statefs *sf, const char *p1, const char *v1, const char *p2,
	 const char *v2)
{
	struct statefs_txn t;
	int ret;

	statefs_txn_init(&t, sf, 0);
	ret = statefs_txn_set(&t, p1, v1);
	if (ret == 0 && p2)
		ret = statefs_txn_set(&t, p2, v2);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		fprintf(stderr, "gossip-tree: cannot set '%s': %s\n", p1,
			statefs_refusal_str(ret));
	return ret < 0;
}

static int
create(struct statefs *sf, const char *ip)
{
	char uuid[128], ipkey[128];
	uint64_t now;
	int ret = statefs_mark(sf);

	if (ret < 0 || statefs_clock_tick(sf, &now) < 0) {
		fprintf(stderr, "gossip-tree: cannot mark tree: %s\n", strerror(-ret));
		return 1;
	}
	snprintf(uuid, sizeof(uuid), "%s_%llu.%09llu", statefs_host(sf),
		 (unsigned long long)(now / STATEFS_NS_PER_S),
		 (unsigned long long)(now % STATEFS_NS_PER_S));
	snprintf(ipkey, sizeof(ipkey), "ips/ip-%s", statefs_host(sf));
	return set_keys(sf, "uuid", uuid, ipkey, ip);
}

/* Benchmark load: one transaction of N resources' keys. */
static int
fill(struct statefs *sf, const char *count, int shared)
{
	struct statefs_txn t;
	char path[STATEFS_PATH_MAX + 1], value[MARS_REPLAY_MAX + 1];
	struct mars_replaylink start = { .log.nr = 1 };
	long n = strtol(count, NULL, 10);
	int ret = 0;

	snprintf(start.log.host, sizeof(start.log.host), "%s", statefs_host(sf));
	if (mars_replaylink_format(value, sizeof(value), &start) < 0) {
		fprintf(stderr, "gossip-tree: '%s' cannot name a logfile\n", statefs_host(sf));
		return 1;
	}
	statefs_txn_init(&t, sf, 0);
	for (long k = 0; k < n && ret == 0; k++) {
		snprintf(path, sizeof(path), "resource-r%ld/replay-%s", k, statefs_host(sf));
		ret = statefs_txn_set(&t, path, value);
		if (ret == 0 && shared) {
			snprintf(path, sizeof(path), "resource-r%ld/size", k);
			ret = statefs_txn_set(&t, path, "1073741824");
		}
	}
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		fprintf(stderr, "gossip-tree: fill failed: %s\n", statefs_refusal_str(ret));
	return ret < 0;
}

static const char *dump_prefix;

static int
merge(struct statefs *sf, const char *path, const char *value, const char *origin)
{
	uint64_t stamp;
	int ret = statefs_clock_tick(sf, &stamp);

	if (ret == 0)
		ret = statefs_merge(sf, path, value, stamp, origin);
	if (ret < 0)
		fprintf(stderr, "gossip-tree: cannot merge '%s': %s\n", path,
			statefs_refusal_str(ret));
	return ret < 0;
}

static int
dump_one(const struct statefs_entry *e, void *arg)
{
	if (strncmp(e->path, dump_prefix, strlen(dump_prefix)) == 0)
		printf("%s %s\n", e->path, e->value);
	return 0;
}

int
main(int argc, char **argv)
{
	struct statefs *sf = NULL;
	char value[STATEFS_VALUE_MAX + 1];
	int ret;

	if (argc < 4) {
		fprintf(stderr, "usage: gossip-tree ROOT HOST create IP|set P V|get P|merge P V ORIGIN|"
			"dump [PREFIX]\n");
		return 2;
	}
	if (strcmp(argv[3], "create") == 0)
		mkdir(argv[1], 0700);
	ret = statefs_open(&sf, argv[1], argv[2],
			   strcmp(argv[3], "create") == 0 ? STATEFS_OPEN_ANY : 0);
	if (ret < 0) {
		fprintf(stderr, "gossip-tree: cannot open '%s': %s\n", argv[1],
			statefs_open_str(ret));
		return 1;
	}
	if (strcmp(argv[3], "create") == 0 && argc == 5)
		ret = create(sf, argv[4]);
	else if (strcmp(argv[3], "set") == 0 && argc == 6)
		ret = set_keys(sf, argv[4], argv[5], NULL, NULL);
	else if (strcmp(argv[3], "merge") == 0 && argc == 7)
		ret = merge(sf, argv[4], argv[5], argv[6]);
	else if (strcmp(argv[3], "get") == 0 && argc == 5) {
		ret = statefs_get(sf, argv[4], value, sizeof(value), NULL) < 0;
		if (!ret)
			printf("%s\n", value);
	} else if (strcmp(argv[3], "fill") == 0 && (argc == 5 || argc == 6)) {
		ret = fill(sf, argv[4], argc == 6);
	} else if (strcmp(argv[3], "dump") == 0 && argc <= 5) {
		dump_prefix = argc == 5 ? argv[4] : "";
		ret = statefs_list(sf, "", 0, dump_one, NULL) < 0;
	} else {
		fprintf(stderr, "gossip-tree: bad command\n");
		ret = 2;
	}
	statefs_close(&sf);
	return ret;
}
