/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading the view model of one resource: one pass over its keys for the
 * plain facts, one over its version links (which need the designated
 * primary already known), one over its local logfiles, then the derived
 * amounts.  Nothing here writes and nothing prints.
 */
#include "marsadm/view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

static const char *const todo_keys[TODO_COUNT] = {
	[TODO_ATTACH] = "attach", [TODO_CONNECT] = "connect",
	[TODO_SYNC] = "sync", [TODO_REPLAY] = "allow-replay",
};

/* If @s is @prefix followed by this view's host, return what follows it. */
static const char *
own(const struct view_res *v, const char *s, const char *prefix)
{
	size_t pl = strlen(prefix), hl = strlen(v->host);

	if (strncmp(s, prefix, pl) || strncmp(s + pl, v->host, hl))
		return NULL;
	return s + pl + hl;
}

/* "NNNNNNNNN-ORIGIN" followed by @stop: number and origin. */
static int
parse_nr_origin(const char *s, char stop, uint64_t *nr, char *origin, const char **end)
{
	char digits[24];
	size_t n = strspn(s, "0123456789"), ol;

	if (n == 0 || n >= sizeof(digits) || s[n] != '-')
		return -EINVAL;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (parse_u64(digits, nr) < 0)
		return -EINVAL;
	s += n + 1;
	ol = stop ? strcspn(s, (char[]){ stop, '\0' }) : strlen(s);
	if (ol == 0 || ol > STATEFS_NAME_MAX || (stop && s[ol] != stop))
		return -EINVAL;
	memcpy(origin, s, ol);
	origin[ol] = '\0';
	*end = s + ol;
	return 0;
}

/* "log-NNNNNNNNN-ORIGIN,POS,LEN" */
static void
parse_replay(const char *value, struct view_replay *r)
{
	char num[24];
	const char *p;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (strncmp(value, "log-", 4) ||
	    parse_nr_origin(value + 4, ',', &r->lognr, r->origin, &p) < 0)
		return;
	n = strcspn(p + 1, ",");
	if (n == 0 || n >= sizeof(num) || p[1 + n] != ',')
		return;
	memcpy(num, p + 1, n);
	num[n] = '\0';
	r->valid = parse_u64(num, &r->pos_bytes) == 0 && parse_u64(p + 2 + n, &r->len_bytes) == 0;
}

static struct view_log *
log_get(struct view_res *v, uint64_t nr)
{
	struct view_log *grown;
	size_t i;

	for (i = 0; i < v->n_logs; i++)
		if (v->logs[i].nr == nr)
			return &v->logs[i];
	if (v->n_logs == v->cap_logs) {
		v->cap_logs = v->cap_logs ? v->cap_logs * 2 : 16;
		grown = realloc(v->logs, v->cap_logs * sizeof(*grown));
		if (!grown)
			return NULL;
		v->logs = grown;
	}
	memset(&v->logs[v->n_logs], 0, sizeof(*v->logs));
	v->logs[v->n_logs].nr = nr;
	return &v->logs[v->n_logs++];
}

static void
add_member(struct view_res *v, const char *host)
{
	if (v->n_members < VIEW_MAX_MEMBERS)
		snprintf(v->members[v->n_members++], sizeof(v->members[0]), "%s", host);
}

static void
load_todo_actual(struct view_res *v, const char *rel, const char *value)
{
	const char *k;
	int i;

	k = own(v, rel, "todo-");
	for (i = 0; k && *k == '/' && i < TODO_COUNT; i++)
		if (!strcmp(k + 1, todo_keys[i]))
			v->todo[i] = !strcmp(value, "1");
	k = own(v, rel, "actual-");
	if (k && !strcmp(k, "/is-attached"))
		v->is_attached = !strcmp(value, "1");
	if (k && !strcmp(k, "/is-primary"))
		v->is_primary = !strcmp(value, "1");
}

static int
load_visit(const struct statefs_entry *e, void *arg)
{
	struct view_res *v = arg;
	const char *rel = strchr(e->path, '/') + 1, *k;

	if (!strcmp(rel, "size"))
		parse_u64(e->value, &v->size_bytes);
	else if (!strcmp(rel, "primary") && strcmp(e->value, STATEFS_NONE) &&
		 statefs_name_check(STATEFS_NAME_HOST, e->value, NULL) == 0)
		memcpy(v->primary, e->value, strlen(e->value) + 1);	/* checked length */
	else if (!strncmp(rel, "data-", 5))
		add_member(v, rel + 5);
	if ((k = own(v, rel, "data-")) != NULL && !*k) {
		v->member = 1;
		snprintf(v->data, sizeof(v->data), "%s", e->value);
	}
	if ((k = own(v, rel, "syncstatus-")) != NULL && !*k)
		parse_u64(e->value, &v->syncstatus_bytes);
	if ((k = own(v, rel, "replay-")) != NULL && !*k)
		parse_replay(e->value, &v->replay);
	load_todo_actual(v, rel, e->value);
	return 0;
}

/* "DIGEST,log-N-ORIGIN,POS:..." -> POS */
static uint64_t
version_pos(const char *value)
{
	const char *c1 = strchr(value, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	char num[24];
	size_t n;
	uint64_t pos = 0;

	if (!c2)
		return 0;
	n = strcspn(c2 + 1, ":");
	if (n == 0 || n >= sizeof(num))
		return 0;
	memcpy(num, c2 + 1, n);
	num[n] = '\0';
	parse_u64(num, &pos);
	return pos;
}

static int
version_visit(const struct statefs_entry *e, void *arg)
{
	struct view_res *v = arg;
	const char *rel = strchr(e->path, '/') + 1, *end;
	char origin[STATEFS_NAME_MAX + 1];
	struct view_log *l;
	uint64_t nr;

	if (strncmp(rel, "version-", 8) || parse_nr_origin(rel + 8, 0, &nr, origin, &end) < 0)
		return 0;
	l = log_get(v, nr);
	if (!l)
		return -ENOMEM;
	if (!l->version[0])
		snprintf(l->version, sizeof(l->version), "%s", e->value);
	if (v->primary[0] && !strcmp(origin, v->primary)) {
		l->in_primary = 1;
		l->primary_bytes = version_pos(e->value);
	}
	return 0;
}

static int
file_visit(const char *name, uint64_t size, void *arg)
{
	char origin[STATEFS_NAME_MAX + 1];
	struct view_res *v = arg;
	struct view_log *l;
	const char *end;
	uint64_t nr;

	if (strncmp(name, "log-", 4) || parse_nr_origin(name + 4, 0, &nr, origin, &end) < 0)
		return 0;
	l = log_get(v, nr);
	if (!l)
		return -ENOMEM;
	l->local = 1;
	l->local_bytes = size;
	snprintf(l->origin, sizeof(l->origin), "%s", origin);
	return 0;
}

static enum view_beat
beat_of(struct statefs *sf, const char *host, uint64_t now_ns)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;

	snprintf(key, sizeof(key), "actual-%s/time", host);
	if (statefs_read(sf, key, &e) < 0 || e.tombstone)
		return BEAT_NONE;
	return e.stamp_ns + VIEW_WINDOW_NS >= now_ns ? BEAT_FRESH : BEAT_STALE;
}

static void
derive(struct statefs *sf, struct view_res *v)
{
	const struct view_log *l;
	uint64_t fetched = 0;
	size_t i;
	int k;

	for (k = 0; k < v->n_members; k++)
		v->n_alive += beat_of(sf, v->members[k], v->now_ns) == BEAT_FRESH;
	v->beat = beat_of(sf, v->host, v->now_ns);
	v->primary_alive = v->primary[0] && beat_of(sf, v->primary, v->now_ns) == BEAT_FRESH;
	for (i = 0; i < v->n_logs; i++) {
		l = &v->logs[i];
		if (!v->replay.valid || l->nr < v->replay.lognr)
			continue;
		fetched += l->local ? l->local_bytes : 0;
		if (l->in_primary && strcmp(v->primary, v->host) && l->primary_bytes > l->local_bytes)
			v->fetch_rest_bytes += l->primary_bytes - l->local_bytes;
	}
	v->replay_rest_bytes = fetched > v->replay.pos_bytes ? fetched - v->replay.pos_bytes : 0;
}

/* Split brain and the deletion blocker, by the shared repl functions. */
static int
derive_repl(struct statefs *sf, struct view_res *v)
{
	const struct repl_replay *blocker;
	struct repl_history h;
	struct repl_members *ms;
	int ret = repl_history_load(sf, v->name, &h);

	if (ret < 0)
		return ret;
	v->split_brain = repl_split_detect(&h, &v->split);
	repl_history_release(&h);
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	ret = repl_members_load(sf, v->name, ms);
	if (ret == 0) {
		repl_delete_limit(ms, &v->deletable_nr, &blocker);
		if (blocker) {
			snprintf(v->blocker, sizeof(v->blocker), "%s", blocker->host);
			v->blocker_nr = blocker->nr;
			v->blocked_since_ns = blocker->stamp_ns;
		}
	}
	free(ms);
	return ret;
}

int
view_load(struct statefs *sf, const char *res, const char *host, struct view_res *v)
{
	char dir[STATEFS_PATH_MAX + 1];
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", res);
	snprintf(v->host, sizeof(v->host), "%s", host);
	v->todo[TODO_ATTACH] = v->todo[TODO_CONNECT] = -1;
	v->todo[TODO_SYNC] = v->todo[TODO_REPLAY] = -1;
	v->is_attached = v->is_primary = -1;
	v->now_ns = statefs_realtime_ns();
	snprintf(dir, sizeof(dir), "resource-%s", res);
	ret = statefs_list(sf, dir, 0, load_visit, v);
	if (ret == 0)
		ret = statefs_list(sf, dir, 0, version_visit, v);
	if (ret == 0)
		ret = statefs_list_files(sf, dir, file_visit, v);
	if (ret == 0)
		derive(sf, v);
	if (ret == 0)
		ret = derive_repl(sf, v);
	return ret;
}

void
view_release(struct view_res *v)
{
	free(v->logs);
	v->logs = NULL;
	v->n_logs = v->cap_logs = 0;
}
