/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Version links: the one implementation of their format
 * (docs/state-tree.md, "Version links").  A link is
 *
 *   DIGEST,log-NNNNNNNNN-ORIGIN,LEN:PREV
 *
 * where PREV is the first section (before ':') of the previous logfile's
 * link, empty for an anchor, and DIGEST is the lowercase hex SHA-256 of
 * the text after the first comma.  Since PREV carries the previous digest,
 * the digest covers the whole path of (logfile, length) pairs: two nodes
 * with the same history write byte-identical links.  The digest comes
 * from OpenSSL's libcrypto (EVP), the one hash implementation Debian
 * keeps patched.
 */
#include "repl/repl.h"
#include "repl/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define NR_DIGITS_MIN	9
#define NR_DIGITS_MAX	19

static const char zeros[REPL_DIGEST_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static int
sha256_hex(const char *text, size_t len, char out[REPL_DIGEST_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;

	if (!EVP_Digest(text, len, md, &md_len, EVP_sha256(), NULL) || md_len * 2 != REPL_DIGEST_HEX)
		return -EIO;
	for (i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
repl_parse_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
is_digest(const char *s, size_t n)
{
	size_t i;

	if (n != REPL_DIGEST_HEX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "D,log-N-ORIGIN,LEN" of exactly @n bytes. */
static int
parse_section(const char *s, size_t n, char *digest, uint64_t *nr, char *origin, uint64_t *len)
{
	const char *p = s + REPL_DIGEST_HEX, *end = s + n, *dash, *comma;
	size_t digits;

	if (n < REPL_DIGEST_HEX + 8 || !is_digest(s, REPL_DIGEST_HEX) || strncmp(p, ",log-", 5))
		return -EINVAL;
	p += 5;
	digits = strspn(p, "0123456789");
	dash = p + digits;
	if (digits < NR_DIGITS_MIN || digits > NR_DIGITS_MAX || dash >= end || *dash != '-' ||
	    repl_parse_digits(p, digits, nr) < 0)
		return -EINVAL;
	comma = memchr(dash, ',', (size_t)(end - dash));
	if (!comma || (size_t)(comma - dash - 1) > REPL_NAME_MAX)
		return -EINVAL;
	memcpy(origin, dash + 1, (size_t)(comma - dash - 1));
	origin[comma - dash - 1] = '\0';
	if (statefs_name_check(STATEFS_NAME_HOST, origin, NULL) < 0 ||
	    repl_parse_digits(comma + 1, (size_t)(end - comma - 1), len) < 0)
		return -EINVAL;
	if (digest) {
		memcpy(digest, s, REPL_DIGEST_HEX);
		digest[REPL_DIGEST_HEX] = '\0';
	}
	return 0;
}

int
repl_version_parse(const char *value, struct repl_version *v)
{
	const char *colon = strchr(value, ':');
	size_t n1, n2;

	memset(v, 0, sizeof(*v));
	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	n1 = (size_t)(colon - value);
	n2 = strlen(colon + 1);
	if (n1 > REPL_SECTION_MAX || n2 > REPL_SECTION_MAX ||
	    parse_section(value, n1, v->digest, &v->nr, v->origin, &v->len_bytes) < 0)
		return -EINVAL;
	memcpy(v->section, value, n1);
	v->section[n1] = '\0';
	memcpy(v->prev, colon + 1, n2 + 1);
	v->has_prev = n2 > 0;
	if (v->has_prev && parse_section(v->prev, n2, NULL, &v->prev_nr, v->prev_origin,
					 &v->prev_len_bytes) < 0)
		return -EINVAL;
	return 0;
}

int
repl_version_make(char *buf, size_t size, uint64_t nr, const char *origin,
		  uint64_t len_bytes, const char *prev)
{
	char body[2 * REPL_SECTION_MAX + 8], digest[REPL_DIGEST_HEX + 1], o[REPL_NAME_MAX + 1];
	uint64_t pnr, plen;
	int n, ret;

	if (!prev)
		prev = "";
	if (statefs_name_check(STATEFS_NAME_HOST, origin, NULL) < 0 ||
	    strlen(prev) > REPL_SECTION_MAX ||
	    (prev[0] && parse_section(prev, strlen(prev), NULL, &pnr, o, &plen) < 0))
		return -EINVAL;
	n = snprintf(body, sizeof(body), "log-%09" PRIu64 "-%s,%" PRIu64 ":%s", nr, origin,
		     len_bytes, prev);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -ENAMETOOLONG;
	if (!prev[0])
		memcpy(digest, zeros, sizeof(zeros));
	else if ((ret = sha256_hex(body, (size_t)n, digest)) < 0)
		return ret;
	n = snprintf(buf, size, "%s,%s", digest, body);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int
repl_version_relength(char *buf, size_t size, const char *value, uint64_t len_bytes)
{
	struct repl_version v;

	if (repl_version_parse(value, &v) < 0)
		return -EINVAL;
	return repl_version_make(buf, size, v.nr, v.origin, len_bytes, v.prev);
}

int
repl_version_verify(const char *value)
{
	char again[2 * REPL_SECTION_MAX + 8];
	struct repl_version v;
	int ret;

	if (repl_version_parse(value, &v) < 0)
		return -EINVAL;
	ret = repl_version_make(again, sizeof(again), v.nr, v.origin, v.len_bytes, v.prev);
	if (ret < 0)
		return ret;
	return strcmp(again, value) ? -EBADMSG : 0;
}

int
repl_version_extends(const struct repl_version *a, const struct repl_version *b)
{
	return b->has_prev && b->nr == a->nr + 1 && !strcmp(b->prev, a->section);
}

int
repl_switchover_check(const char *own_n, const char *origin_n, uint64_t replay_pos_bytes,
		      const char *origin_next)
{
	struct repl_version own, org, next;

	if (repl_version_parse(own_n, &own) < 0 || repl_version_parse(origin_n, &org) < 0 ||
	    repl_version_parse(origin_next, &next) < 0)
		return -EINVAL;
	if (own.nr != org.nr || strcmp(own.origin, org.origin) || strcmp(own.prev, org.prev))
		return -EXDEV;
	if (own.len_bytes > org.len_bytes)
		return -EXDEV;
	if (own.len_bytes < org.len_bytes || replay_pos_bytes < org.len_bytes)
		return -EAGAIN;
	return repl_version_extends(&org, &next) ? 0 : -EXDEV;
}
