/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Applying a logfile to the disk: the one loop behind primary recovery,
 * secondary replay and the apply tool.  Records are applied strictly in
 * file order and only once they scanned as complete and valid, so a
 * corrupt, torn or missing record stops the loop before anything after it
 * reaches the disk.  What the stop means (wait, ignore the torn tail,
 * report) is the caller's policy; this file only reports it.
 */
#include <errno.h>
#include <string.h>

#include "common/io.h"
#include "engine/internal.h"

int
eng_apply_open(struct eng_apply *a, int disk_fd, uint64_t disk_bytes,
	       const char *logfile, uint64_t from)
{
	int ret;

	memset(a, 0, sizeof(*a));
	a->disk_fd = disk_fd;
	a->disk_bytes = disk_bytes;
	ret = logreader_open(&a->lr, logfile);
	if (ret)
		return ret;
	if (from % MARS_REC_ALIGN) {
		logreader_close(&a->lr);
		return -EINVAL;
	}
	a->lr.pos = from;
	/* Mid-file the number of the next record is unknown; take any. */
	a->lr.expect_seq = from ? 0 : 1;
	return 0;
}

int
eng_apply_run(struct eng_apply *a, uint64_t max)
{
	struct logreader_rec r;
	uint64_t n;
	int ret;

	for (n = 0; !max || n < max; n++) {
		ret = logreader_next(&a->lr, &r);
		if (ret)
			return ret;
		if (r.result != MARS_SCAN_RECORD) {
			a->stop = r;
			return (int)r.result;
		}
		if (r.rec.hdr.dev_off + r.rec.hdr.data_len > a->disk_bytes) {
			/* Step back: the record is not applied. */
			a->lr.pos = r.offset;
			a->stop = r;
			return -EFBIG;
		}
		ret = io_pwrite_full(a->disk_fd, r.payload, r.rec.hdr.stored_len,
				     (off_t)r.rec.hdr.dev_off);
		if (ret) {
			a->lr.pos = r.offset;
			return ret;
		}
		a->records++;
		a->data_bytes += r.rec.hdr.data_len;
	}
	return MARS_SCAN_RECORD;
}

void
eng_apply_rescan(struct eng_apply *a)
{
	/* The window cached the old end of file; make the next scan re-read. */
	a->lr.eof = 0;
}

uint64_t
eng_apply_pos(const struct eng_apply *a)
{
	return a->lr.pos;
}

int
eng_apply_valid_after_stop(struct eng_apply *a)
{
	uint64_t at;
	int ret = logreader_find_record(&a->lr, a->stop.offset + MARS_REC_ALIGN, &at);

	return ret < 0 ? ret : ret == 1;
}

void
eng_apply_close(struct eng_apply *a)
{
	logreader_close(&a->lr);
}
