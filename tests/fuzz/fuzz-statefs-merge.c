// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: statefs_merge(), the one door through which a peer's
 * entries enter the tree.  The input is a sequence of at most OPS_MAX
 * entries, each
 *
 *   flags(1) path_len(1) path value_len(1) value stamp(8, little endian)
 *
 * flags: bits 0-1 the origin host, bit 2 a tombstone instead of the
 * value, bits 3-4 how the stamp is read (raw, recent past, up to 40 days
 * ahead, a tie with the input's base stamp).  They are merged in order
 * into a scratch tree that also holds a planted link to a directory
 * outside the root and a logfile (fuzz_tree.c).
 *
 * Invariants after every merge:
 *  - exactly one outcome counter moved, and "applied" iff it returned 1;
 *  - nothing outside the root, no link that is not a key, no leftovers;
 *  - the clock never goes back and never goes beyond the future bound;
 *  - an applied entry reads back with its value and its stamp (or a
 *    fresh local stamp if its own lay beyond the bound); a kept one is
 *    not newer than what the tree holds;
 * and at the end a fresh local stamp is newer than every entry, so that a
 * local write always wins over what peers sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "fuzz_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPS_MAX		16
#define HOUR_NS		(3600ULL * STATEFS_NS_PER_S)
#define DAY_NS		(24 * HOUR_NS)

static const char *const origins[] = { "alpha", "beta", FUZZ_TREE_HOST, "alpha-1" };

static struct fuzz_tree tree;
static int tree_ready;

struct op {
	unsigned flags;
	char path[256 + 1];
	char value[256 + 1];
	uint64_t stamp_ns;
};

/* Copy a length-prefixed field; 0 when the input ran out. */
static int
take_field(const uint8_t **p, const uint8_t *end, char *out)
{
	size_t n;

	if (*p >= end)
		return 0;
	n = **p;
	(*p)++;
	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	memcpy(out, *p, n);
	out[n] = '\0';	/* an embedded NUL just cuts the string */
	*p += n;
	return 1;
}

static uint64_t
take_u64(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int i = 0; i < 8 && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

static uint64_t
op_stamp(unsigned flags, uint64_t raw, uint64_t base_ns)
{
	uint64_t now = statefs_realtime_ns();

	switch ((flags >> 3) & 3) {
	case 0:	return raw;
	case 1:	return now - raw % HOUR_NS;
	case 2:	return now + raw % (40 * DAY_NS);
	default: return base_ns + raw % 4;
	}
}

static int
take_op(const uint8_t **p, const uint8_t *end, uint64_t base_ns, struct op *op)
{
	if (*p >= end)
		return 0;
	op->flags = **p;
	(*p)++;
	if (!take_field(p, end, op->path) || !take_field(p, end, op->value))
		return 0;
	if (op->flags & 4)
		strcpy(op->value, STATEFS_TOMBSTONE);
	op->stamp_ns = op_stamp(op->flags, take_u64(p, end), base_ns);
	return 1;
}

/* The stamp stored in <root>/.clock; 0 before the first mutation. */
static uint64_t
clock_stored(void)
{
	char buf[32], path[4200];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/.clock", statefs_root(tree.sf));
	fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

static uint64_t
outcomes(const struct statefs_stats *st)
{
	return st->applied + st->kept + st->tombstones_ignored + st->refused_path +
	       st->refused_owner + st->refused_value + st->refused_stamp +
	       st->refused_type + st->errors;
}

static void
check_result(const struct op *op, int ret, uint64_t clock_before, uint64_t bounded_before)
{
	uint64_t clock = clock_stored();
	int restamped = statefs_stats(tree.sf)->future_bounded != bounded_before;
	struct statefs_entry e;

	FUZZ_CHECK(clock >= clock_before);
	FUZZ_CHECK(clock <= statefs_realtime_ns() + statefs_future_bound_ns(tree.sf));
	if (ret == 1) {
		FUZZ_CHECK(statefs_read(tree.sf, op->path, &e) == 0);
		FUZZ_CHECK(strcmp(e.value, op->value) == 0);
		FUZZ_CHECK(restamped ? e.stamp_ns <= clock : e.stamp_ns == op->stamp_ns);
		FUZZ_CHECK(clock >= e.stamp_ns);
	} else if (ret == 0 && !restamped && statefs_read(tree.sf, op->path, &e) == 0) {
		FUZZ_CHECK(e.stamp_ns >= op->stamp_ns ||
		      statefs_stamp_is_future(tree.sf, op->stamp_ns, statefs_realtime_ns()));
	}
}

static void
merge_one(const struct op *op)
{
	const char *origin = origins[op->flags & 3];
	uint64_t clock_before = clock_stored(), before = outcomes(statefs_stats(tree.sf));
	uint64_t applied = statefs_stats(tree.sf)->applied, bounded = statefs_stats(tree.sf)->future_bounded;
	int ret = statefs_merge(tree.sf, op->path, op->value, op->stamp_ns, origin);

	FUZZ_CHECK(ret >= -4095 && ret <= 1);
	FUZZ_CHECK(outcomes(statefs_stats(tree.sf)) == before + 1);
	FUZZ_CHECK((ret == 1) == (statefs_stats(tree.sf)->applied == applied + 1));
	check_result(op, ret, clock_before, bounded);
	fuzz_tree_check(&tree);
}

/* A fresh local stamp beats every stamp the tree holds. */
static int
check_older(const struct statefs_entry *e, void *arg)
{
	FUZZ_CHECK(e->stamp_ns < *(const uint64_t *)arg);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	uint64_t base_ns = statefs_realtime_ns() - HOUR_NS, tick, last;
	struct op op;

	if (!tree_ready) {
		log_init("fuzz", LOG_LVL_ERR);
		fuzz_tree_init(&tree);
		tree_ready = 1;
	}
	for (int i = 0; i < OPS_MAX && take_op(&p, end, base_ns, &op); i++)
		merge_one(&op);
	last = clock_stored();
	FUZZ_CHECK(statefs_clock_tick(tree.sf, &tick) == 0);
	FUZZ_CHECK(tick > last);
	FUZZ_CHECK(statefs_list(tree.sf, "", STATEFS_LIST_TOMBSTONES, check_older, &tick) == 0);
	fuzz_tree_reset(&tree);
	return 0;
}
