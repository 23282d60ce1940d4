/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node's Lamport clock and the node lock, which are one thing: the
 * file <root>/.clock holds the highest stamp issued or witnessed on this
 * node, and an exclusive flock on it serialises both the clock and every
 * mutation of the tree.  Two processes (two marsadm runs, marsadm and
 * clusterd) therefore never hand out the same stamp, and a compare-then-
 * rename in one cannot interleave with another's.
 *
 * The file is not fsync'ed: after a crash it is at most as stale as the
 * links written just before, and real time keeps the clock moving.  A
 * clock file that does not parse counts as zero for the same reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "statefs/internal.h"

#define CLOCK_TEXT_BYTES 21	/* 20 decimal digits and a newline */

uint64_t
statefs_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * STATEFS_NS_PER_S + (uint64_t)ts.tv_nsec;
}

int
statefs_stamp_is_future(const struct statefs *sf, uint64_t stamp_ns, uint64_t now_ns)
{
	return stamp_ns > now_ns && stamp_ns - now_ns > sf->future_bound_ns;
}

static int
clock_open(struct statefs *sf, int create)
{
	int fd;

	if (sf->lock_fd >= 0)
		return 0;
	fd = sf_small_open(sf, SF_CLOCK_FILE, O_RDWR | (create ? O_CREAT : 0));
	if (fd < 0)
		return fd;
	sf->lock_fd = fd;
	return 0;
}

int
sf_lock(struct statefs *sf)
{
	int ret;

	if (sf->lock_depth > 0) {
		sf->lock_depth++;
		return 0;
	}
	ret = clock_open(sf, 1);
	if (ret == 0)
		ret = sf_small_lock(sf->lock_fd, LOCK_EX);
	if (ret < 0)
		return ret;
	sf->lock_depth = 1;
	return 0;
}

void
sf_unlock(struct statefs *sf)
{
	if (sf->lock_depth > 0 && --sf->lock_depth == 0)
		flock(sf->lock_fd, LOCK_UN);
}

static uint64_t
clock_load(struct statefs *sf)
{
	char buf[CLOCK_TEXT_BYTES + 1];
	ssize_t n;
	char *end;
	unsigned long long v;

	n = sf_small_read(sf->lock_fd, buf, CLOCK_TEXT_BYTES);
	if (n != CLOCK_TEXT_BYTES || buf[CLOCK_TEXT_BYTES - 1] != '\n')
		return 0;
	buf[CLOCK_TEXT_BYTES - 1] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

static int
clock_store(struct statefs *sf, uint64_t stamp_ns)
{
	char buf[CLOCK_TEXT_BYTES + 1];

	snprintf(buf, sizeof(buf), "%020llu\n", (unsigned long long)stamp_ns);
	return sf_small_rewrite(sf->lock_fd, buf, CLOCK_TEXT_BYTES);
}

int
sf_clock_tick_locked(struct statefs *sf, uint64_t *stamp_ns)
{
	uint64_t last = clock_load(sf), now = statefs_realtime_ns();
	uint64_t next = now > last ? now : last + 1;
	int ret = clock_store(sf, next);

	if (ret == 0)
		*stamp_ns = next;
	return ret;
}

int
sf_clock_witness_locked(struct statefs *sf, uint64_t stamp_ns)
{
	if (statefs_stamp_is_future(sf, stamp_ns, statefs_realtime_ns()))
		return 0;
	if (stamp_ns <= clock_load(sf))
		return 0;
	return clock_store(sf, stamp_ns);
}

int
statefs_clock_tick(struct statefs *sf, uint64_t *stamp_ns)
{
	int ret = sf_lock(sf);

	if (ret < 0)
		return ret;
	ret = sf_clock_tick_locked(sf, stamp_ns);
	sf_unlock(sf);
	return ret;
}

int
statefs_clock_witness(struct statefs *sf, uint64_t stamp_ns)
{
	int ret = sf_lock(sf);

	if (ret < 0)
		return ret;
	ret = sf_clock_witness_locked(sf, stamp_ns);
	sf_unlock(sf);
	return ret;
}

/* Read-only: a node that never wrote has no clock file, only real time. */
int
statefs_clock_now(struct statefs *sf, uint64_t *stamp_ns)
{
	uint64_t now = statefs_realtime_ns(), last;
	int ret = clock_open(sf, 0);

	if (ret == -ENOENT || ret == -EACCES || ret == -EROFS) {
		*stamp_ns = now;
		return 0;
	}
	if (ret == 0)
		ret = sf_small_lock(sf->lock_fd, sf->lock_depth ? LOCK_EX : LOCK_SH);
	if (ret < 0)
		return ret;
	last = clock_load(sf);
	if (sf->lock_depth == 0)
		flock(sf->lock_fd, LOCK_UN);
	*stamp_ns = now > last ? now : last;
	return 0;
}
