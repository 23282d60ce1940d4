/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fetching end of logfile transfer (protocol 1.1, docs/protocol.md
 * section 9).  One thread per resource, because a transfer is long and
 * its disk syncs block: inside it everything is sequential and every wait
 * is a poll() bounded by the timeout and woken by the control pipe, so
 * fetcher_want()/fetcher_stop() take effect at once.
 *
 * A stream is one FETCH: from our durable size to the wanted final length
 * (or without end: follow), carrying a digest of our last bytes that the
 * serving end compares with its own, so a copy that disagrees is found
 * before anything is appended to it (it is then truncated and fetched
 * from its start).  Appended bytes are fdatasync'ed in batches, and only
 * synced bytes are reported: replay follows local_len.
 *
 * Peers: the logfile's origin first; when it is unreachable or has
 * nothing for us, every other member is probed (a FETCH without follow
 * whose end is our size: FINFO then FEND) and the one holding most is
 * used.  Peers and addresses come from peers_load(), as for gossip, but
 * over connections of our own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <xxhash.h>

#include "clusterd/fetch.h"
#include "clusterd/log.h"
#include "clusterd/peers.h"

#define FETCH_PEERS_MAX		64
#define FETCH_REFETCH_MAX	16
#define SYNC_BYTES		(1U << 20)	/* fdatasync at least every MiB... */
#define SYNC_MS			100		/* ...and 100 ms after a first write, */
#define SYNC_IDLE_MS		5		/* ...and when the stream pauses this long */
#define RATE_WINDOW_MS		1000
#define IDLE_WAIT_MS		1000		/* nothing to do: look again after */
#define PEER_RETRY_MS		1000		/* a peer that refused: not before */

/* One peer's fetch connection (never shared with gossip). */
struct fconn {
	struct gossip_endpoint ep;
	struct gossip_link link;	/* link.t == NULL: closed */
	size_t consumed;		/* bytes of link.in the last frame used */
	uint64_t retry_ms;		/* not used before this time */
	unsigned backoff_ms;		/* after a connection failure */
	int mark;			/* reconcile scratch */
};

struct refetch_req {
	char name[FETCH_NAME_MAX + 1];
	uint64_t offset;
};

struct fetcher {
	const struct gossip_config *c;
	char res[STATEFS_NAME_MAX + 1];
	pthread_t thread;
	int wake[2];				/* control pipe: [0] polled by the thread */

	pthread_mutex_t lock;			/* guards the block below */
	struct fetch_want *want;		/* wanted list (copy) */
	size_t n_want;
	unsigned want_gen;			/* bumped when the list changes */
	struct refetch_req refetch[FETCH_REFETCH_MAX];
	size_t n_refetch;
	uint64_t bwlimit_bps;
	int stop;
	struct fetch_status st;

	/* thread only */
	struct statefs sf;
	int sf_open;
	char uuid[GOSSIP_UUID_MAX + 1];
	struct fconn *peers[FETCH_PEERS_MAX];
	size_t n_peers;
	struct fetch_want *mine;		/* the thread's copy of want */
	size_t n_mine;
	unsigned mine_gen;
	struct fetch_bucket bucket;
	uint64_t bucket_rate;
	uint64_t rate_t0_ms, rate_bytes;
	uint8_t dbuf[GOSSIP_DIGEST_MAX];
};

/* One stream's local side. */
struct stream {
	const struct fetch_want *w;
	int fd;
	uint64_t len;		/* durable local bytes */
	uint64_t written;	/* appended after len, not yet synced */
	uint64_t first_write_ms;
	int stopping;		/* FSTOP sent: discard data until FEND */
};

/* ---- pure parts: names, token bucket -------------------------------- */

int
fetch_name_parse(const char *name, uint64_t *nr, char *origin, size_t origin_size)
{
	const char *p = name + 4, *dash;
	uint64_t v = 0;
	size_t digits;

	if (strncmp(name, "log-", 4) != 0)
		return -EINVAL;
	dash = strchr(p, '-');
	digits = dash ? (size_t)(dash - p) : 0;
	if (digits < 9 || digits > 19)
		return -EINVAL;
	for (size_t i = 0; i < digits; i++) {
		if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (statefs_name_check(STATEFS_NAME_HOST, dash + 1, NULL) < 0)
		return -EINVAL;
	if (nr)
		*nr = v;
	if (origin) {
		if (strlen(dash + 1) >= origin_size)
			return -EINVAL;
		strcpy(origin, dash + 1);
	}
	return 0;
}

void
fetch_bucket_init(struct fetch_bucket *b, uint64_t rate_bps, uint64_t now_ns)
{
	b->rate_bps = rate_bps;
	/* an eighth of a second saved up at most, and never less than a frame */
	b->burst_bytes = rate_bps / 8 > GOSSIP_FDATA_MAX ? rate_bps / 8 : GOSSIP_FDATA_MAX;
	b->tokens = 0;
	b->last_ns = now_ns;
}

static void
bucket_refill(struct fetch_bucket *b, uint64_t now_ns)
{
	uint64_t dt = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	unsigned __int128 add = (unsigned __int128)dt * b->rate_bps / 1000000000u;
	unsigned __int128 room = (unsigned __int128)((int64_t)b->burst_bytes - b->tokens);

	b->last_ns = now_ns;
	if (b->tokens >= (int64_t)b->burst_bytes || add >= room)
		b->tokens = (int64_t)b->burst_bytes;
	else
		b->tokens += (int64_t)add;
}

uint64_t
fetch_bucket_wait_ns(struct fetch_bucket *b, uint64_t now_ns)
{
	if (b->rate_bps == 0)
		return 0;
	bucket_refill(b, now_ns);
	if (b->tokens > 0)
		return 0;
	/* until one byte is available */
	return (uint64_t)((unsigned __int128)(uint64_t)(1 - b->tokens) * 1000000000u /
			  b->rate_bps) + 1;
}

void
fetch_bucket_take(struct fetch_bucket *b, uint64_t bytes)
{
	if (b->rate_bps)
		b->tokens -= (int64_t)bytes;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- control: the caller's side, under the lock ---------------------- */

static void
wake(struct fetcher *f)
{
	char b = 1;

	if (write(f->wake[1], &b, 1) < 0) {
		/* full pipe: a wakeup is pending already */
	}
}

static void
drain_wake(struct fetcher *f)
{
	char b[64];

	while (read(f->wake[0], b, sizeof(b)) > 0)
		;
}

static void
set_error(struct fetcher *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(struct fetcher *f, int err, const char *fmt, ...)
{
	char why[sizeof(f->st.why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&f->lock);
	if (err && strcmp(why, f->st.why) != 0)
		log_warnx("fetch %s: %s", f->res, why);
	f->st.error = err;
	snprintf(f->st.why, sizeof(f->st.why), "%s", err ? why : "");
	pthread_mutex_unlock(&f->lock);
}

/*
 * What the thread must do about control changes now: 1 if the current
 * stream must end (stop, a new wanted list, a refetch), 0 otherwise.
 */
static int
control_changed(struct fetcher *f)
{
	int ret;

	drain_wake(f);
	pthread_mutex_lock(&f->lock);
	ret = f->stop || f->want_gen != f->mine_gen || f->n_refetch > 0;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/* ---- one connection ------------------------------------------------- */

static void
fconn_fail(struct fetcher *f, struct fconn *fc, const char *why)
{
	set_error(f, -ECONNABORTED, "peer '%s' (%s): %s", fc->ep.host, fc->ep.addr, why);
	link_reset(&fc->link);
	fc->consumed = 0;
	fc->backoff_ms = fc->backoff_ms ? fc->backoff_ms * 2 : f->c->backoff_min_ms;
	if (fc->backoff_ms > f->c->backoff_max_ms)
		fc->backoff_ms = f->c->backoff_max_ms;
	fc->retry_ms = gossip_now_ms() + fc->backoff_ms;
}

/* Close @fc without blame (no backoff). */
static void
fconn_drop(struct fconn *fc)
{
	link_reset(&fc->link);
	fc->consumed = 0;
}

/*
 * Wait until @fc's descriptor is ready, the control pipe is written, or
 * @timeout_ms passes.  Returns 1 if the control pipe woke us, else 0.
 */
static int
fconn_poll(struct fetcher *f, struct fconn *fc, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = f->wake[0], .events = POLLIN }, { .fd = -1 } };

	if (fc && fc->link.t)
		p[1].fd = fc->link.ops->poll_fd(fc->link.t, fc->link.out_len > 0, &p[1].events);
	if (poll(p, 2, timeout_ms < 0 ? 0 : timeout_ms) < 0)
		return 0;
	return (p[0].revents & POLLIN) != 0;
}

/*
 * The next frame, zero-copy: FDATA's data points into link.in, so the
 * frame is consumed only on the next call (link_recv() would move it).
 * Returns 1, 0 if none is complete, or -errno as link_recv().
 */
static int
fconn_recv(struct fconn *fc, struct gossip_msg *m)
{
	struct gossip_link *l = &fc->link;
	size_t used;
	ssize_t n;
	int ret;

	if (fc->consumed) {
		memmove(l->in, l->in + fc->consumed, l->in_len - fc->consumed);
		l->in_len -= fc->consumed;
		fc->consumed = 0;
	}
	for (;;) {
		ret = gossip_decode(l->in, l->in_len, &used, m);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			fc->consumed = used;
			return 1;
		}
		n = l->ops->read(l->t, l->in + l->in_len, sizeof(l->in) - l->in_len);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		l->in_len += (size_t)n;
		l->bytes_in += (uint64_t)n;
	}
}

static const char *
recv_err_str(int ret)
{
	return ret == -ECONNRESET ? "connection closed by peer" :
	       ret == -EMSGSIZE ? "oversized frame" :
	       ret == -EPROTO ? "malformed frame" :
	       ret == -ETIMEDOUT ? "timed out" : strerror(-ret);
}

/* Send @m and wait (bounded) for the next frame into @r.  0 or -errno. */
static int
fconn_call(struct fetcher *f, struct fconn *fc, const struct gossip_msg *m,
	   struct gossip_msg *r)
{
	uint64_t deadline = gossip_now_ms() + f->c->timeout_ms;
	int ret = m ? link_send(&fc->link, m) : 0;

	while (ret == 0) {
		ret = link_flush(&fc->link);
		if (ret == 0)
			ret = fconn_recv(fc, r);
		if (ret == 1)
			return 0;
		if (ret < 0)
			break;
		if (gossip_now_ms() >= deadline)
			return -ETIMEDOUT;
		if (fconn_poll(f, fc, (int)(deadline - gossip_now_ms())) && control_changed(f))
			return -EINTR;
	}
	return ret;
}

static int
fconn_hello(struct fetcher *f, struct fconn *fc)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION,
				.flags = GOSSIP_HELLO_FETCH }, r;
	char why[GOSSIP_TEXT_MAX + 64];
	int ret;

	snprintf(m.uuid, sizeof(m.uuid), "%s", f->uuid);
	snprintf(m.host, sizeof(m.host), "%s", f->c->host);
	ret = fconn_call(f, fc, &m, &r);
	if (ret < 0) {
		if (ret != -EINTR)
			fconn_fail(f, fc, recv_err_str(ret));
		return ret;
	}
	if (r.type == GOSSIP_ERROR)
		snprintf(why, sizeof(why), "refused by peer: %s", r.text);
	else if (r.type != GOSSIP_HELLO || r.version != GOSSIP_PROTO_VERSION)
		snprintf(why, sizeof(why), "peer speaks another protocol version");
	else if (strcmp(r.uuid, f->uuid) != 0)
		snprintf(why, sizeof(why), "cluster uuid mismatch: peer is in '%s'", r.uuid);
	else if (strcmp(r.host, fc->ep.host) != 0)
		snprintf(why, sizeof(why), "peer answers as '%s'", r.host);
	else if (!(r.flags & GOSSIP_HELLO_FETCH))
		snprintf(why, sizeof(why), "peer does not serve logfiles (protocol 1.0)");
	else
		return 0;
	fconn_fail(f, fc, why);
	return -EPROTO;
}

/* Connect @fc if it is not: transport setup and HELLO, bounded.  0 or -errno. */
static int
fconn_open(struct fetcher *f, struct fconn *fc)
{
	uint64_t deadline = gossip_now_ms() + f->c->timeout_ms;
	char err[512] = "connection setup failed";
	int ret;

	if (fc->link.t)
		return 0;
	ret = fc->link.ops->open(&f->c->tconf, &fc->ep, &fc->link.t);
	if (ret < 0) {
		fc->link.t = NULL;
		snprintf(err, sizeof(err), "cannot connect: %s", strerror(-ret));
		fconn_fail(f, fc, err);
		return ret;
	}
	while ((ret = fc->link.ops->connect_step(fc->link.t, err, sizeof(err))) == 0) {
		if (gossip_now_ms() >= deadline) {
			fconn_fail(f, fc, "timed out connecting");
			return -ETIMEDOUT;
		}
		if (fconn_poll(f, fc, (int)(deadline - gossip_now_ms())) && control_changed(f)) {
			fconn_drop(fc);
			return -EINTR;
		}
	}
	if (ret < 0) {
		fconn_fail(f, fc, err);
		return ret;
	}
	fc->consumed = 0;
	ret = fconn_hello(f, fc);
	if (ret == -EINTR)
		fconn_drop(fc);
	if (ret == 0)
		fc->backoff_ms = 0;
	return ret;
}

/* ---- peers ----------------------------------------------------------- */

static struct fconn *
find_peer(struct fetcher *f, const char *host)
{
	for (size_t i = 0; i < f->n_peers; i++)
		if (strcmp(f->peers[i]->ep.host, host) == 0)
			return f->peers[i];
	return NULL;
}

static void
free_peer(struct fconn *fc)
{
	link_release(&fc->link);
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
	if (fc && (strcmp(fc->ep.addr, ep->addr) != 0 || fc->ep.port != ep->port)) {
		link_reset(&fc->link);
		fc->consumed = 0;
		fc->ep = *ep;
	}
	if (!fc && f->n_peers < FETCH_PEERS_MAX) {
		fc = calloc(1, sizeof(*fc));
		if (!fc)
			return 0;
		fc->ep = *ep;
		link_init(&fc->link, f->c->transport);
		f->peers[f->n_peers++] = fc;
	}
	if (fc)
		fc->mark = 1;
	return 0;
}

/* Open the tree (once it exists) and rebuild the peer list.  0 or -errno. */
static int
reload_peers(struct fetcher *f)
{
	size_t i, j;
	int ret;

	if (!f->sf_open) {
		ret = statefs_open(&f->sf, f->c->root, f->c->host, 0);
		if (ret < 0) {
			set_error(f, ret, "cannot open tree '%s': %s", f->c->root,
				  statefs_open_str(ret));
			return ret;
		}
		f->sf_open = 1;
	}
	ret = statefs_get(&f->sf, "uuid", f->uuid, sizeof(f->uuid), NULL);
	if (ret < 0) {
		set_error(f, ret, "no cluster uuid in '%s'", f->c->root);
		return ret;
	}
	for (i = 0; i < f->n_peers; i++)
		f->peers[i]->mark = 0;
	ret = peers_load(f->c, &f->sf, want_peer, f);
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
	ret = fconn_call(f, fc, &m, &r);
	while (ret == 0 && r.type != GOSSIP_FEND) {
		if (r.type == GOSSIP_FINFO)
			size = (int64_t)r.size;
		else if (r.type != GOSSIP_FDATA)
			ret = -EPROTO;
		if (ret == 0)
			ret = fconn_call(f, fc, NULL, &r);
	}
	if (ret == 0 && r.code == GOSSIP_FETCH_SHORT)
		size = (int64_t)r.offset;
	if (ret == -EINTR)
		fconn_drop(fc);	/* mid-request: the connection is of no more use */
	else if (ret < 0)
		fconn_fail(f, fc, recv_err_str(ret));
	return ret < 0 ? ret : size;
}

/*
 * The peer to fetch @name from, beyond our @len: its origin if reachable,
 * else the member holding most (more than @len; for a follow entry, as
 * much as we have is enough: it may grow).  NULL if none.
 */
static struct fconn *
pick_peer(struct fetcher *f, const struct fetch_want *w, uint64_t len)
{
	char origin[STATEFS_NAME_MAX + 1];
	struct fconn *fc, *best = NULL;
	uint64_t now = gossip_now_ms();
	int64_t size, best_size = -1;

	if (reload_peers(f) < 0)
		return NULL;
	fetch_name_parse(w->name, NULL, origin, sizeof(origin));
	fc = find_peer(f, origin);
	if (fc && now >= fc->retry_ms && fconn_open(f, fc) == 0)
		return fc;
	for (size_t i = 0; i < f->n_peers; i++) {
		if (control_changed(f))
			return NULL;	/* the wanted list changed: look again */
		fc = f->peers[i];
		if (strcmp(fc->ep.host, origin) == 0 || now < fc->retry_ms ||
		    fconn_open(f, fc) < 0)
			continue;
		size = probe_size(f, fc, w->name, 0);
		if (size > best_size) {
			best = fc;
			best_size = size;
		}
	}
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
	char path[4096];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/resource-%s", f->c->root, f->res);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/resource-%s/%s", f->c->root, f->res, name);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
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

static void
publish(struct fetcher *f, struct stream *s, uint64_t synced)
{
	uint64_t now = gossip_now_ms();

	pthread_mutex_lock(&f->lock);
	f->st.local_len = s->len;
	f->st.bytes_total += synced;
	f->rate_bytes += synced;
	if (now - f->rate_t0_ms >= RATE_WINDOW_MS) {
		f->st.rate_bps = f->rate_bytes * 1000 / (now - f->rate_t0_ms);
		f->rate_t0_ms = now;
		f->rate_bytes = 0;
	}
	pthread_mutex_unlock(&f->lock);
}

/* Make appended bytes durable, then report them. */
static int
local_sync(struct fetcher *f, struct stream *s)
{
	uint64_t n = s->written;

	if (n == 0)
		return 0;
	if (fdatasync(s->fd) < 0) {
		set_error(f, -errno, "cannot sync '%s': %s", s->w->name, strerror(errno));
		return -EIO;
	}
	s->len += n;
	s->written = 0;
	publish(f, s, n);
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

static int
on_data(struct fetcher *f, struct stream *s, const struct gossip_msg *m)
{
	uint64_t pos = s->len + s->written, n = m->data_len;

	if (s->stopping)
		return 0;
	if (m->offset != pos)
		return -EPROTO;
	if (s->w->final_len != FETCH_FOLLOW && pos + n > s->w->final_len)
		n = s->w->final_len > pos ? s->w->final_len - pos : 0;
	if (n && pwrite(s->fd, m->data, n, (off_t)pos) != (ssize_t)n) {
		set_error(f, -EIO, "cannot write '%s': %s", s->w->name, strerror(errno));
		return -EIO;
	}
	if (s->written == 0)
		s->first_write_ms = gossip_now_ms();
	s->written += n;
	fetch_bucket_take(&f->bucket, n);
	if (s->written >= SYNC_BYTES || gossip_now_ms() - s->first_write_ms >= SYNC_MS)
		return local_sync(f, s);
	return 0;
}

/* The stream ended with FEND @m.  0 to go on (pick again), or -errno. */
static int
on_end(struct fetcher *f, struct fconn *fc, struct stream *s, const struct gossip_msg *m)
{
	int ret = local_sync(f, s);

	if (ret < 0 || m->code == GOSSIP_FETCH_OK)
		return ret;
	if (m->code == GOSSIP_FETCH_MISMATCH) {
		log_warnx("fetch %s: local '%s' differs from %s's before offset %llu; "
			  "fetching it again from the start", f->res, s->w->name, fc->ep.host,
			  (unsigned long long)s->len);
		return local_truncate(f, s, 0);
	}
	set_error(f, -ENOENT, "peer '%s': %s: %s", fc->ep.host, s->w->name, m->text);
	fc->retry_ms = gossip_now_ms() + PEER_RETRY_MS;
	return -ENOENT;
}

/*
 * Wait up to @timeout_ms for the connection (if @poll_conn; else only for
 * the control pipe).  A control change ends the stream: FSTOP, then the
 * remaining frames are read and dropped until FEND.
 */
static int
stream_wait(struct fetcher *f, struct fconn *fc, struct stream *s, int poll_conn,
	    int timeout_ms)
{
	struct gossip_msg stop = { .type = GOSSIP_FSTOP };

	if (!fconn_poll(f, poll_conn ? fc : NULL, timeout_ms) || !control_changed(f) ||
	    s->stopping)
		return 0;
	s->stopping = 1;
	return link_send(&fc->link, &stop);
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
		return on_data(f, s, m);
	case GOSSIP_FEND:
		return on_end(f, fc, s, m) < 0 ? -ENOENT : 1;
	default:
		return -EPROTO;
	}
}

static int
stream_request(struct fetcher *f, struct fconn *fc, struct stream *s)
{
	struct gossip_msg m = { .type = GOSSIP_FETCH, .fflags = GOSSIP_FETCH_FOLLOW };
	int ret;

	snprintf(m.res, sizeof(m.res), "%s", f->res);
	snprintf(m.name, sizeof(m.name), "%s", s->w->name);
	m.offset = s->len;
	m.end = s->w->final_len;
	ret = local_digest(f, s->fd, s->len, &m);
	if (ret < 0) {
		set_error(f, ret, "cannot read '%s': %s", s->w->name, strerror(-ret));
		return -EIO;
	}
	return link_send(&fc->link, &m);
}

/*
 * Run one FETCH on @fc until its FEND.  The bucket gates reading: while
 * it is empty nothing is read, so the SSH window closes and the serving
 * end waits.  Appended bytes are synced once the stream pauses for
 * SYNC_IDLE_MS (or per SYNC_BYTES / SYNC_MS while it flows).  Returns 0
 * (go on), or -errno after a failure.
 */
static int
stream_run(struct fetcher *f, struct fconn *fc, struct stream *s)
{
	uint64_t deadline = gossip_now_ms() + f->c->timeout_ms, last_frame = 0, now;
	struct gossip_msg m;
	uint64_t wait_ns;
	int ret = stream_request(f, fc, s);

	while (ret == 0) {
		ret = link_flush(&fc->link);
		wait_ns = s->stopping ? 0 : fetch_bucket_wait_ns(&f->bucket, now_ns());
		if (ret == 0 && wait_ns == 0 && (ret = fconn_recv(fc, &m)) == 1) {
			last_frame = gossip_now_ms();
			deadline = last_frame + f->c->timeout_ms;
			ret = stream_frame(f, fc, s, &m);
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
	if (ret == 1)
		return 0;
	if (ret == -ENOENT)	/* refused by FEND: the connection is clean */
		return ret;
	if (ret == -EIO) {	/* local failure: the stream still runs there */
		fconn_drop(fc);
		return ret;
	}
	local_sync(f, s);
	fconn_fail(f, fc, recv_err_str(ret));
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

	drain_wake(f);
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
		fetch_bucket_init(&f->bucket, rate, now_ns());
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

/* Work on @w until its stream ends.  Returns 1 if @w is complete. */
static int
work_entry(struct fetcher *f, const struct fetch_want *w)
{
	char origin[STATEFS_NAME_MAX + 1];
	struct stream s = { .w = w };
	struct fconn *fc;

	if (fetch_name_parse(w->name, NULL, origin, sizeof(origin)) < 0) {
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
	if (s.len < w->final_len) {
		fc = pick_peer(f, w, s.len);
		if (fc) {
			status_entry(f, w, s.len, fc->ep.host, 0);
			if (stream_run(f, fc, &s) == 0)
				set_error(f, 0, "%s", "");
		}
	}
	close(s.fd);
	return s.len >= w->final_len;
}

/* Size of our copy of @name; 0 if there is none (or not a regular file). */
static uint64_t
local_size(struct fetcher *f, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/resource-%s/%s", f->c->root, f->res, name);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

static int
own_logfile(struct fetcher *f, const char *name)
{
	char origin[STATEFS_NAME_MAX + 1];

	return fetch_name_parse(name, NULL, origin, sizeof(origin)) == 0 &&
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

static void *
fetch_thread(void *arg)
{
	struct fetcher *f = arg;
	const struct fetch_want *w;

	while (!take_control(f)) {
		w = next_entry(f);
		if (!w) {
			w = f->n_mine ? &f->mine[f->n_mine - 1] : NULL;
			status_entry(f, w, w ? local_size(f, w->name) : 0, NULL, 1);
			fconn_poll(f, NULL, IDLE_WAIT_MS);
			continue;
		}
		if (work_entry(f, w))
			continue;
		/* not complete: a follow stream ended, or a failure: wait a little */
		if (f->st.error)
			fconn_poll(f, NULL, PEER_RETRY_MS / 2);
	}
	for (size_t i = 0; i < f->n_peers; i++)
		free_peer(f->peers[i]);
	f->n_peers = 0;
	if (f->sf_open)
		statefs_close(&f->sf);
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
	f->rate_t0_ms = gossip_now_ms();
	fetch_bucket_init(&f->bucket, 0, now_ns());
	/* libssh2's global init is not thread-safe: done here, in the caller's thread */
	if (c->transport == &gossip_transport_ssh && libssh2_init(0) != 0) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (pipe2(f->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		ret = -errno;
		goto out_ssh;
	}
	pthread_mutex_init(&f->lock, NULL);
	ret = -pthread_create(&f->thread, NULL, fetch_thread, f);
	if (ret < 0)
		goto out_pipe;
	*out = f;
	return 0;
out_pipe:
	pthread_mutex_destroy(&f->lock);
	close(f->wake[0]);
	close(f->wake[1]);
out_ssh:
	if (c->transport == &gossip_transport_ssh)
		libssh2_exit();
out_free:
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
	wake(f);
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
	wake(f);
}

void
fetcher_set_bwlimit(struct fetcher *f, uint64_t bytes_per_s)
{
	pthread_mutex_lock(&f->lock);
	f->bwlimit_bps = bytes_per_s;
	pthread_mutex_unlock(&f->lock);
	wake(f);
}

void
fetcher_status(struct fetcher *f, struct fetch_status *st)
{
	uint64_t now = gossip_now_ms();

	pthread_mutex_lock(&f->lock);
	if (now - f->rate_t0_ms >= 2 * RATE_WINDOW_MS)
		f->st.rate_bps = 0;	/* nothing synced for a while */
	*st = f->st;
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
	wake(f);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->lock);
	close(f->wake[0]);
	close(f->wake[1]);
	if (f->c->transport == &gossip_transport_ssh)
		libssh2_exit();
	free(f->want);
	free(f->mine);
	free(f);
}
