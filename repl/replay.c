/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Members and replay links: who stores a resource, how far each has
 * applied its logfiles, and from that which logfiles every member is done
 * with.  Deletion is cluster-wide and all-or-nothing, so one member that
 * stays behind holds the limit for all; the caller names it (the blocker)
 * so that the operator can decide between waiting and leave-resource.
 */
#include "repl/repl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
repl_replay_parse(const char *value, struct repl_replay *r)
{
	struct mars_replaylink rl;

	r->valid = 0;
	if (mars_replaylink_parse(value, strlen(value), &rl) < 0)
		return -EINVAL;
	r->nr = rl.log.nr;
	memcpy(r->origin, rl.log.host, sizeof(rl.log.host));
	r->pos_bytes = rl.pos_bytes;
	r->len_bytes = rl.len_bytes;
	r->valid = 1;
	return 0;
}

int
repl_replay_reached(const struct repl_replay *r, const struct repl_replay *mark)
{
	if (!mark->valid)
		return 1;
	if (!r->valid)
		return 0;
	return r->nr > mark->nr || (r->nr == mark->nr && r->pos_bytes >= mark->pos_bytes);
}

struct members_scan {
	struct statefs *sf;
	const char *res;
	struct repl_members *ms;
};

static int
member_visit(const struct statefs_entry *e, void *arg)
{
	struct members_scan *s = arg;
	const char *rel = strrchr(e->path, '/') + 1;
	char key[STATEFS_PATH_MAX + 1], v[STATEFS_VALUE_MAX + 1];
	struct repl_replay *r;

	if (strncmp(rel, "data-", 5) || strchr(e->path, '/') != rel - 1 ||
	    statefs_name_check(STATEFS_NAME_HOST, rel + 5, NULL) < 0)
		return 0;
	/* An evicted host's replay link stays but holds back no deletion. */
	if (statefs_is_member(s->sf, s->res, rel + 5) <= 0)
		return 0;
	if (s->ms->n == REPL_MAX_MEMBERS)
		return -E2BIG;
	r = &s->ms->m[s->ms->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", rel + 5);
	statefs_resource_keyf(key, sizeof(key), s->res, "replay-%s", r->host);
	if (statefs_get(s->sf, key, v, sizeof(v), &r->stamp_ns) >= 0)
		repl_replay_parse(v, r);
	return 0;
}

int
repl_members_load(struct statefs *sf, const char *res, struct repl_members *ms)
{
	struct members_scan s = { .sf = sf, .res = res, .ms = ms };
	char dir[STATEFS_PATH_MAX + 1];

	ms->n = 0;
	statefs_resource_key(dir, sizeof(dir), res);
	return statefs_list(sf, dir, 0, member_visit, &s);
}

const struct repl_replay *
repl_members_find(const struct repl_members *ms, const char *host)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (!strcmp(ms->m[i].host, host))
			return &ms->m[i];
	return NULL;
}

void
repl_delete_limit(const struct repl_members *ms, uint64_t *limit_nr,
		  const struct repl_replay **blocker)
{
	uint64_t lo = UINT64_MAX, hi = 0, nr;
	size_t i;

	*blocker = NULL;
	for (i = 0; i < ms->n; i++) {
		nr = ms->m[i].valid ? ms->m[i].nr : 0;
		if (nr < lo) {
			lo = nr;
			*blocker = &ms->m[i];
		}
		hi = nr > hi ? nr : hi;
	}
	*limit_nr = ms->n ? lo : 0;
	if (hi == lo)
		*blocker = NULL;
}
