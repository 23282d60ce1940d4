/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a resource's history from the state tree: every node's version
 * links and this node's logfiles, in the plain arrays that split.c works
 * on.  Links that do not parse or whose digest is wrong are left out and
 * counted: a forged or damaged link must not make two histories look
 * equal, and must not make them look split either.
 */
#include "repl/repl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 16) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

int
repl_history_add_link(struct repl_history *h, const char *host, const char *value)
{
	struct repl_link *l;

	if (strlen(host) > REPL_NAME_MAX)
		return -EINVAL;
	if (grow((void **)&h->links, &h->cap_links, h->n_links, sizeof(*h->links)) < 0)
		return -ENOMEM;
	l = &h->links[h->n_links];
	if (repl_version_verify(value) < 0 || repl_version_parse(value, &l->v) < 0) {
		h->bad_links++;
		return 0;
	}
	l->nr = l->v.nr;
	snprintf(l->host, sizeof(l->host), "%s", host);
	h->n_links++;
	return 0;
}

int
repl_history_add_file(struct repl_history *h, uint64_t nr, const char *origin,
		      uint64_t size_bytes)
{
	struct repl_logfile *f;

	if (strlen(origin) > REPL_NAME_MAX)
		return -EINVAL;
	if (grow((void **)&h->files, &h->cap_files, h->n_files, sizeof(*h->files)) < 0)
		return -ENOMEM;
	f = &h->files[h->n_files++];
	f->nr = nr;
	f->size_bytes = size_bytes;
	snprintf(f->origin, sizeof(f->origin), "%s", origin);
	return 0;
}

static int
link_cmp(const void *a, const void *b)
{
	const struct repl_link *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	if (c)
		return c;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

static int
file_cmp(const void *a, const void *b)
{
	const struct repl_logfile *x = a, *y = b;

	if (x->nr != y->nr)
		return x->nr < y->nr ? -1 : 1;
	return strcmp(x->origin, y->origin);
}

void
repl_history_sort(struct repl_history *h)
{
	if (h->n_links)
		qsort(h->links, h->n_links, sizeof(*h->links), link_cmp);
	if (h->n_files)
		qsort(h->files, h->n_files, sizeof(*h->files), file_cmp);
}

void
repl_history_release(struct repl_history *h)
{
	free(h->links);
	free(h->files);
	memset(h, 0, sizeof(*h));
}

const struct repl_link *
repl_history_link(const struct repl_history *h, const char *host, uint64_t nr)
{
	size_t i;

	for (i = 0; i < h->n_links; i++)
		if (h->links[i].nr == nr && !strcmp(h->links[i].host, host))
			return &h->links[i];
	return NULL;
}

const struct repl_link *
repl_history_last(const struct repl_history *h, const char *host)
{
	const struct repl_link *best = NULL;
	size_t i;

	for (i = 0; i < h->n_links; i++)
		if (!strcmp(h->links[i].host, host) && (!best || h->links[i].nr > best->nr))
			best = &h->links[i];
	return best;
}

static int
link_visit(const struct statefs_entry *e, void *arg)
{
	const char *rel = strrchr(e->path, '/');
	struct mars_logname ln;

	if (!rel || mars_vername_parse(rel + 1, strlen(rel + 1), &ln) < 0)
		return 0;
	return repl_history_add_link(arg, ln.host, e->value);
}

static int
file_visit(const char *name, uint64_t size_bytes, void *arg)
{
	struct mars_logname ln;

	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return 0;
	return repl_history_add_file(arg, ln.nr, ln.host, size_bytes);
}

int
repl_history_load(struct statefs *sf, const char *res, struct repl_history *h)
{
	char dir[STATEFS_PATH_MAX + 1];
	int ret;

	memset(h, 0, sizeof(*h));
	statefs_resource_key(dir, sizeof(dir), res);
	ret = statefs_list(sf, dir, 0, link_visit, h);
	if (ret == 0)
		ret = statefs_list_files(sf, dir, file_visit, h);
	if (ret < 0) {
		repl_history_release(h);
		return ret;
	}
	repl_history_sort(h);
	return 0;
}
