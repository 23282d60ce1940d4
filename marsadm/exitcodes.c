/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names and descriptions of the exit codes, so that `marsadm help
 * --exit-codes` prints the table that the man page documents and a test
 * can hold the two together.
 */
#include "marsadm/exitcodes.h"

#include <stddef.h>

static const struct {
	const char *name;
	const char *description;
} mx_table[MX_COUNT] = {
	[MX_OK]      = { "ok", "success" },
	[MX_FAIL]    = { "failure", "failure without a more specific code" },
	[MX_USAGE]   = { "usage", "bad command line: unknown command or option, wrong operands" },
	[MX_NOENT]   = { "not-found", "a named file, resource, host or key does not exist" },
	[MX_CORRUPT] = { "corrupt", "data was found corrupt: bad log record, sequence gap, bad tree entry" },
	[MX_REFUSED] = { "refused", "a precondition is not met; nothing was changed" },
	[MX_TIMEOUT] = { "timeout", "a wait did not finish within --timeout" },
	[MX_TAIL]    = { "tail", "a logfile ends in an incomplete or torn record" },
	[MX_IO]      = { "io", "reading or writing failed: I/O error, permission denied" },
	[MX_NOTREE]  = { "no-tree", "the state tree root is missing, not a directory or not a MARS tree" },
};

const char *
mx_name(int code)
{
	if (code < 0 || code >= MX_COUNT)
		return NULL;
	return mx_table[code].name;
}

const char *
mx_description(int code)
{
	if (code < 0 || code >= MX_COUNT)
		return NULL;
	return mx_table[code].description;
}
