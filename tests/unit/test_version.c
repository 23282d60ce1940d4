/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Version links (repl/version.c): the anchor, the hash chain against a
 * digest computed outside (sha256sum), parsing, and refusal of malformed
 * or tampered links.
 */
#include <errno.h>
#include <string.h>

#include "repl/repl.h"
#include "tap.h"

#define Z "0000000000000000000000000000000000000000000000000000000000000000"
/* printf %s 'log-000000001-alpha,0:Z,log-000000000-alpha,0' | sha256sum */
#define D1 "c1ff121f2cfe2c62eebe4031e3eb13a19b39a31afee67af6424449dd17135153"

static char anchor[1024], first[1024];

static void
test_anchor_and_first(void)
{
	int n = repl_version_make(anchor, sizeof(anchor), 0, "alpha", 0, NULL);

	tap_ok(n > 0 && !strcmp(anchor, Z ",log-000000000-alpha,0:"), "anchor: zero digest, no predecessor");
	tap_ok(repl_version_verify(anchor) == 0, "anchor verifies");
	repl_version_make(first, sizeof(first), 1, "alpha", 0, Z ",log-000000000-alpha,0");
	tap_ok(!strcmp(first, D1 ",log-000000001-alpha,0:" Z ",log-000000000-alpha,0"),
	       "first link: digest is sha256 of the text after the first comma");
	tap_ok(repl_version_verify(first) == 0, "first link verifies");
}

static void
test_parse(void)
{
	struct repl_version v, w;
	char next[1024];

	tap_ok(repl_version_parse(first, &v) == 0 && v.nr == 1 && !strcmp(v.origin, "alpha") &&
	       v.len_bytes == 0 && v.has_prev && v.prev_nr == 0 && !strcmp(v.digest, D1),
	       "parse: number, origin, length, predecessor");
	repl_version_make(next, sizeof(next), 2, "beta", 4096, v.section);
	tap_ok(repl_version_parse(next, &w) == 0 && repl_version_extends(&v, &w),
	       "a link made from a section extends it");
	tap_ok(repl_version_parse(anchor, &w) == 0 && !w.has_prev && !repl_version_extends(&v, &w),
	       "an anchor extends nothing");
	tap_ok(repl_version_parse(Z ",log-1-alpha,0:", &w) == -EINVAL, "too few digits refused");
	tap_ok(repl_version_parse(Z ",log-000000001-Alpha,0:", &w) == -EINVAL, "bad host refused");
	tap_ok(repl_version_parse(Z ",log-000000001-alpha,0", &w) == -EINVAL, "missing ':' refused");
	tap_ok(repl_version_parse(Z ",log-000000001-alpha,0::", &w) == -EINVAL, "two ':' refused");
	tap_ok(repl_version_parse("0000,log-000000001-alpha,0:", &w) == -EINVAL, "short digest refused");
	tap_ok(repl_version_parse(Z ",log-000000001-alpha,x:", &w) == -EINVAL, "bad length refused");
	tap_ok(repl_version_parse(Z ",log-000000001-alpha,1:junk", &w) == -EINVAL,
	       "bad predecessor refused");
}

static void
test_tamper_and_relength(void)
{
	char t[1024], r[1024], r2[1024];

	strcpy(t, first);
	t[strlen(D1) + 21] = '7';	/* the length 0 -> 7 */
	tap_ok(repl_version_verify(t) == -EBADMSG, "changed length, old digest: -EBADMSG");
	tap_ok(repl_version_relength(r, sizeof(r), first, 7) > 0 && !strcmp(r + 64, t + 64) &&
	       repl_version_verify(r) == 0 && strncmp(r, first, 64) != 0,
	       "relength recomputes the digest");
	repl_version_relength(r2, sizeof(r2), r, 0);
	tap_ok(!strcmp(r2, first), "relength back gives the same link");
	tap_ok(repl_version_make(r, sizeof(r), 1, "none", 0, NULL) == -EINVAL,
	       "reserved origin refused");
	tap_ok(repl_version_make(r, 40, 1, "alpha", 0, NULL) == -ENAMETOOLONG, "small buffer");
}

int
main(void)
{
	test_anchor_and_first();
	test_parse();
	test_tamper_and_relength();
	return tap_done();
}
