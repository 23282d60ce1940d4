/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon (the top floor, loop.h): one single-threaded poll() loop over the peers' connections.
 * Timers come from the poll timeout; signal handlers only set flags that
 * the bottom of the loop acts on.
 *
 * Every tick (at most TICK_MS apart) the peer list is rebuilt from the tree
 * (ips/ip-HOST, value = address) and the overrides file, peers that left
 * are closed, new ones are started; the node's heartbeat
 * actual-HOST/time is written every heartbeat period, and tombstones are
 * collected once a minute.  With --authorized-keys, the lines binding a
 * departed member's key are removed from it at each heartbeat
 * (revoke.c), and a line is added for each member whose key the tree
 * holds (keys/key-X) and which has none yet, never replacing one
 * (keys.c); our own key is published there from the public half of
 * --key.  A member another member evicted (evicted/X) departs here
 * too: each tick its ips/ip-X is tombstoned by us if still live, and so
 * its key goes the same way.  Writes go through statefs transactions, so
 * SIGTERM between two ticks leaves no half-written entry.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/loop.h"
#include "common/log.h"
#include "clusterd/gossip/peer.h"
#include "clusterd/gossip/keys.h"
#include "clusterd/gossip/peers.h"
#include "clusterd/gossip/revoke.h"

#define TICK_MS		500
#define PEERS_MAX	256
#define GC_PERIOD_MS	60000

struct daemon {
	const struct gossip_config *c;
	struct statefs *sf;
	int sf_open;
	struct gossip_ctx x;
	struct peer *peers[PEERS_MAX];
	size_t n_peers;
	uint64_t next_tick_ms;
	uint64_t next_heartbeat_ms;
	uint64_t next_gc_ms;
	int warned_no_tree;
	unsigned warned_evicted;	/* our own eviction was logged */
	int warned_pub;			/* our public key unreadable: logged */
	struct keys_memo keys_memo;	/* key refusals logged and counted once */
	struct statefs_stats published;	/* pull counters already in .counters */
};

static volatile sig_atomic_t daemon_quit;
static volatile sig_atomic_t daemon_reload;

static void
on_quit(int sig)
{
	daemon_quit = 1;
}

static void
on_hup(int sig)
{
	daemon_reload = 1;
}

static struct peer *
find_peer(struct daemon *d, const char *host)
{
	for (size_t i = 0; i < d->n_peers; i++)
		if (strcmp(d->peers[i]->ep.host, host) == 0)
			return d->peers[i];
	return NULL;
}

static void
add_peer(struct daemon *d, const struct gossip_endpoint *ep)
{
	struct peer *p;
	char e1[LOG_ESC_BYTES];	/* the address is the member's own ips/ value */

	if (d->n_peers >= PEERS_MAX) {
		log_warnx("peer '%s' ignored: more than %d peers", ep->host, PEERS_MAX);
		return;
	}
	p = malloc(sizeof(*p));
	if (!p)
		fatalx("out of memory");
	peer_init(p, ep, d->c->transport);
	p->mark = 1;
	d->peers[d->n_peers++] = p;
	log_info("peer '%s' added at %s port %u", ep->host,
		 log_escape(e1, sizeof(e1), ep->addr), ep->port);
}

/* Callback of peers_load(): keep, re-address or add one wanted peer. */
static int
want_peer(const struct gossip_endpoint *ep, void *arg)
{
	struct daemon *d = arg;
	struct peer *p = find_peer(d, ep->host);
	char e1[LOG_ESC_BYTES];

	if (strcmp(ep->host, d->c->host) == 0)
		return 0;
	if (p && (strcmp(p->ep.addr, ep->addr) != 0 || p->ep.port != ep->port)) {
		log_info("peer '%s' moved to %s port %u", ep->host,
			 log_escape(e1, sizeof(e1), ep->addr), ep->port);
		peer_release(p);
		peer_init(p, ep, d->c->transport);
	}
	if (p)
		p->mark = 1;
	else
		add_peer(d, ep);
	return 0;
}

static void
reload_peers(struct daemon *d)
{
	size_t i, j;

	for (i = 0; i < d->n_peers; i++)
		d->peers[i]->mark = 0;
	if (peers_load(d->c, d->sf, want_peer, d) < 0)
		return;	/* keep the old list rather than drop everyone */
	for (i = j = 0; i < d->n_peers; i++) {
		struct peer *p = d->peers[i];

		if (p->mark) {
			d->peers[j++] = p;
			continue;
		}
		log_info("peer '%s' removed", p->ep.host);
		peer_release(p);
		free(p);
	}
	d->n_peers = j;
}

static void
heartbeat(struct daemon *d)
{
	struct statefs_txn t;
	char path[STATEFS_PATH_MAX + 1], value[64];
	uint64_t now = statefs_realtime_ns();
	int ret;

	snprintf(path, sizeof(path), "actual-%s/time", d->c->host);
	snprintf(value, sizeof(value), "%llu.%09llu",
		 (unsigned long long)(now / STATEFS_NS_PER_S),
		 (unsigned long long)(now % STATEFS_NS_PER_S));
	statefs_txn_init(&t, d->sf, 0);
	ret = statefs_txn_set(&t, path, value);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		log_warnx("cannot write heartbeat '%s': %s", path, statefs_refusal_str(ret));
}

static void
note_revoked(const char *host, void *arg)
{
	log_info("'%s' left the cluster: its key no longer logs in here (%s)", host,
		 (const char *)arg);
}

/* A departed member's key goes from our authorized_keys. */
static void
revoke_keys(struct daemon *d)
{
	const char *path = d->c->authorized_keys;
	int ret;

	if (!path || !*path || strcmp(path, "none") == 0)
		return;
	ret = revoke_departed(d->sf, path, note_revoked, (void *)path);
	if (ret < 0)
		log_warnx("cannot revoke departed members' keys in '%s': %s", path,
			  strerror(-ret));
}

/* keys/key-US follows the public half of --key while we are a member,
 * so that the members can authorize us (docs/protocol.md section 1.1);
 * leave-cluster withdraws it with our address. */
static void
publish_key(struct daemon *d)
{
	char path[STATEFS_PATH_MAX + 1], ip[STATEFS_VALUE_MAX + 1];
	int ret;

	snprintf(path, sizeof(path), "ips/ip-%s", d->c->host);
	if (statefs_get(d->sf, path, ip, sizeof(ip), NULL) < 0)
		return;
	ret = keys_publish(d->sf, d->c->tconf.pub_path);
	if (ret == 1)
		log_info("published this host's key '%s' as keys/key-%s", d->c->tconf.pub_path,
			 d->c->host);
	if (ret < 0 && !d->warned_pub++)
		log_warnx("cannot publish this host's key '%s': %s; the members cannot "
			  "authorize it by themselves", d->c->tconf.pub_path,
			  ret == -EBADMSG ? "not an OpenSSH public key of an allowed type" :
			  strerror(-ret));
	if (ret >= 0)
		d->warned_pub = 0;
}

static void
note_key(const struct keys_event *ev, void *arg)
{
	struct daemon *d = arg;
	const char *path = d->c->authorized_keys;
	char e1[LOG_ESC_BYTES], e2[LOG_ESC_BYTES];

	log_escape(e1, sizeof(e1), ev->host);
	log_escape(e2, sizeof(e2), ev->addr);
	if (ev->kind == KEYS_ADDED) {
		log_info("'%s' authorized from %s with the key it published (%s)", e1, e2, path);
		return;
	}
	authz_count(d->sf, AUTHZ_COUNT_KEY);
	if (ev->kind == KEYS_CHANGED)
		log_warnx("'%s' publishes another key than the one authorized in %s; not "
			  "replaced: if the change is legitimate run 'mars-setup-ssh --authorize "
			  "%s %s PUBKEY-FILE'", e1, path, e1, e2);
	else
		log_warnx("the key '%s' publishes is already in a line of %s not bound to it; "
			  "not added", e1, path);
}

/* A member's key comes in from the tree, once, never replacing a line. */
static void
install_keys(struct daemon *d)
{
	const char *path = d->c->authorized_keys;
	int ret;

	if (!path || !*path || strcmp(path, "none") == 0)
		return;
	ret = keys_install(d->sf, path, d->c->serve_cmd, &d->keys_memo, note_key, d);
	if (ret < 0)
		log_warnx("cannot add members' keys to '%s': %s", path, strerror(-ret));
}

/* Queue a tombstone for @fmt's key of @host if it is live; 1 if queued. */
static int
withdraw(struct statefs_txn *t, struct statefs *sf, const char *fmt, const char *host)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs_entry e;

	snprintf(key, sizeof(key), fmt, host);
	if (statefs_read(sf, key, &e) < 0 || e.tombstone)
		return 0;
	return statefs_txn_delete(t, key) == 0;
}

/* evicted/X: X's membership ends here too (its ips/ip-X tombstoned by us,
 * which revoke_keys() then acts on, and its keys/key-X, so that no old
 * key of X is let in again); our own eviction is only reported. */
static int
follow_eviction(const struct statefs_entry *e, void *arg)
{
	struct daemon *d = arg;
	const char *host = e->path + strlen("evicted/");
	char e1[LOG_ESC_BYTES], e2[LOG_ESC_BYTES];
	struct statefs_txn t;
	int ret, member;

	if (statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return 0;
	log_escape(e2, sizeof(e2), e->value);
	if (!strcmp(host, d->c->host)) {
		if (!d->warned_evicted++)
			log_warnx("this host was evicted from the cluster by '%s': the members "
				  "no longer accept its key", e2);
		return 0;
	}
	statefs_txn_init(&t, d->sf, 0);
	member = withdraw(&t, d->sf, "ips/ip-%s", host);
	if (!withdraw(&t, d->sf, "keys/key-%s", host) && !member) {
		statefs_txn_release(&t);
		return 0;
	}
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	log_escape(e1, sizeof(e1), host);
	if (ret < 0)
		log_warnx("cannot end the membership of evicted '%s': %s", e1,
			  statefs_refusal_str(ret));
	else if (member)
		log_info("'%s' was evicted by '%s': no longer a member here", e1, e2);
	return 0;
}

static void
follow_evictions(struct daemon *d)
{
	int ret = statefs_list(d->sf, "evicted", 0, follow_eviction, d);

	if (ret < 0 && ret != -ENOENT)
		log_warnx("cannot read evictions: %s", strerror(-ret));
}

/* Tombstones every member has moved past (statefs_gc's rule) go. */
static void
collect_tombstones(struct daemon *d)
{
	int ret = statefs_gc(d->sf, NULL);

	if (ret < 0)
		log_warnx("tombstone collection failed: %s", strerror(-ret));
	else if (ret > 0)
		log_info("collected %d tombstones", ret);
}

/* Open the tree once it exists and has a uuid; until then, wait. */
static int
tree_ready(struct daemon *d)
{
	int ret;

	if (!d->sf_open) {
		ret = statefs_open(&d->sf, d->c->root, d->c->host, 0);
		if (ret < 0) {
			if (!d->warned_no_tree++)
				log_warnx("waiting for tree '%s': %s", d->c->root,
					  statefs_open_str(ret));
			return 0;
		}
		if (authz_init(&d->x.az, d->sf, d->x.uuid, &d->c->authz) < 0) {
			statefs_close(&d->sf);
			return 0;
		}
		/* the serving ends' refusals count from now, like ours */
		ret = statefs_counters_reset(d->sf);
		if (ret < 0)
			log_warnx("cannot reset the refusal counters: %s", strerror(-ret));
		d->sf_open = 1;
		d->x.sf = d->sf;
	}
	ret = statefs_get(d->sf, "uuid", d->x.uuid, sizeof(d->x.uuid), NULL);
	if (ret < 0) {
		if (!d->warned_no_tree++)
			log_warnx("waiting for a cluster uuid in '%s'", d->c->root);
		return 0;
	}
	if (d->warned_no_tree) {
		log_info("tree '%s' of cluster '%s' is ready", d->c->root, d->x.uuid);
		d->warned_no_tree = 0;
	}
	return 1;
}

/*
 * This daemon's merge counters (its pulls) go to the node's counters file,
 * where the serving ends count theirs, so that the status page, a process
 * of its own, reads them all in one place (/metrics, /api/v1/cluster).
 * Only what changed since the last tick is added.
 */
static void
publish_pull_stats(struct daemon *d)
{
	struct statefs_counters now, before, delta = { .n = 0 };
	int ret;

	statefs_stats_counters(statefs_stats(d->sf), &now);
	statefs_stats_counters(&d->published, &before);
	for (size_t i = 0; i < now.n; i++)
		if (now.c[i].value != before.c[i].value) {
			delta.c[delta.n] = now.c[i];
			delta.c[delta.n++].value -= before.c[i].value;
		}
	if (!delta.n)
		return;
	ret = statefs_counters_add(d->sf, &delta);
	if (ret < 0)
		log_warnx("cannot publish the pull counters: %s", strerror(-ret));
	else
		d->published = *statefs_stats(d->sf);
}

static uint64_t
tick(struct daemon *d, uint64_t now)
{
	uint64_t next = now + TICK_MS;

	if (now >= d->next_tick_ms || daemon_reload) {
		daemon_reload = 0;
		d->next_tick_ms = now + TICK_MS;
		if (!tree_ready(d))
			return d->next_tick_ms;
		follow_evictions(d);
		publish_pull_stats(d);
		reload_peers(d);
		if (now >= d->next_heartbeat_ms) {
			heartbeat(d);
			revoke_keys(d);
			publish_key(d);
			install_keys(d);
			d->next_heartbeat_ms = now + d->c->heartbeat_ms;
		}
		if (now >= d->next_gc_ms) {
			collect_tombstones(d);
			d->next_gc_ms = now + GC_PERIOD_MS;
		}
	}
	if (!d->sf_open)
		return d->next_tick_ms;
	for (size_t i = 0; i < d->n_peers; i++) {
		uint64_t t = peer_timer(&d->x, d->peers[i], now);

		if (t < next)
			next = t;
	}
	return next < d->next_tick_ms ? next : d->next_tick_ms;
}

static void
loop_once(struct daemon *d)
{
	struct pollfd pfd[PEERS_MAX];
	uint64_t now = gossip_now_ms(), next;
	size_t i;
	int timeout;

	next = tick(d, now);
	for (i = 0; i < d->n_peers; i++)
		if (d->peers[i]->state != PEER_IDLE)
			peer_dispatch(&d->x, d->peers[i]);
	for (i = 0; i < d->n_peers; i++) {
		pfd[i].fd = peer_poll_fd(d->peers[i], &pfd[i].events);
		pfd[i].revents = 0;
	}
	now = gossip_now_ms();
	timeout = next > now ? (int)(next - now) : 0;
	if (poll(pfd, d->n_peers, timeout) < 0 && errno != EINTR)
		log_warn("poll");
	for (i = 0; i < d->n_peers; i++)
		if (pfd[i].revents && d->peers[i]->state != PEER_IDLE)
			peer_dispatch(&d->x, d->peers[i]);
}

int
gossip_daemon(const struct gossip_config *c)
{
	struct daemon d = { .c = c };

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_quit);
	signal(SIGINT, on_quit);
	signal(SIGHUP, on_hup);
	d.x.c = c;
	log_info("starting as '%s' on tree '%s' (transport %s)", c->host, c->root,
		 c->transport->name);
	while (!daemon_quit)
		loop_once(&d);
	if (d.sf_open)
		publish_pull_stats(&d);
	log_info("shutting down");
	for (size_t i = 0; i < d.n_peers; i++) {
		peer_release(d.peers[i]);
		free(d.peers[i]);
	}
	if (d.sf_open) {
		authz_release(&d.x.az);
		statefs_close(&d.sf);
	}
	return 0;
}
