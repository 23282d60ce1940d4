/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The FUSE front end: a directory holding one regular file, the
 * resource's device, of exactly the resource size.  Reads, writes and
 * fsync all go to the logger: reads see writes still queued for the disk
 * (pending.c), fsync is the logger's group commit.  The file cannot change
 * size.  Requests run on libfuse's thread pool; all ordering lives in the
 * logger.  The fallback front end (nbd.c is the other): FUSE caps a
 * write at one request, so a loop device over the file is slower than
 * /dev/nbdN, but it needs only /dev/fuse.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/internal.h"

struct eng_fuse {
	struct mars_engine *e;
	char path[80];			/* "/<resource>" */
	uint64_t size_bytes;
	const struct eng_serve *s;
};

static struct eng_fuse *
eng_fuse_ctx(void)
{
	return fuse_get_context()->private_data;
}

static int
eng_fuse_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct eng_fuse *f = eng_fuse_ctx();

	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0700;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, f->path) != 0)
		return -ENOENT;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)f->size_bytes;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)(f->size_bytes / 512);
	return 0;
}

static int
eng_fuse_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		 struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	if (strcmp(path, "/") != 0)
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, eng_fuse_ctx()->path + 1, NULL, 0, 0);
	return 0;
}

static int
eng_fuse_open(const char *path, struct fuse_file_info *fi)
{
	/* O_TRUNC arrives here (atomic_o_trunc) and is ignored, as a block
	 * device ignores it. */
	if (strcmp(path, eng_fuse_ctx()->path) != 0)
		return -ENOENT;
	/* Not an I/O: one tree write per handle opened (actual.c). */
	eng_actual_open(eng_fuse_ctx()->e, 1);
	return 0;
}

static int
eng_fuse_release(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, eng_fuse_ctx()->path) == 0)
		eng_actual_open(eng_fuse_ctx()->e, -1);
	return 0;
}

static int
eng_fuse_read(const char *path, char *buf, size_t len, off_t off,
	      struct fuse_file_info *fi)
{
	struct eng_fuse *f = eng_fuse_ctx();

	if ((uint64_t)off >= f->size_bytes)
		return 0;
	if (len > f->size_bytes - (uint64_t)off)
		len = (size_t)(f->size_bytes - (uint64_t)off);
	/* Queued writes are newer than the disk (logger.c). */
	return (int)eng_logger_read(&f->e->logger, buf, len, (uint64_t)off);
}

static int
eng_fuse_write(const char *path, const char *buf, size_t len, off_t off,
	       struct fuse_file_info *fi)
{
	struct eng_fuse *f = eng_fuse_ctx();
	int ret;

	if (off < 0 || (uint64_t)off >= f->size_bytes)
		return -ENOSPC;
	if (len > f->size_bytes - (uint64_t)off)
		len = (size_t)(f->size_bytes - (uint64_t)off);
	ret = eng_logger_write(&f->e->logger, buf, len, (uint64_t)off);
	return ret ? ret : (int)len;
}

static int
eng_fuse_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return eng_logger_sync(&eng_fuse_ctx()->e->logger);
}

static int
eng_fuse_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	return (uint64_t)size == eng_fuse_ctx()->size_bytes ? 0 : -EPERM;
}

static void *
eng_fuse_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct eng_fuse *f = eng_fuse_ctx();

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	cfg->use_ino = 0;
	cfg->direct_io = 0;
	if (conn->max_write < MARS_REC_MAX_PAYLOAD)
		conn->max_write = MARS_REC_MAX_PAYLOAD;
	/* The kernel's INIT: the mount is live; requests wait for this reply. */
	if (f->s->ready) {
		char dev[4096];

		snprintf(dev, sizeof(dev), "%s%s", f->s->mount, f->path);
		f->s->ready(f->e, "fuse", dev);
	}
	return f;
}

static const struct fuse_operations eng_fuse_ops = {
	.init = eng_fuse_init,
	.getattr = eng_fuse_getattr,
	.readdir = eng_fuse_readdir,
	.open = eng_fuse_open,
	.release = eng_fuse_release,
	.read = eng_fuse_read,
	.write = eng_fuse_write,
	.fsync = eng_fuse_fsync,
	.truncate = eng_fuse_truncate,
};

static int
eng_fuse_serve(const struct eng_serve *s)
{
	char *argv[] = { "mars-engine", "-o", "fsname=mars-engine,subtype=mars", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct eng_fuse f = { .e = s->e, .size_bytes = s->size_bytes, .s = s };
	struct fuse_loop_config *lc;
	struct fuse *fu;
	int ret = -EIO;

	if (!s->mount)
		return -EINVAL;
	snprintf(f.path, sizeof(f.path), "/%s", s->resource);
	fu = fuse_new(&args, &eng_fuse_ops, sizeof(eng_fuse_ops), &f);
	if (!fu)
		return -EINVAL;
	if (fuse_mount(fu, s->mount) != 0)
		goto out_destroy;
	if (fuse_set_signal_handlers(fuse_get_session(fu)) != 0)
		goto out_unmount;
	lc = fuse_loop_cfg_create();
	if (!lc)
		goto out_signals;
	fuse_loop_cfg_set_max_threads(lc, 16);
	ret = fuse_loop_mt(fu, lc) < 0 ? -EIO : 0;
	fuse_loop_cfg_destroy(lc);
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(fu));
out_unmount:
	fuse_unmount(fu);
out_destroy:
	fuse_destroy(fu);
	fuse_opt_free_args(&args);
	return ret;
}

/* FUSE is always there to try: the mount itself says if /dev/fuse works. */
static int
eng_fuse_probe(void)
{
	return 0;
}

const struct eng_frontend eng_frontend_fuse = {
	.name = "fuse",
	.probe = eng_fuse_probe,
	.serve = eng_fuse_serve,
};
