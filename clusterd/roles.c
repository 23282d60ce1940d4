/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The role rules of docs/replication.md section 3, as one pure function.
 * Three situations, one function each:
 *   primary_duties   the engine logs here: stay, rotate, publish the
 *                    length of a quiet logfile, or leave for a new primary
 *   become_primary   this node is designated but does not log yet: wait
 *                    for the old primary to let go and for the catch-up
 *                    (handover), or take what is here (failover)
 *   secondary        follow the designated history: replay, publish own
 *                    version links, switch to the next logfile
 */
#include "clusterd/roles.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
set_why(struct role_action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_why(struct role_action *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

static void
act(struct role_action *a, enum role_act what)
{
	a->act = what;
}

static const struct repl_link *
link_of(const struct role_view *v, const char *host, uint64_t nr)
{
	return repl_history_link(&v->hist, host, nr);
}

/* Local size of logfile @nr of @origin, or UINT64_MAX when absent. */
static uint64_t
local_size(const struct role_view *v, uint64_t nr, const char *origin)
{
	size_t i;

	for (i = 0; i < v->hist.n_files; i++)
		if (v->hist.files[i].nr == nr && !strcmp(v->hist.files[i].origin, origin))
			return v->hist.files[i].size_bytes;
	return UINT64_MAX;
}

/* The origin's own link of logfile @nr + 1: the designated primary's first. */
static const struct repl_link *
successor(const struct role_view *v, uint64_t nr)
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
 * This node's link for logfile @nr of @origin covering @len bytes: its
 * own link relengthened, else a new one after its own link @nr - 1, else
 * after the origin's predecessor (a member that joined at @nr).
 */
static int
make_own(const struct role_view *v, uint64_t nr, const char *origin, uint64_t len, char *out,
	 size_t size)
{
	const struct repl_link *own = link_of(v, v->host, nr), *prev, *ol;
	char value[STATEFS_VALUE_MAX + 1];

	if (own) {
		snprintf(value, sizeof(value), "%s:%s", own->v.section, own->v.prev);
		return repl_version_relength(out, size, value, len);
	}
	prev = nr > 0 ? link_of(v, v->host, nr - 1) : NULL;
	if (prev)
		return repl_version_make(out, size, nr, origin, len, prev->v.section);
	ol = link_of(v, origin, nr);
	if (ol && ol->v.has_prev)
		return repl_version_make(out, size, nr, origin, len, ol->v.prev);
	return -ENOENT;
}

static void
link_value(const struct repl_link *l, char *out, size_t size)
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
			set_why(a, "handing over to '%s': waiting for the device to be closed here "
				"(open-count %" PRIu64 ")", *v->primary ? v->primary : "(none)",
				v->open_count);
			return;
		}
		set_why(a, "leaving the primary role to '%s'", *v->primary ? v->primary : "(none)");
		act(a, ROLE_STOP_PRIMARY);
		return;
	}
	set_why(a, "primary, logging to %s", st->logfile);
	if (mars_logname_parse(st->logfile, strlen(st->logfile), &ln) < 0)
		return;
	nr = ln.nr;
	if (v->rotate_req > v->rotate_done ||
	    (v->rotate_bytes && st->log_end >= v->rotate_bytes)) {
		set_why(a, "rotating %s (%" PRIu64 " bytes)", st->logfile, st->log_end);
		act(a, ROLE_ROTATE);
		return;
	}
	/* A closed device means a quiet logfile: publish its length, so that
	 * a handover can see when a secondary has all of it. */
	own = link_of(v, v->host, nr);
	size = local_size(v, nr, v->host);
	if (v->open_count == 0 && own && size != UINT64_MAX && own->v.len_bytes != size &&
	    make_own(v, nr, v->host, size, a->link, sizeof(a->link)) >= 0) {
		a->link_nr = nr;
		set_why(a, "device closed: publishing the length of %s (%" PRIu64 " bytes)",
			st->logfile, size);
		act(a, ROLE_PUBLISH);
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
	       !successor(v, nr);
}

/* Say so and return 1 if this node is an orphan at logfile @nr (@name). */
static int
why_orphan(const struct role_view *v, uint64_t nr, const char *name, struct role_action *a)
{
	if (!orphaned(v, nr))
		return 0;
	set_why(a, "Orphan: '%s' went on after a hole in the history (emergency mode); "
		"this node cannot replay past %s: run 'marsadm invalidate %s' here",
		v->primary, name, v->res);
	return 1;
}

static uint64_t
applied_pos(const struct role_view *v, const struct mars_engine_status *st, int running,
	    const char *name)
{
	uint64_t pos = v->replay.pos_bytes;

	if (running && st->mode == MARS_ENGINE_REPLAY && !strcmp(st->logfile, name) &&
	    st->applied_pos > pos)
		pos = st->applied_pos;
	return pos;
}

static void
secondary(const struct role_view *v, const struct mars_engine_status *st, int running,
	  struct role_action *a)
{
	const struct repl_replay *r = &v->replay;
	const struct repl_link *ol, *own, *succ;
	char name[MARS_LOGNAME_MAX + 1], made[STATEFS_VALUE_MAX + 1], ov[STATEFS_VALUE_MAX + 1];
	char nv[STATEFS_VALUE_MAX + 1];
	uint64_t applied, target;
	int self, ret;

	if (!r->valid) {
		set_why(a, "no replay link: this node has no place in the history yet "
			"(join-resource)");
		return;
	}
	mars_logname_format(name, sizeof(name), r->nr, r->origin);	/* parsed: fits */
	self = !strcmp(r->origin, v->host);
	applied = applied_pos(v, st, running, name);
	ol = link_of(v, r->origin, r->nr);
	if (!ol) {
		set_why(a, "waiting for the version link of %s from '%s'", name, r->origin);
		return;
	}
	target = applied < ol->v.len_bytes ? applied : ol->v.len_bytes;
	if (self)
		target = ol->v.len_bytes;
	if (make_own(v, r->nr, r->origin, target, made, sizeof(made)) < 0) {
		set_why(a, "no version link of this node to continue %s from", name);
		return;
	}
	succ = successor(v, r->nr);
	if (succ) {
		link_value(ol, ov, sizeof(ov));
		link_value(succ, nv, sizeof(nv));
		ret = repl_switchover_check(made, ov, self ? target : applied, nv);
		if (ret == 0) {
			struct repl_version mv;

			if (repl_version_parse(made, &mv) < 0 ||
			    repl_version_make(a->next_link, sizeof(a->next_link), r->nr + 1,
					      succ->v.origin, 0, mv.section) < 0 ||
			    mars_logname_format(a->logfile, sizeof(a->logfile), r->nr + 1,
						succ->v.origin) < 0) {
				set_why(a, "cannot build the version link for logfile %09" PRIu64,
					r->nr + 1);
				return;
			}
			snprintf(a->link, sizeof(a->link), "%s", made);
			a->link_nr = r->nr;
			set_why(a, "%s complete: switching to %s", name, a->logfile);
			act(a, ROLE_SWITCH);
			return;
		}
		if (ret == -EXDEV) {
			a->split = 1;
			set_why(a, "split brain: this node's history of %s differs from '%s''s; "
				"stopped before the divergence (marsadm view; invalidate the side "
				"to discard)", name, succ->v.origin);
			if (running)
				act(a, ROLE_DETACH);
			return;
		}
	}
	if (!v->sw_replay) {
		set_why(a, "replay paused (resume-replay)");
		if (running)
			act(a, ROLE_DETACH);
		return;
	}
	if (self) {
		if (!why_orphan(v, r->nr, name, a))
			set_why(a, "secondary, at the end of its own %s; waiting for the next "
				"logfile", name);
		return;
	}
	if (local_size(v, r->nr, r->origin) == UINT64_MAX) {
		set_why(a, "waiting for the fetch of %s", name);
		return;
	}
	if (!running || st->mode != MARS_ENGINE_REPLAY || strcmp(st->logfile, name)) {
		snprintf(a->logfile, sizeof(a->logfile), "%s", name);
		a->pos = r->pos_bytes;
		set_why(a, "replaying %s from %" PRIu64, name, a->pos);
		act(a, ROLE_START_REPLAY);
		return;
	}
	own = link_of(v, v->host, r->nr);
	if (!own || own->v.len_bytes != target) {
		snprintf(a->link, sizeof(a->link), "%s", made);
		a->link_nr = r->nr;
		set_why(a, "replayed %s to %" PRIu64, name, target);
		act(a, ROLE_PUBLISH);
		return;
	}
	if (!why_orphan(v, r->nr, name, a))
		set_why(a, "secondary, replaying %s at %" PRIu64 " of %" PRIu64 " known", name,
			applied, ol->v.len_bytes);
}

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
			set_why(a, "waiting for '%s' to leave the primary role (its device must be "
				"closed); if it is gone: marsadm pause-fetch %s; marsadm primary "
				"--force %s", c->host, v->res, v->res);
			return -1;
		}
		last = repl_history_last(&v->hist, c->host);
		if (last && !strcmp(last->v.origin, c->host) &&
		    !(c->has_closed && c->closed_nr == last->nr &&
		      c->closed_len == last->v.len_bytes)) {
			set_why(a, "waiting for '%s' to close logfile %09" PRIu64, c->host,
				last->nr);
			return -1;
		}
	}
	return 0;
}

static void
become_primary(const struct role_view *v, const struct mars_engine_status *st, int running,
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
		set_why(a, "becoming primary");
		act(a, running ? ROLE_DETACH : ROLE_START_PRIMARY);
		return;
	}
	ol = link_of(v, r->origin, r->nr);
	len = r->pos_bytes;
	mars_logname_format(name, sizeof(name), r->nr, r->origin);	/* parsed: fits */
	if (!forced) {
		if (!ol) {
			set_why(a, "waiting for the version link of logfile %09" PRIu64 " from '%s'",
				r->nr, r->origin);
			goto meanwhile;
		}
		if (successor(v, r->nr) || applied_pos(v, st, running, name) < ol->v.len_bytes) {
			set_why(a, "catching up before taking the primary role");
			goto meanwhile;
		}
		len = ol->v.len_bytes;
	} else {
		have = local_size(v, r->nr, r->origin);
		len = have != UINT64_MAX && have < len ? have : len;
	}
	if (!repl_replay_reached(r, &v->syncpos)) {
		set_why(a, "the synced disk is consistent only once replay reaches logfile %09"
			PRIu64 " byte %" PRIu64, v->syncpos.nr, v->syncpos.pos_bytes);
		if (!forced)
			goto meanwhile;
		return;
	}
	if (running) {	/* stop the replay first: its last position counts */
		set_why(a, "stopping replay to take the primary role");
		act(a, ROLE_DETACH);
		return;
	}
	if (make_own(v, r->nr, r->origin, len, made, sizeof(made)) < 0) {
		set_why(a, "no version link of this node to continue from");
		return;
	}
	if (!forced) {
		link_value(ol, ov, sizeof(ov));
		if (strncmp(made, ov, REPL_DIGEST_HEX)) {
			a->split = 1;
			set_why(a, "split brain: this node's history differs from '%s''s at logfile "
				"%09" PRIu64 "; refusing the handover", r->origin, r->nr);
			return;
		}
	}
	snprintf(a->link, sizeof(a->link), "%s", made);
	a->link_nr = r->nr;
	set_why(a, forced ? "failover: taking the primary role with %" PRIu64 " bytes of %s" :
		"handover: caught up with %" PRIu64 " bytes of %s", len, name);
	act(a, ROLE_START_PRIMARY);
	return;

meanwhile:
	{
		/* Keep fetching and replaying while waiting; keep our why. */
		struct role_action sec = { .act = ROLE_IDLE };

		secondary(v, st, running, &sec);
		if (sec.act != ROLE_IDLE && sec.act != ROLE_DETACH) {
			char why[sizeof(a->why)];

			snprintf(why, sizeof(why), "%s", a->why);
			*a = sec;
			snprintf(a->why, sizeof(a->why), "%s", why);
		}
	}
}

/* ---- full sync ----------------------------------------------------------------- */

/* The disk is not a copy yet: sync it from the primary; no replay meanwhile. */
static void
inconsistent(const struct role_view *v, int running, struct role_action *a)
{
	if (running) {
		set_why(a, "stopping replay: the disk is being synced");
		act(a, ROLE_DETACH);
		return;
	}
	if (!strcmp(v->primary, v->host)) {
		set_why(a, "InConsistent: the full sync to this node has not finished, it cannot "
			"be primary; designate another member");
		return;
	}
	if (!v->sw_sync) {
		set_why(a, "sync paused at %" PRIu64 " of %" PRIu64 " bytes (resume-sync)",
			v->syncstatus, v->size_bytes);
		return;
	}
	if (!*v->primary) {
		set_why(a, "InConsistent, waiting for a designated primary to sync from");
		return;
	}
	snprintf(a->peer, sizeof(a->peer), "%s", v->primary);
	set_why(a, "syncing from '%s' at %" PRIu64 " of %" PRIu64 " bytes", v->primary,
		v->syncstatus, v->size_bytes);
	act(a, ROLE_SYNC);
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
			set_why(a, "detach waits: the device is open (open-count %" PRIu64 ")",
				v->open_count);
		} else if (logging) {
			set_why(a, "detaching: leaving the primary role");
			act(a, ROLE_STOP_PRIMARY);
		} else if (running) {
			set_why(a, "detaching");
			act(a, ROLE_DETACH);
		} else {
			set_why(a, v->member ? "detached (marsadm attach)" : "not a member");
		}
		return;
	}
	if (logging)
		primary_duties(v, st, a);
	else if (v->syncstatus < v->size_bytes)
		inconsistent(v, running, a);
	else if (*v->primary && !strcmp(v->primary, v->host))
		become_primary(v, st, running, a);
	else
		secondary(v, st, running, a);
}

size_t
roles_wanted(const struct role_view *v, struct role_want *w)
{
	const struct repl_replay *r = &v->replay;
	const struct repl_link *ol, *succ;
	size_t n = 0;

	if (!r->valid || !v->sw_connect)
		return 0;
	ol = link_of(v, r->origin, r->nr);
	succ = successor(v, r->nr);
	if (strcmp(r->origin, v->host) &&
	    mars_logname_format(w[n].name, sizeof(w[n].name), r->nr, r->origin) >= 0)
		w[n++].final_len = succ && ol ? ol->v.len_bytes : UINT64_MAX;
	if (succ && strcmp(succ->v.origin, v->host) &&
	    mars_logname_format(w[n].name, sizeof(w[n].name), r->nr + 1, succ->v.origin) >= 0)
		w[n++].final_len = UINT64_MAX;
	return n;
}
