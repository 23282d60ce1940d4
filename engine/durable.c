/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The durable end of the log a primary writes, for its serving end.
 *
 * Why: a secondary must never fetch a record that a power loss on the
 * primary could take away.  Had it replayed one, the primary, recovered
 * from its durable log without it, and the secondary would differ for
 * good (or need a full sync).  So clusterd's serving end sends a logfile
 * the local data path is writing only up to the durable end of it, and
 * asks here where that is:
 *  - mars.ko: STATUS of the resource (logfile, synced_pos) through the
 *    control device, while the module is primary;
 *  - the userspace engine: the durable mark, resource-RES/.log-durable,
 *    which the engine rewrites in place after every log sync (one pwrite,
 *    no fsync: only live readers use it, and after a crash the engine
 *    writes it anew before it logs again).
 * A later logfile of the same origin than the one marked is not durable
 * at all yet (the engine marks a new logfile only once the rotation
 * synced the old one).  Any other logfile is durable as it is: finished
 * logfiles were synced before the next one began (by the engine and by
 * the module alike), and after a crash a logfile holds what recovery
 * applied.  Entering emergency mode moves the mark on as well.
 *
 * The mark (docs/engine-interface.md, "The durable mark", version 1) is
 * one line padded with spaces to MARS_DURABLE_MARK_BYTES:
 *   "v1 LOGFILE OFFSET\n"
 * read twice and used only when both reads agree (a reader may meet the
 * writer's pwrite half done).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/parse.h"
#include "engine/engine.h"
#include "engine/names.h"
#include "mars/ctl.h"
#include "statefs/statefs.h"

#define MARS_DURABLE_MARK_BYTES	192
#define DURABLE_MARK_FILE	".log-durable"	/* in the resource directory */

/* The mark's line for @logfile, @off: MARS_DURABLE_MARK_BYTES in @buf. */
static int
durable_mark_format(char *buf, const char *logfile, uint64_t off)
{
	int n = snprintf(buf, MARS_DURABLE_MARK_BYTES, "v1 %s %" PRIu64 "\n", logfile, off);

	if (n < 0 || n >= MARS_DURABLE_MARK_BYTES || strchr(logfile, ' ') || !logfile[0])
		return -EINVAL;
	memset(buf + n, ' ', MARS_DURABLE_MARK_BYTES - (size_t)n);
	return 0;
}

/* Parse one mark of exactly MARS_DURABLE_MARK_BYTES; -EINVAL if malformed. */
static int
durable_mark_parse(const char *buf, char *logfile, size_t size, uint64_t *off)
{
	const char *name = buf + 3, *sp, *nl;
	char num[24];
	size_t i;

	if (memcmp(buf, "v1 ", 3))
		return -EINVAL;
	nl = memchr(buf, '\n', MARS_DURABLE_MARK_BYTES);
	sp = nl ? memchr(name, ' ', (size_t)(nl - name)) : NULL;
	if (!sp || sp == name || (size_t)(sp - name) >= size ||
	    (size_t)(nl - sp - 1) >= sizeof(num) || nl == sp + 1)
		return -EINVAL;
	for (i = (size_t)(nl - buf) + 1; i < MARS_DURABLE_MARK_BYTES; i++)
		if (buf[i] != ' ')
			return -EINVAL;
	memcpy(num, sp + 1, (size_t)(nl - sp - 1));
	num[nl - sp - 1] = '\0';
	if (parse_u64(num, off) < 0)
		return -EINVAL;
	memcpy(logfile, name, (size_t)(sp - name));
	logfile[sp - name] = '\0';
	return 0;
}

int
mars_durable_mark_open(const char *resdir)
{
	char path[4352];
	int fd;

	snprintf(path, sizeof(path), "%s/" DURABLE_MARK_FILE, resdir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int
mars_durable_mark_write(int fd, const char *logfile, uint64_t off)
{
	char buf[MARS_DURABLE_MARK_BYTES];
	int ret = durable_mark_format(buf, logfile, off);

	if (ret)
		return ret;
	return pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

/* The engine's mark of @res in the tree: 1 and the mark, 0 none, -errno. */
static int
durable_mark_read(struct statefs *sf, const char *res, char *logfile, size_t size,
		  uint64_t *off)
{
	char a[MARS_DURABLE_MARK_BYTES], b[MARS_DURABLE_MARK_BYTES];
	ssize_t na, nb;
	int fd;

	fd = statefs_file_open(sf, res, DURABLE_MARK_FILE, O_RDONLY, 0);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	na = pread(fd, a, sizeof(a), 0);
	nb = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (na != nb || (na == (ssize_t)sizeof(a) && memcmp(a, b, sizeof(a))))
		return -EAGAIN;		/* met a rewrite half done */
	if (na != (ssize_t)sizeof(a))
		return -EINVAL;
	return durable_mark_parse(a, logfile, size, off) ? -EINVAL : 1;
}

/*
 * The control device, opened once per process: a serving end asks for
 * every piece it sends, and reopening it each time cost an open and a
 * close per piece.  -1 while there is no module (looked for again on the
 * next call: it may be loaded later).
 */
static int ctl_fd = -1;

int
mars_engine_durable_prepare(void)
{
	if (ctl_fd < 0)
		ctl_fd = open("/dev/" MARS_CTL_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	return ctl_fd >= 0;
}

/* mars.ko as primary of @res writing @logfile: 1 and its durable end. */
static int
durable_kmod(const char *res, const char *logfile, uint64_t *end)
{
	struct mars_ctl_status st = { 0 };

	if (strlen(res) >= sizeof(st.resource) || !mars_engine_durable_prepare())
		return 0;	/* no module here */
	memcpy(st.resource, res, strlen(res));
	if (ioctl(ctl_fd, MARS_CTL_IOC_STATUS, &st) == 0 && st.mode == MARS_CTL_MODE_PRIMARY &&
	    !strncmp(st.logfile, logfile, sizeof(st.logfile))) {
		*end = st.synced_pos;
		return 1;
	}
	return 0;
}

/* @logfile against the marked @name at @off: 1 and *@end, or 0. */
static int
durable_compare(const char *name, uint64_t off, const char *logfile, uint64_t *end)
{
	char o1[MARS_ENGINE_NAME_MAX + 1], o2[MARS_ENGINE_NAME_MAX + 1];
	uint64_t n1, n2;

	if (!strcmp(name, logfile)) {
		*end = off;
		return 1;
	}
	if (eng_log_parse(name, &n1, o1, sizeof(o1)) || eng_log_parse(logfile, &n2, o2, sizeof(o2)) ||
	    strcmp(o1, o2) || n2 < n1)
		return 0;
	*end = 0;
	return 1;
}

int
mars_engine_durable_end(struct statefs *sf, const char *res, const char *logfile,
			uint64_t *end)
{
	char name[MARS_ENGINE_NAME_MAX + 1];
	uint64_t off;
	int ret;

	if (durable_kmod(res, logfile, end))
		return 1;
	ret = durable_mark_read(sf, res, name, sizeof(name), &off);
	if (ret <= 0)
		return ret;
	return durable_compare(name, off, logfile, end);
}
