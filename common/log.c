/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging to stderr with levels.  One line per call, written with a single
 * write(2) so that lines of the daemon and its serving ends do not
 * interleave in the journal.  Peers choose many of the strings logged
 * (paths, host names, error texts); log_escape() makes them visible and
 * harmless, and no control byte reaches the journal in any case.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

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

/* Shown as is: printable ASCII except the escape character itself. */
static int
plain_byte(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f && ch != '\\';
}

const char *
log_escape(char *buf, size_t buflen, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, cut = 0;	/* cut: the last boundary with room for "..." */

	if (buflen < 8) {	/* room for one escape, "..." and the NUL */
		if (buflen)
			buf[0] = '\0';
		return buf;
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n + (plain_byte(ch) ? 1 : 4) + 1 > buflen) {
			memcpy(buf + cut, "...", 4);
			return buf;
		}
		if (plain_byte(ch)) {
			buf[n++] = (char)ch;
		} else {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
		if (n + 4 <= buflen)
			cut = n;
	}
	buf[n] = '\0';
	return buf;
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
	/* The net under log_escape(): a string that escaped it still cannot
	 * end this line early or send a terminal control sequence. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
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
