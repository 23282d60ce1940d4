/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * repl: the tree-level control plane of replication, shared by marsadm
 * and clusterd.  Two jobs, one place each:
 *
 *  - version links (version.c): the hash chain over the history of a
 *    resource, one link per logfile and node, format in
 *    docs/state-tree.md ("Version links").  The digest is SHA-256 of the
 *    link's own text after the first comma, which holds the logfile name,
 *    its length and the previous link's first section - so equal digests
 *    mean equal histories up to and including that logfile.
 *  - split-brain detection (split.c): a pure function over the version
 *    links and local logfiles of one resource, and (tree.c) the loader
 *    that reads them from a state tree.
 *
 * Like statefs, this library never prints and never exits; functions
 * return 0 or -errno.
 */
#ifndef MARS_REPL_H
#define MARS_REPL_H

#include <stddef.h>
#include <stdint.h>

#include "mars/names.h"
#include "statefs/statefs.h"

#define REPL_DIGEST_HEX		MARS_DIGEST_HEX	/* SHA-256 in lowercase hex */
#define REPL_NAME_MAX		STATEFS_NAME_MAX
/* "<64 hex>,log-<9 digits>-<63>,<20 digits>" */
#define REPL_SECTION_MAX	MARS_SECTION_MAX

/* ---- version links (version.c) ---------------------------------------- */

/* One parsed version link "D,log-N-ORIGIN,LEN:PREV". */
struct repl_version {
	char digest[REPL_DIGEST_HEX + 1];
	uint64_t nr;				/* logfile number */
	char origin[REPL_NAME_MAX + 1];		/* host that wrote the logfile */
	uint64_t len_bytes;			/* logfile bytes this history covers */
	char section[REPL_SECTION_MAX + 1];	/* "D,log-N-ORIGIN,LEN" */
	char prev[REPL_SECTION_MAX + 1];	/* previous link's section, "" for an anchor */
	int has_prev;
	uint64_t prev_nr;			/* parsed from prev, if has_prev */
	char prev_origin[REPL_NAME_MAX + 1];
	uint64_t prev_len_bytes;
};

/*
 * Parse @value (a version link's target) with the shared codec
 * (mars_version_parse).  Returns 0, or -EINVAL when the text does not
 * follow the grammar.  The digest is not verified here.
 */
int repl_version_parse(const char *value, struct repl_version *v);

/*
 * Build the link for logfile @nr of @origin covering @len_bytes, following
 * the link section @prev ("D,log-M-O,LEN" of the previous logfile).  With
 * @prev NULL or "" an anchor is built: digest all zeros, no predecessor.
 * Returns the value's length, -EINVAL for a bad origin or @prev, -ERANGE
 * for @nr past MARS_LOGNR_MAX, or -ENAMETOOLONG / -EIO (the hash failed).
 */
int repl_version_make(char *buf, size_t size, uint64_t nr, const char *origin,
		      uint64_t len_bytes, const char *prev);

/* The same link as @value with the length @len_bytes (digest recomputed). */
int repl_version_relength(char *buf, size_t size, const char *value, uint64_t len_bytes);

/*
 * 0 if @value is well-formed and its digest is right (an anchor: all
 * zeros and no predecessor), -EINVAL if malformed, -EBADMSG if the digest
 * does not match.
 */
int repl_version_verify(const char *value);

/* 1 if @b extends @a: @b's predecessor is @a's section, numbers consecutive. */
int repl_version_extends(const struct repl_version *a, const struct repl_version *b);

/*
 * The switchover rule of a secondary (reference 2.8, done right): it may
 * leave logfile N for N+1 only when its own link for N equals the
 * origin's (same history, logfile complete), its replay position reached
 * that link's length, and the origin's link for N+1 extends it.  Returns
 * 0 if allowed, else -EAGAIN (not yet: incomplete or not replayed) or
 * -EXDEV (the histories differ: stop before the divergence).  Pure.
 */
int repl_switchover_check(const char *own_n, const char *origin_n, uint64_t replay_pos_bytes,
			  const char *origin_next);

/* ---- history of a resource (tree.c) ----------------------------------- */

struct repl_link {
	uint64_t nr;
	char host[REPL_NAME_MAX + 1];		/* whose view: version-N-HOST */
	struct repl_version v;
};

struct repl_logfile {
	uint64_t nr;
	char origin[REPL_NAME_MAX + 1];
	uint64_t size_bytes;
};

struct repl_history {
	struct repl_link *links;		/* sorted by host, then nr */
	size_t n_links, cap_links;
	struct repl_logfile *files;		/* local logfiles, sorted by nr */
	size_t n_files, cap_files;
	size_t bad_links;			/* links that did not parse or verify */
};

/* Add entries (for the loader and for unit tests).  -ENOMEM or 0. */
int repl_history_add_link(struct repl_history *h, const char *host, const char *value);
int repl_history_add_file(struct repl_history *h, uint64_t nr, const char *origin,
			  uint64_t size_bytes);
void repl_history_sort(struct repl_history *h);
void repl_history_release(struct repl_history *h);

/*
 * The length of this node's logfile @name of resource @res: where its
 * records end (common/logend.c), not its size, which may include the
 * zeros a killed writer preallocated (docs/logfile-format.md 1.1).  O(1)
 * for a finished logfile.  0 and *@len, or -errno if it cannot be opened.
 */
int repl_log_length(struct statefs *sf, const char *res, const char *name, uint64_t *len);

/*
 * Read resource @res of the tree: every live version link (a link that
 * fails to parse or verify is counted in bad_links and left out) and
 * every local logfile "log-N-ORIGIN".  Returns 0 or -errno.
 */
int repl_history_load(struct statefs *sf, const char *res, struct repl_history *h);

/* @host's link for logfile @nr, or NULL. */
const struct repl_link *repl_history_link(const struct repl_history *h, const char *host,
					  uint64_t nr);

/* @host's newest link (highest number), or NULL. */
const struct repl_link *repl_history_last(const struct repl_history *h, const char *host);

/* ---- split brain (split.c) -------------------------------------------- */

/*
 * Where two histories part.  The common prefix ends at byte @pos_bytes of
 * logfile @nr (pos 0: they part from the start of logfile @nr).  Each
 * side's amount is its history beyond that point, in logfile bytes.
 */
struct repl_split {
	int split;			/* 1 if diverged */
	int by_files;			/* found as two local logfiles of one number */
	uint64_t nr;			/* first logfile number where they differ */
	uint64_t pos_bytes;		/* common bytes of logfile nr */
	char host_a[REPL_NAME_MAX + 1], host_b[REPL_NAME_MAX + 1];
	uint64_t after_a_bytes, after_b_bytes;
	uint64_t common_nr;		/* last logfile both agree on entirely, 0 none */
};

/*
 * Compare the histories of hosts @a and @b.  They diverge at the first
 * logfile number both have links for where the links name different
 * origins or predecessors, or where their lengths differ and the shorter
 * side has already moved on to a later logfile (it ended that logfile
 * early).  A side that merely lags - shorter length, no later link - is
 * not a split.  Fills @out (out->split 0 if none).  Pure.
 */
void repl_split_pair(const struct repl_history *h, const char *a, const char *b,
		     struct repl_split *out);

/*
 * Check every pair of hosts with links, then the local logfiles (two
 * files of one number from different origins).  Reports the split with
 * the lowest logfile number.  Returns 1 if split, else 0.  Pure.
 */
int repl_split_detect(const struct repl_history *h, struct repl_split *out);

/* ---- members and their replay links (replay.c) ------------------------ */

/* "log-NNNNNNNNN-ORIGIN,POS,LEN" of one member. */
struct repl_replay {
	char host[REPL_NAME_MAX + 1];		/* the member (data-HOST) */
	int valid;				/* replay link present and well-formed */
	uint64_t nr;
	char origin[REPL_NAME_MAX + 1];
	uint64_t pos_bytes, len_bytes;
	uint64_t stamp_ns;			/* when it last moved */
};

/* Parse a replay link's value (mars_replaylink_parse).  0 or -EINVAL. */
int repl_replay_parse(const char *value, struct repl_replay *r);

/*
 * 1 if replay position @r has reached @mark (a later logfile number, or
 * the same one at or past its position), else 0.  Used for syncpos: a
 * synced disk is consistent once its replay reached the primary's log
 * position at the end of the sync.  An invalid @mark is reached.  Pure.
 */
int repl_replay_reached(const struct repl_replay *r, const struct repl_replay *mark);

#define REPL_MAX_MEMBERS	64

struct repl_members {
	struct repl_replay m[REPL_MAX_MEMBERS];
	size_t n;
};

/* The storage members of @res (live data-HOST) with their replay links. */
int repl_members_load(struct statefs *sf, const char *res, struct repl_members *ms);

/* The member entry of @host, or NULL. */
const struct repl_replay *repl_members_find(const struct repl_members *ms, const char *host);

/*
 * Logfile deletion limit: every logfile numbered below *limit_nr has been
 * replayed by every member and may go cluster-wide.  *blocker is the
 * member holding the limit lowest while another is further (a member
 * without a valid replay link holds it at 0), or NULL when nobody lags.
 * Pure.
 */
void repl_delete_limit(const struct repl_members *ms, uint64_t *limit_nr,
		       const struct repl_replay **blocker);

/* ---- lag in time (lag.c) --------------------------------------------- */

/*
 * The primary publishes, for each other member X, the first record X has
 * not applied: resource-RES/actual-PRIMARY/unapplied-X =
 * "log-NNNNNNNNN-ORIGIN,POS,STAMP" (the grammar of a replay link, the
 * record's Lamport stamp in ns in the third field; STAMP 0: X has applied
 * the primary's whole durable log).  docs/state-tree.md section 3.6.
 */
#define REPL_LAG_KEY		"unapplied-"

/*
 * Where the first record member @m has not applied starts, on a node that
 * holds the logfiles @h->files and whose durable log ends at @end (the
 * logfile it writes, its origin, and its durable bytes in pos_bytes).
 * Replay positions are record boundaries, so the record starts exactly
 * there.  Returns 1 with @at (nr, origin, pos_bytes) set; 0 when @m has
 * applied everything up to @end; -ENOENT when a logfile in between is not
 * here; -EINVAL when @m or @end is not valid.  Pure.
 */
int repl_lag_first_unapplied(const struct repl_history *h, const struct repl_replay *m,
			     const struct repl_replay *end, struct repl_replay *at);

/* Nanoseconds from @stamp_ns to @now_ns; 0 for stamp 0 or a stamp ahead. */
uint64_t repl_lag_age_ns(uint64_t stamp_ns, uint64_t now_ns);

/*
 * The stamp of the oldest write @member has not applied, as designated
 * primary @primary published it while its engine logs (actual-PRIMARY/
 * is-primary 1).  Returns 1 with *@stamp_ns (0: nothing unapplied; always
 * so for the primary itself), or 0 when unknown (no such entry, or the
 * primary does not log).
 */
int repl_lag_load(struct statefs *sf, const char *res, const char *primary, const char *member,
		  uint64_t *stamp_ns);

/* ---- logfile deletion (delete.c) -------------------------------------- */

#define REPL_DELETE_MAX	256	/* logfiles per run; the next run takes the rest */

struct repl_deletion {
	struct repl_members members;		/* blocker points in here */
	uint64_t limit_nr;			/* logfiles below it go */
	const struct repl_replay *blocker;	/* the member holding the limit, or NULL */
	size_t n_files;
	char files[REPL_DELETE_MAX][MARS_LOGNAME_MAX + 1];	/* logfile names to delete */
};

/*
 * Plan the deletion for resource @res on node @host: fill @d and queue on
 * @t (which needs STATEFS_TXN_ANY_OWNER: tombstones of other hosts'
 * logfile names) the tombstones and the removal of @host's old version
 * links.  Nothing is written.  Returns 0 or -errno.
 */
int repl_delete_plan(struct statefs *sf, const char *res, const char *host,
		     struct repl_deletion *d, struct statefs_txn *t);

/*
 * Unlink the planned local files; call before committing @t, so that a
 * tombstone never stands for a file that is still here.  Returns 0, or
 * -errno with *@failed the index of the file that could not go.
 */
int repl_delete_files(struct statefs *sf, const char *res, const struct repl_deletion *d,
		      size_t *failed);

/* ---- run-time settings: fetch limits and priority (limits.c) ------------- */

/* The grammar of docs/state-tree.md 3.7. */
#define REPL_LIMIT_MIN_BPS	1024ULL			/* a non-zero limit, bytes/s */
#define REPL_LIMIT_MAX_BPS	(1ULL << 40)		/* 1 TiB/s */
#define REPL_WEIGHT_MIN		1ULL
#define REPL_WEIGHT_MAX		10000ULL
#define REPL_WEIGHT_DEFAULT	100ULL

/* A fetch-bwlimit value: "0" or a canonical decimal within the bounds.
 * 0, -EINVAL (not canonical decimal) or -ERANGE (out of bounds). */
int repl_limit_parse(const char *s, uint64_t *out_bps);
/* A fetch-priority value: a canonical decimal weight within the bounds. */
int repl_weight_parse(const char *s, uint64_t *out_weight);

/* Where a setting's value came from. */
enum repl_from {
	REPL_FROM_NONE,		/* no valid key at either level */
	REPL_FROM_DEFAULTS,	/* [resource-RES/]defaults/KEY */
	REPL_FROM_HOST,		/* [resource-RES/]defaults-HOST/KEY */
};

/* Word for @from as the status file prints it: none, defaults, defaults-HOST. */
const char *repl_from_name(enum repl_from from);

/*
 * One setting read at both levels.  An invalid value counts as absent;
 * bad[0] (the -HOST key) and bad[1] (the general key) keep it so that the
 * caller can log it: the library does not.
 */
struct repl_setting {
	uint64_t value;			/* valid when from != REPL_FROM_NONE */
	enum repl_from from;
	struct {
		int present;		/* the key held a value outside the grammar */
		int err;		/* -EINVAL or -ERANGE */
		char key[STATEFS_PATH_MAX + 1];
		char value[STATEFS_VALUE_MAX + 1];
	} bad[2];
};

/*
 * Read KEY for @host from the root defaults (@res NULL) or from
 * resource-@res: defaults-@host/@key over defaults/@key, each checked with
 * @parse (0 or -errno, as repl_limit_parse).  Fills @out; returns 0, or
 * -errno for a name too long.
 */
int repl_setting_read(struct statefs *sf, const char *res, const char *host, const char *key,
		      int (*parse)(const char *s, uint64_t *out), struct repl_setting *out);

/* The tighter of two limits, 0 meaning none. */
uint64_t repl_limit_min(uint64_t a, uint64_t b);

#define REPL_SHARE_MAX		256	/* transfers repl_share_bwlimit() shares among */

/*
 * Share the node limit @node_bps among @n (at most REPL_SHARE_MAX; the
 * rest are left alone) transfers (docs/replication.md
 * 4.5).  @weight[i] (>= 1) is transfer i's weight, @cap_bps[i] its own
 * limit (0 none), @busy[i] whether it has work.  The busy ones share
 * @node_bps in proportion to their weights; one whose cap is below its
 * share keeps its cap, and what it leaves is shared among the rest again.
 * An idle one gets what it would get if it joined the busy ones alone.
 * Writes @out_bps[i] for every i (with @node_bps 0: the caps).  Pure.
 */
void repl_share_bwlimit(uint64_t node_bps, const uint64_t *weight, const uint64_t *cap_bps,
			const int *busy, size_t n, uint64_t *out_bps);

/* ---- vouches: a logfile's content from its origin (vouch.c) ------------ */

/*
 * "DIGEST,log-NNNNNNNNN-ORIGIN,LEN" under digest-NNNNNNNNN-HOST: HOST
 * states that the first LEN bytes of that logfile have SHA-256 DIGEST
 * (docs/state-tree.md 3.8).
 */
struct repl_vouch {
	char digest[REPL_DIGEST_HEX + 1];	/* lowercase hex */
	char host[REPL_NAME_MAX + 1];		/* who vouches (the key's owner) */
	uint64_t len_bytes;
};

/*
 * SHA-256 of a logfile's prefix [0, len_bytes), kept open so that only
 * new bytes are hashed as the file grows.  One per logfile followed.
 */
struct repl_vouch_hash {
	void *ctx;				/* EVP_MD_CTX; NULL until started */
	char name[MARS_LOGNAME_MAX + 1];	/* the logfile; "" if none */
	uint64_t len_bytes;			/* bytes hashed so far */
};

/* Start over on logfile @name at 0 bytes.  0 or -ENOMEM. */
int repl_vouch_hash_reset(struct repl_vouch_hash *vh, const char *name);
/* Hash @n more bytes. */
int repl_vouch_hash_update(struct repl_vouch_hash *vh, const void *p, size_t n);
/* Hash @fd's bytes [len_bytes, @to) (pread).  0, -EIO (short) or -errno. */
int repl_vouch_hash_file(struct repl_vouch_hash *vh, int fd, uint64_t to);
/* The digest of what was hashed, in hex; the state goes on.  0 or -errno. */
int repl_vouch_hash_hex(const struct repl_vouch_hash *vh, char hex[REPL_DIGEST_HEX + 1]);
void repl_vouch_hash_release(struct repl_vouch_hash *vh);

/* The vouch value for @vh's logfile and length into @buf.  Length or -errno. */
int repl_vouch_format(char *buf, size_t size, const struct repl_vouch_hash *vh);

/*
 * @host's vouch for logfile @logname of @res: 1 and *@out if there is one
 * that parses and names exactly that logfile, 0 if none, -errno.
 */
int repl_vouch_get(struct statefs *sf, const char *res, const char *logname,
		   const char *host, struct repl_vouch *out);

#endif /* MARS_REPL_H */
