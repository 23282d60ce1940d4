/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * repl-follow ROOT HOST RES: what a secondary's daemon does to the tree
 * after replaying, without a data path: "replay" every byte of the local
 * logfiles that the designated primary's version links cover, write this
 * node's version and replay links for it, and switch to the next logfile
 * exactly when repl_switchover_check() allows.  Prints where it stopped:
 * "log-NNNNNNNNN-ORIGIN,POS"; exit 3 when it stopped at a divergence.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "repl/repl.h"

static struct statefs *sf;
static const char *res;

static int
get(const char *rel, char *buf, size_t size)
{
	char key[STATEFS_PATH_MAX + 1];

	snprintf(key, sizeof(key), "resource-%s/%s", res, rel);
	return statefs_get(sf, key, buf, size, NULL);
}

/* @host's version link of logfile @nr. */
static int
get_version(const char *host, uint64_t nr, char *buf, size_t size)
{
	char name[MARS_VERNAME_MAX + 1];

	if (mars_vername_format(name, sizeof(name), nr, host) < 0)
		return -ERANGE;
	return get(name, buf, size);
}

static uint64_t
file_size(uint64_t nr, const char *origin)
{
	char name[MARS_LOGNAME_MAX + 1];
	struct stat st;

	if (mars_logname_format(name, sizeof(name), nr, origin) < 0)
		return UINT64_MAX;
	return statefs_file_stat(sf, res, name, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

static int
publish(uint64_t nr, const char *origin, const char *version, uint64_t pos)
{
	char key[STATEFS_PATH_MAX + 1], name[MARS_VERNAME_MAX + 1], v[MARS_REPLAY_MAX + 1];
	struct mars_replaylink at = { .log.nr = (uint32_t)nr, .pos_bytes = pos };
	struct statefs_txn t;
	int ret;

	snprintf(at.log.host, sizeof(at.log.host), "%s", origin);
	if (nr > MARS_LOGNR_MAX || mars_vername_format(name, sizeof(name), nr, statefs_host(sf)) < 0 ||
	    mars_replaylink_format(v, sizeof(v), &at) < 0)
		return -ERANGE;
	statefs_txn_init(&t, sf, 0);
	snprintf(key, sizeof(key), "resource-%s/%s", res, name);
	statefs_txn_set(&t, key, version);
	snprintf(key, sizeof(key), "resource-%s/replay-%s", res, statefs_host(sf));
	statefs_txn_set(&t, key, v);
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	return ret < 0 ? ret : 0;
}

/* One logfile: replay what is there; 1 to go on with the next, 0 stop, <0 diverged. */
static int
step(const char *p, struct repl_replay *r)
{
	char own[STATEFS_VALUE_MAX + 1], pn[STATEFS_VALUE_MAX + 1], next[STATEFS_VALUE_MAX + 1];
	char made[STATEFS_VALUE_MAX + 1], prev[STATEFS_VALUE_MAX + 1];
	struct repl_version pv, ov, nv;
	uint64_t size = file_size(r->nr, r->origin), pos;

	if (get_version(p, r->nr, pn, sizeof(pn)) < 0 ||
	    repl_version_parse(pn, &pv) < 0 || size == UINT64_MAX)
		return 0;
	pos = size < pv.len_bytes ? size : pv.len_bytes;
	if (get_version(statefs_host(sf), r->nr, own, sizeof(own)) >= 0) {
		if (repl_version_relength(made, sizeof(made), own, pos) < 0)
			return -EINVAL;
	} else if (get_version(statefs_host(sf), r->nr - 1, prev, sizeof(prev)) < 0 ||
		   repl_version_parse(prev, &ov) < 0 ||
		   repl_version_make(made, sizeof(made), r->nr, r->origin, pos, ov.section) < 0) {
		return -EINVAL;
	}
	if (publish(r->nr, r->origin, made, pos) < 0)
		return -EIO;
	r->pos_bytes = pos;
	if (get_version(p, r->nr + 1, next, sizeof(next)) < 0)
		return 0;
	switch (repl_switchover_check(made, pn, pos, next)) {
	case 0:
		break;
	case -EAGAIN:
		return 0;
	default:
		return -EXDEV;
	}
	repl_version_parse(made, &ov);
	repl_version_parse(next, &nv);
	if (file_size(r->nr + 1, nv.origin) == UINT64_MAX ||
	    repl_version_make(made, sizeof(made), r->nr + 1, nv.origin, 0, ov.section) < 0 ||
	    publish(r->nr + 1, nv.origin, made, 0) < 0)
		return 0;
	r->nr++;
	snprintf(r->origin, sizeof(r->origin), "%s", nv.origin);
	r->pos_bytes = 0;
	return 1;
}

int
main(int argc, char **argv)
{
	char p[STATEFS_NAME_MAX + 1], v[STATEFS_VALUE_MAX + 1], key[STATEFS_NAME_MAX + 16];
	char name[MARS_LOGNAME_MAX + 1];
	struct repl_replay r;
	int ret = 1, i;

	if (argc != 4) {
		fprintf(stderr, "usage: repl-follow ROOT HOST RES\n");
		return 2;
	}
	res = argv[3];
	snprintf(key, sizeof(key), "replay-%s", argv[2]);
	if (statefs_open(&sf, argv[1], argv[2], 0) < 0 || get("primary", p, sizeof(p)) < 0 ||
	    get(key, v, sizeof(v)) < 0 ||
	    repl_replay_parse(v, &r) < 0) {
		fprintf(stderr, "repl-follow: no primary or replay link for '%s'\n", res);
		return 1;
	}
	for (i = 0; i < 1000 && (ret = step(p, &r)) == 1; i++)
		;
	mars_logname_format(name, sizeof(name), r.nr, r.origin);	/* parsed: fits */
	printf("%s,%" PRIu64 "\n", name, r.pos_bytes);
	statefs_close(&sf);
	if (ret < 0)
		fprintf(stderr, "repl-follow: stopped before a divergence: %s\n", strerror(-ret));
	return ret == -EXDEV ? 3 : ret < 0;
}
