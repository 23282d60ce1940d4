/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The role rules of docs/replication.md section 3, as one pure function.
 * Three situations, one function each:
 *   primary_duties   the engine logs here: stay, rotate, publish the
 *                    length of a quiet logfile, or leave for a new primary
 *   become_primary   this node is designated but does not log yet: wait
 *                    for the old primary to let go and for the catch-up
 *                    (handover), or take what is here (failover); in
 *                    roles_handover.c
 *   secondary        follow the designated history: replay, publish own
 *                    version links, switch to the next logfile
 */
#include "clusterd/driver/roles_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
roles_why(struct role_action *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

void
roles_act(struct role_action *a, enum role_act what)
{
	a->act = what;
}

const struct repl_link *
roles_link_of(const struct role_view *v, const char *host, uint64_t nr)
{
	return repl_history_link(&v->hist, host, nr);
}

/* Local size of logfile @nr of @origin, or UINT64_MAX when absent. */
uint64_t
roles_local_size(const struct role_view *v, uint64_t nr, const char *origin)
{
	size_t i;

	for (i = 0; i < v->hist.n_files; i++)
		if (v->hist.files[i].nr == nr && !strcmp(v->hist.files[i].origin, origin))
			return v->hist.files[i].size_bytes;
	return UINT64_MAX;
}

/* The origin's own link of logfile @nr + 1: the designated primary's first. */
const struct repl_link *
roles_successor(const struct role_view *v, uint64_t nr)
{
	const struct repl_link *l, *any = NULL;
	size_t i;

	for (i = 0; i < v->hist.n_links; i++) {
		l = &v->hist.links[i];
		if (l->nr != nr + 1 || strcmp(l->host, l->v.origin))
			continue;
		if (!strcmp(l->host, v->primary))
			return l;
		if (!any)
			any = l;
	}
	return any;
}

/*
 * The link of logfile @nr of @origin on the designated history: the
 * origin's own, unless logfile @nr + 1 is another host's and that host's
 * link for @nr is the one its successor continues (its PREV).  After a
 * failover the dead origin's link may be stale (a primary moves its own
 * link when its device closes or it rotates), while the new primary's
 * link says how much of the logfile the history holds.  After a handover
 * the two are equal.
 *
 * Only for a node that holds no more of the logfile than that link: the
 * origin itself, or a member that fetched more of it from the origin,
 * may have applied bytes the history does not hold, and keeps comparing
 * with the origin's link, which reports that split brain.
 */
const struct repl_link *
roles_history_link(const struct role_view *v, const char *origin, uint64_t nr)
{
	const struct repl_link *succ = roles_successor(v, nr), *cont;
	uint64_t local;

	if (succ && strcmp(succ->v.origin, origin) && strcmp(origin, v->host) &&
	    (cont = roles_link_of(v, succ->host, nr)) && !strcmp(cont->v.origin, origin) &&
	    !strcmp(cont->v.section, succ->v.prev)) {
		local = roles_local_size(v, nr, origin);
		if (local == UINT64_MAX || local <= cont->v.len_bytes)
			return cont;
	}
	return roles_link_of(v, origin, nr);
}

/*
 * This node's link for logfile @nr of @origin covering @len bytes: its
 * own link relengthened, else a new one after its own link @nr - 1, else
 * after the origin's predecessor (a member that joined at @nr).
 */
int
roles_make_own(const struct role_view *v, uint64_t nr, const char *origin, uint64_t len, char *out,
	       size_t size)
{
	const struct repl_link *own = roles_link_of(v, v->host, nr), *prev, *ol;
	char value[STATEFS_VALUE_MAX + 1];

	if (own) {
		snprintf(value, sizeof(value), "%s:%s", own->v.section, own->v.prev);
		return repl_version_relength(out, size, value, len);
	}
	prev = nr > 0 ? roles_link_of(v, v->host, nr - 1) : NULL;
	if (prev)
		return repl_version_make(out, size, nr, origin, len, prev->v.section);
	ol = roles_link_of(v, origin, nr);
	if (ol && ol->v.has_prev)
		return repl_version_make(out, size, nr, origin, len, ol->v.prev);
	return -ENOENT;
}

void
roles_link_value(const struct repl_link *l, char *out, size_t size)
{
	snprintf(out, size, "%s:%s", l->v.section, l->v.prev);
}

/* ---- primary ------------------------------------------------------------ */

static void
primary_duties(const struct role_view *v, const struct mars_engine_status *st,
	       struct role_action *a)
{
	const struct repl_link *own;
	struct mars_logname ln;
	uint64_t nr, size;

	if (strcmp(v->primary, v->host)) {
		if (v->open_count > 0) {
			roles_why(a, "handing over to '%s': waiting for the device to be closed here "
				"(open-count %" PRIu64 ")", *v->primary ? v->primary : "(none)",
				v->open_count);
			return;
		}
		roles_why(a, "leaving the primary role to '%s'", *v->primary ? v->primary : "(none)");
		roles_act(a, ROLE_STOP_PRIMARY);
		return;
	}
	roles_why(a, "primary, logging to %s", st->logfile);
	if (mars_logname_parse(st->logfile, strlen(st->logfile), &ln) < 0)
		return;
	nr = ln.nr;
	if (v->rotate_req > v->rotate_done ||
	    (v->rotate_bytes && st->log_end >= v->rotate_bytes)) {
		roles_why(a, "rotating %s (%" PRIu64 " bytes)", st->logfile, st->log_end);
		roles_act(a, ROLE_ROTATE);
		return;
	}
	/* A closed device means a quiet logfile: publish its length, so that
	 * a handover can see when a secondary has all of it. */
	own = roles_link_of(v, v->host, nr);
	size = roles_local_size(v, nr, v->host);
	/* The file being written is longer than its log: zeros are
	 * preallocated after the log end (docs/logfile-format.md 1.1), and
	 * secondaries must never be told a length that includes them.  The
	 * engine's log end, of the same status as the logfile's name, is
	 * the length (a status up to a second old may say less: the next
	 * tick publishes the rest; leaving the role closes the link exactly). */
	if (size != UINT64_MAX && size > st->log_end)
		size = st->log_end;
	if (v->open_count == 0 && own && size != UINT64_MAX && own->v.len_bytes != size &&
	    roles_make_own(v, nr, v->host, size, a->link, sizeof(a->link)) >= 0) {
		a->link_nr = nr;
		roles_why(a, "device closed: publishing the length of %s (%" PRIu64 " bytes)",
			st->logfile, size);
		roles_act(a, ROLE_PUBLISH);
	}
}

/* ---- secondary ------------------------------------------------------------ */

/*
 * An orphan: no successor of logfile @nr, but the designated primary's
 * own history already goes on at a higher number (a hole: emergency mode
 * on the primary).  Replay can never get there; only a full sync can.
 */
static int
orphaned(const struct role_view *v, uint64_t nr)
{
	const struct repl_link *last = *v->primary ? repl_history_last(&v->hist, v->primary) : NULL;

	return last && !strcmp(last->v.origin, v->primary) && last->nr > nr + 1 &&
	       !roles_successor(v, nr);
}

/* Say so and return 1 if this node is an orphan at logfile @nr (@name). */
static int
why_orphan(const struct role_view *v, uint64_t nr, const char *name, struct role_action *a)
{
	if (!orphaned(v, nr))
		return 0;
	roles_why(a, "Orphan: '%s' went on after a hole in the history (emergency mode); "
		"this node cannot replay past %s: run 'marsadm invalidate %s' here",
		v->primary, name, v->res);
	return 1;
}

uint64_t
roles_applied_pos(const struct role_view *v, const struct mars_engine_status *st, int running,
		  const char *name)
{
	uint64_t pos = v->replay.pos_bytes;

	if (running && st->mode == MARS_ENGINE_REPLAY && !strcmp(st->logfile, name) &&
	    st->applied_pos > pos)
		pos = st->applied_pos;
	return pos;
}

void
roles_secondary(const struct role_view *v, const struct mars_engine_status *st, int running,
		struct role_action *a)
{
	const struct repl_replay *r = &v->replay;
	const struct repl_link *ol, *own, *succ;
	char name[MARS_LOGNAME_MAX + 1], made[STATEFS_VALUE_MAX + 1], ov[STATEFS_VALUE_MAX + 1];
	char nv[STATEFS_VALUE_MAX + 1];
	uint64_t applied, target;
	int self, ret;

	if (!r->valid) {
		roles_why(a, "no replay link: this node has no place in the history yet "
			"(join-resource)");
		return;
	}
	mars_logname_format(name, sizeof(name), r->nr, r->origin);	/* parsed: fits */
	self = !strcmp(r->origin, v->host);
	applied = roles_applied_pos(v, st, running, name);
	ol = roles_history_link(v, r->origin, r->nr);
	if (!ol) {
		roles_why(a, "waiting for the version link of %s from '%s'", name, r->origin);
		return;
	}
	target = applied < ol->v.len_bytes ? applied : ol->v.len_bytes;
	if (self)
		target = ol->v.len_bytes;
	if (roles_make_own(v, r->nr, r->origin, target, made, sizeof(made)) < 0) {
		roles_why(a, "no version link of this node to continue %s from", name);
		return;
	}
	succ = roles_successor(v, r->nr);
	if (succ) {
		roles_link_value(ol, ov, sizeof(ov));
		roles_link_value(succ, nv, sizeof(nv));
		ret = repl_switchover_check(made, ov, self ? target : applied, nv);
		if (ret == 0) {
			struct repl_version mv;

			if (repl_version_parse(made, &mv) < 0 ||
			    repl_version_make(a->next_link, sizeof(a->next_link), r->nr + 1,
					      succ->v.origin, 0, mv.section) < 0 ||
			    mars_logname_format(a->logfile, sizeof(a->logfile), r->nr + 1,
						succ->v.origin) < 0) {
				roles_why(a, "cannot build the version link for logfile %09" PRIu64,
					r->nr + 1);
				return;
			}
			snprintf(a->link, sizeof(a->link), "%s", made);
			a->link_nr = r->nr;
			roles_why(a, "%s complete: switching to %s", name, a->logfile);
			roles_act(a, ROLE_SWITCH);
			return;
		}
		if (ret == -EXDEV) {
			a->split = 1;
			roles_why(a, "split brain: this node's history of %s differs from '%s''s; "
				"stopped before the divergence (marsadm view; invalidate the side "
				"to discard)", name, succ->v.origin);
			if (running)
				roles_act(a, ROLE_DETACH);
			return;
		}
	}
	if (!v->sw_replay) {
		roles_why(a, "replay paused (resume-replay)");
		if (running)
			roles_act(a, ROLE_DETACH);
		return;
	}
	if (self) {
		if (!why_orphan(v, r->nr, name, a))
			roles_why(a, "secondary, at the end of its own %s; waiting for the next "
				"logfile", name);
		return;
	}
	if (roles_local_size(v, r->nr, r->origin) == UINT64_MAX) {
		roles_why(a, "waiting for the fetch of %s", name);
		return;
	}
	if (!running || st->mode != MARS_ENGINE_REPLAY || strcmp(st->logfile, name)) {
		snprintf(a->logfile, sizeof(a->logfile), "%s", name);
		a->pos = r->pos_bytes;
		roles_why(a, "replaying %s from %" PRIu64, name, a->pos);
		roles_act(a, ROLE_START_REPLAY);
		return;
	}
	own = roles_link_of(v, v->host, r->nr);
	if (!own || own->v.len_bytes != target) {
		snprintf(a->link, sizeof(a->link), "%s", made);
		a->link_nr = r->nr;
		roles_why(a, "replayed %s to %" PRIu64, name, target);
		roles_act(a, ROLE_PUBLISH);
		return;
	}
	if (!why_orphan(v, r->nr, name, a))
		roles_why(a, "secondary, replaying %s at %" PRIu64 " of %" PRIu64 " known", name,
			applied, ol->v.len_bytes);
}

/* ---- full sync ----------------------------------------------------------------- */

/* The disk is not a copy yet: sync it from the primary; no replay meanwhile. */
static void
inconsistent(const struct role_view *v, int running, struct role_action *a)
{
	if (running) {
		roles_why(a, "stopping replay: the disk is being synced");
		roles_act(a, ROLE_DETACH);
		return;
	}
	if (!strcmp(v->primary, v->host)) {
		roles_why(a, "InConsistent: the full sync to this node has not finished, it cannot "
			"be primary; designate another member");
		return;
	}
	if (!v->sw_sync) {
		roles_why(a, "sync paused at %" PRIu64 " of %" PRIu64 " bytes (resume-sync)",
			v->syncstatus, v->size_bytes);
		return;
	}
	if (!*v->primary) {
		roles_why(a, "InConsistent, waiting for a designated primary to sync from");
		return;
	}
	snprintf(a->peer, sizeof(a->peer), "%s", v->primary);
	roles_why(a, "syncing from '%s' at %" PRIu64 " of %" PRIu64 " bytes", v->primary,
		v->syncstatus, v->size_bytes);
	roles_act(a, ROLE_SYNC);
}

/* ---- the decision ----------------------------------------------------------- */

void
roles_decide(const struct role_view *v, const struct mars_engine_status *st, int running,
	     struct role_action *a)
{
	int logging = running && st->mode == MARS_ENGINE_PRIMARY;

	memset(a, 0, sizeof(*a));
	if (!v->member || !v->sw_attach) {
		if (logging && v->open_count > 0) {
			roles_why(a, "detach waits: the device is open (open-count %" PRIu64 ")",
				v->open_count);
		} else if (logging) {
			roles_why(a, "detaching: leaving the primary role");
			roles_act(a, ROLE_STOP_PRIMARY);
		} else if (running) {
			roles_why(a, "detaching");
			roles_act(a, ROLE_DETACH);
		} else {
			roles_why(a, v->member ? "detached (marsadm attach)" : "not a member");
		}
		return;
	}
	if (logging)
		primary_duties(v, st, a);
	else if (v->syncstatus < v->size_bytes)
		inconsistent(v, running, a);
	else if (*v->primary && !strcmp(v->primary, v->host))
		roles_become_primary(v, st, running, a);
	else
		roles_secondary(v, st, running, a);
}

size_t
roles_wanted(const struct role_view *v, struct role_want *w)
{
	const struct repl_replay *r = &v->replay;
	const struct repl_link *ol, *succ;
	size_t n = 0;

	if (!r->valid || !v->sw_connect)
		return 0;
	ol = roles_history_link(v, r->origin, r->nr);
	succ = roles_successor(v, r->nr);
	if (strcmp(r->origin, v->host) &&
	    mars_logname_format(w[n].name, sizeof(w[n].name), r->nr, r->origin) >= 0)
		w[n++].final_len = succ && ol ? ol->v.len_bytes : UINT64_MAX;
	if (succ && strcmp(succ->v.origin, v->host) &&
	    mars_logname_format(w[n].name, sizeof(w[n].name), r->nr + 1, succ->v.origin) >= 0)
		w[n++].final_len = UINT64_MAX;
	return n;
}
