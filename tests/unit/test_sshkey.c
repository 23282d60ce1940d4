/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The value form ssh key (statefs/sshkey.c, docs/state-tree.md 2.2):
 * what ssh-keygen writes converts to a tree value and back, and what is
 * not one allowed key of the form is refused, since these values end up
 * in sshd's authorized_keys.
 */
#include "statefs_test.h"

/* public halves made with ssh-keygen for this test */
#define ED25519	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt+/brBnqcvDkURzuRbfJF31mEyo2M"
#define ECDSA	"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIrTuzQ" \
		"Fr9sEIj7FAbmGSvBiE1v0V4hR08WmlAZ/UQ0uGvwej4nM+maZUG0Vxsfml4eAA+ArdDo41yUDEWZbxe8="

static int
from(const char *line, char *value)
{
	return statefs_sshkey_from_openssh(line, strlen(line), value, STATEFS_VALUE_MAX + 1);
}

static void
test_round_trip(void)
{
	char v[STATEFS_VALUE_MAX + 1], line[STATEFS_VALUE_MAX + 1];

	tap_ok(from(ED25519 " admin@host\n", v) == 0, "an ed25519 .pub line converts");
	tap_ok(strcmp(v, "ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt-_brBnqcvDkURzuRbfJF31mEyo2M") == 0,
	       "type, ':', URL-safe blob, no comment: %s", v);
	tap_ok(!strchr(v, '/') && statefs_sshkey_check(v) == 0, "the value has no '/' and checks");
	tap_ok(statefs_sshkey_to_openssh(v, line, sizeof(line)) == 0 && !strcmp(line, ED25519),
	       "and converts back to the key of the line");
	tap_ok(from(ECDSA, v) == 0 && statefs_sshkey_to_openssh(v, line, sizeof(line)) == 0 &&
	       !strcmp(line, ECDSA), "an ecdsa key with padding, without comment, round trip");
	tap_ok(statefs_sshkey_to_openssh(v, line, 20) == -ENOSPC, "a short buffer is -ENOSPC");
}

static void
test_refused(void)
{
	char v[STATEFS_VALUE_MAX + 1], big[STATEFS_VALUE_MAX + 64];

	tap_ok(from("ssh-dss AAAAB3NzaC1kc3MAAACBAP", v) == -EBADMSG, "a type off the list");
	tap_ok(from("restrict " ED25519, v) == -EBADMSG, "an options prefix is no type");
	tap_ok(from("ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt+/brBnqcvDkURzuRbfJF31mEyo2M",
		    v) == -EBADMSG, "a blob of another type than the word says");
	tap_ok(from("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt+/brBnqcvDkURzuRbfJF31mEyo2", v) ==
	       -EBADMSG, "a blob not a multiple of 4");
	tap_ok(from("ssh-ed25519 AAAAC3Nz\nrestrict AAAA", v) == -EBADMSG, "a newline in the blob");
	tap_ok(from("ssh-ed25519", v) == -EBADMSG, "no blob");
	tap_ok(statefs_sshkey_check("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt-_brBnqcvDkURzuRbfJF31mEyo2M") ==
	       -EBADMSG, "a blank instead of ':'");
	tap_ok(statefs_sshkey_check("ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt+/brBnqcvDkURzuRbfJF31mEyo2M") ==
	       -EBADMSG, "the standard alphabet in a value");
	tap_ok(statefs_sshkey_check("ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIHLuwFbkyiw3PyLt-_brBnqcvDkURzuRbfJF31mE=o2M") ==
	       -EBADMSG, "padding inside the blob");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "ssh-rsa:", 8);
	tap_ok(statefs_sshkey_check(big) == -EBADMSG, "longer than a value may be");
}

static void
test_in_tree(void)
{
	struct statefs_keyinfo ki;
	char v[STATEFS_VALUE_MAX + 1];

	tap_ok(statefs_key_check("keys/key-alpha", &ki) == 0 && ki.value_form == STATEFS_V_SSHKEY &&
	       ki.owner[0] == '\0', "keys/key-HOST: cluster-wide, form ssh key");
	tap_ok(from(ED25519, v) == 0 && statefs_value_check(&ki, v) == 0, "a key value is accepted");
	tap_ok(statefs_value_check(&ki, "10.0.0.1") == -EBADMSG, "another value is refused");
	tap_ok(statefs_value_check(&ki, STATEFS_TOMBSTONE) == 0, "the tombstone is accepted");
}

int
main(void)
{
	test_round_trip();
	test_refused();
	test_in_tree();
	return tap_done();
}
