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

#include "common/confine.h"

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

int
confine_begin(struct confine *c)
{
	return confine_begin_abi(c, confine_landlock_abi());
}

int
confine_begin_abi(struct confine *c, int abi)
{
	struct ll_ruleset_attr attr = { 0 };
	size_t size = sizeof(attr.handled_access_fs);

	c->ruleset = -1;
	c->abi = abi;
	c->handled_fs = fs_rights(c->abi);
	if (c->abi <= 0)
		return 0;
	attr.handled_access_fs = c->handled_fs;
	if (c->abi >= 4) {
		attr.handled_access_net = LL_NET_TCP;	/* and no rule: no TCP at all */
		size += sizeof(attr.handled_access_net);
	}
	if (c->abi >= 6) {
		attr.scoped = LL_SCOPE_ALL;
		size += sizeof(attr.scoped);
	}
	c->ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (c->ruleset >= 0)
		return 0;
	if (errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	c->abi = 0;
	return 0;
}

void
confine_release(struct confine *c)
{
	if (c->ruleset >= 0)
		close(c->ruleset);
	c->ruleset = -1;
}

/* One path_beneath rule.  A path that cannot be resolved now (missing,
 * a dangling link) is left out: it stays closed to this process. */
static int
allow(struct confine *c, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access & c->handled_fs };
	int ret = 0;

	if (c->ruleset < 0)
		return 0;
	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return 0;
	if (syscall(SYS_landlock_add_rule, c->ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		ret = -errno;
	close(pb.parent_fd);
	return ret;
}

int
confine_allow_tree(struct confine *c, const char *path)
{
	return allow(c, path, LL_TREE_RIGHTS);
}

int
confine_allow_read_tree(struct confine *c, const char *path)
{
	return allow(c, path, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
}

/* struct landlock_net_port_attr (ABI 4); the header here may predate it. */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

int
confine_allow_connect(struct confine *c, uint16_t port)
{
	struct ll_net_port_attr np = { .allowed_access = 1ULL << 1, .port = port };

	if (c->ruleset < 0 || c->abi < 4)
		return 0;
	/* 2: LANDLOCK_RULE_NET_PORT */
	return syscall(SYS_landlock_add_rule, c->ruleset, 2, &np, 0) < 0 ? -errno : 0;
}

int
confine_allow_read(struct confine *c, const char *path)
{
	return allow(c, path, LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_IOCTL_DEV);
}

int
confine_allow_device(struct confine *c, const char *path)
{
	return allow(c, path, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		     LL_FS_IOCTL_DEV);
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
confine_apply(struct confine *c)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (c->ruleset >= 0 && syscall(SYS_landlock_restrict_self, c->ruleset, 0) < 0)
		return -errno;
	confine_release(c);
	return drop_capabilities();
}
