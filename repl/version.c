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
 * keeps patched.  The grammar is the shared codec's (libmars/names.c);
 * this file adds what needs SHA-256: making and verifying the digest.
 */
#include "repl/repl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

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

/* The fields of a section the shared codec parsed, copied out. */
static void
section_copy(const struct mars_section *sec, uint64_t *nr, char *origin, uint64_t *len_bytes)
{
	*nr = sec->log.nr;
	memcpy(origin, sec->log.host, sizeof(sec->log.host));
	*len_bytes = sec->len_bytes;
}

int
repl_version_parse(const char *value, struct repl_version *v)
{
	struct mars_version mv;

	memset(v, 0, sizeof(*v));
	if (mars_version_parse(value, strlen(value), &mv) < 0)
		return -EINVAL;
	memcpy(v->digest, mv.self.digest, sizeof(v->digest));
	section_copy(&mv.self, &v->nr, v->origin, &v->len_bytes);
	memcpy(v->section, value, mv.self_bytes);
	v->section[mv.self_bytes] = '\0';
	memcpy(v->prev, value + mv.self_bytes + 1, mv.prev_bytes + 1);
	v->has_prev = mv.has_prev;
	if (v->has_prev)
		section_copy(&mv.prev, &v->prev_nr, v->prev_origin, &v->prev_len_bytes);
	return 0;
}

int
repl_version_make(char *buf, size_t size, uint64_t nr, const char *origin,
		  uint64_t len_bytes, const char *prev)
{
	char body[MARS_VERSION_MAX + 1], digest[REPL_DIGEST_HEX + 1];
	int n, ret;

	if (!prev)
		prev = "";
	n = mars_version_body_format(body, sizeof(body), nr, origin, len_bytes, prev,
				     strnlen(prev, MARS_SECTION_MAX + 1));
	if (n < 0)
		return n;
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
	char again[MARS_VERSION_MAX + 1];
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
