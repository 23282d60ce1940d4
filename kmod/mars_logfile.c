// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logfiles as files: their names (log-NNNNNNNNN-ORIGIN, parsed and
 * built by the shared codec, docs/state-tree.md section 2.1), the scan
 * of the resource directory for the highest number, opening one by name,
 * and a reader that hands out records one by one.
 *
 * Every lookup is relative to the resource directory opened at attach
 * (file_open_root), never an absolute path: kernel threads do not share
 * the caller's root, and a directory renamed under us stays the one the
 * operator attached.
 *
 * The reader keeps a window of the file (two largest records) and scans
 * it with the shared scanner, mars_rec_scan().  When the scanner wants
 * bytes past the window, the window moves to the record and is read
 * again; a file that grew in the meantime is simply read further.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "mars.h"

#define MARS_LOGREAD_CAP	(2 * MARS_REC_MAX_BYTES)

/*
 * The grammar is the shared codec's (libmars/names.c); the module adds
 * only that a file is never number 0, which names the anchor version link
 * below a resource's first logfile and no file.
 */
int
mars_logfile_parse(const char *name, size_t len, struct mars_logname *ln)
{
	int ret = mars_logname_parse(name, len, ln);

	if (ret)
		return ret;
	return ln->nr ? 0 : -EINVAL;
}

int
mars_logfile_name(char buf[MARS_CTL_LOGNAME_LEN], u32 nr, const char *host)
{
	int n;

	if (!nr)
		return -ERANGE;
	n = mars_logname_format(buf, MARS_CTL_LOGNAME_LEN, nr, host);
	return n < 0 ? n : 0;
}

struct file *
mars_logfile_open(struct mars_res *res, const char *name, int flags)
{
	return file_open_root(&res->dir->f_path, name, flags | O_LARGEFILE,
			      0600);
}

/*
 * Create logfile @name, empty, and make its existence durable before any
 * position in it is published: an applied position naming a logfile that
 * a power loss took away would make recovery fail (-ENOENT).
 */
struct file *
mars_logfile_create(struct mars_res *res, const char *name)
{
	struct file *file;
	int ret;

	file = mars_logfile_open(res, name, O_WRONLY | O_CREAT | O_EXCL);
	if (IS_ERR(file))
		return file;
	ret = vfs_fsync(file, 0);
	if (!ret)
		ret = vfs_fsync(res->dir, 0);
	if (ret) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

/* ---- the directory scan ------------------------------------------ */

struct mars_logdir_ctx {
	struct dir_context ctx;
	const char *host;
	u32 own_from;
	u32 max_nr;
	u32 own_count;
};

static bool
mars_logdir_actor(struct dir_context *ctx, const char *name, int namlen,
		  loff_t offset, u64 ino, unsigned int d_type)
{
	struct mars_logdir_ctx *lc = container_of(ctx, struct mars_logdir_ctx,
						  ctx);
	struct mars_logname ln;

	if (namlen <= 0 || mars_logfile_parse(name, namlen, &ln))
		return true;
	lc->max_nr = max(lc->max_nr, ln.nr);
	if (lc->host && !strcmp(ln.host, lc->host) && ln.nr >= lc->own_from)
		lc->own_count++;
	return true;
}

/*
 * The highest logfile number of any origin in the resource directory (0
 * when there is none), and how many logfiles numbered @own_from or
 * higher @host wrote.
 */
int
mars_logdir_max(struct mars_res *res, u32 *max_nr, const char *host,
		u32 own_from, u32 *own_count)
{
	struct mars_logdir_ctx lc = {
		.ctx.actor = mars_logdir_actor,
		.host = host,
		.own_from = own_from,
	};
	struct file *dir;
	int ret;

	dir = file_open_root(&res->dir->f_path, ".", O_RDONLY | O_DIRECTORY, 0);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	ret = iterate_dir(dir, &lc.ctx);
	fput(dir);
	if (ret)
		return ret;
	*max_nr = lc.max_nr;
	if (own_count)
		*own_count = lc.own_count;
	return 0;
}

/* ---- the reader ----------------------------------------------------- */

int
mars_logread_init(struct mars_logread *lr, struct file *file, loff_t pos,
		  u64 expect_seq)
{
	memset(lr, 0, sizeof(*lr));
	lr->buf = vmalloc(MARS_LOGREAD_CAP);
	if (!lr->buf)
		return -ENOMEM;
	lr->cap = MARS_LOGREAD_CAP;
	lr->file = file;
	lr->buf_pos = pos;
	lr->pos = pos;
	lr->expect_seq = expect_seq;
	return 0;
}

void
mars_logread_release(struct mars_logread *lr)
{
	vfree(lr->buf);
	lr->buf = NULL;
}

/* Move the window to lr->pos and fill it; returns bytes or -errno. */
static ssize_t
mars_logread_fill(struct mars_logread *lr)
{
	loff_t off = lr->pos;
	size_t got = 0;

	while (got < lr->cap) {
		ssize_t n = kernel_read(lr->file, lr->buf + got, lr->cap - got,
					&off);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += n;
	}
	lr->buf_pos = lr->pos;
	lr->buf_len = got;
	return got;
}

static enum mars_scan_result
mars_logread_scan(struct mars_logread *lr, struct mars_rec *rec)
{
	return mars_rec_scan(lr->buf, lr->buf_len, lr->pos - lr->buf_pos,
			     lr->expect_seq, rec);
}

/*
 * The next record.  On MARS_SCAN_RECORD @payload points at its data
 * (valid until the next call) and the reader advances; on every other
 * result it stays, rec->offset is made a file offset, and a later call
 * looks again (the file may have grown).  A failed read is reported as
 * MARS_SCAN_CORRUPT with reason MARS_REASON_NONE and the -errno in
 * lr->err.
 */
enum mars_scan_result
mars_logread_next(struct mars_logread *lr, struct mars_rec *rec,
		  const u8 **payload)
{
	enum mars_scan_result res = mars_logread_scan(lr, rec);
	ssize_t n;

	if (res == MARS_SCAN_END || res == MARS_SCAN_INCOMPLETE) {
		n = mars_logread_fill(lr);
		if (n < 0) {
			memset(rec, 0, sizeof(*rec));
			rec->offset = lr->pos;
			lr->err = n;
			return MARS_SCAN_CORRUPT;
		}
		res = mars_logread_scan(lr, rec);
	}
	if (res != MARS_SCAN_RECORD) {
		rec->offset = lr->pos;
		return res;
	}
	*payload = lr->buf + rec->payload_off;
	rec->offset = lr->pos;
	rec->next = lr->pos + rec->rec_len;
	lr->pos = rec->next;
	lr->expect_seq = rec->hdr.seq + 1;
	return res;
}

/*
 * After a corrupt record at lr->pos: does any valid record start at a
 * later 8-byte boundary?  If not, the damage is a crash's torn tail.
 * The reader's position is left where it was.
 */
bool
mars_logread_valid_after(struct mars_logread *lr)
{
	loff_t start = lr->pos;
	struct mars_rec rec;
	bool found = false;
	size_t off;

	lr->pos = start + MARS_REC_ALIGN;
	while (!found && mars_logread_fill(lr) > 0) {
		for (off = 0; off + MARS_REC_HDR_BYTES <= lr->buf_len;
		     off += MARS_REC_ALIGN) {
			if (mars_rec_scan(lr->buf, lr->buf_len, off, 0, &rec) ==
			    MARS_SCAN_RECORD) {
				found = true;
				break;
			}
		}
		if (lr->buf_len < lr->cap)
			break;
		/* Overlap by one record so none straddles unseen. */
		lr->pos += lr->cap - MARS_REC_MAX_BYTES;
	}
	lr->pos = start;
	lr->buf_len = 0;
	lr->buf_pos = start;
	return found;
}
