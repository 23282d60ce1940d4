/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The change feed: a committed key shows up by its path, new directories
 * are reported and then watched, temporary and private names never show,
 * the descriptor polls readable, timeouts are kept, one watch per process,
 * and a new directory is watched even while a writer churns in it.
 * Every wait is bounded (WAIT_MS); nothing sleeps as an oracle.
 */
#include "statefs_test.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define WAIT_MS 2000

/* Drain events until @want shows up or nothing arrives within WAIT_MS. */
static int
saw(struct statefs_watch *w, const char *want)
{
	char path[STATEFS_PATH_MAX + 1];

	while (statefs_watch_next(w, WAIT_MS, path, sizeof(path)) == 1)
		if (strcmp(path, want) == 0)
			return 1;
	return 0;
}

/* Count events that arrive within @ms, and whether any is private. */
static int
drain(struct statefs_watch *w, int ms, int *private_seen)
{
	char path[STATEFS_PATH_MAX + 1];
	int n = 0;

	while (statefs_watch_next(w, ms, path, sizeof(path)) == 1) {
		n++;
		if (strstr(path, "/.") || path[0] == '.')
			*private_seen = 1;
	}
	return n;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
test_feed(struct statefs *sf, struct statefs_watch *w)
{
	struct pollfd pfd = { .fd = statefs_watch_fd(w), .events = POLLIN };
	int private_seen = 0;

	tap_ok(sft_set(sf, "uuid", "u") == 1 && saw(w, "uuid"), "new key reported");
	tap_ok(sft_set(sf, "resource-r/todo-alpha/attach", "1") == 1 && saw(w, "resource-r"),
	       "new directory reported");
	drain(w, 100, &private_seen);
	tap_ok(sft_set(sf, "resource-r/todo-alpha/connect", "1") == 1 &&
	       saw(w, "resource-r/todo-alpha/connect"), "key in a new directory reported");
	tap_ok(sft_set(sf, "uuid", "v") == 1 && sft_delete(sf, "resource-r/size") == 0 &&
	       saw(w, "uuid"), "replaced key reported");
	tap_ok(drain(w, 100, &private_seen) == 0 && !private_seen,
	       "no temporary or private names reported");
	tap_ok(pfd.fd >= 0, "descriptor available for poll (%d)", pfd.fd);
	sft_set(sf, "resource-r/size", "1");
	tap_ok(poll(&pfd, 1, WAIT_MS) == 1 && saw(w, "resource-r/size"),
	       "descriptor polls readable on a change");
}

static void
test_timeout(struct statefs_watch *w)
{
	char path[STATEFS_PATH_MAX + 1];
	struct timespec t0;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tap_ok(statefs_watch_next(w, 0, path, sizeof(path)) == 0 && elapsed_ms(&t0) < 50,
	       "timeout 0 returns at once");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tap_ok(statefs_watch_next(w, 150, path, sizeof(path)) == 0, "quiet tree: timeout");
	ms = elapsed_ms(&t0);
	tap_ok(ms >= 140 && ms < 1500, "timeout of 150 ms kept (%ld ms)", ms);
}
/*
 * A writer's renames in a directory the feed has just learned about: its
 * ".tmp." links come and go while the directory is being watched.  The
 * library's recursive watch gave up on such a directory (an entry gone
 * between listing and lstat), and nothing below it was ever reported
 * again.  Each round: a child makes resource-bN and churns in it for
 * CHURN_MS; the parent learns of the directory meanwhile; afterwards a
 * key in it must be reported.
 */
#define CHURN_ROUNDS	20
#define CHURN_MS	60

static void
churn(const char *dir)
{
	struct timespec t0;
	char tmp[32], name[32];
	int i = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mkdir(dir, 0700) < 0 || chdir(dir) < 0)	/* the child's own cwd */
		_exit(1);
	while (elapsed_ms(&t0) < CHURN_MS) {
		snprintf(tmp, sizeof(tmp), ".tmp.%d", i);
		snprintf(name, sizeof(name), "k%d", i++ % 8);
		if (symlink("v", tmp) < 0 || rename(tmp, name) < 0)
			_exit(1);
	}
	_exit(0);
}

static void
test_busy_new_dir(struct statefs *sf, struct statefs_watch *w)
{
	char dir[4200], name[64], key[80];
	int round, reported = 0, status;
	pid_t pid;

	for (round = 0; round < CHURN_ROUNDS; round++) {
		snprintf(name, sizeof(name), "resource-b%d", round);
		snprintf(dir, sizeof(dir), "%s/%s", statefs_root(sf), name);
		pid = fork();
		if (pid == 0)
			churn(dir);
		if (pid < 0)
			break;
		/* Learn of the directory in mid-churn: the watch is set up
		 * while entries come and go (this places the race, it is not
		 * an oracle). */
		nanosleep(&(struct timespec){ 0, CHURN_MS / 3 * 1000000L }, NULL);
		saw(w, name);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			break;
		snprintf(key, sizeof(key), "%s/size", name);
		if (sft_set(sf, key, "1") != 1 || !saw(w, key))
			break;
		reported++;
	}
	tap_ok(reported == CHURN_ROUNDS, "new directory under a busy writer: watched "
	       "(%d of %d rounds)", reported, CHURN_ROUNDS);
}

int
main(void)
{
	struct statefs_watch *w = NULL, *w2 = NULL;
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "alpha");
	if (!tap_ok(statefs_watch_open(sf, &w) == 0, "watch opened")) {
		sft_done_tree(&sf);
		return tap_done();
	}
	tap_ok(statefs_watch_open(sf, &w2) == -EBUSY, "second watch in one process: EBUSY");
	test_feed(sf, w);
	test_timeout(w);
	test_busy_new_dir(sf, w);
	statefs_watch_close(w);
	tap_ok(statefs_watch_open(sf, &w) == 0, "watch reopens after close");
	statefs_watch_close(w);
	sft_done_tree(&sf);
	return tap_done();
}
