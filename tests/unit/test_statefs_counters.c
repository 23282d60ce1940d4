/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node's counters file (statefs/counters.c): adds from many processes
 * at once all count, a file that does not parse counts as empty, names
 * are checked, and a reset zeroes everything.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "statefs_test.h"

#define ADDERS	8
#define ADDS	200

static void
put_file(const char *content)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.counters", sft_root);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(99);
	}
}

static void
test_add_read(void)
{
	struct statefs *sf = NULL;
	struct statefs_counters c;

	sft_new_tree(&sf, "alpha");
	tap_ok(statefs_counters_read(sf, &c) == 0 && c.n == 0, "no file: no counters");
	tap_ok(statefs_counter_add(sf, "policy", 2) == 0 &&
	       statefs_counter_add(sf, "fetch", 1) == 0 &&
	       statefs_counter_add(sf, "policy", 3) == 0, "three adds");
	tap_ok(statefs_counters_read(sf, &c) == 0 && c.n == 2 &&
	       statefs_counters_get(&c, "policy") == 5 && statefs_counters_get(&c, "fetch") == 1 &&
	       statefs_counters_get(&c, "sync") == 0, "read back: policy 5, fetch 1, sync 0");
	tap_ok(statefs_counter_add(sf, "Policy", 1) == -EINVAL &&
	       statefs_counter_add(sf, "a b", 1) == -EINVAL &&
	       statefs_counter_add(sf, "", 1) == -EINVAL &&
	       statefs_counter_add(sf, "abcdefghijklmnopqrstuvwxyzabcdef", 1) == -EINVAL,
	       "names other than [a-z_]{1,31} are refused");
	tap_ok(statefs_counters_reset(sf) == 0 && statefs_counters_read(sf, &c) == 0 &&
	       c.n == 0, "a reset zeroes every counter");
	sft_done_tree(&sf);
}

static void
test_garbage(void)
{
	struct statefs *sf = NULL;
	struct statefs_counters c;

	sft_new_tree(&sf, "alpha");
	put_file("policy 7\nfetch x\n");
	tap_ok(statefs_counters_read(sf, &c) == 0 && c.n == 0,
	       "a file that does not parse counts as empty");
	tap_ok(statefs_counter_add(sf, "sync", 1) == 0 && statefs_counters_read(sf, &c) == 0 &&
	       c.n == 1 && statefs_counters_get(&c, "sync") == 1, "and the next add rewrites it");
	put_file("policy 7");
	tap_ok(statefs_counters_read(sf, &c) == 0 && c.n == 0, "so does a torn last line");
	sft_done_tree(&sf);
}

static void
adder(const char *root)
{
	struct statefs *sf = NULL;

	if (statefs_open(&sf, root, "beta", 0) < 0)
		_exit(1);
	for (int i = 0; i < ADDS; i++)
		if (statefs_counter_add(sf, "policy", 1) < 0)
			_exit(1);
	statefs_close(&sf);
	_exit(0);
}

static void
test_concurrent(void)
{
	struct statefs *sf = NULL;
	struct statefs_counters c;
	int ok = 1, st;
	pid_t pids[ADDERS];

	sft_new_tree(&sf, "alpha");
	for (int i = 0; i < ADDERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			adder(sft_root);
	}
	for (int i = 0; i < ADDERS; i++)
		ok &= waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && !WEXITSTATUS(st);
	tap_ok(ok && statefs_counters_read(sf, &c) == 0 &&
	       statefs_counters_get(&c, "policy") == ADDERS * ADDS,
	       "%d processes adding %d times each: every add counted", ADDERS, ADDS);
	sft_done_tree(&sf);
}

static void
test_stats_names(void)
{
	struct statefs_stats st = { .refused_path = 1, .refused_owner = 2, .refused_value = 3,
				    .refused_stamp = 4, .refused_type = 5, .refused_policy = 6 };
	struct statefs_counters c;

	statefs_stats_refusals(&st, &c);
	tap_ok(c.n == 6 && statefs_counters_get(&c, "path") == 1 &&
	       statefs_counters_get(&c, "owner") == 2 && statefs_counters_get(&c, "value") == 3 &&
	       statefs_counters_get(&c, "stamp") == 4 && statefs_counters_get(&c, "type") == 5 &&
	       statefs_counters_get(&c, "policy") == 6, "the stats' refusals by reason name");
}

int
main(void)
{
	test_add_read();
	test_garbage();
	test_concurrent();
	test_stats_names();
	return tap_done();
}
