/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who holds a file open: a scan of /proc/<pid>/fd, as fuser does.  The
 * NBD front end needs it because nothing else shows a plain open of
 * /dev/nbdN to userspace: the NBD protocol carries no open or close, the
 * block layer's open count is not exported, and only exclusive claims
 * (mounts, stacked devices) show in mountinfo and holders/.  A process
 * sees here only the processes of its own PID namespace, and only with
 * the right to read their fd tables (root, as the NBD front end runs).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/internal.h"

#define ENG_OPENERS_FDS_MAX	(1u << 20)	/* descriptors looked at, per scan */

/* Does the file @st is the stat of match @want?  Devices by number (any
 * node of the device counts), other files by inode. */
static int
eng_openers_match(const struct stat *st, const struct eng_openers_want *want)
{
	unsigned int i;

	if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode)) {
		for (i = 0; i < want->nr_devs; i++)
			if ((st->st_mode & S_IFMT) == want->dev_type && st->st_rdev == want->devs[i])
				return 1;
		return 0;
	}
	return want->ino && st->st_dev == want->ino_dev && st->st_ino == want->ino;
}

/* Count @pid's descriptors on @want into *@count; *@budget bounds the total. */
static int
eng_openers_pid(const char *pid, const struct eng_openers_want *want, unsigned int *count,
		unsigned int *budget)
{
	char dirpath[64], path[64 + 256];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int ret = 0;

	snprintf(dirpath, sizeof(dirpath), "/proc/%s/fd", pid);
	dir = opendir(dirpath);
	if (!dir)
		return 0;		/* gone, or not ours to read */
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (!*budget) {
			ret = -E2BIG;
			break;
		}
		(*budget)--;
		snprintf(path, sizeof(path), "%s/%s", dirpath, d->d_name);
		if (stat(path, &st) == 0 && eng_openers_match(&st, want))
			(*count)++;
	}
	closedir(dir);
	return ret;
}

int
eng_openers_count(const struct eng_openers_want *want, pid_t skip)
{
	unsigned int count = 0, budget = ENG_OPENERS_FDS_MAX;
	char self[24];
	struct dirent *d;
	DIR *proc;
	int ret = 0;

	proc = opendir("/proc");
	if (!proc)
		return -errno;
	snprintf(self, sizeof(self), "%d", (int)skip);
	while (!ret && (d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]) || !strcmp(d->d_name, self))
			continue;
		ret = eng_openers_pid(d->d_name, want, &count, &budget);
	}
	closedir(proc);
	return ret ? ret : (int)count;
}
