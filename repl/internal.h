/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the repl sources; not part of the library's API
 * (repl/repl.h).
 */
#ifndef MARS_REPL_INTERNAL_H
#define MARS_REPL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The decimal number of exactly @n digits at @s (not NUL-terminated),
 * into *@out.  Returns 0, or -EINVAL on no digits, a non-digit or a value
 * past UINT64_MAX.
 */
int repl_parse_digits(const char *s, size_t n, uint64_t *out);

#endif /* MARS_REPL_INTERNAL_H */
