/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Vouches (docs/state-tree.md 3.8): SHA-256 of a logfile's first LEN
 * bytes, published by the origin or the designated primary under its own
 * name, so that a member that is not the origin can serve the bytes and
 * the receiver can still tell forged records from the origin's.  Records
 * carry only xxh64, which a forger recomputes; version links chain
 * lengths, not content.
 *
 * The hash is kept open per logfile (struct repl_vouch_hash): the driver
 * that publishes and the fetcher that verifies both hash only the bytes
 * that are new since the last time, so a growing logfile is hashed once.
 */
#include "repl/repl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define READ_BYTES	(256U << 10)	/* one pread while hashing a file */

int
repl_vouch_hash_reset(struct repl_vouch_hash *vh, const char *name)
{
	if (!vh->ctx)
		vh->ctx = EVP_MD_CTX_new();
	if (!vh->ctx || !EVP_DigestInit_ex(vh->ctx, EVP_sha256(), NULL))
		return -ENOMEM;
	snprintf(vh->name, sizeof(vh->name), "%s", name);
	vh->len_bytes = 0;
	return 0;
}

int
repl_vouch_hash_update(struct repl_vouch_hash *vh, const void *p, size_t n)
{
	if (!vh->ctx || !EVP_DigestUpdate(vh->ctx, p, n))
		return -EIO;
	vh->len_bytes += n;
	return 0;
}

int
repl_vouch_hash_file(struct repl_vouch_hash *vh, int fd, uint64_t to)
{
	unsigned char *buf = malloc(READ_BYTES);
	int ret = buf ? 0 : -ENOMEM;

	while (ret == 0 && vh->len_bytes < to) {
		uint64_t want = to - vh->len_bytes;
		ssize_t n = pread(fd, buf, want < READ_BYTES ? (size_t)want : READ_BYTES,
				  (off_t)vh->len_bytes);

		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			ret = repl_vouch_hash_update(vh, buf, (size_t)n);
	}
	free(buf);
	return ret;
}

int
repl_vouch_hash_hex(const struct repl_vouch_hash *vh, char hex[REPL_DIGEST_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *copy;
	int ok;

	if (!vh->ctx)
		return -EINVAL;
	copy = EVP_MD_CTX_new();
	/* finish a copy: the open state goes on hashing later bytes */
	ok = copy && EVP_MD_CTX_copy_ex(copy, vh->ctx) && EVP_DigestFinal_ex(copy, md, &md_len) &&
	     md_len * 2 == REPL_DIGEST_HEX;
	EVP_MD_CTX_free(copy);
	if (!ok)
		return -EIO;
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void
repl_vouch_hash_release(struct repl_vouch_hash *vh)
{
	EVP_MD_CTX_free(vh->ctx);
	vh->ctx = NULL;
	vh->name[0] = '\0';
	vh->len_bytes = 0;
}

int
repl_vouch_format(char *buf, size_t size, const struct repl_vouch_hash *vh)
{
	char hex[REPL_DIGEST_HEX + 1];
	int ret = repl_vouch_hash_hex(vh, hex), n;

	if (ret < 0)
		return ret;
	n = snprintf(buf, size, "%s,%s,%llu", hex, vh->name, (unsigned long long)vh->len_bytes);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

int
repl_vouch_get(struct statefs *sf, const char *res, const char *logname, const char *host,
	       struct repl_vouch *out)
{
	char key[STATEFS_PATH_MAX + 1], dname[MARS_DIGNAME_MAX + 1], val[STATEFS_VALUE_MAX + 1];
	char want[MARS_LOGNAME_MAX + 1];
	struct mars_logname ln;
	struct mars_section sec;
	int ret;

	if (mars_logname_parse(logname, strlen(logname), &ln) < 0 ||
	    mars_digname_format(dname, sizeof(dname), ln.nr, host) < 0)
		return -EINVAL;
	ret = statefs_resource_keyf(key, sizeof(key), res, "%s", dname);
	if (ret == 0)
		ret = statefs_get(sf, key, val, sizeof(val), NULL);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	/* a peer's value: parsed whole, and it must name this very logfile */
	if (mars_section_parse(val, strlen(val), &sec) < 0 ||
	    mars_logname_format(want, sizeof(want), sec.log.nr, sec.log.host) < 0 ||
	    strcmp(want, logname) != 0)
		return 0;
	memcpy(out->digest, sec.digest, sizeof(out->digest));
	snprintf(out->host, sizeof(out->host), "%s", host);
	out->len_bytes = sec.len_bytes;
	return 1;
}
