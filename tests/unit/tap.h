/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal TAP producer for the C unit tests.  Each test binary prints
 * "ok N - name" / "not ok N - name" lines and the plan at the end;
 * automake's tap-driver turns them into the test summary.
 */
#ifndef MARS_TAP_H
#define MARS_TAP_H

#include <stdio.h>
#include <stdarg.h>

static int tap_count;
static int tap_failed;

/* Report one check; returns @cond so callers can stop on failure. */
static inline int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* Print a diagnostic line that TAP consumers show but do not count. */
static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Print the plan and turn the outcome into the process's exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif /* MARS_TAP_H */
