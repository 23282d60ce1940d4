/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The serving end, `clusterd --serve`: what a peer's SSH forced command
 * runs.  It speaks the gossip protocol on stdin/stdout for one client:
 * checks the client's HELLO (protocol version, cluster uuid), answers
 * pulls with the entries this node may send, merges entries a joining
 * node pushes, and tells the client at once when the local tree changes.
 *
 * Who the client is comes from the SSH key it logged in with, never from
 * its HELLO: the authorized_keys line of that key forces
 * `clusterd --serve --peer NAME`, and a HELLO naming anyone else, or this
 * host itself, is refused.  A session whose HELLO says uuid "(any)" is a
 * join: only a host that is not a member yet may open one, and it may only
 * pull and push its own address and key (docs/protocol.md, "Trust model").
 * Refusals are logged and counted in the node's counters file for the
 * daemon's metrics (authz_count()): this process lives only as long as its
 * session, the daemon is the one with a metrics page.
 *
 * The inotify feed doubles as the change log: paths changed since the
 * client's last pull are remembered (bounded; past the bound, or when the
 * kernel queue overflowed, the next pull is a full one), so after the
 * first exchange only what changed crosses the wire.
 *
 * Before the first frame is read the process confines itself
 * (c->confine, serve_confine.c): no capabilities, and with Landlock only its tree,
 * its own data disks (read-only) and the module's control device.
 *
 * One client per process: writes to stdout may block, which only slows
 * this client's own sshd, and the process ends with the connection.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/transfer/fetch.h"
#include "clusterd/transfer/sync.h"
#include "clusterd/serve.h"
#include "clusterd/gossip/link.h"
#include "common/log.h"

#define DIRTY_MAX	4096	/* remembered changed paths; beyond: full pull */

struct serve {
	const struct gossip_config *c;
	struct statefs *sf;
	int sf_open;				/* sf needs statefs_close() */
	struct statefs_watch *w;
	struct gossip_link link;
	char uuid[GOSSIP_UUID_MAX + 1];
	const char *bound;			/* --peer: the key's host; NULL: unbound */
	char client[GOSSIP_HOST_MAX + 1];	/* "" until HELLO, then == bound */
	int join;				/* HELLO uuid "(any)": a join session */
	char (*dirty)[STATEFS_PATH_MAX + 1];	/* changed paths since last pull */
	size_t n_dirty;
	int dirty_all;				/* next change pull is a full one */
	int notified;				/* NOTIFY sent since the last pull */
	int pulled;				/* a gossip client: it pulled once */
	uint32_t sent;				/* entries sent in the pull answered now */
	uint32_t batch;				/* entries applied since the client's last END */
	int fetch;				/* 1.1: client announced fetch in HELLO */
	int sync;				/* full sync (docs/sync.md) announced */
	struct authz az;			/* what the client may write (authz.h) */
	int az_init;
	struct statefs_stats counted;		/* statefs_stats(sf) when last counted (authz_count_entries) */
};

static int
serve_send(struct serve *s, const struct gossip_msg *m)
{
	int ret = link_send(&s->link, m);

	if (ret == 0 && s->link.out_len >= 256 * 1024)
		ret = link_flush(&s->link);	/* stdout blocks: flushes it all */
	return ret;
}

static int
serve_error(struct serve *s, int code, const char *text)
{
	struct gossip_msg m = { .type = GOSSIP_ERROR, .code = (uint16_t)code };
	char e1[LOG_ESC_BYTES];

	snprintf(m.text, sizeof(m.text), "%s", text);
	log_warnx("client '%s': %s", s->client[0] ? s->client : s->bound ? s->bound : "?",
		  log_escape(e1, sizeof(e1), text));
	if (code == GOSSIP_ERR_IDENTITY && s->sf_open)
		authz_count(s->sf, AUTHZ_COUNT_IDENTITY);
	link_send(&s->link, &m);
	link_flush(&s->link);
	return 1;
}

static int
send_entry(const struct statefs_entry *e, void *arg)
{
	struct serve *s = arg;
	struct gossip_msg m = { .type = GOSSIP_ENTRY, .stamp_ns = e->stamp_ns };

	snprintf(m.path, sizeof(m.path), "%s", e->path);
	snprintf(m.value, sizeof(m.value), "%s", e->value);
	s->sent++;
	return serve_send(s, &m);
}

/* One changed path: a key we may send, or a directory to send whole. */
static int
send_dirty(struct serve *s, const char *path)
{
	struct statefs_keyinfo ki;
	struct statefs_entry e;

	if (statefs_is_dir(s->sf, path) == 1)
		return statefs_list(s->sf, path, STATEFS_LIST_SENDABLE |
				    STATEFS_LIST_TOMBSTONES, send_entry, s);
	if (statefs_key_check(path, &ki) < 0 || statefs_read(s->sf, path, &e) < 0)
		return 0;
	if (ki.owner[0] && strcmp(ki.owner, statefs_host(s->sf)) != 0 && !e.tombstone)
		return 0;
	return send_entry(&e, s);
}

static int
serve_pull(struct serve *s, int mode)
{
	struct gossip_msg end = { .type = GOSSIP_END };
	int ret = 0;

	s->sent = 0;
	if (mode == GOSSIP_PULL_FULL || s->dirty_all) {
		ret = statefs_list(s->sf, "", STATEFS_LIST_SENDABLE |
				   STATEFS_LIST_TOMBSTONES, send_entry, s);
	} else {
		for (size_t i = 0; i < s->n_dirty && ret >= 0; i++)
			ret = send_dirty(s, s->dirty[i]);
	}
	if (ret < 0 && ret != -ENOENT)
		return ret;
	s->n_dirty = 0;
	s->dirty_all = 0;
	s->notified = 0;
	s->pulled = 1;
	end.count = s->sent;
	return serve_send(s, &end);
}

/* A HELLO naming someone else than the key's host is refused. */
static int
check_identity(struct serve *s, const char *host)
{
	char text[GOSSIP_TEXT_MAX + 1];

	if (strcmp(host, statefs_host(s->sf)) == 0) {
		snprintf(text, sizeof(text), "HELLO names '%s', the serving host itself; "
			 "this key is bound to '%s'", host, s->bound);
		return serve_error(s, GOSSIP_ERR_IDENTITY, text);
	}
	if (strcmp(host, s->bound) != 0) {
		snprintf(text, sizeof(text), "HELLO names '%s', but this key is bound to '%s'",
			 host, s->bound);
		return serve_error(s, GOSSIP_ERR_IDENTITY, text);
	}
	return 0;
}

/* uuid "(any)" opens a join, which only a host not yet a member may do. */
static int
check_uuid(struct serve *s, const struct gossip_msg *m)
{
	char text[GOSSIP_TEXT_MAX + 1], path[STATEFS_PATH_MAX + 1], ip[STATEFS_VALUE_MAX + 1];

	if (strcmp(m->uuid, s->uuid) == 0)
		return 0;
	if (strcmp(m->uuid, GOSSIP_UUID_ANY) != 0) {
		snprintf(text, sizeof(text), "cluster uuid mismatch: '%s' is in cluster '%s', "
			 "'%s' in '%s'", m->host, m->uuid, statefs_host(s->sf), s->uuid);
		return serve_error(s, GOSSIP_ERR_UUID, text);
	}
	snprintf(path, sizeof(path), "ips/ip-%s", s->client);
	if (statefs_get(s->sf, path, ip, sizeof(ip), NULL) >= 0) {
		snprintf(text, sizeof(text), "'%s' is a member: uuid '%s' is only for joining",
			 s->client, GOSSIP_UUID_ANY);
		authz_count(s->sf, AUTHZ_COUNT_IDENTITY);
		return serve_error(s, GOSSIP_ERR_UUID, text);
	}
	s->join = 1;
	return 0;
}

static int
serve_hello(struct serve *s, const struct gossip_msg *m)
{
	struct gossip_msg r = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };
	char text[GOSSIP_TEXT_MAX + 1];
	int ret;

	if (m->version != GOSSIP_PROTO_VERSION) {
		snprintf(text, sizeof(text), "protocol version %u not spoken, only %u",
			 m->version, GOSSIP_PROTO_VERSION);
		return serve_error(s, GOSSIP_ERR_VERSION, text);
	}
	if (statefs_name_check(STATEFS_NAME_HOST, m->host, NULL) < 0)
		return serve_error(s, GOSSIP_ERR_PROTO, "invalid host name in HELLO");
	ret = check_identity(s, m->host);
	if (ret != 0)
		return ret;
	snprintf(s->client, sizeof(s->client), "%s", s->bound);
	ret = check_uuid(s, m);
	if (ret != 0)
		return ret;
	snprintf(r.uuid, sizeof(r.uuid), "%s", s->uuid);
	snprintf(r.host, sizeof(r.host), "%s", statefs_host(s->sf));
	/* protocol 1.1: echo the flags both ends speak */
	s->fetch = !!(m->flags & GOSSIP_HELLO_FETCH);
	r.flags = m->flags & GOSSIP_HELLO_FETCH;
	/* full sync (docs/sync.md) */
	s->sync = !!(m->flags & GOSSIP_HELLO_SYNC);
	r.flags |= m->flags & GOSSIP_HELLO_SYNC;
	/* protocol 1.3: compressed pieces; the FETCH and SYNC flags choose */
	r.flags |= m->flags & GOSSIP_HELLO_ZSTD;
	log_debug("client '%s' connected%s", s->client, s->join ? " to join" : "");
	return serve_send(s, &r);
}

/* A join registers the joiner's own address and key, nothing else. */
static int
join_may_push(const struct serve *s, const char *path)
{
	return (strncmp(path, "ips/ip-", 7) == 0 && strcmp(path + 7, s->client) == 0) ||
	       (strncmp(path, "keys/key-", 9) == 0 && strcmp(path + 9, s->client) == 0);
}

/* A pushed entry from a joining node, authorized and merged as written
 * by that node. */
static int
serve_push(struct serve *s, const struct gossip_msg *m)
{
	char e1[LOG_ESC_BYTES];

	if (s->join && !join_may_push(s, m->path)) {
		log_warnx("client '%s': refused '%s': a joining host pushes only its own "
			  "address and key", s->client, log_escape(e1, sizeof(e1), m->path));
		statefs_stats(s->sf)->refused_policy++;	/* counted as authz_merge() counts */
		return 0;
	}
	if (authz_merge(&s->az, s->client, m->path, m->value, m->stamp_ns) > 0)
		s->batch++;
	return 0;
}

/*
 * May the session become a bulk session (@type "FETCH" or "SYNC", which
 * HELLO announced if @announced)?  0, and the tree feed is freed (a bulk
 * session needs none); else serve_error()'s 1.
 */
static int
serve_to_bulk(struct serve *s, int announced, const char *type, const char *what)
{
	char text[GOSSIP_TEXT_MAX + 1];

	if (s->join) {
		snprintf(text, sizeof(text), "a joining host may not %s", what);
		return serve_error(s, GOSSIP_ERR_IDENTITY, text);
	}
	if (!announced) {
		snprintf(text, sizeof(text), "%s without %s in HELLO", type, what);
		return serve_error(s, GOSSIP_ERR_PROTO, text);
	}
	statefs_watch_close(s->w);
	s->w = NULL;
	return 0;
}

/* Returns <0 on failure, 1 to end the session, 0 to go on. */
static int
serve_msg(struct serve *s, const struct gossip_msg *m)
{
	struct gossip_msg ack = { .type = GOSSIP_ACK };
	int ret;

	if (!s->client[0] && m->type != GOSSIP_HELLO)
		return serve_error(s, GOSSIP_ERR_PROTO, "expected HELLO");
	switch (m->type) {
	case GOSSIP_HELLO:
		return serve_hello(s, m);
	case GOSSIP_PULL:
		return serve_pull(s, m->mode);
	case GOSSIP_ENTRY:
		return serve_push(s, m);
	case GOSSIP_END:
		s->batch += authz_batch_end(&s->az, NULL);
		authz_count_entries(s->sf, &s->counted);
		ack.count = s->batch;
		s->batch = 0;
		return serve_send(s, &ack);
	case GOSSIP_FETCH:	/* protocol 1.1: the session becomes a fetch session */
		ret = serve_to_bulk(s, s->fetch, "FETCH", "fetch");
		return ret ? ret : fetch_serve(&s->link, s->c, s->sf, s->client, m);
	case GOSSIP_SYNC:	/* full sync (docs/sync.md): the session becomes a sync session */
		ret = serve_to_bulk(s, s->sync, "SYNC", "sync");
		return ret ? ret : sync_serve(&s->link, s->c, s->sf, s->client, m);
	default:
		return serve_error(s, GOSSIP_ERR_PROTO, "unexpected message");
	}
}

static void
note_dirty(struct serve *s, const char *path)
{
	if (path[0] == '\0' || s->n_dirty >= DIRTY_MAX) {
		s->dirty_all = 1;
		return;
	}
	for (size_t i = 0; i < s->n_dirty; i++)
		if (strcmp(s->dirty[i], path) == 0)
			return;
	snprintf(s->dirty[s->n_dirty++], STATEFS_PATH_MAX + 1, "%s", path);
}

static int
drain_watch(struct serve *s)
{
	char path[STATEFS_PATH_MAX + 1];
	struct gossip_msg m = { .type = GOSSIP_NOTIFY };
	int ret, changed = 0;

	while ((ret = statefs_watch_next(s->w, 0, path, sizeof(path))) == 1) {
		note_dirty(s, path);
		changed = 1;
	}
	if (ret < 0)
		s->dirty_all = changed = 1;
	/* Only a client that pulls wants to hear of changes: a fetch or
	 * sync session, between its HELLO and its request, does not. */
	if (changed && s->pulled && !s->notified) {
		s->notified = 1;
		return serve_send(s, &m);
	}
	return 0;
}

static int
serve_loop(struct serve *s)
{
	struct gossip_msg m;
	int wfd = statefs_watch_fd(s->w), ret = 0;
	uint64_t hello_deadline = gossip_now_ms() + s->c->timeout_ms;

	while (!gossip_serve_stopping() && ret == 0) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = wfd, .events = POLLIN } };

		if (!s->client[0] && gossip_now_ms() > hello_deadline)
			return serve_error(s, GOSSIP_ERR_PROTO, "no HELLO in time");
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			return -errno;
		ret = drain_watch(s);
		while (ret == 0 && (ret = link_recv(&s->link, &m)) == 1)
			ret = serve_msg(s, &m);
		if (ret == 0)
			ret = link_flush(&s->link);
	}
	if (ret != -ECONNRESET)
		return ret;
	link_flush(&s->link);	/* a client that closed its end still gets our answers */
	return 0;
}

/* The binding of the key this session logged in with (authorized_keys),
 * to a host that was not evicted: the key of an evicted host may still be
 * in a file no daemon here revokes from (no --authorized-keys). */
static int
check_binding(struct serve *s)
{
	char text[GOSSIP_TEXT_MAX + 1], by[STATEFS_VALUE_MAX + 1];

	if (!s->bound)
		return serve_error(s, GOSSIP_ERR_IDENTITY, "this key is bound to no host: its "
				   "authorized_keys line must force 'clusterd --serve --peer NAME' "
				   "(mars-setup-ssh --authorize NAME ADDR KEYFILE)");
	if (statefs_name_check(STATEFS_NAME_HOST, s->bound, NULL) < 0)
		return serve_error(s, GOSSIP_ERR_IDENTITY, "--peer is no valid host name");
	if (strcmp(s->bound, s->c->host) == 0) {
		snprintf(text, sizeof(text), "this key is bound to '%s', the serving host itself",
			 s->bound);
		return serve_error(s, GOSSIP_ERR_IDENTITY, text);
	}
	if (statefs_is_evicted(s->sf, s->bound, by, sizeof(by)) > 0) {
		snprintf(text, sizeof(text), "'%s' was evicted from the cluster by '%.63s'; to let "
			 "it back in, run 'marsadm readmit %s' on a member", s->bound, by, s->bound);
		return serve_error(s, GOSSIP_ERR_IDENTITY, text);
	}
	return 0;
}

/* The tree first, so that a refused binding is counted in it. */
static int
serve_open(struct serve *s)
{
	int ret = statefs_open(&s->sf, s->c->root, s->c->host, 0);

	if (ret < 0) {
		log_warnx("cannot open tree '%s': %s", s->c->root, statefs_open_str(ret));
		return serve_error(s, GOSSIP_ERR_TREE, "serving end cannot open its tree");
	}
	s->sf_open = 1;
	ret = check_binding(s);
	if (ret != 0)
		return ret;
	if (statefs_get(s->sf, "uuid", s->uuid, sizeof(s->uuid), NULL) < 0)
		return serve_error(s, GOSSIP_ERR_TREE, "serving end has no cluster uuid");
	if (authz_init(&s->az, s->sf, s->uuid, &s->c->authz) < 0)
		return -ENOMEM;
	s->az_init = 1;
	s->az.role = "client";
	s->az.pushed = 1;
	ret = statefs_watch_open(s->sf, &s->w);
	if (ret < 0) {
		log_warnx("cannot watch tree '%s': %s", s->c->root, strerror(-ret));
		return serve_error(s, GOSSIP_ERR_TREE, "serving end cannot watch its tree");
	}
	ret = s->c->confine ? s->c->confine(s->sf, s->c->root) : 0;	/* before the first frame */
	if (ret < 0) {
		log_warnx("cannot confine the serving end: %s", strerror(-ret));
		return serve_error(s, GOSSIP_ERR_TREE, "serving end cannot confine itself");
	}
	return 0;
}

int
gossip_serve(const struct gossip_config *c, const char *peer)
{
	static const struct gossip_tconf stdio_conf;	/* no local_exe: stdin/stdout */
	struct gossip_endpoint ep = { .host = "client" };
	struct serve s = { .c = c, .bound = peer };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	gossip_serve_stop_on_signals();
	s.dirty = calloc(DIRTY_MAX, sizeof(*s.dirty));
	if (!s.dirty)
		return 1;
	link_init(&s.link, &gossip_transport_local);
	ret = gossip_transport_local.open(&stdio_conf, &ep, &s.link.t);
	if (ret == 0)
		ret = serve_open(&s);
	if (ret == 0)
		ret = serve_loop(&s);
	if (ret < 0)
		log_warnx("client '%s': %s", s.client[0] ? s.client : "?", strerror(-ret));
	if (s.w)
		statefs_watch_close(s.w);
	if (s.az_init)
		authz_release(&s.az);
	if (s.sf_open) {
		authz_count_entries(s.sf, &s.counted);	/* a session cut before its END */
		statefs_close(&s.sf);
	}
	link_release(&s.link);
	free(s.dirty);
	return ret < 0;
}
