// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery on the way to PRIMARY: bring the underlying disk up to the end
 * of this host's valid log records before any new write is accepted.
 *
 * The start is the applied position clusterd read from replay-<host>
 * (logfile and offset; everything before it is on the disk and synced).
 * From there, this host's logfiles are applied in number order, later
 * ones from offset 0, each to the end of its valid records.  What ends a
 * file (docs/logfile-format.md section 5):
 *  - end, incomplete, torn: the end, or the tail a crash left: ignored;
 *  - corrupt with no valid record after it: a torn tail too, ignored;
 *  - corrupt followed by a valid record, or a sequence gap: the log is
 *    damaged, recovery fails with -EBADMSG and status names the place.
 * Each file that ended well is cut where its valid records end, and
 * synced, when it is longer: past the log end of the logfile being
 * written at the crash lie preallocated zeros or a torn record
 * (docs/logfile-format.md 1.1), and from here on the file counts as
 * finished, its size its length to every reader.  A damaged log is left
 * as it is, for the operator to look at.
 * Then the disk is flushed; the caller starts logfile N+1, N being the
 * highest number of any host in the directory, so an old logfile is never
 * appended to.
 *
 * It runs in the ioctl caller's context, synchronously, with
 * mars_res_mutex held: the device is closed and no other request can
 * change the resource meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>

#include "mars.h"

static void
mars_recover_note_stop(struct mars_res *res, enum mars_scan_result r,
		       const struct mars_rec *rec)
{
	MARS_STAT(res, {
		s->stop_result = r;
		s->stop_reason = rec->reason;
		s->stop_offset = rec->offset;
	});
}

/* What ended the file: 0 to go on, or -errno. */
static int
mars_recover_verdict(struct mars_logread *lr, enum mars_scan_result r)
{
	switch (r) {
	case MARS_SCAN_END:
	case MARS_SCAN_INCOMPLETE:
	case MARS_SCAN_TORN:
		return 0;
	case MARS_SCAN_CORRUPT:
		if (lr->err)
			return lr->err;
		return mars_logread_valid_after(lr) ? -EBADMSG : 0;
	default:
		return -EBADMSG;
	}
}

/*
 * Cut @file at @end, the end of its last valid record, and make that
 * durable (a full fsync: a shrinking size is metadata).  The cut goes
 * first, so a crash in between leaves the longer file, which the next
 * recovery cuts again.
 */
static int
mars_recover_cut(struct mars_res *res, struct file *file, loff_t end)
{
	loff_t size = i_size_read(file_inode(file));
	int ret;

	if (end >= size)
		return 0;
	ret = vfs_truncate(&file->f_path, end);
	if (!ret)
		ret = vfs_fsync(file, 0);
	if (ret)
		pr_err("%s: cannot cut %pD at %lld (%d)\n", res->name,
		       file, (long long)end, ret);
	else
		pr_info("%s: cut %pD at %lld, after its last valid record (was %lld bytes)\n",
			res->name, file,
			(long long)end, (long long)size);
	return ret;
}

static int
mars_recover_file(struct mars_res *res, struct mars_disk_buf *db,
		  struct file *file, loff_t pos)
{
	enum mars_scan_result r;
	struct mars_logread lr;
	const u8 *payload;
	struct mars_rec rec;
	int ret;

	ret = mars_logread_init(&lr, file, pos, 0);
	if (ret)
		return ret;
	while ((r = mars_logread_next(&lr, &rec, &payload)) ==
	       MARS_SCAN_RECORD) {
		ret = mars_disk_write(res, db, rec.hdr.dev_off, payload,
				      rec.hdr.data_len);
		if (ret)
			goto out;
		MARS_STAT(res, {
			s->records++;
			s->data_bytes += rec.hdr.data_len;
		});
	}
	mars_recover_note_stop(res, r, &rec);
	ret = mars_recover_verdict(&lr, r);
	if (ret == -EBADMSG)
		pr_err("%s: recovery stopped in %s at %llu: %s (%s)\n",
		       res->name, res->stat.logfile, (u64)rec.offset,
		       mars_scan_result_name(r),
		       mars_scan_reason_name(rec.reason));
	if (!ret)
		ret = mars_recover_cut(res, file, rec.offset);
out:
	mars_logread_release(&lr);
	return ret;
}

/* Open own logfile @nr; NULL (not an error) if it does not exist. */
static struct file *
mars_recover_open(struct mars_res *res, u32 nr, bool must_exist)
{
	char name[MARS_CTL_LOGNAME_LEN];
	struct file *file;
	int ret;

	ret = mars_logfile_name(name, nr, res->host);
	if (ret)
		return ERR_PTR(ret);
	/* Writable: recovery cuts what follows the last valid record. */
	file = mars_logfile_open(res, name, O_RDWR);
	if (IS_ERR(file) && PTR_ERR(file) == -ENOENT && !must_exist)
		return NULL;
	if (!IS_ERR(file))
		MARS_STAT(res, strscpy(s->logfile, name, sizeof(s->logfile)));
	return file;
}

static int
mars_recover_from(struct mars_res *res, u32 first, u32 last, u64 pos)
{
	struct mars_disk_buf *db;
	struct file *file;
	int ret = 0;
	u32 nr;

	db = mars_disk_buf_alloc();
	if (!db)
		return -ENOMEM;
	for (nr = first; nr <= last && !ret; nr++) {
		file = mars_recover_open(res, nr, nr == first);
		if (IS_ERR(file)) {
			ret = PTR_ERR(file);
			break;
		}
		if (!file)
			continue;
		/* Still sound with preallocation: an applied position is
		 * never past the log end, zeros only add to the size. */
		if (nr == first && pos > i_size_read(file_inode(file)))
			ret = -EINVAL;
		else
			ret = mars_recover_file(res, db, file,
						nr == first ? pos : 0);
		fput(file);
	}
	mars_disk_buf_free(db);
	return ret;
}

/*
 * Recover from @logfile (a base name, "" for none) at @pos.  On success
 * *max_nr is the highest logfile number in the directory.  -EUCLEAN when
 * this host has logfiles numbered @own_from or higher but no start was
 * given (never guess; lower ones belong to an earlier incarnation of the
 * resource), -ENOENT when the named logfile is missing, -EBADMSG on a
 * damaged log.
 */
int
mars_recover(struct mars_res *res, const char *logfile, u64 pos, u32 own_from,
	     u32 *max_nr)
{
	struct mars_logname first;
	u32 own;
	int ret;

	ret = mars_logdir_max(res, max_nr, res->host, own_from, &own);
	if (ret)
		return ret;
	if (!logfile[0])
		return own ? -EUCLEAN : 0;
	if (mars_logfile_parse(logfile, strnlen(logfile, MARS_CTL_LOGNAME_LEN),
			       &first) || pos % MARS_REC_ALIGN)
		return -EINVAL;
	/* Another host's logfile: finishing that replay is clusterd's job. */
	if (strcmp(first.host, res->host))
		return 0;
	if (first.nr > *max_nr)
		return -ENOENT;
	ret = mars_recover_from(res, first.nr, *max_nr, pos);
	if (ret)
		return ret;
	return mars_disk_flush(res);
}
