/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cluster membership over the gossip trust: join-cluster runs clusterd's
 * one-shot join in-process (the same HELLO, pull and merge as the daemon,
 * docs/protocol.md section 7), leave-cluster tombstones this host's
 * membership for the daemon to spread, or evicts another (dead) member
 * that every daemon then drops and revokes the key of, readmit undoes
 * such an eviction, update-cluster pulls every member's
 * tree now (marsadm/pull.c), wait-cluster waits until every member (of a
 * resource) answered such a pull and its heartbeat is fresh.  Keys, known
 * hosts and ports come from the same defaults and environment as clusterd
 * (MARS_SSH_KEY, MARS_KNOWN_HOSTS, MARS_PEERS, MARS_SSH_PORT,
 * MARS_SSH_USER), for join-cluster also --key=, --known-hosts=, --port=,
 * --ip=, --authorized-keys= after the command.  join-cluster publishes this
 * host's key with its address and lets in the members whose keys it
 * pulled (clusterd/gossip/keys.c, docs/protocol.md section 1.1).
 */
#include "marsadm/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/keys.h"

#define PEERS_MAX	256	/* members one wait keeps track of */

#define ALIVE_WINDOW_NS	(30ULL * STATEFS_NS_PER_S)	/* heartbeat younger than this */

static int
join_args(struct marsadm_ctx *ctx, struct gossip_config *c, int argc, char **argv,
	  const char **peer, const char **ip)
{
	const char *port = NULL;

	*peer = NULL;
	*ip = NULL;
	for (int i = 1; i < argc; i++) {
		if (own_opt(argv[i], "--ip", ip) || own_opt(argv[i], "--port", &port) ||
		    own_opt(argv[i], "--key", &c->tconf.key_path) ||
		    own_opt(argv[i], "--known-hosts", &c->tconf.known_hosts) ||
		    own_opt(argv[i], "--authorized-keys", &c->authorized_keys))
			continue;
		if (argv[i][0] == '-' || *peer)
			return usage_error(ctx->cmd, "unexpected argument '%s'", argv[i]);
		*peer = argv[i];
	}
	if (!*peer)
		return usage_error(ctx->cmd, "the member to join through is missing");
	if (port && (c->port = (unsigned)strtoul(port, NULL, 10)) - 1 > 65534)
		return usage_error(ctx->cmd, "invalid port '%s'", port);
	return MX_OK;
}

static void
join_key_note(const struct keys_event *ev, void *arg)
{
	const char *path = arg;

	if (ev->kind == KEYS_ADDED)
		printf("authorized member '%s' from %s in %s\n", ev->host, ev->addr, path);
	else
		warning("member '%s' not authorized in %s: %s; run 'mars-setup-ssh --authorize "
		     "%s %s PUBKEY-FILE' if it is right", ev->host, path,
		     ev->kind == KEYS_CHANGED ? "another key is authorized for it" :
		     "its key is in a line not bound to it", ev->host, ev->addr);
}

/* The join published our key if it could read one of the form; if not,
 * the members cannot let us in by themselves. */
static void
own_key_note(const struct gossip_config *c)
{
	char value[STATEFS_VALUE_MAX + 1];
	int ret = keys_own_value(c->tconf.pub_path, value, sizeof(value));

	if (ret < 0)
		warning("this host's key was not published: '%s': %s; each member must "
			"authorize it by hand ('mars-setup-ssh --authorize %s ADDRESS KEYFILE')",
			c->tconf.pub_path, ret == -EBADMSG ?
			"not an OpenSSH public key of an allowed type" : strerror(-ret), c->host);
}

/* Let in the members whose keys came with the tree (first key wins). */
static int
join_authorize(struct marsadm_ctx *ctx, const struct gossip_config *c)
{
	struct statefs *sf = NULL;
	int ret;

	if (!c->authorized_keys || !*c->authorized_keys) {
		printf("the members reach this host once their keys are authorized here: give "
		       "--authorized-keys=FILE, or run 'mars-setup-ssh --authorize' for each\n");
		return MX_OK;
	}
	ret = statefs_open(&sf, ctx->root, ctx->host, 0);
	if (ret < 0)
		return fail(MX_FAIL, "cannot open tree '%s': %s", ctx->root, statefs_open_str(ret));
	ret = keys_install(sf, c->authorized_keys, c->serve_cmd, NULL, join_key_note,
			   (void *)c->authorized_keys);
	statefs_close(&sf);
	if (ret < 0)
		return fail(MX_FAIL, "joined, but cannot add the members' keys to '%s': %s",
			    c->authorized_keys, strerror(-ret));
	return MX_OK;
}

static int
cmd_join_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct gossip_config c;
	const char *peer, *ip;
	char err[512] = "";
	int ret;

	if (gossip_config_init(&c) < 0)
		return fail(MX_USAGE, "host name too long");
	c.root = ctx->root;
	snprintf(c.host, sizeof(c.host), "%s", ctx->host);
	ret = join_args(ctx, &c, argc, argv, &peer, &ip);
	if (ret != MX_OK)
		return ret;
	gossip_config_finish(&c);
	ret = gossip_join(&c, peer, ip, err, sizeof(err));
	if (ret == -EEXIST) {
		fail(MX_REFUSED, "cannot join '%s': %s", peer, err);
		hint("a node joins with an empty tree; nothing was changed");
		return MX_REFUSED;
	}
	if (ret == -EHOSTUNREACH) {
		fail(MX_FAIL, "cannot join '%s': %s", peer, err);
		hint("check the name with 'getent ahosts NAME', or give an address instead");
		return MX_FAIL;
	}
	if (ret < 0) {
		fail(MX_FAIL, "cannot join '%s': %s", peer, err);
		hint("'%s' must accept this host's key, bound to its name: run there "
		     "'mars-setup-ssh --authorize %s %s %s'", peer, c.host, ip ? ip : "ADDRESS",
		     c.tconf.pub_path);
		return MX_FAIL;
	}
	printf("joined the cluster through '%s'; start clusterd to keep in step\n", peer);
	own_key_note(&c);
	return join_authorize(ctx, &c);
}

/* Refuse to leave while this host still stores a resource. */
static int
storage_member(const char *res, void *arg)
{
	struct statefs *sf = arg;

	return statefs_is_member(sf, res, statefs_host(sf)) > 0;
}

/* The resources a host to be evicted still stores, for the refusal. */
struct stores {
	struct statefs *sf;
	const char *host;
	char list[256];
	int n;
};

static int
stores_one(const char *res, void *arg)
{
	struct stores *s = arg;
	size_t len = strlen(s->list);

	if (statefs_is_member(s->sf, res, s->host) <= 0)
		return 0;
	if (len + strlen(res) + 5 < sizeof(s->list)) {
		if (s->n)
			strcat(s->list, ", ");
		strcat(s->list, "'");
		strcat(s->list, res);
		strcat(s->list, "'");
	}
	s->n++;
	return 0;
}

/* Refused unless @host is a known member that stores no resource here
 * (or --force).  MX_OK to go on, 1 + MX_OK if it is already evicted. */
static int
evict_check(struct marsadm_ctx *ctx, struct statefs *sf, const char *host)
{
	struct stores s = { .sf = sf, .host = host };
	char key[STATE_KEY_BYTES], by[STATEFS_VALUE_MAX + 1];
	struct statefs_entry e;

	state_key(key, "ips/ip-%s", host);
	if (statefs_is_evicted(sf, host, by, sizeof(by)) > 0) {
		printf("'%s' is already evicted (by '%s')\n", host, by);
		return MX_OK + 1;
	}
	if (statefs_read(sf, key, &e) == -ENOENT) {
		fail(MX_NOENT, "'%s' is no member of this cluster", host);
		hint("the members are the hosts of the tree's ips/ip-HOST links");
		return MX_NOENT;
	}
	statefs_list_dirs(sf, "", "resource-", stores_one, &s);
	if (s.n && !ctx->force) {
		fail(MX_REFUSED, "'%s' still stores %d resource%s: %s", host, s.n,
		     s.n > 1 ? "s" : "", s.list);
		hint("take it out of each first ('marsadm leave-resource RES --host=%s --force' "
		     "on every member), or evict it anyway with --force", host);
		return MX_REFUSED;
	}
	return MX_OK;
}

/* leave-cluster HOST on another member: evicted/HOST = us, and its
 * ips/ip-HOST and keys/key-HOST tombstoned here; every daemon follows
 * (state-tree.md 8).  The key goes too, so that no node lets the old key
 * in again should HOST come back with another (keys.c: first key wins). */
static int
evict(struct marsadm_ctx *ctx, struct statefs *sf, const char *host)
{
	struct statefs_txn t;
	char key[STATE_KEY_BYTES];
	int ret = evict_check(ctx, sf, host);

	if (ret != MX_OK)
		return ret == MX_OK + 1 ? MX_OK : ret;
	statefs_txn_init(&t, sf, 0);
	state_key(key, "evicted/%s", host);
	statefs_txn_set(&t, key, ctx->host);
	state_key(key, "ips/ip-%s", host);
	statefs_txn_delete(&t, key);
	state_key(key, "keys/key-%s", host);
	statefs_txn_delete(&t, key);
	ret = state_apply(ctx, &t, NULL);
	statefs_txn_release(&t);
	if (ret == MX_OK && !ctx->dry_run)
		printf("'%s' evicted from the cluster by '%s': every member's clusterd drops it "
		       "and revokes its key; 'marsadm readmit %s' undoes this\n", host, ctx->host,
		       host);
	return ret;
}

static int
leave_self(struct marsadm_ctx *ctx, struct statefs *sf)
{
	struct statefs_txn t;
	char key[STATE_KEY_BYTES];
	int ret;

	if (!ctx->force && statefs_list_dirs(sf, "", "resource-", storage_member, sf) > 0) {
		fail(MX_REFUSED, "'%s' still stores resources", ctx->host);
		hint("leave-resource (or delete-resource) them first, or use --force");
		return MX_REFUSED;
	}
	statefs_txn_init(&t, sf, 0);
	state_key(key, "ips/ip-%s", ctx->host);
	statefs_txn_delete(&t, key);
	state_key(key, "keys/key-%s", ctx->host);	/* withdrawn with the membership */
	statefs_txn_delete(&t, key);
	ret = state_apply(ctx, &t, NULL);
	statefs_txn_release(&t);
	if (ret == MX_OK && !ctx->dry_run)
		printf("'%s' left the cluster; clusterd tells the other members\n", ctx->host);
	return ret;
}

/* leave-cluster: this node leaves; leave-cluster HOST: HOST is evicted. */
static int
cmd_leave_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	const char *host = argc > 1 ? argv[1] : ctx->host;
	const char *why;
	struct statefs *sf = NULL;
	int ret;

	if (statefs_name_check(STATEFS_NAME_HOST, host, &why) < 0)
		return usage_error(ctx->cmd, "host name '%s' %s", host, why);
	ret = state_open(ctx, &sf, 0);
	if (ret != MX_OK)
		return ret;
	ret = strcmp(host, ctx->host) ? evict(ctx, sf, host) : leave_self(ctx, sf);
	statefs_close(&sf);
	return ret;
}

/* readmit HOST: the eviction goes (a tombstone every member takes). */
static int
cmd_readmit(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct statefs_txn t;
	struct statefs *sf = NULL;
	char key[STATE_KEY_BYTES];
	int ret = state_open(ctx, &sf, 0);

	if (ret != MX_OK)
		return ret;
	if (statefs_is_evicted(sf, argv[1], NULL, 0) <= 0) {
		statefs_close(&sf);
		fail(MX_NOENT, "'%s' is not evicted", argv[1]);
		hint("only a host removed with 'marsadm leave-cluster HOST' is readmitted");
		return MX_NOENT;
	}
	state_key(key, "evicted/%s", argv[1]);
	statefs_txn_init(&t, sf, 0);
	statefs_txn_delete(&t, key);
	ret = state_apply(ctx, &t, NULL);
	statefs_txn_release(&t);
	statefs_close(&sf);
	if (ret == MX_OK && !ctx->dry_run)
		printf("'%s' may join again: authorize its key on every member "
		       "(mars-setup-ssh --authorize %s ADDR KEYFILE), empty its tree, then run "
		       "'marsadm join-cluster MEMBER' there\n", argv[1], argv[1]);
	return ret;
}

/* The members a wait or an update is about: all, or those of one resource. */
struct scope {
	struct statefs *sf;
	const char *res;		/* NULL: every member */
	char answered[PEERS_MAX][STATEFS_NAME_MAX + 1];	/* wait-cluster: pulled */
	int n_answered;
};

static int
scope_has(struct scope *s, const char *host)
{
	return !s->res || statefs_is_member(s->sf, s->res, host) > 0;
}

static int
scope_pulled(const struct scope *s, const char *host)
{
	for (int i = 0; i < s->n_answered; i++)
		if (!strcmp(s->answered[i], host))
			return 1;
	return 0;
}

static int
want_in_scope(struct pull *p, const char *host)
{
	return scope_has(p->arg, host);
}

static int
want_unpulled(struct pull *p, const char *host)
{
	return scope_has(p->arg, host) && !scope_pulled(p->arg, host);
}

static void
mark_pulled(struct pull *p, const char *host)
{
	struct scope *s = p->arg;

	if (s->n_answered < PEERS_MAX)
		snprintf(s->answered[s->n_answered++], STATEFS_NAME_MAX + 1, "%s", host);
}

/* Open the tree for @res (operand 1, optional): a resource known here limits
 * the scope to its members; an unknown one is an error when @need is set. */
static int
scope_open(struct marsadm_ctx *ctx, struct scope *s, int argc, char **argv, int need)
{
	int ret = state_open(ctx, &s->sf, 0);

	s->res = NULL;
	s->n_answered = 0;
	if (ret != MX_OK || argc < 2)
		return ret;
	if (res_exists(s->sf, argv[1]) == 1)
		s->res = argv[1];
	else if (need) {
		statefs_close(&s->sf);
		fail(MX_NOENT, "resource '%s' does not exist in '%s'", argv[1], ctx->root);
		hint("'marsadm update-cluster' fetches the newest resources first");
		return MX_NOENT;
	}
	return MX_OK;
}

static int
update_result(const struct pull *p)
{
	int code = p->timed_out == p->failed ? MX_TIMEOUT : MX_FAIL;

	if (!p->failed)
		return MX_OK;
	fail(code, "%d of %d members did not answer, '%s' among them", p->failed, p->members,
	     p->first_failed);
	hint("the others' trees are merged; is '%s' up, its sshd reachable, and --timeout long enough?",
	     p->first_failed);
	return code;
}

static int
cmd_update_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	static struct scope s;
	struct pull p = { .ctx = ctx, .strict = 1, .want = want_in_scope, .arg = &s };
	struct json_object *o = NULL;
	int ret = scope_open(ctx, &s, argc, argv, 0);

	if (ret != MX_OK)
		return ret;
	if (ctx->json)
		p.json = json_object_new_array();
	ret = pull_run(&p);
	statefs_close(&s.sf);
	if (ret == MX_OK)
		ret = update_result(&p);
	if (ctx->json) {
		o = json_object_new_object();
		json_object_object_add(o, "command", json_object_new_string("update-cluster"));
		json_object_object_add(o, "members", p.json);
		return print_json(o) ? MX_IO : ret;
	}
	if (ret == MX_OK)
		printf("pulled the trees of %d member%s\n", p.members, p.members == 1 ? "" : "s");
	return ret;
}

struct alive_scan {
	struct scope *s;
	uint64_t now_ns;
	int members, silent;
	char first_silent[STATEFS_NAME_MAX + 1];
};

static int
check_member(const struct statefs_entry *e, void *arg)
{
	struct alive_scan *a = arg;
	const char *host = e->path + strlen("ips/ip-");
	char key[STATE_KEY_BYTES], value[64];
	uint64_t stamp = 0;

	if (strncmp(e->path, "ips/ip-", 7) != 0 || !scope_has(a->s, host))
		return 0;
	a->members++;
	state_key(key, "actual-%s/time", host);
	if (statefs_get(a->s->sf, key, value, sizeof(value), &stamp) < 0 ||
	    stamp + ALIVE_WINDOW_NS < a->now_ns) {
		if (!a->silent++)
			snprintf(a->first_silent, sizeof(a->first_silent), "%s", host);
	}
	return 0;
}

/* One round: pull from who has not answered yet, then read the heartbeats.
 * 1 when every member in scope answered and beats, 0 to go on. */
static int
wait_round(struct scope *s, struct pull *p, struct alive_scan *a)
{
	int ret = pull_run(p);

	if (ret != MX_OK)
		return -ret;
	memset(a, 0, sizeof(*a));
	a->s = s;
	a->now_ns = statefs_realtime_ns();
	statefs_list(s->sf, "ips", 0, check_member, a);
	return p->failed == 0 && a->members > 0 && a->silent == 0;
}

static int
wait_timeout(struct marsadm_ctx *ctx, const struct pull *p, const struct alive_scan *a)
{
	if (p->failed) {
		fail(MX_TIMEOUT, "member '%s' did not answer within %d s: %s", p->first_failed,
		     ctx->timeout_s, p->first_err);
		hint("is '%s' up and its sshd reachable from here?", p->first_failed);
		return MX_TIMEOUT;
	}
	fail(MX_TIMEOUT, "%d of %d members silent, '%s' among them", a->silent, a->members,
	     a->first_silent);
	hint("is clusterd running there, and can this node reach it over ssh?");
	return MX_TIMEOUT;
}

static int
cmd_wait_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	static struct scope s;
	struct pull p = { .ctx = ctx, .strict = 1, .quiet = 1, .want = want_unpulled,
			  .answered = mark_pulled, .arg = &s };
	struct alive_scan a;
	struct timespec pause = { 0, 200 * 1000000L };
	uint64_t wait_ms = ctx->timeout_s > 0 ? (uint64_t)ctx->timeout_s * 1000 : 0;
	uint64_t deadline = gossip_now_ms() + wait_ms;
	int ret = scope_open(ctx, &s, argc, argv, 1);

	if (ret != MX_OK)
		return ret;
	/* --timeout=0: one round, each member bounded by the gossip timeout. */
	p.deadline_ms = ctx->timeout_s > 0 ? deadline : 0;
	while ((ret = wait_round(&s, &p, &a)) == 0) {
		if (ctx->timeout_s >= 0 && gossip_now_ms() >= deadline) {
			ret = -wait_timeout(ctx, &p, &a);
			break;
		}
		nanosleep(&pause, NULL);
	}
	statefs_close(&s.sf);
	if (ret < 0)
		return -ret;
	if (s.res)
		printf("all %d members of '%s' alive\n", a.members, s.res);
	else
		printf("all %d members alive\n", a.members);
	return MX_OK;
}

const struct cmd cmds_join[] = {
	{ .name = "join-cluster", .fn = cmd_join_cluster,
	  .flags = CMD_OWN_OPTS,
	  .usage = "PEER",
	  .help = "join the cluster of the member PEER (address or host name) over ssh" },
	{ .name = "leave-cluster", .fn = cmd_leave_cluster,
	  .flags = CMD_NEED_TREE | CMD_OPT_FORCE | CMD_OPT_DRY_RUN,
	  .usage = "[HOST]",
	  .help = "remove this node, or evict another member HOST, from the cluster" },
	{ .name = "readmit", .fn = cmd_readmit,
	  .flags = CMD_NEED_TREE | CMD_OPT_DRY_RUN,
	  .usage = "HOST",
	  .help = "undo the eviction of HOST, so that it may join again" },
	{ .name = "update-cluster", .fn = cmd_update_cluster,
	  .flags = CMD_NEED_TREE | CMD_OPT_TIMEOUT | CMD_OPT_JSON,
	  .usage = "[RES]",
	  .help = "pull the newest tree from every member (of RES) now" },
	{ .name = "wait-cluster", .fn = cmd_wait_cluster,
	  .flags = CMD_NEED_TREE | CMD_OPT_TIMEOUT,
	  .usage = "[RES]",
	  .help = "wait until every member (of RES) answers a pull and its heartbeat is fresh" },
	{ .name = NULL },
};
