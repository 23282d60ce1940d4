/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The control interface of mars.ko: ioctls on the misc device
 * /dev/mars-control.  This header is the only definition of the ABI; it
 * is included unchanged by the module and by userspace (clusterd,
 * marsadm, the test helpers).  docs/kernel-interface.md is the normative
 * description; keep the two in step.
 *
 * Versioning, in two layers:
 *  - MARS_CTL_IFACE_MAJOR changes only when an existing request changes
 *    meaning.  A client must refuse to talk to a module whose major it
 *    does not know.  MARS_CTL_IOC_VERSION keeps its layout forever, so
 *    any client can always ask.
 *  - MARS_CTL_IFACE_MINOR grows when requests or trailing fields are
 *    added.  Argument structs only ever grow at their end.  The module
 *    takes the caller's struct size from the ioctl number (_IOC_SIZE):
 *    a shorter struct than the first published one is -EINVAL, a longer
 *    one is accepted only if the bytes the module does not know are zero
 *    (else -E2BIG), and replies are cut to the caller's size.
 *
 * Every struct has a fixed layout: explicit-width fields, explicit
 * padding, sizes asserted below.  Every "flags" field that is input must
 * be zero except for the bits defined here (else -EINVAL).
 */
#ifndef MARS_CTL_H
#define MARS_CTL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MARS_CTL_DEVICE_NAME	"mars-control"	/* /dev/mars-control */

#define MARS_CTL_IFACE_MAJOR	1
#define MARS_CTL_IFACE_MINOR	0

/* ioctl type byte; the device is ours alone, so clashes cannot matter. */
#define MARS_CTL_IOC_TYPE	0xb7

#define MARS_CTL_VERSION_LEN	32

/*
 * MARS_CTL_IOC_VERSION: what this module speaks.  Layout frozen.
 *    0  u32  flags in, must be zero
 *    4  u32  interface major           MARS_CTL_IFACE_MAJOR
 *    8  u32  interface minor           MARS_CTL_IFACE_MINOR
 *   12  u32  logfile format version    MARS_REC_VERSION
 *   16  u32  largest record payload, bytes
 *   20  u32  reserved, zero
 *   24  char module version, NUL-terminated (the package version)
 */
struct mars_ctl_version {
	__u32 flags;
	__u32 iface_major;
	__u32 iface_minor;
	__u32 format_version;
	__u32 max_payload_bytes;
	__u32 reserved;
	char module_version[MARS_CTL_VERSION_LEN];
};

/* Input flag of MARS_CTL_IOC_SELFTEST: run the checks again now. */
#define MARS_CTL_SELFTEST_F_RUN		0x1U
#define MARS_CTL_SELFTEST_F_KNOWN	MARS_CTL_SELFTEST_F_RUN

#define MARS_CTL_CHECK_NAME_LEN		32

/*
 * MARS_CTL_IOC_SELFTEST: result of the self-test of the shared record
 * core, run at module load and on request.
 *    0  u32  flags in                  MARS_CTL_SELFTEST_F_*
 *    4  s32  result                    0 passed, -EIO a check failed,
 *                                      -ENOMEM the test could not run
 *    8  u32  checks run
 *   12  u32  checks failed
 *   16  char name of the first failed check, NUL-terminated, or ""
 */
struct mars_ctl_selftest {
	__u32 flags;
	__s32 result;
	__u32 checks_run;
	__u32 checks_failed;
	char first_failure[MARS_CTL_CHECK_NAME_LEN];
};

#define MARS_CTL_NR_VERSION	0x01
#define MARS_CTL_NR_SELFTEST	0x02

#define MARS_CTL_IOC_VERSION \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_VERSION, struct mars_ctl_version)
#define MARS_CTL_IOC_SELFTEST \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_SELFTEST, struct mars_ctl_selftest)

/* Sizes of the first published layouts, the smallest the module takes. */
#define MARS_CTL_VERSION_SIZE_V1	56
#define MARS_CTL_SELFTEST_SIZE_V1	48

_Static_assert(sizeof(struct mars_ctl_version) == MARS_CTL_VERSION_SIZE_V1,
	       "mars_ctl_version layout");
_Static_assert(sizeof(struct mars_ctl_selftest) == MARS_CTL_SELFTEST_SIZE_V1,
	       "mars_ctl_selftest layout");

#endif /* MARS_CTL_H */
