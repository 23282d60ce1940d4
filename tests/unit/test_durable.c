/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The durable end of the log as the serving end asks for it
 * (engine/durable.c): the engine's durable mark written and read back,
 * which logfiles it limits, and marks that are missing or malformed.
 * No mars.ko here, so only the userspace engine's mark answers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "statefs/statefs.h"
#include "tests/unit/tap.h"

static char root[] = "/tmp/mars-test-durable-XXXXXX";
static char resdir[256], mark[512];

static int
ask(const char *logfile, uint64_t *end)
{
	struct statefs *sf = NULL;
	int ret = statefs_open(&sf, root, "alpha", STATEFS_OPEN_ANY);

	*end = 12345;
	if (ret == 0)
		ret = mars_engine_durable_end(sf, "r0", logfile, end);
	statefs_close(&sf);
	return ret;
}

static void
put_raw(const char *bytes, size_t len)
{
	int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, bytes, len) != (ssize_t)len)
		abort();
	close(fd);
}

int
main(void)
{
	uint64_t end;
	char junk[192];
	int fd;

	if (!mkdtemp(root))
		return 1;
	snprintf(resdir, sizeof(resdir), "%s/resource-r0", root);
	snprintf(mark, sizeof(mark), "%s/.log-durable", resdir);
	mkdir(resdir, 0700);

	tap_ok(ask("log-000000003-alpha", &end) == 0, "no mark: no limit");

	fd = mars_durable_mark_open(resdir);
	tap_ok(fd >= 0, "the engine opens its mark");
	tap_ok(mars_durable_mark_write(fd, "log-000000003-alpha", 4096) == 0, "and writes it");
	tap_ok(ask("log-000000003-alpha", &end) == 1 && end == 4096,
	   "the marked logfile: up to the mark");
	tap_ok(ask("log-000000004-alpha", &end) == 1 && end == 0,
	   "a later logfile of the same origin: nothing yet");
	tap_ok(ask("log-000000002-alpha", &end) == 0, "an earlier logfile: no limit");
	tap_ok(ask("log-000000009-beta", &end) == 0, "another origin's logfile: no limit");
	tap_ok(mars_durable_mark_write(fd, "log-000000003-alpha", 8) == 0 &&
	   ask("log-000000003-alpha", &end) == 1 && end == 8,
	   "rewritten in place, a shorter line leaves nothing behind");
	tap_ok(mars_durable_mark_write(fd, "log with space", 1) < 0, "a name with a space is refused");
	close(fd);

	put_raw("v1 log-000000003-alpha 77\n", 26);
	tap_ok(ask("log-000000003-alpha", &end) < 0, "a short mark is malformed");
	memset(junk, 'x', sizeof(junk));
	put_raw(junk, sizeof(junk));
	tap_ok(ask("log-000000003-alpha", &end) < 0, "junk is malformed");
	memset(junk, ' ', sizeof(junk));
	memcpy(junk, "v1 log-000000003-alpha 99999999999999999999999\n", 47);
	put_raw(junk, sizeof(junk));
	tap_ok(ask("log-000000003-alpha", &end) < 0, "an offset past 64 bits is malformed");

	unlink(mark);
	rmdir(resdir);
	rmdir(root);
	return tap_done();
}
