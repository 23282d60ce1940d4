/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logfile names (docs/state-tree.md section 2): the number and origin
 * host live in the name, so listing a resource directory is how the
 * engine finds its logfiles.  Parsing is the shared codec's, strict, so
 * that a stray file can never be mistaken for a logfile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/internal.h"
#include "mars/names.h"

/*
 * The grammar is the shared codec's (libmars/names.c); the engine adds
 * only that a file is never number 0, which names the anchor version link
 * below a resource's first logfile and no file.
 */
int
eng_log_name(char *buf, size_t size, uint64_t nr, const char *host)
{
	int n;

	if (nr == 0)
		return -EINVAL;
	n = mars_logname_format(buf, size, nr, host);
	if (n == -ERANGE)
		return -EINVAL;
	return n < 0 ? n : 0;
}

int
eng_log_parse(const char *name, uint64_t *nr, char *origin, size_t origin_size)
{
	struct mars_logname ln;

	if (mars_logname_parse(name, strlen(name), &ln) < 0 || ln.nr == 0 ||
	    strlen(ln.host) >= origin_size)
		return -EINVAL;
	*nr = ln.nr;
	memcpy(origin, ln.host, strlen(ln.host) + 1);
	return 0;
}

static int
eng_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
eng_log_list(const char *dir, const char *host, uint64_t from,
	     uint64_t **nrs, size_t *n, uint64_t *max_any)
{
	struct dirent *de;
	uint64_t *v = NULL, *nv, nr;
	size_t cnt = 0, cap = 0;
	char origin[MARS_NAME_MAX + 1];
	DIR *d;
	int ret = 0;

	*max_any = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (eng_log_parse(de->d_name, &nr, origin, sizeof(origin)))
			continue;
		if (nr > *max_any)
			*max_any = nr;
		if (strcmp(origin, host) != 0 || nr < from)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[cnt++] = nr;
	}
	qsort(v, cnt, sizeof(*v), eng_cmp_u64);
out:
	closedir(d);
	if (ret) {
		free(v);
		return ret;
	}
	*nrs = v;
	*n = cnt;
	return 0;
}
