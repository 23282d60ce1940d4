/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trust rules of clusterd/gossip/authz.c (docs/state-tree.md section 8) on a
 * real tree of host "alpha": what peers may and may not make it store.
 * (Escaping of the refusal log lines is log_escape()'s, tests/unit/test_log.c.)
 */
#include "statefs_test.h"

#include "clusterd/gossip/authz.h"
#include "common/log.h"

#define UUID	"alpha_1700000000.000000001"

static struct statefs *sf;
static struct authz az;
static uint64_t now;

/* One entry from @peer stamped a moment from now. */
static int
push(const char *peer, const char *path, const char *value)
{
	now += 1000;
	return authz_merge(&az, peer, path, value, now);
}

static void
setup(const struct authz_limits *lim)
{
	sft_new_tree(&sf, "alpha");
	if (authz_init(&az, sf, UUID, lim) < 0) {
		printf("Bail out! authz_init\n");
		exit(99);
	}
	sft_set(sf, "uuid", UUID);
	sft_set(sf, "ips/ip-alpha", "10.0.0.1");
	sft_set(sf, "ips/ip-gamma", "10.0.0.3");
	sft_set(sf, "resource-r/size", "1000");
	sft_set(sf, "resource-r/primary", "alpha");
	sft_set(sf, "resource-r/data-alpha", "/dev/vdb");
	sft_set(sf, "resource-r/todo-alpha/allow-replay", "1");
	sft_set(sf, "actual-alpha/time", "1");
	now = statefs_realtime_ns() + STATEFS_NS_PER_S;	/* newer than all of ours */
}

static void
teardown(void)
{
	authz_release(&az);
	sft_done_tree(&sf);
}

static void
test_own_names(void)
{
	setup(NULL);
	tap_ok(push("beta", "resource-r/data-alpha", "/etc/shadow") < 0 &&
	       !strcmp(sft_value(sf, "resource-r/data-alpha"), "/dev/vdb"),
	       "data-alpha=/etc/shadow from a peer: refused, ours kept");
	tap_ok(push("beta", "resource-x/data-alpha", "/etc/passwd") < 0 &&
	       !sft_value(sf, "resource-x/data-alpha")[0],
	       "data-alpha of a made-up resource: refused, not created");
	tap_ok(push("beta", "resource-x/device-alpha", "x") < 0, "device-alpha: refused");
	tap_ok(push("beta", "resource-r/todo-alpha/allow-replay", "0") < 0 &&
	       !strcmp(sft_value(sf, "resource-r/todo-alpha/allow-replay"), "1"),
	       "todo-alpha/allow-replay=0: refused");
	tap_ok(push("beta", "resource-r/data-alpha", STATEFS_TOMBSTONE) < 0 &&
	       sft_value(sf, "resource-r/data-alpha")[0],
	       "a tombstone of data-alpha: refused");
	tap_ok(push("beta", "actual-alpha/time", STATEFS_TOMBSTONE) < 0 &&
	       push("gamma", "actual-alpha/time", "2") < 0,
	       "actual-alpha/time, live or tombstone, from anyone: refused");
	tap_ok(push("beta", "ips/ip-alpha", "10.6.6.6") < 0 &&
	       push("beta", "ips/ip-alpha", STATEFS_TOMBSTONE) < 0 &&
	       !strcmp(sft_value(sf, "ips/ip-alpha"), "10.0.0.1"),
	       "ips/ip-alpha from a peer: refused");
	tap_ok(push("beta", "ips/ip-alpha", "10.0.0.1") == 0 &&
	       push("gamma", "resource-r/data-alpha", "/dev/vdb") == 0,
	       "our own names echoed back unchanged: ignored quietly");
	tap_ok(az.refused[AUTHZ_OWN_NAME] == 9 && statefs_stats(sf)->refused_policy == 9,
	       "counted by verdict and in the tree's refused_policy (%llu)",
	       (unsigned long long)statefs_stats(sf)->refused_policy);
	tap_ok(push("beta", "resource-r/data-beta", "/dev/vdc") == 1 &&
	       push("gamma", "resource-r/data-beta", "/etc/shadow") < 0 &&
	       push("gamma", "resource-r/data-beta", STATEFS_TOMBSTONE) < 0 &&
	       !strcmp(sft_value(sf, "resource-r/data-beta"), "/dev/vdc") &&
	       az.refused[AUTHZ_NOT_OWNER] == 2,
	       "data-beta from beta is taken; from gamma, live or tombstone, refused");
	tap_ok(push("beta", "resource-r/data-beta", STATEFS_TOMBSTONE) == 1,
	       "beta's own tombstone of data-beta is taken");
	tap_ok(push("beta", "resource-r/no-such-key", "1") < 0 && az.refused[AUTHZ_MERGE] == 1,
	       "a key the tree format does not define: refused by statefs_merge()");
	teardown();
}

static void
test_cluster_keys(void)
{
	setup(NULL);
	tap_ok(push("beta", "resource-r/size", "500") < 0 &&
	       !strcmp(sft_value(sf, "resource-r/size"), "1000"),
	       "size shrinking: refused");
	tap_ok(push("beta", "resource-r/size", "2000") == 1, "size growing: taken");
	tap_ok(push("beta", "resource-r/primary", "mallory") == 0 &&
	       authz_batch_end(&az, NULL) == 0 && az.n_deferred == 1 &&
	       !strcmp(sft_value(sf, "resource-r/primary"), "alpha"),
	       "primary naming a non-member: held over the batch's end");
	az.deferred[0].deadline_ms = 0;
	tap_ok(authz_batch_end(&az, NULL) == 0 && az.n_deferred == 0 &&
	       !strcmp(sft_value(sf, "resource-r/primary"), "alpha") &&
	       az.refused[AUTHZ_PRIMARY] == 1,
	       "... and refused when its member has not come in time");
	tap_ok(push("beta", "resource-r/primary", "gamma") == 0 &&
	       push("gamma", "resource-r/data-gamma", "/dev/vdd") == 1 &&
	       authz_batch_end(&az, NULL) == 1 &&
	       !strcmp(sft_value(sf, "resource-r/primary"), "gamma"),
	       "primary naming a member whose data- link comes later in the batch: taken");
	tap_ok(push("beta", "resource-r/primary", STATEFS_NONE) == 1,
	       "primary (none): taken");
	tap_ok(push("beta", "ips/ip-gamma", "10.6.6.6") < 0 &&
	       !strcmp(sft_value(sf, "ips/ip-gamma"), "10.0.0.3") &&
	       az.refused[AUTHZ_IPS_RELAY] == 1,
	       "ips/ip-gamma changed by beta: refused");
	tap_ok(push("beta", "ips/ip-gamma", "10.0.0.3") == 0 && az.refused[AUTHZ_IPS_RELAY] == 1,
	       "ips/ip-gamma relayed unchanged by beta: ignored quietly");
	tap_ok(push("beta", "ips/ip-gamma", STATEFS_TOMBSTONE) < 0 &&
	       !strcmp(sft_value(sf, "ips/ip-gamma"), "10.0.0.3"),
	       "ips/ip-gamma deleted by beta: refused (it would revoke gamma's key everywhere)");
	tap_ok(push("gamma", "ips/ip-gamma", "10.0.0.33") == 1, "ips/ip-gamma from gamma: taken");
	tap_ok(push("beta", "ips/ip-delta", "10.0.0.4") == 1,
	       "ips/ip-delta of a host never seen, relayed: taken (news of a new member)");
	tap_ok(push("beta", "uuid", "evil_1.1") < 0 && az.refused[AUTHZ_UUID] == 1,
	       "a rewritten uuid: refused");
	teardown();
}

static void
test_future(void)
{
	uint64_t before, after, limit;

	setup(&(struct authz_limits){ .skew_s = 60 });
	statefs_clock_now(sf, &before);
	tap_ok(authz_merge(&az, "beta", "resource-r/local-beta/k",
			   "v", statefs_realtime_ns() + 25ULL * 86400 * STATEFS_NS_PER_S) < 0 &&
	       az.refused[AUTHZ_FUTURE] == 1 && !sft_value(sf, "resource-r/local-beta/k")[0],
	       "a stamp 25 days ahead: refused");
	limit = statefs_realtime_ns() + 60 * STATEFS_NS_PER_S;
	tap_ok(authz_merge(&az, "beta", "resource-r/local-beta/k", "v",
			   statefs_realtime_ns() + 30 * STATEFS_NS_PER_S) == 1,
	       "a stamp 30 s ahead, within the skew: taken");
	statefs_clock_now(sf, &after);
	tap_ok(after <= limit && after >= before, "the clock never passes now + skew");
	tap_ok(statefs_future_bound_ns(sf) == 60 * STATEFS_NS_PER_S,
	       "the tree's future bound is the skew");
	teardown();
}

static int
count_beta(const struct statefs_entry *e, void *arg)
{
	(*(unsigned *)arg) += !!strstr(e->path, "local-beta/");
	return 0;
}

static void
test_quota(void)
{
	char path[64], big[1001];
	unsigned accepted = 0, n = 0;

	setup(&(struct authz_limits){ .quota_entries = 50 });
	for (int i = 0; i < 80; i++) {
		snprintf(path, sizeof(path), "resource-r/local-beta/k%d", i);
		accepted += push("beta", path, "v") == 1;
	}
	statefs_list(sf, "", 0, count_beta, &n);
	tap_ok(accepted == 50 && n == 50 && az.refused[AUTHZ_QUOTA] == 30,
	       "80 new entries of one origin, quota 50: 50 taken, 30 refused (%u, %u)",
	       accepted, n);
	tap_ok(push("beta", "resource-r/local-beta/k3", "w") == 1,
	       "an existing entry of a full origin may still change");
	tap_ok(push("gamma", "resource-r/local-gamma/k", "v") == 1,
	       "another origin is not affected");
	teardown();

	setup(&(struct authz_limits){ .quota_bytes = 20000 });
	memset(big, 'x', 1000);
	big[1000] = '\0';
	accepted = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "resource-r/local-beta/k%d", i);
		accepted += push("beta", path, big) == 1;
	}
	tap_ok(accepted >= 15 && accepted < 20 && az.refused[AUTHZ_QUOTA] == 40 - accepted,
	       "1 KB entries with a 20 KB byte quota: the excess refused (%u taken)", accepted);
	teardown();
}

/* evicted/X (state-tree.md section 8): taken from any member; then X's
 * entries and a live ips/ip-X are refused, a relayed ips/ip-X tombstone
 * taken; a readmission lets X in again. */
static void
test_evicted(void)
{
	setup(NULL);
	sft_set(sf, "ips/ip-beta", "10.0.0.2");
	tap_ok(push("gamma", "evicted/Bad_Name", "gamma") < 0 &&
	       push("gamma", "evicted/beta", "not a host") < 0 &&
	       az.refused[AUTHZ_EVICT_NAME] == 2, "misnamed evictions: refused");
	tap_ok(push("gamma", "userspace/before", "1") == 1 &&
	       push("gamma", "evicted/beta", "gamma") == 1,
	       "beta evicted by gamma, relayed by gamma: taken");
	tap_ok(push("beta", "userspace/x", "1") < 0 && push("beta", "ips/ip-beta", "10.0.0.9") < 0 &&
	       push("beta", "evicted/beta", STATEFS_TOMBSTONE) < 0 &&
	       sft_value(sf, "evicted/beta")[0],
	       "nothing from beta any more, not even its readmission");
	tap_ok(push("gamma", "ips/ip-beta", STATEFS_TOMBSTONE) == 1 &&
	       !sft_value(sf, "ips/ip-beta")[0],
	       "beta's ips tombstone relayed by gamma: taken while beta is evicted");
	tap_ok(push("gamma", "ips/ip-beta", "10.0.0.2") < 0 &&
	       az.refused[AUTHZ_EVICTED] == 4, "a live ips/ip-beta from anyone: refused");
	tap_ok(push("gamma", "ips/ip-gamma", STATEFS_TOMBSTONE) == 1 &&
	       push("beta", "ips/ip-delta", STATEFS_TOMBSTONE) < 0,
	       "(gamma's own departure is still gamma's; an evicted peer relays nothing)");
	tap_ok(push("gamma", "evicted/alpha", "gamma") == 1,
	       "our own eviction is taken: this node learns of it");
	tap_ok(push("gamma", "evicted/beta", STATEFS_TOMBSTONE) == 1 &&
	       push("beta", "userspace/back", "1") == 1,
	       "readmitted by a member: beta's entries are taken again");
	teardown();
}

#define KEY_B	"ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt-_brBnqcvDkURzuRbfJF31mEyo2M"
#define KEY_X	"ecdsa-sha2-nistp256:AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIrTuzQ" \
		"Fr9sEIj7FAbmGSvBiE1v0V4hR08WmlAZ_UQ0uGvwej4nM-maZUG0Vxsfml4eAA-ArdDo41yUDEWZbxe8="

/* keys/key-X: only X writes it; a join takes the member's copies of keys
 * it holds none of; never ours, never an evicted host's.  Relayed keys
 * pushed by a client are refused and counted, in a pull only not taken. */
static void
test_keys(void)
{
	setup(NULL);
	sft_set(sf, "ips/ip-beta", "10.0.0.2");
	tap_ok(push("gamma", "keys/key-beta", KEY_X) == 0 && !sft_value(sf, "keys/key-beta")[0] &&
	       az.refused[AUTHZ_KEY_RELAY] == 0 && statefs_stats(sf)->refused_policy == 0,
	       "beta's key in gamma's listing of its tree (a pull): not taken, quietly");
	az.pushed = 1;	/* from here on as the serving end merges a client's pushes */
	tap_ok(push("beta", "keys/key-beta", KEY_B) == 1, "beta's key from beta: taken");
	tap_ok(push("gamma", "keys/key-beta", KEY_X) < 0 &&
	       !strcmp(sft_value(sf, "keys/key-beta"), KEY_B),
	       "beta's key replaced by gamma: refused, beta's kept");
	tap_ok(push("gamma", "keys/key-delta", KEY_X) < 0 && !sft_value(sf, "keys/key-delta")[0],
	       "a key for a host gamma names, relayed: refused, not created");
	tap_ok(push("gamma", "keys/key-beta", STATEFS_TOMBSTONE) < 0 &&
	       sft_value(sf, "keys/key-beta")[0], "beta's key deleted by gamma: refused");
	tap_ok(az.refused[AUTHZ_KEY_RELAY] == 3, "counted as relayed keys (%llu)",
	       (unsigned long long)az.refused[AUTHZ_KEY_RELAY]);
	tap_ok(push("gamma", "keys/key-beta", KEY_B) == 0 && az.refused[AUTHZ_KEY_RELAY] == 3,
	       "beta's key echoed by gamma: ignored quietly");
	tap_ok(push("beta", "keys/key-alpha", KEY_X) < 0 && az.refused[AUTHZ_OWN_NAME] == 1,
	       "our own key from a peer: refused");
	tap_ok(push("beta", "keys/beta", KEY_B) < 0 && push("beta", "keys/key-Beta!", KEY_B) < 0 &&
	       az.refused[AUTHZ_KEY_NAME] >= 1, "misnamed keys/ entries: refused");
	tap_ok(push("beta", "keys/key-beta", "10.0.0.2") < 0, "a value not of the form: refused");
	tap_ok(push("beta", "keys/key-beta", KEY_X) == 1, "beta changes its own key: taken");
	az.join_keys = 1;
	tap_ok(push("gamma", "keys/key-delta", KEY_X) == 1 &&
	       push("gamma", "keys/key-beta", KEY_B) < 0,
	       "a join takes the member's key of a host it holds none of, and only then");
	az.join_keys = 0;
	tap_ok(push("gamma", "evicted/beta", "gamma") == 1 &&
	       push("beta", "keys/key-beta", KEY_B) < 0 &&
	       push("gamma", "keys/key-beta", STATEFS_TOMBSTONE) == 1,
	       "evicted beta: its key is no longer taken, a relayed tombstone is");
	teardown();
}

int
main(void)
{
	log_init("test_authz", LOG_LVL_ERR);
	test_own_names();
	test_cluster_keys();
	test_future();
	test_quota();
	test_evicted();
	test_keys();
	return tap_done();
}
