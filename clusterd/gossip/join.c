/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Joining a cluster: one synchronous exchange with one member, bounded by
 * the configured timeout at every wait.  It says HELLO with the uuid
 * "(any)", fetches the member's tree through statefs_merge() like any
 * pull, registers this host under ips/ with the address the member sees
 * us from (or --ip, resolved here: the tree holds numeric addresses
 * only) and our public key under keys/, and pushes that registration,
 * and nothing else, back so the member, and through it everyone, starts
 * gossiping with us.  Its pull takes the members' keys from the member,
 * the one time a key is taken from another host than its own
 * (docs/protocol.md section 1.1).  A node already in another cluster
 * is refused before anything is written.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "clusterd/gossip/addr.h"
#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/keys.h"
#include "clusterd/gossip/link.h"
#include "common/log.h"
#include "clusterd/gossip/peers.h"

struct join {
	const struct gossip_config *c;
	struct statefs *sf;
	struct gossip_link link;
	struct gossip_endpoint ep;
	char local_uuid[GOSSIP_UUID_MAX + 1];	/* "" for a fresh tree */
	const char *want_host;		/* update: the name ep is registered under */
	uint64_t deadline_ms;		/* update: bound on the whole pull, 0 none */
	char my_ip[GOSSIP_ADDR_MAX];	/* join: --ip resolved, or "" */
	char my_key[STATEFS_VALUE_MAX + 1];	/* join: keys/key-US from KEY.pub, or ""
						   (none readable: not published) */
	char *err;
	size_t errlen;
	unsigned merged, refused;
	struct authz az;		/* what the member may write (authz.h) */
};

/* The configured bound on one wait, cut to the caller's overall deadline. */
static uint64_t
join_deadline(const struct join *j)
{
	uint64_t d = gossip_now_ms() + j->c->timeout_ms;

	return j->deadline_ms && j->deadline_ms < d ? j->deadline_ms : d;
}

static int
join_wait(struct join *j, uint64_t deadline)
{
	struct pollfd p;
	uint64_t now = gossip_now_ms();

	if (now >= deadline)
		return -ETIMEDOUT;
	p.fd = j->link.ops->poll_fd(j->link.t, j->link.out_len > 0, &p.events);
	if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static int
join_connect(struct join *j)
{
	uint64_t deadline = join_deadline(j);
	int ret = j->link.ops->open(&j->c->tconf, &j->ep, &j->link.t);

	if (ret < 0) {
		snprintf(j->err, j->errlen, "cannot connect to '%s': %s", j->ep.addr,
			 strerror(-ret));
		j->link.t = NULL;
		return ret;
	}
	while ((ret = j->link.ops->connect_step(j->link.t, j->err, j->errlen)) == 0)
		if ((ret = join_wait(j, deadline)) < 0)
			break;
	if (ret == -ETIMEDOUT)
		snprintf(j->err, j->errlen, "timed out connecting to '%s'", j->ep.addr);
	return ret < 0 ? ret : 0;
}

/* Send what is queued and wait for one message. */
static int
join_exchange(struct join *j, struct gossip_msg *m)
{
	uint64_t deadline = join_deadline(j);
	char text[LOG_ESC_BYTES];
	int ret;

	for (;;) {
		ret = link_flush(&j->link);
		if (ret == 0)
			ret = link_recv(&j->link, m);
		if (ret == 0)
			ret = join_wait(j, deadline);
		if (ret < 0)
			break;
		if (ret == 1 && m->type == GOSSIP_ERROR) {
			/* shown on the admin's terminal: the member's text escaped */
			snprintf(j->err, j->errlen, "refused by '%s': %s", j->ep.addr,
				 log_escape(text, sizeof(text), m->text));
			return -ECONNREFUSED;
		}
		/* The serving end announces changes of its tree at any time;
		 * a join pulls everything anyway and is no answer to wait for. */
		if (ret == 1 && m->type == GOSSIP_NOTIFY)
			continue;
		if (ret == 1)
			return 0;
	}
	snprintf(j->err, j->errlen, "exchange with '%s' failed: %s", j->ep.addr,
		 ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
	return ret;
}

static int
join_hello(struct join *j)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };
	int ret;

	snprintf(m.uuid, sizeof(m.uuid), "%s", j->want_host ? j->local_uuid : GOSSIP_UUID_ANY);
	snprintf(m.host, sizeof(m.host), "%s", j->c->host);
	ret = link_send(&j->link, &m);
	if (ret == 0)
		ret = join_exchange(j, &m);
	if (ret < 0)
		return ret;
	if (m.type != GOSSIP_HELLO || statefs_name_check(STATEFS_NAME_HOST, m.host, NULL)) {
		snprintf(j->err, j->errlen, "'%s' did not answer HELLO properly", j->ep.addr);
		return -EPROTO;
	}
	if (j->local_uuid[0] && strcmp(j->local_uuid, m.uuid) != 0) {
		snprintf(j->err, j->errlen, "this node belongs to cluster '%s', '%s' to '%s'; "
			 "run leave-cluster and start from an empty tree first",
			 j->local_uuid, m.host, m.uuid);
		return -EEXIST;
	}
	if (j->want_host && strcmp(m.host, j->want_host) != 0) {
		snprintf(j->err, j->errlen, "'%s' answered as '%s', not as member '%s'",
			 j->ep.addr, m.host, j->want_host);
		return -EPROTO;
	}
	if (strcmp(m.host, j->c->host) == 0) {
		snprintf(j->err, j->errlen, "'%s' is this host itself", j->ep.addr);
		return -EINVAL;
	}
	snprintf(j->ep.host, sizeof(j->ep.host), "%s", m.host);
	return 0;
}

/* As the daemon applies a pulled entry (peer.c): authorized as written
 * by the host the peer proved to be. */
static void
join_merge(struct join *j, const struct gossip_msg *m)
{
	int ret = authz_merge(&j->az, j->ep.host, m->path, m->value, m->stamp_ns);

	if (ret > 0)
		j->merged++;
	else if (ret < 0)
		j->refused++;
}

static int
join_fetch(struct join *j)
{
	struct gossip_msg m = { .type = GOSSIP_PULL, .mode = GOSSIP_PULL_FULL };
	char uuid[GOSSIP_UUID_MAX + 1];
	int ret = link_send(&j->link, &m);

	while (ret == 0 && (ret = join_exchange(j, &m)) == 0 && m.type == GOSSIP_ENTRY)
		join_merge(j, &m);
	if (ret == 0 && m.type == GOSSIP_END) {
		unsigned refused;

		j->merged += authz_batch_end(&j->az, &refused);
		j->refused += refused;
	}
	if (ret == 0 && m.type != GOSSIP_END) {
		snprintf(j->err, j->errlen, "unexpected %s from '%s'",
			 gossip_type_str(m.type), j->ep.addr);
		ret = -EPROTO;
	}
	if (ret == 0 && statefs_get(j->sf, "uuid", uuid, sizeof(uuid), NULL) < 0) {
		snprintf(j->err, j->errlen, "'%s' sent no cluster uuid", j->ep.addr);
		ret = -EPROTO;
	}
	return ret;
}

static int
my_address(struct join *j, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	short ev;
	int fd = j->link.ops->poll_fd(j->link.t, 0, &ev);

	if (j->my_ip[0]) {
		snprintf(buf, size, "%s", j->my_ip);
		return 0;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)size);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)size);
	else
		return -EAFNOSUPPORT;
	return 0;
}

/* Queue the local entry @path, as the commit stamped it, for the member. */
static int
join_send_entry(struct join *j, const char *path)
{
	struct gossip_msg m = { .type = GOSSIP_ENTRY };
	struct statefs_entry e;
	int ret = statefs_read(j->sf, path, &e);

	if (ret < 0)
		return ret;
	m.stamp_ns = e.stamp_ns;
	snprintf(m.path, sizeof(m.path), "%s", path);
	snprintf(m.value, sizeof(m.value), "%s", e.value);
	return link_send(&j->link, &m);
}

/* Register ips/ip-HOST and keys/key-HOST locally, then push them, and
 * only them, to the member: a joining host may write nothing else there
 * (docs/protocol.md, 7). */
static int
join_register(struct join *j)
{
	struct gossip_msg m;
	struct statefs_txn t;
	char path[STATEFS_PATH_MAX + 1], key[STATEFS_PATH_MAX + 1], ip[64];
	int ret = my_address(j, ip, sizeof(ip));

	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "ips/ip-%s", j->c->host);
	snprintf(key, sizeof(key), "keys/key-%s", j->c->host);
	statefs_txn_init(&t, j->sf, 0);
	ret = statefs_txn_set(&t, path, ip);
	if (ret == 0 && j->my_key[0])
		ret = statefs_txn_set(&t, key, j->my_key);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret >= 0)
		ret = join_send_entry(j, path);
	if (ret >= 0 && j->my_key[0])
		ret = join_send_entry(j, key);
	if (ret < 0) {
		snprintf(j->err, j->errlen, "cannot register '%s': %s", path,
			 statefs_refusal_str(ret));
		return ret;
	}
	m = (struct gossip_msg){ .type = GOSSIP_END, .count = j->my_key[0] ? 2 : 1 };
	if (ret == 0)
		ret = link_send(&j->link, &m);
	if (ret == 0)
		ret = join_exchange(j, &m);
	/* ACK counts what was merged (servers of earlier releases add their
	 * last pull's count: never 0 either) */
	if (ret == 0 && (m.type != GOSSIP_ACK || m.count == 0)) {
		snprintf(j->err, j->errlen, "'%s' did not accept the registration "
			 "(its log says why)", j->ep.addr);
		ret = -EPROTO;
	}
	return ret;
}

static int
join_open_tree(struct join *j, int *fresh)
{
	int ret;

	mkdir(j->c->root, 0700);
	ret = statefs_open(&j->sf, j->c->root, j->c->host, STATEFS_OPEN_ANY);
	if (ret < 0) {
		snprintf(j->err, j->errlen, "cannot open tree '%s': %s", j->c->root,
			 statefs_open_str(ret));
		return ret;
	}
	*fresh = statefs_root_is_empty(j->sf) == 1;
	if (*fresh)
		ret = statefs_mark(j->sf);
	else if (statefs_get(j->sf, "uuid", j->local_uuid, sizeof(j->local_uuid), NULL) < 0)
		j->local_uuid[0] = '\0';
	if (ret < 0) {
		snprintf(j->err, j->errlen, "cannot initialise tree '%s': %s", j->c->root,
			 statefs_open_str(ret));
		statefs_close(&j->sf);
	}
	return ret;
}

int
gossip_join(const struct gossip_config *c, const char *addr, const char *my_ip,
	    char *err, size_t errlen)
{
	struct join j = { .c = c, .err = err, .errlen = errlen };
	int fresh = 0, ret;

	snprintf(j.ep.host, sizeof(j.ep.host), "%s", addr);
	snprintf(j.ep.addr, sizeof(j.ep.addr), "%s", addr);
	j.ep.port = c->port;
	/* A name given for us is resolved, and our key read, before anything
	 * is written.  Without a key of the form the join goes on: the
	 * members then authorize us by hand (the caller says so). */
	if (my_ip && gossip_addr_resolve(my_ip, j.my_ip, sizeof(j.my_ip), err, errlen) < 0)
		return -EHOSTUNREACH;
	if (keys_own_value(c->tconf.pub_path, j.my_key, sizeof(j.my_key)) < 0)
		j.my_key[0] = '\0';
	ret = join_open_tree(&j, &fresh);
	if (ret < 0)
		return ret;
	ret = authz_init(&j.az, j.sf, j.local_uuid, &c->authz);
	if (ret < 0) {
		statefs_close(&j.sf);
		return ret;
	}
	j.az.join_keys = 1;	/* we hold no member's key yet: the member's copies */
	link_init(&j.link, c->transport);
	ret = join_connect(&j);
	if (ret == 0)
		ret = join_hello(&j);
	if (ret == 0)
		ret = join_fetch(&j);
	if (ret == 0)
		ret = join_register(&j);
	link_release(&j.link);
	if (ret < 0 && fresh)
		statefs_unmark(j.sf);	/* the fetched keys stay; the marker goes */
	authz_release(&j.az);
	statefs_close(&j.sf);
	return ret;
}

/*
 * update-cluster: the same exchange without the registration, once per
 * member, as a client of its own cluster (HELLO with our uuid, the member
 * must answer under the name it is registered with).  Members are pulled
 * one after the other; each wait is bounded by the configured timeout and
 * by @deadline_ms, so an unreachable member costs at most that.
 */
struct update {
	const struct gossip_config *c;
	int (*want)(const char *host, void *arg);
	void *arg;
	struct gossip_endpoint ep[PEERS_LOAD_MAX];
	size_t n;
};

static int
update_collect(const struct gossip_endpoint *ep, void *arg)
{
	struct update *u = arg;

	if (strcmp(ep->host, u->c->host) == 0 || (u->want && !u->want(ep->host, u->arg)))
		return 0;
	if (u->n < PEERS_LOAD_MAX)
		u->ep[u->n++] = *ep;
	return 0;
}

static void
update_one(struct join *j, const struct gossip_endpoint *ep, struct gossip_pull_report *r)
{
	j->ep = *ep;
	j->want_host = ep->host;
	j->merged = j->refused = 0;
	j->err[0] = '\0';
	link_init(&j->link, j->c->transport);
	r->ret = join_connect(j);
	if (r->ret == 0)
		r->ret = join_hello(j);
	if (r->ret == 0)
		r->ret = join_fetch(j);
	link_release(&j->link);
	r->ep = ep;
	r->err = j->err;
	r->merged = j->merged;
	r->refused = j->refused;
}

int
gossip_update(const struct gossip_config *c, uint64_t deadline_ms,
	      int (*want)(const char *host, void *arg),
	      void (*report)(const struct gossip_pull_report *r, void *arg), void *arg)
{
	static struct update u;		/* the endpoint array is large */
	struct statefs *sf = NULL;
	char err[512];
	struct join j = { .c = c, .err = err, .errlen = sizeof(err),
			  .deadline_ms = deadline_ms };
	struct gossip_pull_report r;
	int failed = 0, ret;

	ret = statefs_open(&sf, c->root, c->host, 0);
	if (ret < 0)
		return ret;
	j.sf = sf;
	if (statefs_get(sf, "uuid", j.local_uuid, sizeof(j.local_uuid), NULL) < 0) {
		statefs_close(&sf);
		return -ENOENT;
	}
	ret = authz_init(&j.az, sf, j.local_uuid, &c->authz);
	if (ret < 0) {
		statefs_close(&sf);
		return ret;
	}
	memset(&u, 0, sizeof(u));
	u.c = c;
	u.want = want;
	u.arg = arg;
	ret = peers_load(c, sf, update_collect, &u);
	for (size_t i = 0; ret == 0 && i < u.n; i++) {
		update_one(&j, &u.ep[i], &r);
		failed += r.ret < 0;
		report(&r, arg);
	}
	authz_release(&j.az);
	statefs_close(&sf);
	return ret < 0 ? ret : failed;
}
