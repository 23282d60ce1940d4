/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The role rules (clusterd/driver/roles.c, docs/replication.md section 3), one
 * situation per test: views built in memory, decisions checked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clusterd/driver/roles.h"
#include "tap.h"

/* Links of one history: anchor 0 and logfiles 1.. of @origin, as @host sees them. */
static char anchor[STATEFS_VALUE_MAX + 1], l1[STATEFS_VALUE_MAX + 1], l2[STATEFS_VALUE_MAX + 1];

static void
make_links(uint64_t len1, uint64_t len2)
{
	struct repl_version a, v1;

	repl_version_make(anchor, sizeof(anchor), 0, "alpha", 0, NULL);
	repl_version_parse(anchor, &a);
	repl_version_make(l1, sizeof(l1), 1, "alpha", len1, a.section);
	repl_version_parse(l1, &v1);
	repl_version_make(l2, sizeof(l2), 2, "alpha", len2, v1.section);
}

/* beta's view: alpha primary logging logfile 1, beta a member at 1. */
static void
view_init(struct role_view *v, const char *primary)
{
	memset(v, 0, sizeof(*v));
	v->host = "beta";
	v->res = "r0";
	v->member = v->sw_attach = v->sw_connect = v->sw_replay = 1;
	snprintf(v->primary, sizeof(v->primary), "%s", primary);
	v->replay.valid = 1;
	v->replay.nr = 1;
	snprintf(v->replay.origin, sizeof(v->replay.origin), "alpha");
	make_links(0, 0);
	repl_history_add_link(&v->hist, "alpha", anchor);
	repl_history_add_link(&v->hist, "alpha", l1);
	repl_history_add_link(&v->hist, "beta", anchor);
	repl_history_add_link(&v->hist, "beta", l1);
	repl_history_sort(&v->hist);
}

static void
claim(struct role_view *v, const char *host, int primary, const char *closed_nr_len)
{
	struct role_claim *c = &v->claims[v->n_claims++];

	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->is_primary = primary;
	if (closed_nr_len &&
	    sscanf(closed_nr_len, "%" SCNu64 ",%" SCNu64, &c->closed_nr, &c->closed_len) == 2)
		c->has_closed = 1;
}

static void
set_link(struct role_view *v, const char *host, const char *value)
{
	struct repl_history h = { 0 };
	size_t i;

	for (i = 0; i < v->hist.n_links; i++) {
		struct repl_link *l = &v->hist.links[i];
		char cur[STATEFS_VALUE_MAX + 1];
		struct repl_version nv;

		repl_version_parse(value, &nv);
		snprintf(cur, sizeof(cur), "%s:%s", l->v.section, l->v.prev);
		if (!strcmp(l->host, host) && l->nr == nv.nr)
			continue;
		repl_history_add_link(&h, l->host, cur);
	}
	for (i = 0; i < v->hist.n_files; i++)
		repl_history_add_file(&h, v->hist.files[i].nr, v->hist.files[i].origin,
				      v->hist.files[i].size_bytes);
	repl_history_add_link(&h, host, value);
	repl_history_sort(&h);
	repl_history_release(&v->hist);
	v->hist = h;
}

static struct mars_engine_status
engine(enum mars_engine_mode mode, const char *logfile, uint64_t applied)
{
	struct mars_engine_status st;

	memset(&st, 0, sizeof(st));
	st.mode = mode;
	st.replay = mode == MARS_ENGINE_REPLAY ? MARS_ENGINE_RS_WAITING : MARS_ENGINE_RS_NONE;
	snprintf(st.logfile, sizeof(st.logfile), "%s", logfile);
	st.applied_pos = applied;
	return st;
}

static void
test_detached(void)
{
	struct mars_engine_status st = engine(MARS_ENGINE_PRIMARY, "log-000000001-beta", 0);
	struct role_action a;
	struct role_view v;

	view_init(&v, "beta");
	v.sw_attach = 0;
	v.open_count = 1;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_IDLE && strstr(a.why, "device is open"),
	       "detach waits while the primary's device is open");
	v.open_count = 0;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_STOP_PRIMARY, "detach of a closed primary stops logging first");
	st = engine(MARS_ENGINE_REPLAY, "log-000000001-alpha", 0);
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_DETACH, "detach stops a replay");
	v.member = 0;
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_IDLE && strstr(a.why, "not a member"), "a non-member does nothing");
	repl_history_release(&v.hist);
}

static void
test_primary_duties(void)
{
	struct mars_engine_status st = engine(MARS_ENGINE_PRIMARY, "log-000000001-beta", 0);
	struct role_action a;
	struct role_view v;
	char own[STATEFS_VALUE_MAX + 1];
	struct repl_version an;

	view_init(&v, "alpha");
	v.open_count = 2;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_IDLE && strstr(a.why, "open-count 2"),
	       "a primary no longer designated keeps logging while its device is open");
	v.open_count = 0;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_STOP_PRIMARY, "... and leaves once it is closed");

	/* beta logs its own logfile 1 (made after its anchor). */
	snprintf(v.primary, sizeof(v.primary), "beta");
	repl_version_make(anchor, sizeof(anchor), 0, "beta", 0, NULL);
	repl_version_parse(anchor, &an);
	repl_version_make(own, sizeof(own), 1, "beta", 0, an.section);
	set_link(&v, "beta", own);
	repl_history_add_file(&v.hist, 1, "beta", 4096);
	v.rotate_req = 3;
	v.rotate_done = 2;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_ROTATE, "a rotation request is served");
	v.rotate_req = 2;
	v.rotate_bytes = 1000;
	st.log_end = 1000;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_ROTATE, "the logfile is rotated at the size limit");
	v.rotate_bytes = 0;
	st.log_end = 4096;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_PUBLISH && a.link_nr == 1 && strstr(a.link, ",4096:"),
	       "a quiet logfile's length is published in the own link");
	v.hist.files[v.hist.n_files - 1].size_bytes = 4096 + (4u << 20);
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_PUBLISH && a.link_nr == 1 && strstr(a.link, ",4096:"),
	       "... its log end, not the preallocated zeros after it (file %llu bytes)",
	       (unsigned long long)v.hist.files[v.hist.n_files - 1].size_bytes);
	v.open_count = 1;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_IDLE, "... but not while the device is open");
	repl_history_release(&v.hist);
}

static void
test_secondary(void)
{
	struct mars_engine_status st = engine(MARS_ENGINE_ATTACHED, "", 0);
	struct role_want w[2];
	struct role_action a;
	struct role_view v;

	view_init(&v, "alpha");
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_IDLE && strstr(a.why, "waiting for the fetch"),
	       "no replay before the logfile arrived");
	tap_ok(roles_wanted(&v, w) == 1 && !strcmp(w[0].name, "log-000000001-alpha") &&
	       w[0].final_len == UINT64_MAX, "the current logfile is followed while it grows");
	repl_history_add_file(&v.hist, 1, "alpha", 100);
	v.replay.pos_bytes = 40;
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_START_REPLAY && !strcmp(a.logfile, "log-000000001-alpha") &&
	       a.pos == 40, "replay starts at the replay link's position");

	/* alpha closed logfile 1 at 100 bytes and started 2. */
	make_links(100, 0);
	set_link(&v, "alpha", l1);
	set_link(&v, "alpha", l2);
	tap_ok(roles_wanted(&v, w) == 2 && w[0].final_len == 100 &&
	       !strcmp(w[1].name, "log-000000002-alpha"), "a closed logfile is wanted to its length, "
	       "then its successor");
	st = engine(MARS_ENGINE_REPLAY, "log-000000001-alpha", 60);
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_PUBLISH && strstr(a.link, ",60:"), "the own link follows the replay");
	st.applied_pos = 100;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_SWITCH && !strcmp(a.logfile, "log-000000002-alpha") &&
	       !strcmp(a.link, l1), "switchover once replayed to the end: own link equals the origin's");

	/* A successor that does not extend the closed logfile: a split. */
	{
		char other[STATEFS_VALUE_MAX + 1], bad[STATEFS_VALUE_MAX + 1];
		struct repl_version o;

		make_links(90, 0);
		repl_version_parse(l1, &o);
		snprintf(other, sizeof(other), "%s", l1);
		repl_version_make(bad, sizeof(bad), 2, "alpha", 0, o.section);
		make_links(100, 0);
		set_link(&v, "alpha", bad);
		roles_decide(&v, &st, 1, &a);
		tap_ok(a.split && a.act == ROLE_DETACH && strstr(a.why, "split brain"),
		       "a successor on another history stops the replay");
	}
	v.sw_replay = 0;
	make_links(100, 0);
	set_link(&v, "alpha", l2);
	st.applied_pos = 50;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_DETACH && strstr(a.why, "paused"), "pause-replay stops the replay");
	v.sw_connect = 0;
	tap_ok(roles_wanted(&v, w) == 0, "pause-fetch wants nothing");
	repl_history_release(&v.hist);
}

static void
test_become_primary(void)
{
	struct mars_engine_status st = engine(MARS_ENGINE_REPLAY, "log-000000001-alpha", 100);
	struct role_action a;
	struct role_view v;

	view_init(&v, "beta");
	make_links(100, 0);
	set_link(&v, "alpha", l1);
	repl_history_add_file(&v.hist, 1, "alpha", 100);
	v.replay.pos_bytes = 100;
	claim(&v, "alpha", 1, NULL);
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act != ROLE_START_PRIMARY && strstr(a.why, "leave the primary role"),
	       "handover waits while the old primary logs");
	v.claims[0].is_primary = 0;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act != ROLE_START_PRIMARY && strstr(a.why, "close logfile 000000001"),
	       "... and until it closed its logfile");
	claim(&v, "alpha", 0, "1,90");
	v.n_claims = 1;
	v.claims[0] = v.claims[1];
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act != ROLE_START_PRIMARY, "... at exactly the published length");
	v.claims[0].closed_len = 100;
	roles_decide(&v, &st, 1, &a);
	tap_ok(a.act == ROLE_DETACH, "caught up: the replay stops first");
	st = engine(MARS_ENGINE_ATTACHED, "", 0);
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_START_PRIMARY && a.link_nr == 1 && !strcmp(a.link, l1),
	       "then logging starts, own link equal to the old primary's");
	v.replay.pos_bytes = 70;
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_START_REPLAY, "not caught up: replay goes on");

	/* Failover: fetch paused, the old primary still claims the role. */
	v.claims[0].is_primary = 1;
	v.sw_connect = 0;
	roles_decide(&v, &st, 0, &a);
	tap_ok(a.act == ROLE_START_PRIMARY && strstr(a.link, ",70:") && strstr(a.why, "failover"),
	       "failover takes the history as replayed (70 of 100 bytes)");
	repl_history_release(&v.hist);
}

/*
 * After a failover: alpha died in logfile 1 with its own link stale at 0
 * (its device stayed open), gamma took the role with 80 bytes of it and
 * logs 2.  beta, which held less, wants logfile 1 up to gamma's 80 and
 * switches over there; beta holding more than gamma's 80 is a split.
 */
static void
test_failover_history(void)
{
	char g1[STATEFS_VALUE_MAX + 1], g2[STATEFS_VALUE_MAX + 1];
	struct mars_engine_status st;
	struct repl_version a, v1;
	struct role_want w[2];
	struct role_action act;
	struct role_view v;

	view_init(&v, "gamma");
	repl_version_parse(anchor, &a);
	repl_version_make(g1, sizeof(g1), 1, "alpha", 80, a.section);
	repl_version_parse(g1, &v1);
	repl_version_make(g2, sizeof(g2), 2, "gamma", 0, v1.section);
	set_link(&v, "gamma", anchor);
	set_link(&v, "gamma", g1);
	set_link(&v, "gamma", g2);
	repl_history_add_file(&v.hist, 1, "alpha", 50);
	repl_history_sort(&v.hist);
	tap_ok(roles_wanted(&v, w) == 2 && w[0].final_len == 80 &&
	       !strcmp(w[1].name, "log-000000002-gamma"),
	       "failover: the dead origin's logfile is wanted to the new primary's length");
	st = engine(MARS_ENGINE_REPLAY, "log-000000001-alpha", 50);
	roles_decide(&v, &st, 1, &act);
	tap_ok(!act.split && act.act != ROLE_SWITCH, "failover: holding less is lag, not a split");
	v.hist.files[0].size_bytes = 80;
	st.applied_pos = 80;
	roles_decide(&v, &st, 1, &act);
	tap_ok(act.act == ROLE_SWITCH && !strcmp(act.logfile, "log-000000002-gamma"),
	       "failover: replayed to the new primary's length, the laggard switches over");
	v.hist.files[0].size_bytes = 120;
	st.applied_pos = 120;
	roles_decide(&v, &st, 1, &act);
	tap_ok(act.split && act.act != ROLE_SWITCH,
	       "failover: holding more than the new primary's history is a split");
	repl_history_release(&v.hist);
}

int
main(void)
{
	test_detached();
	test_primary_duties();
	test_secondary();
	test_become_primary();
	test_failover_history();
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
