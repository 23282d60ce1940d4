// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synchronous writes of one record's data to the underlying disk, for
 * recovery and replay.
 *
 * A record may start and end anywhere (the format allows byte offsets;
 * the test vector has 1- and 7-byte records), while the disk takes whole
 * logical blocks.  So a record is copied into a page-aligned bounce
 * buffer covering the blocks it touches; a partial first or last block is
 * read from the disk first (read-modify-write).  Records are applied one
 * at a time in log order, so no other write can slip in between the read
 * and the write of such a block.
 *
 * The bounce buffer is vmalloc'd and handed to the block layer page by
 * page.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "mars.h"

/* A whole record's data plus a partial block at either end. */
#define MARS_DISK_BUF_BYTES	(MARS_REC_MAX_PAYLOAD + 2 * PAGE_SIZE)

struct mars_disk_buf {
	u8 *data;			/* MARS_DISK_BUF_BYTES, page-aligned */
};

struct mars_disk_buf *
mars_disk_buf_alloc(void)
{
	struct mars_disk_buf *db = kzalloc(sizeof(*db), GFP_KERNEL);

	if (!db)
		return NULL;
	db->data = vmalloc(MARS_DISK_BUF_BYTES);
	if (!db->data) {
		kfree(db);
		return NULL;
	}
	return db;
}

void
mars_disk_buf_free(struct mars_disk_buf *db)
{
	if (!db)
		return;
	vfree(db->data);
	kfree(db);
}

/* Read or write @len bytes at @vaddr (vmalloc'd) from @sector. */
static int
mars_disk_io(struct mars_res *res, enum req_op op, sector_t sector,
	     u8 *vaddr, size_t len)
{
	while (len) {
		/* One vec more than pages, for an unaligned start. */
		size_t chunk = min_t(size_t, len,
				     (BIO_MAX_VECS - 1) * PAGE_SIZE);
		size_t done = 0;
		struct bio *bio;
		int ret;

		bio = bio_alloc(res->bdev, BIO_MAX_VECS, op, GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		while (done < chunk) {
			u8 *p = vaddr + done;
			size_t n = min_t(size_t, chunk - done,
					 PAGE_SIZE - offset_in_page(p));

			if (bio_add_page(bio, vmalloc_to_page(p), n,
					 offset_in_page(p)) != n) {
				bio_put(bio);
				return -EIO;
			}
			done += n;
		}
		if (op == REQ_OP_WRITE)
			flush_kernel_vmap_range(vaddr, chunk);
		ret = submit_bio_wait(bio);
		bio_put(bio);
		if (op == REQ_OP_READ)
			invalidate_kernel_vmap_range(vaddr, chunk);
		if (ret)
			return ret;
		sector += chunk >> SECTOR_SHIFT;
		vaddr += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * Write @len bytes of @data at byte @off of the resource.  -EFBIG when
 * the record reaches past the resource's end.
 */
int
mars_disk_write(struct mars_res *res, struct mars_disk_buf *db, u64 off,
		const u8 *data, u32 len)
{
	u32 lbs = bdev_logical_block_size(res->bdev);
	u64 start = round_down(off, lbs);
	u64 end = round_up(off + len, lbs);
	u8 *buf = db->data;
	int ret;

	if (off > res->size_bytes || len > res->size_bytes - off)
		return -EFBIG;
	if (!len)
		return 0;
	if (start != off) {
		ret = mars_disk_io(res, REQ_OP_READ, start >> SECTOR_SHIFT,
				   buf, lbs);
		if (ret)
			return ret;
	}
	if (end != off + len && (end - lbs > start || start == off)) {
		ret = mars_disk_io(res, REQ_OP_READ,
				   (end - lbs) >> SECTOR_SHIFT,
				   buf + (end - lbs - start), lbs);
		if (ret)
			return ret;
	}
	memcpy(buf + (off - start), data, len);
	return mars_disk_io(res, REQ_OP_WRITE, start >> SECTOR_SHIFT, buf,
			    end - start);
}

int
mars_disk_flush(struct mars_res *res)
{
	return blkdev_issue_flush(res->bdev);
}
