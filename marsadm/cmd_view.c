/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `marsadm view [RES|all]` and `marsadm view-MACRO [RES|all]`: read-only
 * reports of resources as this node sees them.  Both load the same model
 * (view/model.c) and print macro values (view/macros.c); `view` prints
 * the summary line and, when relevant, MARS-style progress lines under
 * it, `view-MACRO` one value.  With --json every resource is one object
 * whose fields are macro names: everything the lines say is in them.
 */
#include "marsadm/state.h"
#include "view/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static struct json_object *
json_val(const struct view_val *val)
{
	switch (val->type) {
	case VIEW_INT:
		return json_object_new_int64((int64_t)val->num);
	case VIEW_SINT:
		return json_object_new_int64(val->snum);
	case VIEW_BOOL:
		return json_object_new_boolean((int)val->num);
	default:
		return json_object_new_string(val->str);
	}
}

/* "1h02m03s" */
static void
duration(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / STATEFS_NS_PER_S;

	if (s >= 3600)
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600,
			 s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
}

/* ---- progress lines ------------------------------------------------------ */

#define KIB	1024.0
#define BAR_WIDTH	20

/* "0 B", "512 B", "1.50 KiB", "12.00 MiB", ... */
static void
human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)bytes / KIB;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return;
	}
	while (d >= KIB && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= KIB;
		u++;
	}
	snprintf(buf, size, "%.2f %s", d, units[u]);
}

/* "hh:mm:ss", or "--:--:--" for an unknown (-1) time. */
static void
hms(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "--:--:--");
	else
		snprintf(buf, size, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600,
			 s / 60 % 60, s % 60);
}

/* "[====>...] 25.00% (2.00/8.00)KiB" for @pos of @total bytes. */
static void
bar(uint64_t pos, uint64_t total, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double frac = total ? (double)(pos < total ? pos : total) / (double)total : 1.0;
	double scale = KIB;
	char line[BAR_WIDTH + 1];
	size_t u = 0, fill = (size_t)(frac * BAR_WIDTH), i;

	for (i = 0; i < BAR_WIDTH; i++)
		line[i] = i < fill ? '=' : i == fill ? '>' : '.';
	line[BAR_WIDTH] = '\0';
	while ((double)total >= scale * KIB && u + 1 < sizeof(units) / sizeof(units[0])) {
		scale *= KIB;
		u++;
	}
	snprintf(buf, size, "[%s] %.2f%% (%.2f/%.2f)%s", line, frac * 100.0, (double)pos / scale,
		 (double)total / scale, units[u]);
}

/* A secondary behind the primary: how far its replay is, and until when. */
static void
show_replaying(const struct view_res *v)
{
	char b[160], rate[32], left[64];

	/* While a full sync runs, replay waits and restarts from syncpos. */
	if (!v->member || v->is_primary == 1 || !v->replay.valid || !v->work_rest_bytes ||
	    v->syncstatus_bytes < v->size_bytes)
		return;
	bar(v->replay_pos_bytes, v->fetch_size_bytes, b, sizeof(b));
	human(view_replay_rate(v), rate, sizeof(rate));
	hms(view_work_remain_s(v), left, sizeof(left));
	printf("  replaying: %s logs: [%" PRIu64 "..%" PRIu64 "] rate: %s/s remaining: %s\n", b,
	       v->replay.lognr, v->newest_nr, rate, left);
}

/* The primary's log: how much of it is durable, and the writeback backlog. */
static void
show_logging(const struct view_res *v)
{
	const struct view_driver *d = &v->drv;
	char end[32], durable[32], pending[32];

	if (d->state != DRV_FRESH || !d->logging)
		return;
	human(d->log_end_bytes, end, sizeof(end));
	human(d->log_durable_bytes, durable, sizeof(durable));
	human(d->pending_bytes, pending, sizeof(pending));
	printf("  logging: %s durable %s of %s, writeback pending %s\n", d->log_name, durable,
	       end, pending);
}

/* The engine's replay stopped on a damaged record or failed. */
static void
show_replay_error(const struct view_res *v)
{
	char err[sizeof(v->eng.error_text) + 256];

	view_replay_error(v, err, sizeof(err));
	if (err[0])
		printf("  replay: %s\n", err);
}

/* Bytes the primary logged that are not here yet, and whence they come. */
static void
show_fetch(const struct view_res *v)
{
	const struct view_driver *d = &v->drv;
	int fetching = d->state == DRV_FRESH && d->fetching;
	char rest[32], rate[32], left[64];

	if (!v->member || (!v->fetch_rest_bytes && !(fetching && d->fetch_error)))
		return;
	human(v->fetch_rest_bytes, rest, sizeof(rest));
	human(view_fetch_rate(v), rate, sizeof(rate));
	hms(view_remain_s(v->fetch_rest_bytes, view_fetch_rate(v)), left, sizeof(left));
	printf("  fetch: %s", rest);
	if (fetching && d->fetch_name[0])
		printf(" of %s from %s", d->fetch_name, d->fetch_peer[0] ? d->fetch_peer : "?");
	printf(" rate: %s/s remaining: %s", rate, left);
	if (fetching && d->fetch_error)
		printf(" error: %s", d->fetch_why[0] ? d->fetch_why : strerror((int)-d->fetch_error));
	printf("\n");
}

/* A full sync in progress, or done and waiting for replay to reach syncpos. */
static void
show_syncing(const struct view_res *v)
{
	const struct view_driver *d = &v->drv;
	int syncing = d->state == DRV_FRESH && d->syncing;
	char b[160], eq[32], cp[32], rate[32], left[64];
	uint64_t rest = v->size_bytes - v->sync_pos_bytes;

	if (!v->member)
		return;
	if (!rest && !view_syncpos_reached(v))
		printf("  synced: consistent once replay reaches logfile %09" PRIu64 " byte %" PRIu64
		       " (syncpos)\n", v->syncpos.lognr, v->syncpos.pos_bytes);
	if (!rest)
		return;
	bar(v->sync_pos_bytes, v->size_bytes, b, sizeof(b));
	human(syncing ? d->sync_equal_bytes : 0, eq, sizeof(eq));
	human(syncing ? d->sync_copied_bytes : 0, cp, sizeof(cp));
	human(view_sync_rate(v), rate, sizeof(rate));
	hms(view_remain_s(rest, view_sync_rate(v)), left, sizeof(left));
	printf("  syncing: %s equal: %s copied: %s rate: %s/s remaining: %s", b, eq, cp, rate, left);
	if (syncing && d->sync_peer[0])
		printf(" from %s", d->sync_peer);
	if (syncing && d->sync_error)
		printf(" error: %s", d->sync_why[0] ? d->sync_why : strerror((int)-d->sync_error));
	printf("\n");
}

/* A limit for the limits line: "none" or a rate with where it comes from. */
static void
limit_str(uint64_t bps, const char *from, char *buf, size_t size)
{
	char rate[32];

	if (!bps) {
		snprintf(buf, size, "none");
		return;
	}
	human(bps, rate, sizeof(rate));
	snprintf(buf, size, "%s/s (%s)", rate, from);
}

/* The fetch limits, weight and compression clusterd applies here
 * (docs/state-tree.md 3.7), when any differs from the defaults. */
static void
show_limits(const struct view_res *v)
{
	const struct view_driver *d = &v->drv;
	char fetch[64], node[64], share[32];

	if (!v->member || d->state != DRV_FRESH || !d->limits ||
	    (!d->limit_fetch_bps && !d->limit_node_bps && d->fetch_priority == 100 &&
	     !strcmp(d->compress, "auto")))
		return;
	limit_str(d->limit_fetch_bps, d->limit_fetch_from, fetch, sizeof(fetch));
	limit_str(d->limit_node_bps, d->limit_node_from, node, sizeof(node));
	human(d->limit_share_bps, share, sizeof(share));
	printf("  limits: fetch %s node %s", fetch, node);
	if (d->limit_share_bps)
		printf(" now %s/s", share);
	printf(" priority %" PRIu64 " compress %s\n", d->fetch_priority, d->compress);
}

/* The same for --json: an object, or null while clusterd does not say. */
static struct json_object *
limits_json(const struct view_res *v)
{
	const struct view_driver *d = &v->drv;
	struct json_object *o;

	if (d->state != DRV_FRESH || !d->limits)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "fetch_bwlimit", json_object_new_uint64(d->limit_fetch_bps));
	json_object_object_add(o, "fetch_bwlimit_from",
			       json_object_new_string(d->limit_fetch_from));
	json_object_object_add(o, "node_fetch_bwlimit", json_object_new_uint64(d->limit_node_bps));
	json_object_object_add(o, "node_fetch_bwlimit_from",
			       json_object_new_string(d->limit_node_from));
	json_object_object_add(o, "fetch_share", json_object_new_uint64(d->limit_share_bps));
	json_object_object_add(o, "fetch_priority", json_object_new_uint64(d->fetch_priority));
	json_object_object_add(o, "compress", json_object_new_string(d->compress));
	return o;
}

/* The driver's explanation when it waits or cannot go on, or its absence. */
static void
show_driver(const struct view_res *v)
{
	char why[sizeof(v->drv.why) + 64];

	if (!v->member)
		return;
	view_driver_why(v, why, sizeof(why));
	if (v->drv.state == DRV_FRESH && !(strstr(why, "wait") || strstr(why, "cannot") ||
					   !strncmp(why, "no ", 3) || v->drv.split))
		return;
	printf("  driver: %s\n", why);
}

/* The lines under the summary that say what needs an operator. */
static void
show_problems(const struct view_res *v)
{
	const struct repl_split *sp = &v->split;
	char age[32];

	if (v->orphan) {
		printf("  orphan: logfile %09" PRIu64 " of '%s' is %s here, replay stands at byte %"
		       PRIu64 "\n", v->replay.lognr, v->replay.origin,
		       v->log_tombstoned ? "deleted" : "missing or too short", v->replay.pos_bytes);
		printf("  fix: 'marsadm invalidate %s' here\n", v->name);
	}
	if (v->primary_emergency)
		printf("  emergency mode on '%s': it writes without logging, replication stopped\n"
		       "  fix: free space in its /mars, then 'marsadm invalidate %s' on the "
		       "secondaries\n", v->primary, v->name);
	if (v->split_brain) {
		printf("  split brain at logfile %09" PRIu64 " byte %" PRIu64 ": '%s' has %" PRIu64
		       " bytes after it, '%s' %" PRIu64 "\n", sp->nr, sp->pos_bytes, sp->host_a,
		       sp->after_a_bytes, sp->host_b, sp->after_b_bytes);
		printf("  fix: 'marsadm invalidate %s' on the side to discard\n", v->name);
	}
	if (v->blocker[0]) {
		duration(v->now_ns > v->blocked_since_ns ? v->now_ns - v->blocked_since_ns : 0,
			 age, sizeof(age));
		printf("  logfile deletion blocked by '%s' at logfile %09" PRIu64 " for %s\n",
		       v->blocker, v->blocker_nr, age);
		printf("  fix: bring '%s' up to date, or 'marsadm leave-resource %s' on it "
		       "(--host=%s --force from another node)\n", v->blocker, v->name, v->blocker);
	}
}

static int
show_summary(const struct marsadm_ctx *ctx, const struct view_res *v, int named)
{
	static const char *const cols[] = { "diskstate", "replstate", "flags", "role", "primary" };
	struct json_object *o;
	struct view_val val;
	size_t i;

	if (!ctx->json) {
		printf("%s [%d/%d]", v->name, v->n_alive, v->n_members);
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			view_macro_find(cols[i])->fn(v, &val);
			printf(" %s", val.str);
		}
		printf("\n");
		show_logging(v);
		show_replaying(v);
		show_replay_error(v);
		show_fetch(v);
		show_syncing(v);
		show_limits(v);
		show_driver(v);
		show_problems(v);
		return MX_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "resource", json_object_new_string(v->name));
	for (i = 0; view_macros[i].name; i++) {
		view_macros[i].fn(v, &val);
		json_object_object_add(o, view_macros[i].name, json_val(&val));
	}
	json_object_object_add(o, "limits", limits_json(v));
	return print_json(o);
}

static int
show_macro(const struct marsadm_ctx *ctx, const struct view_macro *m, const struct view_res *v,
	   int named)
{
	struct json_object *o;
	struct view_val val;

	m->fn(v, &val);
	if (!ctx->json) {
		if (named)
			printf("%s\n", val.str);
		else
			printf("%s %s\n", v->name, val.str);
		return MX_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "resource", json_object_new_string(v->name));
	json_object_object_add(o, m->name, json_val(&val));
	return print_json(o);
}

/* A single named resource prints bare values; "all" and lists name them. */
static int
single(const char *arg)
{
	return arg && strcmp(arg, "all") && !strchr(arg, ',');
}

static int
view_run(struct marsadm_ctx *ctx, const char *arg, const struct view_macro *m)
{
	struct view_inputs in;
	struct view_res v;
	struct state_res s;
	int ret;
	size_t i;

	view_inputs_local(&in);
	ret = state_res_open(ctx, &s, arg, 0);
	if (ret != MX_OK)
		return ret;
	for (i = 0; ret == MX_OK && i < s.rl.n; i++) {
		if (view_load(s.sf, s.rl.names[i], ctx->host, &in, &v) < 0)
			ret = fail(MX_IO, "cannot read resource '%s' in '%s'", s.rl.names[i],
				   ctx->root);
		else if (m)
			ret = show_macro(ctx, m, &v, single(arg));
		else
			ret = show_summary(ctx, &v, single(arg));
		view_release(&v);
	}
	state_res_close(&s);
	return ret;
}

static int
cmd_view(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return view_run(ctx, argc > 1 ? argv[1] : NULL, NULL);
}

static int
cmd_view_macro(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const struct view_macro *m = view_macro_find(ctx->cmd->name + strlen("view-"));

	if (!m)
		return fail(MX_FAIL, "internal error: no macro for '%s'", ctx->cmd->name);
	return view_run(ctx, argc > 1 ? argv[1] : NULL, m);
}

#define VIEW_FLAGS (CMD_NEED_TREE | CMD_OPT_JSON)
#define VIEW_MACRO(n, h) { .name = "view-" n, .fn = cmd_view_macro, .flags = VIEW_FLAGS, \
			   .usage = "[RES|all]", .help = h }

const struct cmd cmds_view[] = {
	{ .name = "view", .fn = cmd_view, .flags = VIEW_FLAGS, .usage = "[RES|all]",
	  .help = "one line per resource: members, disk, replication, flags, role, primary" },
	VIEW_MACRO("diskstate", "state of this node's copy (UpToDate, OutDated[FR], ...)"),
	VIEW_MACRO("replstate", "replication state (Replicating, Replaying, PausedFetch, ...)"),
	VIEW_MACRO("flags", "six flags: device, consistent, attach, sync, fetch, replay"),
	VIEW_MACRO("role", "this node's role (Primary, Secondary, NotYetPrimary, ...)"),
	VIEW_MACRO("primary", "the designated primary, or (none)"),
	VIEW_MACRO("members", "the storage members, comma-separated"),
	VIEW_MACRO("resource-size", "the resource size in bytes"),
	VIEW_MACRO("sync-rest", "bytes still to sync to this node"),
	VIEW_MACRO("fetch-rest", "bytes logged by the primary not yet fetched here"),
	VIEW_MACRO("replay-rest", "bytes fetched here not yet replayed"),
	VIEW_MACRO("work-rest", "bytes logged by the primary not yet replayed here"),
	VIEW_MACRO("replay-pos", "bytes replayed in the replay logfile"),
	VIEW_MACRO("fetch-pos", "bytes here from the replay logfile to the newest"),
	VIEW_MACRO("fetch-size", "bytes logged from the replay logfile to the newest"),
	VIEW_MACRO("replay-lognr", "number of the logfile replay works on"),
	VIEW_MACRO("work-lognr", "number of the newest logfile known"),
	VIEW_MACRO("replay-rate", "replay rate in bytes/s (from clusterd)"),
	VIEW_MACRO("fetch-rate", "fetch rate in bytes/s (from clusterd)"),
	VIEW_MACRO("log-end", "bytes appended to the logfile written here (primary, from clusterd)"),
	VIEW_MACRO("log-durable", "bytes of that logfile known durable (primary, from clusterd)"),
	VIEW_MACRO("pending-writeback", "bytes of completed writes not yet on the disk (primary, from clusterd)"),
	VIEW_MACRO("replay-remain", "seconds until replay-rest is replayed, -1 unknown"),
	VIEW_MACRO("fetch-remain", "seconds until fetch-rest is fetched, -1 unknown"),
	VIEW_MACRO("work-remain", "seconds until this node has replayed all, -1 unknown"),
	VIEW_MACRO("replay-state", "the engine's replay: running, waiting, stopped, failed, ..."),
	VIEW_MACRO("replay-error", "why the replay stopped or failed, or empty"),
	VIEW_MACRO("fetch-logfile", "the logfile fetched now, or (none)"),
	VIEW_MACRO("replay-lag", "seconds this node's replay is behind the primary, -1 unknown"),
	VIEW_MACRO("replay-age", "age in seconds of the oldest write not applied here, -1 unknown"),
	VIEW_MACRO("lag-bytes", "logfile bytes between this node's replay and the primary's"),
	VIEW_MACRO("lag-s", "whole seconds of that lag (replay-age, else the links' stamps)"),
	VIEW_MACRO("fetch-peer", "the host fetched from now, or (none)"),
	VIEW_MACRO("fetch-why", "what keeps the fetch back, or empty"),
	VIEW_MACRO("sync-pos", "bytes of the full sync done"),
	VIEW_MACRO("sync-size", "bytes a full sync covers"),
	VIEW_MACRO("sync-equal", "bytes the running sync found equal"),
	VIEW_MACRO("sync-copied", "bytes the running sync copied"),
	VIEW_MACRO("sync-rate", "sync rate in bytes/s (from clusterd)"),
	VIEW_MACRO("sync-remain", "seconds until sync-rest is synced, -1 unknown"),
	VIEW_MACRO("sync-peer", "the host synced from now, or (none)"),
	VIEW_MACRO("sync-why", "what keeps the sync back, or empty"),
	VIEW_MACRO("is-consistent", "1 if this node's disk is a consistent copy"),
	VIEW_MACRO("is-orphan", "1 if the logfile replay needs is gone here"),
	VIEW_MACRO("is-emergency", "1 if the designated primary is in emergency mode"),
	VIEW_MACRO("driver-action", "what clusterd's replication driver does now, or (none)"),
	VIEW_MACRO("driver-age", "seconds since clusterd's driver status, -1 none"),
	VIEW_MACRO("driver-why", "the driver's explanation, or why there is none"),
	VIEW_MACRO("frontend", "how the userspace engine serves this node's device: nbd, fuse, or (none)"),
	VIEW_MACRO("device", "the userspace engine's device here (/dev/nbdN, FUSE file), or (none)"),
	VIEW_MACRO("is-split-brain", "1 if the members' histories diverge, else 0"),
	VIEW_MACRO("split-point", "where the histories part and how much each side has after it"),
	VIEW_MACRO("deletion-blocker", "the member whose lag keeps logfiles from deletion, or (none)"),
	VIEW_MACRO("is-member", "1 if this node stores the resource"),
	VIEW_MACRO("is-alive", "1 if this node's daemon reported within 60 s"),
	VIEW_MACRO("is-primary", "1 if this node is actually primary"),
	VIEW_MACRO("is-attached", "1 if this node's device is actually attached"),
	VIEW_MACRO("todo-attach", "the attach switch of this node"),
	VIEW_MACRO("todo-fetch", "the fetch switch of this node"),
	VIEW_MACRO("todo-sync", "the sync switch of this node"),
	VIEW_MACRO("todo-replay", "the replay switch of this node"),
	{ .name = NULL },
};
