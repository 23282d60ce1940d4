// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the codec of names and link values (libmars/names.c).
 * Every parser gets the input as (buffer, length) with no NUL after it,
 * so AddressSanitizer catches a read past the length.  What a parser
 * accepts must format back to the very same bytes: the grammar has one
 * spelling per value, which is what lets the layers compare names as
 * strings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mars/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const char *in, size_t len, const char *out, int n)
{
	if (n < 0 || (size_t)n != len || memcmp(in, out, len) != 0)
		abort();
}

static void
check_names(const char *s, size_t len)
{
	char out[MARS_VERSION_MAX + 1];
	struct mars_logname ln;

	if (mars_logname_parse(s, len, &ln) == 0)
		same(s, len, out, mars_logname_format(out, sizeof(out), ln.nr, ln.host));
	if (mars_vername_parse(s, len, &ln) == 0)
		same(s, len, out, mars_vername_format(out, sizeof(out), ln.nr, ln.host));
	if (mars_name_check(s, len) == 0 && (len == 0 || len > MARS_NAME_MAX))
		abort();
}

static void
check_values(const char *s, size_t len)
{
	char out[MARS_VERSION_MAX + 1];
	struct mars_replaylink r;
	struct mars_version v;

	if (mars_replaylink_parse(s, len, &r) == 0)
		same(s, len, out, mars_replaylink_format(out, sizeof(out), &r));
	if (mars_version_parse(s, len, &v) == 0) {
		if (v.self_bytes + 1 + v.prev_bytes != len)
			abort();
		/* The body is everything after the digest and its comma. */
		same(s + MARS_DIGEST_HEX + 1, len - MARS_DIGEST_HEX - 1, out,
		     mars_version_body_format(out, sizeof(out), v.self.log.nr, v.self.log.host,
					      v.self.len_bytes, s + v.self_bytes + 1,
					      v.prev_bytes));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes: no NUL for a parser to lean on. */
	char *s = malloc(size ? size : 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	check_names(s, size);
	check_values(s, size);
	free(s);
	return 0;
}
