/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The actual indicators, kept in the state tree under
 * resource-<res>/actual-<host>/: is-attached, is-primary, is-replaying
 * ("1" or "0") and open-count (decimal handles open on the device file).
 * They say what this host's data path really does, as opposed to the
 * todo- switches, which say what it should do; marsadm view reads them.
 *
 * They are written only when they change (start, recovery finished,
 * open, release, shutdown), never per I/O; open-count is written only
 * when the count differs from the value last published.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/tree.h"
#include "statefs/statefs.h"

/* Set actual-<host>/NAME = VALUE for @n (at most 4) names of @res. */
static int
eng_actual_write(const char *root, const char *res, const char *host,
		 const char *const *names, const char *const *values, int n)
{
	char keys[4][STATEFS_NAME_MAX + 32];
	const char *kv[8];
	int i;

	for (i = 0; i < n && i < 4; i++) {
		if ((size_t)snprintf(keys[i], sizeof(keys[i]), "actual-%s/%s", host, names[i]) >=
		    sizeof(keys[i]))
			return -ENAMETOOLONG;
		kv[2 * i] = keys[i];
		kv[2 * i + 1] = values[i];
	}
	return eng_tree_set(root, res, host, kv, (size_t)i);
}

static int
eng_actual_put(struct mars_engine *e, const char *const *names,
	       const char *const *values, int n)
{
	return eng_actual_write(e->root, e->resource, e->host, names, values, n);
}

int
eng_actual_mode(struct mars_engine *e, int attached, int primary, int replaying)
{
	static const char *const names[] = {
		"is-attached", "is-primary", "is-replaying", "open-count"
	};
	const char *values[4];
	int ret;

	values[0] = attached ? "1" : "0";
	values[1] = primary ? "1" : "0";
	values[2] = replaying ? "1" : "0";
	values[3] = "0";
	pthread_mutex_lock(&e->actual_lock);
	e->open_count = 0;
	e->open_published = 0;
	ret = eng_actual_put(e, names, values, 4);
	pthread_mutex_unlock(&e->actual_lock);
	if (ret)
		fprintf(stderr, "mars-engine: cannot publish actual-%s of '%s': %s\n",
			e->host, e->resource, strerror(-ret));
	return ret;
}

int
eng_actual_open(struct mars_engine *e, int delta)
{
	static const char *const names[] = { "open-count" };
	const char *values[1];
	char buf[24];
	int ret = 0;

	pthread_mutex_lock(&e->actual_lock);
	e->open_count += delta;
	if (e->open_count != e->open_published) {
		snprintf(buf, sizeof(buf), "%" PRId64, e->open_count);
		values[0] = buf;
		ret = eng_actual_put(e, names, values, 1);
		if (!ret)
			e->open_published = e->open_count;
	}
	pthread_mutex_unlock(&e->actual_lock);
	if (ret)
		fprintf(stderr, "mars-engine: cannot publish open-count of '%s': %s\n",
			e->resource, strerror(-ret));
	return ret;
}

int
eng_emergency_mark(const char *root, const char *res, const char *host, int on)
{
	static const char *const name[] = { "is-emergency" };
	const char *value[] = { on ? "1" : "0" };

	return eng_actual_write(root, res, host, name, value, 1);
}

int
eng_emergency_marked(const char *root, const char *res, const char *host)
{
	char key[STATEFS_PATH_MAX + 1], v[8];
	struct statefs *sf = NULL;
	int ret;

	if (statefs_open(&sf, root, host, STATEFS_OPEN_ANY))
		return 0;
	statefs_resource_keyf(key, sizeof(key), res, "actual-%s/is-emergency", host);
	ret = statefs_get(sf, key, v, sizeof(v), NULL) >= 0 && !strcmp(v, "1");
	statefs_close(&sf);
	return ret;
}
