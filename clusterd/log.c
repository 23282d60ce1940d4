/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging to stderr with levels.  One line per call, written with a single
 * write(2) so that lines of the daemon and its serving ends do not
 * interleave in the journal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/log.h"

static const char *log_prog = "clusterd";
static enum log_level log_max = LOG_LVL_INFO;

static const char *const level_names[] = { "err", "warn", "info", "debug" };

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_max = level;
}

int
log_level_parse(const char *s)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

static void
log_vline(enum log_level lvl, const char *errstr, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (lvl > log_max)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog, level_names[lvl]);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (errstr)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", errstr);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOG_BODY(lvl, errstr) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vline(lvl, errstr, fmt, ap);	\
	va_end(ap);				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);

	LOG_BODY(LOG_LVL_WARN, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, NULL);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, NULL);
	exit(1);
}
