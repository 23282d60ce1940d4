/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Member keys travel with the tree (docs/protocol.md section 1.1, "Keys
 * travel with the tree"): each host publishes its public key as
 * keys/key-HOST, and whoever manages an authorized_keys file (the daemon
 * with --authorized-keys, join-cluster) adds a line bound to each member
 * whose key it holds and that has none yet.  First key wins: a line is
 * never replaced here.
 */
#ifndef CLUSTERD_KEYS_H
#define CLUSTERD_KEYS_H

#include <stdint.h>

#include "statefs/statefs.h"

#define KEYS_MEMO_MAX	256	/* refusals remembered, so each is reported once */
#define KEYS_AUTO_TAG	"mars-auto=1"	/* ends every line added here */
/* A line "# mars-revoked NAME" (mars-setup-ssh --revoke NAME) keeps NAME
 * out: no line is added for it while the mark stands. */
#define KEYS_REVOKED_TAG	"# mars-revoked "

/* What keys_install() did or refused for one member. */
enum keys_event_kind {
	KEYS_ADDED,		/* a line bound to the member was added */
	KEYS_CHANGED,		/* its line has another key than keys/key-HOST */
	KEYS_ELSEWHERE,		/* its key is in a line not bound to it */
};

struct keys_event {
	enum keys_event_kind kind;
	const char *host;	/* the member */
	const char *addr;	/* its address (ips/ip-HOST), the line's from= */
};

/* The refusals reported already: (host, key) pairs, so that one standing
 * refusal is logged and counted once, not at every heartbeat. */
struct keys_memo {
	size_t n;
	struct {
		char host[STATEFS_NAME_MAX + 1];
		uint64_t key_hash;
	} seen[KEYS_MEMO_MAX];
};

/*
 * This host's public key, the first line of @pub_path ("TYPE BASE64
 * [COMMENT]"), as a keys/ value into @value (@size bytes,
 * STATEFS_VALUE_MAX + 1 suffice).  Returns 0, -errno of the read, or
 * -EBADMSG (not a key of the form, docs/state-tree.md section 2.2).
 */
int keys_own_value(const char *pub_path, char *value, size_t size);

/*
 * Write keys/key-US (US: @sf's host) = the key of @pub_path unless the
 * tree holds it already.  Returns 1 if written, 0 if it was there, or
 * -errno (keys_own_value(), the write).
 */
int keys_publish(struct statefs *sf, const char *pub_path);

/*
 * Add to the authorized_keys file @path (created 0600 if absent) a line
 *   restrict,from="ADDR",command="SERVE --peer X" KEY mars-authorized=NOW mars-auto=1
 * for each member X of @sf (live ips/ip-X with a numeric address, not
 * evicted, not us) whose live keys/key-X the tree holds and to which no
 * line of @path is bound yet, nor a KEYS_REVOKED_TAG mark; SERVE is
 * @serve_cmd.  A member whose line
 * holds another key, or whose key is in a line bound to someone else or
 * to no one, gets no line: @report (may be NULL) hears of it once per
 * key (@memo, kept by the caller; NULL: every time), and of each line
 * added.  Returns the number of lines added, or -errno (-EINVAL: @serve_cmd
 * holds a quote or a control byte).
 */
int keys_install(struct statefs *sf, const char *path, const char *serve_cmd,
		 struct keys_memo *memo,
		 void (*report)(const struct keys_event *ev, void *arg), void *arg);

#endif
