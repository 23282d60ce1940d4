/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The list of command families.  Adding a family: write
 * marsadm/cmd_<family>.c exporting `const struct cmd cmds_<family>[]`,
 * declare it in marsadm.h, add one line below and the file to
 * marsadm/local.am.  `marsadm help` lists families in this order.
 */
#include "marsadm/marsadm.h"
#include "marsadm/state.h"	/* the state-tree families: cmds_cluster ... cmds_view */

#include <stddef.h>
#include <string.h>

extern const struct cmd cmds_join[];	/* cmd_join.c: membership over gossip */

const struct cmd_family cmd_families[] = {
	{ "Cluster", cmds_cluster },
	{ "Cluster membership", cmds_join },
	{ "Resources", cmds_resource },
	{ "Todo switches", cmds_switch },
	{ "Roles", cmds_repl },
	{ "Resource membership", cmds_member },
	{ "Status", cmds_view },
	{ "Run-time settings", cmds_settings },
	{ "Low level", cmds_link },
	{ "Log files", cmds_log },
	{ "Logfile rotation and deletion", cmds_logs },
	{ "Help", cmds_help },
	{ NULL, NULL },
};

const struct cmd *
cmd_lookup(const char *name)
{
	for (const struct cmd_family *f = cmd_families; f->cmds; f++)
		for (const struct cmd *c = f->cmds; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}
