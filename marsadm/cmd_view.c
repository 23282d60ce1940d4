/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `marsadm view [RES|all]` and `marsadm view-MACRO [RES|all]`: read-only
 * reports of resources as this node sees them.  Both load the same model
 * (view_model.c) and print macro values (view_macros.c); `view` prints
 * the summary line, `view-MACRO` one value.  With --json every resource
 * is one object whose fields are macro names.
 */
#include "marsadm/state.h"
#include "marsadm/view.h"

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

/* The lines under the summary that say what needs an operator. */
static void
show_problems(const struct view_res *v)
{
	const struct repl_split *sp = &v->split;
	char age[32];

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
		show_problems(v);
		return MX_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "resource", json_object_new_string(v->name));
	for (i = 0; view_macros[i].name; i++) {
		view_macros[i].fn(v, &val);
		json_object_object_add(o, view_macros[i].name, json_val(&val));
	}
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
	struct view_res v;
	struct res_list rl;
	struct statefs sf;
	int ret;
	size_t i;

	ret = state_open(ctx, &sf, 0);
	if (ret == MX_OK)
		ret = res_list_parse(ctx, &sf, arg, 0, &rl);
	if (ret != MX_OK) {
		statefs_close(&sf);
		return ret;
	}
	for (i = 0; ret == MX_OK && i < rl.n; i++) {
		if (view_load(&sf, rl.names[i], ctx->host, &v) < 0)
			ret = fail(MX_IO, "cannot read resource '%s' in '%s'", rl.names[i], ctx->root);
		else if (m)
			ret = show_macro(ctx, m, &v, single(arg));
		else
			ret = show_summary(ctx, &v, single(arg));
		view_release(&v);
	}
	res_list_release(&rl);
	statefs_close(&sf);
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
