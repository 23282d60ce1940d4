/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The view macros: each a pure function from the model to one value, in
 * the order `view --json` lists them.  The state words come from
 * words.c, which the status page prints too.
 */
#include "view/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
val_sint(struct view_val *out, int64_t n)
{
	out->type = VIEW_SINT;
	out->snum = n;
	snprintf(out->str, sizeof(out->str), "%" PRId64, n);
}

static void
val_bool(struct view_val *out, int b)
{
	out->type = VIEW_BOOL;
	out->num = b != 0;
	snprintf(out->str, sizeof(out->str), "%d", b != 0);
}

static void
m_diskstate(const struct view_res *v, struct view_val *out)
{
	char buf[VIEW_WORD_BYTES];

	val_str(out, view_diskstate(v, buf, sizeof(buf)));
}

static void
m_replstate(const struct view_res *v, struct view_val *out)
{
	val_str(out, view_replstate(v));
}

static void
m_flags(const struct view_res *v, struct view_val *out)
{
	char f[7];

	view_flags(v, f);
	val_str(out, f);
}

static void
m_role(const struct view_res *v, struct view_val *out)
{
	val_str(out, view_role(v));
}

/* Lag as every viewer sees it (view.h): bytes, and whole seconds. */
static void
m_lag_bytes(const struct view_res *v, struct view_val *out)
{
	val_int(out, v->lag_bytes);
}

static void
m_lag_s(const struct view_res *v, struct view_val *out)
{
	val_int(out, v->lag_ns / STATEFS_NS_PER_S);
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

static uint64_t
sync_rest(const struct view_res *v)
{
	return v->member ? v->size_bytes - v->sync_pos_bytes : 0;
}

static void
m_sync_rest(const struct view_res *v, struct view_val *out)
{
	val_int(out, sync_rest(v));
}

/* ---- amount cursors, rates, remaining time --------------------------------- */

#define AMOUNT_MACRO(fn, field) \
	static void fn(const struct view_res *v, struct view_val *out) \
	{ val_int(out, v->field); }
AMOUNT_MACRO(m_replay_pos, replay_pos_bytes)
AMOUNT_MACRO(m_fetch_pos, fetch_pos_bytes)
AMOUNT_MACRO(m_fetch_size, fetch_size_bytes)
AMOUNT_MACRO(m_work_rest, work_rest_bytes)
AMOUNT_MACRO(m_replay_lognr, replay.lognr)
AMOUNT_MACRO(m_work_lognr, newest_nr)
AMOUNT_MACRO(m_sync_pos, sync_pos_bytes)
AMOUNT_MACRO(m_sync_size, size_bytes)

static int
fresh(const struct view_res *v)
{
	return v->drv.state == DRV_FRESH;
}

uint64_t
view_replay_rate(const struct view_res *v)
{
	return fresh(v) ? v->drv.replay_rate_bps : 0;
}

uint64_t
view_fetch_rate(const struct view_res *v)
{
	return fresh(v) && v->drv.fetching ? v->drv.fetch_rate_bps : 0;
}

uint64_t
view_sync_rate(const struct view_res *v)
{
	return fresh(v) && v->drv.syncing ? v->drv.sync_rate_bps : 0;
}

static void
m_replay_rate(const struct view_res *v, struct view_val *out)
{
	val_int(out, view_replay_rate(v));
}

static void
m_fetch_rate(const struct view_res *v, struct view_val *out)
{
	val_int(out, view_fetch_rate(v));
}

static void
m_sync_rate(const struct view_res *v, struct view_val *out)
{
	val_int(out, view_sync_rate(v));
}

/* The primary's log from clusterd: 0 or "" when not primary or stale. */
static int
logging(const struct view_res *v)
{
	return fresh(v) && v->drv.logging;
}

static void
m_log_end(const struct view_res *v, struct view_val *out)
{
	val_int(out, logging(v) ? v->drv.log_end_bytes : 0);
}

static void
m_log_durable(const struct view_res *v, struct view_val *out)
{
	val_int(out, logging(v) ? v->drv.log_durable_bytes : 0);
}

static void
m_pending_writeback(const struct view_res *v, struct view_val *out)
{
	val_int(out, logging(v) ? v->drv.pending_bytes : 0);
}

static void
m_replay_remain(const struct view_res *v, struct view_val *out)
{
	val_sint(out, view_remain_s(v->replay_rest_bytes, view_replay_rate(v)));
}

static void
m_fetch_remain(const struct view_res *v, struct view_val *out)
{
	val_sint(out, view_remain_s(v->fetch_rest_bytes, view_fetch_rate(v)));
}

static void
m_sync_remain(const struct view_res *v, struct view_val *out)
{
	val_sint(out, view_remain_s(sync_rest(v), view_sync_rate(v)));
}

int64_t
view_work_remain_s(const struct view_res *v)
{
	int64_t r = view_remain_s(v->work_rest_bytes, view_replay_rate(v));
	int64_t f = view_remain_s(v->fetch_rest_bytes, view_fetch_rate(v));

	return r < 0 || f < 0 ? -1 : r > f ? r : f;
}

static void
m_work_remain(const struct view_res *v, struct view_val *out)
{
	val_sint(out, view_work_remain_s(v));
}

static void
m_fetch_logfile(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.fetch_name[0] ? v->drv.fetch_name : STATEFS_NONE);
}

static void
m_is_consistent(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->member && view_consistent(v));
}

static void
m_replay_lag(const struct view_res *v, struct view_val *out)
{
	val_sint(out, v->replay_lag_s);
}

static void
m_replay_age(const struct view_res *v, struct view_val *out)
{
	val_sint(out, v->replay_age_s);
}

static void
m_sync_equal(const struct view_res *v, struct view_val *out)
{
	val_int(out, fresh(v) && v->drv.syncing ? v->drv.sync_equal_bytes : 0);
}

static void
m_sync_copied(const struct view_res *v, struct view_val *out)
{
	val_int(out, fresh(v) && v->drv.syncing ? v->drv.sync_copied_bytes : 0);
}

static void
m_fetch_peer(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.fetch_peer[0] ? v->drv.fetch_peer : STATEFS_NONE);
}

static void
m_fetch_why(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.fetching ? v->drv.fetch_why : "");
}

static void
m_sync_peer(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.sync_peer[0] ? v->drv.sync_peer : STATEFS_NONE);
}

static void
m_sync_why(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.syncing ? v->drv.sync_why : "");
}

/* ---- the replication driver ------------------------------------------------ */

static void
m_driver_action(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.action[0] ? v->drv.action : STATEFS_NONE);
}

/* The userspace engine's front end and device, as clusterd reports them. */
static void
m_frontend(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.engine_frontend[0] ? v->drv.engine_frontend :
		STATEFS_NONE);
}

static void
m_device(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.engine_device[0] ? v->drv.engine_device : STATEFS_NONE);
}

static void
m_driver_age(const struct view_res *v, struct view_val *out)
{
	if (v->drv.state == DRV_ABSENT)
		val_sint(out, -1);
	else
		val_sint(out, v->now_ns > v->drv.updated_ns ?
			 (int64_t)((v->now_ns - v->drv.updated_ns) / STATEFS_NS_PER_S) : 0);
}

void
view_driver_why(const struct view_res *v, char *buf, size_t size)
{
	if (fresh(v))
		snprintf(buf, size, "%s", v->drv.why);
	else if (!v->member)
		snprintf(buf, size, "%s", "");
	else if (v->drv.state == DRV_STALE)
		snprintf(buf, size, "clusterd not running? (its status is %" PRIu64 " s old)",
			 (uint64_t)((v->now_ns - v->drv.updated_ns) / STATEFS_NS_PER_S));
	else
		snprintf(buf, size, "clusterd not running? (no status from it)");
}

static void
m_driver_why(const struct view_res *v, struct view_val *out)
{
	out->type = VIEW_STR;
	view_driver_why(v, out->str, sizeof(out->str));
}

static void
m_replay_state(const struct view_res *v, struct view_val *out)
{
	val_str(out, fresh(v) && v->drv.replay_state[0] ? v->drv.replay_state : STATEFS_NONE);
}

void
view_replay_error(const struct view_res *v, char *buf, size_t size)
{
	const struct view_engine *e = &v->eng;

	if (!fresh(v) || !e->present)
		snprintf(buf, size, "%s", "");
	else if (!strcmp(e->replay, "stopped"))
		snprintf(buf, size, "stopped in %s at byte %" PRIu64 ": %s (%s)", e->logfile,
			 e->stop_offset, e->stop_result, e->stop_reason);
	else
		snprintf(buf, size, "failed in %s: %s", e->logfile,
			 e->error_text[0] ? e->error_text : "unknown error");
}

static void
m_replay_error(const struct view_res *v, struct view_val *out)
{
	out->type = VIEW_STR;
	view_replay_error(v, out->str, sizeof(out->str));
}

static void
m_is_orphan(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->orphan);
}

static void
m_is_emergency(const struct view_res *v, struct view_val *out)
{
	val_bool(out, v->primary_emergency);
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
	{ "work-rest", m_work_rest },
	{ "replay-pos", m_replay_pos },
	{ "fetch-pos", m_fetch_pos },
	{ "fetch-size", m_fetch_size },
	{ "replay-lognr", m_replay_lognr },
	{ "work-lognr", m_work_lognr },
	{ "replay-rate", m_replay_rate },
	{ "fetch-rate", m_fetch_rate },
	{ "log-end", m_log_end },
	{ "log-durable", m_log_durable },
	{ "pending-writeback", m_pending_writeback },
	{ "replay-remain", m_replay_remain },
	{ "fetch-remain", m_fetch_remain },
	{ "work-remain", m_work_remain },
	{ "replay-lag", m_replay_lag },
	{ "lag-bytes", m_lag_bytes },
	{ "lag-s", m_lag_s },
	{ "replay-age", m_replay_age },
	{ "replay-state", m_replay_state },
	{ "replay-error", m_replay_error },
	{ "fetch-logfile", m_fetch_logfile },
	{ "fetch-peer", m_fetch_peer },
	{ "fetch-why", m_fetch_why },
	{ "sync-pos", m_sync_pos },
	{ "sync-size", m_sync_size },
	{ "sync-equal", m_sync_equal },
	{ "sync-copied", m_sync_copied },
	{ "sync-rate", m_sync_rate },
	{ "sync-remain", m_sync_remain },
	{ "sync-peer", m_sync_peer },
	{ "sync-why", m_sync_why },
	{ "is-consistent", m_is_consistent },
	{ "is-orphan", m_is_orphan },
	{ "is-emergency", m_is_emergency },
	{ "driver-action", m_driver_action },
	{ "driver-age", m_driver_age },
	{ "frontend", m_frontend },
	{ "device", m_device },
	{ "driver-why", m_driver_why },
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
