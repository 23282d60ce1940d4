/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The handover handshake and failover, as the designated primary sees them
 * (docs/replication.md sections 3.2 and 3.3): before this node logs, every
 * other host has left the role and closed its own newest logfile, and this
 * node has replayed the old primary's history to its end; its version link
 * must then equal the old primary's, or it is a split brain and the
 * handover is refused.  A forced primary (failover) takes what is here.
 * The old primary's half is in roles.c (primary_duties: leave for a new
 * primary once the device is closed); marsadm's half, which designates the
 * new primary and waits, is marsadm/cmd_repl.c.
 */
#include "clusterd/driver/roles_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- becoming primary ------------------------------------------------------ */

/*
 * 0 if no other host holds the role, and every host whose newest logfile
 * is its own has closed it: actual-X/closed names that logfile with the
 * length of X's version link, so that link is final.
 */
static int
others_let_go(const struct role_view *v, struct role_action *a)
{
	const struct repl_link *last;
	size_t i;

	for (i = 0; i < v->n_claims; i++) {
		const struct role_claim *c = &v->claims[i];

		if (!strcmp(c->host, v->host))
			continue;
		if (c->is_primary) {
			roles_why(a, "waiting for '%s' to leave the primary role (its device must be "
				"closed); if it is gone: marsadm pause-fetch %s; marsadm primary "
				"--force %s", c->host, v->res, v->res);
			return -1;
		}
		last = repl_history_last(&v->hist, c->host);
		if (last && !strcmp(last->v.origin, c->host) &&
		    !(c->has_closed && c->closed_nr == last->nr &&
		      c->closed_len == last->v.len_bytes)) {
			roles_why(a, "waiting for '%s' to close logfile %09" PRIu64, c->host,
				last->nr);
			return -1;
		}
	}
	return 0;
}

void
roles_become_primary(const struct role_view *v, const struct mars_engine_status *st, int running,
		     struct role_action *a)
{
	const struct repl_replay *r = &v->replay;
	const struct repl_link *ol;
	char made[STATEFS_VALUE_MAX + 1], ov[STATEFS_VALUE_MAX + 1], name[MARS_LOGNAME_MAX + 1];
	int forced = !v->sw_connect;
	uint64_t len, have;

	if (!forced && others_let_go(v, a))
		goto meanwhile;
	if (!r->valid || !strcmp(r->origin, v->host)) {
		/* Our own history (or none): the engine's recovery does the rest. */
		roles_why(a, "becoming primary");
		roles_act(a, running ? ROLE_DETACH : ROLE_START_PRIMARY);
		return;
	}
	ol = roles_link_of(v, r->origin, r->nr);
	len = r->pos_bytes;
	mars_logname_format(name, sizeof(name), r->nr, r->origin);	/* parsed: fits */
	if (!forced) {
		if (!ol) {
			roles_why(a, "waiting for the version link of logfile %09" PRIu64 " from '%s'",
				r->nr, r->origin);
			goto meanwhile;
		}
		if (roles_successor(v, r->nr) || roles_applied_pos(v, st, running, name) < ol->v.len_bytes) {
			roles_why(a, "catching up before taking the primary role");
			goto meanwhile;
		}
		len = ol->v.len_bytes;
	} else {
		have = roles_local_size(v, r->nr, r->origin);
		len = have != UINT64_MAX && have < len ? have : len;
	}
	if (!repl_replay_reached(r, &v->syncpos)) {
		roles_why(a, "the synced disk is consistent only once replay reaches logfile %09"
			PRIu64 " byte %" PRIu64, v->syncpos.nr, v->syncpos.pos_bytes);
		if (!forced)
			goto meanwhile;
		return;
	}
	if (running) {	/* stop the replay first: its last position counts */
		roles_why(a, "stopping replay to take the primary role");
		roles_act(a, ROLE_DETACH);
		return;
	}
	if (roles_make_own(v, r->nr, r->origin, len, made, sizeof(made)) < 0) {
		roles_why(a, "no version link of this node to continue from");
		return;
	}
	if (!forced) {
		roles_link_value(ol, ov, sizeof(ov));
		if (strncmp(made, ov, REPL_DIGEST_HEX)) {
			a->split = 1;
			roles_why(a, "split brain: this node's history differs from '%s''s at logfile "
				"%09" PRIu64 "; refusing the handover", r->origin, r->nr);
			return;
		}
	}
	snprintf(a->link, sizeof(a->link), "%s", made);
	a->link_nr = r->nr;
	roles_why(a, forced ? "failover: taking the primary role with %" PRIu64 " bytes of %s" :
		"handover: caught up with %" PRIu64 " bytes of %s", len, name);
	roles_act(a, ROLE_START_PRIMARY);
	return;

meanwhile:
	{
		/* Keep fetching and replaying while waiting; keep our why. */
		struct role_action sec = { .act = ROLE_IDLE };

		roles_secondary(v, st, running, &sec);
		if (sec.act != ROLE_IDLE && sec.act != ROLE_DETACH) {
			char why[sizeof(a->why)];

			snprintf(why, sizeof(why), "%s", a->why);
			*a = sec;
			snprintf(a->why, sizeof(a->why), "%s", why);
		}
	}
}
