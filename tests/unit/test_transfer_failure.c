/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The failure contract the fetcher and the syncer share
 * (clusterd/transfer/failure.h): the first failure of an attempt wins, it
 * stays shown until the next attempt fails otherwise or a success clears it.
 */
#include <errno.h>
#include <string.h>

#include "clusterd/transfer/failure.h"
#include "tests/unit/tap.h"

static int
fail(struct transfer_failure *tf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = transfer_failure_set(tf, err, fmt, ap);
	va_end(ap);
	return err;
}

int
main(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct transfer_failure tf;
	char why[256] = "";
	int error = 0;

	transfer_failure_init(&tf, &lock, &error, why, sizeof(why), "test %s", "r0");
	tap_ok(strcmp(tf.who, "test r0") == 0, "the owner is named in log lines");
	tap_ok(fail(&tf, -EPROTO, "bad data at %d", 7) == -EPROTO, "returns the error it was given");
	fail(&tf, -ECONNABORTED, "connection closed");
	tap_ok(error == -EPROTO && strcmp(why, "bad data at 7") == 0,
	       "the first failure of an attempt wins over its consequences ('%s')", why);
	transfer_failure_attempt(&tf);
	tap_ok(error == -EPROTO, "a new attempt still shows the last failure until it fails");
	fail(&tf, -ETIMEDOUT, "silent");
	tap_ok(error == -ETIMEDOUT && strcmp(why, "silent") == 0,
	       "the new attempt's first failure replaces it");
	tap_ok(fail(&tf, 0, "%s", "") == 0 && error == 0 && why[0] == '\0',
	       "a success clears error and why");
	fail(&tf, -EIO, "disk");
	tap_ok(error == -EIO, "after a success the next failure is recorded");
	return tap_done();
}
