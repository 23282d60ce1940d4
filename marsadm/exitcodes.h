/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exit codes of marsadm, in one place.
 *
 * Scripts and monitoring depend on these numbers: never renumber one,
 * only append.  docs/marsadm.8 (section EXIT STATUS) lists the same table
 * and tests/bats/11-marsadm-cli.bats checks the two against each other
 * through `marsadm help --exit-codes`.  MX_ stands for "marsadm exit".
 */
#ifndef MARSADM_EXITCODES_H
#define MARSADM_EXITCODES_H

enum mx_code {
	MX_OK = 0,		/* success */
	MX_FAIL = 1,		/* failure without a more specific code */
	MX_USAGE = 2,		/* bad command line: unknown command/option, wrong operands */
	MX_NOENT = 3,		/* a named file, resource, host or key does not exist */
	MX_CORRUPT = 4,		/* data was found corrupt (log record, sequence gap, tree entry) */
	MX_REFUSED = 5,		/* a precondition is not met; nothing was changed */
	MX_TIMEOUT = 6,		/* a wait did not finish within --timeout */
	MX_TAIL = 7,		/* a logfile ends in an incomplete or torn record */
	MX_IO = 8,		/* reading or writing failed (I/O error, permission) */
	MX_NOTREE = 9,		/* the state tree root is missing or not a MARS tree */
	MX_COUNT
};

/* Stable lowercase name of @code ("usage", "corrupt", ...), or NULL. */
const char *mx_name(int code);

/* One-line description of @code for `marsadm help --exit-codes`, or NULL. */
const char *mx_description(int code);

#endif /* MARSADM_EXITCODES_H */
