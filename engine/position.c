/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The applied position, kept in the state tree as the key
 * resource-<res>/replay-<host> with the value
 * "log-NNNNNNNNN-ORIGIN,<pos>,<len>": everything in that logfile before
 * <pos> is on the disk and synced.  Recovery and replay restart from it,
 * so it only moves after the disk was synced.
 *
 * All access goes through statefs (atomic link replacement, node-wide
 * Lamport clock).  The tree is opened with STATEFS_OPEN_ANY: the engine
 * only ever writes its own replay key and does not judge whether the root
 * was made by create-cluster; that is marsadm's and clusterd's business.
 * The tree is opened per call: positions move about once a second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "engine/internal.h"
#include "engine/tree.h"
#include "statefs/statefs.h"

static int
eng_pos_parse(const char *value, struct eng_pos *p)
{
	char buf[MARS_ENGINE_NAME_MAX + 64], *c1, *c2;

	if (strlen(value) >= sizeof(buf))
		return -EBADMSG;
	strcpy(buf, value);
	c1 = strchr(buf, ',');
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2)
		return -EBADMSG;
	*c1 = *c2 = '\0';
	if (strlen(buf) > MARS_ENGINE_NAME_MAX ||
	    eng_log_parse(buf, &p->nr, p->origin, sizeof(p->origin)) ||
	    parse_u64(c1 + 1, &p->pos) || parse_u64(c2 + 1, &p->len))
		return -EBADMSG;
	strcpy(p->logfile, buf);
	return 0;
}

static int
eng_pos_key(char *key, size_t size, const char *res, const char *host)
{
	int n = snprintf(key, size, "resource-%s/replay-%s", res, host);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
eng_pos_read(const char *root, const char *res, const char *host, struct eng_pos *p)
{
	char key[STATEFS_PATH_MAX + 1], value[STATEFS_VALUE_MAX + 1];
	struct statefs sf;
	int ret;

	ret = eng_pos_key(key, sizeof(key), res, host);
	if (ret)
		return ret;
	ret = statefs_open(&sf, root, host, STATEFS_OPEN_ANY);
	if (ret)
		return ret;
	ret = statefs_get(&sf, key, value, sizeof(value), NULL);
	statefs_close(&sf);
	if (ret < 0)
		return ret;
	return eng_pos_parse(value, p);
}

int
eng_pos_write(const char *root, const char *res, const char *host,
	      const char *logfile, uint64_t pos, uint64_t len)
{
	char key[STATEFS_NAME_MAX + 16], value[MARS_ENGINE_NAME_MAX + 64];
	const char *kv[2] = { key, value };

	if ((size_t)snprintf(key, sizeof(key), "replay-%s", host) >= sizeof(key))
		return -ENAMETOOLONG;
	snprintf(value, sizeof(value), "%s,%" PRIu64 ",%" PRIu64, logfile, pos, len);
	return eng_tree_set(root, res, host, kv, 1);
}
