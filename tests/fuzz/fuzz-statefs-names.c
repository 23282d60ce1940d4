// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the name grammar of the state tree (statefs/names.c)
 * and gossip's own refusals (gossip_entry_policy), which together decide
 * what a peer may name.  The input is "PATH\0VALUE\0ORIGIN", any bytes.
 *
 * Invariants checked:
 *  - an accepted host name, key path or value has the shape
 *    docs/state-tree.md gives it, checked here independently of the
 *    tables in names.c;
 *  - an entry any check refuses is refused by statefs_merge() with that
 *    same code and leaves the tree as it was: nothing at the path, no
 *    entry outside the key grammar, nothing outside the root;
 *  - an accepted entry round-trips: merged as written by its owner, the
 *    tree hands back the same value;
 *  - log_escape() turns any peer string into bounded printable ASCII.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/gossip.h"
#include "common/log.h"
#include "fuzz_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX	2048	/* longer fields are cut: every bound is far below */

static struct fuzz_tree tree;
static int tree_ready;

/* Take the next NUL-terminated field of the input into @out. */
static void
next_field(const uint8_t **p, const uint8_t *end, char *out)
{
	size_t n = 0;

	while (*p < end && **p != '\0') {
		if (n < FIELD_MAX)
			out[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;	/* the separator */
	out[n] = '\0';
}

/* [a-z][a-z0-9-]{0,62}: what every accepted host or resource name is. */
static int
name_shape_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > STATEFS_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* Relative, 1..4 components of [A-Za-z0-9._-], none empty, private, "." or "..". */
static int
path_shape_ok(const char *path)
{
	const char *p = path, *slash;
	size_t len = strlen(path), clen;
	int n = 0;

	if (len == 0 || len > STATEFS_PATH_MAX)
		return 0;
	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != len)
		return 0;
	for (;;) {
		slash = strchr(p, '/');
		clen = slash ? (size_t)(slash - p) : strlen(p);
		if (clen == 0 || clen > STATEFS_KEY_MAX || p[0] == '.')
			return 0;
		if (++n > 4)
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

static int
value_shape_ok(const struct statefs_keyinfo *ki, const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || len > STATEFS_VALUE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return 0;
	if (strcmp(value, STATEFS_TOMBSTONE) == 0)
		return 1;
	if (ki->value_form != STATEFS_V_PATH)
		return strchr(value, '/') == NULL;
	return value[0] == '/' && strstr(value, "/../") == NULL &&
	       !(len >= 3 && strcmp(value + len - 3, "/..") == 0);
}

static void
check_names(const char *path, const char *origin, struct statefs_keyinfo *ki, int kret)
{
	const char *why = NULL;
	int hret = statefs_name_check(STATEFS_NAME_HOST, origin, &why);

	FUZZ_CHECK(hret == 0 || hret == -EINVAL);
	FUZZ_CHECK((hret == 0) == (why == NULL));
	FUZZ_CHECK(hret == statefs_name_check(STATEFS_NAME_RESOURCE, origin, NULL));
	if (hret == 0)
		FUZZ_CHECK(name_shape_ok(origin));
	FUZZ_CHECK(kret == 0 || kret == -EINVAL || kret == -EACCES || kret == -EDOM);
	if (kret != 0)
		return;
	FUZZ_CHECK(path_shape_ok(path));
	FUZZ_CHECK(ki->owner[0] == '\0' || (name_shape_ok(ki->owner) && strstr(path, ki->owner)));
	FUZZ_CHECK(ki->resource[0] == '\0' || name_shape_ok(ki->resource));
	if (ki->resource[0]) {
		FUZZ_CHECK(strncmp(path, "resource-", 9) == 0);
		FUZZ_CHECK(strncmp(path + 9, ki->resource, strlen(ki->resource)) == 0);
		FUZZ_CHECK(path[9 + strlen(ki->resource)] == '/');
	}
}

/* What gossip refuses must be refused for the reason it gives. */
static void
check_policy(const char *path, const char *value, int pret)
{
	unsigned char addr[sizeof(struct in6_addr)];

	FUZZ_CHECK(pret == 0 || pret == -EPERM || pret == -EDOM || pret == -EXDEV);
	if (pret == 0 && strncmp(path, "ips/", 4) == 0 && strcmp(value, STATEFS_TOMBSTONE) != 0)
		FUZZ_CHECK(inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1);
	if (pret == 0 && strcmp(path, "uuid") == 0)
		FUZZ_CHECK(strcmp(value, FUZZ_TREE_UUID) == 0);
}

static void
check_escape(const char *s)
{
	static const size_t lens[] = { 1, 2, 5, 17, LOG_ESC_BYTES };
	char buf[LOG_ESC_BYTES];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		const char *out = log_escape(buf, lens[i], s);
		size_t len = strlen(out);

		FUZZ_CHECK(out == buf && len < lens[i]);
		for (size_t j = 0; j < len; j++)
			FUZZ_CHECK(out[j] >= 0x20 && out[j] < 0x7f);
	}
}

/* The merge agrees with the checks; a refusal writes nothing. */
static void
check_merge(const char *path, const char *value, const char *origin, int expect)
{
	struct statefs_entry before, after;
	char got[STATEFS_VALUE_MAX + 1];
	uint64_t stamp;
	int ret, had = path_shape_ok(path) ? statefs_read(tree.sf, path, &before) : -EINVAL;

	FUZZ_CHECK(statefs_clock_tick(tree.sf, &stamp) == 0);
	ret = statefs_merge(tree.sf, path, value, stamp, origin);
	if (expect < 0) {
		FUZZ_CHECK(ret == expect);
		if (had != -EINVAL)
			FUZZ_CHECK(statefs_read(tree.sf, path, &after) == had);
		if (had == 0)
			FUZZ_CHECK(strcmp(after.value, before.value) == 0 &&
			      after.stamp_ns == before.stamp_ns);
	} else if (strcmp(value, STATEFS_TOMBSTONE) == 0) {
		FUZZ_CHECK(ret == 0 || ret == 1 || ret == -EEXIST);
	} else if (ret != -EEXIST) {	/* EEXIST: the planted link is in the way */
		FUZZ_CHECK(ret == 1);
		FUZZ_CHECK(statefs_get(tree.sf, path, got, sizeof(got), NULL) == (int)strlen(value));
		FUZZ_CHECK(strcmp(got, value) == 0);
	}
	fuzz_tree_check(&tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[FIELD_MAX + 1], value[FIELD_MAX + 1], origin[FIELD_MAX + 1];
	const uint8_t *p = data, *end = data + size;
	struct statefs_keyinfo ki;
	int kret, vret, pret, expect;

	if (!tree_ready) {
		log_init("fuzz", LOG_LVL_ERR);
		fuzz_tree_init(&tree);
		tree_ready = 1;
	}
	next_field(&p, end, path);
	next_field(&p, end, value);
	next_field(&p, end, origin);

	kret = statefs_key_check(path, &ki);
	FUZZ_CHECK(kret == statefs_key_check(path, NULL));
	check_names(path, origin, &ki, kret);
	vret = kret == 0 ? statefs_value_check(&ki, value) : 0;
	FUZZ_CHECK(vret == 0 || vret == -E2BIG || vret == -EILSEQ || vret == -EXDEV ||
		   vret == -EBADMSG);
	/* Names and paths have exactly this shape; the stricter forms
	 * (decimals, links, ...) accept a subset of it. */
	if (kret == 0 && (ki.value_form == STATEFS_V_NAME || ki.value_form == STATEFS_V_PATH))
		FUZZ_CHECK((vret == 0) == value_shape_ok(&ki, value));
	else if (kret == 0)
		FUZZ_CHECK(vret != 0 || value_shape_ok(&ki, value));
	pret = gossip_entry_policy(FUZZ_TREE_UUID, path, value);
	check_policy(path, value, pret);
	check_escape(path);
	check_escape(value);
	FUZZ_CHECK(statefs_refusal_str(kret) && statefs_refusal_str(vret));

	/* The order statefs_merge() checks in: origin, path, value, owner. */
	if (statefs_name_check(STATEFS_NAME_HOST, origin, NULL) < 0)
		expect = -ESRCH;
	else if (kret < 0 || vret < 0)
		expect = kret < 0 ? kret : vret;
	else if (ki.owner[0] && strcmp(ki.owner, origin) != 0 &&
		 strcmp(value, STATEFS_TOMBSTONE) != 0)
		expect = -EPERM;
	else
		expect = 0;
	check_merge(path, value, origin, expect);
	fuzz_tree_reset(&tree);
	return 0;
}
