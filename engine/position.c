/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The applied position, kept in the state tree as the key
 * resource-<res>/replay-<host> with the value
 * "log-NNNNNNNNN-ORIGIN,<pos>,<len>" (the shared codec's replay link,
 * libmars/names.c): everything in that logfile before <pos> is on the
 * disk and synced.  Recovery and replay restart from it,
 * so it only moves after the disk was synced.
 *
 * All access goes through statefs (atomic link replacement, node-wide
 * Lamport clock).  The tree is opened with STATEFS_OPEN_ANY: the engine
 * only ever writes its own replay key and does not judge whether the root
 * was made by create-cluster; that is marsadm's and clusterd's business.
 * The tree is opened per call: positions move about once a second.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/tree.h"
#include "mars/names.h"
#include "statefs/statefs.h"

static int
eng_pos_parse(const char *value, struct eng_pos *p)
{
	struct mars_replaylink r;

	if (mars_replaylink_parse(value, strlen(value), &r) < 0 || r.log.nr == 0 ||
	    mars_logname_format(p->logfile, sizeof(p->logfile), r.log.nr, r.log.host) < 0)
		return -EBADMSG;
	p->nr = r.log.nr;
	memcpy(p->origin, r.log.host, sizeof(p->origin));
	p->pos = r.pos_bytes;
	p->len = r.len_bytes;
	return 0;
}

static int
eng_pos_key(char *key, size_t size, const char *res, const char *host)
{
	return statefs_resource_keyf(key, size, res, "replay-%s", host);
}

int
eng_pos_read(const char *root, const char *res, const char *host, struct eng_pos *p)
{
	char key[STATEFS_PATH_MAX + 1], value[STATEFS_VALUE_MAX + 1];
	struct statefs *sf = NULL;
	int ret;

	ret = eng_pos_key(key, sizeof(key), res, host);
	if (ret)
		return ret;
	ret = statefs_open(&sf, root, host, STATEFS_OPEN_ANY);
	if (ret)
		return ret;
	ret = statefs_get(sf, key, value, sizeof(value), NULL);
	statefs_close(&sf);
	if (ret < 0)
		return ret;
	return eng_pos_parse(value, p);
}

int
eng_pos_write(const char *root, const char *res, const char *host,
	      const char *logfile, uint64_t pos, uint64_t len)
{
	char key[STATEFS_NAME_MAX + 16], value[MARS_REPLAY_MAX + 1];
	const char *kv[2] = { key, value };
	struct mars_replaylink r = { .pos_bytes = pos, .len_bytes = len };
	int ret;

	if ((size_t)snprintf(key, sizeof(key), "replay-%s", host) >= sizeof(key))
		return -ENAMETOOLONG;
	if (mars_logname_parse(logfile, strlen(logfile), &r.log) < 0)
		return -EINVAL;
	ret = mars_replaylink_format(value, sizeof(value), &r);
	if (ret < 0)
		return ret;
	return eng_tree_set(root, res, host, kv, 1);
}
