/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Applying a peer's entry: the one door through which remote state enters
 * the tree.  The checks are the same grammar and value rules as local
 * writes (names.c) plus ownership by origin: a live value of a host's
 * name comes only from that host.  Tombstones may come from any member,
 * because the commands that destroy (delete-resource, leave-resource for a
 * dead host) must reach names of hosts that cannot write any more.
 *
 * Order is last writer wins by Lamport stamp; equal stamps, which two
 * nodes can produce independently, are broken the same way on every node
 * (tombstone first, then the bytewise larger value), so all converge.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "statefs/internal.h"

static int
merge_refuse(struct statefs *sf, int err)
{
	switch (-err) {
	case EINVAL: case EACCES: case EDOM:
		sf->stats.refused_path++;
		break;
	case EPERM: case ESRCH:
		sf->stats.refused_owner++;
		break;
	case E2BIG: case EILSEQ: case EXDEV: case EBADMSG:
		sf->stats.refused_value++;
		break;
	case ERANGE:
		sf->stats.refused_stamp++;
		break;
	case EISDIR: case EEXIST:
		sf->stats.refused_type++;
		break;
	default:
		sf->stats.errors++;
	}
	return err;
}

static int
merge_check(const char *path, const char *value, uint64_t stamp_ns, const char *origin)
{
	struct statefs_keyinfo ki;
	int ret;

	if (statefs_name_check(STATEFS_NAME_HOST, origin, NULL) < 0)
		return -ESRCH;
	ret = statefs_key_check(path, &ki);
	if (ret == 0)
		ret = statefs_value_check(&ki, value);
	if (ret == 0 && stamp_ns == 0)
		ret = -ERANGE;
	if (ret == 0 && ki.owner[0] && strcmp(ki.owner, origin) != 0 &&
	    strcmp(value, STATEFS_TOMBSTONE) != 0)
		ret = -EPERM;
	return ret;
}

/* Does the remote entry beat the local link @cur? */
static int
remote_wins(const struct statefs *sf, uint64_t stamp_ns, const char *value, int tomb,
	    const struct statefs_entry *cur, uint64_t now_ns)
{
	uint64_t local = cur->stamp_ns;

	if (statefs_stamp_is_future(sf, local, now_ns))
		local = 0;	/* garbage stamp: may be overwritten */
	if (stamp_ns != local)
		return stamp_ns > local;
	if (tomb != cur->tombstone)
		return tomb;
	return strcmp(value, cur->value) > 0;
}

/* The stamp to write: the remote one, or a local one if it is garbage. */
static int
merge_stamp(struct statefs *sf, uint64_t *stamp_ns, uint64_t now_ns)
{
	if (!statefs_stamp_is_future(sf, *stamp_ns, now_ns))
		return sf_clock_witness_locked(sf, *stamp_ns);
	sf->stats.future_bounded++;
	return sf_clock_tick_locked(sf, stamp_ns);
}

static int
merge_at(struct statefs *sf, int dfd, const char *base, const char *value,
	 uint64_t stamp_ns, uint64_t now_ns)
{
	int tomb = strcmp(value, STATEFS_TOMBSTONE) == 0;
	struct statefs_entry cur;
	int ret = sf_read_at(dfd, base, &cur);

	if (ret == -ENOENT && tomb) {
		sf->stats.tombstones_ignored++;
		return 0;
	}
	if (ret == -EEXIST && !tomb)
		return -EEXIST;	/* a logfile is replaced only by a tombstone */
	if (ret < 0 && ret != -ENOENT && ret != -EEXIST)
		return ret;
	if (ret == 0 && !remote_wins(sf, stamp_ns, value, tomb, &cur, now_ns)) {
		sf->stats.kept++;
		return 0;
	}
	ret = sf_write_at(dfd, base, value, stamp_ns);
	if (ret < 0)
		return ret;
	sf->stats.applied++;
	return 1;
}

static int
merge_locked(struct statefs *sf, const char *path, const char *value, uint64_t stamp_ns)
{
	int tomb = strcmp(value, STATEFS_TOMBSTONE) == 0, created, dfd, ret;
	uint64_t now_ns = statefs_realtime_ns();
	const char *base;

	ret = merge_stamp(sf, &stamp_ns, now_ns);
	if (ret < 0)
		return ret;
	dfd = sf_open_parent(sf, path, !tomb, &base, &created);
	if (dfd == -ENOENT && tomb) {
		sf->stats.tombstones_ignored++;
		return 0;
	}
	if (dfd < 0)
		return dfd == -ENOTDIR || dfd == -ELOOP ? -EEXIST : dfd;
	ret = merge_at(sf, dfd, base, value, stamp_ns, now_ns);
	close(dfd);
	if (ret <= 0)
		sf_remove_dirs(sf, path, created);
	return ret;
}

int
statefs_merge(struct statefs *sf, const char *path, const char *value,
	      uint64_t stamp_ns, const char *origin_host)
{
	int ret = merge_check(path, value, stamp_ns, origin_host);

	if (ret < 0)
		return merge_refuse(sf, ret);
	ret = sf_lock(sf);
	if (ret == 0) {
		ret = merge_locked(sf, path, value, stamp_ns);
		sf_unlock(sf);
	}
	return ret < 0 ? merge_refuse(sf, ret) : ret;
}
