/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine unit tests' sandbox: a fresh state root under /tmp with
 * resource r0 of host alpha and a zeroed disk image of @size bytes, in
 * @e, whose fields the write path reads.  Header-only: each test is one
 * program.  Returns 0 or -1.
 */
#ifndef MARS_TESTS_ENGINE_FIXTURE_H
#define MARS_TESTS_ENGINE_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/internal.h"

static inline int
engine_fixture_setup(struct mars_engine *e, char *tmpl, uint64_t size)
{
	char path[4200];

	if (!mkdtemp(tmpl))
		return -1;
	snprintf(e->root, sizeof(e->root), "%s", tmpl);
	snprintf(e->dir, sizeof(e->dir), "%s/resource-r0", tmpl);
	snprintf(e->resource, sizeof(e->resource), "r0");
	snprintf(e->host, sizeof(e->host), "alpha");
	snprintf(path, sizeof(path), "%s/disk.img", tmpl);
	e->disk_fd = open(path, O_RDWR | O_CREAT, 0600);
	e->size_bytes = size;
	if (e->disk_fd < 0 || ftruncate(e->disk_fd, (off_t)size) < 0)
		return -1;
	return mkdir(e->dir, 0700);
}

#endif /* MARS_TESTS_ENGINE_FIXTURE_H */
