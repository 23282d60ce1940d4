/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile names and the replay link (applied position) of a resource,
 * shared by the userspace engine and the mars.ko backend (kmod.c):
 *   names.c     logfile names and the resource directory
 *   position.c  the replay-<host> link (applied position)
 */
#ifndef MARS_ENGINE_NAMES_H
#define MARS_ENGINE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "mars/names.h"

#define ENG_LOGNR_MAX	((uint64_t)MARS_LOGNR_MAX)	/* nine digits */

/* ---- names.c ------------------------------------------------------------ */

/* Logfile @nr of @host into @buf; -ENAMETOOLONG or -EINVAL (nr 0, past
 * ENG_LOGNR_MAX, or a bad host). */
int eng_log_name(char *buf, size_t size, uint64_t nr, const char *host);

/* Parse a logfile's base name (not number 0); -EINVAL if it is not one. */
int eng_log_parse(const char *name, uint64_t *nr, char *origin, size_t origin_size);

/*
 * Own logfile numbers of @host in @dir that are >= @from, ascending, into
 * a malloc'd array (*@nrs, *@n).  *@max_any is the largest logfile number
 * of any host (0 if none).  Returns 0 or -errno.
 */
int eng_log_list(const char *dir, const char *host, uint64_t from,
		 uint64_t **nrs, size_t *n, uint64_t *max_any);


/* ---- position.c ---------------------------------------------------------- */

/* An applied position: log-NNNNNNNNN-ORIGIN,<pos>,<len>. */
struct eng_pos {
	char logfile[MARS_ENGINE_NAME_MAX + 1];
	uint64_t nr;
	char origin[MARS_NAME_MAX + 1];
	uint64_t pos;
	uint64_t len;
};

/*
 * Read resource-<res>/replay-<host> under @root; -ENOENT if absent (or a
 * tombstone), -EBADMSG if malformed, or a statefs error.
 */
int eng_pos_read(const char *root, const char *res, const char *host, struct eng_pos *p);

/* Set it through statefs (atomic, with a fresh Lamport stamp). */
int eng_pos_write(const char *root, const char *res, const char *host,
		  const char *logfile, uint64_t pos, uint64_t len);

#endif /* MARS_ENGINE_NAMES_H */
