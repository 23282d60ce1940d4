/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Name validation of tree format 1: host and resource names, key paths
 * with their owners, and value rules.  Tables of accepted and refused
 * inputs, each refusal with the exact code the merge counters depend on.
 */
#include "statefs_test.h"

struct key_case {
	const char *path;
	int ret;
	const char *owner;	/* expected owner when accepted */
	int path_value;
};

static const struct key_case key_cases[] = {
	{ "uuid", 0, "", 0 },
	{ "ips/ip-alpha", 0, "", 0 },
	{ "defaults/sync-limit", 0, "", 0 },
	{ "defaults-beta/sync-limit", 0, "beta", 0 },
	{ "actual-alpha/time", 0, "alpha", 0 },
	{ "userspace/my_key.1", 0, "", 0 },
	{ "resource-r/size", 0, "", 0 },
	{ "resource-r/primary", 0, "", 0 },
	{ "resource-r/maxnr", 0, "", 0 },
	{ "resource-r/data-alpha", 0, "alpha", 1 },
	{ "resource-r/device-node-2", 0, "node-2", 0 },
	{ "resource-r/skip-check-alpha-1", 0, "alpha-1", 0 },
	{ "resource-r/replay-beta", 0, "beta", 0 },
	{ "resource-r/syncstatus-beta", 0, "beta", 0 },
	{ "resource-r/version-000000001-beta", 0, "beta", 0 },
	{ "resource-r/log-000000123-alpha", 0, "alpha", 0 },
	{ "resource-r/todo-alpha/allow-replay", 0, "alpha", 0 },
	{ "resource-r/actual-beta/is-primary", 0, "beta", 0 },
	{ "resource-r/userspace/last-primary", 0, "", 0 },
	{ "", -EINVAL, NULL, 0 },
	{ "/uuid", -EINVAL, NULL, 0 },
	{ "uuid/", -EINVAL, NULL, 0 },
	{ "ips//ip-alpha", -EINVAL, NULL, 0 },
	{ "resource-r/../uuid", -EINVAL, NULL, 0 },
	{ "resource-r/./size", -EINVAL, NULL, 0 },
	{ "..", -EINVAL, NULL, 0 },
	{ "resource-r/si ze", -EINVAL, NULL, 0 },
	{ "resource-r/size:", -EINVAL, NULL, 0 },
	{ ".tmp.12.uuid", -EACCES, NULL, 0 },
	{ "resource-r/.tmp.1.size", -EACCES, NULL, 0 },
	{ ".format", -EACCES, NULL, 0 },
	{ "resource-r", -EDOM, NULL, 0 },
	{ "ips", -EDOM, NULL, 0 },
	{ "resource-r/todo-alpha", -EDOM, NULL, 0 },
	{ "foo", -EDOM, NULL, 0 },
	{ "resource-R/size", -EDOM, NULL, 0 },
	{ "resource-all/size", -EDOM, NULL, 0 },
	{ "resource-r/data-none", -EDOM, NULL, 0 },
	{ "resource-r/data-", -EDOM, NULL, 0 },
	{ "resource-r/version-1-alpha", -EDOM, NULL, 0 },
	{ "resource-r/version-000000001alpha", -EDOM, NULL, 0 },
	/* the shared codec's grammar: exactly 9 digits (10 to 19 were taken before) */
	{ "resource-r/version-0000000001-alpha", -EDOM, NULL, 0 },
	{ "resource-r/log-1234567890123456789-alpha", -EDOM, NULL, 0 },
	{ "resource-r/log-00000001-alpha", -EDOM, NULL, 0 },
	{ "resource-r/log-000000001-Alpha", -EDOM, NULL, 0 },
	{ "resource-r/log-000000001-localhost", -EDOM, NULL, 0 },
	{ "resource-r/todo-alpha/attach/x", -EDOM, NULL, 0 },
	{ "uuid/x", -EDOM, NULL, 0 },
	{ "resource-r/foo-alpha", -EDOM, NULL, 0 },
	{ "a/b/c/d/e", -EDOM, NULL, 0 },
};

static void
test_hosts(void)
{
	static const char *const good[] = { "a", "alpha", "node-1", "a-b-c", "x9", NULL };
	static const char *const bad[] = {
		"", "1abc", "Alpha", "a_b", "a.b", "-a", "a b", "none", "all", "any", "full",
		"empty", "undefined", "remote", "local", "localhost", "global", NULL,
	};
	char longname[80];
	const char *why;
	int i, ret;

	for (i = 0; good[i]; i++) {
		ret = statefs_name_check(STATEFS_NAME_HOST, good[i], &why);
		tap_ok(ret == 0 && !why, "host name '%s' accepted", good[i]);
	}
	for (i = 0; bad[i]; i++) {
		ret = statefs_name_check(STATEFS_NAME_HOST, bad[i], &why);
		tap_ok(ret == -EINVAL && why, "host name '%s' refused: %s", bad[i],
		       why ? why : "(no reason)");
	}
	memset(longname, 'a', 63);
	longname[63] = '\0';
	tap_ok(statefs_name_check(STATEFS_NAME_RESOURCE, longname, NULL) == 0, "63 characters accepted");
	strcat(longname, "b");
	tap_ok(statefs_name_check(STATEFS_NAME_RESOURCE, longname, &why) == -EINVAL &&
	       strstr(why, "longer"), "64 characters refused");
	statefs_name_check(STATEFS_NAME_RESOURCE, "all", &why);
	tap_ok(strcmp(why, "is a reserved word") == 0, "reserved word named as the reason");
}

static void
test_keys(void)
{
	struct statefs_keyinfo ki;
	char path[400];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];

		ret = statefs_key_check(c->path, &ki);
		if (c->ret == 0)
			tap_ok(ret == 0 && strcmp(ki.owner, c->owner) == 0 &&
			       (ki.value_form == STATEFS_V_PATH) == c->path_value,
			       "key '%s' accepted, owner '%s'", c->path, c->owner);
		else
			tap_ok(ret == c->ret, "key '%s' refused with %d (got %d)",
			       c->path, c->ret, ret);
	}
	tap_ok(statefs_key_check("resource-r/size", NULL) == 0 &&
	       (statefs_key_check("resource-r/size", &ki), strcmp(ki.resource, "r") == 0),
	       "resource name reported");
	memset(path, 'a', sizeof(path));
	memcpy(path, "userspace/", 10);
	path[10 + 128] = '\0';
	tap_ok(statefs_key_check(path, NULL) == -EINVAL, "component over 127 bytes refused");
	path[10 + 127] = '\0';
	tap_ok(statefs_key_check(path, NULL) == 0, "component of 127 bytes accepted");
	memset(path, 'a', 300);
	path[300] = '\0';
	tap_ok(statefs_key_check(path, NULL) == -EINVAL, "path over 255 bytes refused");
	tap_ok(statefs_key_check("resource-r/size\n", NULL) == -EINVAL, "newline in key refused");
}

static void
test_values(void)
{
	struct statefs_keyinfo name = { .value_form = STATEFS_V_NAME },
			       path = { .value_form = STATEFS_V_PATH };
	char big[1100];

	tap_ok(statefs_value_check(&name, "alpha") == 0, "name value accepted");
	tap_ok(statefs_value_check(&name, "log-000000001-alpha,0,0") == 0, "replay value accepted");
	tap_ok(statefs_value_check(&name, "(none)") == 0, "(none) accepted");
	tap_ok(statefs_value_check(&name, STATEFS_TOMBSTONE) == 0, "tombstone accepted");
	tap_ok(statefs_value_check(&path, STATEFS_TOMBSTONE) == 0, "tombstone accepted for paths");
	tap_ok(statefs_value_check(&name, "") == -EILSEQ, "empty value refused");
	tap_ok(statefs_value_check(&name, "a\nb") == -EILSEQ, "newline refused");
	tap_ok(statefs_value_check(&name, "a\tb") == -EILSEQ, "tab refused");
	tap_ok(statefs_value_check(&name, "a\x7f") == -EILSEQ, "DEL refused");
	tap_ok(statefs_value_check(&name, "/dev/sda") == -EXDEV, "absolute path where a name belongs");
	tap_ok(statefs_value_check(&name, "../x") == -EXDEV, "relative path where a name belongs");
	tap_ok(statefs_value_check(&path, "/dev/vg/lv") == 0, "device path accepted");
	tap_ok(statefs_value_check(&path, "dev/vg/lv") == -EXDEV, "relative device path refused");
	tap_ok(statefs_value_check(&path, "/dev/../etc/shadow") == -EXDEV, "'..' in path refused");
	tap_ok(statefs_value_check(&path, "/dev/..x") == 0, "'..x' is a plain name");
	memset(big, 'v', sizeof(big));
	big[STATEFS_VALUE_MAX] = '\0';
	tap_ok(statefs_value_check(&name, big) == 0, "1023-byte value accepted");
	big[STATEFS_VALUE_MAX] = 'v';
	big[STATEFS_VALUE_MAX + 1] = '\0';
	tap_ok(statefs_value_check(&name, big) == -E2BIG, "1024-byte value refused");
}

static void
test_messages(void)
{
	static const int codes[] = { EINVAL, EACCES, EDOM, EPERM, ESRCH, E2BIG, EILSEQ,
				     EXDEV, ERANGE, EISDIR, EEXIST };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		tap_ok(strcmp(statefs_refusal_str(-codes[i]), strerror(codes[i])) != 0,
		       "refusal %d has its own explanation: %s", codes[i],
		       statefs_refusal_str(-codes[i]));
	tap_ok(strcmp(statefs_open_str(-EMEDIUMTYPE), "not a MARS state tree") == 0,
	       "foreign tree explained");
}

int
main(void)
{
	test_hosts();
	test_keys();
	test_values();
	test_messages();
	return tap_done();
}
