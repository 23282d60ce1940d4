/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Lamport clock: strictly increasing within and across processes,
 * never behind real time, advanced by witnessed stamps, deaf to stamps
 * beyond the future bound.  The cross-process check forks writers that
 * tick concurrently through their own opens of the tree and reports every
 * stamp back; one duplicate fails the test.
 */
#include "statefs_test.h"

#include <fcntl.h>
#include <sys/wait.h>

#define CHILDREN	8
#define TICKS		400

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_single(void)
{
	struct statefs *sf = NULL;
	uint64_t prev = 0, s = 0, now;
	int i, ok = 1;

	sft_new_tree(&sf, "alpha");
	now = statefs_realtime_ns();
	for (i = 0; i < 1000 && ok; i++) {
		ok = statefs_clock_tick(sf, &s) == 0 && s > prev;
		prev = s;
	}
	tap_ok(ok, "1000 ticks strictly increasing");
	tap_ok(s >= now, "ticks are not behind real time");
	tap_ok(statefs_clock_witness(sf, now + SFT_HOUR_NS) == 0 &&
	       statefs_clock_tick(sf, &s) == 0 && s > now + SFT_HOUR_NS,
	       "a witnessed stamp one hour ahead advances the clock");
	tap_ok(statefs_clock_now(sf, &now) == 0 && now == s, "clock_now reads the last stamp");
	now = statefs_realtime_ns();
	tap_ok(statefs_clock_witness(sf, now + 31 * 24 * SFT_HOUR_NS) == 0 &&
	       statefs_clock_tick(sf, &s) == 0 && s < now + 2 * SFT_HOUR_NS,
	       "a stamp 31 days ahead is ignored");
	tap_ok(statefs_stamp_is_future(sf, now + 31 * 24 * SFT_HOUR_NS, now) &&
	       !statefs_stamp_is_future(sf, now + 29 * 24 * SFT_HOUR_NS, now),
	       "future bound is 30 days");
	sft_done_tree(&sf);
}

static void
test_readonly_and_corrupt(void)
{
	struct statefs *sf = NULL;
	char clock[4200];
	uint64_t s, now;
	int fd;

	sft_mkroot();
	statefs_open(&sf, sft_root, "alpha", STATEFS_OPEN_ANY);
	snprintf(clock, sizeof(clock), "%s/.clock", sft_root);
	tap_ok(statefs_clock_now(sf, &s) == 0 && access(clock, F_OK) < 0,
	       "reading the clock creates no file");
	statefs_clock_tick(sf, &s);
	statefs_close(&sf);
	fd = open(clock, O_WRONLY | O_TRUNC);
	tap_ok(fd >= 0 && write(fd, "garbage\n", 8) == 8, "clock file overwritten with garbage");
	close(fd);
	statefs_open(&sf, sft_root, "alpha", STATEFS_OPEN_ANY);
	now = statefs_realtime_ns();
	tap_ok(statefs_clock_tick(sf, &s) == 0 && s >= now, "garbage clock falls back to real time");
	sft_done_tree(&sf);
}

static void
child_ticks(int wfd)
{
	uint64_t stamps[TICKS];
	struct statefs *sf = NULL;
	int i;

	if (statefs_open(&sf, sft_root, "alpha", 0) < 0)
		_exit(2);
	for (i = 0; i < TICKS; i++)
		if (statefs_clock_tick(sf, &stamps[i]) < 0)
			_exit(3);
	for (i = 1; i < TICKS; i++)
		if (stamps[i] <= stamps[i - 1])
			_exit(4);
	if (write(wfd, stamps, sizeof(stamps)) != (ssize_t)sizeof(stamps))
		_exit(5);
	_exit(0);
}

static int
collect(int rfd, uint64_t *all, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n * sizeof(*all)) {
		r = read(rfd, (char *)all + got, n * sizeof(*all) - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void
test_processes(void)
{
	static uint64_t all[CHILDREN * TICKS];
	struct statefs *sf = NULL;
	int p[2], i, status, children_ok = 1, dup = 0;

	sft_new_tree(&sf, "alpha");
	/* Ahead of real time, every tick is "last + 1": only the lock keeps them apart. */
	statefs_clock_witness(sf, statefs_realtime_ns() + SFT_HOUR_NS);
	if (pipe(p) < 0)
		exit(99);
	for (i = 0; i < CHILDREN; i++)
		if (fork() == 0)
			child_ticks(p[1]);
	close(p[1]);
	tap_ok(collect(p[0], all, CHILDREN * TICKS) == 0, "%d stamps collected", CHILDREN * TICKS);
	close(p[0]);
	for (i = 0; i < CHILDREN; i++)
		children_ok &= wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	tap_ok(children_ok, "every process saw its own stamps strictly increasing");
	qsort(all, CHILDREN * TICKS, sizeof(all[0]), cmp_u64);
	for (i = 1; i < CHILDREN * TICKS; i++)
		dup += all[i] == all[i - 1];
	tap_ok(dup == 0, "no stamp handed out twice across %d processes (%d duplicates)",
	       CHILDREN, dup);
	sft_done_tree(&sf);
}

int
main(void)
{
	test_single();
	test_readonly_and_corrupt();
	test_processes();
	return tap_done();
}
