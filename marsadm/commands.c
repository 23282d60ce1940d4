/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The list of command families.  Adding a family: write
 * marsadm/cmd_<family>.c exporting `const struct cmd cmds_<family>[]`,
 * declare it in marsadm.h, add one line below and the file to
 * marsadm/local.am.  `marsadm help` lists families in this order.
 */
#include "marsadm/marsadm.h"

#include <stddef.h>
#include <string.h>

const struct cmd_family cmd_families[] = {
	{ "Log files", cmds_log },
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
