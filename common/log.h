/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's one logging API: lines to stderr (the journal under
 * systemd), each prefixed with the program name and a level.  Libraries
 * never print; clusterd logs what they return.
 */
#ifndef MARS_COMMON_LOG_H
#define MARS_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set the program name shown on each line and the highest level printed. */
void log_init(const char *prog, enum log_level level);
/* Parse "err", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *s);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + errno */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Bytes of the buffer log_escape() fills, terminator included: enough for
 * a state-tree path or a peer's error text, bounded so that one peer
 * string cannot crowd the rest of a log line out.
 */
#define LOG_ESC_BYTES	320

/*
 * Copy @s into @buf (@buflen bytes) for a log line: printable ASCII as is,
 * a backslash and every other byte as \xNN, cut with "..." when it does
 * not fit.  Returns @buf, so it can be an argument of log_*().  For every
 * string a peer chose (paths, names, values, error texts): a newline or a
 * terminal escape in it then cannot forge or hide a line of the journal.
 */
const char *log_escape(char *buf, size_t buflen, const char *s);

/* A broken invariant: log and exit(1). */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* MARS_COMMON_LOG_H */
