/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * strtoull() accepts leading blanks, a minus sign and trailing garbage and
 * reports overflow only through errno; these wrappers refuse all of that
 * so that "10x", " 5" or "-1" never turn silently into numbers.
 */
#include "common/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parse the leading digits of @s; *@end points after them. */
static int
parse_digits(const char *s, const char **end, uint64_t *out)
{
	int base = 10;
	char *e;
	unsigned long long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			return -EINVAL;	/* strtoull would take a second prefix */
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, base);
	if (errno == ERANGE)
		return -ERANGE;
	*end = e;
	*out = v;
	return 0;
}

int
parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int ret = parse_digits(s, &end, &v);

	if (ret)
		return ret;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int
parse_int_range(const char *s, long long min, long long max, long long *out)
{
	int neg = (*s == '-');
	const char *end;
	uint64_t mag;
	long long v;
	int ret;

	ret = parse_digits(s + neg, &end, &mag);
	if (ret)
		return ret;
	if (*end || (s[neg] == '0' && (s[neg + 1] == 'x' || s[neg + 1] == 'X')))
		return -EINVAL;
	if (mag > (uint64_t)INT64_MAX)
		return -ERANGE;
	v = neg ? -(long long)mag : (long long)mag;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The multiplier for suffix @c, or 0 when @c is not a suffix. */
static uint64_t
size_multiplier(char c)
{
	static const char dec[] = "kmgtp", bin[] = "KMGTP";
	const char *p;
	uint64_t m = 1;

	if ((p = strchr(dec, c)) && c) {
		for (int i = 0; i <= p - dec; i++)
			m *= 1000;
		return m;
	}
	if ((p = strchr(bin, c)) && c) {
		for (int i = 0; i <= p - bin; i++)
			m *= 1024;
		return m;
	}
	return 0;
}

int
parse_size(const char *s, uint64_t *out_bytes)
{
	const char *end;
	uint64_t v, mult = 1;
	int ret = parse_digits(s, &end, &v);

	if (ret)
		return ret;
	if (*end) {
		mult = size_multiplier(*end);
		if (!mult)
			return -EINVAL;
		end++;
		if (!strcmp(end, "iB") && isupper((unsigned char)end[-1]))
			end += 2;
		else if (!strcmp(end, "B"))
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out_bytes = v * mult;
	return 0;
}
