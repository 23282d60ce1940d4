/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cluster membership over the gossip trust: join-cluster runs clusterd's
 * one-shot join in-process (the same HELLO, pull and merge as the daemon,
 * docs/protocol.md section 7), leave-cluster tombstones this host's
 * membership for the daemon to spread, wait-cluster waits until every
 * member's heartbeat is fresh.  Keys, known hosts and ports come from the
 * same defaults and environment as clusterd (MARS_SSH_KEY,
 * MARS_KNOWN_HOSTS, MARS_SSH_PORT, MARS_SSH_USER), or --key=, --known-hosts=,
 * --port=, --ip= after the command.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clusterd/gossip.h"

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
		    own_opt(argv[i], "--known-hosts", &c->tconf.known_hosts))
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
		hint("check that sshd on '%s' forces 'clusterd --serve' for the cluster key", peer);
		return MX_FAIL;
	}
	printf("joined the cluster through '%s'; start clusterd to keep in step\n", peer);
	return MX_OK;
}

/* Refuse to leave while this host still stores a resource. */
static int
storage_member(const char *res, void *arg)
{
	struct statefs *sf = arg;

	return res_is_member(sf, res, sf->host) ? 1 : 0;
}

static int
cmd_leave_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct statefs sf;
	struct statefs_txn t;
	char key[STATE_KEY_BYTES];
	int ret = state_open(ctx, &sf, 0);

	if (ret != MX_OK)
		return ret;
	if (!ctx->force && statefs_list_dirs(&sf, "", "resource-", storage_member, &sf) > 0) {
		statefs_close(&sf);
		fail(MX_REFUSED, "'%s' still stores resources", ctx->host);
		hint("leave-resource (or delete-resource) them first, or use --force");
		return MX_REFUSED;
	}
	state_key(key, "ips/ip-%s", ctx->host);
	statefs_txn_init(&t, &sf, 0);
	statefs_txn_delete(&t, key);
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	statefs_close(&sf);
	if (ret < 0)
		return fail(MX_IO, "cannot remove '%s': %s", key, statefs_refusal_str(ret));
	printf("'%s' left the cluster; clusterd tells the other members\n", ctx->host);
	return MX_OK;
}

struct alive_scan {
	struct statefs *sf;
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

	if (strncmp(e->path, "ips/ip-", 7) != 0)
		return 0;
	a->members++;
	state_key(key, "actual-%s/time", host);
	if (statefs_get(a->sf, key, value, sizeof(value), &stamp) < 0 ||
	    stamp + ALIVE_WINDOW_NS < a->now_ns) {
		if (!a->silent++)
			snprintf(a->first_silent, sizeof(a->first_silent), "%s", host);
	}
	return 0;
}

static int
cmd_wait_cluster(struct marsadm_ctx *ctx, int argc, char **argv)
{
	struct statefs sf;
	struct alive_scan a;
	struct timespec pause = { 0, 200 * 1000000L };
	time_t deadline = time(NULL) + ctx->timeout_s;
	int ret = state_open(ctx, &sf, 0);

	if (ret != MX_OK)
		return ret;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.sf = &sf;
		a.now_ns = statefs_realtime_ns();
		statefs_list(&sf, "ips", 0, check_member, &a);
		if (a.members > 0 && a.silent == 0)
			break;
		if (ctx->timeout_s >= 0 && time(NULL) >= deadline) {
			statefs_close(&sf);
			fail(MX_TIMEOUT, "%d of %d members silent, '%s' among them", a.silent,
			     a.members, a.first_silent);
			hint("is clusterd running there, and can this node reach it over ssh?");
			return MX_TIMEOUT;
		}
		nanosleep(&pause, NULL);
	}
	statefs_close(&sf);
	printf("all %d members alive\n", a.members);
	return MX_OK;
}

const struct cmd cmds_join[] = {
	{ .name = "join-cluster", .fn = cmd_join_cluster,
	  .flags = CMD_OWN_OPTS,
	  .usage = "PEER",
	  .help = "join the cluster of the member PEER (address or host name) over ssh" },
	{ .name = "leave-cluster", .fn = cmd_leave_cluster,
	  .flags = CMD_NEED_TREE | CMD_OPT_FORCE,
	  .usage = "",
	  .help = "remove this node from the cluster membership" },
	{ .name = "wait-cluster", .fn = cmd_wait_cluster,
	  .flags = CMD_NEED_TREE | CMD_OPT_TIMEOUT,
	  .usage = "",
	  .help = "wait until every member's heartbeat is fresh" },
	{ .name = NULL },
};
