// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attached resources: the registry, attach and detach, and the mode
 * switches (ATTACHED, PRIMARY, REPLAY) the control device asks for.
 *
 * Every request runs in its caller's process context under one mutex,
 * mars_res_mutex, which guards the registry and serializes all mode
 * switches; so a request sees a resource that no other request changes.
 * Paths are resolved here, in the caller's context, and only open files
 * are handed to the kernel threads.
 *
 * The rule that makes the bio path simple: a resource changes mode (or is
 * detached) only while /dev/mars/<res> is not open, checked under
 * res->lock; the one exception, SET_REPLAY while replaying, keeps the
 * device read-only.  A closed device has no bio in flight, so logger and
 * replay pointers change under nobody's feet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mars.h"

#define MARS_DISK_MODE	(FMODE_READ | FMODE_WRITE | FMODE_EXCL)

/* The pending writeback memory per resource unless ATTACH names one. */
static unsigned int mars_pending_mib = 64;
module_param_named(pending_mib, mars_pending_mib, uint, 0644);
MODULE_PARM_DESC(pending_mib, "default limit of logged writes held in memory until on the disk, MiB per resource (default 64)");

static LIST_HEAD(mars_res_list);
static DEFINE_MUTEX(mars_res_mutex);	/* guards mars_res_list, mode switches */

/* ---- status -------------------------------------------------------- */

void
mars_stat_reset(struct mars_res *res, const char *logfile)
{
	spin_lock(&res->stat_lock);
	memset(&res->stat, 0, sizeof(res->stat));
	strscpy(res->stat.logfile, logfile, sizeof(res->stat.logfile));
	res->rate_bytes = 0;
	res->rate_jiffies = jiffies;
	res->rate_bps = 0;
	spin_unlock(&res->stat_lock);
}

void
mars_stat_error(struct mars_res *res, int err)
{
	MARS_STAT(res, s->error = err);
}

/* ---- argument checks ----------------------------------------------- */

static bool
mars_str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) && s[0];
}

static bool
mars_res_name_ok(const char *name, size_t size)
{
	size_t i, len;

	if (!mars_str_ok(name, size))
		return false;
	len = strlen(name);
	if (len > MARS_CTL_RES_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

/* The directory's last component must be "resource-<name>". */
static bool
mars_res_dir_ok(const char *dir, const char *name)
{
	const char *base = strrchr(dir, '/');

	return dir[0] == '/' && base && !strncmp(base + 1, "resource-", 9) &&
	       !strcmp(base + 10, name);
}

static struct mars_res *
mars_res_find(const char *name)
{
	struct mars_res *res;

	list_for_each_entry(res, &mars_res_list, node)
		if (!strcmp(res->name, name))
			return res;
	return NULL;
}

/* Look up a request's resource; -EINVAL bad name, -ENOENT unknown. */
static struct mars_res *
mars_res_get(const char *name, size_t size)
{
	struct mars_res *res;

	if (!mars_res_name_ok(name, size))
		return ERR_PTR(-EINVAL);
	res = mars_res_find(name);
	return res ? res : ERR_PTR(-ENOENT);
}

/* -EBUSY while the device is open; else set the mode. */
static int
mars_res_closed_set_mode(struct mars_res *res, u32 mode, bool may_be_open)
{
	int ret = 0;

	mutex_lock(&res->lock);
	if (res->open_count && !may_be_open)
		ret = -EBUSY;
	else
		res->mode = mode;
	mutex_unlock(&res->lock);
	return ret;
}

/* ---- attach and detach --------------------------------------------- */

static int
mars_res_open_parts(struct mars_res *res, const struct mars_ctl_attach *a)
{
	u64 disk_bytes;
	int ret;

	res->dir = filp_open(a->dir, O_RDONLY | O_DIRECTORY, 0);
	if (IS_ERR(res->dir)) {
		ret = PTR_ERR(res->dir);
		return ret == -ENOTDIR ? -EINVAL : ret;
	}
	res->bdev = blkdev_get_by_path(a->disk, MARS_DISK_MODE, res);
	if (IS_ERR(res->bdev)) {
		ret = PTR_ERR(res->bdev);
		goto out_put_dir;
	}
	disk_bytes = bdev_nr_bytes(res->bdev);
	res->size_bytes = a->size_bytes ? a->size_bytes : disk_bytes;
	ret = -ENOSPC;
	if (res->size_bytes > disk_bytes || !res->size_bytes)
		goto out_put_bdev;
	ret = -EINVAL;
	if (res->size_bytes % bdev_logical_block_size(res->bdev))
		goto out_put_bdev;
	return 0;

out_put_bdev:
	blkdev_put(res->bdev, MARS_DISK_MODE);
out_put_dir:
	fput(res->dir);
	return ret == -ENOTBLK ? -EINVAL : ret;
}

static void
mars_res_close_parts(struct mars_res *res)
{
	blkdev_put(res->bdev, MARS_DISK_MODE);
	fput(res->dir);
}

int
mars_res_attach(const struct mars_ctl_attach *a)
{
	struct mars_res *res;
	int ret;

	if ((a->flags & ~MARS_CTL_ATTACH_F_PENDING_LIMIT) ||
	    (a->flags & MARS_CTL_ATTACH_F_PENDING_LIMIT ? !a->pending_mib :
	     a->pending_mib) ||
	    !mars_res_name_ok(a->resource, sizeof(a->resource)) ||
	    !mars_str_ok(a->disk, sizeof(a->disk)) || a->disk[0] != '/' ||
	    !mars_str_ok(a->dir, sizeof(a->dir)) ||
	    !mars_res_dir_ok(a->dir, a->resource))
		return -EINVAL;
	if (!mars_ctl_selftest_ok())
		return -EIO;

	mutex_lock(&mars_res_mutex);
	ret = -EEXIST;
	if (mars_res_find(a->resource))
		goto out_unlock;
	ret = -ENOMEM;
	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		goto out_unlock;
	strscpy(res->name, a->resource, sizeof(res->name));
	mutex_init(&res->lock);
	spin_lock_init(&res->stat_lock);
	res->mode = MARS_CTL_MODE_ATTACHED;
	res->pending_limit_bytes = (u64)(a->flags & MARS_CTL_ATTACH_F_PENDING_LIMIT ?
					 a->pending_mib : max(mars_pending_mib, 1U)) << 20;

	ret = mars_res_open_parts(res, a);
	if (ret)
		goto out_free_res;
	/* Read clones carry a struct mars_pend_readio in front; writeback
	 * bios bring their own pages. */
	ret = bioset_init(&res->bs, BIO_POOL_SIZE, mars_pend_front_pad(),
			  BIOSET_NEED_BVECS);
	if (ret)
		goto out_close_parts;
	ret = mars_dev_create(res);
	if (ret)
		goto out_exit_bioset;
	mars_stat_reset(res, "");
	list_add_tail(&res->node, &mars_res_list);
	mutex_unlock(&mars_res_mutex);
	pr_info("%s: attached %s, %llu bytes, /dev/mars/%s\n", res->name,
		a->disk, res->size_bytes, res->name);
	return 0;

out_exit_bioset:
	bioset_exit(&res->bs);
out_close_parts:
	mars_res_close_parts(res);
out_free_res:
	mutex_destroy(&res->lock);
	kfree(res);
out_unlock:
	mutex_unlock(&mars_res_mutex);
	return ret;
}

/* Tear down a resource whose device nobody can open any more. */
static void
mars_res_destroy(struct mars_res *res)
{
	mars_replay_stop(res);
	mars_logger_stop(res);
	mars_dev_destroy(res);
	bioset_exit(&res->bs);
	mars_res_close_parts(res);
	list_del(&res->node);
	pr_info("%s: detached\n", res->name);
	mutex_destroy(&res->lock);
	kfree(res);
}

int
mars_res_detach(const char *name)
{
	struct mars_res *res;
	int ret = 0;

	mutex_lock(&mars_res_mutex);
	res = mars_res_get(name, MARS_CTL_RES_LEN);
	if (IS_ERR(res)) {
		ret = PTR_ERR(res);
		goto out_unlock;
	}
	mutex_lock(&res->lock);
	if (res->open_count)
		ret = -EBUSY;
	else
		res->dying = true;
	mutex_unlock(&res->lock);
	if (!ret)
		mars_res_destroy(res);
out_unlock:
	mutex_unlock(&mars_res_mutex);
	return ret;
}

/* Module exit: nothing is open (the module would be pinned). */
void
mars_res_detach_all(void)
{
	struct mars_res *res, *next;

	mutex_lock(&mars_res_mutex);
	list_for_each_entry_safe(res, next, &mars_res_list, node) {
		res->dying = true;
		mars_res_destroy(res);
	}
	mutex_unlock(&mars_res_mutex);
}

/* ---- mode switches ------------------------------------------------------ */

/* The host goes into logfile names: the shared host-name grammar. */
static bool
mars_host_ok(const char *host, size_t size)
{
	return mars_str_ok(host, size) &&
	       !mars_name_check(host, strlen(host));
}

static int
mars_res_start_primary(struct mars_res *res, const struct mars_ctl_primary *p)
{
	u32 first = p->flags & MARS_CTL_PRIMARY_F_FIRST_NR ? p->first_nr : 0;
	char name[MARS_CTL_LOGNAME_LEN];
	struct file *file;
	u32 max_nr, nr;
	int ret;

	ret = mars_recover(res, p->recover_logfile, p->recover_pos, first, &max_nr);
	if (ret)
		return ret;
	/* Past every logfile here, and at least first_nr when asked: a
	 * resource created again starts far above its earlier incarnation. */
	nr = max(max_nr + 1, first);
	ret = mars_logfile_name(name, nr, res->host);
	if (ret)
		return ret;
	file = mars_logfile_create(res, name);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = mars_logger_start(res, file, nr);
	if (ret)
		fput(file);
	return ret;
}

/*
 * Under mars_res_mutex: the resource a mode switch names, unless it is
 * primary (-EBUSY).
 */
static struct mars_res *
mars_res_get_switchable(const char *name, size_t size)
{
	struct mars_res *res = mars_res_get(name, size);

	if (!IS_ERR(res) && res->mode == MARS_CTL_MODE_PRIMARY)
		return ERR_PTR(-EBUSY);
	return res;
}

static int
mars_res_make_primary(struct mars_res *res, const struct mars_ctl_primary *p)
{
	int ret;

	ret = mars_res_closed_set_mode(res, MARS_CTL_MODE_ATTACHED, false);
	if (ret)
		return ret;
	mars_replay_stop(res);
	strscpy(res->host, p->host, sizeof(res->host));
	mars_stat_reset(res, "");
	ret = mars_res_start_primary(res, p);
	if (ret) {
		mars_stat_error(res, ret);
		return ret;
	}
	mars_res_closed_set_mode(res, MARS_CTL_MODE_PRIMARY, true);
	mars_dev_set_writable(res, true);
	pr_info("%s: primary, logging to %s\n", res->name, res->stat.logfile);
	return 0;
}

int
mars_res_set_primary(const struct mars_ctl_primary *p)
{
	struct mars_res *res;
	int ret;

	if ((p->flags & ~MARS_CTL_PRIMARY_F_FIRST_NR) ||
	    (!(p->flags & MARS_CTL_PRIMARY_F_FIRST_NR) && p->first_nr) ||
	    !mars_host_ok(p->host, sizeof(p->host)) ||
	    !memchr(p->recover_logfile, '\0', sizeof(p->recover_logfile)))
		return -EINVAL;
	if (!mars_ctl_selftest_ok())
		return -EIO;
	mutex_lock(&mars_res_mutex);
	res = mars_res_get_switchable(p->resource, sizeof(p->resource));
	ret = IS_ERR(res) ? PTR_ERR(res) : mars_res_make_primary(res, p);
	mutex_unlock(&mars_res_mutex);
	return ret;
}

static int
mars_res_make_replay(struct mars_res *res, const struct mars_ctl_replay *r)
{
	bool replaying = res->mode == MARS_CTL_MODE_REPLAY;
	int ret;

	ret = mars_res_closed_set_mode(res, MARS_CTL_MODE_REPLAY, replaying);
	if (ret)
		return ret;
	mars_replay_stop(res);
	ret = mars_replay_start(res, r);
	if (ret) {
		mars_res_closed_set_mode(res, MARS_CTL_MODE_ATTACHED, true);
		mars_stat_reset(res, "");
		mars_stat_error(res, ret);
	}
	return ret;
}

int
mars_res_set_replay(const struct mars_ctl_replay *r)
{
	struct mars_res *res;
	int ret;

	if (r->flags || r->reserved ||
	    !mars_str_ok(r->logfile, sizeof(r->logfile)))
		return -EINVAL;
	if (!mars_ctl_selftest_ok())
		return -EIO;
	mutex_lock(&mars_res_mutex);
	res = mars_res_get_switchable(r->resource, sizeof(r->resource));
	ret = IS_ERR(res) ? PTR_ERR(res) : mars_res_make_replay(res, r);
	mutex_unlock(&mars_res_mutex);
	return ret;
}

int
mars_res_rotate(const char *name)
{
	struct mars_res *res;
	int ret;

	mutex_lock(&mars_res_mutex);
	res = mars_res_get(name, MARS_CTL_RES_LEN);
	ret = IS_ERR(res) ? PTR_ERR(res) : 0;
	if (!ret)
		ret = res->logger ? mars_logger_rotate(res) : -EINVAL;
	mutex_unlock(&mars_res_mutex);
	return ret;
}

/* ---- status ------------------------------------------------------------- */

/* Device bytes per second, sampled at most once a second. */
static u64
mars_res_rate(struct mars_res *res)
{
	unsigned long now = jiffies, dt = now - res->rate_jiffies;

	if (dt >= HZ) {
		res->rate_bps = div64_u64((res->stat.data_bytes -
					   res->rate_bytes) * HZ, dt);
		res->rate_bytes = res->stat.data_bytes;
		res->rate_jiffies = now;
	}
	return res->rate_bps;
}

static void
mars_res_fill_status(struct mars_res *res, struct mars_ctl_status *st)
{
	const struct mars_stat *s = &res->stat;

	spin_lock(&res->stat_lock);
	st->replay_state = s->replay_state;
	st->error = s->error;
	st->log_end = s->log_end;
	st->synced_pos = s->synced_pos;
	st->sync_requests = s->sync_requests;
	st->log_syncs = s->log_syncs;
	st->applied_pos = s->applied_pos;
	st->records = s->records;
	st->data_bytes = s->data_bytes;
	st->stop_offset = s->stop_offset;
	st->stop_result = s->stop_result;
	st->stop_reason = s->stop_reason;
	st->rate_bps = mars_res_rate(res);
	strscpy(st->logfile, s->logfile, sizeof(st->logfile));
	strscpy(st->applied_logfile, s->applied_logfile,
		sizeof(st->applied_logfile));
	spin_unlock(&res->stat_lock);
}

int
mars_res_status(struct mars_ctl_status *st)
{
	char name[MARS_CTL_RES_LEN];
	struct mars_res *res;
	int ret = 0;

	if (st->flags || st->reserved)
		return -EINVAL;
	memcpy(name, st->resource, sizeof(name));
	mutex_lock(&mars_res_mutex);
	res = mars_res_get(name, sizeof(name));
	if (IS_ERR(res)) {
		ret = PTR_ERR(res);
		goto out_unlock;
	}
	memset(st, 0, sizeof(*st));
	memcpy(st->resource, name, sizeof(st->resource));
	mutex_lock(&res->lock);
	st->mode = res->mode;
	st->open_count = res->open_count;
	mutex_unlock(&res->lock);
	st->size_bytes = res->size_bytes;
	st->inflight = mars_logger_inflight(res);
	mars_logger_pending(res, &st->pending_bytes, &st->pending_peak_bytes);
	st->pending_limit_bytes = res->pending_limit_bytes;
	mars_res_fill_status(res, st);
out_unlock:
	mutex_unlock(&mars_res_mutex);
	return ret;
}
