/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the records of a logfile end, for readers that need a logfile's
 * length and cannot take its file size on trust.
 *
 * Why: the logfile a primary is writing carries preallocated zeros after
 * its log end (docs/logfile-format.md 1.1), and a writer killed before it
 * cut them (kill -9 of the userspace engine) leaves them there, or a torn
 * record.  A finished logfile ends at its last record, so its file size is
 * its length; logend_find() checks that in O(1) (does a valid record end
 * exactly at the file's end?) and scans the file only when it does not.
 */
#ifndef MARS_COMMON_LOGEND_H
#define MARS_COMMON_LOGEND_H

#include <stdint.h>

/*
 * The end of the valid records of the logfile open at @fd (any access
 * mode; the offset is not used).  Returns 0 with *@end set and *@size
 * the file size: *@end == *@size for a finished file; *@end < *@size when
 * the tail after the last valid record is preallocated zeros, a torn or
 * incomplete record, or damage with no valid record after it (what
 * recovery cuts off, docs/logfile-format.md 1.1 and 5).  Returns -EBADMSG
 * when a valid record follows the damage (damage mid-file, or a sequence
 * gap: not a tail to cut), -errno on a read error or -EINVAL for a file
 * that is not regular.
 */
int logend_find(int fd, uint64_t *end, uint64_t *size);

/*
 * The length of the logfile open at @fd, for a version link or a vouch:
 * logend_find()'s end; the file size when damage sits before valid
 * records (not a tail: the length stays what it was before preallocation,
 * and replay reports the damage); 0 if the file cannot be read or is not
 * a regular file.
 */
uint64_t logend_length(int fd);

#endif /* MARS_COMMON_LOGEND_H */
