// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pending writes: every write the logger appended, held in memory from
 * the append until its data is on the underlying disk.
 *
 * Why: a write completes once its record is in the logfile, long before
 * its data may go to the disk (only after the log sync that makes the
 * record durable, mars_writeback.c).  In between, the disk holds stale
 * data for those sectors, so
 *  - reads are served from here: a read that overlaps pending writes is
 *    read from the disk and the pending data (newest last, in log order)
 *    is copied over it before it completes;
 *  - the memory is bounded (limit_bytes, module parameter pending_mib or
 *    per resource at ATTACH): the logger waits for room before it
 *    appends, so writers wait, they never fail.
 *
 * Each pend is a copy of one bio's data in whole pages, numbered in log
 * order (lsn), in an interval tree by sector and in two lists: all (log
 * order, for the applied position) and todo (not yet sent to the disk).
 * It leaves the tree when its disk write completed; a read that found
 * it holds a reference, so its pages outlive the removal.
 *
 * Locking: pendset.lock, irq-safe (disk completions run in interrupt
 * context), guards the tree, the lists and the counters.  A pend's data
 * is written once, before it is inserted, and never changes after.
 */
#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/interval_tree_generic.h>
#include <linux/list_sort.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/xxhash.h>

#include "mars.h"

struct mars_pend {
	struct rb_node rb;		/* in ps->tree */
	sector_t subtree_last;		/* the interval tree's */
	sector_t sector;
	u32 bytes;			/* data bytes, a multiple of 512 */
	u64 lsn;			/* log order */
	struct mars_logpos start;	/* where its first record begins */
	refcount_t ref;			/* the set's, and one per reader */
	struct list_head all;		/* in ps->all while in the tree */
	struct list_head todo;		/* in ps->todo until submitted */
	struct mars_pendset *ps;
	unsigned int nr_pages;
	struct page *pages[];
};

#define MARS_PEND_START(pd)	((pd)->sector)
#define MARS_PEND_LAST(pd)	((pd)->sector + ((pd)->bytes >> SECTOR_SHIFT) - 1)

INTERVAL_TREE_DEFINE(struct mars_pend, rb, sector_t, subtree_last,
		     MARS_PEND_START, MARS_PEND_LAST, static, mars_pend_it)

/* ---- the set ------------------------------------------------------------ */

void
mars_pendset_init(struct mars_pendset *ps, u64 limit_bytes)
{
	memset(ps, 0, sizeof(*ps));
	spin_lock_init(&ps->lock);
	ps->tree = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&ps->all);
	INIT_LIST_HEAD(&ps->todo);
	ps->next_lsn = 1;
	ps->limit_bytes = limit_bytes;
	init_waitqueue_head(&ps->room);
	init_waitqueue_head(&ps->done);
}

static void
mars_pend_put(struct mars_pend *pd)
{
	if (refcount_dec_and_test(&pd->ref))
		mars_pend_free(pd);
}

/*
 * Drop what is left; the caller made sure that no disk write is in
 * flight (writeback stopped) and no read can come (device closed).
 */
void
mars_pendset_release(struct mars_pendset *ps)
{
	struct mars_pend *pd, *tmp;

	list_for_each_entry_safe(pd, tmp, &ps->all, all) {
		mars_pend_it_remove(pd, &ps->tree);
		list_del(&pd->all);
		mars_pend_put(pd);
	}
	INIT_LIST_HEAD(&ps->todo);
	ps->bytes = 0;
}

/*
 * Room for @bytes more (always for the first pend, however large), or a
 * writeback failure that no waiting mends.
 */
bool
mars_pend_room(struct mars_pendset *ps, u32 bytes)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&ps->lock, flags);
	room = !ps->bytes || ps->bytes + bytes <= ps->limit_bytes || ps->error;
	spin_unlock_irqrestore(&ps->lock, flags);
	return room;
}

u64
mars_pend_inflight(struct mars_pendset *ps)
{
	unsigned long flags;
	u64 n;

	spin_lock_irqsave(&ps->lock, flags);
	n = ps->inflight;
	spin_unlock_irqrestore(&ps->lock, flags);
	return n;
}

/* ---- one pend ----------------------------------------------------------- */

struct mars_pend *
mars_pend_alloc(struct mars_pendset *ps, sector_t sector, u32 bytes)
{
	unsigned int i, nr = DIV_ROUND_UP(bytes, PAGE_SIZE);
	struct mars_pend *pd;

	pd = kzalloc(struct_size(pd, pages, nr), GFP_NOIO);
	if (!pd)
		return NULL;
	pd->ps = ps;
	pd->sector = sector;
	pd->bytes = bytes;
	pd->nr_pages = nr;
	refcount_set(&pd->ref, 1);
	INIT_LIST_HEAD(&pd->all);
	INIT_LIST_HEAD(&pd->todo);
	for (i = 0; i < nr; i++) {
		pd->pages[i] = alloc_page(GFP_NOIO);
		if (!pd->pages[i]) {
			mars_pend_free(pd);
			return NULL;
		}
	}
	return pd;
}

/* Free a pend nobody references; also from interrupt context. */
void
mars_pend_free(struct mars_pend *pd)
{
	unsigned int i;

	for (i = 0; i < pd->nr_pages; i++)
		if (pd->pages[i])
			__free_page(pd->pages[i]);
	kfree(pd);
}

/* Copy the data of @bio, the write @pd was allocated for, into @pd. */
void
mars_pend_fill_bio(struct mars_pend *pd, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 off = 0;

	bio_for_each_segment(bv, bio, iter) {
		u32 done = 0;

		while (done < bv.bv_len) {
			u32 in_page = off & ~PAGE_MASK;
			u32 n = min_t(u32, bv.bv_len - done, PAGE_SIZE - in_page);

			memcpy_page(pd->pages[off >> PAGE_SHIFT], in_page,
				    bv.bv_page, bv.bv_offset + done, n);
			done += n;
			off += n;
		}
	}
}

/*
 * The payload hash of @len bytes from byte @off of the pend: the same
 * value as mars_rec_payload_hash() over those bytes laid end to end
 * (xxh64 with seed 0, streamed page by page).
 */
u64
mars_pend_hash(const struct mars_pend *pd, u32 off, u32 len)
{
	struct xxh64_state st;

	xxh64_reset(&st, 0);
	while (len) {
		u32 in_page = off & ~PAGE_MASK;
		u32 n = min_t(u32, len, PAGE_SIZE - in_page);
		u8 *src = kmap_local_page(pd->pages[off >> PAGE_SHIFT]);

		xxh64_update(&st, src + in_page, n);
		kunmap_local(src);
		off += n;
		len -= n;
	}
	return xxh64_digest(&st);
}

/* Describe @len bytes from byte @off of the pend in @bv; the entries used. */
unsigned int
mars_pend_bvec(const struct mars_pend *pd, u32 off, u32 len, struct bio_vec *bv)
{
	unsigned int nr = 0;

	while (len) {
		u32 in_page = off & ~PAGE_MASK;
		u32 n = min_t(u32, len, PAGE_SIZE - in_page);

		bv[nr++] = (struct bio_vec){ .bv_page = pd->pages[off >> PAGE_SHIFT],
					     .bv_offset = in_page, .bv_len = n };
		off += n;
		len -= n;
	}
	return nr;
}

/* Copy @len bytes from byte @off of the pend to @page at @page_off. */
static void
mars_pend_copy_out(const struct mars_pend *pd, u32 off, struct page *page,
		   u32 page_off, u32 len)
{
	while (len) {
		u32 in_src = off & ~PAGE_MASK;
		u32 n = min_t(u32, len, PAGE_SIZE - in_src);
		u8 *src = kmap_local_page(pd->pages[off >> PAGE_SHIFT]);

		memcpy_to_page(page, page_off, src + in_src, n);
		kunmap_local(src);
		off += n;
		page_off += n;
		len -= n;
	}
}

/*
 * Make a filled pend visible to reads and to writeback.  @start is where
 * its first record begins in the log.
 */
void
mars_pend_insert(struct mars_pendset *ps, struct mars_pend *pd,
		 const struct mars_logpos *start)
{
	unsigned long flags;

	pd->start = *start;
	spin_lock_irqsave(&ps->lock, flags);
	pd->lsn = ps->next_lsn++;
	mars_pend_it_insert(pd, &ps->tree);
	list_add_tail(&pd->all, &ps->all);
	list_add_tail(&pd->todo, &ps->todo);
	ps->bytes += pd->bytes;
	ps->peak_bytes = max(ps->peak_bytes, ps->bytes);
	spin_unlock_irqrestore(&ps->lock, flags);
}

/*
 * The log is durable up to @pos: every pend inserted so far may go to the
 * disk.  Called by the logger after a completed log sync.
 */
void
mars_pend_set_durable(struct mars_pendset *ps, const struct mars_logpos *pos)
{
	unsigned long flags;

	spin_lock_irqsave(&ps->lock, flags);
	ps->durable_lsn = ps->next_lsn - 1;
	ps->durable = *pos;
	spin_unlock_irqrestore(&ps->lock, flags);
}

/* ---- writeback's side ------------------------------------------------- */

/* Does an older pend for some of the same sectors still wait for the disk? */
static bool
mars_pend_older_overlap(struct mars_pendset *ps, struct mars_pend *pd)
{
	struct mars_pend *o;

	for (o = mars_pend_it_iter_first(&ps->tree, MARS_PEND_START(pd),
					 MARS_PEND_LAST(pd));
	     o; o = mars_pend_it_iter_next(o, MARS_PEND_START(pd),
					   MARS_PEND_LAST(pd)))
		if (o->lsn < pd->lsn)
			return true;
	return false;
}

/*
 * Move the durable pends waiting for the disk, oldest first, to @round,
 * at most @max_bytes of them (and always one).  A pend whose sectors an
 * older one still waits for ends the round before it, so overlapping
 * writes reach the disk in log order; when it is the first, *@blocked
 * says so and the round is empty.  Nothing after a writeback failure.
 */
unsigned int
mars_pend_take_round(struct mars_pendset *ps, struct list_head *round,
		     u64 max_bytes, bool *blocked)
{
	struct mars_pend *pd, *tmp;
	unsigned int n = 0;
	u64 bytes = 0;

	*blocked = false;
	spin_lock_irq(&ps->lock);
	list_for_each_entry_safe(pd, tmp, &ps->todo, todo) {
		if (ps->error || pd->lsn > ps->durable_lsn ||
		    (n && bytes + pd->bytes > max_bytes))
			break;
		if (mars_pend_older_overlap(ps, pd)) {
			*blocked = !n;
			break;
		}
		list_move_tail(&pd->todo, round);
		bytes += pd->bytes;
		n++;
	}
	spin_unlock_irq(&ps->lock);
	return n;
}

/* Is there durable work, or does the next pend wait for an older one? */
bool
mars_pend_ready(struct mars_pendset *ps, bool *blocked)
{
	struct mars_pend *pd;
	bool ready = false;

	*blocked = false;
	spin_lock_irq(&ps->lock);
	if (!ps->error && !list_empty(&ps->todo)) {
		pd = list_first_entry(&ps->todo, struct mars_pend, todo);
		if (pd->lsn <= ps->durable_lsn) {
			*blocked = mars_pend_older_overlap(ps, pd);
			ready = !*blocked;
		}
	}
	spin_unlock_irq(&ps->lock);
	return ready;
}

/*
 * The pend's disk write ended; from interrupt context.  On success it
 * leaves the set.  A failure is sticky: the pend stays (reads still find
 * its data, and the applied position stops before it), and nothing more
 * is sent to the disk; its record is durable, so recovery applies it.
 */
static void
mars_pend_written(struct mars_pendset *ps, struct mars_pend *pd, int err)
{
	unsigned long flags;
	bool gone = false;

	spin_lock_irqsave(&ps->lock, flags);
	ps->inflight--;
	if (err) {
		if (!ps->error)
			ps->error = err;
	} else {
		mars_pend_it_remove(pd, &ps->tree);
		list_del(&pd->all);
		ps->bytes -= pd->bytes;
		ps->completed++;
		gone = true;
	}
	wake_up(&ps->done);
	wake_up(&ps->room);
	spin_unlock_irqrestore(&ps->lock, flags);
	if (gone)
		mars_pend_put(pd);
}

static void
mars_pend_write_done(struct bio *bio)
{
	struct mars_pend *pd = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	mars_pend_written(pd->ps, pd, err);
}

/* A write of the pend's data to the underlying disk. */
static struct bio *
mars_pend_bio(struct mars_res *res, struct mars_pend *pd)
{
	u32 left = pd->bytes;
	struct bio *bio;
	unsigned int i;

	bio = bio_alloc_bioset(res->bdev, pd->nr_pages, REQ_OP_WRITE, GFP_NOIO,
			       &res->bs);
	bio->bi_iter.bi_sector = pd->sector;
	for (i = 0; i < pd->nr_pages; i++) {
		u32 n = min_t(u32, left, PAGE_SIZE);

		__bio_add_page(bio, pd->pages[i], n, 0);
		left -= n;
	}
	/* Durability comes from the log; the disk is flushed at checkpoints. */
	bio->bi_end_io = mars_pend_write_done;
	bio->bi_private = pd;
	return bio;
}

static int
mars_pend_sector_cmp(void *priv, const struct list_head *a,
		     const struct list_head *b)
{
	const struct mars_pend *x = list_entry(a, struct mars_pend, todo);
	const struct mars_pend *y = list_entry(b, struct mars_pend, todo);

	return x->sector > y->sector;
}

/*
 * Send a round to the disk, sorted by sector under one plug, so that
 * neighbours merge.  No two pends of a round overlap (take_round).
 */
void
mars_pend_submit_round(struct mars_res *res, struct mars_pendset *ps,
		       struct list_head *round)
{
	struct mars_pend *pd, *tmp;
	struct blk_plug plug;

	list_sort(NULL, round, mars_pend_sector_cmp);
	blk_start_plug(&plug);
	list_for_each_entry_safe(pd, tmp, round, todo) {
		list_del_init(&pd->todo);
		spin_lock_irq(&ps->lock);
		ps->inflight++;
		spin_unlock_irq(&ps->lock);
		submit_bio_noacct(mars_pend_bio(res, pd));
	}
	blk_finish_plug(&plug);
}

/*
 * Where the applied position may be: the start of the oldest pend still
 * waiting for the disk, or the log's durable end when none waits.  Every
 * record before it is on the disk (once the disk is flushed), and it
 * never passes the durable end: pends reach the disk only when durable.
 * false while no log sync has completed yet.
 */
bool
mars_pend_applied(struct mars_pendset *ps, struct mars_logpos *pos)
{
	unsigned long flags;
	bool ok = true;

	spin_lock_irqsave(&ps->lock, flags);
	if (!list_empty(&ps->all))
		*pos = list_first_entry(&ps->all, struct mars_pend, all)->start;
	else if (ps->durable.lognr)
		*pos = ps->durable;
	else
		ok = false;
	spin_unlock_irqrestore(&ps->lock, flags);
	return ok;
}

/* ---- reads -------------------------------------------------------------- */

/* A read that overlaps pending writes: the clone reads the disk. */
struct mars_pend_readio {
	struct bio *orig;
	unsigned int nr;
	struct mars_pend **hits;	/* referenced, in log order */
	struct bio clone;		/* last: the bio_set's front pad ends here */
};

unsigned int
mars_pend_front_pad(void)
{
	return offsetof(struct mars_pend_readio, clone);
}

/* Copy the part of @pd that @bio covers over @bio's data. */
static void
mars_pend_overlay(struct bio *bio, const struct mars_pend *pd)
{
	u64 pd_start = (u64)pd->sector << SECTOR_SHIFT;
	u64 pd_end = pd_start + pd->bytes;
	u64 pos = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_segment(bv, bio, iter) {
		u64 lo = max(pos, pd_start);
		u64 hi = min(pos + bv.bv_len, pd_end);

		if (lo < hi)
			mars_pend_copy_out(pd, lo - pd_start, bv.bv_page,
					   bv.bv_offset + (lo - pos), hi - lo);
		pos += bv.bv_len;
	}
}

static void
mars_pend_read_done(struct bio *clone)
{
	struct mars_pend_readio *rio = container_of(clone,
						    struct mars_pend_readio,
						    clone);
	struct bio *orig = rio->orig;
	unsigned int i;

	orig->bi_status = clone->bi_status;
	for (i = 0; i < rio->nr; i++) {
		if (!orig->bi_status)
			mars_pend_overlay(orig, rio->hits[i]);
		mars_pend_put(rio->hits[i]);
	}
	kfree(rio->hits);
	bio_put(clone);
	bio_endio(orig);
}

/* Reference the pends @bio overlaps into @hits (room for @cap); count. */
static unsigned int
mars_pend_collect(struct mars_pendset *ps, struct bio *bio,
		  struct mars_pend **hits, unsigned int cap)
{
	sector_t first = bio->bi_iter.bi_sector;
	sector_t last = bio_end_sector(bio) - 1;
	unsigned int n = 0;
	struct mars_pend *pd;

	for (pd = mars_pend_it_iter_first(&ps->tree, first, last); pd;
	     pd = mars_pend_it_iter_next(pd, first, last)) {
		if (n < cap) {
			refcount_inc(&pd->ref);
			hits[n] = pd;
		}
		n++;
	}
	return n;
}

static int
mars_pend_lsn_cmp(const void *a, const void *b)
{
	const struct mars_pend *x = *(const struct mars_pend * const *)a;
	const struct mars_pend *y = *(const struct mars_pend * const *)b;

	return x->lsn < y->lsn ? -1 : x->lsn > y->lsn;
}

/*
 * Serve a read on /dev/mars/<res> in PRIMARY mode.  Pends that leave the
 * set after they were collected are on the disk already, so the disk
 * read sees them; those collected are copied over it, oldest first.
 */
void
mars_pend_read(struct mars_res *res, struct mars_pendset *ps, struct bio *bio)
{
	struct mars_pend **hits = NULL;
	struct mars_pend_readio *rio;
	unsigned int cap = 0, n;
	struct bio *clone;

	for (;;) {
		spin_lock_irq(&ps->lock);
		n = mars_pend_collect(ps, bio, hits, cap);
		spin_unlock_irq(&ps->lock);
		if (n <= cap)
			break;
		while (cap) {
			cap--;
			mars_pend_put(hits[cap]);
		}
		kfree(hits);
		cap = n + 16;
		hits = kmalloc_array(cap, sizeof(*hits), GFP_NOIO);
		if (!hits) {
			bio_io_error(bio);
			return;
		}
	}
	if (!n) {
		kfree(hits);
		bio_set_dev(bio, res->bdev);
		submit_bio_noacct(bio);
		return;
	}
	clone = bio_alloc_clone(res->bdev, bio, GFP_NOIO, &res->bs);
	if (!clone) {
		while (n--)
			mars_pend_put(hits[n]);
		kfree(hits);
		bio_io_error(bio);
		return;
	}
	rio = container_of(clone, struct mars_pend_readio, clone);
	rio->orig = bio;
	rio->nr = n;
	rio->hits = hits;
	sort(hits, n, sizeof(*hits), mars_pend_lsn_cmp, NULL);
	clone->bi_end_io = mars_pend_read_done;
	submit_bio_noacct(clone);
}
