/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Member keys from the tree into authorized_keys (clusterd/gossip/keys.c,
 * docs/protocol.md section 1.1): a line for each member that has none,
 * bound to it, from its address; never a line replaced, never one for a
 * departed or evicted host or ourselves; a refusal reported once per key;
 * mode and owner kept.  Our own key published from the .pub file.
 */
#include <sys/stat.h>

#include "statefs_test.h"

#include "clusterd/gossip/keys.h"

#define SERVE	"/usr/sbin/clusterd --serve"
#define PUB_B	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt+/brBnqcvDkURzuRbfJF31mEyo2M"
#define KEY_B	"ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt-_brBnqcvDkURzuRbfJF31mEyo2M"
#define PUB_C	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIrTuzQ" \
		"Fr9sEIj7FAbmGSvBiE1v0V4hR08WmlAZ/UQ0uGvwej4nM+maZUG0Vxsfml4eAA+ArdDo41yUDEWZbxe8="
#define KEY_C	"ecdsa-sha2-nistp256:AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIrTuzQ" \
		"Fr9sEIj7FAbmGSvBiE1v0V4hR08WmlAZ_UQ0uGvwej4nM-maZUG0Vxsfml4eAA-ArdDo41yUDEWZbxe8="

static struct statefs *sf;
static char ak[4200];
static unsigned events[3];

static void
count(const struct keys_event *ev, void *arg)
{
	(void)arg;
	events[ev->kind]++;
}

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_install(void)
{
	struct keys_memo memo = { .n = 0 };
	struct stat st;
	char *text;
	int ret;

	sft_set(sf, "ips/ip-alpha", "10.0.0.1");
	sft_set(sf, "ips/ip-beta", "10.0.0.2");
	sft_set(sf, "keys/key-alpha", KEY_C);
	sft_set(sf, "keys/key-beta", KEY_B);
	sft_set(sf, "keys/key-gamma", KEY_C);	/* no ips/ip-gamma: no member */
	put(ak, "# admin\nrestrict,command=\"x\" ssh-rsa AAAA", 0640);
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 1 && events[KEYS_ADDED] == 1,
	       "one line added: beta's (not ours, not a non-member's)");
	text = slurp(ak);
	tap_ok(strstr(text, "# admin\nrestrict,command=\"x\" ssh-rsa AAAA\nrestrict,from=\"10.0.0.2\","
			  "command=\"" SERVE " --peer beta\" " PUB_B " mars-authorized=") == text &&
	       strstr(text, " mars-auto=1\n") && !strstr(text, "--peer alpha") &&
	       !strstr(text, "--peer gamma"),
	       "the line: after the others, bound, from its address, marked:\n%s", text);
	tap_ok(stat(ak, &st) == 0 && (st.st_mode & 07777) == 0640, "mode kept");
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 0, "added once only");
	sft_set(sf, "keys/key-beta", KEY_C);
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 0 &&
	       events[KEYS_CHANGED] == 1 && strstr(slurp(ak), PUB_B) && !strstr(slurp(ak), PUB_C),
	       "beta's key changed: its line not replaced, reported");
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 0 && events[KEYS_CHANGED] == 1,
	       "and reported once per key");
	sft_set(sf, "ips/ip-delta", "10.0.0.4");
	sft_set(sf, "keys/key-delta", KEY_B);
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 0 &&
	       events[KEYS_ELSEWHERE] == 1 && !strstr(slurp(ak), "--peer delta"),
	       "a key already bound to beta, published by delta: not added, reported");
	sft_delete(sf, "ips/ip-delta");
	sft_set(sf, "ips/ip-eps", "evil\" x");
	sft_set(sf, "keys/key-eps", KEY_B);
	sft_set(sf, "ips/ip-zeta", "10.0.0.6");
	sft_set(sf, "keys/key-zeta", KEY_C);
	sft_set(sf, "evicted/zeta", "beta");
	tap_ok(keys_install(sf, ak, SERVE, &memo, count, NULL) == 0 &&
	       !strstr(slurp(ak), "--peer eps") && !strstr(slurp(ak), "--peer zeta"),
	       "no line for a non-numeric address, nor for an evicted host");
	tap_ok(keys_install(sf, ak, SERVE "\" evil", &memo, count, NULL) == -EINVAL,
	       "a serve command with a quote: refused");
	sft_set(sf, "ips/ip-theta", "10.0.0.8");
	sft_set(sf, "keys/key-theta", "ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	put(ak, "# mars-revoked theta\n# mars-revoked theta-2\n", 0600);
	ret = keys_install(sf, ak, SERVE, &memo, count, NULL);
	tap_ok(sft_value(sf, "keys/key-theta")[0] && ret >= 0 &&
	       !strstr(slurp(ak), "--peer theta\"") && strstr(slurp(ak), "theta-2\n"),
	       "a member the admin revoked by hand (mars-setup-ssh --revoke): no line (%d)", ret);
	sft_delete(sf, "ips/ip-theta");
}

static void
test_absent_file(void)
{
	struct stat st;

	unlink(ak);
	sft_delete(sf, "evicted/zeta");
	tap_ok(keys_install(sf, ak, SERVE, NULL, NULL, NULL) == 1 &&
	       stat(ak, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "no file: created 0600 with beta's line");
	tap_ok(strstr(slurp(ak), "--peer beta") && !strstr(slurp(ak), "--peer zeta"),
	       "zeta, publishing the key beta's new line has, gets none");
}

static void
test_publish(void)
{
	char pub[4200];

	snprintf(pub, sizeof(pub), "%s/.key.pub", sft_root);
	put(pub, PUB_C " root@host\n", 0644);
	tap_ok(keys_publish(sf, pub) == 0, "our key as the tree has it: nothing written");
	put(pub, PUB_B " root@host\n", 0644);
	tap_ok(keys_publish(sf, pub) == 1 && !strcmp(sft_value(sf, "keys/key-alpha"), KEY_B),
	       "a new key replaces ours in the tree");
	tap_ok(keys_publish(sf, pub) == 0, "written only when it differs");
	put(pub, "not a key\n", 0644);
	tap_ok(keys_publish(sf, pub) == -EBADMSG, "a .pub that holds no key: -EBADMSG");
}

int
main(void)
{
	sft_new_tree(&sf, "alpha");
	snprintf(ak, sizeof(ak), "%s/.authorized_keys", sft_root);
	test_install();
	test_absent_file();
	test_publish();
	sft_done_tree(&sf);
	return tap_done();
}
