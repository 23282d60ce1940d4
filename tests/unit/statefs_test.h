/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the statefs unit tests: a fresh temporary root per test,
 * removed afterwards, and one-line ways to plant entries with chosen
 * stamps (through statefs_merge, as a peer would).
 */
#ifndef MARS_STATEFS_TEST_H
#define MARS_STATEFS_TEST_H

#define _GNU_SOURCE 1
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statefs/statefs.h"
#include "tap.h"

#define SFT_HOUR_NS	(3600ULL * STATEFS_NS_PER_S)

static char sft_root[4096];

static int
sft_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
sft_rmtree(const char *path)
{
	nftw(path, sft_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh empty directory; its path is kept in sft_root. */
static inline const char *
sft_mkroot(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(sft_root, sizeof(sft_root), "%s/statefs-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(sft_root)) {
		perror("mkdtemp");
		exit(99);
	}
	return sft_root;
}

/* A fresh root, marked as a tree and opened as @host into *@sfp; exits on
 * failure. */
static inline void
sft_new_tree(struct statefs **sfp, const char *host)
{
	int ret;

	sft_mkroot();
	ret = statefs_open(sfp, sft_root, host, STATEFS_OPEN_ANY);
	if (ret == 0)
		ret = statefs_mark(*sfp);
	if (ret < 0) {
		printf("Bail out! cannot create a tree in %s: %s\n", sft_root, strerror(-ret));
		exit(99);
	}
}

static inline void
sft_done_tree(struct statefs **sfp)
{
	statefs_close(sfp);
	sft_rmtree(sft_root);
}

/* Set one key through a transaction; returns the commit result. */
static inline int
sft_set(struct statefs *sf, const char *path, const char *value)
{
	struct statefs_txn t;
	int ret;

	statefs_txn_init(&t, sf, STATEFS_TXN_ANY_OWNER);
	statefs_txn_set(&t, path, value);
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	return ret;
}

static inline int
sft_delete(struct statefs *sf, const char *path)
{
	struct statefs_txn t;
	int ret;

	statefs_txn_init(&t, sf, STATEFS_TXN_ANY_OWNER);
	statefs_txn_delete(&t, path);
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	return ret;
}

/* Stamp of @path, 0 if absent. */
static inline uint64_t
sft_stamp(struct statefs *sf, const char *path)
{
	struct statefs_entry e;

	return statefs_read(sf, path, &e) == 0 ? e.stamp_ns : 0;
}

/* Live value of @path or "" (static buffer). */
static inline const char *
sft_value(struct statefs *sf, const char *path)
{
	static char buf[STATEFS_VALUE_MAX + 1];

	if (statefs_get(sf, path, buf, sizeof(buf), NULL) < 0)
		buf[0] = '\0';
	return buf;
}

#endif /* MARS_STATEFS_TEST_H */
