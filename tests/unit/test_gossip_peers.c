/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip's own entry policy and the peer list: members from the tree,
 * overrides from the peers file (added, re-addressed, malformed lines
 * skipped), tombstoned members gone, and their authorized_keys lines too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/gossip/gossip.h"
#include "common/log.h"
#include "clusterd/gossip/peers.h"
#include "clusterd/gossip/revoke.h"
#include "tests/unit/tap.h"

static void
test_policy(void)
{
	tap_ok(gossip_entry_policy("u1", "uuid", "u1") == 0, "same uuid accepted");
	tap_ok(gossip_entry_policy("u1", "uuid", "u2") == -EPERM, "another uuid refused");
	tap_ok(gossip_entry_policy("", "uuid", "u2") == 0, "a fresh node takes any uuid");
	tap_ok(gossip_entry_policy("u1", "ips/ip-beta", "10.0.0.2") == 0, "IPv4 member");
	tap_ok(gossip_entry_policy("u1", "ips/ip-beta", "fd00::2") == 0, "IPv6 member");
	tap_ok(gossip_entry_policy("u1", "ips/ip-beta", ".deleted") == 0, "member tombstone");
	tap_ok(gossip_entry_policy("u1", "ips/ip-beta", "evil.example") == -EXDEV,
	       "member address that is not an IP refused");
	tap_ok(gossip_entry_policy("u1", "ips/ip-", "10.0.0.1") == -EDOM, "empty host refused");
	tap_ok(gossip_entry_policy("u1", "ips/ip-Bad", "10.0.0.1") == -EDOM,
	       "invalid host name refused");
	tap_ok(gossip_entry_policy("u1", "ips/other", "10.0.0.1") == -EDOM,
	       "other names under ips/ refused");
	tap_ok(gossip_entry_policy("u1", "userspace/x", "anything") == 0,
	       "other keys left to statefs");
}

struct seen {
	char text[1024];
};

static int
collect(const struct gossip_endpoint *ep, void *arg)
{
	struct seen *s = arg;
	char one[400];

	snprintf(one, sizeof(one), "%s=%s:%u ", ep->host, ep->addr, ep->port);
	strncat(s->text, one, sizeof(s->text) - strlen(s->text) - 1);
	return 0;
}

static int
set_keys(struct statefs *sf, const char *const *kv)
{
	struct statefs_txn t;
	int ret = 0;

	statefs_txn_init(&t, sf, 0);
	for (; kv[0] && ret == 0; kv += 2)
		ret = kv[1] ? statefs_txn_set(&t, kv[0], kv[1]) : statefs_txn_delete(&t, kv[0]);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);	/* keys changed, or -errno */
	statefs_txn_release(&t);
	return ret < 0 ? ret : 0;
}

static void
test_line_peer(void)
{
	static const char bound[] = "restrict,from=\"10.0.0.2\",command=\"/usr/sbin/clusterd "
		"--serve --peer beta\" ecdsa-sha2-nistp256 AAAA mars-authorized=1700000000";
	char host[64];
	uint64_t t = 1;

	tap_ok(revoke_line_peer(bound, strlen(bound), host, sizeof(host), &t) == 0 &&
	       !strcmp(host, "beta") && t == 1700000000, "bound line: host and stamp");
	tap_ok(revoke_line_peer(bound, 60, host, sizeof(host), &t) == -ENOENT,
	       "never reads past the line");
	tap_ok(revoke_line_peer("restrict,command=\"clusterd --serve\" ecdsa AAAA", 44, host,
				sizeof(host), &t) == -ENOENT, "unbound line: no host");
	tap_ok(revoke_line_peer("ssh-ed25519 AAAA --peer beta\"", 30, host, sizeof(host),
				&t) == -ENOENT, "--peer outside a command: no host");
	tap_ok(revoke_line_peer("command=\"x --peer Bad\" k", 24, host, sizeof(host),
				&t) == -ENOENT, "invalid host name: no host");
}

/* gamma is a tombstone in @sf: its line goes unless authorized later. */
static void
test_revoke(const char *dir, struct statefs *sf)
{
	static const char keep[] =
		"# admin's comment\n"
		"restrict,command=\"clusterd --serve\" ecdsa-sha2-nistp256 OLD\n"
		"restrict,from=\"10.0.0.2\",command=\"clusterd --serve --peer beta\" k B\n"
		"restrict,from=\"10.0.0.3\",command=\"clusterd --serve --peer gamma\" k G2 "
		"mars-authorized=4000000000\n";
	static const char gone[] =
		"restrict,from=\"10.0.0.3\",command=\"clusterd --serve --peer gamma\" k G1\n";
	char path[512], buf[1024] = "";
	struct stat st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	f = fopen(path, "w");
	fputs(gone, f);
	fputs(keep, f);
	fclose(f);
	chmod(path, 0640);
	tap_ok(revoke_departed(sf, path, NULL, NULL) == 1, "the departed member's line removed");
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	tap_ok(!strcmp(buf, keep), "the other lines kept as they were");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "mode kept");
	tap_ok(revoke_departed(sf, path, NULL, NULL) == 0, "nothing more to remove");
	snprintf(path, sizeof(path), "%s/none", dir);
	tap_ok(revoke_departed(sf, path, NULL, NULL) == 0, "no file: nothing to do");
}

static void
test_peers(const char *dir)
{
	static const char *const members[] = {
		"uuid", "alpha_1", "ips/ip-alpha", "10.0.0.1", "ips/ip-beta", "10.0.0.2",
		"ips/ip-gamma", "10.0.0.3", NULL,
	};
	static const char *const gone[] = { "ips/ip-gamma", NULL, NULL };
	struct gossip_config c;
	struct statefs *sf = NULL;
	struct seen s = { "" };
	char root[512], peers[512];
	FILE *f;
	int ret;

	snprintf(root, sizeof(root), "%s/tree", dir);
	snprintf(peers, sizeof(peers), "%s/peers", dir);
	mkdir(root, 0700);
	ret = statefs_open(&sf, root, "alpha", STATEFS_OPEN_ANY);
	if (ret == 0)
		ret = statefs_mark(sf);
	if (ret == 0)
		ret = set_keys(sf, members);
	if (!tap_ok(ret == 0, "test tree made (%s)", strerror(-ret)))
		return;
	gossip_config_init(&c);
	c.peers_file = peers;
	tap_ok(peers_load(&c, sf, collect, &s) == 0 &&
	       !strcmp(s.text, "alpha=10.0.0.1:22 beta=10.0.0.2:22 gamma=10.0.0.3:22 "),
	       "members from the tree, no overrides file: %s", s.text);
	f = fopen(peers, "w");
	fputs("# comment\n\nbeta 192.0.2.2:2222\ndelta [fd00::4]:23\nbad line here x\n"
	      "Upper 10.0.0.9\neps 10.0.0.5:0\n", f);
	fclose(f);
	s.text[0] = '\0';
	tap_ok(peers_load(&c, sf, collect, &s) == 0 &&
	       !strcmp(s.text, "alpha=10.0.0.1:22 beta=192.0.2.2:2222 gamma=10.0.0.3:22 "
			       "delta=fd00::4:23 "),
	       "overrides re-address and add, bad lines skipped: %s", s.text);
	tap_ok(set_keys(sf, gone) == 0, "member tombstoned");
	s.text[0] = '\0';
	peers_load(&c, sf, collect, &s);
	tap_ok(strstr(s.text, "gamma") == NULL, "tombstoned member gone: %s", s.text);
	test_revoke(dir, sf);
	statefs_close(&sf);
}

int
main(void)
{
	char dir[] = "/tmp/test_gossip_peers.XXXXXX";
	char cmd[600];

	log_init("test_gossip_peers", LOG_LVL_ERR);
	test_policy();
	test_line_peer();
	if (tap_ok(mkdtemp(dir) != NULL, "temporary directory"))
		test_peers(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
