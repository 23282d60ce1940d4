/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Allocation that cannot fail: on out-of-memory the process prints one
 * line and exits with status 1.  For programs (marsadm, clusterd), never
 * for the libraries, which return -ENOMEM to their callers instead.
 */
#ifndef MARS_COMMON_XALLOC_H
#define MARS_COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* printf into a fresh allocation. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MARS_COMMON_XALLOC_H */
