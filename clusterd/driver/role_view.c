/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * role_view_load(): the reading half of roles.h.  Everything a role
 * decision looks at, read from the state tree in one go, so that
 * roles_decide() stays pure.
 */
#include "clusterd/driver/roles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct view_load {
	struct statefs *sf;
	struct role_view *v;
};

static int
get(struct statefs *sf, const char *res, const char *key, char *buf, size_t size,
    uint64_t *stamp)
{
	char path[STATEFS_PATH_MAX + 1];

	if (statefs_resource_keyf(path, sizeof(path), res, "%s", key) < 0)
		return -ENAMETOOLONG;
	return statefs_get(sf, path, buf, size, stamp);
}

static uint64_t
get_u64(struct statefs *sf, const char *res, const char *key, uint64_t dflt)
{
	char v[32], *end;
	uint64_t n;

	if (get(sf, res, key, v, sizeof(v), NULL) < 0)
		return dflt;
	n = strtoull(v, &end, 10);
	return *end || end == v ? dflt : n;
}

/* One actual-X directory: X's claim to the primary role. */
static int
claim_visit(const char *host, void *arg)
{
	struct view_load *l = arg;
	struct role_view *v = l->v;
	struct role_claim *c;
	char key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1];
	struct mars_replaylink closed;

	if (v->n_claims >= ROLE_MAX_HOSTS || strlen(host) > REPL_NAME_MAX)
		return 0;
	snprintf(key, sizeof(key), "actual-%s/is-primary", host);
	if (get(l->sf, v->res, key, val, sizeof(val), NULL) < 0)
		return 0;
	c = &v->claims[v->n_claims++];
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->is_primary = !strcmp(val, "1");
	snprintf(key, sizeof(key), "actual-%s/closed", host);
	/* "log-N-HOST,LEN,0": the replay link's grammar, LEN in its place. */
	if (get(l->sf, v->res, key, val, sizeof(val), NULL) >= 0 &&
	    mars_replaylink_parse(val, strlen(val), &closed) == 0 &&
	    !strcmp(closed.log.host, host)) {
		c->closed_nr = closed.log.nr;
		c->closed_len = closed.pos_bytes;
		c->has_closed = 1;
	}
	return 0;
}

int
role_view_load(struct statefs *sf, const char *res, const char *host, struct role_view *v)
{
	struct view_load l = { .sf = sf, .v = v };
	char key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1], dir[STATEFS_PATH_MAX + 1];
	int ret;

	memset(v, 0, sizeof(*v));
	v->host = host;
	v->res = res;
	snprintf(key, sizeof(key), "data-%s", host);
	v->member = get(sf, res, key, v->disk, sizeof(v->disk), NULL) >= 0;
	v->size_bytes = get_u64(sf, res, "size", 0);
	snprintf(key, sizeof(key), "todo-%s/attach", host);
	v->sw_attach = get_u64(sf, res, key, 0) == 1;
	snprintf(key, sizeof(key), "todo-%s/connect", host);
	v->sw_connect = get_u64(sf, res, key, 0) == 1;
	snprintf(key, sizeof(key), "todo-%s/allow-replay", host);
	v->sw_replay = get_u64(sf, res, key, 0) == 1;
	snprintf(key, sizeof(key), "todo-%s/sync", host);
	v->sw_sync = get_u64(sf, res, key, 0) == 1;
	snprintf(key, sizeof(key), "syncstatus-%s", host);
	v->syncstatus = get_u64(sf, res, key, 0);
	snprintf(key, sizeof(key), "syncpos-%s", host);
	if (get(sf, res, key, val, sizeof(val), NULL) >= 0)
		repl_replay_parse(val, &v->syncpos);
	snprintf(key, sizeof(key), "todo-%s/rotate", host);
	v->rotate_req = get_u64(sf, res, key, 0);
	snprintf(key, sizeof(key), "local-%s/rotated", host);
	v->rotate_done = get_u64(sf, res, key, 0);
	if (get(sf, res, "primary", v->primary, sizeof(v->primary), NULL) < 0 ||
	    !strcmp(v->primary, STATEFS_NONE))
		v->primary[0] = '\0';
	snprintf(key, sizeof(key), "actual-%s/open-count", host);
	v->open_count = get_u64(sf, res, key, 0);
	snprintf(key, sizeof(key), "replay-%s", host);
	if (get(sf, res, key, val, sizeof(val), NULL) >= 0 && repl_replay_parse(val, &v->replay) == 0)
		v->replay.valid = 1;
	ret = repl_history_load(sf, res, &v->hist);
	if (ret)
		return ret;
	statefs_resource_key(dir, sizeof(dir), res);
	ret = statefs_list_dirs(sf, dir, "actual-", claim_visit, &l);
	return ret == -ENOENT ? 0 : ret;
}

void
role_view_release(struct role_view *v)
{
	repl_history_release(&v->hist);
}
