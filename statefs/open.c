/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening a tree: who we are (host), where the tree is (root), and whether
 * the root really is a state tree of our format.  The marker is the
 * node-private link <root>/.format -> "1"; a root without it is either
 * fresh (empty, perhaps with lost+found) or somebody else's directory,
 * and the two get different errors so that the caller can name the fix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "statefs/internal.h"

#define FORMAT_VALUE	"1"	/* STATEFS_TREE_FORMAT as text */
/* Probe stamp with every nanosecond digit set, to catch coarse file systems. */
#define PROBE_NS	123456789ULL

const char *
statefs_default_root(void)
{
	const char *env = getenv("MARS_ROOT");

	return env && env[0] ? env : STATEFS_DEFAULT_ROOT;
}

int
statefs_default_host(char *buf, size_t size)
{
	const char *env = getenv("MARS_HOST");
	struct utsname u;

	if (!env || !env[0]) {
		if (uname(&u) < 0)
			return -errno;
		env = u.nodename;
	}
	if (strlen(env) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, env);
	return 0;
}

const char *
statefs_open_str(int err)
{
	switch (-err) {
	case ENOENT:		return "no such directory";
	case ENOTDIR:		return "not a directory";
	case ENODATA:		return "no cluster created here yet";
	case EMEDIUMTYPE:	return "not a MARS state tree";
	case EPROTONOSUPPORT:	return "state tree of an unsupported format version";
	case EOPNOTSUPP:	return "file system does not keep nanosecond link times";
	case ESRCH:		return "invalid host name";
	default:		return strerror(-err);
	}
}

/* 1 if the directory holds nothing but lost+found (and a stale clock or
 * counters file). */
static int
dir_is_empty(int dfd)
{
	char **names;
	size_t i, n;
	int ret = sf_read_names(dfd, &names, &n), empty = 1;

	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "lost+found") && strcmp(names[i], SF_CLOCK_FILE) &&
		    strcmp(names[i], SF_COUNTERS_FILE))
			empty = 0;
	sf_names_free(names, n);
	return empty;
}

static int
check_format(int dfd)
{
	char buf[64];
	ssize_t n = readlinkat(dfd, SF_FORMAT_FILE, buf, sizeof(buf) - 1);
	int empty;

	if (n < 0 && errno != ENOENT && errno != EINVAL)
		return -errno;
	if (n < 0) {
		empty = dir_is_empty(dfd);
		if (empty < 0)
			return empty;
		return empty ? -ENODATA : -EMEDIUMTYPE;
	}
	buf[n] = '\0';
	return strcmp(buf, FORMAT_VALUE) == 0 ? 0 : -EPROTONOSUPPORT;
}

int
statefs_open(struct statefs **sfp, const char *root, const char *host, unsigned flags)
{
	struct statefs *sf;
	int ret;

	*sfp = NULL;
	if (statefs_name_check(STATEFS_NAME_HOST, host, NULL) < 0)
		return -ESRCH;
	if (strlen(root) >= sizeof(sf->root) || root[0] == '\0')
		return -ENAMETOOLONG;
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	sf->lock_fd = -1;
	sf->future_bound_ns = STATEFS_FUTURE_BOUND_NS;
	strcpy(sf->root, root);
	strcpy(sf->host, host);
	sf->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = sf->root_fd < 0 ? -errno : 0;
	if (ret == 0 && !(flags & STATEFS_OPEN_ANY))
		ret = check_format(sf->root_fd);
	if (ret < 0)
		statefs_close(&sf);
	*sfp = sf;
	return ret;
}

void
statefs_close(struct statefs **sfp)
{
	struct statefs *sf = *sfp;

	if (!sf)
		return;
	if (sf->lock_fd >= 0)
		close(sf->lock_fd);
	if (sf->root_fd >= 0)
		close(sf->root_fd);
	free(sf);
	*sfp = NULL;
}

const char *
statefs_host(const struct statefs *sf)
{
	return sf->host;
}

const char *
statefs_root(const struct statefs *sf)
{
	return sf->root;
}

struct statefs_stats *
statefs_stats(struct statefs *sf)
{
	return &sf->stats;
}

uint64_t
statefs_future_bound_ns(const struct statefs *sf)
{
	return sf->future_bound_ns;
}

void
statefs_set_future_bound_ns(struct statefs *sf, uint64_t ns)
{
	sf->future_bound_ns = ns;
}

int
statefs_root_is_empty(struct statefs *sf)
{
	return dir_is_empty(sf->root_fd);
}

static int
probe_stamps(struct statefs *sf, uint64_t stamp_ns)
{
	struct statefs_entry e;
	int ret = sf_write_at(sf->root_fd, SF_FORMAT_FILE, FORMAT_VALUE, stamp_ns);

	if (ret == 0)
		ret = sf_read_at(sf->root_fd, SF_FORMAT_FILE, &e);
	if (ret == 0 && e.stamp_ns != stamp_ns)
		ret = -EOPNOTSUPP;
	return ret;
}

int
statefs_mark(struct statefs *sf)
{
	uint64_t stamp;
	int ret = sf_lock(sf);

	if (ret < 0)
		return ret;
	ret = sf_clock_tick_locked(sf, &stamp);
	if (ret == 0 && fchmod(sf->root_fd, 0700) < 0)
		ret = -errno;
	if (ret == 0)
		ret = probe_stamps(sf, stamp - stamp % STATEFS_NS_PER_S + PROBE_NS);
	if (ret == 0)
		ret = probe_stamps(sf, stamp);
	sf_unlock(sf);
	if (ret < 0)
		statefs_unmark(sf);
	return ret;
}

void
statefs_unmark(struct statefs *sf)
{
	unlinkat(sf->root_fd, SF_FORMAT_FILE, 0);
	unlinkat(sf->root_fd, SF_CLOCK_FILE, 0);
	if (sf->lock_fd >= 0)
		close(sf->lock_fd);
	sf->lock_fd = -1;
	sf->lock_depth = 0;
}
