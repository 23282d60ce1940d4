/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clusterd/confine.c in a child process (confinement cannot be undone):
 * what statefs does in the tree still works, the allowed disk reads but
 * does not write, everything else is refused with EACCES, and the child
 * has no_new_privs and no capability.  Once as the running kernel, then
 * as each older Landlock ABI (Debian 12's 6.1 has ABI 2): statefs's
 * moves must work under every one.  The file checks need Landlock and
 * are skipped, saying so, on a kernel without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "common/confine.h"
#include "tap.h"

/* What the confined child saw: 0 or an errno per step. */
struct seen {
	int apply;
	int abi;
	int nnp;
	uint32_t cap_eff, cap_prm;
	int mkdir_tree, create_tree, symlink_tree, rename_tree, unlink_tree;
	int read_disk, write_disk, read_outside, read_etc, missing_allowed;
};

static char dir[64];

static int
err_of(int ret)
{
	return ret < 0 ? errno : 0;
}

static int
open_err(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void
path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* statefs's moves, beneath the tree: a directory, a file, a key written
 * as a temporary link renamed in place, a removal. */
static void
tree_steps(struct seen *s)
{
	char p[128], q[128];
	int fd;

	path_in(p, sizeof(p), "tree/resource-r0");
	s->mkdir_tree = err_of(mkdir(p, 0700));
	path_in(p, sizeof(p), "tree/.clock");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	s->create_tree = fd < 0 ? errno : (close(fd), 0);
	path_in(p, sizeof(p), "tree/resource-r0/.tmp-size");
	s->symlink_tree = err_of(symlink("65536", p));
	path_in(q, sizeof(q), "tree/resource-r0/size");
	s->rename_tree = err_of(rename(p, q));
	s->unlink_tree = err_of(unlink(q));
}

static void
child(int out, int abi)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	struct seen s = { 0 };
	struct confine cf;
	char p[128];

	s.apply = -confine_begin_abi(&cf, abi);
	path_in(p, sizeof(p), "tree");
	if (!s.apply)
		s.apply = -confine_allow_tree(&cf, p);
	path_in(p, sizeof(p), "disk");
	if (!s.apply)
		s.apply = -confine_allow_read(&cf, p);
	path_in(p, sizeof(p), "no-such-disk");
	s.missing_allowed = -confine_allow_read(&cf, p);
	if (!s.apply)
		s.apply = -confine_apply(&cf);
	confine_release(&cf);
	s.abi = cf.abi;
	s.nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) == 0) {
		s.cap_eff = d[0].effective | d[1].effective;
		s.cap_prm = d[0].permitted | d[1].permitted;
	}
	tree_steps(&s);
	path_in(p, sizeof(p), "disk");
	s.read_disk = open_err(p, O_RDONLY);
	s.write_disk = open_err(p, O_WRONLY);
	path_in(p, sizeof(p), "outside");
	s.read_outside = open_err(p, O_RDONLY);
	s.read_etc = open_err("/etc/passwd", O_RDONLY);
	_exit(write(out, &s, sizeof(s)) == (ssize_t)sizeof(s) ? 0 : 1);
}

static int
make_files(void)
{
	char p[128];
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/test_confine.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	path_in(p, sizeof(p), "tree");
	if (mkdir(p, 0700) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		path_in(p, sizeof(p), i ? "outside" : "disk");
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, "data", 4) != 4)
			return -1;
		close(fd);
	}
	return 0;
}

static void
remove_files(void)
{
	static const char *const names[] = { "tree/resource-r0/size",
		"tree/resource-r0/.tmp-size", "tree/.clock", "disk", "outside" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(p, sizeof(p), names[i]);
		unlink(p);
	}
	path_in(p, sizeof(p), "tree/resource-r0");
	rmdir(p);
	path_in(p, sizeof(p), "tree");
	rmdir(p);
	rmdir(dir);
}

static void
report(const struct seen *s)
{
	const char *skip = s->abi ? "" : " # SKIP kernel without Landlock";

	tap_diag("as Landlock ABI %d", s->abi);
	tap_ok(s->apply == 0, "confinement applied (%s)", strerror(s->apply));
	tap_ok(s->missing_allowed == 0, "a disk that does not exist is left out, no error");
	tap_ok(s->nnp == 1, "no_new_privs set");
	tap_ok(s->cap_eff == 0 && s->cap_prm == 0, "no capability left (eff %x, prm %x)",
	       s->cap_eff, s->cap_prm);
	tap_ok(!s->mkdir_tree && !s->create_tree && !s->symlink_tree && !s->rename_tree &&
	       !s->unlink_tree, "in the tree: mkdir %d, create %d, symlink %d, rename %d, "
	       "unlink %d", s->mkdir_tree, s->create_tree, s->symlink_tree, s->rename_tree,
	       s->unlink_tree);
	tap_ok(s->read_disk == 0, "the allowed disk reads (%s)", strerror(s->read_disk));
	tap_ok(!s->abi || s->write_disk == EACCES, "the allowed disk does not write: %s%s",
	       strerror(s->write_disk), skip);
	tap_ok(!s->abi || s->read_outside == EACCES, "a file beside the tree: %s%s",
	       strerror(s->read_outside), skip);
	tap_ok(!s->abi || s->read_etc == EACCES, "/etc/passwd: %s%s", strerror(s->read_etc),
	       skip);
}

/* Files made afresh, one confined child, its report, files removed. */
static void
run_child(int abi)
{
	struct seen s = { .apply = -1 };
	int pfd[2], status = 0;
	pid_t pid;

	if (!tap_ok(make_files() == 0 && pipe(pfd) == 0, "scratch files in /tmp"))
		return;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], abi);
	}
	close(pfd[1]);
	tap_ok(pid > 0 && read(pfd[0], &s, sizeof(s)) == (ssize_t)sizeof(s) &&
	       waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "the confined child reported");
	close(pfd[0]);
	report(&s);
	remove_files();
}

int
main(void)
{
	int abi = confine_landlock_abi();

	tap_diag("the kernel's Landlock ABI: %d", abi);
	run_child(abi);
	for (int older = abi - 1; older >= 1; older--)
		run_child(older);
	return tap_done();
}
