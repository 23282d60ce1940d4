// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fuzz targets' scratch tree (see fuzz_tree.h).  A crash or an abort
 * leaves the sandbox behind under /tmp on purpose: it is the evidence.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_tree.h"

#define EVIL_NAME	"resource-evil"	/* planted link to the decoy */
#define LOG_RES		"r"
#define LOG_DIR		"resource-" LOG_RES	/* holds a planted logfile and disk */
#define LOG_NAME	"log-000000001-alpha"

static char *rm_root;	/* the sandbox, for the atexit handler */
static const struct fuzz_tree *check_ft;	/* nftw has no argument */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
rm_sandbox(void)
{
	if (rm_root)
		rm_tree(rm_root);
}

static void
die(const char *what, const char *path, int err)
{
	fprintf(stderr, "fuzz_tree: %s '%s': %s\n", what, path, strerror(err));
	abort();
}

/*
 * $MARS_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR or /tmp.  Every input
 * creates and removes a few inodes, which tmpfs does many times faster
 * than a disk file system (ext4: 17 ms an input against 1).
 */
static const char *
scratch_dir(void)
{
	const char *dir = getenv("MARS_FUZZ_TMPDIR");

	if (dir && dir[0])
		return dir;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	dir = getenv("TMPDIR");
	return dir && dir[0] ? dir : "/tmp";
}

/* The resource's disk: FUZZ_TREE_DISK_BYTES of a pattern, for full sync. */
static void
make_disk(struct fuzz_tree *ft)
{
	uint8_t buf[4096];
	int fd = open(ft->disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	for (size_t off = 0; fd >= 0 && off < FUZZ_TREE_DISK_BYTES; off += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			die("cannot write", ft->disk, errno);
	if (fd < 0)
		die("cannot create", ft->disk, errno);
	close(fd);
}

void
fuzz_tree_init(struct fuzz_tree *ft)
{
	int ret;

	snprintf(ft->sandbox, sizeof(ft->sandbox), "%s/mars-fuzz-XXXXXX", scratch_dir());
	if (!mkdtemp(ft->sandbox))
		die("cannot create", ft->sandbox, errno);
	rm_root = ft->sandbox;
	atexit(rm_sandbox);
	snprintf(ft->root, sizeof(ft->root), "%s/tree", ft->sandbox);
	snprintf(ft->outside, sizeof(ft->outside), "%s/outside", ft->sandbox);
	snprintf(ft->disk, sizeof(ft->disk), "%s/disk", ft->sandbox);
	if (mkdir(ft->root, 0700) < 0 || mkdir(ft->outside, 0700) < 0)
		die("cannot create", ft->root, errno);
	make_disk(ft);
	ret = statefs_open(&ft->sf, ft->root, FUZZ_TREE_HOST, STATEFS_OPEN_ANY);
	if (ret == 0)
		ret = statefs_mark(ft->sf);
	if (ret < 0)
		die("cannot make a tree in", ft->root, -ret);
	fuzz_tree_reset(ft);
}

/* A logfile is a regular file in the tree: only a tombstone replaces it.
 * Its 4.75 KiB repeat one line, so that a fetch has something to compress. */
static void
plant_logfile(struct fuzz_tree *ft)
{
	static const char line[] = "not a real logfile\n";
	int dfd, fd, i;

	dfd = statefs_resource_dir(ft->sf, LOG_RES, 1);
	if (dfd < 0)
		die("cannot create", LOG_DIR, -dfd);
	fd = openat(dfd, LOG_NAME, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	for (i = 0; fd >= 0 && i < 256; i++)
		if (write(fd, line, sizeof(line) - 1) != sizeof(line) - 1)
			break;
	if (fd < 0 || i < 256)
		die("cannot create", LOG_NAME, errno);
	close(fd);
	close(dfd);
}

void
fuzz_tree_reset(struct fuzz_tree *ft)
{
	char path[8192];
	struct statefs_txn t;
	struct dirent *de;
	DIR *d = opendir(ft->root);
	int ret;

	if (!d)
		die("cannot read", ft->root, errno);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", ft->root, de->d_name);
		rm_tree(path);
	}
	closedir(d);
	statefs_txn_init(&t, ft->sf, 0);
	statefs_txn_set(&t, "uuid", FUZZ_TREE_UUID);
	statefs_txn_set(&t, LOG_DIR "/size", FUZZ_TREE_DISK_SIZE);
	statefs_txn_set(&t, FUZZ_TREE_DATA_KEY, ft->disk);
	ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	if (ret < 0)
		die("cannot write the uuid in", ft->root, -ret);
	snprintf(path, sizeof(path), "%s/%s", ft->root, EVIL_NAME);
	if (symlink(ft->outside, path) < 0)
		die("cannot plant a link in", ft->root, errno);
	plant_logfile(ft);
}

/* Is @rel (relative to the tree root) allowed to exist as @flag? */
static int
entry_ok(const char *rel, int flag)
{
	switch (flag) {
	case FTW_D:
	case FTW_DP:
		return 1;
	case FTW_SL:
	case FTW_SLN:
		return strcmp(rel, EVIL_NAME) == 0 || strcmp(rel, ".format") == 0 ||
		       statefs_key_check(rel, NULL) == 0;
	case FTW_F:
		return strcmp(rel, ".clock") == 0 || strcmp(rel, ".counters") == 0 ||
		       strcmp(rel, LOG_DIR "/" LOG_NAME) == 0;
	default:
		return 0;
	}
}

static int
check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const struct fuzz_tree *ft = check_ft;
	size_t rlen = strlen(ft->root);

	if (strcmp(path, ft->sandbox) == 0 || strcmp(path, ft->root) == 0 ||
	    strcmp(path, ft->outside) == 0 || strcmp(path, ft->disk) == 0)
		return 0;
	if (strncmp(path, ft->root, rlen) != 0 || path[rlen] != '/') {
		fprintf(stderr, "fuzz_tree: '%s' appeared outside the tree\n", path);
		abort();
	}
	if (!entry_ok(path + rlen + 1, flag)) {
		fprintf(stderr, "fuzz_tree: '%s' (nftw type %d) is not a key\n", path, flag);
		abort();
	}
	return 0;
}

void
fuzz_tree_check(struct fuzz_tree *ft)
{
	check_ft = ft;
	if (nftw(ft->sandbox, check_one, 16, FTW_PHYS) < 0)
		die("cannot walk", ft->sandbox, errno);
}
