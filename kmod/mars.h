/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared between the files of mars.ko.  Nothing here is
 * visible to userspace; the userspace ABI is include/mars/ctl.h.
 */
#ifndef MARS_KMOD_MARS_H
#define MARS_KMOD_MARS_H

#include <linux/types.h>

/*
 * Outcome of one run of the record-core self-test (mars_selftest.c).
 * @result is 0 when every check passed, -EIO when one failed and -ENOMEM
 * when the test could not allocate its buffer.  @first_failure names the
 * first failed check (a static string), NULL when none failed.
 */
struct mars_selftest_report {
	int result;
	u32 checks_run;
	u32 checks_failed;
	const char *first_failure;
};

void mars_selftest_run(struct mars_selftest_report *rep);

/* The control device (mars_ctl.c): registered last, removed first. */
int mars_ctl_register(void);
void mars_ctl_unregister(void);

#endif /* MARS_KMOD_MARS_H */
