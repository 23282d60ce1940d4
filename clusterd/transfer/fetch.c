/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetching end of logfile transfer (protocol 1.1, docs/protocol.md
 * section 9).  One worker thread per resource (channel.h: a transfer is
 * long and its disk syncs block), whose waits are woken by its control
 * pipe, so fetcher_want()/fetcher_stop() take effect at once.
 *
 * A stream is one FETCH: from our durable size to the wanted final length
 * (or without end: follow), carrying a digest of our last bytes that the
 * serving end compares with its own, so a copy that disagrees is found
 * before anything is appended to it (it is then truncated and fetched
 * from its start).  Appended bytes are fdatasync'ed in batches, and only
 * synced bytes are reported: replay follows local_len.
 *
 * Pipeline (issue 18): this thread receives, verifies and decodes, and
 * queues each piece to the fwriter (fwriter.h), whose thread writes and
 * syncs behind it, each sync covering all that was written while the one
 * before ran; it alone reports local_len, after the sync.  At most
 * QUEUE_BYTES wait in the queue and UNSYNCED_MAX for a sync: beyond that
 * this thread stops reading and the peer's SSH window closes.  Measured
 * before (docs/performance.md): inline, fdatasync took a third of a
 * fetch's time and pwrite a tenth, the link idle meanwhile.
 *
 * Compression (protocol 1.3): a stream asks for FZDATA when the peer's
 * HELLO speaks it and this host's mode for the resource is not "none";
 * a compressed piece is decoded into exactly its announced length before
 * it is written, so the local copy is byte for byte the peer's.
 *
 * Peers: the logfile's origin first; when it is unreachable or has
 * nothing for us, every other member is probed (a FETCH without follow
 * whose end is our size: FINFO then FEND) and the one holding most is
 * used.  Peers and addresses come from peers_load(), as for gossip, but
 * over connections of our own.
 *
 * Trust: the origin's bytes are believed (its SSH identity proves it).
 * Another member's are not (records carry only xxh64, which a forger
 * recomputes): such a stream asks only up to a length the origin or the
 * designated primary vouched for, goes to a staging file through
 * fverify.h, and reaches the logfile only once its SHA-256 matched the
 * vouch (docs/protocol.md section 9.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "clusterd/transfer/bucket.h"
#include "clusterd/transfer/channel.h"
#include "clusterd/transfer/failure.h"
#include "clusterd/transfer/fetch.h"
#include "common/log.h"
#include "clusterd/gossip/peers.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/transfer/rate.h"
#include "clusterd/transfer/fwriter.h"
#include "clusterd/transfer/fverify.h"
#include "mars/names.h"

#define FETCH_PEERS_MAX		64
#define FETCH_REFETCH_MAX	16
#define QUEUE_BYTES		(8U << 20)	/* received, not yet written: at most */
#define UNSYNCED_MAX		(32ULL << 20)	/* received, not yet durable: at most */
#define SYNC_IDLE_MS		5		/* the stream paused: wait for the sync */
#define IDLE_WAIT_MS		1000		/* nothing to do: look again after */
#define PEER_RETRY_MS		1000		/* a peer that refused: not before */
#define STAGES_LOG_BYTES	(256ULL << 20)	/* per-stage timing logged this often */

/*
 * Where a stream's time goes (issue 18: measure before pipelining):
 * logged every STAGES_LOG_BYTES and at a stream's end.  ns each.
 */
struct fetch_stages {
	uint64_t t0_ns;		/* since the last log */
	uint64_t cpu0_ns;	/* this thread's CPU time then: is "link" waiting or work? */
	uint64_t link_ns;	/* reading frames and waiting for them */
	uint64_t decode_ns;	/* piece_unpack: zstd or a plain copy */
	uint64_t queue_ns;	/* copying into the fwriter's queue, waiting for room */
	uint64_t drain_ns;	/* waiting for the fwriter to drain (stream pauses) */
	uint64_t write_ns;	/* pwrite, in the fwriter's thread */
	uint64_t sync_ns;	/* fdatasync, in the fwriter's thread */
	uint64_t syncs;
	uint64_t bytes;		/* appended */
};

/* One peer's fetch connection (never shared with gossip). */
struct fconn {
	struct channel ch;
	uint64_t retry_ms;		/* not used before this time */
	unsigned backoff_ms;		/* after a connection failure */
	int mark;			/* reconcile scratch */
	uint64_t zcost_ns;		/* the peer's last ZCOST on this connection */
};

struct refetch_req {
	char name[FETCH_NAME_MAX + 1];
	uint64_t offset;
};

struct fetcher {
	const struct gossip_config *c;
	char res[STATEFS_NAME_MAX + 1];
	struct channel_thread t;		/* the worker and its control pipe */

	pthread_mutex_t lock;			/* guards the block below */
	struct fetch_want *want;		/* wanted list (copy) */
	size_t n_want;
	unsigned want_gen;			/* bumped when the list changes */
	unsigned idle_gen;			/* the thread idles on this list */
	int idle;				/* no stream runs (idle_gen valid) */
	struct refetch_req refetch[FETCH_REFETCH_MAX];
	size_t n_refetch;
	uint64_t bwlimit_bps;
	int stop;
	struct fetch_status st;
	struct transfer_failure fail;		/* writes st.error and st.why */
	struct rate rate;			/* of synced bytes: st.rate_bps */

	/* thread only */
	struct statefs *sf;
	int sf_open;
	char uuid[GOSSIP_UUID_MAX + 1];
	struct fconn *peers[FETCH_PEERS_MAX];
	size_t n_peers;
	struct fetch_want *mine;		/* the thread's copy of want */
	size_t n_mine;
	unsigned mine_gen;
	struct bucket bucket;
	uint64_t bucket_rate;
	struct piece_unpacker unz;	/* its st goes to st.z under the lock */
	struct fetch_stages stg;
	struct fwriter fw;		/* writes and syncs the current stream's file */
	struct fverify fv;		/* streams from a member not the origin */
	uint8_t dbuf[GOSSIP_DIGEST_MAX];
};

/* One stream's local side. */
struct stream {
	const struct fetch_want *w;
	int fd;
	uint64_t len;		/* durable local bytes, as far as this thread knows */
	uint64_t written;	/* appended after len, maybe synced by now */
	int stopping;		/* FSTOP sent: discard data until FEND */
	int zstd;		/* FETCH asked for FZDATA */
	int verify;		/* from a member not the origin: staged in f->fv */
	uint64_t end;		/* FETCH's end: w->final_len, or the vouched length */
};

/* ---- names ------------------------------------------------------------- */

/* The origin host in logfile name @name (the shared codec); -EINVAL if none. */
static int
logfile_origin(const char *name, char origin[MARS_NAME_MAX + 1])
{
	struct mars_logname ln;

	origin[0] = '\0';
	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return -EINVAL;
	memcpy(origin, ln.host, sizeof(ln.host));
	return 0;
}

/* ---- control: the caller's side, under the lock ---------------------- */

static int
set_error(struct fetcher *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The fetch's failure, by the contract of failure.h (an attempt is one
 * stream of one entry, work_entry()). */
static int
set_error(struct fetcher *f, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = transfer_failure_set(&f->fail, err, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * What the thread must do about control changes now: 1 if the current
 * stream must end (stop, a new wanted list, a refetch), 0 otherwise.
 * Checked after every frame as well, without draining the control pipe,
 * so that a stream that never pauses (a busy primary) still stops at
 * once; control_changed() also drains the pipe, for the waits.
 */
static int
control_pending(struct fetcher *f)
{
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = f->stop || f->want_gen != f->mine_gen || f->n_refetch > 0;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int
control_changed(void *arg)
{
	struct fetcher *f = arg;

	channel_thread_drain(&f->t);
	return control_pending(f);
}

/* ---- one connection ------------------------------------------------- */

static void
fconn_fail(struct fetcher *f, struct fconn *fc, const char *why)
{
	set_error(f, -ECONNABORTED, "peer '%s' (%s): %s", fc->ch.ep.host, fc->ch.ep.addr, why);
	channel_close(&fc->ch);
	fc->backoff_ms = fc->backoff_ms ? fc->backoff_ms * 2 : f->c->backoff_min_ms;
	if (fc->backoff_ms > f->c->backoff_max_ms)
		fc->backoff_ms = f->c->backoff_max_ms;
	fc->retry_ms = gossip_now_ms() + fc->backoff_ms;
}

/* Connect @fc if it is not: transport setup and HELLO, bounded.  0 or -errno. */
static int
fconn_open(struct fetcher *f, struct fconn *fc)
{
	char err[512];
	int ret;

	if (fc->ch.link.t)
		return 0;
	ret = channel_connect(&fc->ch, err, sizeof(err));
	if (ret == 0)
		ret = channel_hello(&fc->ch, f->uuid, GOSSIP_HELLO_FETCH,
				    "logfiles (protocol 1.0)", err, sizeof(err));
	if (ret == 0) {
		fc->backoff_ms = 0;
		fc->zcost_ns = 0;
	} else if (ret != -EINTR)
		fconn_fail(f, fc, err);
	return ret;
}

/* ---- peers ----------------------------------------------------------- */

static struct fconn *
find_peer(struct fetcher *f, const char *host)
{
	for (size_t i = 0; i < f->n_peers; i++)
		if (strcmp(f->peers[i]->ch.ep.host, host) == 0)
			return f->peers[i];
	return NULL;
}

static void
free_peer(struct fconn *fc)
{
	channel_release(&fc->ch);
	free(fc);
}

/* Callback of peers_load(): keep, re-address or add one member. */
static int
want_peer(const struct gossip_endpoint *ep, void *arg)
{
	struct fetcher *f = arg;
	struct fconn *fc = find_peer(f, ep->host);

	if (strcmp(ep->host, f->c->host) == 0)
		return 0;
	if (fc && (strcmp(fc->ch.ep.addr, ep->addr) != 0 || fc->ch.ep.port != ep->port)) {
		channel_close(&fc->ch);
		fc->ch.ep = *ep;
	}
	if (!fc && f->n_peers < FETCH_PEERS_MAX) {
		fc = calloc(1, sizeof(*fc));
		if (!fc)
			return 0;
		channel_init(&fc->ch, &f->t);
		fc->ch.ep = *ep;
		f->peers[f->n_peers++] = fc;
	}
	if (fc)
		fc->mark = 1;
	return 0;
}

/* The tree, opened once it exists.  0 or -errno. */
static int
tree_open(struct fetcher *f)
{
	int ret;

	if (f->sf_open)
		return 0;
	ret = statefs_open(&f->sf, f->c->root, f->c->host, 0);
	if (ret < 0) {
		set_error(f, ret, "cannot open tree '%s': %s", f->c->root, statefs_open_str(ret));
		return ret;
	}
	f->sf_open = 1;
	return 0;
}

/* Open the tree (once it exists) and rebuild the peer list.  0 or -errno. */
static int
reload_peers(struct fetcher *f)
{
	size_t i, j;
	int ret = tree_open(f);

	if (ret < 0)
		return ret;
	ret = statefs_get(f->sf, "uuid", f->uuid, sizeof(f->uuid), NULL);
	if (ret < 0) {
		set_error(f, ret, "no cluster uuid in '%s'", f->c->root);
		return ret;
	}
	for (i = 0; i < f->n_peers; i++)
		f->peers[i]->mark = 0;
	ret = peers_load(f->c, f->sf, want_peer, f);
	if (ret < 0)
		return ret;
	for (i = j = 0; i < f->n_peers; i++) {
		if (f->peers[i]->mark)
			f->peers[j++] = f->peers[i];
		else
			free_peer(f->peers[i]);
	}
	f->n_peers = j;
	return 0;
}

/* FETCH without follow ending at @offset: the peer's size, or -errno. */
static int64_t
probe_size(struct fetcher *f, struct fconn *fc, const char *name, uint64_t offset)
{
	struct gossip_msg m = { .type = GOSSIP_FETCH, .offset = offset, .end = offset }, r;
	int64_t size = -ENOENT;
	int ret;

	snprintf(m.res, sizeof(m.res), "%s", f->res);
	snprintf(m.name, sizeof(m.name), "%s", name);
	ret = channel_call(&fc->ch, &m, &r);
	while (ret == 0 && r.type != GOSSIP_FEND) {
		if (r.type == GOSSIP_FINFO)
			size = (int64_t)r.size;
		else if (r.type != GOSSIP_FDATA && r.type != GOSSIP_ZCOST)
			ret = -EPROTO;
		if (ret == 0)
			ret = channel_call(&fc->ch, NULL, &r);
	}
	if (ret == 0 && r.code == GOSSIP_FETCH_SHORT)
		size = (int64_t)r.offset;
	if (ret == -EINTR)
		channel_close(&fc->ch);	/* mid-request: the connection is of no more use */
	else if (ret < 0)
		fconn_fail(f, fc, channel_err_str(ret));
	return ret < 0 ? ret : size;
}

/*
 * The peer to fetch @name from, beyond our @len: its origin if reachable,
 * else the member holding most (more than @len; for a follow entry, as
 * much as we have is enough: it may grow), whose size goes to *@size.
 * NULL if none.
 */
static struct fconn *
pick_peer(struct fetcher *f, const struct fetch_want *w, uint64_t len, int64_t *size_out)
{
	char origin[MARS_NAME_MAX + 1];
	struct fconn *fc, *best = NULL;
	uint64_t now = gossip_now_ms();
	int64_t size, best_size = -1;

	if (reload_peers(f) < 0)
		return NULL;
	logfile_origin(w->name, origin);	/* "" when not a name: no such peer */
	fc = find_peer(f, origin);
	if (fc && now >= fc->retry_ms && fconn_open(f, fc) == 0)
		return fc;
	/* The origin's failure, if any, stays shown, but asking the other
	 * members is an attempt of its own: what they answer (no vouch, too
	 * little) is the news the operator needs, not a consequence. */
	transfer_failure_attempt(&f->fail);
	for (size_t i = 0; i < f->n_peers; i++) {
		if (control_changed(f))
			return NULL;	/* the wanted list changed: look again */
		fc = f->peers[i];
		if (strcmp(fc->ch.ep.host, origin) == 0 || now < fc->retry_ms ||
		    fconn_open(f, fc) < 0)
			continue;
		size = probe_size(f, fc, w->name, 0);
		if (size > best_size) {
			best = fc;
			best_size = size;
		}
	}
	*size_out = best_size;
	if (best && (best_size > (int64_t)len ||
		     (w->final_len == FETCH_FOLLOW && best_size == (int64_t)len)))
		return best;
	set_error(f, -ENOENT, "no reachable member holds more of '%s' than our %llu bytes",
		  w->name, (unsigned long long)len);
	return NULL;
}

/* ---- the local copy --------------------------------------------------- */

static int
local_open(struct fetcher *f, const char *name, uint64_t *len)
{
	struct stat st;
	int fd;

	fd = tree_open(f);
	if (fd < 0)
		return fd;
	fd = statefs_resource_dir(f->sf, f->res, 1);
	if (fd < 0)
		return fd;
	close(fd);
	fd = statefs_file_open(f->sf, f->res, name, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*len = (uint64_t)st.st_size;
	return fd;
}

/* xxh64 of our last up-to-64-KiB before @len, as FETCH carries it. */
static int
local_digest(struct fetcher *f, int fd, uint64_t len, struct gossip_msg *m)
{
	uint32_t n = len < GOSSIP_DIGEST_MAX ? (uint32_t)len : GOSSIP_DIGEST_MAX;
	ssize_t got = n ? pread(fd, f->dbuf, n, (off_t)(len - n)) : 0;

	if (got != (ssize_t)n)
		return got < 0 ? -errno : -EIO;
	m->digest_len = n;
	m->digest = XXH64(f->dbuf, n, 0);
	return 0;
}

/* The transfer counters into the status, under the lock. */
static void
publish_z(struct fetcher *f)
{
	pthread_mutex_lock(&f->lock);
	f->st.z = f->unz.st;
	pthread_mutex_unlock(&f->lock);
}

/* The fwriter's callback, in its thread: @len is durable, @synced of it newly. */
static void
publish(void *arg, uint64_t len, uint64_t synced)
{
	struct fetcher *f = arg;
	uint64_t now = gossip_now_ms();

	pthread_mutex_lock(&f->lock);
	f->st.local_len = len;
	f->st.bytes_total += synced;
	rate_add(&f->rate, synced, now, &f->st.rate_bps);
	pthread_mutex_unlock(&f->lock);
}

/* ---- per-stage timing ------------------------------------------------ */

/* CPU time of the calling thread, ns (0 if unknown). */
static uint64_t
thread_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ULL +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ULL;
}

static void
stages_reset(struct fetcher *f)
{
	f->stg = (struct fetch_stages){ .t0_ns = bucket_now_ns(), .cpu0_ns = thread_cpu_ns() };
	fwriter_stats(&f->fw, &f->stg.write_ns, &f->stg.sync_ns, &f->stg.syncs);	/* base */
}

/* Log the stages if @force (a stream's end) or enough bytes passed. */
static void
stages_log(struct fetcher *f, int force)
{
	const struct fetch_stages *g = &f->stg;
	uint64_t ms = (bucket_now_ns() - g->t0_ns) / 1000000;
	uint64_t write_ns, sync_ns, syncs;

	if (g->bytes < (force ? (1ULL << 20) : STAGES_LOG_BYTES))
		return;
	fwriter_stats(&f->fw, &write_ns, &sync_ns, &syncs);
	log_info("fetch %s: stages: %llu MiB in %llu ms (%.1f MiB/s, receiver CPU %llu ms): "
		 "link %llu ms, decode %llu ms, queue %llu ms, drain %llu ms; behind them "
		 "pwrite %llu ms, fdatasync %llu ms (%llu)", f->res,
		 (unsigned long long)(g->bytes >> 20), (unsigned long long)ms,
		 ms ? (double)g->bytes / 1048576.0 * 1000.0 / (double)ms : 0.0,
		 (unsigned long long)((thread_cpu_ns() - g->cpu0_ns) / 1000000),
		 (unsigned long long)(g->link_ns / 1000000),
		 (unsigned long long)(g->decode_ns / 1000000),
		 (unsigned long long)(g->queue_ns / 1000000),
		 (unsigned long long)(g->drain_ns / 1000000),
		 (unsigned long long)((write_ns - g->write_ns) / 1000000),
		 (unsigned long long)((sync_ns - g->sync_ns) / 1000000),
		 (unsigned long long)(syncs - g->syncs));
	stages_reset(f);
}

/* Wait until the appended bytes are durable (the fwriter reported them). */
static int
local_sync(struct fetcher *f, struct stream *s)
{
	uint64_t t0 = bucket_now_ns();
	int ret;

	if (s->written == 0)
		return 0;
	ret = fwriter_drain(&f->fw);
	f->stg.drain_ns += bucket_now_ns() - t0;
	publish_z(f);
	if (ret < 0) {
		set_error(f, ret, "cannot write or sync '%s': %s", s->w->name, strerror(-ret));
		return -EIO;
	}
	s->len += s->written;
	s->written = 0;
	return 0;
}

static int
local_truncate(struct fetcher *f, struct stream *s, uint64_t len)
{
	if (ftruncate(s->fd, (off_t)len) < 0 || fdatasync(s->fd) < 0) {
		set_error(f, -errno, "cannot truncate '%s': %s", s->w->name, strerror(errno));
		return -EIO;
	}
	s->len = len;
	s->written = 0;
	pthread_mutex_lock(&f->lock);
	f->st.refetches++;
	f->st.local_len = len;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* ---- one stream --------------------------------------------------------- */

/* ZCOST: the peer's CPU compressing in this session, which only grows. */
static int
on_zcost(struct fetcher *f, struct fconn *fc, const struct gossip_msg *m)
{
	if (m->cpu_ns < fc->zcost_ns)
		return -EPROTO;
	f->unz.st.peer_cpu_ns += m->cpu_ns - fc->zcost_ns;
	fc->zcost_ns = m->cpu_ns;
	publish_z(f);
	return 0;
}

/* Bytes of a member that is not the origin: hashed and staged, not appended. */
static int
on_data_staged(struct fetcher *f, struct stream *s, const uint8_t *data, uint64_t n)
{
	int ret = fverify_data(&f->fv, data, (size_t)n);

	f->stg.bytes += n;
	if (ret == -EPROTO)
		set_error(f, ret, "peer sent '%s' past the vouched length %llu", s->w->name,
			  (unsigned long long)s->end);
	else if (ret < 0)
		set_error(f, ret, "cannot stage '%s': %s", s->w->name, strerror(-ret));
	return ret == -EPROTO ? ret : ret < 0 ? -EIO : 0;
}

/* FDATA or FZDATA: decoded to exactly its length, then appended. */
static int
on_data(struct fetcher *f, struct stream *s, const struct gossip_msg *m)
{
	uint64_t pos = s->len + s->written + (s->verify ? f->fv.staged : 0), n;
	const uint8_t *data;
	uint64_t t0 = bucket_now_ns(), t1;
	int ret;

	if (s->stopping || m->data_len == 0)
		return 0;
	if (m->offset != pos || (m->type == GOSSIP_FZDATA && !s->zstd))
		return -EPROTO;
	ret = piece_unpack(&f->unz, m->type == GOSSIP_FZDATA ? m->enc : GOSSIP_SDATA_RAW,
			   m->data, m->data_len, m->type == GOSSIP_FZDATA ? m->raw_len :
			   m->data_len, &data);
	t1 = bucket_now_ns();
	f->stg.decode_ns += t1 - t0;
	if (ret < 0) {
		set_error(f, -EPROTO, "bad compressed data of '%s' at %llu", s->w->name,
			  (unsigned long long)pos);
		return -EPROTO;
	}
	n = m->type == GOSSIP_FZDATA ? m->raw_len : m->data_len;
	bucket_take(&f->bucket, m->data_len);	/* the limit is the link's */
	if (s->verify)
		return on_data_staged(f, s, data, n);
	if (s->w->final_len != FETCH_FOLLOW && pos + n > s->w->final_len)
		n = s->w->final_len > pos ? s->w->final_len - pos : 0;
	ret = fwriter_append(&f->fw, data, n);	/* waits while the queue is full */
	f->stg.queue_ns += bucket_now_ns() - t1;
	f->stg.bytes += n;
	s->written += n;
	stages_log(f, 0);
	if (ret < 0) {
		set_error(f, ret, "cannot write or sync '%s': %s", s->w->name, strerror(-ret));
		return -EIO;
	}
	return 0;
}

/* A staged stream from @fc refused: nothing reached the logfile. */
static int
refuse_unvouched(struct fetcher *f, struct fconn *fc, struct stream *s, const char *why)
{
	char e1[LOG_ESC_BYTES];

	fverify_abort(&f->fv);
	authz_count(f->sf, AUTHZ_COUNT_UNVOUCHED);
	log_warnx("fetch %s: refused '%s' [%llu, %llu) from '%s': %s", f->res, s->w->name,
		  (unsigned long long)s->len, (unsigned long long)s->end,
		  log_escape(e1, sizeof(e1), fc->ch.ep.host), why);
	set_error(f, -EBADMSG, "peer '%s': %s [%llu, %llu) refused: %s", fc->ch.ep.host,
		  s->w->name, (unsigned long long)s->len, (unsigned long long)s->end, why);
	fc->retry_ms = gossip_now_ms() + f->c->backoff_max_ms;
	return -ENOENT;
}

/*
 * The end of a stream from a member that is not the origin: the staged
 * bytes are appended only if they complete the vouched prefix.  A
 * MISMATCH does not truncate our copy: it came from the origin or was
 * verified, so the peer's is the one that differs.
 */
static int
on_end_staged(struct fetcher *f, struct fconn *fc, struct stream *s, const struct gossip_msg *m)
{
	char why[160];
	uint64_t n;
	int ret;

	if (s->stopping) {	/* we ended it: no verdict */
		fverify_abort(&f->fv);
		return 0;
	}
	if (m->code == GOSSIP_FETCH_MISMATCH)
		return refuse_unvouched(f, fc, s, "its copy differs from ours before the offset");
	if (m->code != GOSSIP_FETCH_OK) {
		fverify_abort(&f->fv);
		set_error(f, -ENOENT, "peer '%s': %s: %s", fc->ch.ep.host, s->w->name, m->text);
		fc->retry_ms = gossip_now_ms() + PEER_RETRY_MS;
		return -ENOENT;
	}
	ret = fverify_finish(&f->fv, s->fd, s->w->final_len, &n);
	if (ret < 0) {
		set_error(f, ret, "cannot append verified bytes to '%s': %s", s->w->name,
			  strerror(-ret));
		return -EIO;
	}
	if (ret == 0) {
		snprintf(why, sizeof(why), "%s (vouched by '%s' for %llu bytes)",
			 m->offset >= s->end ? "SHA-256 differs from the vouch" :
			 "the stream ended short of the vouch", f->fv.vouch.host,
			 (unsigned long long)s->end);
		return refuse_unvouched(f, fc, s, why);
	}
	s->len += n;
	publish(f, s->len, n);
	return 0;
}

/* The stream ended with FEND @m.  0 to go on (pick again), or -errno. */
static int
on_end(struct fetcher *f, struct fconn *fc, struct stream *s, const struct gossip_msg *m)
{
	int ret = local_sync(f, s);

	if (ret == 0 && s->verify)
		return on_end_staged(f, fc, s, m);
	if (ret < 0 || m->code == GOSSIP_FETCH_OK)
		return ret;
	if (m->code == GOSSIP_FETCH_MISMATCH) {
		log_warnx("fetch %s: local '%s' differs from %s's before offset %llu; "
			  "fetching it again from the start", f->res, s->w->name, fc->ch.ep.host,
			  (unsigned long long)s->len);
		ret = local_truncate(f, s, 0);
		fwriter_attach(&f->fw, s->fd, s->len);
		return ret;
	}
	set_error(f, -ENOENT, "peer '%s': %s: %s", fc->ch.ep.host, s->w->name, m->text);
	fc->retry_ms = gossip_now_ms() + PEER_RETRY_MS;
	return -ENOENT;
}

/* A control change ends the stream: FSTOP, then the remaining frames are
 * read and dropped until FEND. */
static int
stream_stop(struct fconn *fc, struct stream *s)
{
	struct gossip_msg stop = { .type = GOSSIP_FSTOP };

	if (s->stopping)
		return 0;
	s->stopping = 1;
	return link_send(&fc->ch.link, &stop);
}

/*
 * Wait up to @timeout_ms for the connection (if @poll_conn; else only for
 * the control pipe); a control change stops the stream.
 */
static int
stream_wait(struct fetcher *f, struct fconn *fc, struct stream *s, int poll_conn,
	    int timeout_ms)
{
	if (!channel_thread_wait(&f->t, poll_conn ? &fc->ch : NULL, timeout_ms) ||
	    !control_changed(f))
		return 0;
	return stream_stop(fc, s);
}

static int
stream_frame(struct fetcher *f, struct fconn *fc, struct stream *s,
	     const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_FINFO:
		pthread_mutex_lock(&f->lock);
		f->st.remote_len = m->size;
		pthread_mutex_unlock(&f->lock);
		return 0;
	case GOSSIP_FDATA:
	case GOSSIP_FZDATA:
		return on_data(f, s, m);
	case GOSSIP_ZCOST:
		return on_zcost(f, fc, m);
	case GOSSIP_FEND:
		return on_end(f, fc, s, m) < 0 ? -ENOENT : 1;
	default:
		return -EPROTO;
	}
}

static int
stream_request(struct fetcher *f, struct fconn *fc, struct stream *s)
{
	struct gossip_msg m = { .type = GOSSIP_FETCH };
	int ret;

	snprintf(m.res, sizeof(m.res), "%s", f->res);
	snprintf(m.name, sizeof(m.name), "%s", s->w->name);
	m.offset = s->len;
	m.end = s->end;
	/* a staged stream wants exactly the vouched prefix, which the peer holds */
	m.fflags = s->verify ? 0 : GOSSIP_FETCH_FOLLOW;
	s->zstd = (fc->ch.flags & GOSSIP_HELLO_ZSTD) &&
		  gossip_compress_mode(f->c, f->sf_open ? f->sf : NULL, f->res) != PIECE_NONE;
	if (s->zstd)
		m.fflags |= GOSSIP_FETCH_ZSTD;
	ret = local_digest(f, s->fd, s->len, &m);
	if (ret < 0) {
		set_error(f, ret, "cannot read '%s': %s", s->w->name, strerror(-ret));
		return -EIO;
	}
	return link_send(&fc->ch.link, &m);
}

/*
 * Run one FETCH on @fc until its FEND.  The bucket gates reading: while
 * it is empty nothing is read, so the SSH window closes and the serving
 * end waits.  The fwriter syncs appended bytes while the stream flows;
 * once it pauses for SYNC_IDLE_MS this thread waits for that sync too
 * (the durable length is then known here).  Returns 0 (go on), or -errno
 * after a failure.
 */
/* The bandwidth limit may change while a stream runs (the driver shares
 * a node-wide limit among the busy fetchers): take it in. */
static void
bucket_follow(struct fetcher *f)
{
	uint64_t rate;

	pthread_mutex_lock(&f->lock);
	rate = f->bwlimit_bps;
	pthread_mutex_unlock(&f->lock);
	if (rate != f->bucket_rate) {
		bucket_init(&f->bucket, rate, bucket_now_ns());
		f->bucket_rate = rate;
	}
}

static int
stream_run(struct fetcher *f, struct fconn *fc, struct stream *s)
{
	uint64_t deadline = gossip_now_ms() + f->c->timeout_ms, last_frame = 0, now;
	struct gossip_msg m;
	uint64_t wait_ns, t_link = bucket_now_ns();
	int ret;

	fwriter_attach(&f->fw, s->fd, s->len);
	stages_reset(f);
	ret = stream_request(f, fc, s);
	while (ret == 0) {
		ret = link_flush(&fc->ch.link);
		bucket_follow(f);
		wait_ns = s->stopping ? 0 : bucket_wait_ns(&f->bucket, bucket_now_ns());
		if (ret == 0 && wait_ns == 0 && (ret = channel_recv(&fc->ch, &m)) == 1) {
			last_frame = gossip_now_ms();
			deadline = last_frame + f->c->timeout_ms;
			f->stg.link_ns += bucket_now_ns() - t_link;
			ret = stream_frame(f, fc, s, &m);
			t_link = bucket_now_ns();
			if (ret == 0 && !s->stopping && control_pending(f))
				ret = stream_stop(fc, s);
			continue;
		}
		if (ret < 0)
			break;
		now = gossip_now_ms();
		if (s->written && now - last_frame >= SYNC_IDLE_MS && local_sync(f, s) < 0)
			return -EIO;
		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		if (wait_ns) {	/* the bucket is empty: sleep, data stays unread */
			deadline += wait_ns / 1000000 + 1;
			ret = stream_wait(f, fc, s, 0, (int)(wait_ns / 1000000 + 1));
		} else {
			ret = stream_wait(f, fc, s, 1, s->written ? SYNC_IDLE_MS :
					  (int)(deadline - now));
		}
	}
	stages_log(f, 1);
	if (ret == 1)
		return 0;
	if (ret == -ENOENT)	/* refused by FEND: the connection is clean */
		return ret;
	if (ret == -EIO) {	/* local failure: the stream still runs there */
		channel_close(&fc->ch);
		return ret;
	}
	local_sync(f, s);
	fconn_fail(f, fc, channel_err_str(ret));
	return ret;
}

/* ---- the thread ---------------------------------------------------------- */

/* Take the caller's changes: wanted list, refetches, bandwidth limit. */
static int
take_control(struct fetcher *f)
{
	struct refetch_req req[FETCH_REFETCH_MAX];
	size_t n_req;
	uint64_t rate;
	int stop;

	channel_thread_drain(&f->t);
	pthread_mutex_lock(&f->lock);
	stop = f->stop;
	if (f->want_gen != f->mine_gen) {
		struct fetch_want *w = malloc((f->n_want ? f->n_want : 1) * sizeof(*w));

		if (w) {
			memcpy(w, f->want, f->n_want * sizeof(*w));
			free(f->mine);
			f->mine = w;
			f->n_mine = f->n_want;
			f->mine_gen = f->want_gen;
		}
	}
	n_req = f->n_refetch;
	memcpy(req, f->refetch, n_req * sizeof(req[0]));
	f->n_refetch = 0;
	rate = f->bwlimit_bps;
	pthread_mutex_unlock(&f->lock);
	if (rate != f->bucket_rate) {
		bucket_init(&f->bucket, rate, bucket_now_ns());
		f->bucket_rate = rate;
	}
	for (size_t i = 0; i < n_req; i++) {
		struct fetch_want w = { .final_len = FETCH_FOLLOW };
		struct stream s = { .w = &w };
		uint64_t len;

		memcpy(w.name, req[i].name, sizeof(w.name));
		s.fd = local_open(f, w.name, &len);
		if (s.fd < 0)
			continue;
		if (len > req[i].offset) {
			log_info("fetch %s: '%s' from offset %llu fetched again", f->res, w.name,
				 (unsigned long long)req[i].offset);
			local_truncate(f, &s, req[i].offset);
		}
		close(s.fd);
	}
	return stop;
}

static void
status_entry(struct fetcher *f, const struct fetch_want *w, uint64_t local_len,
	     const char *peer, int complete)
{
	pthread_mutex_lock(&f->lock);
	if (!w || strcmp(f->st.name, w->name) != 0)
		f->st.remote_len = 0;
	snprintf(f->st.name, sizeof(f->st.name), "%s", w ? w->name : "");
	f->st.final_len = w ? w->final_len : 0;
	f->st.local_len = local_len;
	if (peer)
		snprintf(f->st.peer, sizeof(f->st.peer), "%s", peer);
	f->st.complete = complete;
	pthread_mutex_unlock(&f->lock);
}

/*
 * @s comes from a member that is not the origin, which holds @peer_size
 * bytes: stage it up to a vouched length, if there is one.  0 or -errno.
 */
static int
stage_from(struct fetcher *f, struct stream *s, uint64_t peer_size)
{
	struct repl_vouch vouch;
	int ret;

	if (peer_size <= s->len)
		return -EAGAIN;		/* following, and it holds no more than we do */
	ret = fverify_pick(f->sf, f->res, s->w->name, s->len, peer_size, &vouch);
	if (ret == 0) {
		set_error(f, -ENOENT, "no vouch of the origin or the primary covers more of '%s' "
			  "than our %llu bytes within the %llu another member holds; waiting for "
			  "the origin", s->w->name, (unsigned long long)s->len,
			  (unsigned long long)peer_size);
		return -ENOENT;
	}
	if (ret > 0)
		ret = fverify_begin(&f->fv, f->sf, f->res, s->w->name, s->fd, s->len, &vouch);
	if (ret < 0) {
		set_error(f, ret, "cannot verify '%s': %s", s->w->name, strerror(-ret));
		return ret;
	}
	s->verify = 1;
	s->end = vouch.len_bytes;
	return 0;
}

/* Work on @w until its stream ends.  Returns 1 if @w is complete. */
static int
work_entry(struct fetcher *f, const struct fetch_want *w)
{
	char origin[MARS_NAME_MAX + 1];
	struct stream s = { .w = w };
	int64_t peer_size = -1;
	struct fconn *fc;

	transfer_failure_attempt(&f->fail);
	if (logfile_origin(w->name, origin) < 0) {
		set_error(f, -EINVAL, "not a logfile name: '%s'", w->name);
		return 0;
	}
	if (strcmp(origin, f->c->host) == 0)
		return 1;	/* our own logfile: we are its origin */
	s.fd = local_open(f, w->name, &s.len);
	if (s.fd < 0) {
		set_error(f, s.fd, "cannot open local '%s': %s", w->name, strerror(-s.fd));
		return 0;
	}
	status_entry(f, w, s.len, NULL, 0);
	s.end = w->final_len;
	if (s.len < w->final_len) {
		fc = pick_peer(f, w, s.len, &peer_size);
		if (fc && strcmp(fc->ch.ep.host, origin) != 0 &&
		    stage_from(f, &s, (uint64_t)peer_size) < 0)
			fc = NULL;
		if (fc) {
			status_entry(f, w, s.len, fc->ch.ep.host, 0);
			if (stream_run(f, fc, &s) == 0)
				set_error(f, 0, "%s", "");
			/* nothing of the stream may be synced once its fd is closed */
			local_sync(f, &s);
			fwriter_detach(&f->fw);
		}
	}
	close(s.fd);
	return s.len >= w->final_len;
}

/* Size of our copy of @name; 0 if there is none (or not a regular file). */
static uint64_t
local_size(struct fetcher *f, const char *name)
{
	struct stat st;

	if (tree_open(f) < 0 || statefs_file_stat(f->sf, f->res, name, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

static int
own_logfile(struct fetcher *f, const char *name)
{
	char origin[MARS_NAME_MAX + 1];

	return logfile_origin(name, origin) == 0 &&
	       strcmp(origin, f->c->host) == 0;
}

/* The first wanted entry not complete, or NULL. */
static const struct fetch_want *
next_entry(struct fetcher *f)
{
	for (size_t i = 0; i < f->n_mine; i++) {
		const struct fetch_want *w = &f->mine[i];

		if (own_logfile(f, w->name))
			continue;	/* we are its origin: nothing to fetch */
		if (w->final_len == FETCH_FOLLOW || local_size(f, w->name) < w->final_len)
			return w;
	}
	return NULL;
}

/* Say whether the thread idles on the list it took last (fetch_status.stopped). */
static void
set_idle(struct fetcher *f, int idle)
{
	pthread_mutex_lock(&f->lock);
	f->idle = idle;
	f->idle_gen = f->mine_gen;
	pthread_mutex_unlock(&f->lock);
}

static void *
fetch_thread(void *arg)
{
	struct fetcher *f = arg;
	const struct fetch_want *w;

	while (!take_control(f)) {
		w = next_entry(f);
		set_idle(f, !w);
		if (!w) {
			w = f->n_mine ? &f->mine[f->n_mine - 1] : NULL;
			status_entry(f, w, w ? local_size(f, w->name) : 0, NULL, 1);
			channel_thread_wait(&f->t, NULL, IDLE_WAIT_MS);
			continue;
		}
		if (work_entry(f, w))
			continue;
		/* not complete: a follow stream ended, or a failure: wait a little */
		if (f->st.error)
			channel_thread_wait(&f->t, NULL, PEER_RETRY_MS / 2);
	}
	for (size_t i = 0; i < f->n_peers; i++)
		free_peer(f->peers[i]);
	f->n_peers = 0;
	fverify_release(&f->fv);
	if (f->sf_open)
		statefs_close(&f->sf);
	piece_unpacker_release(&f->unz);
	return NULL;
}

/* ---- API ----------------------------------------------------------------- */

int
fetcher_start(const struct gossip_config *c, const char *res, struct fetcher **out)
{
	struct fetcher *f;
	int ret;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, res, NULL) < 0)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->c = c;
	snprintf(f->res, sizeof(f->res), "%s", res);
	rate_init(&f->rate, gossip_now_ms());
	bucket_init(&f->bucket, 0, bucket_now_ns());
	piece_unpacker_init(&f->unz, 0);
	fverify_init(&f->fv);
	pthread_mutex_init(&f->lock, NULL);
	transfer_failure_init(&f->fail, &f->lock, &f->st.error, f->st.why, sizeof(f->st.why),
			      "fetch %s", res);
	ret = fwriter_start(&f->fw, QUEUE_BYTES, UNSYNCED_MAX, publish, f);
	if (ret < 0)
		goto out_lock;
	ret = channel_thread_start(&f->t, c, fetch_thread, control_changed, f);
	if (ret < 0)
		goto out_fwriter;
	*out = f;
	return 0;
out_fwriter:
	fwriter_stop(&f->fw);
out_lock:
	pthread_mutex_destroy(&f->lock);
	piece_unpacker_release(&f->unz);
	free(f);
	return ret;
}

static int
want_equal(const struct fetch_want *a, size_t na, const struct fetch_want *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].final_len != b[i].final_len || strcmp(a[i].name, b[i].name) != 0)
			return 0;
	return 1;
}

void
fetcher_want(struct fetcher *f, const struct fetch_want *w, size_t n)
{
	struct fetch_want *copy = malloc((n ? n : 1) * sizeof(*w));

	if (!copy)
		return;
	memcpy(copy, w, n * sizeof(*w));
	for (size_t i = 0; i < n; i++)
		copy[i].name[FETCH_NAME_MAX] = '\0';
	pthread_mutex_lock(&f->lock);
	if (want_equal(copy, n, f->want, f->n_want)) {
		pthread_mutex_unlock(&f->lock);
		free(copy);
		return;
	}
	free(f->want);
	f->want = copy;
	f->n_want = n;
	f->want_gen++;
	pthread_mutex_unlock(&f->lock);
	channel_thread_wake(&f->t);
}

void
fetcher_refetch(struct fetcher *f, const char *name, uint64_t offset)
{
	pthread_mutex_lock(&f->lock);
	if (f->n_refetch < FETCH_REFETCH_MAX) {
		snprintf(f->refetch[f->n_refetch].name, FETCH_NAME_MAX + 1, "%s", name);
		f->refetch[f->n_refetch++].offset = offset;
	}
	pthread_mutex_unlock(&f->lock);
	channel_thread_wake(&f->t);
}

void
fetcher_set_bwlimit(struct fetcher *f, uint64_t bytes_per_s)
{
	int changed;

	pthread_mutex_lock(&f->lock);
	changed = f->bwlimit_bps != bytes_per_s;
	f->bwlimit_bps = bytes_per_s;
	pthread_mutex_unlock(&f->lock);
	if (changed)
		channel_thread_wake(&f->t);
}

void
fetcher_status(struct fetcher *f, struct fetch_status *st)
{
	uint64_t now = gossip_now_ms();

	pthread_mutex_lock(&f->lock);
	if (rate_idle(&f->rate, now))
		f->st.rate_bps = 0;	/* nothing synced for a while */
	*st = f->st;
	st->stopped = f->n_want == 0 && f->idle && f->idle_gen == f->want_gen;
	if (st->final_len == FETCH_FOLLOW && st->name[0])
		st->complete = st->peer[0] && !st->error && st->local_len >= st->remote_len;
	pthread_mutex_unlock(&f->lock);
}

void
fetcher_stop(struct fetcher *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_mutex_unlock(&f->lock);
	channel_thread_join(&f->t);
	fwriter_stop(&f->fw);
	pthread_mutex_destroy(&f->lock);
	channel_thread_release(&f->t);
	free(f->want);
	free(f->mine);
	free(f);
}
