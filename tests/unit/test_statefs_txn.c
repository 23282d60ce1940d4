/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening trees, reading, listing, and transactions: all-or-nothing
 * commits with rollback, no-op repeats, ownership, tombstones, weak
 * stamps, and atomic replacement under concurrent writers while a reader
 * checks that the key never disappears.
 */
#include "statefs_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define WRITERS		4
#define WRITES		150

static void
plant_file(const char *rel, const char *content)
{
	char path[4400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sft_root, rel);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		exit(99);
}

static void
test_open_errors(void)
{
	struct statefs *sf = NULL;
	char sub[4200];

	sft_mkroot();
	snprintf(sub, sizeof(sub), "%s/missing", sft_root);
	tap_ok(statefs_open(&sf, sub, "alpha", 0) == -ENOENT, "missing root: ENOENT");
	tap_ok(statefs_open(&sf, sft_root, "alpha", 0) == -ENODATA, "empty root: ENODATA");
	snprintf(sub, sizeof(sub), "%s/lost+found", sft_root);
	mkdir(sub, 0700);
	tap_ok(statefs_open(&sf, sft_root, "alpha", 0) == -ENODATA, "only lost+found: ENODATA");
	tap_ok(statefs_open(&sf, sft_root, "Alpha", STATEFS_OPEN_ANY) == -ESRCH, "bad host: ESRCH");
	plant_file("notes.txt", "hello");
	tap_ok(statefs_open(&sf, sft_root, "alpha", 0) == -EMEDIUMTYPE, "foreign files: EMEDIUMTYPE");
	snprintf(sub, sizeof(sub), "%s/notes.txt", sft_root);
	tap_ok(statefs_open(&sf, sub, "alpha", 0) == -ENOTDIR, "root is a file: ENOTDIR");
	snprintf(sub, sizeof(sub), "%s/.format", sft_root);
	tap_ok(symlink("2", sub) == 0 && statefs_open(&sf, sft_root, "alpha", 0) == -EPROTONOSUPPORT,
	       "format 2: EPROTONOSUPPORT");
	unlink(sub);
	tap_ok(statefs_open(&sf, sft_root, "alpha", STATEFS_OPEN_ANY) == 0 &&
	       statefs_root_is_empty(sf) == 0 && statefs_mark(sf) == 0,
	       "marking a tree");
	statefs_close(&sf);
	tap_ok(statefs_open(&sf, sft_root, "alpha", 0) == 0, "marked tree opens");
	statefs_unmark(sf);
	statefs_close(&sf);
	tap_ok(statefs_open(&sf, sft_root, "alpha", 0) == -EMEDIUMTYPE, "unmark removes the marker");
	sft_rmtree(sft_root);
}

static void
test_set_get_delete(void)
{
	struct statefs_entry e;
	struct statefs *sf = NULL;
	uint64_t s1, s2 = 0;
	char buf[8];

	sft_new_tree(&sf, "alpha");
	tap_ok(sft_set(sf, "resource-r/size", "1024") == 1, "set creates a key (1 change)");
	s1 = sft_stamp(sf, "resource-r/size");
	tap_ok(strcmp(sft_value(sf, "resource-r/size"), "1024") == 0 && s1 > 0, "value read back");
	tap_ok(sft_set(sf, "resource-r/size", "1024") == 0 && sft_stamp(sf, "resource-r/size") == s1,
	       "repeating a set changes nothing, stamp kept");
	tap_ok(sft_set(sf, "resource-r/size", "2048") == 1 &&
	       (s2 = sft_stamp(sf, "resource-r/size")) > s1, "new value gets a newer stamp");
	tap_ok(statefs_get(sf, "resource-r/size", buf, 4, NULL) == -ENAMETOOLONG,
	       "small buffer refused");
	tap_ok(sft_delete(sf, "resource-r/size") == 1 &&
	       statefs_get(sf, "resource-r/size", buf, sizeof(buf), NULL) == -ENOENT,
	       "deleted key reads as absent");
	tap_ok(statefs_read(sf, "resource-r/size", &e) == 0 && e.tombstone && e.stamp_ns > s2,
	       "tombstone with a fresh stamp");
	tap_ok(sft_delete(sf, "resource-r/size") == 0, "deleting again changes nothing");
	tap_ok(sft_delete(sf, "resource-q/size") == 0, "deleting under a missing dir is a no-op");
	tap_ok(sft_set(sf, "resource-r/size", "4096") == 1 &&
	       strcmp(sft_value(sf, "resource-r/size"), "4096") == 0, "set revives a tombstone");
	tap_ok(statefs_is_dir(sf, "resource-r") == 1 && statefs_is_dir(sf, "resource-q") == 0,
	       "is_dir");
	sft_done_tree(&sf);
}

static int
count_ops(enum statefs_op_kind kind, const char *path, const char *value, void *arg)
{
	(void)kind;
	(void)path;
	(void)value;
	(*(int *)arg)++;
	return 0;
}

static void
test_refusals(void)
{
	struct statefs_txn t;
	struct statefs *sf = NULL;
	const char *failed;
	int n = 0;

	sft_new_tree(&sf, "alpha");
	statefs_txn_init(&t, sf, 0);
	tap_ok(statefs_txn_set(&t, "resource-r/size", "1") == 0, "own cluster-wide key queued");
	tap_ok(statefs_txn_set(&t, "resource-r/data-beta", "/dev/x") == -EPERM,
	       "another host's name refused");
	tap_ok(statefs_txn_set(&t, "resource-r/../uuid", "x") == -EINVAL, "'..' refused");
	tap_ok(statefs_txn_set(&t, "resource-r/device-alpha", "/dev/x") == -EXDEV,
	       "path where a name belongs refused");
	statefs_txn_foreach(&t, count_ops, &n);
	tap_ok(n == 1, "refused ops are not queued");
	tap_ok(statefs_txn_commit(&t, &failed) == -EPERM && sft_stamp(sf, "resource-r/size") == 0,
	       "commit refuses with the first error, tree untouched");
	statefs_txn_release(&t);
	statefs_txn_init(&t, sf, STATEFS_TXN_ANY_OWNER);
	tap_ok(statefs_txn_set(&t, "resource-r/data-beta", "/dev/x") == 0 &&
	       statefs_txn_commit(&t, NULL) == 1, "ANY_OWNER writes another host's name");
	statefs_txn_release(&t);
	sft_done_tree(&sf);
}

static void
test_rollback(void)
{
	struct statefs_txn t;
	struct statefs *sf = NULL;
	const char *failed = NULL;
	uint64_t uuid_stamp;
	char path[4400];

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "uuid", "old");
	uuid_stamp = sft_stamp(sf, "uuid");
	sft_set(sf, "resource-r/size", "1");
	plant_file("resource-r/todo-alpha", "in the way");
	statefs_txn_init(&t, sf, 0);
	statefs_txn_set(&t, "uuid", "new");
	statefs_txn_set(&t, "resource-q/size", "5");
	statefs_txn_set(&t, "resource-r/todo-alpha/attach", "1");
	tap_ok(statefs_txn_commit(&t, &failed) == -ENOTDIR && failed &&
	       strcmp(failed, "resource-r/todo-alpha/attach") == 0, "commit fails on the third op");
	statefs_txn_release(&t);
	tap_ok(strcmp(sft_value(sf, "uuid"), "old") == 0 && sft_stamp(sf, "uuid") == uuid_stamp,
	       "first op undone: old value and old stamp");
	snprintf(path, sizeof(path), "%s/resource-q", sft_root);
	tap_ok(access(path, F_OK) < 0, "directory made by the second op removed");
	sft_done_tree(&sf);
}

static void
test_weak(void)
{
	struct statefs_txn t;
	struct statefs *sf = NULL;
	uint64_t before;

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-r/primary", "alpha");
	before = sft_stamp(sf, "resource-r/primary");
	statefs_txn_init(&t, sf, 0);
	statefs_txn_set_weak(&t, "resource-r/primary", STATEFS_NONE);
	tap_ok(statefs_txn_commit(&t, NULL) == 1 &&
	       sft_stamp(sf, "resource-r/primary") == before + 1, "weak set stamps old + 1 ns");
	statefs_txn_release(&t);
	sft_done_tree(&sf);
}

struct collect {
	char paths[16][STATEFS_PATH_MAX + 1];
	int n;
};

static int
collect_visit(const struct statefs_entry *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		strcpy(c->paths[c->n++], e->path);
	return 0;
}

static int
collect_dir(const char *name, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		strcpy(c->paths[c->n++], name);
	return 0;
}

static int
collect_file(const char *name, uint64_t size, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		snprintf(c->paths[c->n++], sizeof(c->paths[0]), "%s=%llu", name,
			 (unsigned long long)size);
	return 0;
}

static void
test_list_files_and_error_path(void)
{
	struct collect c = { .n = 0 };
	struct statefs_txn t;
	struct statefs *sf = NULL;
	const char *failed = NULL;

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-a/size", "1");
	plant_file("resource-a/log-000000002-alpha", "abc");
	plant_file("resource-a/log-000000001-alpha", "");
	plant_file("resource-a/.hidden", "x");
	tap_ok(statefs_list_files(sf, "resource-a", collect_file, &c) == 0 && c.n == 2 &&
	       strcmp(c.paths[0], "log-000000001-alpha=0") == 0 &&
	       strcmp(c.paths[1], "log-000000002-alpha=3") == 0,
	       "list_files: regular files with sizes, in order, links and private names skipped");
	tap_ok(statefs_list_files(sf, "resource-z", collect_file, &c) == -ENOENT,
	       "list_files of a missing directory: ENOENT");
	statefs_txn_init(&t, sf, 0);
	statefs_txn_set(&t, "resource-a/size", "2");
	statefs_txn_set(&t, "resource-a/data-beta", "/dev/x");
	statefs_txn_set(&t, "resource-a/nonsense", "x");
	tap_ok(statefs_txn_commit(&t, &failed) == -EPERM && failed &&
	       strcmp(failed, "resource-a/data-beta") == 0 && strcmp(t.error_path, failed) == 0,
	       "commit names the first refused key");
	statefs_txn_release(&t);
	sft_done_tree(&sf);
}

static void
test_list(void)
{
	struct statefs *sf = NULL;
	char dir[4200];
	struct collect c = { .n = 0 };

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-b/size", "1");
	sft_set(sf, "resource-a/size", "1");
	sft_set(sf, "resource-a/replay-beta", "log-000000001-beta,0,0");
	sft_set(sf, "resource-a/data-alpha", "/dev/x");
	sft_set(sf, "resource-a/primary", "alpha");
	sft_delete(sf, "resource-a/primary");
	plant_file("resource-a/log-000000001-alpha", "");
	plant_file("stray", "");
	statefs_list(sf, "", 0, collect_visit, &c);
	tap_ok(c.n == 4 && strcmp(c.paths[0], "resource-a/data-alpha") == 0 &&
	       strcmp(c.paths[1], "resource-a/replay-beta") == 0 &&
	       strcmp(c.paths[2], "resource-a/size") == 0 &&
	       strcmp(c.paths[3], "resource-b/size") == 0,
	       "list: live keys in byte order, files and private names skipped");
	c.n = 0;
	statefs_list(sf, "resource-a", STATEFS_LIST_TOMBSTONES, collect_visit, &c);
	tap_ok(c.n == 4 && strcmp(c.paths[1], "resource-a/primary") == 0, "list with tombstones");
	c.n = 0;
	statefs_list(sf, "resource-a", STATEFS_LIST_SENDABLE | STATEFS_LIST_TOMBSTONES,
		     collect_visit, &c);
	tap_ok(c.n == 3, "sendable list leaves out other hosts' live names");
	tap_ok(statefs_list(sf, "resource-z", 0, collect_visit, &c) == -ENOENT,
	       "missing subtree: ENOENT");
	c.n = 0;
	statefs_list_dirs(sf, "", "resource-", collect_dir, &c);
	tap_ok(c.n == 2 && strcmp(c.paths[0], "a") == 0 && strcmp(c.paths[1], "b") == 0,
	       "resource directories listed");
	/* An empty directory once sorted a NULL array (UBSan: qsort(NULL)). */
	/* "empty" is a reserved word: a directory no statefs call would make */
	snprintf(dir, sizeof(dir), "%s/resource-empty", sft_root);
	mkdir(dir, 0700);
	c.n = 0;
	tap_ok(statefs_list(sf, "resource-empty", 0, collect_visit, &c) == 0 && c.n == 0,
	       "empty subtree: listed, nothing in it");
	sft_done_tree(&sf);
}

static void
writer(int id)
{
	struct statefs *sf = NULL;
	char value[32];
	int i;

	if (statefs_open(&sf, sft_root, "alpha", 0) < 0)
		_exit(2);
	for (i = 0; i < WRITES; i++) {
		snprintf(value, sizeof(value), "w%d-%d", id, i);
		if (sft_set(sf, "resource-r/primary", value) < 0)
			_exit(3);
	}
	_exit(0);
}

/* Count reads that found no link, a foreign value or a stamp going back. */
static int
reader_checks(struct statefs *sf, pid_t *pids)
{
	struct statefs_entry e;
	int alive = WRITERS, bad = 0, status, i;
	uint64_t seen = 0;

	while (alive > 0) {
		if (statefs_read(sf, "resource-r/primary", &e) < 0 || e.value[0] != 'w' ||
		    e.stamp_ns < seen)
			bad++;
		else
			seen = e.stamp_ns;
		for (i = 0; i < WRITERS; i++)
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
				pids[i] = 0;
				alive--;
			}
	}
	return bad;
}

static int
count_tmp(const char *dir)
{
	char cmd[4600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^\\.tmp' || true", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void
test_concurrent(void)
{
	struct statefs *sf = NULL;
	pid_t pids[WRITERS];
	char dir[4400], last[32];
	int i;

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-r/primary", "w-start");
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			writer(i);
	}
	tap_ok(reader_checks(sf, pids) == 0,
	       "%d writers x %d sets: the key never vanished, stamps never went back",
	       WRITERS, WRITES);
	snprintf(last, sizeof(last), "-%d", WRITES - 1);
	tap_ok(strstr(sft_value(sf, "resource-r/primary"), last) != NULL,
	       "the surviving value is some writer's last set");
	snprintf(dir, sizeof(dir), "%s/resource-r", sft_root);
	tap_ok(count_tmp(dir) == 0, "no temporary links left behind");
	sft_done_tree(&sf);
}

/* The one membership rule (statefs_is_member()). */
static void
test_is_member(void)
{
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "alpha");
	sft_set(sf, "resource-r/data-beta", "/dev/vdb");
	sft_set(sf, "resource-r/data-gamma", "/dev/vdb");
	sft_delete(sf, "resource-r/data-gamma");
	tap_ok(statefs_is_member(sf, "r", "beta") == 1, "a live data- link makes a member");
	tap_ok(statefs_is_member(sf, "r", "gamma") == 0, "a tombstoned one does not");
	tap_ok(statefs_is_member(sf, "r", "delta") == 0, "nor an absent one");
	tap_ok(statefs_is_member(sf, "s", "beta") == 0, "nor one in another resource");
	tap_ok(statefs_is_member(sf, "r/../r", "beta") == 0 &&
	       statefs_is_member(sf, "r", "../data-beta") == 0,
	       "names that are no names are never members");
	sft_set(sf, "evicted/beta", "alpha");
	tap_ok(statefs_is_member(sf, "r", "beta") == 0, "an evicted host is no member");
	sft_delete(sf, "evicted/beta");
	tap_ok(statefs_is_member(sf, "r", "beta") == 1, "readmitted, it is one again");
	sft_done_tree(&sf);
}

int
main(void)
{
	test_open_errors();
	test_set_get_delete();
	test_refusals();
	test_rollback();
	test_weak();
	test_list();
	test_list_files_and_error_path();
	test_concurrent();
	test_is_member();
	return tap_done();
}
