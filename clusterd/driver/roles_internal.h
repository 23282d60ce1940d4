/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the role rules' files (roles.c, roles_handover.c) and nothing
 * else: the helpers over a role_view, and the two situations one file
 * decides for the other.
 */
#ifndef MARS_CLUSTERD_ROLES_INTERNAL_H
#define MARS_CLUSTERD_ROLES_INTERNAL_H

#include <stdint.h>

#include "clusterd/driver/roles.h"

void roles_why(struct role_action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void roles_act(struct role_action *a, enum role_act what);
const struct repl_link *roles_link_of(const struct role_view *v, const char *host, uint64_t nr);
/* Local size of logfile @nr of @origin, or UINT64_MAX when absent. */
uint64_t roles_local_size(const struct role_view *v, uint64_t nr, const char *origin);
/* The origin's own link of logfile @nr + 1: the designated primary's first. */
const struct repl_link *roles_successor(const struct role_view *v, uint64_t nr);
/* The link of logfile @nr of @origin the designated history continues. */
const struct repl_link *roles_history_link(const struct role_view *v, const char *origin,
					   uint64_t nr);
/* Where replay of logfile @name stands: the engine's position when newer. */
uint64_t roles_applied_pos(const struct role_view *v, const struct mars_engine_status *st,
			   int running, const char *name);
int roles_make_own(const struct role_view *v, uint64_t nr, const char *origin, uint64_t len,
		   char *out, size_t size);
void roles_link_value(const struct repl_link *l, char *out, size_t size);

/* This node follows the designated history (roles.c). */
void roles_secondary(const struct role_view *v, const struct mars_engine_status *st,
		     int running, struct role_action *a);
/* This node is designated but does not log yet (roles_handover.c). */
void roles_become_primary(const struct role_view *v, const struct mars_engine_status *st,
			  int running, struct role_action *a);

#endif
