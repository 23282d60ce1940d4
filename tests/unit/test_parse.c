/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * common/parse.c: strict numbers.  Every accepted form, and the inputs
 * strtoull() alone would have let through.
 */
#include <errno.h>
#include <stdint.h>

#include "common/parse.h"
#include "tap.h"

static void
test_u64(void)
{
	uint64_t v = 0;

	tap_ok(parse_u64("0", &v) == 0 && v == 0, "u64 zero");
	tap_ok(parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX, "u64 max");
	tap_ok(parse_u64("18446744073709551616", &v) == -ERANGE, "u64 overflow is ERANGE");
	tap_ok(parse_u64("0x1F", &v) == 0 && v == 31, "u64 hex");
	tap_ok(parse_u64("0x0x5", &v) == -EINVAL, "u64 refuses a double hex prefix");
	tap_ok(parse_u64("", &v) == -EINVAL, "u64 refuses empty");
	tap_ok(parse_u64(" 5", &v) == -EINVAL, "u64 refuses leading blank");
	tap_ok(parse_u64("-1", &v) == -EINVAL, "u64 refuses a sign");
	tap_ok(parse_u64("+1", &v) == -EINVAL, "u64 refuses a plus sign");
	tap_ok(parse_u64("10x", &v) == -EINVAL, "u64 refuses trailing garbage");
	tap_ok(parse_u64("0x", &v) == -EINVAL, "u64 refuses a bare prefix");
}

static void
test_int_range(void)
{
	long long v = 0;

	tap_ok(parse_int_range("-1", -1, 10, &v) == 0 && v == -1, "int -1 in range");
	tap_ok(parse_int_range("10", -1, 10, &v) == 0 && v == 10, "int upper bound");
	tap_ok(parse_int_range("11", -1, 10, &v) == -ERANGE, "int above range");
	tap_ok(parse_int_range("-2", -1, 10, &v) == -ERANGE, "int below range");
	tap_ok(parse_int_range("--1", -5, 10, &v) == -EINVAL, "int refuses double minus");
	tap_ok(parse_int_range("0x10", 0, 100, &v) == -EINVAL, "int refuses hex");
	tap_ok(parse_int_range("9223372036854775808", 0, INT64_MAX, &v) == -ERANGE,
	       "int refuses 2^63");
	tap_ok(parse_int_range("1.5", 0, 10, &v) == -EINVAL, "int refuses a fraction");
}

static void
test_size(void)
{
	uint64_t v = 0;

	tap_ok(parse_size("4096", &v) == 0 && v == 4096, "size plain");
	tap_ok(parse_size("4k", &v) == 0 && v == 4000, "size k is 1000");
	tap_ok(parse_size("4K", &v) == 0 && v == 4096, "size K is 1024");
	tap_ok(parse_size("4KiB", &v) == 0 && v == 4096, "size KiB");
	tap_ok(parse_size("3g", &v) == 0 && v == 3000000000ULL, "size g");
	tap_ok(parse_size("2T", &v) == 0 && v == 2ULL << 40, "size T");
	tap_ok(parse_size("1P", &v) == 0 && v == 1ULL << 50, "size P");
	tap_ok(parse_size("5MB", &v) == 0 && v == 5ULL << 20, "size trailing B");
	tap_ok(parse_size("4kiB", &v) == -EINVAL, "size refuses kiB");
	tap_ok(parse_size("4X", &v) == -EINVAL, "size refuses unknown suffix");
	tap_ok(parse_size("4KK", &v) == -EINVAL, "size refuses two suffixes");
	tap_ok(parse_size("16385P", &v) == -ERANGE, "size overflow is ERANGE");
	tap_ok(parse_size("K", &v) == -EINVAL, "size refuses a bare suffix");
}

int
main(void)
{
	test_u64();
	test_int_range();
	test_size();
	return tap_done();
}
