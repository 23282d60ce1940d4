/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statefs: the one library that reads and writes the MARS state tree.
 *
 * The cluster state is a directory tree of symbolic links under a root
 * (/mars by default).  A key is a path relative to the root, its value is
 * the link's target string, and its Lamport stamp is the link's mtime in
 * nanoseconds since the epoch.  docs/state-tree.md ("tree format 1") is
 * the normative description of the names; statefs/names.c is its only
 * implementation.
 *
 * Rules every function here keeps:
 *  - Updates are atomic: a temporary link ".tmp.<pid>.<name>" is created in
 *    the same directory, stamped with utimensat(AT_SYMLINK_NOFOLLOW) and
 *    renamed over the key.  Readers see the old or the new link, never none.
 *  - Every mutation runs under one node-wide lock (flock on <root>/.clock),
 *    which also serialises the Lamport clock: stamps handed out on a node
 *    are strictly increasing across all processes (marsadm, clusterd).
 *  - Deletion writes a tombstone: the value ".deleted" with a fresh stamp.
 *    Readers treat a tombstone as absent.  statefs_gc() removes tombstones
 *    once every member has moved past them.
 *  - Names starting with '.' are private to the node: never listed, never
 *    merged, never written through the key API.
 *  - The library never prints and never exits.  Functions return 0 (or a
 *    count) on success and -errno on failure;
 *    statefs_open_str() and statefs_refusal_str() explain the codes that
 *    carry a statefs-specific meaning.
 */
#ifndef MARS_STATEFS_H
#define MARS_STATEFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define STATEFS_TREE_FORMAT	1		/* the layout docs/state-tree.md describes */
#define STATEFS_DEFAULT_ROOT	"/mars"
#define STATEFS_TOMBSTONE	".deleted"	/* value of a deleted key */
#define STATEFS_NONE		"(none)"	/* "no host" value, e.g. of primary */

#define STATEFS_NAME_MAX	63	/* host and resource names, bytes */
#define STATEFS_KEY_MAX		127	/* one path component, bytes */
#define STATEFS_PATH_MAX	255	/* a whole key path, bytes */
#define STATEFS_VALUE_MAX	1023	/* a value (link target), bytes */

#define STATEFS_NS_PER_S	1000000000ULL
/* Stamps further than this ahead of real time are not trusted (30 days). */
#define STATEFS_FUTURE_BOUND_NS	(30ULL * 86400 * STATEFS_NS_PER_S)

/*
 * Error codes with a statefs meaning (all negated on return):
 *   ENOENT          key or root absent (a tombstone counts as absent)
 *   ENOTDIR         the root is not a directory
 *   ENODATA         the root is an empty directory: no cluster created yet
 *   EMEDIUMTYPE     the root holds files but is not a MARS state tree
 *   EPROTONOSUPPORT the root is a state tree of another format version
 *   EOPNOTSUPP      the file system does not keep nanosecond link mtimes
 * Refusals of a key or value (statefs_merge(), transactions):
 *   EINVAL          malformed path: leading '/', "..", ".", empty
 *                   component, bad characters, too long
 *   EACCES          a node-private name (".tmp...", any leading '.')
 *   EDOM            a well-formed path that tree format 1 does not define
 *   EPERM           the name belongs to another host than the writer
 *   ESRCH           the writing (origin) host name is invalid
 *   E2BIG           value longer than STATEFS_VALUE_MAX
 *   EILSEQ          value empty or containing control characters
 *   EXDEV           value is a path where only a name belongs, or a
 *                   relative or ".."-carrying path where a path belongs
 *   ERANGE          stamp zero
 *   EISDIR/EEXIST   a directory / regular file stands where the link goes
 */

/* Refusal and outcome counters of statefs_merge(), since statefs_open(). */
struct statefs_stats {
	uint64_t applied;		/* remote entry written locally */
	uint64_t kept;			/* local entry newer or winning the tie */
	uint64_t tombstones_ignored;	/* remote tombstone for an absent key */
	uint64_t future_bounded;	/* remote stamp too far ahead, restamped */
	uint64_t refused_path;		/* EINVAL, EACCES, EDOM */
	uint64_t refused_owner;		/* EPERM, ESRCH */
	uint64_t refused_policy;	/* refused by the caller's authorization before
					   statefs_merge() (clusterd/gossip/authz.c) */
	uint64_t refused_value;		/* E2BIG, EILSEQ, EXDEV */
	uint64_t refused_stamp;		/* ERANGE */
	uint64_t refused_type;		/* EISDIR, EEXIST */
	uint64_t errors;		/* local I/O failures */
};

/*
 * An open state tree, opaque outside statefs/: callers hold the pointer
 * statefs_open() gives and reach the tree only through the calls below,
 * so that no path into the tree is built, and no descriptor of it used,
 * anywhere else.
 */
struct statefs;

/* One key as read from the tree. */
struct statefs_entry {
	char path[STATEFS_PATH_MAX + 1];	/* key, relative to root */
	char value[STATEFS_VALUE_MAX + 1];	/* link target, NUL-terminated */
	uint64_t stamp_ns;			/* Lamport stamp (link mtime) */
	int tombstone;				/* value is STATEFS_TOMBSTONE */
};

/* ---- names (names.c) ---------------------------------------------------- */

enum statefs_name_kind {
	STATEFS_NAME_HOST,	/* node name */
	STATEFS_NAME_RESOURCE,	/* resource name */
};

/*
 * Check a host or resource name: [a-z][a-z0-9-]*, at most STATEFS_NAME_MAX
 * bytes, not a reserved word (none all any full empty undefined remote
 * local localhost global).  Returns 0 or -EINVAL; *why (if not NULL) then
 * points to a static lowercase reason ("is a reserved word", ...).
 */
int statefs_name_check(enum statefs_name_kind kind, const char *name, const char **why);

/* Owner of a key: its writing host, or "" for a cluster-wide key. */
/* The grammar a key's value follows (docs/state-tree.md section 2.2). */
enum statefs_value_form {
	STATEFS_V_NAME,		/* any text without '/' (the default) */
	STATEFS_V_PATH,		/* an absolute path without ".." components */
	STATEFS_V_DECIMAL,	/* a canonical decimal, 0 to 2^64-1 */
	STATEFS_V_PRIMARY,	/* a host name or "(none)" */
	STATEFS_V_RESOURCE,	/* a resource name */
	STATEFS_V_REPLAY,	/* a replay link value (mars/names.h) */
	STATEFS_V_VERSION,	/* a version link value (mars/names.h) */
	STATEFS_V_SECTION,	/* one section of it: a vouch (state-tree.md 3.8) */
	STATEFS_V_COUNTS,	/* two canonical decimals "N,N" */
	STATEFS_V_TOMBSTONE,	/* nothing but the tombstone */
	STATEFS_V_SSHKEY,	/* an OpenSSH public key "TYPE:BLOB" (sshkey.c) */
};

/*
 * Form ssh key (docs/state-tree.md section 2.2, statefs/sshkey.c): a
 * public key "TYPE:BLOB", TYPE from an allow-list, BLOB URL-safe base64
 * whose first field is TYPE.  statefs_sshkey_check() returns 0 or
 * -EBADMSG.  statefs_sshkey_from_openssh() turns the first line of a .pub
 * file ("TYPE BASE64 [COMMENT]", @len bytes) into such a value;
 * statefs_sshkey_to_openssh() a value into "TYPE BASE64", the key of an
 * authorized_keys line.  Both return 0, -EBADMSG (not a key of the form)
 * or -ENOSPC (@size too small).
 */
int statefs_sshkey_check(const char *value);
int statefs_sshkey_from_openssh(const char *line, size_t len, char *value, size_t size);
int statefs_sshkey_to_openssh(const char *value, char *line, size_t size);

struct statefs_keyinfo {
	char owner[STATEFS_NAME_MAX + 1];	/* "" for cluster-wide keys */
	char resource[STATEFS_NAME_MAX + 1];	/* "" outside resource-NAME/ */
	enum statefs_value_form value_form;
};

/*
 * Check that @path is a key of tree format 1 and describe it.  Returns 0,
 * or -EINVAL / -EACCES / -EDOM (see the error table).  Directories are not
 * keys: "resource-r" is refused, "resource-r/size" accepted.
 */
int statefs_key_check(const char *path, struct statefs_keyinfo *info);

/*
 * Check @value for the key described by @info: no control bytes, at most
 * STATEFS_VALUE_MAX bytes, and the key's value form.  The tombstone is
 * always accepted.  Returns 0 or -E2BIG / -EILSEQ / -EXDEV (a path where
 * a name belongs, or the reverse) / -EBADMSG (not the key's value form).
 */
int statefs_value_check(const struct statefs_keyinfo *info, const char *value);

/*
 * The keys of a resource, so that only statefs spells "resource-": the
 * directory "resource-RES" (statefs_resource_key) or "resource-RES/" and
 * @fmt formatted (statefs_resource_keyf), into @buf of @size bytes.
 * Neither checks the names (the calls that take the key do): a hostile
 * name gets the refusal it always got.  0, or -ENAMETOOLONG with @buf
 * truncated.
 */
int statefs_resource_key(char *buf, size_t size, const char *res);
int statefs_resource_keyf(char *buf, size_t size, const char *res, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Explain a refusal code returned by the checks above, a transaction add
 * or statefs_merge() (@err negative): "name owned by another host", ...
 * Other codes fall through to strerror().
 */
const char *statefs_refusal_str(int err);

/* ---- open and close (open.c) ------------------------------------------ */

/* $MARS_ROOT if set and non-empty, else STATEFS_DEFAULT_ROOT. */
const char *statefs_default_root(void);

/*
 * $MARS_HOST if set and non-empty, else the node name of uname(2), copied
 * into @buf.  Returns 0 or -ENAMETOOLONG; the name is not validated here.
 */
int statefs_default_host(char *buf, size_t size);

#define STATEFS_OPEN_ANY	(1U << 0)	/* accept a tree without format marker
						   (create-cluster); root must exist */

/*
 * Open the tree at @root as node @host (both required; see the defaults
 * above) into *@sfp.  Unless STATEFS_OPEN_ANY is given the root must carry
 * the format marker of STATEFS_TREE_FORMAT.  Returns 0, -ESRCH (invalid
 * host name), -ENOMEM, or -ENOENT / -ENOTDIR / -ENODATA / -EMEDIUMTYPE /
 * -EPROTONOSUPPORT / -errno, with *@sfp NULL.  Nothing is written.
 */
int statefs_open(struct statefs **sfp, const char *root, const char *host, unsigned flags);
/* Close and free *@sfp and set it NULL: closing twice, or a tree never
 * opened (NULL), is harmless. */
void statefs_close(struct statefs **sfp);

/* What an open tree is: the node's name (validated) and the root as given. */
const char *statefs_host(const struct statefs *sf);
const char *statefs_root(const struct statefs *sf);
/* Its merge counters since statefs_open(); callers that refuse an entry
 * before statefs_merge() count it here too (refused_policy). */
struct statefs_stats *statefs_stats(struct statefs *sf);
/* How far ahead of real time a stamp may be before statefs_merge() bounds
 * it (STATEFS_FUTURE_BOUND_NS unless set). */
uint64_t statefs_future_bound_ns(const struct statefs *sf);
void statefs_set_future_bound_ns(struct statefs *sf, uint64_t ns);

/* Explain a code returned by statefs_open() (@err negative). */
const char *statefs_open_str(int err);

/*
 * 1 if the root holds nothing but "lost+found" (a fresh file system), 0 if
 * it holds anything else, -errno on failure.
 */
int statefs_root_is_empty(struct statefs *sf);

/*
 * Mark an opened empty root as a tree of STATEFS_TREE_FORMAT after probing
 * that the file system keeps nanosecond link stamps (-EOPNOTSUPP if not);
 * the root's mode becomes 0700, as the state is for root's eyes only.
 * statefs_unmark() removes the marker and the clock again, for a
 * create-cluster that has to undo itself.
 */
int statefs_mark(struct statefs *sf);
void statefs_unmark(struct statefs *sf);

/* ---- Lamport clock (clock.c) ------------------------------------------ */

/* Real time now, nanoseconds since the epoch. */
uint64_t statefs_realtime_ns(void);

/*
 * Hand out a stamp: max(real time, highest stamp issued or witnessed on
 * this node + 1).  Strictly increasing across processes.  Returns 0 or
 * -errno (the clock file cannot be opened or locked).
 */
int statefs_clock_tick(struct statefs *sf, uint64_t *stamp_ns);

/*
 * Advance the clock to @stamp_ns if it is larger, unless it is more than
 * future_bound_ns ahead of real time (then it is ignored and 0 returned).
 */
int statefs_clock_witness(struct statefs *sf, uint64_t stamp_ns);

/* The current clock without advancing it: max(real time, highest stamp). */
int statefs_clock_now(struct statefs *sf, uint64_t *stamp_ns);

/* 1 if @stamp_ns lies more than future_bound_ns ahead of @now_ns. */
int statefs_stamp_is_future(const struct statefs *sf, uint64_t stamp_ns, uint64_t now_ns);

/* ---- reading (read.c) ------------------------------------------------- */

/*
 * Read key @path into @e, tombstones included (e->tombstone set).
 * Returns 0, -ENOENT if no link exists, -EISDIR/-EEXIST for a directory or
 * file at @path, or another -errno.  @path is not grammar-checked, so that
 * regular files like log-NNNNNNNNN-HOST can be probed.
 */
int statefs_read(struct statefs *sf, const char *path, struct statefs_entry *e);

/*
 * Copy the live value of @path into @buf of @size bytes.  Returns the
 * value length, -ENOENT for an absent key or a tombstone, -ENAMETOOLONG
 * if @buf is too small.  @stamp_ns may be NULL.
 */
int statefs_get(struct statefs *sf, const char *path, char *buf, size_t size,
		uint64_t *stamp_ns);

/* 1 if @path (relative) is an existing directory, 0 if not, -errno. */
int statefs_is_dir(struct statefs *sf, const char *path);

/*
 * The membership rule, written here once for every reader: @host is a
 * member of resource @res if resource-RES/data-HOST is a live link and
 * @host was not evicted (statefs_is_evicted(): its own links stay in the
 * tree, since only it may delete them, but they no longer count).
 * Returns 1 if it is, 0 if not (also for names that are no valid host or
 * resource name, so a peer's word cannot reach outside the tree), or
 * -errno if the link could not be read.
 */
int statefs_is_member(struct statefs *sf, const char *res, const char *host);

/*
 * The eviction rule: @host was removed from the cluster by another member
 * if evicted/HOST is a live link (docs/state-tree.md section 3.1).
 * Returns 1 if it was (the evicting member's name, as written, copied
 * into @by of @size bytes if @by is not NULL), 0 if not (also for a name
 * that is no valid host name), or -errno.
 */
int statefs_is_evicted(struct statefs *sf, const char *host, char *by, size_t size);

/* ---- listing (list.c) ------------------------------------------------- */

#define STATEFS_LIST_TOMBSTONES	(1U << 0)	/* report tombstones too */
#define STATEFS_LIST_SENDABLE	(1U << 1)	/* only entries this node may send in
						   gossip: own, cluster-wide, tombstones */

/* Return 0 to continue, >0 to stop (returned by statefs_list), <0 error. */
typedef int (*statefs_list_fn)(const struct statefs_entry *e, void *arg);

/*
 * Call @fn for every link under @subtree ("" for the whole tree), depth
 * first, names in byte order.  Private names, regular files and links that
 * are not keys of tree format 1 are skipped.  Returns 0, the first
 * non-zero return of @fn, or -errno (-ENOENT if @subtree does not exist).
 */
int statefs_list(struct statefs *sf, const char *subtree, unsigned flags,
		 statefs_list_fn fn, void *arg);

/*
 * Names of the direct subdirectories of @dir ("" = root) that start with
 * @prefix, with the prefix stripped, in byte order, via @fn(name, arg).
 * Used for "all resources" (prefix "resource-").  Same return rules.
 */
int statefs_list_dirs(struct statefs *sf, const char *dir, const char *prefix,
		      int (*fn)(const char *name, void *arg), void *arg);

/*
 * Call @fn(name, size_bytes, arg) for each regular file in directory @dir
 * (logfiles, "log-NNNNNNNNN-HOST"), names in byte order, private names
 * skipped.  Same return rules as statefs_list.
 */
int statefs_list_files(struct statefs *sf, const char *dir,
		       int (*fn)(const char *name, uint64_t size_bytes, void *arg), void *arg);

/* ---- transactions (txn.c) --------------------------------------------- */

/*
 * A transaction is a list of key operations applied together: all are
 * validated before the first write, and if a write fails the earlier ones
 * are undone (old values restored with their old stamps, created
 * directories removed), so the tree is left as it was.  A set to the
 * value a key already has is skipped, so repeating a command is harmless.
 */
struct statefs_op;
struct statefs_txn {
	struct statefs *sf;
	unsigned flags;			/* STATEFS_TXN_* */
	struct statefs_op *ops;		/* ops[0..n_ops) in order */
	size_t n_ops;
	size_t cap_ops;
	int error;			/* first error of an add, reported by commit */
	char error_path[STATEFS_PATH_MAX + 1];	/* ... and the key it refused */
};

#define STATEFS_TXN_ANY_OWNER	(1U << 0)	/* may write other hosts' names
						   (delete-resource, --host=DEAD) */

void statefs_txn_init(struct statefs_txn *t, struct statefs *sf, unsigned flags);
void statefs_txn_release(struct statefs_txn *t);

/*
 * Queue a write of @value to @path with a fresh stamp.  Returns 0 or the
 * refusal (-EINVAL, -EDOM, -EPERM, -E2BIG, ...); the first failure is also
 * kept in t->error and makes commit refuse.
 */
int statefs_txn_set(struct statefs_txn *t, const char *path, const char *value);

/*
 * Queue a write with a deliberately weak stamp: one nanosecond above the
 * key's current stamp, so that a concurrent write elsewhere wins (used by
 * "secondary", which clears the designated primary).
 */
int statefs_txn_set_weak(struct statefs_txn *t, const char *path, const char *value);

/* Queue a tombstone for @path; an absent key is skipped at commit. */
int statefs_txn_delete(struct statefs_txn *t, const char *path);

/* Queue tombstones for every live key under @subtree (read now). */
int statefs_txn_delete_tree(struct statefs_txn *t, const char *subtree);

enum statefs_op_kind { STATEFS_OP_SET, STATEFS_OP_SET_WEAK, STATEFS_OP_DELETE };

/* Call @fn for each queued op in order (for --dry-run transcripts). */
int statefs_txn_foreach(const struct statefs_txn *t,
			int (*fn)(enum statefs_op_kind kind, const char *path,
				  const char *value, void *arg),
			void *arg);

/*
 * Apply the queued ops under the node lock.  Returns the number of keys
 * changed (0 if all already had their values), or -errno with the tree
 * restored.  *failed_path (if not NULL) names the key that failed, or
 * that an add refused (t->error, nothing written then).
 */
int statefs_txn_commit(struct statefs_txn *t, const char **failed_path);

/* ---- merge (merge.c) -------------------------------------------------- */

/*
 * Apply one remote entry, as gossip received it from peer @origin_host:
 *  - the key, value, stamp and origin are checked; a refusal returns the
 *    code from the error table and counts in sf->stats.refused_*;
 *  - a live value of a name owned by a host is accepted only from that
 *    host; a tombstone is accepted from any valid host;
 *  - a stamp beyond the future bound is replaced by a fresh local stamp;
 *  - absent locally: a live value is created, a tombstone is not
 *    materialised (counted in tombstones_ignored);
 *  - present: the newer stamp wins; on equal stamps a tombstone wins, else
 *    the bytewise larger value wins; equal values are kept;
 *  - a local regular file (a logfile) is replaced only by a tombstone.
 * The clock witnesses @stamp_ns.  Returns 1 if the tree changed, 0 if the
 * local entry was kept, or -errno.
 */
int statefs_merge(struct statefs *sf, const char *path, const char *value,
		  uint64_t stamp_ns, const char *origin_host);

/* ---- files of a resource (files.c) ------------------------------------ */

/*
 * The regular files in resource-RES/: logfiles and the node-private
 * status files beside them.  No other code builds their paths: @res is a
 * resource name, @name one component (not "." or ".."), never a link
 * followed.  Each returns -errno (-EINVAL for a name that is none).
 */
/* A descriptor (O_NOFOLLOW and O_CLOEXEC added to @flags), or -errno. */
int statefs_file_open(const struct statefs *sf, const char *res, const char *name, int flags,
		      mode_t mode);
int statefs_file_stat(const struct statefs *sf, const char *res, const char *name, struct stat *st);
int statefs_file_unlink(const struct statefs *sf, const char *res, const char *name);
int statefs_file_truncate(const struct statefs *sf, const char *res, const char *name, uint64_t len);
/* rename(2) within the resource directory: how a status file is replaced. */
int statefs_file_rename(const struct statefs *sf, const char *res, const char *from, const char *to);
/* The resource directory itself, opened (made first if @create). */
int statefs_resource_dir(const struct statefs *sf, const char *res, int create);
/*
 * The path under @root of the resource directory (@name NULL) or of its
 * file @name, for the few that need a path and cannot take a descriptor:
 * the module's attach call (it opens the directory itself), a child
 * process's files, an inotify watch.  Everything else opens with the calls
 * above.  0, -EINVAL (not a resource or file name) or -ENAMETOOLONG.
 */
int statefs_resource_path(const char *root, const char *res, const char *name, char *buf,
			  size_t size);

/* ---- node-local counters (counters.c) ------------------------------- */

/*
 * Named counters that this node's processes add to and one reads: the
 * serving ends count refusals for the daemon's metrics.  Kept in the
 * node-private file <root>/.counters, updated under its own flock; never
 * gossiped.  Names are [a-z_]+, at most STATEFS_COUNTER_NAME_MAX bytes.
 */
#define STATEFS_COUNTERS_MAX		32
#define STATEFS_COUNTER_NAME_MAX	31

struct statefs_counter {
	char name[STATEFS_COUNTER_NAME_MAX + 1];
	uint64_t value;
};

struct statefs_counters {
	size_t n;				/* c[0..n) are used */
	struct statefs_counter c[STATEFS_COUNTERS_MAX];
};

/* Add every counter of @delta (names checked first) in one locked update.
 * Returns 0, -EINVAL (a bad name), -ENOSPC (no room for a new name), or
 * -errno. */
int statefs_counters_add(struct statefs *sf, const struct statefs_counters *delta);

/* Add @n to counter @name; as statefs_counters_add(). */
int statefs_counter_add(struct statefs *sf, const char *name, uint64_t n);

/* Read all counters into @c (empty if there is no file, or it does not
 * parse).  Returns 0 or -errno. */
int statefs_counters_read(struct statefs *sf, struct statefs_counters *c);

/* The value of @name in @c, 0 if absent. */
uint64_t statefs_counters_get(const struct statefs_counters *c, const char *name);

/* Set every counter back to zero (the daemon, when it starts).  0 or -errno. */
int statefs_counters_reset(struct statefs *sf);

/* The refused_* fields of @st as counters named path, owner, value,
 * stamp, type, policy (the reason labels of the gossip metrics). */
void statefs_stats_refusals(const struct statefs_stats *st, struct statefs_counters *c);
/* Every field of @st as counters (the refusals as above, then applied,
 * kept, tombstones_ignored, future_bounded, errors), and back: how the
 * daemon publishes its merge counters in the node's counters file. */
void statefs_stats_counters(const struct statefs_stats *st, struct statefs_counters *c);
void statefs_stats_from_counters(const struct statefs_counters *c, struct statefs_stats *st);

/* ---- tombstone collection (gc.c) -------------------------------------- */

struct statefs_gc_params {
	uint64_t keep_ns;	/* collect any tombstone older than this (168 h) */
	uint64_t window_ns;	/* safety margin below member heartbeats (60 s) */
	uint64_t now_ns;	/* reference time; 0 = statefs_clock_now() */
};
#define STATEFS_GC_KEEP_NS	(168ULL * 3600 * STATEFS_NS_PER_S)
#define STATEFS_GC_WINDOW_NS	(60ULL * STATEFS_NS_PER_S)

/*
 * Remove tombstones that every member has moved past: a tombstone with
 * stamp t goes when t < max(H, now - keep_ns) - window_ns, where H is the
 * oldest heartbeat stamp (link actual-HOST/time) over all members (hosts
 * with a live ips/ip-HOST link), 0 if any member has none.  Tombstones
 * under ips/ use only the keep_ns bound.  Directories emptied by the
 * collection are removed.  @params may be NULL for the defaults.  Returns
 * the number of tombstones removed or -errno.
 */
int statefs_gc(struct statefs *sf, const struct statefs_gc_params *params);

/* ---- change feed (watch.c) -------------------------------------------- */

/*
 * An inotify change feed over the whole tree (libinotifytools).  The
 * library behind it keeps global state, so a process holds at most one
 * watch (-EBUSY otherwise).  New directories are watched as they appear.
 */
struct statefs_watch;

/* Returns 0, -EBUSY, -EOPNOTSUPP (inotify descriptor not found), -errno. */
int statefs_watch_open(struct statefs *sf, struct statefs_watch **wp);

/*
 * Wait up to @timeout_ms (-1 forever, 0 not at all) for a change and copy
 * the changed key path into @path.  A directory path means "rescan this
 * subtree" (new directory, or events lost to a queue overflow: then "").
 * Private names are not reported.  Returns 1 with a path, 0 on timeout.
 * Events are read in batches: after the descriptor of statefs_watch_fd()
 * turns readable, call this with timeout 0 until it returns 0.
 */
int statefs_watch_next(struct statefs_watch *w, int timeout_ms, char *path, size_t size);

/* Descriptor that turns readable when changes are pending, for poll(2). */
int statefs_watch_fd(const struct statefs_watch *w);

void statefs_watch_close(struct statefs_watch *w);

#endif /* MARS_STATEFS_H */
