/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Split-brain detection: pure functions over a resource's history.
 *
 * Two nodes share a history as long as their version links for the same
 * logfile number are equal.  They have split when, for one number, the
 * links name different origins (two primaries each wrote a logfile N) or
 * different predecessors (they got there by different paths), or when
 * one side ended a logfile at a shorter length and went on to the next:
 * then both wrote (or replayed) something the other never will.  A side
 * whose link is merely shorter and that has nothing later is behind, not
 * split.  As a second signal, two local logfiles with one number from
 * different origins are a split even before any link shows it.
 */
#include "repl/repl.h"

#include <stdio.h>
#include <string.h>

/* Sum of @host's link lengths for numbers above @nr. */
static uint64_t
bytes_after(const struct repl_history *h, const char *host, uint64_t nr)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < h->n_links; i++)
		if (h->links[i].nr > nr && !strcmp(h->links[i].host, host))
			sum += h->links[i].v.len_bytes;
	return sum;
}

static int
has_later(const struct repl_history *h, const char *host, uint64_t nr)
{
	const struct repl_link *last = repl_history_last(h, host);

	return last && last->nr > nr;
}

static void
split_at(const struct repl_history *h, const struct repl_link *la, const struct repl_link *lb,
	 uint64_t pos, struct repl_split *out)
{
	out->split = 1;
	out->nr = la->nr;
	out->pos_bytes = pos;
	out->after_a_bytes = la->v.len_bytes - pos + bytes_after(h, la->host, la->nr);
	out->after_b_bytes = lb->v.len_bytes - pos + bytes_after(h, lb->host, lb->nr);
}

/* 1 if the pair parts at this number (out filled), 0 to go on, -1 to stop. */
static int
compare_one(const struct repl_history *h, const struct repl_link *la,
	    const struct repl_link *lb, struct repl_split *out)
{
	const struct repl_link *shorter;

	if (!strcmp(la->v.section, lb->v.section) && !strcmp(la->v.prev, lb->v.prev)) {
		out->common_nr = la->nr;
		return 0;
	}
	if (strcmp(la->v.origin, lb->v.origin) || strcmp(la->v.prev, lb->v.prev)) {
		split_at(h, la, lb, 0, out);
		return 1;
	}
	shorter = la->v.len_bytes < lb->v.len_bytes ? la : lb;
	if (la->v.len_bytes == lb->v.len_bytes || has_later(h, shorter->host, la->nr)) {
		split_at(h, la, lb, shorter->v.len_bytes, out);
		return 1;
	}
	return -1;	/* the shorter side lags; nothing later to compare */
}

void
repl_split_pair(const struct repl_history *h, const char *a, const char *b,
		struct repl_split *out)
{
	const struct repl_link *la, *lb;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(out->host_a, sizeof(out->host_a), "%s", a);
	snprintf(out->host_b, sizeof(out->host_b), "%s", b);
	for (i = 0; i < h->n_links; i++) {
		la = &h->links[i];
		if (strcmp(la->host, a) || !(lb = repl_history_link(h, b, la->nr)))
			continue;
		r = compare_one(h, la, lb, out);
		if (r)
			return;
	}
}

/* Two local logfiles of one number from different origins. */
static void
split_files(const struct repl_history *h, struct repl_split *out)
{
	const struct repl_logfile *f, *g;
	size_t i, j;

	for (i = 0; i + 1 < h->n_files; i++) {
		f = &h->files[i];
		g = &h->files[i + 1];
		if (f->nr != g->nr || !strcmp(f->origin, g->origin))
			continue;
		memset(out, 0, sizeof(*out));
		out->split = out->by_files = 1;
		out->nr = f->nr;
		out->common_nr = f->nr ? f->nr - 1 : 0;
		snprintf(out->host_a, sizeof(out->host_a), "%s", f->origin);
		snprintf(out->host_b, sizeof(out->host_b), "%s", g->origin);
		for (j = i; j < h->n_files; j++) {
			if (!strcmp(h->files[j].origin, f->origin))
				out->after_a_bytes += h->files[j].size_bytes;
			if (!strcmp(h->files[j].origin, g->origin))
				out->after_b_bytes += h->files[j].size_bytes;
		}
		return;
	}
}

int
repl_split_detect(const struct repl_history *h, struct repl_split *out)
{
	struct repl_split s;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < h->n_links; i++) {
		if (i && !strcmp(h->links[i].host, h->links[i - 1].host))
			continue;	/* first link of each host only */
		for (j = i + 1; j < h->n_links; j++) {
			if (!strcmp(h->links[j].host, h->links[i].host) ||
			    !strcmp(h->links[j].host, h->links[j - 1].host))
				continue;
			repl_split_pair(h, h->links[i].host, h->links[j].host, &s);
			if (s.split && (!out->split || s.nr < out->nr))
				*out = s;
		}
	}
	memset(&s, 0, sizeof(s));
	split_files(h, &s);
	if (s.split && (!out->split || s.nr < out->nr))
		*out = s;
	return out->split;
}
