/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transactions: a command's writes, applied all or not at all.
 *
 * Every op is checked when it is queued (key grammar, value rules,
 * ownership), so a bad argument refuses the command before anything is
 * written.  Commit holds the node lock, remembers each key's old link,
 * and on the first failed write puts the old links back with their old
 * stamps and removes the directories it made.  Within the lock no other
 * writer on this node can observe the intermediate state; a peer could
 * only if it pulled in the instant between, and would then see newer
 * stamps replaced by older ones, which merge resolves by stamp as usual.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

struct statefs_op {
	enum statefs_op_kind kind;
	char path[STATEFS_PATH_MAX + 1];
	char value[STATEFS_VALUE_MAX + 1];
	/* undo state, filled by commit */
	int done;			/* this op changed the tree */
	int had_old;			/* a link existed before */
	int created_depth;		/* first directory made, -1 none */
	struct statefs_entry old;	/* the link before, if had_old */
};

void
statefs_txn_init(struct statefs_txn *t, struct statefs *sf, unsigned flags)
{
	memset(t, 0, sizeof(*t));
	t->sf = sf;
	t->flags = flags;
}

void
statefs_txn_release(struct statefs_txn *t)
{
	free(t->ops);
	t->ops = NULL;
	t->n_ops = t->cap_ops = 0;
	t->error = 0;
}

static int
txn_check(struct statefs_txn *t, const char *path, const char *value)
{
	struct statefs_keyinfo ki;
	int ret = statefs_key_check(path, &ki);

	if (ret == 0)
		ret = statefs_value_check(&ki, value);
	if (ret == 0 && ki.owner[0] && strcmp(ki.owner, t->sf->host) != 0 &&
	    !(t->flags & STATEFS_TXN_ANY_OWNER))
		ret = -EPERM;
	return ret;
}

/* Keep the first failure of an add for commit to report. */
static void
txn_fail(struct statefs_txn *t, int err, const char *path)
{
	if (t->error)
		return;
	t->error = err;
	snprintf(t->error_path, sizeof(t->error_path), "%s", path);
}

static int
txn_push(struct statefs_txn *t, enum statefs_op_kind kind, const char *path,
	 const char *value)
{
	struct statefs_op *grown, *op;
	int ret = txn_check(t, path, value);

	if (ret == 0 && t->n_ops == t->cap_ops) {
		t->cap_ops = t->cap_ops ? t->cap_ops * 2 : 8;
		grown = realloc(t->ops, t->cap_ops * sizeof(*grown));
		if (grown)
			t->ops = grown;
		else
			ret = -ENOMEM;
	}
	if (ret < 0) {
		txn_fail(t, ret, path);
		return ret;
	}
	op = &t->ops[t->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	strcpy(op->path, path);		/* lengths checked by txn_check */
	strcpy(op->value, value);
	return 0;
}

int
statefs_txn_set(struct statefs_txn *t, const char *path, const char *value)
{
	return txn_push(t, STATEFS_OP_SET, path, value);
}

int
statefs_txn_set_weak(struct statefs_txn *t, const char *path, const char *value)
{
	return txn_push(t, STATEFS_OP_SET_WEAK, path, value);
}

int
statefs_txn_delete(struct statefs_txn *t, const char *path)
{
	return txn_push(t, STATEFS_OP_DELETE, path, STATEFS_TOMBSTONE);
}

static int
delete_visit(const struct statefs_entry *e, void *arg)
{
	return statefs_txn_delete(arg, e->path);
}

int
statefs_txn_delete_tree(struct statefs_txn *t, const char *subtree)
{
	int ret = statefs_list(t->sf, subtree, 0, delete_visit, t);

	if (ret < 0)
		txn_fail(t, ret, subtree);
	return ret;
}

int
statefs_txn_foreach(const struct statefs_txn *t,
		    int (*fn)(enum statefs_op_kind, const char *, const char *, void *),
		    void *arg)
{
	size_t i;
	int ret = 0;

	for (i = 0; ret == 0 && i < t->n_ops; i++)
		ret = fn(t->ops[i].kind, t->ops[i].path, t->ops[i].value, arg);
	return ret;
}

/* 1 if the op would change nothing. */
static int
op_is_noop(const struct statefs_op *op)
{
	if (op->kind == STATEFS_OP_DELETE)
		return !op->had_old || op->old.tombstone;
	return op->had_old && !op->old.tombstone && strcmp(op->old.value, op->value) == 0;
}

static int
op_stamp(struct statefs *sf, const struct statefs_op *op, uint64_t *stamp_ns)
{
	int ret = 0;

	if (op->had_old)
		ret = sf_clock_witness_locked(sf, op->old.stamp_ns);
	if (ret == 0 && op->kind == STATEFS_OP_SET_WEAK && op->had_old) {
		*stamp_ns = op->old.stamp_ns + 1;
		return 0;
	}
	return ret < 0 ? ret : sf_clock_tick_locked(sf, stamp_ns);
}

/* Read the old link, then write; returns 1 if changed, 0 if a no-op. */
static int
op_apply_at(struct statefs *sf, struct statefs_op *op, int dfd, const char *base)
{
	uint64_t stamp;
	int ret = sf_read_at(dfd, base, &op->old);

	if (ret < 0 && ret != -ENOENT)
		return ret;
	op->had_old = ret == 0;
	if (op_is_noop(op))
		return 0;
	ret = op_stamp(sf, op, &stamp);
	if (ret == 0)
		ret = sf_write_at(dfd, base, op->value, stamp);
	if (ret == 0)
		op->done = 1;
	return ret < 0 ? ret : 1;
}

static int
op_apply(struct statefs *sf, struct statefs_op *op)
{
	int create = op->kind != STATEFS_OP_DELETE;
	const char *base;
	int dfd, ret;

	dfd = sf_open_parent(sf, op->path, create, &base, &op->created_depth);
	if (dfd == -ENOENT && !create)
		return 0;	/* deleting under a missing directory */
	if (dfd < 0)
		return dfd;
	ret = op_apply_at(sf, op, dfd, base);
	close(dfd);
	if (ret <= 0)
		sf_remove_dirs(sf, op->path, op->created_depth);
	return ret;
}

static void
op_undo(struct statefs *sf, struct statefs_op *op)
{
	const char *base;
	int dfd;

	if (op->done) {
		dfd = sf_open_parent(sf, op->path, 0, &base, NULL);
		if (dfd >= 0 && op->had_old)
			sf_write_at(dfd, base, op->old.value, op->old.stamp_ns);
		else if (dfd >= 0)
			unlinkat(dfd, base, 0);
		if (dfd >= 0)
			close(dfd);
	}
	sf_remove_dirs(sf, op->path, op->created_depth);
}

static int
txn_apply(struct statefs_txn *t, const char **failed_path)
{
	int ret, changed = 0;
	size_t i;

	for (i = 0; i < t->n_ops; i++) {
		ret = op_apply(t->sf, &t->ops[i]);
		if (ret < 0) {
			if (failed_path)
				*failed_path = t->ops[i].path;
			while (i-- > 0)
				op_undo(t->sf, &t->ops[i]);
			return ret;
		}
		changed += ret;
	}
	return changed;
}

int
statefs_txn_commit(struct statefs_txn *t, const char **failed_path)
{
	int ret;

	if (failed_path)
		*failed_path = t->error ? t->error_path : NULL;
	if (t->error)
		return t->error;
	ret = sf_lock(t->sf);
	if (ret < 0)
		return ret;
	ret = txn_apply(t, failed_path);
	sf_unlock(t->sf);
	return ret;
}
