/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The view macros: each a pure function from the model to one value.
 * The words follow MARS (diskstate, replstate, flags, role) so that its
 * operators read them without a glossary; docs/marsadm.8 lists every word
 * and the order in which the states are tested, which is the order of
 * the tests in each function below.
 */
#include "marsadm/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void
val_str(struct view_val *out, const char *s)
{
	out->type = VIEW_STR;
	snprintf(out->str, sizeof(out->str), "%s", s);
}

static void
val_int(struct view_val *out, uint64_t n)
{
	out->type = VIEW_INT;
	out->num = n;
	snprintf(out->str, sizeof(out->str), "%" PRIu64, n);
}

static void
val_bool(struct view_val *out, int b)
{
	out->type = VIEW_BOOL;
	out->num = b != 0;
	snprintf(out->str, sizeof(out->str), "%d", b != 0);
}

static int
designated(const struct view_res *v)
{
	return v->primary[0] && !strcmp(v->primary, v->host);
}

static int
consistent(const struct view_res *v)
{
	return v->syncstatus_bytes >= v->size_bytes;
}

static int
device_present(const struct view_res *v)
{
	struct stat st;

	return stat(v->data, &st) == 0;
}

static const char *
diskstate(const struct view_res *v, char *buf, size_t size)
{
	if (!v->member)
		return "NotJoined";
	if (!device_present(v))
		return "NotPresent";
	if (v->todo[TODO_ATTACH] != 1)
		return v->is_attached == 1 ? "Detaching" : "Detached";
	if (v->is_attached != 1)
		return "NoAttach";
	if (!consistent(v))
		return "InConsistent";
	if (designated(v) && v->replay_rest_bytes) {
		snprintf(buf, size, "%s[%" PRIu64 "]",
			 v->is_primary == 1 ? "WriteBack" : "Recovery", v->replay_rest_bytes);
		return buf;
	}
	if (!designated(v) && (v->fetch_rest_bytes || v->replay_rest_bytes)) {
		snprintf(buf, size, "OutDated[%s%s]", v->fetch_rest_bytes ? "F" : "",
			 v->replay_rest_bytes ? "R" : "");
		return buf;
	}
	return "UpToDate";
}

static void
m_diskstate(const struct view_res *v, struct view_val *out)
{
	char buf[64];

	val_str(out, diskstate(v, buf, sizeof(buf)));
}

static const char *
replstate(const struct view_res *v)
{
	if (!v->member)
		return "NotJoined";
	if (v->beat != BEAT_FRESH)
		return v->beat == BEAT_NONE ? "NotStarted" : "UnResponsive";
	if (designated(v))
		return v->is_primary == 1 ? "Replicating" : "NotYetPrimary";
	if (!v->primary[0])
		return "NoPrimaryDesignated";
	if (!consistent(v))
		return v->todo[TODO_SYNC] == 1 ? "Syncing" : "PausedSync";
	if (v->todo[TODO_CONNECT] != 1)
		return "PausedFetch";
	if (v->todo[TODO_REPLAY] != 1)
		return "PausedReplay";
	if (!v->primary_alive)
		return "PrimaryUnreachable";
	return "Replaying";
}

static void
m_replstate(const struct view_res *v, struct view_val *out)
{
	val_str(out, replstate(v));
}

/* Switch on and reached: upper case; on, not reached: lower; off: '-'. */
static char
flag(int on, int reached, char c)
{
	if (!on)
		return '-';
	return reached ? c : (char)(c + ('a' - 'A'));
}

static void
m_flags(const struct view_res *v, struct view_val *out)
{
	char f[7];

	f[0] = v->is_primary == 1 ? 'D' : v->is_attached == 1 ? 'd' : '-';
	f[1] = v->member ? (consistent(v) ? 'C' : 'c') : '-';
	f[2] = flag(v->todo[TODO_ATTACH] == 1, v->is_attached == 1, 'A');
	f[3] = consistent(v) ? 'S' : flag(v->todo[TODO_SYNC] == 1, 0, 'S');
	f[4] = flag(v->todo[TODO_CONNECT] == 1, v->fetch_rest_bytes == 0, 'F');
	f[5] = flag(v->todo[TODO_REPLAY] == 1, v->replay_rest_bytes == 0, 'R');
	f[6] = '\0';
	val_str(out, v->member ? f : "------");
}

static const char *
role(const struct view_res *v)
{
	if (!v->member)
		return "None";
	if (designated(v))
		return v->is_primary == 1 ? "Primary" : "NotYetPrimary";
	return v->is_primary == 1 ? "RemainsPrimary" : "Secondary";
}

static void
m_role(const struct view_res *v, struct view_val *out)
{
	val_str(out, role(v));
}

static void
m_primary(const struct view_res *v, struct view_val *out)
{
	val_str(out, v->primary[0] ? v->primary : STATEFS_NONE);
}

static void
m_members(const struct view_res *v, struct view_val *out)
{
	size_t len = 0;
	int i;

	out->str[0] = '\0';
	for (i = 0; i < v->n_members && len + 2 + STATEFS_NAME_MAX < sizeof(out->str); i++)
		len += (size_t)snprintf(out->str + len, sizeof(out->str) - len, "%s%s",
					i ? "," : "", v->members[i]);
	out->type = VIEW_STR;
}

static void
m_replay_rest(const struct view_res *v, struct view_val *out)
{
	val_int(out, v->replay_rest_bytes);
}

static void
m_fetch_rest(const struct view_res *v, struct view_val *out)
{
	val_int(out, v->fetch_rest_bytes);
}

static void
m_sync_rest(const struct view_res *v, struct view_val *out)
{
	val_int(out, consistent(v) || !v->member ? 0 : v->size_bytes - v->syncstatus_bytes);
}

static void
m_size(const struct view_res *v, struct view_val *out)
{
	val_int(out, v->size_bytes);
}

static void
m_split_brain(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->split_brain);
}

static void
m_split_point(const struct view_res *v, struct view_val *out)
{
	const struct repl_split *sp = &v->split;

	if (!v->split_brain) {
		val_str(out, STATEFS_NONE);
		return;
	}
	out->type = VIEW_STR;
	snprintf(out->str, sizeof(out->str), "logfile %09" PRIu64 " byte %" PRIu64 ": %s +%" PRIu64
		 ", %s +%" PRIu64, sp->nr, sp->pos_bytes, sp->host_a, sp->after_a_bytes, sp->host_b,
		 sp->after_b_bytes);
}

static void
m_deletion_blocker(const struct view_res *v, struct view_val *out)
{
	val_str(out, v->blocker[0] ? v->blocker : STATEFS_NONE);
}

static void
m_is_member(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->member);
}

static void
m_is_alive(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->beat == BEAT_FRESH);
}

static void
m_is_primary(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->is_primary == 1);
}

static void
m_is_attached(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->is_attached == 1);
}

#define TODO_MACRO(fn, idx) \
	static void fn(const struct view_res *v, struct view_val *out) \
	{ val_bool(out, v->todo[idx] == 1); }
TODO_MACRO(m_todo_attach, TODO_ATTACH)
TODO_MACRO(m_todo_fetch, TODO_CONNECT)
TODO_MACRO(m_todo_sync, TODO_SYNC)
TODO_MACRO(m_todo_replay, TODO_REPLAY)

const struct view_macro view_macros[] = {
	{ "diskstate", m_diskstate },
	{ "replstate", m_replstate },
	{ "flags", m_flags },
	{ "role", m_role },
	{ "primary", m_primary },
	{ "members", m_members },
	{ "resource-size", m_size },
	{ "sync-rest", m_sync_rest },
	{ "fetch-rest", m_fetch_rest },
	{ "replay-rest", m_replay_rest },
	{ "is-split-brain", m_split_brain },
	{ "split-point", m_split_point },
	{ "deletion-blocker", m_deletion_blocker },
	{ "is-member", m_is_member },
	{ "is-alive", m_is_alive },
	{ "is-primary", m_is_primary },
	{ "is-attached", m_is_attached },
	{ "todo-attach", m_todo_attach },
	{ "todo-fetch", m_todo_fetch },
	{ "todo-sync", m_todo_sync },
	{ "todo-replay", m_todo_replay },
	{ NULL, NULL },
};

const struct view_macro *
view_macro_find(const char *name)
{
	const struct view_macro *m;

	for (m = view_macros; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}
