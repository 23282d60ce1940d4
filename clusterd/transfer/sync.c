/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The syncing end of full sync (docs/sync.md).  One worker thread per
 * sync (channel.h), because it reads and digests the whole local disk and
 * its disk syncs block; its waits are woken by its control pipe, so
 * syncer_stop() takes effect at once.
 *
 * Only digests of our chunks travel to the peer (batches of up to
 * SYNC_BATCH_MAX, several batches in flight so that round trips overlap
 * with reading); the peer answers with the bytes of the chunks whose
 * digest differs from its own and closes each batch with SDONE.  A batch
 * counts, and pos moves past it, only after its writes were fdatasync'ed:
 * a recorded pos is a safe place to restart, whatever happened after it.
 *
 * The rate limit applies to compared bytes (the peer reads its disk at
 * that pace too), through the token bucket (bucket.h) on sending batches.
 *
 * Compression (piece.h): we ask for zstd from a peer whose HELLO speaks
 * it, and for zlib from a peer of protocol 1.2, whose zlib we still
 * decode for this one version; "none" for the resource asks for neither.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/transfer/channel.h"
#include "clusterd/transfer/failure.h"
#include "common/log.h"
#include "clusterd/gossip/peers.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/transfer/rate.h"
#include "clusterd/transfer/sync.h"

#define SYNC_INFLIGHT	4		/* batches sent and not yet answered */

struct batch {
	uint64_t off, end;		/* [off, end) of the disk */
	uint32_t count;			/* chunks */
};

struct syncer {
	const struct gossip_config *c;
	char res[STATEFS_NAME_MAX + 1];
	char disk[4096];
	struct channel_thread t;	/* the worker and its control pipe */

	pthread_mutex_t lock;		/* guards the block below */
	struct sync_status st;
	struct transfer_failure fail;	/* writes st.error and st.why */
	struct rate rate;		/* of compared bytes: st.rate_bps */
	uint64_t bwlimit_bps;
	int stop;
	int finished;

	/* thread only */
	int fd;				/* the local disk */
	struct channel ch;		/* to the peer */
	char uuid[GOSSIP_UUID_MAX + 1];
	uint64_t size, seed;
	uint32_t chunk;
	struct batch q[SYNC_INFLIGHT];	/* in flight, oldest first */
	size_t q_n;
	uint64_t next;			/* first byte not yet asked for */
	uint64_t pos;			/* every batch below is answered and durable */
	uint64_t wr_end;		/* end of the last piece written in q[0] */
	uint64_t batch_copied;		/* bytes written for q[0] */
	int fin_sent;
	struct bucket bucket;
	uint64_t bucket_rate;
	uint64_t t0_ms;			/* start of the run */
	uint8_t *cbuf;			/* one chunk */
	uint8_t sums[SYNC_BATCH_MAX * SYNC_DIGEST_BYTES];
	uint8_t sflags;			/* SINFO: the encodings the peer may send */
	struct piece_unpacker unz;	/* its st goes to st.z under the lock */
	uint64_t zcost_ns;		/* the peer's last ZCOST */
};

/* ---- pure parts: digests, chunks, batches ---------------------------- */

void
sync_digest(const void *buf, size_t len, uint64_t seed, struct sync_digest *d)
{
	XXH128_hash_t h = XXH3_128bits_withSeed(buf, len, seed);

	for (int i = 0; i < 8; i++) {
		d->b[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
		d->b[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
	}
}

int
sync_chunk_at(uint64_t start, uint32_t chunk, uint64_t size, uint32_t i,
	      uint64_t *off, uint32_t *len)
{
	uint64_t o = start + (uint64_t)i * chunk;

	if (o < start || o >= size)
		return -ERANGE;
	*off = o;
	*len = size - o < chunk ? (uint32_t)(size - o) : chunk;
	return 0;
}

uint32_t
sync_batch_chunks(uint64_t pos, uint64_t size, uint32_t chunk, uint32_t max,
		  uint64_t rate_bps)
{
	uint64_t left, n = max;

	if (pos >= size || chunk == 0)
		return 0;
	left = (size - pos + chunk - 1) / chunk;
	if (rate_bps) {
		uint64_t quarter = rate_bps / 4 / chunk;

		n = quarter < 1 ? 1 : quarter < n ? quarter : n;
	}
	return (uint32_t)(left < n ? left : n);
}

uint64_t
sync_round_from(uint64_t from, uint32_t chunk, uint64_t size)
{
	if (from > size)
		from = size;
	return chunk ? from - from % chunk : from;
}

/* ---- status and control ------------------------------------------------ */

static int
set_error(struct syncer *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The run's failure, by the contract of failure.h (a run is one attempt). */
static int
set_error(struct syncer *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = transfer_failure_set(&s->fail, err, fmt, ap);
	va_end(ap);
	return err;
}

/* Take the caller's changes: 1 if the run must stop (channel_thread.interrupted). */
static int
stopping(void *arg)
{
	struct syncer *s = arg;
	int stop;

	channel_thread_drain(&s->t);
	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	if (s->bwlimit_bps != s->bucket_rate) {
		s->bucket_rate = s->bwlimit_bps;
		bucket_init(&s->bucket, s->bucket_rate, bucket_now_ns());
	}
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* A batch is answered: its bytes count, pos moves past it. */
static void
publish(struct syncer *s, const struct batch *b, uint64_t copied)
{
	uint64_t now = gossip_now_ms(), len = b->end - b->off;

	pthread_mutex_lock(&s->lock);
	s->st.pos = b->end;
	s->st.bytes_copied += copied;
	s->st.bytes_equal += len - copied;
	s->st.net_bytes = s->ch.link.bytes_in;
	s->st.net_bytes_out = s->ch.link.bytes_out;
	rate_add(&s->rate, len, now, &s->st.rate_bps);
	pthread_mutex_unlock(&s->lock);
}

/* ---- the local disk ----------------------------------------------------- */

int
sync_disk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	return -EINVAL;
}

int
sync_disk_open(const char *path, int flags)
{
	struct stat st, named;
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		close(fd);
		return -EINVAL;
	}
	/* A regular file: the path must be the file itself, the one opened. */
	if (S_ISREG(st.st_mode) &&
	    (lstat(path, &named) < 0 || named.st_dev != st.st_dev || named.st_ino != st.st_ino)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* Open the disk and check its size: nothing is written before this passed. */
static int
disk_open(struct syncer *s)
{
	uint64_t have;
	int ret;

	s->fd = sync_disk_open(s->disk, O_RDWR);
	if (s->fd == -EINVAL || s->fd == -ELOOP)
		return set_error(s, -EINVAL, "local disk '%s' is not a regular file or block "
				 "device", s->disk);
	if (s->fd < 0)
		return set_error(s, s->fd, "cannot open local disk '%s': %s", s->disk,
				 strerror(-s->fd));
	ret = sync_disk_size(s->fd, &have);
	if (ret == -EINVAL)
		return set_error(s, ret, "local disk '%s' is not a regular file or block device",
				 s->disk);
	if (ret < 0)
		return set_error(s, ret, "cannot size local disk '%s': %s", s->disk,
				 strerror(-ret));
	if (have < s->size)
		return set_error(s, -ENOSPC, "local disk '%s' holds %llu bytes, fewer than the "
				 "resource's %llu; nothing written", s->disk,
				 (unsigned long long)have, (unsigned long long)s->size);
	return 0;
}

/* Digests of our chunks of batch @b into s->sums. */
static int
disk_digest(struct syncer *s, const struct batch *b)
{
	struct sync_digest d;
	uint64_t off;
	uint32_t len;

	for (uint32_t i = 0; i < b->count; i++) {
		if (sync_chunk_at(b->off, s->chunk, s->size, i, &off, &len) < 0)
			return -ERANGE;
		errno = 0;
		if (pread(s->fd, s->cbuf, len, (off_t)off) != (ssize_t)len)
			return set_error(s, -EIO, "cannot read local disk '%s' at %llu: %s",
					 s->disk, (unsigned long long)off,
					 errno ? strerror(errno) : "short read");
		sync_digest(s->cbuf, len, s->seed, &d);
		memcpy(s->sums + (size_t)i * SYNC_DIGEST_BYTES, d.b, SYNC_DIGEST_BYTES);
	}
	return 0;
}

/* ---- the connection ----------------------------------------------------- */

static int
want_peer(const struct gossip_endpoint *ep, void *arg)
{
	struct syncer *s = arg;

	if (strcmp(ep->host, s->st.peer) == 0)
		s->ch.ep = *ep;
	return 0;
}

/* The peer's address (tree ips/ and peers file) and our cluster uuid. */
static int
peer_find(struct syncer *s)
{
	struct statefs *sf = NULL;
	int ret = statefs_open(&sf, s->c->root, s->c->host, 0);

	if (ret < 0)
		return set_error(s, ret, "cannot open tree '%s': %s", s->c->root,
				 statefs_open_str(ret));
	ret = statefs_get(sf, "uuid", s->uuid, sizeof(s->uuid), NULL);
	if (ret < 0)
		set_error(s, ret, "no cluster uuid in '%s'", s->c->root);
	else
		ret = peers_load(s->c, sf, want_peer, s);
	statefs_close(&sf);
	if (ret == 0 && !s->ch.ep.host[0])
		ret = set_error(s, -ENOENT, "no address known for '%s' (not in ips/ nor the "
				"peers file)", s->st.peer);
	return ret;
}

/* Transport setup and HELLO, bounded.  0 or -errno. */
static int
conn_open(struct syncer *s)
{
	char err[512];
	int ret = channel_connect(&s->ch, err, sizeof(err));

	if (ret < 0)
		return ret == -EINTR ? ret : set_error(s, ret, "%s (%s)", err, s->ch.ep.addr);
	ret = channel_hello(&s->ch, s->uuid, GOSSIP_HELLO_SYNC, "full sync (older clusterd)",
			    err, sizeof(err));
	if (ret < 0)
		return ret == -EINTR ? ret : set_error(s, ret, "%s", err);
	return 0;
}

/* SEND @m ends the session: a refusal, or (after SFIN) the end.  -errno or 1. */
static int
on_send(struct syncer *s, const struct gossip_msg *m)
{
	static const int err[] = { 0, -ENOENT, -EPERM, -ERANGE, -EIO, -EINVAL };
	int e = m->code < sizeof(err) / sizeof(err[0]) ? err[m->code] : -EPROTO;

	if (m->code == GOSSIP_SYNC_OK && (!s->fin_sent || s->q_n > 0))
		return set_error(s, -EPROTO, "peer ended the session early");
	if (m->code != GOSSIP_SYNC_OK)
		return set_error(s, e, "refused by '%s': %s", s->st.peer, m->text);
	pthread_mutex_lock(&s->lock);
	snprintf(s->st.syncpos, sizeof(s->st.syncpos), "%.255s", m->value);
	s->st.done = 1;
	if (s->st.rate_bps == 0 && gossip_now_ms() > s->t0_ms)	/* shorter than a window */
		s->st.rate_bps = (s->st.pos - s->st.from) * 1000 / (gossip_now_ms() - s->t0_ms);
	s->st.net_bytes = s->ch.link.bytes_in;
	s->st.net_bytes_out = s->ch.link.bytes_out;
	pthread_mutex_unlock(&s->lock);
	return 1;
}

static int
session_start(struct syncer *s)
{
	struct gossip_msg m = { .type = GOSSIP_SYNC, .version = SYNC_PROTO_VERSION,
				.offset = s->next, .size = s->size, .chunk_bytes = s->chunk,
				.seed = s->seed }, r;
	int ret;

	snprintf(m.res, sizeof(m.res), "%s", s->res);
	if (gossip_compress_mode(s->c, NULL, s->res) != PIECE_NONE)
		m.sflags = s->ch.flags & GOSSIP_HELLO_ZSTD ? GOSSIP_SYNC_ZSTD : GOSSIP_SYNC_ZLIB;
	ret = channel_call(&s->ch, &m, &r);
	if (ret < 0)
		return ret == -EINTR ? ret : set_error(s, ret, "%s", channel_err_str(ret));
	if (r.type == GOSSIP_SEND)
		return on_send(s, &r) < 0 ? -EPERM : -EPROTO;
	if (r.type == GOSSIP_ERROR)
		return set_error(s, -EPERM, "refused by peer: %s", r.text);
	if (r.type != GOSSIP_SINFO || r.version != SYNC_PROTO_VERSION ||
	    r.chunk_bytes != s->chunk || r.size != s->size || (r.sflags & ~m.sflags))
		return set_error(s, -EPROTO, "peer answered the sync request with %s",
				 gossip_type_str(r.type));
	s->sflags = r.sflags;
	s->unz.zlib = !!(r.sflags & GOSSIP_SYNC_ZLIB);
	return 0;
}

/* ---- batches --------------------------------------------------------------- */

static int
batch_send(struct syncer *s)
{
	struct gossip_msg m = { .type = GOSSIP_SSUMS, .data = s->sums };
	struct batch *b = &s->q[s->q_n];
	int ret;

	b->count = sync_batch_chunks(s->next, s->size, s->chunk, SYNC_BATCH_MAX,
				     s->bucket_rate);
	b->off = s->next;
	b->end = b->off + (uint64_t)b->count * s->chunk;
	if (b->end > s->size)
		b->end = s->size;
	ret = disk_digest(s, b);
	if (ret < 0)
		return ret;
	m.offset = b->off;
	m.count = b->count;
	m.data_len = b->count * SYNC_DIGEST_BYTES;
	ret = link_send(&s->ch.link, &m);
	if (ret < 0)
		return set_error(s, ret, "cannot queue a batch: %s", strerror(-ret));
	if (s->q_n++ == 0) {
		s->wr_end = b->off;
		s->batch_copied = 0;
	}
	s->next = b->end;
	bucket_take(&s->bucket, b->end - b->off);
	return 0;
}

/* The transfer counters into the status. */
static void
publish_z(struct syncer *s)
{
	pthread_mutex_lock(&s->lock);
	s->st.z = s->unz.st;
	pthread_mutex_unlock(&s->lock);
}

/* ZCOST: the peer's CPU compressing in this session, which only grows. */
static int
on_zcost(struct syncer *s, const struct gossip_msg *m)
{
	if (!(s->sflags & GOSSIP_SYNC_ZSTD))
		return set_error(s, -EPROTO, "ZCOST in a session without compression");
	if (m->cpu_ns < s->zcost_ns)
		return set_error(s, -EPROTO, "peer's compression cost went backwards");
	s->unz.st.peer_cpu_ns += m->cpu_ns - s->zcost_ns;
	s->zcost_ns = m->cpu_ns;
	return 0;
}

/* SDATA: a piece of a differing chunk of the oldest batch. */
static int
on_data(struct syncer *s, const struct gossip_msg *m)
{
	const struct batch *b = &s->q[0];
	const uint8_t *src;

	if (s->q_n == 0 || m->offset < s->wr_end || m->offset >= b->end ||
	    m->raw_len > b->end - m->offset)
		return set_error(s, -EPROTO, "data at %llu outside the batch asked for",
				 (unsigned long long)m->offset);
	if ((m->enc == GOSSIP_SDATA_ZSTD && !(s->sflags & GOSSIP_SYNC_ZSTD)) ||
	    piece_unpack(&s->unz, m->enc, m->data, m->data_len, m->raw_len, &src) < 0)
		return set_error(s, -EPROTO, "bad compressed data at %llu",
				 (unsigned long long)m->offset);
	errno = 0;
	if (pwrite(s->fd, src, m->raw_len, (off_t)m->offset) != (ssize_t)m->raw_len)
		return set_error(s, -EIO, "cannot write local disk '%s' at %llu: %s", s->disk,
				 (unsigned long long)m->offset,
				 errno ? strerror(errno) : "short write");
	s->wr_end = m->offset + m->raw_len;
	s->batch_copied += m->raw_len;
	return 0;
}

/* SDONE: the oldest batch is complete.  Durable first, then counted. */
static int
on_done(struct syncer *s, const struct gossip_msg *m)
{
	struct batch b = s->q[0];

	if (s->q_n == 0 || m->offset != b.off || m->count != b.count || m->equal > m->count)
		return set_error(s, -EPROTO, "peer closed a batch not asked for (%llu)",
				 (unsigned long long)m->offset);
	if ((m->equal == m->count) != (s->batch_copied == 0))
		return set_error(s, -EPROTO, "peer's batch at %llu: %u of %u chunks differ, "
				 "%llu bytes sent", (unsigned long long)b.off,
				 m->count - m->equal, m->count,
				 (unsigned long long)s->batch_copied);
	if (s->batch_copied && fdatasync(s->fd) < 0)
		return set_error(s, -EIO, "cannot sync local disk '%s': %s", s->disk,
				 strerror(errno));
	publish(s, &b, s->batch_copied);
	publish_z(s);
	s->pos = b.end;
	memmove(&s->q[0], &s->q[1], (s->q_n - 1) * sizeof(s->q[0]));
	s->q_n--;
	s->wr_end = s->q_n ? s->q[0].off : b.end;
	s->batch_copied = 0;
	return 0;
}

/* One frame of the session: 0 go on, 1 done, -errno. */
static int
on_frame(struct syncer *s, const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_SDATA:
		return on_data(s, m);
	case GOSSIP_SDONE:
		return on_done(s, m);
	case GOSSIP_ZCOST:
		return on_zcost(s, m);
	case GOSSIP_SEND:
		return on_send(s, m);
	case GOSSIP_ERROR:
		return set_error(s, -EPERM, "refused by peer: %s", m->text);
	default:
		return set_error(s, -EPROTO, "unexpected %s from peer", gossip_type_str(m->type));
	}
}

/* 1 if fill_pipeline() has something to send now (the bucket aside). */
static int
can_send(const struct syncer *s)
{
	if (s->next < s->size)
		return s->q_n < SYNC_INFLIGHT && s->ch.link.out_len < GOSSIP_OUTQ_MAX / 2;
	return s->q_n == 0 && !s->fin_sent;
}

/* Keep SYNC_INFLIGHT batches asked for while the bucket allows. */
static int
fill_pipeline(struct syncer *s, uint64_t *wait_ns)
{
	struct gossip_msg fin = { .type = GOSSIP_SFIN };
	int ret = 0;

	*wait_ns = 0;
	while (ret == 0 && s->q_n < SYNC_INFLIGHT && s->next < s->size &&
	       s->ch.link.out_len < GOSSIP_OUTQ_MAX / 2) {
		*wait_ns = bucket_wait_ns(&s->bucket, bucket_now_ns());
		if (*wait_ns)
			break;
		ret = batch_send(s);
	}
	if (ret == 0 && s->q_n == 0 && s->next >= s->size && !s->fin_sent) {
		s->fin_sent = 1;
		ret = link_send(&s->ch.link, &fin);
	}
	return ret;
}

/* Batches out, answers in, until the peer confirms the end.  0 or -errno. */
static int
session_run(struct syncer *s)
{
	uint64_t deadline = gossip_now_ms() + s->c->timeout_ms, wait_ns, now;
	struct gossip_msg m;
	int ret;

	for (;;) {
		if (stopping(s))
			return -EINTR;
		if (s->q_n == 0 && !s->fin_sent)
			deadline = gossip_now_ms() + s->c->timeout_ms;	/* nothing awaited */
		ret = fill_pipeline(s, &wait_ns);
		if (ret == 0)
			ret = link_flush(&s->ch.link);
		while (ret == 0 && (ret = channel_recv(&s->ch, &m)) == 1) {
			deadline = gossip_now_ms() + s->c->timeout_ms;
			ret = on_frame(s, &m);
		}
		if (ret == 1)
			return 0;
		if (ret < 0)
			return set_error(s, ret, "peer '%s': %s", s->st.peer, channel_err_str(ret));
		if (!wait_ns && can_send(s))
			continue;	/* answers made room: ask for more before waiting */
		now = gossip_now_ms();
		if (now >= deadline)
			return set_error(s, -ETIMEDOUT, "peer '%s' silent for %u ms", s->st.peer,
					 s->c->timeout_ms);
		if (wait_ns && wait_ns / 1000000 + 1 < deadline - now)
			channel_thread_wait(&s->t, &s->ch, (int)(wait_ns / 1000000 + 1));
		else
			channel_thread_wait(&s->t, &s->ch, (int)(deadline - now));
	}
}

/* ---- the thread ------------------------------------------------------------ */

static void *
sync_thread(void *arg)
{
	struct syncer *s = arg;
	int ret;

	channel_init(&s->ch, &s->t);
	log_info("sync %s from %s: disk '%s', bytes %llu..%llu", s->res, s->st.peer, s->disk,
		 (unsigned long long)s->next, (unsigned long long)s->size);
	ret = disk_open(s);
	if (ret == 0)
		ret = peer_find(s);
	if (ret == 0)
		ret = conn_open(s);
	if (ret == 0)
		ret = session_start(s);
	if (ret == 0)
		ret = session_run(s);
	if (ret == 0)
		log_info("sync %s from %s: done, %llu bytes copied, syncpos '%s'", s->res,
			 s->st.peer, (unsigned long long)s->st.bytes_copied, s->st.syncpos);
	channel_release(&s->ch);
	if (s->fd >= 0)
		close(s->fd);
	publish_z(s);
	piece_unpacker_release(&s->unz);
	pthread_mutex_lock(&s->lock);
	s->st.net_bytes = s->ch.link.bytes_in;
	s->st.net_bytes_out = s->ch.link.bytes_out;
	s->finished = 1;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- API ------------------------------------------------------------------- */

static int
check_args(const struct gossip_config *c, const char *res, const char *peer,
	   const char *disk)
{
	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0 ||
	    statefs_name_check(STATEFS_NAME_HOST, peer, NULL) < 0 ||
	    strcmp(peer, c->host) == 0 || disk[0] != '/' || strlen(disk) >= 4096)
		return -EINVAL;
	return 0;
}

int
syncer_start(const struct gossip_config *c, const char *res, const char *peer,
	     const char *disk, uint64_t size_bytes, uint64_t from, struct syncer **out)
{
	struct syncer *s;
	int ret = check_args(c, res, peer, disk);

	if (ret < 0)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cbuf = malloc(SYNC_CHUNK_BYTES);
	if (!s->cbuf) {
		ret = -ENOMEM;
		goto out_free;
	}
	s->c = c;
	s->fd = -1;
	snprintf(s->res, sizeof(s->res), "%s", res);
	snprintf(s->disk, sizeof(s->disk), "%s", disk);
	snprintf(s->st.peer, sizeof(s->st.peer), "%s", peer);
	s->size = s->st.size_bytes = size_bytes;
	s->chunk = s->st.chunk_bytes = SYNC_CHUNK_BYTES;
	s->next = s->pos = s->st.pos = s->st.from = sync_round_from(from, s->chunk, size_bytes);
	s->t0_ms = gossip_now_ms();
	piece_unpacker_init(&s->unz, 0);
	rate_init(&s->rate, s->t0_ms);
	bucket_init(&s->bucket, 0, bucket_now_ns());
	if (getrandom(&s->seed, sizeof(s->seed), 0) != sizeof(s->seed))
		s->seed = bucket_now_ns() ^ ((uint64_t)getpid() << 32);
	pthread_mutex_init(&s->lock, NULL);
	transfer_failure_init(&s->fail, &s->lock, &s->st.error, s->st.why, sizeof(s->st.why),
			      "sync %s from %s", res, peer);
	ret = channel_thread_start(&s->t, c, sync_thread, stopping, s);
	if (ret < 0)
		goto out_lock;
	*out = s;
	return 0;
out_lock:
	pthread_mutex_destroy(&s->lock);
	free(s->cbuf);
out_free:
	free(s);
	return ret;
}

void
syncer_set_bwlimit(struct syncer *s, uint64_t bytes_per_s)
{
	int changed;

	pthread_mutex_lock(&s->lock);
	changed = s->bwlimit_bps != bytes_per_s;
	s->bwlimit_bps = bytes_per_s;
	pthread_mutex_unlock(&s->lock);
	if (changed)
		channel_thread_wake(&s->t);
}

void
syncer_status(struct syncer *s, struct sync_status *st)
{
	uint64_t now = gossip_now_ms();

	pthread_mutex_lock(&s->lock);
	if (rate_idle(&s->rate, now))
		s->st.rate_bps = 0;	/* nothing compared for a while */
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

int
syncer_finished(struct syncer *s)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = s->finished;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void
syncer_halt(struct syncer *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	channel_thread_join(&s->t);
}

void
syncer_stop(struct syncer *s)
{
	if (!s)
		return;
	syncer_halt(s);
	pthread_mutex_destroy(&s->lock);
	channel_thread_release(&s->t);
	free(s->cbuf);
	free(s);
}
