/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The window rule: before each scan at offset X the window holds
 * [X, X + MARS_REC_MAX_BYTES) or [X, end of file).  The scanner never
 * looks further than MARS_REC_MAX_BYTES from its offset, so it sees
 * exactly what it would see with the whole file in memory, and a
 * two-record window bounds memory whatever the file size.
 */
#include "common/logreader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "mars/le.h"

#define LOGREADER_WINDOW_BYTES	(2 * (size_t)MARS_REC_MAX_BYTES)

int
logreader_open(struct logreader *lr, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		memset(lr, 0, sizeof(*lr));
		lr->fd = -1;
		return -errno;
	}
	return logreader_open_fd(lr, fd);
}

int
logreader_open_fd(struct logreader *lr, int fd)
{
	struct stat st;
	int ret;

	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	if (fstat(lr->fd, &st) < 0) {
		ret = -errno;
		goto out_close;
	}
	ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		goto out_close;
	lr->cap = LOGREADER_WINDOW_BYTES;
	lr->buf = malloc(lr->cap);
	ret = -ENOMEM;
	if (!lr->buf)
		goto out_close;
	lr->expect_seq = 1;
	return 0;

out_close:
	close(lr->fd);
	lr->fd = -1;
	return ret;
}

void
logreader_close(struct logreader *lr)
{
	if (lr->fd >= 0)
		close(lr->fd);
	free(lr->buf);
	memset(lr, 0, sizeof(*lr));
	lr->fd = -1;
}

/* Establish the window rule for offset @off (see the top of the file). */
static int
logreader_window(struct logreader *lr, uint64_t off)
{
	size_t keep = 0;
	ssize_t n;

	if (off >= lr->base && off <= lr->base + lr->len) {
		keep = (size_t)(lr->base + lr->len - off);
		if (keep >= MARS_REC_MAX_BYTES || lr->eof)
			return 0;
		memmove(lr->buf, lr->buf + (off - lr->base), keep);
	}
	lr->base = off;
	lr->len = keep;
	n = io_pread_full(lr->fd, lr->buf + keep, lr->cap - keep, (off_t)(off + keep));
	if (n < 0)
		return (int)n;
	lr->len += (size_t)n;
	lr->eof = (size_t)n < lr->cap - keep;
	return 0;
}

/* Scan at file offset @off with the window rule in force. */
static int
logreader_scan(struct logreader *lr, uint64_t off, uint64_t expect_seq,
	       struct logreader_rec *out)
{
	int ret = logreader_window(lr, off);

	if (ret)
		return ret;
	out->result = mars_rec_scan(lr->buf, lr->len, (size_t)(off - lr->base),
				    expect_seq, &out->rec);
	out->offset = off;
	out->payload = NULL;
	if (out->result == MARS_SCAN_RECORD || out->result == MARS_SCAN_SEQ_GAP)
		out->payload = lr->buf + out->rec.payload_off;
	return 0;
}

int
logreader_next(struct logreader *lr, struct logreader_rec *out)
{
	int ret = logreader_scan(lr, lr->pos, lr->expect_seq, out);

	if (ret || out->result != MARS_SCAN_RECORD)
		return ret;
	lr->pos += out->rec.rec_len;
	lr->expect_seq = out->rec.hdr.seq + 1;
	lr->records++;
	return 0;
}

int
logreader_find_record(struct logreader *lr, uint64_t from, uint64_t *at)
{
	uint64_t off = (from + MARS_REC_ALIGN - 1) & ~(uint64_t)(MARS_REC_ALIGN - 1);
	struct logreader_rec r;
	int ret;

	for (;; off += MARS_REC_ALIGN) {
		ret = logreader_window(lr, off);
		if (ret)
			return ret;
		if (off >= lr->base + lr->len)
			return 0;
		/* Cheap test first: most offsets do not even hold the magic. */
		if (lr->base + lr->len - off >= 8 &&
		    mars_get_le64(lr->buf + (off - lr->base)) != MARS_REC_MAGIC)
			continue;
		ret = logreader_scan(lr, off, 0, &r);
		if (ret)
			return ret;
		if (r.result == MARS_SCAN_RECORD) {
			*at = off;
			return 1;
		}
	}
}
