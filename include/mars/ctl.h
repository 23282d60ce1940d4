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
#define MARS_CTL_IFACE_MINOR	3

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

/* ---- interface 1.1: resources ------------------------------------ */

/*
 * Text fields are NUL-terminated within their arrays (else -EINVAL).
 * A resource name is 1-26 bytes of [A-Za-z0-9_.-], not "." or "..": the
 * device is /dev/mars/<name> and a disk name holds 31 bytes.
 */
#define MARS_CTL_RES_LEN	32	/* resource name, NUL included */
#define MARS_CTL_RES_MAX	26	/* longest resource name, bytes */
#define MARS_CTL_HOST_LEN	64	/* host name, NUL included */
#define MARS_CTL_PATH_LEN	256	/* absolute path, NUL included */
#define MARS_CTL_LOGNAME_LEN	128	/* logfile base name, NUL included */

/* Modes of a resource (MARS_CTL_IOC_STATUS .mode). */
#define MARS_CTL_MODE_ATTACHED	0	/* device readable, not writable */
#define MARS_CTL_MODE_PRIMARY	1	/* every write logged */
#define MARS_CTL_MODE_REPLAY	2	/* applying a logfile; not writable */

/* Replay states (MARS_CTL_IOC_STATUS .replay_state). */
#define MARS_CTL_RS_NONE	0	/* not replaying */
#define MARS_CTL_RS_RUNNING	1	/* applying records */
#define MARS_CTL_RS_WAITING	2	/* at the end: the file may grow */
#define MARS_CTL_RS_STOPPED	3	/* torn, corrupt or gap: stop_* */
#define MARS_CTL_RS_FAILED	4	/* I/O error or record past the end */

/*
 * MARS_CTL_IOC_ATTACH: create /dev/mars/<resource> on @disk.
 *    0  u32  flags in: MARS_CTL_ATTACH_F_PENDING_LIMIT or zero
 *    4  u32  with that flag: pending writeback memory limit in MiB, at
 *            least 1 (interface 1.3; was reserved, zero)
 *    8  u64  size in bytes, a multiple of 512; 0 = the whole disk
 *   16  char resource name
 *   48  char underlying block device, absolute path
 *  304  char resource directory, absolute path ending in
 *            "/resource-<resource>"; logfiles live here
 */
#define MARS_CTL_ATTACH_F_PENDING_LIMIT	0x1U

struct mars_ctl_attach {
	__u32 flags;
	__u32 pending_mib;
	__u64 size_bytes;
	char resource[MARS_CTL_RES_LEN];
	char disk[MARS_CTL_PATH_LEN];
	char dir[MARS_CTL_PATH_LEN];
};

/*
 * MARS_CTL_IOC_DETACH and MARS_CTL_IOC_ROTATE: name one resource.
 *    0  u32  flags in, must be zero
 *    4  u32  reserved, zero
 *    8  char resource name
 */
struct mars_ctl_res {
	__u32 flags;
	__u32 reserved;
	char resource[MARS_CTL_RES_LEN];
};

/*
 * MARS_CTL_IOC_SET_PRIMARY: recover, start a fresh logfile, accept writes.
 *    0  u32  flags in: MARS_CTL_PRIMARY_F_FIRST_NR or zero
 *    4  u32  first_nr: with that flag, the lowest number the fresh
 *            logfile may get (interface 1.2; before it "reserved, zero")
 *    8  u64  recovery start position in recover_logfile (8-aligned)
 *   16  char resource name
 *   48  char this host's name: origin of the logfiles written
 *  112  char logfile to recover from (base name, log-NNNNNNNNN-ORIGIN,
 *            the replay-<host> link's value), or "" for none
 */
#define MARS_CTL_PRIMARY_F_FIRST_NR	0x1	/* interface 1.2 */

struct mars_ctl_primary {
	__u32 flags;
	__u32 first_nr;
	__u64 recover_pos;
	char resource[MARS_CTL_RES_LEN];
	char host[MARS_CTL_HOST_LEN];
	char recover_logfile[MARS_CTL_LOGNAME_LEN];
};

/*
 * MARS_CTL_IOC_SET_REPLAY: apply a logfile, following it as it grows.
 *    0  u32  flags in, must be zero
 *    4  u32  reserved, zero
 *    8  u64  start position (a record boundary, 8-aligned)
 *   16  u64  sequence number expected at the start, 0 = any
 *   24  char resource name
 *   56  char logfile, base name log-NNNNNNNNN-ORIGIN in the resource dir
 */
struct mars_ctl_replay {
	__u32 flags;
	__u32 reserved;
	__u64 start_pos;
	__u64 first_seq;
	char resource[MARS_CTL_RES_LEN];
	char logfile[MARS_CTL_LOGNAME_LEN];
};

/*
 * MARS_CTL_IOC_STATUS: a consistent snapshot of one resource.  Everything
 * after the resource name is output.  Counters restart at each mode change.
 *    0  u32  flags in, must be zero
 *    4  u32  reserved, zero
 *    8  char resource name (in)
 *   40  u32  mode                     MARS_CTL_MODE_*
 *   44  u32  replay state             MARS_CTL_RS_*
 *   48  s32  last error, -errno or 0
 *   52  u32  openers of /dev/mars/<resource>
 *   56  u64  size in bytes
 *   64  u64  primary: bytes appended to logfile
 *   72  u64  primary: bytes of logfile known durable
 *   80  u64  primary: flush/FUA requests received
 *   88  u64  primary: log syncs they cost (group commit)
 *   96  u64  bytes of applied_logfile applied and synced on the disk
 *  104  u64  records written (primary) or applied (replay, recovery)
 *  112  u64  device bytes of those records
 *  120  u64  writes in flight to the underlying disk
 *  128  u64  device bytes per second over about the last second
 *  136  u64  replay/recovery: logfile offset where it stopped or waits
 *  144  u32  replay/recovery: scanner result there (enum mars_scan_result)
 *  148  u32  replay/recovery: scanner reason (enum mars_scan_reason)
 *  152  char logfile written (primary) or replayed, "" in ATTACHED
 *  280  char logfile of applied_pos
 *  408  u64  primary: bytes of writes logged, not yet on the disk (1.3)
 *  416  u64  primary: high-water mark of those bytes (1.3)
 *  424  u64  primary: the limit on them; writers wait above it (1.3)
 */
struct mars_ctl_status {
	__u32 flags;
	__u32 reserved;
	char resource[MARS_CTL_RES_LEN];
	__u32 mode;
	__u32 replay_state;
	__s32 error;
	__u32 open_count;
	__u64 size_bytes;
	__u64 log_end;
	__u64 synced_pos;
	__u64 sync_requests;
	__u64 log_syncs;
	__u64 applied_pos;
	__u64 records;
	__u64 data_bytes;
	__u64 inflight;
	__u64 rate_bps;
	__u64 stop_offset;
	__u32 stop_result;
	__u32 stop_reason;
	char logfile[MARS_CTL_LOGNAME_LEN];
	char applied_logfile[MARS_CTL_LOGNAME_LEN];
	__u64 pending_bytes;
	__u64 pending_peak_bytes;
	__u64 pending_limit_bytes;
};

#define MARS_CTL_NR_VERSION	0x01
#define MARS_CTL_NR_SELFTEST	0x02
#define MARS_CTL_NR_ATTACH	0x10
#define MARS_CTL_NR_DETACH	0x11
#define MARS_CTL_NR_SET_PRIMARY	0x12
#define MARS_CTL_NR_SET_REPLAY	0x13
#define MARS_CTL_NR_ROTATE	0x14
#define MARS_CTL_NR_STATUS	0x15

#define MARS_CTL_IOC_VERSION \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_VERSION, struct mars_ctl_version)
#define MARS_CTL_IOC_SELFTEST \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_SELFTEST, struct mars_ctl_selftest)
#define MARS_CTL_IOC_ATTACH \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_ATTACH, struct mars_ctl_attach)
#define MARS_CTL_IOC_DETACH \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_DETACH, struct mars_ctl_res)
#define MARS_CTL_IOC_SET_PRIMARY \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_SET_PRIMARY, struct mars_ctl_primary)
#define MARS_CTL_IOC_SET_REPLAY \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_SET_REPLAY, struct mars_ctl_replay)
#define MARS_CTL_IOC_ROTATE \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_ROTATE, struct mars_ctl_res)
#define MARS_CTL_IOC_STATUS \
	_IOWR(MARS_CTL_IOC_TYPE, MARS_CTL_NR_STATUS, struct mars_ctl_status)

/* Sizes of the first published layouts, the smallest the module takes. */
#define MARS_CTL_VERSION_SIZE_V1	56
#define MARS_CTL_SELFTEST_SIZE_V1	48
#define MARS_CTL_ATTACH_SIZE_V1		560
#define MARS_CTL_RES_SIZE_V1		40
#define MARS_CTL_PRIMARY_SIZE_V1	240
#define MARS_CTL_REPLAY_SIZE_V1		184
#define MARS_CTL_STATUS_SIZE_V1		408
#define MARS_CTL_STATUS_SIZE_V3		432	/* interface 1.3: pending_* */

_Static_assert(sizeof(struct mars_ctl_version) == MARS_CTL_VERSION_SIZE_V1,
	       "mars_ctl_version layout");
_Static_assert(sizeof(struct mars_ctl_selftest) == MARS_CTL_SELFTEST_SIZE_V1,
	       "mars_ctl_selftest layout");
_Static_assert(sizeof(struct mars_ctl_attach) == MARS_CTL_ATTACH_SIZE_V1,
	       "mars_ctl_attach layout");
_Static_assert(sizeof(struct mars_ctl_res) == MARS_CTL_RES_SIZE_V1,
	       "mars_ctl_res layout");
_Static_assert(sizeof(struct mars_ctl_primary) == MARS_CTL_PRIMARY_SIZE_V1,
	       "mars_ctl_primary layout");
_Static_assert(sizeof(struct mars_ctl_replay) == MARS_CTL_REPLAY_SIZE_V1,
	       "mars_ctl_replay layout");
_Static_assert(sizeof(struct mars_ctl_status) == MARS_CTL_STATUS_SIZE_V3,
	       "mars_ctl_status layout");

#endif /* MARS_CTL_H */
