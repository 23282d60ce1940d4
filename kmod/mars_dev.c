// SPDX-License-Identifier: GPL-2.0-only
/*
 * The block device /dev/mars/<res>: a bio-based disk in front of the
 * resource's underlying disk.
 *
 * Reads go straight to the underlying disk (the bio is redirected, not
 * copied), except in PRIMARY mode while logged writes wait for their
 * writeback: a read that overlaps one gets its data from memory
 * (mars_pending.c), never stale data from the disk.
 * Writes and flushes go to the logger in PRIMARY mode and fail in every
 * other mode; the device is also marked read-only there, and opening it
 * for writing is refused with -EROFS.
 *
 * The disk is named "mars/<res>": the driver core turns the '/' into '!'
 * in sysfs and back into a directory in devtmpfs, so the node appears as
 * /dev/mars/<res> without udev.  Dynamic (extended) dev_t, no partitions.
 *
 * Opens are counted under res->lock; detach and mode changes are refused
 * while the count is not zero, and the owner field pins the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/module.h>

#include "mars.h"

static int
mars_dev_open(struct block_device *bdev, fmode_t mode)
{
	struct mars_res *res = bdev->bd_disk->private_data;
	int ret = 0;

	mutex_lock(&res->lock);
	if (res->dying)
		ret = -ENXIO;
	else if ((mode & FMODE_WRITE) && res->mode != MARS_CTL_MODE_PRIMARY)
		ret = -EROFS;
	else
		res->open_count++;
	mutex_unlock(&res->lock);
	return ret;
}

static void
mars_dev_release(struct gendisk *disk, fmode_t mode)
{
	struct mars_res *res = disk->private_data;

	mutex_lock(&res->lock);
	res->open_count--;
	mutex_unlock(&res->lock);
}

static void
mars_dev_submit_bio(struct bio *bio)
{
	struct mars_res *res = bio->bi_bdev->bd_disk->private_data;
	struct mars_pendset *ps;
	struct mars_logger *lg;

	if (bio_op(bio) == REQ_OP_READ) {
		ps = READ_ONCE(res->pending);
		if (ps) {
			mars_pend_read(res, ps, bio);
			return;
		}
		bio_set_dev(bio, res->bdev);
		submit_bio_noacct(bio);
		return;
	}
	bio = bio_split_to_limits(bio);
	if (!bio)
		return;
	lg = READ_ONCE(res->logger);
	if (bio_op(bio) != REQ_OP_WRITE || !lg) {
		bio_io_error(bio);
		return;
	}
	mars_logger_submit(lg, bio);
}

static const struct block_device_operations mars_dev_fops = {
	.owner = THIS_MODULE,
	.submit_bio = mars_dev_submit_bio,
	.open = mars_dev_open,
	.release = mars_dev_release,
};

void
mars_dev_set_writable(struct mars_res *res, bool writable)
{
	set_disk_ro(res->disk, !writable);
}

int
mars_dev_create(struct mars_res *res)
{
	struct request_queue *q;
	struct gendisk *disk;
	int ret;

	disk = blk_alloc_disk(NUMA_NO_NODE);
	if (!disk)
		return -ENOMEM;
	disk->fops = &mars_dev_fops;
	disk->private_data = res;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "mars/%s", res->name);
	set_capacity(disk, res->size_bytes >> SECTOR_SHIFT);

	q = disk->queue;
	blk_queue_logical_block_size(q, bdev_logical_block_size(res->bdev));
	blk_queue_physical_block_size(q, bdev_physical_block_size(res->bdev));
	/* Bios up to one record; larger ones are split into records too. */
	blk_queue_max_hw_sectors(q, MARS_REC_MAX_PAYLOAD >> SECTOR_SHIFT);
	/* Flushes and FUA reach us: they decide when the log is synced. */
	blk_queue_write_cache(q, true, true);
	set_disk_ro(disk, true);

	res->disk = disk;
	ret = add_disk(disk);
	if (ret)
		goto out_put_disk;
	return 0;

out_put_disk:
	res->disk = NULL;
	put_disk(disk);
	return ret;
}

void
mars_dev_destroy(struct mars_res *res)
{
	del_gendisk(res->disk);
	put_disk(res->disk);
	res->disk = NULL;
}
