/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Authorization of merged entries: what a peer may make us store.
 * statefs_merge() checks the grammar and that a live owned name comes
 * from its owner; this adds what a node knows about itself and its
 * cluster (docs/state-tree.md section 8):
 *
 *  - our own names are written and deleted only here: a peer's entry or
 *    tombstone for one is refused, whoever relays it; so data-US and
 *    device-US, the names that lead to local files, are never taken
 *    from a peer, nor are our todo switches or our address;
 *  - another host's names, live or tombstone, only from that host itself
 *    (statefs_merge() alone takes tombstones from anyone);
 *  - ips/ip-X is changed or deleted only by X itself; a relayed one is
 *    taken only while X is unknown here (how a member learns of another);
 *  - keys/key-X (X's SSH key, which our daemon lets log in as X) only
 *    from X itself, and never while X is evicted; a joining node alone
 *    takes the member's copies of keys it holds none of;
 *  - evicted/X (X removed by another member, docs/state-tree.md section
 *    8) from any member: nothing is taken from X any more, nor a live
 *    ips/ip-X from anyone, while a relayed tombstone of ips/ip-X is;
 *  - resource-RES/size only grows; resource-RES/primary names a host with
 *    a data- link in RES (checked again at the end of each batch for a
 *    while, since the data- link of a new resource may come after its
 *    primary, even in a later batch);
 *  - a stamp beyond real time plus the allowed skew is refused;
 *  - each origin host (the owner of a name; "" for cluster-wide keys)
 *    holds at most so many links and bytes in our tree.
 *
 * An entry that only repeats what we hold is no attempt to change it and
 * is ignored quietly (every member relays ips/ links and tombstones).
 * Entries are not signed: cluster-wide keys and tombstones relayed by a
 * member are trusted to that member.  Refusals are logged with the peer's
 * name, escaped (log_escape()) and rate-limited, and counted: the
 * daemon's in its tree handle's stats, the serving ends' also in the
 * node's counters file (authz_count_entries()), which the daemon's
 * metrics add to its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/authz.h"
#include "clusterd/gossip/gossip.h"
#include "common/log.h"

#define RECOUNT_MS	5000	/* an origin at its quota is recounted this often */
#define DEFER_MS	30000	/* a primary waits this long for its member's data- link */
#define LOG_WINDOW_MS	10000
#define LOG_PER_WINDOW	10	/* refusal lines per window; the rest counted */

static const char *const verdict_str[AUTHZ_NR] = {
	[AUTHZ_OK]		= "accepted",
	[AUTHZ_UUID]		= "the cluster uuid never changes",
	[AUTHZ_IPS]		= "not an ips/ip-HOST name with an IP address",
	[AUTHZ_OWN_NAME]	= "a name of this host: only this host writes it",
	[AUTHZ_NOT_OWNER]	= "a name of another host: only that host writes or deletes it",
	[AUTHZ_IPS_RELAY]	= "the address of a known member comes only from that member",
	[AUTHZ_SIZE_SHRINK]	= "a resource size only grows",
	[AUTHZ_PRIMARY]		= "primary names no member of the resource",
	[AUTHZ_FUTURE]		= "stamp beyond the allowed clock skew",
	[AUTHZ_QUOTA]		= "origin host over its quota of entries or bytes",
	[AUTHZ_MERGE]		= "refused by the tree",
	[AUTHZ_EVICTED]		= "an evicted host is no member until readmitted",
	[AUTHZ_EVICT_NAME]	= "not an evicted/HOST name naming the evicting host",
	[AUTHZ_KEY_NAME]	= "not a keys/key-HOST name",
	[AUTHZ_KEY_RELAY]	= "the key of a host comes only from that host",
};

const char *
authz_verdict_str(enum authz_verdict v)
{
	return v < AUTHZ_NR ? verdict_str[v] : "?";
}

int
authz_init(struct authz *a, struct statefs *sf, const char *uuid,
	   const struct authz_limits *lim)
{
	memset(a, 0, sizeof(*a));
	a->sf = sf;
	a->uuid = uuid;
	a->role = "peer";
	if (lim)
		a->lim = *lim;
	if (!a->lim.skew_s)
		a->lim.skew_s = AUTHZ_SKEW_S_DEFAULT;
	if (!a->lim.quota_entries)
		a->lim.quota_entries = AUTHZ_QUOTA_ENTRIES_DEFAULT;
	if (!a->lim.quota_bytes)
		a->lim.quota_bytes = AUTHZ_QUOTA_BYTES_DEFAULT;
	a->origins = calloc(AUTHZ_ORIGINS_MAX, sizeof(*a->origins));
	a->deferred = calloc(AUTHZ_DEFERRED_MAX, sizeof(*a->deferred));
	if (!a->origins || !a->deferred) {
		authz_release(a);
		return -ENOMEM;
	}
	statefs_set_future_bound_ns(sf, (uint64_t)a->lim.skew_s * STATEFS_NS_PER_S);
	return 0;
}

void
authz_release(struct authz *a)
{
	free(a->origins);
	free(a->deferred);
	a->origins = NULL;
	a->deferred = NULL;
}

/* ---- the rules ---------------------------------------------------------------- */

static enum authz_verdict
check_primary(struct authz *a, const struct statefs_keyinfo *ki, const char *value)
{
	if (!strcmp(value, STATEFS_TOMBSTONE) || !strcmp(value, STATEFS_NONE))
		return AUTHZ_OK;
	return statefs_is_member(a->sf, ki->resource, value) > 0 ? AUTHZ_OK : AUTHZ_PRIMARY;
}

static enum authz_verdict
check_size(struct authz *a, const char *path, const char *value)
{
	struct statefs_entry e;
	unsigned long long have, want;
	char *end;

	if (!strcmp(value, STATEFS_TOMBSTONE) || statefs_read(a->sf, path, &e) < 0 ||
	    e.tombstone)
		return AUTHZ_OK;
	have = strtoull(e.value, &end, 10);
	if (*end)
		return AUTHZ_OK;	/* ours is garbage: let any value repair it */
	want = strtoull(value, &end, 10);
	return *end || end == value || want < have ? AUTHZ_SIZE_SHRINK : AUTHZ_OK;
}

/* ips/ip-X and keys/key-X, entries about member X that X writes: the
 * verdict for ours, an evicted X's and X's own, or AUTHZ_NR for one
 * relayed by another member, which the entry's own rule decides.  While
 * X is evicted a relayed tombstone is taken: it only removes. */
static enum authz_verdict
check_about(struct authz *a, const char *peer, const char *host, const char *value)
{
	if (!strcmp(host, statefs_host(a->sf)))
		return AUTHZ_OWN_NAME;
	if (statefs_is_evicted(a->sf, host, NULL, 0) > 0)
		return strcmp(value, STATEFS_TOMBSTONE) ? AUTHZ_EVICTED : AUTHZ_OK;
	return !strcmp(host, peer) ? AUTHZ_OK : AUTHZ_NR;
}

/* A relayed live entry we hold no link of at all, not even a tombstone. */
static int
is_news(struct authz *a, const char *path, const char *value)
{
	struct statefs_entry e;

	return strcmp(value, STATEFS_TOMBSTONE) && statefs_read(a->sf, path, &e) == -ENOENT;
}

/* ips/ip-X: X's own word, or news of a member we never heard of.  A
 * tombstone only from X (leave-cluster there): deleting ips/ip-X revokes
 * X's key on every node (revoke.c), so a member relaying one could lock
 * any other member out. */
static enum authz_verdict
check_ips(struct authz *a, const char *peer, const char *path, const char *value)
{
	enum authz_verdict v = check_about(a, peer, path + strlen("ips/ip-"), value);

	if (v != AUTHZ_NR)
		return v;
	return is_news(a, path, value) ? AUTHZ_OK : AUTHZ_IPS_RELAY;
}

/* keys/key-X: X's own word only.  A relayed key that was taken would let
 * the relaying member log in as X wherever it arrived first (the daemons
 * install the first key they see, keys.c); the joining node, which has
 * none yet, takes those of the member it joins through, which its admin
 * authorized by hand (docs/protocol.md section 1.1). */
static enum authz_verdict
check_keys(struct authz *a, const char *peer, const char *path, const char *value)
{
	const char *host = path + strlen("keys/key-");
	enum authz_verdict v;

	if (strncmp(path, "keys/key-", 9) != 0 ||
	    statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return AUTHZ_KEY_NAME;
	v = check_about(a, peer, host, value);
	if (v != AUTHZ_NR)
		return v;
	return a->join_keys && is_news(a, path, value) ? AUTHZ_OK : AUTHZ_KEY_RELAY;
}

/* evicted/X: X a host name, the value the evicting member's name. */
static enum authz_verdict
check_evicted(const char *path, const char *value)
{
	if (statefs_name_check(STATEFS_NAME_HOST, path + strlen("evicted/"), NULL) < 0)
		return AUTHZ_EVICT_NAME;
	if (strcmp(value, STATEFS_TOMBSTONE) &&
	    statefs_name_check(STATEFS_NAME_HOST, value, NULL) < 0)
		return AUTHZ_EVICT_NAME;
	return AUTHZ_OK;
}

static enum authz_verdict
check_rules(struct authz *a, const char *peer, const char *path, const char *value,
	    uint64_t stamp_ns)
{
	struct statefs_keyinfo ki;
	const char *base;

	if (statefs_key_check(path, &ki) < 0)
		return AUTHZ_OK;	/* statefs_merge() refuses it with its reason */
	if (stamp_ns > statefs_realtime_ns() + (uint64_t)a->lim.skew_s * STATEFS_NS_PER_S)
		return AUTHZ_FUTURE;
	if (statefs_is_evicted(a->sf, peer, NULL, 0) > 0)
		return AUTHZ_EVICTED;
	if (!strncmp(path, "ips/ip-", 7))
		return check_ips(a, peer, path, value);
	if (!strncmp(path, "evicted/", 8))
		return check_evicted(path, value);
	if (!strncmp(path, "keys/", 5))
		return check_keys(a, peer, path, value);
	if (!strcmp(ki.owner, statefs_host(a->sf)))
		return AUTHZ_OWN_NAME;
	if (ki.owner[0] && strcmp(ki.owner, peer))
		return AUTHZ_NOT_OWNER;
	if (!ki.resource[0] || ki.owner[0])
		return AUTHZ_OK;
	base = strchr(path, '/') + 1;
	if (!strcmp(base, "size"))
		return check_size(a, path, value);
	if (!strcmp(base, "primary"))
		return check_primary(a, &ki, value);
	return AUTHZ_OK;
}

/* ---- quotas ------------------------------------------------------------------- */

static struct authz_origin *
origin_find(struct authz *a, const char *host, int add)
{
	struct authz_origin *o;

	for (size_t i = 0; i < a->n_origins; i++)
		if (!strcmp(a->origins[i].host, host))
			return &a->origins[i];
	if (!add || a->n_origins == AUTHZ_ORIGINS_MAX)
		return NULL;
	o = &a->origins[a->n_origins++];
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->entries = o->bytes = 0;
	return o;
}

/* Whose quota a link counts against: its owner, else the cluster-wide
 * pool "" (ips/ too: a relayed ips/ip-X may name a host that never
 * connects, and must not take a slot of the origin table). */
static void
origin_of(const char *path, char *host, size_t size)
{
	struct statefs_keyinfo ki;

	if (statefs_key_check(path, &ki) == 0)
		snprintf(host, size, "%s", ki.owner);
	else
		host[0] = '\0';
}

static int
count_one(const struct statefs_entry *e, void *arg)
{
	struct authz *a = arg;
	char host[STATEFS_NAME_MAX + 1];
	struct authz_origin *o;

	origin_of(e->path, host, sizeof(host));
	o = origin_find(a, host, 1);
	if (o) {
		o->entries++;
		o->bytes += strlen(e->path) + strlen(e->value);
	}
	return 0;
}

static void
recount(struct authz *a)
{
	a->n_origins = 0;
	statefs_list(a->sf, "", STATEFS_LIST_TOMBSTONES, count_one, a);
	a->counted_ms = gossip_now_ms();
}

static int
over_quota(const struct authz *a, const struct authz_origin *o, size_t bytes)
{
	return !o || o->entries + 1 > a->lim.quota_entries ||
	       o->bytes + bytes > a->lim.quota_bytes;
}

/* Room for one more link of @path in its origin's quota?  @o gets the
 * origin to charge once the link is written. */
static enum authz_verdict
check_quota(struct authz *a, const char *path, const char *value, struct authz_origin **o)
{
	char host[STATEFS_NAME_MAX + 1];
	size_t bytes = strlen(path) + strlen(value);

	if (!a->counted_ms)
		recount(a);
	origin_of(path, host, sizeof(host));
	*o = origin_find(a, host, 1);
	if (over_quota(a, *o, bytes) && gossip_now_ms() - a->counted_ms >= RECOUNT_MS) {
		recount(a);
		*o = origin_find(a, host, 1);
	}
	return over_quota(a, *o, bytes) ? AUTHZ_QUOTA : AUTHZ_OK;
}

/* ---- merging ------------------------------------------------------------------ */

enum authz_verdict
authz_check(struct authz *a, const char *peer, const char *path, const char *value,
	    uint64_t stamp_ns)
{
	int ret = gossip_entry_policy(a->uuid, path, value);

	if (ret == -EPERM)
		return AUTHZ_UUID;
	if (ret < 0)
		return AUTHZ_IPS;
	return check_rules(a, peer, path, value, stamp_ns);
}

static void
log_refusal(struct authz *a, const char *peer, const char *path, const char *why)
{
	char epeer[LOG_ESC_BYTES], epath[LOG_ESC_BYTES];
	uint64_t now = gossip_now_ms();

	if (now - a->log_window_ms >= LOG_WINDOW_MS) {
		if (a->suppressed)
			log_warnx("%llu more refused entries not logged",
				  (unsigned long long)a->suppressed);
		a->log_window_ms = now;
		a->logged = 0;
		a->suppressed = 0;
	}
	if (a->logged >= LOG_PER_WINDOW) {
		a->suppressed++;
		return;
	}
	a->logged++;
	log_warnx("%s '%s': refused entry '%s': %s", a->role,
		  log_escape(epeer, sizeof(epeer), peer), log_escape(epath, sizeof(epath), path),
		  why);
}

static int
refuse(struct authz *a, const char *peer, const char *path, enum authz_verdict v,
       int merge_err)
{
	a->refused[v]++;
	if (v != AUTHZ_MERGE)
		statefs_stats(a->sf)->refused_policy++;
	log_refusal(a, peer, path, v == AUTHZ_MERGE ? statefs_refusal_str(merge_err) :
		    authz_verdict_str(v));
	return -1;
}

static int
defer(struct authz *a, const char *peer, const char *path, const char *value,
      uint64_t stamp_ns)
{
	struct authz_deferred *d = NULL;

	for (size_t i = 0; i < a->n_deferred && !d; i++)
		if (!strcmp(a->deferred[i].path, path))
			d = &a->deferred[i];	/* the newer entry replaces it */
	if (!d && a->n_deferred == AUTHZ_DEFERRED_MAX)
		return refuse(a, peer, path, AUTHZ_PRIMARY, 0);
	if (!d)
		d = &a->deferred[a->n_deferred++];
	d->deadline_ms = gossip_now_ms() + DEFER_MS;
	snprintf(d->peer, sizeof(d->peer), "%s", peer);
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->value, sizeof(d->value), "%s", value);
	d->stamp_ns = stamp_ns;
	return 0;
}

static int
merge_checked(struct authz *a, const char *peer, const char *path, const char *value,
	      uint64_t stamp_ns)
{
	struct authz_origin *o = NULL;
	struct statefs_entry e;
	int ret, creates = 0;

	if (strcmp(value, STATEFS_TOMBSTONE) && statefs_read(a->sf, path, &e) == -ENOENT) {
		creates = 1;
		if (check_quota(a, path, value, &o) != AUTHZ_OK)
			return refuse(a, peer, path, AUTHZ_QUOTA, 0);
	}
	ret = statefs_merge(a->sf, path, value, stamp_ns, peer);
	if (ret < 0)
		return refuse(a, peer, path, AUTHZ_MERGE, ret);
	if (ret > 0 && creates && o) {
		o->entries++;
		o->bytes += strlen(path) + strlen(value);
	}
	return ret;
}

/* A peer sending back what we hold (every member relays the cluster-wide
 * ips/ and keys/ links, and tombstones, to everyone) is no attempt to
 * change it. */
static int
is_echo(struct authz *a, const char *path, const char *value)
{
	struct statefs_entry e;

	return statefs_read(a->sf, path, &e) == 0 && !strcmp(e.value, value);
}

int
authz_merge(struct authz *a, const char *peer, const char *path, const char *value,
	    uint64_t stamp_ns)
{
	enum authz_verdict v = authz_check(a, peer, path, value, stamp_ns);

	if (v == AUTHZ_PRIMARY)
		return defer(a, peer, path, value, stamp_ns);
	/* A pull lists the member's whole tree, every member's key in it: a
	 * key not from its host is not taken, and no sign of an attack.  A
	 * client that pushes one chose to: refused and counted. */
	if (v == AUTHZ_KEY_RELAY && !a->pushed)
		return 0;
	if ((v == AUTHZ_OWN_NAME || v == AUTHZ_NOT_OWNER || v == AUTHZ_IPS_RELAY ||
	     v == AUTHZ_KEY_RELAY) &&
	    is_echo(a, path, value))
		return 0;
	if (v != AUTHZ_OK)
		return refuse(a, peer, path, v, 0);
	return merge_checked(a, peer, path, value, stamp_ns);
}

unsigned
authz_batch_end(struct authz *a, unsigned *refused)
{
	uint64_t now = gossip_now_ms();
	unsigned merged = 0, bad = 0;
	size_t kept = 0;
	int ret;

	for (size_t i = 0; i < a->n_deferred; i++) {
		struct authz_deferred *d = &a->deferred[i];
		enum authz_verdict v = authz_check(a, d->peer, d->path, d->value, d->stamp_ns);

		if (v == AUTHZ_PRIMARY && now < d->deadline_ms) {
			a->deferred[kept++] = *d;	/* its member may come next batch */
			continue;
		}
		ret = v == AUTHZ_OK ? merge_checked(a, d->peer, d->path, d->value, d->stamp_ns) :
		      refuse(a, d->peer, d->path, v, 0);
		merged += ret > 0;
		bad += ret < 0;
	}
	a->n_deferred = kept;
	if (refused)
		*refused = bad;
	return merged;
}

/* ---- counting for the serving ends ------------------------------------------- */

void
authz_count(struct statefs *sf, const char *reason)
{
	int ret = statefs_counter_add(sf, reason, 1);

	if (ret < 0)
		log_debug("cannot count refusal '%s': %s", reason, strerror(-ret));
}

void
authz_count_entries(struct statefs *sf, struct statefs_stats *since)
{
	struct statefs_counters now, before;
	uint64_t any = 0;
	int ret;

	statefs_stats_refusals(statefs_stats(sf), &now);
	statefs_stats_refusals(since, &before);
	for (size_t i = 0; i < now.n; i++) {
		now.c[i].value -= before.c[i].value;
		any |= now.c[i].value;
	}
	*since = *statefs_stats(sf);
	if (!any)
		return;
	ret = statefs_counters_add(sf, &now);
	if (ret < 0)
		log_debug("cannot count refused entries: %s", strerror(-ret));
}
