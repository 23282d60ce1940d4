/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a logfile record by record through a bounded window.
 *
 * A logfile may be many gigabytes; the reader never holds more than two
 * maximal records (about 2 MiB) of it.  It feeds mars_rec_scan() a window
 * that holds at least MARS_REC_MAX_BYTES from the scan offset, or
 * everything up to the end of the file, so every scan result it returns
 * is final for the file as it was read: "incomplete" really means the
 * file ends inside a record, not that the window did.
 */
#ifndef MARS_COMMON_LOGREADER_H
#define MARS_COMMON_LOGREADER_H

#include <stdint.h>

#include "mars/logrec.h"

struct logreader {
	int fd;
	uint8_t *buf;		/* the window: file bytes [base, base + len) */
	size_t cap;		/* bytes allocated for buf */
	size_t len;		/* bytes valid in buf */
	uint64_t base;		/* file offset of buf[0] */
	int eof;		/* the window reaches the end of the file */
	uint64_t pos;		/* file offset of the next scan */
	uint64_t expect_seq;	/* sequence number the next record must carry */
	uint64_t records;	/* records returned so far */
};

/* One scan result with file offsets. */
struct logreader_rec {
	enum mars_scan_result result;
	struct mars_rec rec;	/* as from mars_rec_scan; offsets window-relative */
	uint64_t offset;	/* file offset of the record, or of the stop */
	const uint8_t *payload;	/* RECORD/SEQ_GAP: stored_len bytes, valid
				   until the next call */
};

/*
 * Open @path for reading.  Returns 0, or -errno: -ENOENT, -EACCES,
 * -EISDIR for a directory, -EINVAL for anything that is neither a regular
 * file nor a block device, -ENOMEM.
 */
int logreader_open(struct logreader *lr, const char *path);

/* The same for @fd, which the reader owns from now on (closed on every
 * failure too). */
int logreader_open_fd(struct logreader *lr, int fd);

/*
 * Scan the record at the current position.  On MARS_SCAN_RECORD the
 * position advances past it and the next record must carry the following
 * sequence number (the first must carry 1).  Any other result leaves the
 * position where the scan stopped; calling again returns the same.
 * Returns 0 or -errno for a read error.
 */
int logreader_next(struct logreader *lr, struct logreader_rec *out);

/*
 * Look for the first valid record (any sequence number) at an 8-byte
 * aligned file offset at or after @from, reading to the end of the file
 * if need be.  Returns 1 and sets *@at when one is found, 0 when none
 * follows, -errno on a read error.  Moves the window, not the position.
 */
int logreader_find_record(struct logreader *lr, uint64_t from, uint64_t *at);

/* Close the file and free the window; @lr may then be opened again. */
void logreader_close(struct logreader *lr);

#endif /* MARS_COMMON_LOGREADER_H */
