/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The operator's words for one replica: role, disk state, replication
 * state and the six flags.  The words follow MARS so that its operators
 * read them without a glossary; docs/marsadm.8 lists every word and the
 * order in which the states are tested, which is the order of the tests
 * in each function below.  Both `marsadm view` and clusterd's status page
 * print these and nothing else, so the rules live only here.
 */
#include "view/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int
view_designated(const struct view_res *v)
{
	return v->primary[0] && !strcmp(v->primary, v->host);
}

int
view_syncpos_reached(const struct view_res *v)
{
	const struct view_replay *r = &v->replay, *m = &v->syncpos;

	return !m->valid || (r->valid && (r->lognr > m->lognr ||
					  (r->lognr == m->lognr && r->pos_bytes >= m->pos_bytes)));
}

/* Synced, and replay passed the primary's log position at the sync's end. */
int
view_consistent(const struct view_res *v)
{
	return v->syncstatus_bytes >= v->size_bytes && view_syncpos_reached(v);
}

/* Only this node can look at its device; another host's counts as present. */
static int
device_present(const struct view_res *v)
{
	struct stat st;

	return !v->in.local || stat(v->data, &st) == 0;
}

int
view_daemon_runs(const struct view_res *v)
{
	return v->in.local ? v->drv.state == DRV_FRESH : v->beat == BEAT_FRESH;
}

/*
 * Switch @k is off, but the host's running daemon has not carried that
 * out yet (no acted- key saying so: a fetch or replay may be in flight).
 * Without a daemon nothing runs, so an off switch holds at once.
 */
static int
pausing(const struct view_res *v, enum view_todo k)
{
	return v->todo[k] == 0 && v->acted[k] != 0 && view_daemon_runs(v);
}

const char *
view_diskstate(const struct view_res *v, char *buf, size_t size)
{
	int f, r;

	if (!v->member)
		return "NotJoined";
	if (!device_present(v))
		return "NotPresent";
	if (v->todo[TODO_ATTACH] != 1)
		return v->is_attached == 1 ? "Detaching" : "Detached";
	if (v->orphan)
		return "Orphan";
	if (v->is_attached != 1)
		return "NoAttach";
	if (!view_consistent(v))
		return "InConsistent";
	if (view_designated(v) && v->replay_rest_bytes) {
		snprintf(buf, size, "%s[%" PRIu64 "]",
			 v->is_primary == 1 ? "WriteBack" : "Recovery", v->replay_rest_bytes);
		return buf;
	}
	/* A paused fetch or replay cannot know it is up to date: outdated. */
	f = v->fetch_rest_bytes || v->todo[TODO_CONNECT] == 0;
	r = v->replay_rest_bytes || v->todo[TODO_REPLAY] == 0;
	if (!view_designated(v) && (f || r)) {
		snprintf(buf, size, "OutDated[%s%s]", f ? "F" : "", r ? "R" : "");
		return buf;
	}
	if (v->primary_emergency)
		return "EmergencyMode";
	return "UpToDate";
}

const char *
view_replstate(const struct view_res *v)
{
	if (!v->member)
		return "NotJoined";
	if (v->beat != BEAT_FRESH)
		return v->beat == BEAT_NONE ? "NotStarted" : "UnResponsive";
	if (view_designated(v) && v->primary_emergency)
		return "EmergencyMode";
	if (v->is_primary == 1)
		return "Replicating";
	if (view_designated(v))
		return "NotYetPrimary";
	if (v->syncstatus_bytes < v->size_bytes)
		return v->todo[TODO_SYNC] == 1 ? "Syncing" :
		       pausing(v, TODO_SYNC) ? "PausingSync" : "PausedSync";
	if (v->todo[TODO_CONNECT] != 1)
		return pausing(v, TODO_CONNECT) ? "PausingFetch" : "PausedFetch";
	if (v->todo[TODO_REPLAY] != 1)
		return pausing(v, TODO_REPLAY) ? "PausingReplay" : "PausedReplay";
	if (!v->primary[0])
		return "NoPrimaryDesignated";
	if (!v->primary_alive)
		return "PrimaryUnreachable";
	if (v->orphan)
		return "Orphan";
	return "Replaying";
}

/* Switch on and reached: upper case; on, not reached: lower; off: '-'. */
static char
flag(int on, int reached, char c)
{
	if (!on)
		return '-';
	return reached ? c : (char)(c + ('a' - 'A'));
}

void
view_flags(const struct view_res *v, char f[7])
{
	if (!v->member) {
		memcpy(f, "------", 7);
		return;
	}
	f[0] = v->is_primary == 1 ? 'D' : v->is_attached == 1 ? 'd' : '-';
	f[1] = view_consistent(v) ? 'C' : 'c';
	f[2] = flag(v->todo[TODO_ATTACH] == 1, v->is_attached == 1, 'A');
	f[3] = v->syncstatus_bytes >= v->size_bytes ? 'S' : flag(v->todo[TODO_SYNC] == 1, 0, 'S');
	f[4] = flag(v->todo[TODO_CONNECT] == 1, v->fetch_rest_bytes == 0, 'F');
	f[5] = flag(v->todo[TODO_REPLAY] == 1, v->replay_rest_bytes == 0, 'R');
	f[6] = '\0';
}

const char *
view_role(const struct view_res *v)
{
	if (!v->member)
		return "None";
	if (view_designated(v) && v->is_primary == 1 && v->n_actual_primaries > 1)
		return "ForcedPrimary";
	if (view_designated(v))
		return v->is_primary == 1 ? "Primary" : "NotYetPrimary";
	return v->is_primary == 1 ? "RemainsPrimary" : "Secondary";
}
