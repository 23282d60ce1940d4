// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one codec of the names and values several layers read
 * (include/mars/names.h, docs/state-tree.md section 2).  Before it, six
 * parsers of the logfile name accepted six different sets of strings
 * (9 digits, 9 to 19, 1 to 23, any length), so a name one layer wrote
 * could be refused, or read as another number, by the next.
 *
 * Compiled into mars.ko and libmars.a from this one source, so it is
 * freestanding: no allocation, no I/O, no libc beyond memcpy/memset.  The input
 * comes from peers and from files anyone could drop into /mars: every
 * parser takes (buffer, length), never reads past it, and accepts only the
 * canonical form, the one the formatters write.
 */
#include "mars/names.h"

static const char *const mars_reserved_names[] = {
	"none", "all", "any", "full", "empty", "undefined",
	"remote", "local", "localhost", "global", NULL,
};

/* ---- small pieces ------------------------------------------------------ */

static int
mars_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
mars_has_prefix(const char *s, size_t len, const char *prefix, size_t plen)
{
	size_t i;

	if (len < plen)
		return 0;
	for (i = 0; i < plen; i++)
		if (s[i] != prefix[i])
			return 0;
	return 1;
}

/* Bytes of @s before its NUL, or @max + 1 if there is none within @max. */
static size_t
mars_bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n])
		n++;
	return n;
}

/* Index of the first @c in @s[0..len), or @len. */
static size_t
mars_find(const char *s, size_t len, char c)
{
	size_t i = 0;

	while (i < len && s[i] != c)
		i++;
	return i;
}

static int
mars_equal(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (word[i] != s[i])
			return 0;
	return word[len] == '\0';
}

/* Canonical decimal u64: 1..20 digits, no leading zero but "0", no overflow. */
int
mars_u64_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	if (len == 0 || len > MARS_U64_DIGITS_MAX || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!mars_is_digit(s[i]))
			return -EINVAL;
		d = (uint64_t)(s[i] - '0');
		if (v > (~(uint64_t)0 - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Digits of @v, at least @width (zero padded), into @out; returns count. */
static size_t
mars_u64_digits(uint64_t v, size_t width, char out[MARS_U64_DIGITS_MAX])
{
	char rev[MARS_U64_DIGITS_MAX];
	size_t n = 0, i;

	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		rev[n++] = '0';
	for (i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	return n;
}

/*
 * An output buffer that counts like snprintf: bytes past the room (one
 * byte is kept for the NUL) are counted but not stored, so a formatter
 * appends its pieces and checks once, at the end.
 */
struct mars_out {
	char *buf;
	size_t size, len;
};

static void
mars_out_bytes(struct mars_out *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, o->len++)
		if (o->len + 1 < o->size)
			o->buf[o->len] = s[i];
}

static void
mars_out_u64(struct mars_out *o, uint64_t v, size_t width)
{
	char d[MARS_U64_DIGITS_MAX];

	mars_out_bytes(o, d, mars_u64_digits(v, width, d));
}

/* NUL-terminate and return the length, or -ENAMETOOLONG (@buf then ""). */
static int
mars_out_end(struct mars_out *o)
{
	if (o->len >= o->size) {
		if (o->size)
			o->buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	o->buf[o->len] = '\0';
	return (int)o->len;
}

/* ---- host and resource names ------------------------------------------- */

enum mars_name_fault
mars_name_fault(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return MARS_NAME_EMPTY;
	if (len > MARS_NAME_MAX)
		return MARS_NAME_TOO_LONG;
	if (s[0] < 'a' || s[0] > 'z')
		return MARS_NAME_BAD_FIRST;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || mars_is_digit(s[i]) || s[i] == '-'))
			return MARS_NAME_BAD_CHAR;
	for (i = 0; mars_reserved_names[i]; i++)
		if (mars_equal(s, len, mars_reserved_names[i]))
			return MARS_NAME_RESERVED;
	return MARS_NAME_OK;
}

int
mars_name_check(const char *s, size_t len)
{
	return mars_name_fault(s, len) == MARS_NAME_OK ? 0 : -EINVAL;
}

/* ---- numbered names: PREFIX NNNNNNNNN "-" HOST -------------------------- */

static int
mars_numbered_parse(const char *prefix, size_t plen, const char *s, size_t len,
		    struct mars_logname *out)
{
	const char *host = s + plen + MARS_LOGNR_DIGITS + 1;
	size_t i, host_len;
	uint32_t nr = 0;

	if (!mars_has_prefix(s, len, prefix, plen) || len < plen + MARS_LOGNR_DIGITS + 1)
		return -EINVAL;
	for (i = plen; i < plen + MARS_LOGNR_DIGITS; i++) {
		if (!mars_is_digit(s[i]))
			return -EINVAL;
		nr = nr * 10 + (uint32_t)(s[i] - '0');
	}
	host_len = len - (size_t)(host - s);
	if (host[-1] != '-' || mars_name_check(host, host_len) < 0)
		return -EINVAL;
	out->nr = nr;
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	return 0;
}

static void
mars_out_numbered(struct mars_out *o, const char *prefix, size_t plen, uint64_t nr,
		  const char *host, size_t host_len)
{
	mars_out_bytes(o, prefix, plen);
	mars_out_u64(o, nr, MARS_LOGNR_DIGITS);
	mars_out_bytes(o, "-", 1);
	mars_out_bytes(o, host, host_len);
}

/* Checks shared by every formatter that writes a logfile name. */
static int
mars_numbered_args(uint64_t nr, const char *host, size_t *host_len)
{
	if (nr > MARS_LOGNR_MAX)
		return -ERANGE;
	*host_len = mars_bounded_len(host, MARS_NAME_MAX);
	return mars_name_check(host, *host_len);
}

static int
mars_numbered_format(const char *prefix, size_t plen, char *buf, size_t size, uint64_t nr,
		     const char *host)
{
	struct mars_out o = { buf, size, 0 };
	size_t host_len;
	int ret;

	ret = mars_numbered_args(nr, host, &host_len);
	if (ret < 0)
		return ret;
	mars_out_numbered(&o, prefix, plen, nr, host, host_len);
	return mars_out_end(&o);
}

int
mars_logname_parse(const char *s, size_t len, struct mars_logname *out)
{
	return mars_numbered_parse("log-", 4, s, len, out);
}

int
mars_vername_parse(const char *s, size_t len, struct mars_logname *out)
{
	return mars_numbered_parse("version-", 8, s, len, out);
}

int
mars_digname_parse(const char *s, size_t len, struct mars_logname *out)
{
	return mars_numbered_parse("digest-", 7, s, len, out);
}

int
mars_logname_format(char *buf, size_t size, uint64_t nr, const char *host)
{
	return mars_numbered_format("log-", 4, buf, size, nr, host);
}

int
mars_vername_format(char *buf, size_t size, uint64_t nr, const char *host)
{
	return mars_numbered_format("version-", 8, buf, size, nr, host);
}

int
mars_digname_format(char *buf, size_t size, uint64_t nr, const char *host)
{
	return mars_numbered_format("digest-", 7, buf, size, nr, host);
}

/* ---- replay link value: LOGNAME "," POS "," LEN ------------------------- */

/* LOGNAME "," U64 at the start of @s, returning the bytes after the comma. */
static int
mars_logname_then(const char *s, size_t len, struct mars_logname *log, size_t *used)
{
	size_t comma = mars_find(s, len, ',');

	if (comma == len || mars_logname_parse(s, comma, log) < 0)
		return -EINVAL;
	*used = comma + 1;
	return 0;
}

int
mars_replaylink_parse(const char *s, size_t len, struct mars_replaylink *out)
{
	struct mars_replaylink r;
	size_t used, comma;

	if (len > MARS_REPLAY_MAX || mars_logname_then(s, len, &r.log, &used) < 0)
		return -EINVAL;
	s += used;
	len -= used;
	comma = mars_find(s, len, ',');
	if (comma == len || mars_u64_parse(s, comma, &r.pos_bytes) < 0 ||
	    mars_u64_parse(s + comma + 1, len - comma - 1, &r.len_bytes) < 0)
		return -EINVAL;
	*out = r;
	return 0;
}

int
mars_replaylink_format(char *buf, size_t size, const struct mars_replaylink *r)
{
	struct mars_out o = { buf, size, 0 };
	size_t host_len;
	int ret;

	ret = mars_numbered_args(r->log.nr, r->log.host, &host_len);
	if (ret < 0)
		return ret;
	mars_out_numbered(&o, "log-", 4, r->log.nr, r->log.host, host_len);
	mars_out_bytes(&o, ",", 1);
	mars_out_u64(&o, r->pos_bytes, 1);
	mars_out_bytes(&o, ",", 1);
	mars_out_u64(&o, r->len_bytes, 1);
	return mars_out_end(&o);
}

/* ---- version link value: SECTION ":" PREV ------------------------------- */

static int
mars_is_digest(const char *s, size_t len)
{
	size_t i;

	if (len != MARS_DIGEST_HEX)
		return 0;
	for (i = 0; i < len; i++)
		if (!mars_is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

int
mars_section_parse(const char *s, size_t len, struct mars_section *out)
{
	struct mars_section sec;
	size_t used;

	if (len > MARS_SECTION_MAX || len < MARS_DIGEST_HEX + 1 ||
	    !mars_is_digest(s, MARS_DIGEST_HEX) || s[MARS_DIGEST_HEX] != ',')
		return -EINVAL;
	memcpy(sec.digest, s, MARS_DIGEST_HEX);
	sec.digest[MARS_DIGEST_HEX] = '\0';
	s += MARS_DIGEST_HEX + 1;
	len -= MARS_DIGEST_HEX + 1;
	if (mars_logname_then(s, len, &sec.log, &used) < 0 ||
	    mars_u64_parse(s + used, len - used, &sec.len_bytes) < 0)
		return -EINVAL;
	*out = sec;
	return 0;
}

int
mars_version_parse(const char *s, size_t len, struct mars_version *out)
{
	struct mars_version v;
	size_t colon = mars_find(s, len, ':');

	if (len > MARS_VERSION_MAX || colon == len ||
	    mars_section_parse(s, colon, &v.self) < 0)
		return -EINVAL;
	v.self_bytes = colon;
	v.prev_bytes = len - colon - 1;
	v.has_prev = v.prev_bytes > 0;
	if (v.has_prev && mars_section_parse(s + colon + 1, v.prev_bytes, &v.prev) < 0)
		return -EINVAL;
	if (!v.has_prev)
		memset(&v.prev, 0, sizeof(v.prev));
	*out = v;
	return 0;
}

int
mars_version_body_format(char *buf, size_t size, uint64_t nr, const char *origin,
			 uint64_t len_bytes, const char *prev, size_t prev_len)
{
	struct mars_out o = { buf, size, 0 };
	struct mars_section p;
	size_t host_len;
	int ret;

	ret = mars_numbered_args(nr, origin, &host_len);
	if (ret < 0)
		return ret;
	if (prev_len && mars_section_parse(prev, prev_len, &p) < 0)
		return -EINVAL;
	mars_out_numbered(&o, "log-", 4, nr, origin, host_len);
	mars_out_bytes(&o, ",", 1);
	mars_out_u64(&o, len_bytes, 1);
	mars_out_bytes(&o, ":", 1);
	mars_out_bytes(&o, prev, prev_len);
	return mars_out_end(&o);
}
