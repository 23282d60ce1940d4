/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names and values that every layer reads: host names, logfile
 * names, version link names, replay link values and version link values.
 * docs/state-tree.md section 2 ("Names") is the normative grammar; this
 * header and libmars/names.c are its only implementation, compiled into
 * mars.ko and into every userspace tool, so that the kernel, the engine,
 * clusterd, marsadm and the state tree accept exactly the same strings.
 *
 *   host name      [a-z][a-z0-9-]*, 1..63 bytes, not a reserved word
 *   logfile name   log-NNNNNNNNN-HOST          exactly 9 digits
 *   version name   version-NNNNNNNNN-HOST      exactly 9 digits
 *   vouch name     digest-NNNNNNNNN-HOST       exactly 9 digits
 *   replay value   LOGNAME,POS,LEN             POS, LEN: decimal u64
 *   version value  SECTION:PREV                PREV: SECTION or empty
 *   section        DIGEST,LOGNAME,LEN          DIGEST: 64 lowercase hex
 *
 * Decimal u64 fields are canonical: 1 to 20 digits, no leading zero
 * (except "0" itself), no sign, no overflow.  Every parser takes a
 * (buffer, length) pair, reads nothing past it, and refuses trailing
 * bytes, so parse followed by format gives back the same bytes.
 */
#ifndef MARS_NAMES_H
#define MARS_NAMES_H

#include "mars/platform.h"

#define MARS_NAME_MAX		63	/* host and resource names, bytes */
#define MARS_LOGNR_DIGITS	9	/* logfile number, zero padded */
#define MARS_LOGNR_MAX		999999999U
#define MARS_U64_DIGITS_MAX	20	/* decimal digits of UINT64_MAX */
#define MARS_DIGEST_HEX		64	/* SHA-256 in lowercase hex */

/* "log-" 9 digits "-" host */
#define MARS_LOGNAME_MAX	(4 + MARS_LOGNR_DIGITS + 1 + MARS_NAME_MAX)
/* "version-" 9 digits "-" host */
#define MARS_VERNAME_MAX	(8 + MARS_LOGNR_DIGITS + 1 + MARS_NAME_MAX)
/* "digest-" 9 digits "-" host */
#define MARS_DIGNAME_MAX	(7 + MARS_LOGNR_DIGITS + 1 + MARS_NAME_MAX)
/* LOGNAME "," POS "," LEN */
#define MARS_REPLAY_MAX		(MARS_LOGNAME_MAX + 2 * (1 + MARS_U64_DIGITS_MAX))
/* DIGEST "," LOGNAME "," LEN */
#define MARS_SECTION_MAX	(MARS_DIGEST_HEX + 1 + MARS_LOGNAME_MAX + 1 + MARS_U64_DIGITS_MAX)
/* SECTION ":" SECTION */
#define MARS_VERSION_MAX	(2 * MARS_SECTION_MAX + 1)

/* ---- host and resource names ----------------------------------------- */

/* Why a name is refused; the caller words the message. */
enum mars_name_fault {
	MARS_NAME_OK = 0,
	MARS_NAME_EMPTY,
	MARS_NAME_TOO_LONG,	/* more than MARS_NAME_MAX bytes */
	MARS_NAME_BAD_FIRST,	/* does not start with a-z */
	MARS_NAME_BAD_CHAR,	/* a byte outside a-z 0-9 '-' */
	MARS_NAME_RESERVED,	/* none all any full empty undefined remote
				   local localhost global */
};

/* The fault of the @len bytes at @s as a host or resource name. */
/* A canonical decimal u64 of exactly @len bytes (above); 0 or -EINVAL.
 * Also the grammar of the numeric tree settings (docs/state-tree.md 3.7). */
int mars_u64_parse(const char *s, size_t len, uint64_t *out);

enum mars_name_fault mars_name_fault(const char *s, size_t len);

/* 0 if the @len bytes at @s are a valid name, else -EINVAL. */
int mars_name_check(const char *s, size_t len);

/* ---- logfile names and version link names ----------------------------- */

/*
 * A logfile number and the host in a name.  Logfiles are numbered from 1;
 * number 0 occurs only in the anchor version link that create-resource
 * writes below the first logfile (docs/state-tree.md 3.4), so the grammar
 * allows it and callers that open files refuse it themselves.
 */
struct mars_logname {
	uint32_t nr;			/* 0..MARS_LOGNR_MAX */
	char host[MARS_NAME_MAX + 1];	/* NUL-terminated, a valid name */
};

/*
 * Parse "log-NNNNNNNNN-HOST" (mars_logname_parse),
 * "version-NNNNNNNNN-HOST" (mars_vername_parse) or "digest-NNNNNNNNN-HOST"
 * (mars_digname_parse: a vouch, docs/state-tree.md 3.8), exactly @len
 * bytes.  Returns 0 or -EINVAL; @out is written only on success.
 */
int mars_logname_parse(const char *s, size_t len, struct mars_logname *out);
int mars_vername_parse(const char *s, size_t len, struct mars_logname *out);
int mars_digname_parse(const char *s, size_t len, struct mars_logname *out);

/*
 * Write the name of logfile @nr of @host (NUL-terminated) into @buf.
 * @nr is 64-bit so that a caller's nr + 1 past the last number is refused
 * rather than truncated.  Returns the length without the NUL, -ERANGE
 * (@nr > MARS_LOGNR_MAX), -EINVAL (@host not a valid name) or
 * -ENAMETOOLONG (@size too small).
 */
int mars_logname_format(char *buf, size_t size, uint64_t nr, const char *host);
int mars_vername_format(char *buf, size_t size, uint64_t nr, const char *host);
int mars_digname_format(char *buf, size_t size, uint64_t nr, const char *host);

/* ---- replay link value ------------------------------------------------ */

/* "log-NNNNNNNNN-ORIGIN,POS,LEN": logfile, bytes applied, dirty length. */
struct mars_replaylink {
	struct mars_logname log;
	uint64_t pos_bytes;
	uint64_t len_bytes;
};

/* Parse exactly @len bytes.  Returns 0 or -EINVAL. */
int mars_replaylink_parse(const char *s, size_t len, struct mars_replaylink *out);

/* Format @r (NUL-terminated).  Returns the length or -errno as above. */
int mars_replaylink_format(char *buf, size_t size, const struct mars_replaylink *r);

/* ---- version link value ----------------------------------------------- */

/* One section "DIGEST,log-NNNNNNNNN-ORIGIN,LEN". */
struct mars_section {
	char digest[MARS_DIGEST_HEX + 1];	/* NUL-terminated */
	struct mars_logname log;
	uint64_t len_bytes;
};

/*
 * A parsed version link "SECTION:PREV".  The digest is not checked here
 * (that needs SHA-256: repl/version.c); only the syntax.
 */
struct mars_version {
	struct mars_section self;
	size_t self_bytes;		/* length of SECTION in the input */
	int has_prev;			/* PREV not empty */
	struct mars_section prev;	/* valid if has_prev */
	size_t prev_bytes;		/* length of PREV, 0 for an anchor */
};

/* Parse exactly @len bytes as a section, or as a whole link.  0 or -EINVAL. */
int mars_section_parse(const char *s, size_t len, struct mars_section *out);
int mars_version_parse(const char *s, size_t len, struct mars_version *out);

/*
 * The text a version link's digest covers: "log-NNNNNNNNN-ORIGIN,LEN:PREV"
 * where @prev (@prev_len bytes, 0 for an anchor) must be a valid section.
 * Returns the length or -errno as for mars_logname_format().
 */
int mars_version_body_format(char *buf, size_t size, uint64_t nr, const char *origin,
			     uint64_t len_bytes, const char *prev, size_t prev_len);

#endif /* MARS_NAMES_H */
