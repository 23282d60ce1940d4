/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files of a resource directory (statefs/files.c): only a resource
 * name and one component reach a path, links are never followed, and
 * the operations do what they say.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "statefs_test.h"

static void
test_names(struct statefs *sf)
{
	struct stat st;

	tap_ok(statefs_file_open(sf, "r", "../uuid", O_RDONLY, 0) == -EINVAL &&
	       statefs_file_open(sf, "r", "a/b", O_RDONLY, 0) == -EINVAL &&
	       statefs_file_open(sf, "r", "..", O_RDONLY, 0) == -EINVAL &&
	       statefs_file_open(sf, "r", "", O_RDONLY, 0) == -EINVAL,
	       "a file name is one component");
	tap_ok(statefs_file_stat(sf, "../r", "x", &st) == -EINVAL &&
	       statefs_file_unlink(sf, "r/..", "x") == -EINVAL &&
	       statefs_resource_dir(sf, "..", 1) == -EINVAL,
	       "a resource name is a resource name");
}

static void
test_ops(struct statefs *sf)
{
	char path[4400];
	struct stat st;
	int fd, dfd;

	dfd = statefs_resource_dir(sf, "r", 1);
	tap_ok(dfd >= 0, "the resource directory is made and opened");
	if (dfd >= 0)
		close(dfd);
	fd = statefs_file_open(sf, "r", "log-000000001-alpha", O_WRONLY | O_CREAT | O_EXCL, 0600);
	tap_ok(fd >= 0 && write(fd, "abcdef", 6) == 6, "a logfile is created and written");
	if (fd >= 0)
		close(fd);
	tap_ok(statefs_file_open(sf, "r", "log-000000001-alpha", O_WRONLY | O_CREAT | O_EXCL,
				 0600) == -EEXIST, "O_EXCL holds");
	tap_ok(statefs_file_truncate(sf, "r", "log-000000001-alpha", 2) == 0 &&
	       statefs_file_stat(sf, "r", "log-000000001-alpha", &st) == 0 && st.st_size == 2,
	       "truncated to 2 bytes");
	tap_ok(statefs_file_rename(sf, "r", "log-000000001-alpha", ".x") == 0 &&
	       statefs_file_stat(sf, "r", ".x", &st) == 0 &&
	       statefs_file_stat(sf, "r", "log-000000001-alpha", &st) == -ENOENT,
	       "renamed within the directory");
	snprintf(path, sizeof(path), "%s/resource-r/link", sft_root);
	tap_ok(symlink("/etc/passwd", path) == 0 &&
	       statefs_file_open(sf, "r", "link", O_RDONLY, 0) == -ELOOP &&
	       statefs_file_stat(sf, "r", "link", &st) == 0 && S_ISLNK(st.st_mode),
	       "a link is never followed");
	snprintf(path, sizeof(path), "%s/resource-evil", sft_root);
	tap_ok(symlink("/etc", path) == 0 &&
	       statefs_file_open(sf, "evil", "passwd", O_RDONLY, 0) < 0 &&
	       statefs_file_stat(sf, "evil", "passwd", &st) < 0,
	       "nor a resource directory that is a link");
	tap_ok(statefs_file_unlink(sf, "r", ".x") == 0 &&
	       statefs_file_unlink(sf, "r", ".x") == -ENOENT, "unlinked, once");
}

static void
test_paths(void)
{
	char buf[32];

	tap_ok(statefs_resource_path("/mars", "r0", NULL, buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "/mars/resource-r0") == 0, "the resource directory's path");
	tap_ok(statefs_resource_path("/mars", "r0", ".engine-lock", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "/mars/resource-r0/.engine-lock") == 0, "a file's path");
	tap_ok(statefs_resource_path("/mars", "../r", NULL, buf, sizeof(buf)) == -EINVAL &&
	       statefs_resource_path("/mars", "r0", "../uuid", buf, sizeof(buf)) == -EINVAL,
	       "paths take checked names only");
	tap_ok(statefs_resource_path("/a/root/long/enough/to/overflow", "r0", NULL, buf,
				     sizeof(buf)) == -ENAMETOOLONG, "a path that does not fit");
	tap_ok(statefs_resource_key(buf, sizeof(buf), "r0") == 0 &&
	       strcmp(buf, "resource-r0") == 0, "the resource directory's key");
	tap_ok(statefs_resource_keyf(buf, sizeof(buf), "r0", "replay-%s", "beta") == 0 &&
	       strcmp(buf, "resource-r0/replay-beta") == 0, "a key below it");
	tap_ok(statefs_resource_keyf(buf, 12, "r0", "size") == -ENAMETOOLONG &&
	       statefs_resource_keyf(buf, 19, "r0", "%s", "primary") == -ENAMETOOLONG &&
	       statefs_resource_keyf(buf, 20, "r0", "%s", "primary") == 0,
	       "keys that do not fit, and one that just does");
}

int
main(void)
{
	struct statefs *sf = NULL;

	sft_new_tree(&sf, "alpha");
	test_names(sf);
	test_ops(sf);
	test_paths();
	sft_done_tree(&sf);
	return tap_done();
}
