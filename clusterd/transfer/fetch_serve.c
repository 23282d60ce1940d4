/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The serving end of logfile transfer: `clusterd --serve` hands the
 * session over to fetch_serve() when a client that announced fetch in
 * its HELLO sends its first FETCH.  From then on this process only
 * streams logfiles (one request at a time): FINFO with our size, FDATA
 * frames from the client's offset, in follow mode more as the file grows
 * (inotify, with a keepalive FINFO every second so the client can tell a
 * silent peer from a dead one), and FEND when the stream is over.
 *
 * Trust: the client names a resource and a logfile; both are checked with
 * statefs's grammar (a resource name, a "log-NNN-HOST" key of tree format
 * 1), so no name can hold a '/' or "..".  The directory and the file are
 * opened relative to each other with O_NOFOLLOW and the file must be a
 * regular file: a symlink planted in the tree is not followed.  Only a
 * member of the resource (statefs_is_member()) is served, checked in the
 * session's own tree handle.
 *
 * Durability: a logfile the local data path is writing is sent only up to
 * its durable end (c->durable_end, engine/durable.c): a record a power
 * loss here could take away must not reach a secondary, or the two would
 * differ after our recovery.  While such a tail waits for its log sync,
 * we look again every CAP_POLL_MS.
 *
 * Writes to stdout block, which only slows this client's own sshd; the
 * client's reading pace (its bandwidth limit) is what paces us.  So that
 * a backlog no longer in the page cache does not make each frame wait on
 * the disk, the kernel reads the next rounds ahead (posix_fadvise) while
 * we send this one.
 *
 * Compression (protocol 1.3): when the client's FETCH accepts zstd and
 * this host's mode for the resource is not "none", each FDATA-sized piece
 * goes through the session's piece_packer and leaves as FZDATA when it
 * shrank; the time our writes wait for the link tells the packer when the
 * link, not the CPU, is the bottleneck.  ZCOST reports the CPU spent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "clusterd/transfer/fetch.h"
#include "common/log.h"
#include "clusterd/transfer/piece.h"
#include "mars/names.h"
#include "statefs/statefs.h"

#define ROUND_BYTES	(1U << 20)	/* data sent between looks at the input */
#define KEEPALIVE_MS	1000		/* FINFO at least this often while following */
#define CAP_POLL_MS	5		/* look again this soon at a tail not yet durable */
#define READAHEAD_BYTES	(4U * ROUND_BYTES)	/* asked of the kernel ahead of pos */

struct fserve {
	struct gossip_link *l;
	const struct gossip_config *c;
	struct statefs *sf;		/* the session's tree (serve.c) */
	const char *client;
	int fd;				/* logfile of the current stream, -1 if none */
	int capped;			/* the file holds more than is durable */
	char res[GOSSIP_HOST_MAX + 1];	/* resource of the current stream */
	int ino;			/* inotify instance, -1 if unavailable */
	int wd;				/* its watch on the logfile, -1 if none */
	uint64_t pos, end;		/* next byte to send; stop there */
	uint64_t info_size;		/* size last announced in FINFO */
	uint64_t last_send_ms;
	int follow;
	int zstd;			/* the current stream may send FZDATA */
	struct piece_packer pk;		/* of the session */
	char name[GOSSIP_PATH_MAX + 1];
	uint8_t buf[GOSSIP_FDATA_MAX];
	uint8_t zbuf[GOSSIP_FDATA_MAX];	/* a compressed piece */
};

static int
fserve_send(struct fserve *s, const struct gossip_msg *m)
{
	int ret = link_send(s->l, m);

	s->last_send_ms = gossip_now_ms();
	if (ret == 0 && s->l->out_len >= 256 * 1024)
		ret = piece_flush(&s->pk, s->l);	/* flushes it all */
	return ret;
}

/* The CPU spent compressing, when it grew since the client last heard. */
static int
fserve_zcost(struct fserve *s)
{
	struct gossip_msg m = { .type = GOSSIP_ZCOST };

	return s->zstd && piece_packer_cost(&s->pk, &m.cpu_ns) ? fserve_send(s, &m) : 0;
}

static void
fserve_close_stream(struct fserve *s)
{
	if (s->wd >= 0)
		inotify_rm_watch(s->ino, s->wd);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->wd = -1;
}

/* End the stream (or refuse the request) with FEND @code. */
static int
fserve_end(struct fserve *s, int code, uint64_t offset, const char *text)
{
	struct gossip_msg m = { .type = GOSSIP_FEND, .code = (uint16_t)code,
				.offset = offset };
	char e1[LOG_ESC_BYTES], e2[LOG_ESC_BYTES];	/* s->name: the client's, maybe refused */

	if (code != GOSSIP_FETCH_OK)
		log_warnx("client '%s': fetch of '%s': %s", s->client,
			  log_escape(e1, sizeof(e1), s->name), log_escape(e2, sizeof(e2), text));
	if (code == GOSSIP_FETCH_REFUSED)
		authz_count(s->sf, AUTHZ_COUNT_FETCH);
	snprintf(m.text, sizeof(m.text), "%s", text);
	fserve_close_stream(s);
	return fserve_send(s, &m);
}

/* Open resource-@res/@name under the root without following any link. */
static int
fserve_open(struct fserve *s, const char *res, const char *name)
{
	return statefs_file_open(s->sf, res, name, O_RDONLY | O_NONBLOCK, 0);
}

/* What may be sent of the current logfile: its size, but no further than
 * the local data path made it durable.  The size of the logfile being
 * written includes the zeros preallocated after its log end
 * (docs/logfile-format.md 1.1); the durable end caps them off, for the
 * module (synced_pos) and the engine (its mark, which names this logfile
 * until the writer cut it: rotation and emergency entry cut before the
 * mark moves on; a killed engine's mark stays until recovery cut it).
 * A finished logfile ends at its last record, so its size is its
 * length; and nothing past the client's end (its version link's length,
 * closed at the end of the records) is ever sent. */
static uint64_t
fserve_size(struct fserve *s)
{
	uint64_t size, end;
	struct stat st;
	int r;

	if (fstat(s->fd, &st) < 0)
		return 0;
	size = (uint64_t)st.st_size;
	s->capped = 0;
	if (!s->c->durable_end)
		return size;
	r = s->c->durable_end(s->sf, s->res, s->name, &end);
	if (r == -EAGAIN)
		end = s->pos;		/* the mark is being rewritten: wait */
	else if (r != 1)
		return size;
	if (end >= size)
		return size;
	s->capped = 1;
	return end;
}

/* The client's digest of its bytes before @m->offset against ours. */
static int
fserve_digest_ok(struct fserve *s, const struct gossip_msg *m)
{
	uint64_t from = m->offset - m->digest_len;
	size_t done = 0;
	XXH64_state_t *st;
	int ok = 0;

	if (m->digest_len == 0)
		return 1;
	st = XXH64_createState();
	if (!st || XXH64_reset(st, 0) == XXH_ERROR)
		goto out;
	while (done < m->digest_len) {
		size_t want = m->digest_len - done;
		ssize_t n = pread(s->fd, s->buf, want < sizeof(s->buf) ? want : sizeof(s->buf),
				  (off_t)(from + done));

		if (n <= 0)
			goto out;
		XXH64_update(st, s->buf, (size_t)n);
		done += (size_t)n;
	}
	ok = XXH64_digest(st) == m->digest;
out:
	XXH64_freeState(st);
	return ok;
}

static int
fserve_check_names(const struct gossip_msg *m)
{
	struct statefs_keyinfo ki;
	char key[GOSSIP_HOST_MAX + GOSSIP_PATH_MAX + 16];
	struct mars_logname ln;

	if (statefs_name_check(STATEFS_NAME_RESOURCE, m->res, NULL) < 0 ||
	    mars_logname_parse(m->name, strnlen(m->name, sizeof(m->name)), &ln) < 0)
		return -EINVAL;
	statefs_resource_keyf(key, sizeof(key), m->res, "%s", m->name);
	return statefs_key_check(key, &ki) < 0 ? -EINVAL : 0;
}

/* A FETCH: check it, answer FINFO, and make it the current stream. */
static int
fserve_start(struct fserve *s, const struct gossip_msg *m)
{
	struct gossip_msg info = { .type = GOSSIP_FINFO };
	char text[GOSSIP_TEXT_MAX + 1], path[4096];
	struct stat st;
	uint64_t size;

	snprintf(s->name, sizeof(s->name), "%s", m->name);
	snprintf(s->res, sizeof(s->res), "%s", m->res);
	if (fserve_check_names(m) < 0)
		return fserve_end(s, GOSSIP_FETCH_REFUSED, 0, "not a logfile name");
	if (m->digest_len > m->offset)
		return fserve_end(s, GOSSIP_FETCH_REFUSED, 0, "digest reaches before offset 0");
	if (statefs_is_member(s->sf, m->res, s->client) <= 0) {
		snprintf(text, sizeof(text), "client '%s' is not a member of '%s'", s->client,
			 m->res);
		return fserve_end(s, GOSSIP_FETCH_REFUSED, 0, text);
	}
	s->fd = fserve_open(s, m->res, m->name);
	if (s->fd == -ENOENT)
		return fserve_end(s, GOSSIP_FETCH_NOENT, 0, "no such logfile here");
	if (s->fd < 0) {
		snprintf(text, sizeof(text), "cannot open: %s", s->fd == -ELOOP ?
			 "is a symbolic link" : strerror(-s->fd));
		return fserve_end(s, s->fd == -ELOOP ? GOSSIP_FETCH_REFUSED : GOSSIP_FETCH_IO,
				  0, text);
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fserve_end(s, GOSSIP_FETCH_REFUSED, 0, "not a regular file");
	size = (uint64_t)st.st_size;
	if (size < m->offset) {
		snprintf(text, sizeof(text), "holds %llu bytes, fewer than offset %llu",
			 (unsigned long long)size, (unsigned long long)m->offset);
		return fserve_end(s, GOSSIP_FETCH_SHORT, size, text);
	}
	if (!fserve_digest_ok(s, m))
		return fserve_end(s, GOSSIP_FETCH_MISMATCH, m->offset,
				  "local copy differs from ours before the offset");
	s->pos = m->offset;
	s->end = m->end;
	s->follow = !!(m->fflags & GOSSIP_FETCH_FOLLOW);
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);	/* a hint: failure is harmless */
	s->zstd = 0;
	if (m->fflags & GOSSIP_FETCH_ZSTD) {
		piece_packer_set_mode(&s->pk, gossip_compress_mode(s->c, NULL, m->res));
		s->zstd = s->pk.mode != PIECE_NONE;
	}
	size = fserve_size(s);
	if (s->follow && s->ino >= 0 &&
	    statefs_resource_path(s->c->root, m->res, m->name, path, sizeof(path)) == 0)
		s->wd = inotify_add_watch(s->ino, path, IN_MODIFY | IN_DONT_FOLLOW);
	info.size = s->info_size = size;
	return fserve_send(s, &info);
}

/* One piece at s->pos: FZDATA if the stream compresses and it shrank,
 * else FDATA. */
static int
fserve_piece(struct fserve *s, uint32_t n)
{
	struct gossip_msg d = { .type = GOSSIP_FDATA, .offset = s->pos, .data = s->buf,
				.data_len = n };
	uint32_t zn;

	if (s->zstd && piece_pack(&s->pk, s->buf, n, s->zbuf, sizeof(s->zbuf), &zn) ==
		       GOSSIP_SDATA_ZSTD) {
		d.type = GOSSIP_FZDATA;
		d.enc = GOSSIP_SDATA_ZSTD;
		d.raw_len = n;
		d.data = s->zbuf;
		d.data_len = zn;
	}
	return fserve_send(s, &d);
}

/* Send what the file holds beyond pos, up to a round; end when done. */
static int
fserve_pump(struct fserve *s, int *more)
{
	uint64_t size = fserve_size(s), stop = size < s->end ? size : s->end, sent = 0;
	int ret = 0;

	*more = 0;
	if (size != s->info_size ||
	    (s->follow && gossip_now_ms() - s->last_send_ms >= KEEPALIVE_MS)) {
		struct gossip_msg info = { .type = GOSSIP_FINFO, .size = size };

		s->info_size = size;
		ret = fserve_send(s, &info);
	}
	if (s->pos < stop)
		posix_fadvise(s->fd, (off_t)s->pos, (off_t)(stop - s->pos < READAHEAD_BYTES ?
			      stop - s->pos : READAHEAD_BYTES), POSIX_FADV_WILLNEED);
	while (ret == 0 && s->pos < stop && sent < ROUND_BYTES) {
		uint64_t want = stop - s->pos;
		ssize_t n = pread(s->fd, s->buf, want < sizeof(s->buf) ? want : sizeof(s->buf),
				  (off_t)s->pos);

		if (n <= 0)
			return fserve_end(s, GOSSIP_FETCH_IO, s->pos, n < 0 ? strerror(errno) :
					  "logfile shrank while being read");
		ret = fserve_piece(s, (uint32_t)n);
		s->pos += (uint64_t)n;
		sent += (uint64_t)n;
	}
	if (ret == 0)
		ret = fserve_zcost(s);
	if (ret < 0)
		return ret;
	if (s->pos >= s->end || (!s->follow && s->pos >= size))
		return fserve_end(s, GOSSIP_FETCH_OK, s->pos, "");
	*more = s->pos < stop;
	return 0;
}

static int
fserve_msg(struct fserve *s, const struct gossip_msg *m)
{
	if (m->type == GOSSIP_FETCH && s->fd < 0)
		return fserve_start(s, m);
	if (m->type == GOSSIP_FSTOP)
		return s->fd >= 0 ? fserve_end(s, GOSSIP_FETCH_OK, s->pos, "stopped") : 0;
	log_warnx("client '%s': unexpected %s in a fetch session", s->client,
		  gossip_type_str(m->type));
	return -EPROTO;
}

static void
fserve_drain_inotify(struct fserve *s)
{
	char ev[4096];

	while (s->ino >= 0 && read(s->ino, ev, sizeof(ev)) > 0)
		;
}

/* Frames libssh2 or our buffer already hold are taken before polling. */
static int
fserve_loop(struct fserve *s)
{
	struct gossip_msg m;
	int ret = 0, more = 0;

	while (!gossip_serve_stopping() && ret == 0) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = s->ino, .events = POLLIN } };
		int timeout;

		while (ret == 0 && (ret = link_recv(s->l, &m)) == 1)
			ret = fserve_msg(s, &m);
		more = 0;
		if (ret == 0 && s->fd >= 0)
			ret = fserve_pump(s, &more);
		if (ret == 0)
			ret = piece_flush(&s->pk, s->l);
		if (ret < 0)
			break;
		timeout = more ? 0 : s->fd >= 0 && s->capped ? CAP_POLL_MS :
			  s->fd >= 0 && s->follow ? KEEPALIVE_MS : -1;
		if (poll(p, s->ino >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			return -errno;
		fserve_drain_inotify(s);
	}
	return ret;
}

int
fetch_serve(struct gossip_link *l, const struct gossip_config *c, struct statefs *sf,
	    const char *client, const struct gossip_msg *first)
{
	struct fserve s = { .l = l, .c = c, .sf = sf, .client = client, .fd = -1, .wd = -1 };
	int ret;

	piece_packer_init(&s.pk, PIECE_NONE);
	gossip_serve_stop_on_signals();
	s.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	log_debug("client '%s': fetch session", client);
	ret = fserve_msg(&s, first);
	if (ret == 0)
		ret = fserve_loop(&s);
	link_flush(l);	/* a client that closed its end still gets our answers */
	fserve_close_stream(&s);
	if (s.pk.st.bytes_raw)
		log_debug("client '%s': fetch session sent %llu bytes as %llu, %llu us compressing",
			  client, (unsigned long long)s.pk.st.bytes_raw,
			  (unsigned long long)s.pk.st.bytes_wire,
			  (unsigned long long)(s.pk.st.cpu_ns / 1000));
	piece_packer_release(&s.pk);
	if (s.ino >= 0)
		close(s.ino);
	return ret == -ECONNRESET || ret == 0 ? 1 : ret;
}
