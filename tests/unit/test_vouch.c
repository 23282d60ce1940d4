/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Vouches (repl/vouch.c, docs/state-tree.md 3.8): the open SHA-256 state
 * gives the digest of what was hashed so far and goes on, a file is hashed
 * from where the state stands, the value is one section of the shared
 * grammar, and the key digest-NNNNNNNNN-HOST is HOST's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl/repl.h"
#include "tap.h"

/* printf abc | sha256sum; printf abcdef | sha256sum */
#define D_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define D_ABCDEF "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721"

static void
test_incremental(void)
{
	struct repl_vouch_hash vh = { 0 };
	char hex[REPL_DIGEST_HEX + 1], val[STATEFS_VALUE_MAX + 1];

	tap_ok(repl_vouch_hash_reset(&vh, "log-000000001-alpha") == 0, "a state starts");
	repl_vouch_hash_update(&vh, "a", 1);
	repl_vouch_hash_update(&vh, "bc", 2);
	tap_ok(repl_vouch_hash_hex(&vh, hex) == 0 && !strcmp(hex, D_ABC) && vh.len_bytes == 3,
	       "pieces hash as the whole prefix");
	repl_vouch_hash_update(&vh, "def", 3);
	tap_ok(repl_vouch_hash_hex(&vh, hex) == 0 && !strcmp(hex, D_ABCDEF),
	       "the state goes on after a digest was taken");
	tap_ok(repl_vouch_format(val, sizeof(val), &vh) > 0 &&
	       !strcmp(val, D_ABCDEF ",log-000000001-alpha,6"), "value: DIGEST,LOGNAME,LEN");
	repl_vouch_hash_release(&vh);
}

static void
test_file(void)
{
	struct repl_vouch_hash vh = { 0 };
	char path[] = "/tmp/test_vouch.XXXXXX", hex[REPL_DIGEST_HEX + 1];
	int fd = mkstemp(path);

	tap_ok(fd >= 0 && write(fd, "abcdef", 6) == 6, "a file of 6 bytes");
	repl_vouch_hash_reset(&vh, "log-000000001-alpha");
	tap_ok(repl_vouch_hash_file(&vh, fd, 3) == 0 && repl_vouch_hash_hex(&vh, hex) == 0 &&
	       !strcmp(hex, D_ABC), "the file's first 3 bytes");
	tap_ok(repl_vouch_hash_file(&vh, fd, 6) == 0 && repl_vouch_hash_hex(&vh, hex) == 0 &&
	       !strcmp(hex, D_ABCDEF), "then only the 3 new ones");
	tap_ok(repl_vouch_hash_file(&vh, fd, 7) == -EIO, "a file shorter than asked: -EIO");
	repl_vouch_hash_release(&vh);
	close(fd);
	unlink(path);
}

static void
test_key_and_value(void)
{
	struct statefs_keyinfo ki;

	tap_ok(statefs_key_check("resource-r0/digest-000000001-alpha", &ki) == 0 &&
	       !strcmp(ki.owner, "alpha") && ki.value_form == STATEFS_V_SECTION,
	       "digest-NNNNNNNNN-HOST is HOST's, of form section");
	tap_ok(statefs_key_check("resource-r0/digest-1-alpha", &ki) == -EDOM,
	       "a number not of 9 digits is no key");
	statefs_key_check("resource-r0/digest-000000001-alpha", &ki);
	tap_ok(statefs_value_check(&ki, D_ABC ",log-000000001-alpha,3") == 0, "a section is taken");
	tap_ok(statefs_value_check(&ki, D_ABC ",log-000000001-alpha,03") == -EBADMSG &&
	       statefs_value_check(&ki, "x,log-000000001-alpha,3") == -EBADMSG &&
	       statefs_value_check(&ki, D_ABC ",log-000000001-alpha,3:") == -EBADMSG,
	       "a leading zero, a short digest, a version link: refused");
}

int
main(void)
{
	test_incremental();
	test_file();
	test_key_and_value();
	return tap_done();
}
