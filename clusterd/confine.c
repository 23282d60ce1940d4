/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Confinement of the serving end (docs/protocol.md, "Least privilege").
 * `clusterd --serve` runs as root because sshd runs forced commands as
 * the login user, and the tree in /mars is root's; every check on what a
 * peer asks is our own code.  So before the first frame is read the
 * process gives up what no check should depend on:
 *
 *  - no_new_privs: nothing it executes can gain privileges;
 *  - Landlock: read-write beneath the state tree, read-only on this node's
 *    own data disks, read-write on the module's control device, nothing
 *    else: no /etc, no other device, no TCP (ABI 4), no abstract socket
 *    or signal outside itself (ABI 6);
 *  - every capability: the tree's files are root's and uid 0 reaches
 *    them as their owner, so CAP_DAC_OVERRIDE and the rest are not needed.
 *
 * Landlock is raw syscalls: glibc has no wrappers, and the header the
 * build sees may be older than the kernel that runs it, so the access
 * bits of later ABIs are written here and masked by the running ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/landlock.h>

#include "clusterd/confine.h"

/* Access rights by the ABI that introduced them (landlock(7)). */
#define LL_FS_ABI1	((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER	(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE	(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV	(1ULL << 15)		/* ABI 5 */
#define LL_NET_TCP	((1ULL << 0) | (1ULL << 1))	/* ABI 4: bind, connect */
#define LL_SCOPE_ALL	((1ULL << 0) | (1ULL << 1))	/* ABI 6: abstract unix, signal */

/* What statefs does beneath the root: read, create dirs, regular files
 * (clock, counters) and symlinks (keys), rename within one directory
 * (so no REFER), unlink. */
#define LL_TREE_RIGHTS	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
			 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
			 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM | \
			 LL_FS_TRUNCATE)

/* struct landlock_ruleset_attr as of ABI 6; its size tells the kernel
 * which fields we mean, so older kernels get the prefix they know. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static int
add_path(const char **paths, size_t *n, const char *path)
{
	if (*n >= CONFINE_FILES_MAX)
		return -E2BIG;
	paths[(*n)++] = path;
	return 0;
}

int
confine_add_ro(struct confine *c, const char *path)
{
	return add_path(c->ro_files, &c->n_ro, path);
}

int
confine_add_rw(struct confine *c, const char *path)
{
	return add_path(c->rw_files, &c->n_rw, path);
}

int
confine_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t
fs_rights(int abi)
{
	uint64_t r = LL_FS_ABI1;

	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

/* One path_beneath rule; a path that does not exist is left out. */
static int
add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access & handled };
	int ret = 0;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		ret = -errno;
	close(pb.parent_fd);
	return ret;
}

static int
add_rules(int ruleset, const struct confine *c, uint64_t handled)
{
	const uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_IOCTL_DEV;
	const uint64_t rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE;
	int ret = add_rule(ruleset, c->tree_dir, LL_TREE_RIGHTS, handled);

	for (size_t i = 0; ret == 0 && i < c->n_ro; i++)
		ret = add_rule(ruleset, c->ro_files[i], ro, handled);
	for (size_t i = 0; ret == 0 && i < c->n_rw; i++)
		ret = add_rule(ruleset, c->rw_files[i], rw, handled);
	return ret;
}

/* Landlock for @c: 1, 0 when the kernel has none, or -errno. */
static int
restrict_files(const struct confine *c, int abi)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
	size_t size = sizeof(attr.handled_access_fs);
	int ruleset, ret;

	if (abi <= 0)
		return 0;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_TCP;	/* and no rule: no TCP at all */
		size += sizeof(attr.handled_access_net);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ALL;
		size += sizeof(attr.scoped);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;
	ret = add_rules(ruleset, c, attr.handled_access_fs);
	if (ret == 0)
		ret = syscall(SYS_landlock_restrict_self, ruleset, 0) < 0 ? -errno : 1;
	close(ruleset);
	return ret;
}

/* Every capability, in every set; the bounding set only where we may
 * (CAP_SETPCAP): without it, no_new_privs keeps exec from gaining any. */
static int
drop_capabilities(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			break;		/* EINVAL: past the kernel's last capability */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

int
confine_self(const struct confine *c, int *landlock_abi)
{
	int abi, ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	abi = confine_landlock_abi();
	ret = restrict_files(c, abi);
	if (ret < 0)
		return ret;
	*landlock_abi = ret ? abi : 0;
	return drop_capabilities();
}
