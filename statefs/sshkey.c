/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The value form "ssh key" (docs/state-tree.md section 2.2): a host's
 * OpenSSH public key as a tree value, TYPE:BLOB, with BLOB in the URL-safe
 * base64 alphabet so that the value holds no '/'.
 *
 * Peers put these values into our tree, and clusterd writes them into
 * sshd's authorized_keys (clusterd/gossip/keys.c).  So the form is
 * checked strictly, here where every local write and every merge passes:
 * the type from an allow-list, the blob's alphabet and padding, and the
 * type field inside the blob, which every OpenSSH key starts with.  What
 * reaches authorized_keys is then one known word, one blank and base64,
 * never an option or a second line.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "statefs/statefs.h"

static const char *const key_types[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"ssh-rsa",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	NULL,
};

#define BLOB_MAX	((STATEFS_VALUE_MAX / 4) * 3)	/* decoded bytes at most */

/* The type word of @len bytes at @s, if allowed. */
static const char *
allowed_type(const char *s, size_t len)
{
	for (const char *const *t = key_types; *t; t++)
		if (strlen(*t) == len && memcmp(*t, s, len) == 0)
			return *t;
	return NULL;
}

/* 0..63 for a character of the URL-safe alphabet (@url) or the standard
 * one, else -1. */
static int
b64_digit(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decode @len base64 characters (a multiple of 4, '=' only as the last
 * one or two) into @out.  Returns the byte count or -EBADMSG. */
static int
b64_decode(const char *s, size_t len, int url, uint8_t *out, size_t size)
{
	size_t n = 0;

	if (len == 0 || len % 4)
		return -EBADMSG;
	for (size_t i = 0; i < len; i += 4) {
		int d[4], pad = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == len && k >= 2 &&
			    (k == 3 || s[i + 3] == '=')) {
				d[k] = 0;
				pad++;
				continue;
			}
			d[k] = b64_digit(s[i + k], url);
			if (d[k] < 0 || pad)
				return -EBADMSG;
		}
		if (n + 3 - (size_t)pad > size)
			return -EBADMSG;
		out[n++] = (uint8_t)(d[0] << 2 | d[1] >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)(d[1] << 4 | d[2] >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)(d[2] << 6 | d[3]);
	}
	return (int)n;
}

/* TYPE and base64 BLOB (@url: which alphabet): allowed type, blob that
 * decodes and starts with the string TYPE. */
static int
key_check(const char *type, size_t tlen, const char *blob, size_t blen, int url)
{
	uint8_t raw[BLOB_MAX];
	int n;

	if (!allowed_type(type, tlen))
		return -EBADMSG;
	n = b64_decode(blob, blen, url, raw, sizeof(raw));
	if (n < 4)
		return -EBADMSG;
	if (((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3]) !=
	    tlen || (size_t)n < 4 + tlen || memcmp(raw + 4, type, tlen) != 0)
		return -EBADMSG;
	return 0;
}

int
statefs_sshkey_check(const char *value)
{
	const char *colon = strchr(value, ':');
	size_t len = strlen(value);

	if (!colon || len > STATEFS_VALUE_MAX)
		return -EBADMSG;
	return key_check(value, (size_t)(colon - value), colon + 1,
			 len - (size_t)(colon - value) - 1, 1);
}

/* Copy @len bytes of @s to @out, swapping the base64 alphabets. */
static void
swap_alphabet(char *out, const char *s, size_t len, int to_url)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (to_url)
			c = c == '+' ? '-' : c == '/' ? '_' : c;
		else
			c = c == '-' ? '+' : c == '_' ? '/' : c;
		out[i] = c;
	}
}

/* Join TYPE, @sep and the blob (alphabet swapped) into @out. */
static int
join_key(const char *type, size_t tlen, char sep, const char *blob, size_t blen,
	 int to_url, char *out, size_t size)
{
	if (tlen + 1 + blen + 1 > size)
		return -ENOSPC;
	memcpy(out, type, tlen);
	out[tlen] = sep;
	swap_alphabet(out + tlen + 1, blob, blen, to_url);
	out[tlen + 1 + blen] = '\0';
	return 0;
}

int
statefs_sshkey_from_openssh(const char *line, size_t len, char *value, size_t size)
{
	const char *sp = memchr(line, ' ', len), *blob, *end;

	if (!sp)
		return -EBADMSG;
	blob = sp + 1;
	end = memchr(blob, ' ', len - (size_t)(blob - line));
	if (!end)
		end = line + len;
	while (end > blob && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (key_check(line, (size_t)(sp - line), blob, (size_t)(end - blob), 0) < 0)
		return -EBADMSG;
	if ((size_t)(end - line) > STATEFS_VALUE_MAX)
		return -EBADMSG;
	return join_key(line, (size_t)(sp - line), ':', blob, (size_t)(end - blob), 1,
			value, size);
}

int
statefs_sshkey_to_openssh(const char *value, char *line, size_t size)
{
	const char *colon = strchr(value, ':');

	if (statefs_sshkey_check(value) < 0)
		return -EBADMSG;
	return join_key(value, (size_t)(colon - value), ' ', colon + 1, strlen(colon + 1), 0,
			line, size);
}
