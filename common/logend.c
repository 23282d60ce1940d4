/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fast path reads the trailer at the file's end, takes the record
 * length it repeats, and scans that one record with libmars's scanner:
 * a file that ends in a whole valid record is finished as far as a length
 * goes (preallocated zeros, a torn or an incomplete record never end in a
 * valid trailer).  Only a file that does not is scanned from the start,
 * through the bounded reader, which happens after a writer died with
 * its tail uncut.
 */
#include "common/logend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/logreader.h"
#include "mars/le.h"

/* 1 if a valid record ends exactly at @size, 0 if not, -errno. */
static int
logend_last_record_ok(int fd, uint64_t size)
{
	uint8_t trl[MARS_REC_TRL_BYTES], *buf;
	struct mars_rec rec;
	uint32_t len;
	ssize_t n;
	int ret;

	if (size < MARS_REC_OVERHEAD || size % MARS_REC_ALIGN)
		return 0;
	n = io_pread_full(fd, trl, sizeof(trl), (off_t)(size - sizeof(trl)));
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(trl))
		return 0;
	len = mars_get_le32(trl + MARS_TRL_OFF_RECLEN);
	if (len < MARS_REC_OVERHEAD || len > MARS_REC_MAX_BYTES || len % MARS_REC_ALIGN ||
	    len > size)
		return 0;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	n = io_pread_full(fd, buf, len, (off_t)(size - len));
	ret = n < 0 ? (int)n : 0;
	if (!ret && (size_t)n == len)
		ret = mars_rec_scan(buf, len, 0, 0, &rec) == MARS_SCAN_RECORD &&
		      rec.rec_len == len;
	free(buf);
	return ret;
}

/* Scan from the start to the first stop; decide whether it is a tail. */
static int
logend_scan(int fd, uint64_t *end)
{
	struct logreader lr;
	struct logreader_rec r;
	uint64_t at;
	int ret, rfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (rfd < 0)
		return -errno;
	ret = logreader_open_fd(&lr, rfd);
	if (ret)
		return ret;
	/* Each round moves past one record of a finite file: bounded. */
	while (!(ret = logreader_next(&lr, &r)) && r.result == MARS_SCAN_RECORD)
		;
	if (!ret && r.result == MARS_SCAN_SEQ_GAP)
		ret = -EBADMSG;
	if (!ret && r.result == MARS_SCAN_CORRUPT) {
		ret = logreader_find_record(&lr, r.offset + MARS_REC_ALIGN, &at);
		ret = ret < 0 ? ret : ret ? -EBADMSG : 0;
	}
	if (!ret)
		*end = r.offset;
	logreader_close(&lr);
	return ret;
}

uint64_t
logend_length(int fd)
{
	uint64_t end, size = 0;
	int ret = logend_find(fd, &end, &size);

	if (ret == -EBADMSG)
		return size;
	return ret ? 0 : end;
}

int
logend_find(int fd, uint64_t *end, uint64_t *size)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	ret = logend_last_record_ok(fd, *size);
	if (ret < 0)
		return ret;
	if (ret || *size == 0) {
		*end = *size;
		return 0;
	}
	return logend_scan(fd, end);
}
