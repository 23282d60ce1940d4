/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The change feed: inotify over the whole tree through libinotifytools,
 * which keeps the watch-descriptor-to-path table and the recursive
 * watches for us.  Writers rename finished links into place, so a key
 * change arrives as IN_MOVED_TO (or IN_CREATE, IN_DELETE) on its real name;
 * the temporary ".tmp." names and other private names are filtered out.
 *
 * libinotifytools keeps one global inotify instance and does not export
 * its descriptor, and its own reader waits in whole seconds only (0 and
 * negative timeouts both block).  A poll loop needs the descriptor and
 * millisecond waits, so we note the lowest free descriptor before
 * initialising (inotify_init takes it), confirm it through /proc/self/fd,
 * and read the events from it ourselves; the library still keeps the
 * watch-to-path table.
 *
 * The walk that watches a directory and those below it is ours, not the
 * library's recursive one: that one watches a directory only after
 * listing it, and gives up on the whole directory when an entry vanishes
 * between the listing and its lstat, which the ".tmp." links of a writer
 * busy in that directory do all the time.  A new resource directory, full
 * of a transaction's renames, then went unwatched, and the serving end
 * never again reported a change below it.  Ours watches first, then
 * lists: a subdirectory made after the watch arrives as an event, one
 * made before is in the listing, and an entry gone meanwhile is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <inotifytools/inotifytools.h>

#include "statefs/internal.h"

#define WATCH_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

struct statefs_watch {
	char root[PATH_MAX + 1];	/* absolute root with trailing '/' */
	size_t root_len;
	int fd;				/* the library's inotify descriptor */
	size_t len, off;		/* buf[off..len) holds unread events */
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
};

static int watch_active;	/* libinotifytools is process-global */

static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int
is_inotify_fd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:inotify") == 0;
}

/*
 * Watch directory @path (ending in '/') and every public directory below
 * it.  A directory that vanished counts as done; 0 or -errno.
 */
static int
watch_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int ret = 0;

	if (!inotifytools_watch_file(path, WATCH_EVENTS))
		return inotifytools_error() == ENOENT ? 0 :
		       inotifytools_error() ? -inotifytools_error() : -EIO;
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (ret == 0 && (de = readdir(dir))) {
		if (de->d_name[0] == '.')	/* ".", "..", private names */
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s/", path, de->d_name) >= (int)sizeof(sub)) {
			ret = -ENAMETOOLONG;
			break;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    (lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode)))
			continue;	/* gone meanwhile, or not a directory */
		ret = watch_tree(sub);
	}
	closedir(dir);
	return ret;
}

static int
watch_start(struct statefs_watch *w)
{
	int guess = lowest_free_fd(), ret;

	if (!inotifytools_initialize())
		return inotifytools_error() ? -inotifytools_error() : -ENOSYS;
	w->fd = guess >= 0 && is_inotify_fd(guess) ? guess : -1;
	if (w->fd < 0) {
		inotifytools_cleanup();
		return -EOPNOTSUPP;	/* descriptor not identified (no /proc?) */
	}
	ret = watch_tree(w->root);
	if (ret < 0)
		inotifytools_cleanup();
	return ret;
}

int
statefs_watch_open(struct statefs *sf, struct statefs_watch **wp)
{
	struct statefs_watch *w;
	char real[PATH_MAX];
	int ret;

	if (watch_active)
		return -EBUSY;
	if (!realpath(sf->root, real))
		return -errno;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	snprintf(w->root, sizeof(w->root), "%s/", strcmp(real, "/") ? real : "");
	w->root_len = strlen(w->root);
	ret = watch_start(w);
	if (ret < 0) {
		free(w);
		return ret;
	}
	watch_active = 1;
	*wp = w;
	return 0;
}

void
statefs_watch_close(struct statefs_watch *w)
{
	if (!w)
		return;
	inotifytools_cleanup();
	watch_active = 0;
	free(w);
}

int
statefs_watch_fd(const struct statefs_watch *w)
{
	return w->fd;
}

static int
copy_path(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 1;
}

/* Turn one event into a reported path: 1 reported, 0 filtered. */
static int
watch_event(struct statefs_watch *w, struct inotify_event *ev, char *path, size_t size)
{
	char full[PATH_MAX * 2];
	const char *dir;

	if (ev->mask & IN_Q_OVERFLOW)
		return copy_path(path, size, "");
	if (ev->len == 0 || ev->name[0] == '.')
		return 0;
	dir = inotifytools_filename_from_wd(ev->wd);
	if (!dir || strncmp(dir, w->root, w->root_len) != 0)
		return 0;
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
		snprintf(full, sizeof(full), "%s%s/", dir, ev->name);
		if (watch_tree(full) < 0)	/* unwatched: only a full pull sees it */
			return copy_path(path, size, "");
	}
	snprintf(full, sizeof(full), "%s%s", dir, ev->name);
	return copy_path(path, size, full + w->root_len);
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* Next event from the buffer, refilled from the descriptor; or NULL. */
static struct inotify_event *
next_raw(struct statefs_watch *w, long timeout_ms)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	struct inotify_event *ev;
	ssize_t n;

	if (w->off >= w->len) {
		if (poll(&pfd, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms) <= 0)
			return NULL;
		n = read(w->fd, w->buf, sizeof(w->buf));
		if (n <= 0)
			return NULL;
		w->len = (size_t)n;
		w->off = 0;
	}
	ev = (struct inotify_event *)(w->buf + w->off);
	w->off += sizeof(*ev) + ev->len;
	return ev;
}

int
statefs_watch_next(struct statefs_watch *w, int timeout_ms, char *path, size_t size)
{
	struct inotify_event *ev;
	struct timespec deadline;
	long left = timeout_ms;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		ev = next_raw(w, left);
		if (!ev)
			return 0;
		ret = watch_event(w, ev, path, size);
		if (ret != 0)
			return ret;
		if (timeout_ms >= 0)
			left = ms_left(&deadline);
	}
}
