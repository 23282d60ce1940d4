/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names of tree format 1, in one place: host and resource names, the
 * grammar of key paths with the owner each name implies, and the rules for
 * values.  Local writes and remote merges both pass through here, so what
 * a node may write and what it accepts from a peer cannot drift apart.
 *
 * The grammar is two small tables (root level, resource level) rather than
 * pattern matching on "-HOST" suffixes: host names contain dashes, so only
 * a known prefix ("skip-check-") can split "skip-check-alpha-1" correctly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mars/names.h"
#include "statefs/statefs.h"

enum form {
	F_EXACT,	/* the component is exactly the name */
	F_HOST,		/* prefix + host name; the host owns what is below */
	F_LOGNAME,	/* "log-NNNNNNNNN-HOST", by the shared codec */
	F_VERNAME,	/* "version-NNNNNNNNN-HOST", by the shared codec */
	F_DIGNAME,	/* "digest-NNNNNNNNN-HOST", by the shared codec */
	F_RESOURCE,	/* prefix + resource name */
};

enum node {
	N_LEAF,		/* the component is a key */
	N_KEYS,		/* a directory of plain keys */
	N_RESOURCE,	/* a resource directory: resource_rules below */
};

struct rule {
	const char *name;
	enum form form;
	enum node node;
	enum statefs_value_form value;	/* of a leaf, or of the keys below N_KEYS */
};

static const struct rule root_rules[] = {
	{ "uuid",	F_EXACT,	N_LEAF,		STATEFS_V_NAME },
	{ "ips",	F_EXACT,	N_KEYS,		STATEFS_V_NAME },
	{ "evicted",	F_EXACT,	N_KEYS,		STATEFS_V_NAME },
	{ "keys",	F_EXACT,	N_KEYS,		STATEFS_V_SSHKEY },
	{ "defaults",	F_EXACT,	N_KEYS,		STATEFS_V_NAME },
	{ "userspace",	F_EXACT,	N_KEYS,		STATEFS_V_NAME },
	{ "defaults-",	F_HOST,		N_KEYS,		STATEFS_V_NAME },
	{ "actual-",	F_HOST,		N_KEYS,		STATEFS_V_NAME },
	{ "resource-",	F_RESOURCE,	N_RESOURCE,	STATEFS_V_NAME },
	{ NULL, 0, 0, 0 },
};

static const struct rule resource_rules[] = {
	{ "size",		F_EXACT,	N_LEAF,	STATEFS_V_DECIMAL },
	{ "primary",		F_EXACT,	N_LEAF,	STATEFS_V_PRIMARY },
	{ "maxnr",		F_EXACT,	N_LEAF,	STATEFS_V_DECIMAL },
	{ "userspace",		F_EXACT,	N_KEYS,	STATEFS_V_NAME },
	{ "defaults",		F_EXACT,	N_KEYS,	STATEFS_V_NAME },
	{ "todo-",		F_HOST,		N_KEYS,	STATEFS_V_NAME },
	{ "actual-",		F_HOST,		N_KEYS,	STATEFS_V_NAME },
	{ "defaults-",		F_HOST,		N_KEYS,	STATEFS_V_NAME },
	{ "local-",		F_HOST,		N_KEYS,	STATEFS_V_NAME },
	{ "data-",		F_HOST,		N_LEAF,	STATEFS_V_PATH },
	{ "device-",		F_HOST,		N_LEAF,	STATEFS_V_RESOURCE },
	{ "actsize-",		F_HOST,		N_LEAF,	STATEFS_V_DECIMAL },
	{ "replay-",		F_HOST,		N_LEAF,	STATEFS_V_REPLAY },
	{ "syncstatus-",	F_HOST,		N_LEAF,	STATEFS_V_DECIMAL },
	{ "syncpos-",		F_HOST,		N_LEAF,	STATEFS_V_REPLAY },
	{ "verifystatus-",	F_HOST,		N_LEAF,	STATEFS_V_COUNTS },
	{ "skip-check-",	F_HOST,		N_LEAF,	STATEFS_V_DECIMAL },
	{ "version-",		F_VERNAME,	N_LEAF,	STATEFS_V_VERSION },
	{ "digest-",		F_DIGNAME,	N_LEAF,	STATEFS_V_SECTION },
	{ "log-",		F_LOGNAME,	N_LEAF,	STATEFS_V_TOMBSTONE },
	{ NULL, 0, 0, 0 },
};

#define MAX_DEPTH 4

_Static_assert(STATEFS_NAME_MAX == MARS_NAME_MAX, "one name length in both grammars");

/* The grammar is the shared codec's (libmars/names.c); the words are ours. */
static const char *
name_fault_str(enum mars_name_fault fault)
{
	switch (fault) {
	case MARS_NAME_OK:		return NULL;
	case MARS_NAME_EMPTY:		return "is empty";
	case MARS_NAME_TOO_LONG:	return "is longer than 63 characters";
	case MARS_NAME_BAD_FIRST:	return "must start with a lowercase letter";
	case MARS_NAME_BAD_CHAR:	return "may contain only a-z, 0-9 and '-'";
	case MARS_NAME_RESERVED:	return "is a reserved word";
	}
	return "is not a name";
}

int
statefs_name_check(enum statefs_name_kind kind, const char *name, const char **why)
{
	const char *dummy;

	(void)kind;	/* both kinds share one grammar in tree format 1 */
	if (!why)
		why = &dummy;
	*why = name_fault_str(mars_name_fault(name, strnlen(name, STATEFS_NAME_MAX + 1)));
	return *why ? -EINVAL : 0;
}

static int
key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Syntax of one path component; the grammar is checked separately. */
static int
component_check(const char *c, size_t len)
{
	size_t i;

	if (len == 0 || len > STATEFS_KEY_MAX)
		return -EINVAL;
	if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!key_char_ok(c[i]))
			return -EINVAL;
	return c[0] == '.' ? -EACCES : 0;
}

/* Split @path into at most MAX_DEPTH NUL-terminated components in @buf. */
static int
split_path(const char *path, char *buf, char **comp, int *n)
{
	size_t len = strlen(path);
	char *p, *slash;
	int ret;

	if (len == 0 || len > STATEFS_PATH_MAX || path[0] == '/')
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (*n = 0, p = buf; p; p = slash ? slash + 1 : NULL) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		ret = component_check(p, strlen(p));
		if (ret < 0)
			return ret;
		if (*n == MAX_DEPTH)
			return -EDOM;
		comp[(*n)++] = p;
	}
	return 0;
}

static int
copy_name(char *dst, const char *src, enum statefs_name_kind kind)
{
	if (statefs_name_check(kind, src, NULL) < 0)
		return -EDOM;
	strcpy(dst, src);	/* checked: at most STATEFS_NAME_MAX bytes */
	return 0;
}

/* The whole component as a numbered name of the shared codec. */
static int
match_numbered(enum form form, const char *comp, struct statefs_keyinfo *info)
{
	struct mars_logname ln;
	int ret;

	if (form == F_LOGNAME)
		ret = mars_logname_parse(comp, strlen(comp), &ln);
	else if (form == F_DIGNAME)
		ret = mars_digname_parse(comp, strlen(comp), &ln);
	else
		ret = mars_vername_parse(comp, strlen(comp), &ln);
	if (ret < 0)
		return -EDOM;
	memcpy(info->owner, ln.host, sizeof(ln.host));
	return 0;
}

static int
match_rule(const struct rule *r, const char *comp, struct statefs_keyinfo *info)
{
	size_t plen = strlen(r->name);

	if (r->form == F_EXACT)
		return strcmp(comp, r->name) == 0 ? 0 : -EDOM;
	if (strncmp(comp, r->name, plen) != 0)
		return -EDOM;
	switch (r->form) {
	case F_HOST:
		return copy_name(info->owner, comp + plen, STATEFS_NAME_HOST);
	case F_LOGNAME:
	case F_VERNAME:
	case F_DIGNAME:
		return match_numbered(r->form, comp, info);
	default:
		return copy_name(info->resource, comp + plen, STATEFS_NAME_RESOURCE);
	}
}

static const struct rule *
find_rule(const struct rule *rules, const char *comp, struct statefs_keyinfo *info)
{
	for (; rules->name; rules++)
		if (match_rule(rules, comp, info) == 0)
			return rules;
	return NULL;
}

/* Walk the components through the two tables. */
static int
match_path(char **comp, int n, struct statefs_keyinfo *info)
{
	const struct rule *rules = root_rules, *r;
	int i;

	for (i = 0; i < n; i++) {
		r = find_rule(rules, comp[i], info);
		if (!r)
			return -EDOM;
		info->value_form = r->node == N_RESOURCE ? STATEFS_V_NAME : r->value;
		if (r->node == N_LEAF)
			return i == n - 1 ? 0 : -EDOM;
		if (r->node == N_KEYS)
			return i == n - 2 ? 0 : -EDOM;
		rules = resource_rules;
	}
	return -EDOM;	/* a directory, not a key */
}

int
statefs_key_check(const char *path, struct statefs_keyinfo *info)
{
	struct statefs_keyinfo dummy;
	char buf[STATEFS_PATH_MAX + 1];
	char *comp[MAX_DEPTH];
	int n, ret;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	ret = split_path(path, buf, comp, &n);
	if (ret < 0)
		return ret;
	return match_path(comp, n, info);
}

static int
has_dotdot(const char *path)
{
	const char *p;

	for (p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return 1;
	return 0;
}

/* A canonical decimal of @len bytes at @s: digits, no leading zero, fits. */
static int
decimal_ok(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return 1;
}

/* @value (not the tombstone) against @form: 0 or -EXDEV / -EBADMSG. */
static int
value_form_check(enum statefs_value_form form, const char *value, size_t len)
{
	struct mars_replaylink rl;
	struct mars_version ver;
	struct mars_section sec;
	const char *comma;

	if (form == STATEFS_V_PATH)
		return value[0] == '/' && !has_dotdot(value) ? 0 : -EXDEV;
	if (strchr(value, '/'))
		return -EXDEV;
	switch (form) {
	case STATEFS_V_PATH:
	case STATEFS_V_NAME:
		break;
	case STATEFS_V_DECIMAL:
		return decimal_ok(value, len) ? 0 : -EBADMSG;
	case STATEFS_V_PRIMARY:
		return !strcmp(value, STATEFS_NONE) ||
		       statefs_name_check(STATEFS_NAME_HOST, value, NULL) == 0 ? 0 : -EBADMSG;
	case STATEFS_V_RESOURCE:
		return statefs_name_check(STATEFS_NAME_RESOURCE, value, NULL) == 0 ? 0 : -EBADMSG;
	case STATEFS_V_REPLAY:
		return mars_replaylink_parse(value, len, &rl) == 0 ? 0 : -EBADMSG;
	case STATEFS_V_VERSION:
		return mars_version_parse(value, len, &ver) == 0 ? 0 : -EBADMSG;
	case STATEFS_V_SECTION:
		return mars_section_parse(value, len, &sec) == 0 ? 0 : -EBADMSG;
	case STATEFS_V_COUNTS:
		comma = strchr(value, ',');
		return comma && decimal_ok(value, (size_t)(comma - value)) &&
		       decimal_ok(comma + 1, len - (size_t)(comma - value) - 1) ? 0 : -EBADMSG;
	case STATEFS_V_TOMBSTONE:
		return -EBADMSG;
	case STATEFS_V_SSHKEY:
		return statefs_sshkey_check(value);
	}
	return 0;
}

int
statefs_value_check(const struct statefs_keyinfo *info, const char *value)
{
	size_t i, len = strlen(value);

	if (len == 0)
		return -EILSEQ;
	if (len > STATEFS_VALUE_MAX)
		return -E2BIG;
	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return -EILSEQ;
	if (strcmp(value, STATEFS_TOMBSTONE) == 0)
		return 0;
	return value_form_check(info->value_form, value, len);
}

const char *
statefs_refusal_str(int err)
{
	switch (-err) {
	case EINVAL:	return "malformed key path";
	case EACCES:	return "node-private name";
	case EDOM:	return "not a key of tree format 1";
	case EPERM:	return "name owned by another host";
	case ESRCH:	return "invalid host name";
	case E2BIG:	return "value longer than 1023 bytes";
	case EILSEQ:	return "value empty or containing control characters";
	case EXDEV:	return "a path where a name belongs, or a bad path";
	case EBADMSG:	return "value not of the key's form";
	case ERANGE:	return "invalid stamp";
	case EISDIR:	return "a directory stands where the key goes";
	case EEXIST:	return "a regular file stands where the key goes";
	default:	return strerror(-err);
	}
}

int
statefs_resource_key(char *buf, size_t size, const char *res)
{
	return (size_t)snprintf(buf, size, "resource-%s", res) < size ? 0 : -ENAMETOOLONG;
}

int
statefs_resource_keyf(char *buf, size_t size, const char *res, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	int ret = statefs_resource_key(buf, size, res);

	n = strlen(buf);
	if (ret < 0 || n + 1 >= size)
		return -ENAMETOOLONG;
	buf[n++] = '/';
	va_start(ap, fmt);
	ret = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	return ret >= 0 && (size_t)ret < size - n ? 0 : -ENAMETOOLONG;
}
