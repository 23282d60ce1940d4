// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the codec of names and link values (libmars/names.c):
 * tables of strings each layer used to read differently, every one with
 * the one answer the codec gives, and round trips format -> parse ->
 * format for each grammar.
 */
#include <stdio.h>
#include <string.h>

#include "mars/names.h"
#include "tap.h"

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H63 "h12345678901234567890123456789012345678901234567890123456789012"
#define H64 H63 "3"

struct name_case {
	const char *s;
	int ok;
	uint32_t nr;
	const char *host;
};

static const struct name_case lognames[] = {
	{ "log-000000001-alpha", 1, 1, "alpha" },
	{ "log-000000000-alpha", 1, 0, "alpha" },	/* the anchor's number */
	{ "log-999999999-node-2", 1, 999999999, "node-2" },
	{ "log-123456789-" H63, 1, 123456789, H63 },
	{ "log-00000001-alpha", 0, 0, NULL },		/* 8 digits */
	{ "log-0000000001-alpha", 0, 0, NULL },		/* 10 digits */
	{ "log-4294967296-alpha", 0, 0, NULL },		/* past u32 */
	{ "log-18446744073709551617-a", 0, 0, NULL },	/* past u64 */
	{ "log-000000001-", 0, 0, NULL },		/* no host */
	{ "log-000000001", 0, 0, NULL },
	{ "log-", 0, 0, NULL },
	{ "", 0, 0, NULL },
	{ "log-000000001-Alpha", 0, 0, NULL },		/* upper case */
	{ "log-000000001-alpha.example", 0, 0, NULL },	/* FQDN */
	{ "log-000000001-1alpha", 0, 0, NULL },		/* digit first */
	{ "log-000000001-al/pha", 0, 0, NULL },
	{ "log-000000001-alpha,0,0", 0, 0, NULL },	/* trailing garbage */
	{ "log-000000001-alpha ", 0, 0, NULL },
	{ "log-000000001-localhost", 0, 0, NULL },	/* reserved word */
	{ "log-000000001-" H64, 0, 0, NULL },		/* host too long */
	{ "log-+00000001-alpha", 0, 0, NULL },
	{ "log- 00000001-alpha", 0, 0, NULL },
	{ "log-000000001_alpha", 0, 0, NULL },
	{ "Log-000000001-alpha", 0, 0, NULL },
	{ "version-000000001-alpha", 0, 0, NULL },
};

static void
test_lognames(void)
{
	struct mars_logname ln;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(lognames) / sizeof(lognames[0]); i++) {
		const struct name_case *c = &lognames[i];

		memset(&ln, 0, sizeof(ln));
		ret = mars_logname_parse(c->s, strlen(c->s), &ln);
		if (c->ok)
			tap_ok(ret == 0 && ln.nr == c->nr && !strcmp(ln.host, c->host),
			       "logfile name '%s' accepted as %u, '%s'", c->s, ln.nr, ln.host);
		else
			tap_ok(ret == -EINVAL, "logfile name '%s' refused (%d)", c->s, ret);
	}
}

static void
test_length_bounds(void)
{
	const char *s = "log-000000012-alpha";
	struct mars_logname ln;
	char buf[64];

	/* The length given is the whole input: a prefix is not a name. */
	tap_ok(mars_logname_parse(s, strlen(s) - 2, &ln) == 0 && !strcmp(ln.host, "alp"),
	       "a shorter length parses only those bytes");
	tap_ok(mars_logname_parse(s, 12, &ln) == -EINVAL, "a cut inside the digits is refused");
	/* No NUL needed: parse a name in the middle of a larger buffer. */
	snprintf(buf, sizeof(buf), "xxlog-000000007-betaxx");
	tap_ok(mars_logname_parse(buf + 2, 18, &ln) == 0 && ln.nr == 7 && !strcmp(ln.host, "beta"),
	       "parsed inside a larger buffer without its NUL");
}

static void
test_vernames(void)
{
	struct mars_logname ln;
	char buf[MARS_VERNAME_MAX + 1];

	tap_ok(mars_vername_parse("version-000000000-alpha", 23, &ln) == 0 && ln.nr == 0,
	       "version name of the anchor accepted");
	tap_ok(mars_vername_parse("version-00000001-alpha", 22, &ln) == -EINVAL,
	       "version name with 8 digits refused");
	tap_ok(mars_vername_parse("version-0000000001-alpha", 24, &ln) == -EINVAL,
	       "version name with 10 digits refused");
	tap_ok(mars_vername_parse("log-000000001-alpha", 19, &ln) == -EINVAL,
	       "a logfile name is no version name");
	tap_ok(mars_vername_format(buf, sizeof(buf), 42, "beta") == 22 &&
	       !strcmp(buf, "version-000000042-beta"), "version name formatted: %s", buf);
}

static void
test_format(void)
{
	char buf[MARS_LOGNAME_MAX + 1], small[19];
	struct mars_logname ln;
	uint32_t nrs[] = { 0, 1, 9, 10, 123456789, MARS_LOGNR_MAX };
	size_t i;
	int n;

	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		n = mars_logname_format(buf, sizeof(buf), nrs[i], "alpha-1");
		tap_ok(n == (int)strlen(buf) && mars_logname_parse(buf, (size_t)n, &ln) == 0 &&
		       ln.nr == nrs[i] && !strcmp(ln.host, "alpha-1"),
		       "round trip of logfile %u: %s", nrs[i], buf);
	}
	tap_ok(mars_logname_format(buf, sizeof(buf), MARS_LOGNR_MAX + 1ULL, "a") == -ERANGE,
	       "number past 999999999 refused (-ERANGE)");
	tap_ok(mars_logname_format(buf, sizeof(buf), 1ULL << 32, "a") == -ERANGE,
	       "number past u32 refused, not truncated");
	tap_ok(mars_logname_format(buf, sizeof(buf), 1, "") == -EINVAL, "empty host refused");
	tap_ok(mars_logname_format(buf, sizeof(buf), 1, "Alpha") == -EINVAL, "bad host refused");
	tap_ok(mars_logname_format(buf, sizeof(buf), 1, H64) == -EINVAL, "64-byte host refused");
	tap_ok(mars_logname_format(buf, sizeof(buf), 1, H63) == MARS_LOGNAME_MAX,
	       "63-byte host gives the longest name, MARS_LOGNAME_MAX bytes");
	n = mars_logname_format(small, sizeof(small), 1, "alpha");
	tap_ok(n == -ENAMETOOLONG && small[0] == '\0', "one byte short: -ENAMETOOLONG, empty");
	tap_ok(mars_logname_format(small, sizeof(small), 1, "alph") == 18,
	       "exactly fitting buffer accepted");
}

struct replay_case {
	const char *s;
	int ok;
	uint64_t pos, len;
};

static const struct replay_case replays[] = {
	{ "log-000000001-alpha,0,0", 1, 0, 0 },
	{ "log-000000003-beta,4096,512", 1, 4096, 512 },
	{ "log-000000003-beta,18446744073709551615,1", 1, 18446744073709551615ULL, 1 },
	{ "log-000000003-beta,18446744073709551616,1", 0, 0, 0 },	/* u64 overflow */
	{ "log-000000003-beta,99999999999999999999,1", 0, 0, 0 },
	{ "log-000000003-beta,000000000000000000001,1", 0, 0, 0 },	/* 21 digits */
	{ "log-000000003-beta,04096,0", 0, 0, 0 },			/* leading zero */
	{ "log-000000003-beta,-1,0", 0, 0, 0 },
	{ "log-000000003-beta,+1,0", 0, 0, 0 },
	{ "log-000000003-beta,1,", 0, 0, 0 },
	{ "log-000000003-beta,,1", 0, 0, 0 },
	{ "log-000000003-beta,1", 0, 0, 0 },				/* missing LEN */
	{ "log-000000003-beta", 0, 0, 0 },
	{ "log-000000003-beta,1,2,3", 0, 0, 0 },			/* trailing */
	{ "log-000000003-beta,1,2 ", 0, 0, 0 },
	{ "log-00000003-beta,1,2", 0, 0, 0 },				/* 8 digits */
	{ "log-0000000003-beta,1,2", 0, 0, 0 },				/* 10 digits */
	{ "log-000000003-be_ta,1,2", 0, 0, 0 },
	{ ",1,2", 0, 0, 0 },
};

static void
test_replay(void)
{
	char buf[MARS_REPLAY_MAX + 1];
	struct mars_replaylink r;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(replays) / sizeof(replays[0]); i++) {
		const struct replay_case *c = &replays[i];

		ret = mars_replaylink_parse(c->s, strlen(c->s), &r);
		if (!c->ok) {
			tap_ok(ret == -EINVAL, "replay value '%s' refused", c->s);
			continue;
		}
		tap_ok(ret == 0 && r.pos_bytes == c->pos && r.len_bytes == c->len,
		       "replay value '%s' accepted", c->s);
		tap_ok(mars_replaylink_format(buf, sizeof(buf), &r) == (int)strlen(c->s) &&
		       !strcmp(buf, c->s), "replay value round trip: %s", buf);
	}
	r.log.nr = MARS_LOGNR_MAX;
	snprintf(r.log.host, sizeof(r.log.host), "%s", H63);
	r.pos_bytes = r.len_bytes = 18446744073709551615ULL;
	tap_ok(mars_replaylink_format(buf, sizeof(buf), &r) == MARS_REPLAY_MAX,
	       "longest replay value is MARS_REPLAY_MAX bytes");
	tap_ok(mars_replaylink_parse(buf, strlen(buf), &r) == 0, "and parses");
}

static void
test_version(void)
{
	const char *anchor = Z64 ",log-000000000-alpha,0:";
	const char *link = D64 ",log-000000001-alpha,4096:" Z64 ",log-000000000-alpha,0";
	char body[MARS_VERSION_MAX + 1];
	struct mars_version v;
	int n;

	tap_ok(mars_version_parse(anchor, strlen(anchor), &v) == 0 && !v.has_prev &&
	       v.self.log.nr == 0 && v.self_bytes == strlen(anchor) - 1 && v.prev_bytes == 0,
	       "anchor link parsed");
	tap_ok(mars_version_parse(link, strlen(link), &v) == 0 && v.has_prev &&
	       v.self.log.nr == 1 && v.self.len_bytes == 4096 && !strcmp(v.self.digest, D64) &&
	       v.prev.log.nr == 0 && !strcmp(v.prev.log.host, "alpha") &&
	       v.self_bytes + 1 + v.prev_bytes == strlen(link), "chained link parsed");
	n = mars_version_body_format(body, sizeof(body), 1, "alpha", 4096,
				     link + v.self_bytes + 1, v.prev_bytes);
	tap_ok(n > 0 && !strcmp(body, link + MARS_DIGEST_HEX + 1),
	       "body formatted back: %s", body);

	tap_ok(mars_version_parse(Z64 ",log-000000000-alpha,0", 86, &v) == -EINVAL,
	       "no colon refused");
	tap_ok(mars_version_parse(Z64 ",log-000000000-alpha,0::", 88, &v) == -EINVAL,
	       "two colons refused");
	tap_ok(mars_version_parse(Z64 ",log-00000000-alpha,0:", 86, &v) == -EINVAL,
	       "8-digit logfile number refused");
	tap_ok(mars_version_parse(Z64 ",log-0000000000-alpha,0:", 88, &v) == -EINVAL,
	       "10-digit logfile number refused");
	tap_ok(mars_version_parse("ABCDEF" Z64 ",log-000000000-alpha,0:", 93, &v) == -EINVAL,
	       "digest of 70 characters refused");
	tap_ok(mars_version_parse(D64 ",log-000000001-alpha,1:" Z64 ",log-000000000-alpha",
				  strlen(D64 ",log-000000001-alpha,1:" Z64 ",log-000000000-alpha"),
				  &v) == -EINVAL, "PREV without LEN refused");
	tap_ok(mars_version_body_format(body, sizeof(body), 1, "alpha", 0, "junk", 4) == -EINVAL,
	       "body with a malformed PREV refused");
	tap_ok(mars_version_body_format(body, sizeof(body), 0, "alpha", 0, "", 0) > 0 &&
	       !strcmp(body, "log-000000000-alpha,0:"), "anchor body: %s", body);
	{
		char upper[] = Z64 ",log-000000000-alpha,0:";

		upper[3] = 'A';
		tap_ok(mars_version_parse(upper, strlen(upper), &v) == -EINVAL,
		       "upper-case hex digest refused");
	}
}

static void
test_host_names(void)
{
	char h64[] = H64;

	tap_ok(mars_name_fault("alpha-1", 7) == MARS_NAME_OK, "alpha-1 is a name");
	tap_ok(mars_name_fault("", 0) == MARS_NAME_EMPTY, "empty name");
	tap_ok(mars_name_fault(h64, 64) == MARS_NAME_TOO_LONG, "64 bytes too long");
	tap_ok(mars_name_fault(h64, 63) == MARS_NAME_OK, "63 bytes fine");
	tap_ok(mars_name_fault("-a", 2) == MARS_NAME_BAD_FIRST, "dash first");
	tap_ok(mars_name_fault("a.b", 3) == MARS_NAME_BAD_CHAR, "dot inside");
	tap_ok(mars_name_fault("global", 6) == MARS_NAME_RESERVED, "reserved word");
	tap_ok(mars_name_fault("globals", 7) == MARS_NAME_OK, "a reserved word's extension is fine");
	tap_ok(mars_name_fault("loca", 4) == MARS_NAME_OK, "a reserved word's prefix is fine");
}

int
main(void)
{
	test_lognames();
	test_length_bounds();
	test_vernames();
	test_format();
	test_replay();
	test_version();
	test_host_names();
	return tap_done();
}
