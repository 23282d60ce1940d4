/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The serving end of full sync (docs/sync.md): `clusterd --serve` hands
 * the session over to sync_serve() when a client that announced sync in
 * its HELLO sends SYNC.  From then on this process only answers batches:
 * for each SSUMS it reads and digests its own chunks, sends the bytes of
 * every chunk whose digest differs from the client's (zstd-compressed
 * when the client accepts it and that pays, piece.h), and closes the
 * batch with SDONE.  A client of protocol 1.2, which accepts only zlib,
 * gets raw pieces: this end no longer writes zlib.  SFIN ends the
 * session with SEND carrying the log position this host had after the
 * last byte of its disk was read: the client's syncpos.
 *
 * What is served: only this host's own disk of the resource, the path
 * its tree names in resource-RES/data-HOST, never a path the client
 * names, opened without following a link, and only if it is a block
 * device or a regular file.  Refused: an unknown resource, a server that
 * is not a member or not the designated primary, a client that is not a
 * member, a size beyond the resource's or the disk's, batches out of order.
 *
 * Writes to stdout block, which only slows this client's own sshd; the
 * client's pace of asking (its rate limit) is what paces our reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/transfer/fetch.h"
#include "common/log.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/transfer/sync.h"
#include "mars/names.h"
#include "repl/repl.h"

struct sserve {
	struct gossip_link *l;
	const struct gossip_config *c;
	const char *client;
	size_t consumed;		/* link_recv_inplace() state */
	struct statefs *sf;		/* the session's tree (serve.c) */
	char res[STATEFS_NAME_MAX + 1];
	int fd;				/* our disk, -1 until opened */
	uint64_t size;			/* bytes the client syncs */
	uint64_t next;			/* offset the next batch must start at */
	uint64_t seed;
	uint32_t chunk;
	int zstd;			/* client accepts zstd SDATA, we compress */
	struct piece_packer pk;
	uint8_t *buf;			/* one chunk */
	uint8_t zbuf[GOSSIP_SPIECE_MAX];	/* a compressed piece */
};

static int
sserve_send(struct sserve *s, const struct gossip_msg *m)
{
	int ret = link_send(s->l, m);

	if (ret == 0 && s->l->out_len >= 256 * 1024)
		ret = piece_flush(&s->pk, s->l);	/* flushes it all */
	return ret;
}

/* End the session with SEND @code (and @pos for OK).  1, or -errno. */
static int
sserve_end(struct sserve *s, int code, const char *text, const char *pos)
{
	struct gossip_msg m = { .type = GOSSIP_SEND, .code = (uint16_t)code };
	char e1[LOG_ESC_BYTES], e2[LOG_ESC_BYTES];	/* s->res: the client's, maybe refused */
	int ret;

	if (code != GOSSIP_SYNC_OK)
		log_warnx("client '%s': sync of '%s' refused: %s", s->client,
			  log_escape(e1, sizeof(e1), s->res), log_escape(e2, sizeof(e2), text));
	if (code == GOSSIP_SYNC_REFUSED)
		authz_count(s->sf, AUTHZ_COUNT_SYNC);
	snprintf(m.text, sizeof(m.text), "%s", text);
	snprintf(m.value, sizeof(m.value), "%s", pos ? pos : "");
	ret = sserve_send(s, &m);
	if (ret == 0)
		ret = link_flush(s->l);
	return ret < 0 ? ret : 1;
}

/*
 * mars.ko writes a disk with bios that pass the block device's page cache
 * by, and holds it open, so pages an earlier reader (an earlier sync)
 * left there go stale and would be served instead of the disk's bytes.
 * Drop them first; what the module writes during this sync is replayed
 * from the log anyway (docs/sync.md section 4).
 */
static void
sserve_drop_cache(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

/* Role rule (docs/sync.md section 3): the designated primary serves its
 * disk, and only to a member of the resource.  0, or 1 after a refusal. */
static int
sserve_may_serve(struct sserve *s)
{
	char key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1], text[GOSSIP_TEXT_MAX + 1];

	if (statefs_is_member(s->sf, s->res, s->client) <= 0) {
		snprintf(text, sizeof(text), "client '%s' is not a member of '%s'", s->client,
			 s->res);
		return sserve_end(s, GOSSIP_SYNC_REFUSED, text, NULL);
	}
	statefs_resource_keyf(key, sizeof(key), s->res, "primary");
	if (statefs_get(s->sf, key, val, sizeof(val), NULL) < 0 || strcmp(val, s->c->host)) {
		snprintf(text, sizeof(text), "'%s' is not the designated primary of '%s'",
			 s->c->host, s->res);
		return sserve_end(s, GOSSIP_SYNC_REFUSED, text, NULL);
	}
	return 0;
}

/* Resource, membership, our disk and its size.  0, or 1 after a refusal. */
static int
sserve_open_disk(struct sserve *s, uint64_t want)
{
	char key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1], text[GOSSIP_TEXT_MAX + 1];
	uint64_t res_size, have;
	char *end;
	int ret;

	statefs_resource_keyf(key, sizeof(key), s->res, "size");
	if (statefs_get(s->sf, key, val, sizeof(val), NULL) < 0)
		return sserve_end(s, GOSSIP_SYNC_NOENT, "no such resource here", NULL);
	res_size = strtoull(val, &end, 10);
	if (*end || end == val)
		return sserve_end(s, GOSSIP_SYNC_NOENT, "resource size unreadable here", NULL);
	statefs_resource_keyf(key, sizeof(key), s->res, "data-%s", s->c->host);
	if (statefs_get(s->sf, key, val, sizeof(val), NULL) < 0) {
		snprintf(text, sizeof(text), "'%s' is not a member of '%s'", s->c->host, s->res);
		return sserve_end(s, GOSSIP_SYNC_NOTMEMBER, text, NULL);
	}
	ret = sserve_may_serve(s);
	if (ret != 0)
		return ret;
	s->fd = sync_disk_open(val, O_RDONLY);
	ret = s->fd < 0 ? s->fd : sync_disk_size(s->fd, &have);
	if (ret < 0) {
		snprintf(text, sizeof(text), "cannot open its disk '%.300s': %s", val,
			 ret == -ELOOP || ret == -EINVAL ?
			 "not a block device or regular file" : strerror(-ret));
		return sserve_end(s, GOSSIP_SYNC_IO, text, NULL);
	}
	sserve_drop_cache(s->fd);
	if (want > res_size || want > have) {
		snprintf(text, sizeof(text), "asked for %llu bytes; the resource has %llu, "
			 "the disk %llu", (unsigned long long)want, (unsigned long long)res_size,
			 (unsigned long long)have);
		return sserve_end(s, GOSSIP_SYNC_RANGE, text, NULL);
	}
	return 0;
}

/* SYNC: check the request and open our disk; SINFO, or SEND refusing. */
static int
sserve_start(struct sserve *s, const struct gossip_msg *m)
{
	struct gossip_msg r = { .type = GOSSIP_SINFO, .version = SYNC_PROTO_VERSION };
	int ret;

	snprintf(s->res, sizeof(s->res), "%s", m->res);
	if (m->version != SYNC_PROTO_VERSION)
		return sserve_end(s, GOSSIP_SYNC_REFUSED, "sync protocol version not spoken", NULL);
	if (statefs_name_check(STATEFS_NAME_RESOURCE, m->res, NULL) < 0)
		return sserve_end(s, GOSSIP_SYNC_REFUSED, "not a resource name", NULL);
	if (m->chunk_bytes < SYNC_CHUNK_MIN || m->chunk_bytes > SYNC_CHUNK_MAX ||
	    (m->chunk_bytes & (m->chunk_bytes - 1)) || m->offset % m->chunk_bytes ||
	    m->offset > m->size)
		return sserve_end(s, GOSSIP_SYNC_REFUSED, "bad chunk size or start", NULL);
	ret = sserve_open_disk(s, m->size);
	if (ret != 0)
		return ret;
	s->buf = malloc(m->chunk_bytes);
	if (!s->buf)
		return -ENOMEM;
	s->size = r.size = m->size;
	s->chunk = r.chunk_bytes = m->chunk_bytes;
	s->next = m->offset;
	s->seed = m->seed;
	if (m->sflags & GOSSIP_SYNC_ZSTD)
		piece_packer_set_mode(&s->pk, gossip_compress_mode(s->c, s->sf, s->res));
	s->zstd = s->pk.mode != PIECE_NONE;
	r.sflags = s->zstd ? GOSSIP_SYNC_ZSTD : 0;
	log_debug("client '%s': sync of '%s' from %llu", s->client, s->res,
		  (unsigned long long)m->offset);
	return sserve_send(s, &r);
}

/* One piece of a differing chunk, compressed when that pays (piece.h). */
static int
send_piece(struct sserve *s, uint64_t off, const uint8_t *p, uint32_t len)
{
	struct gossip_msg d = { .type = GOSSIP_SDATA, .offset = off, .raw_len = len,
				.enc = GOSSIP_SDATA_RAW, .data = p, .data_len = len };
	uint32_t zlen;

	if (s->zstd && piece_pack(&s->pk, p, len, s->zbuf, sizeof(s->zbuf), &zlen) ==
		       GOSSIP_SDATA_ZSTD) {
		d.enc = GOSSIP_SDATA_ZSTD;
		d.data = s->zbuf;
		d.data_len = zlen;
	}
	return sserve_send(s, &d);
}

/* ZCOST before SDONE, when the CPU spent compressing grew. */
static int
send_zcost(struct sserve *s)
{
	struct gossip_msg m = { .type = GOSSIP_ZCOST };

	return s->zstd && piece_packer_cost(&s->pk, &m.cpu_ns) ? sserve_send(s, &m) : 0;
}

/* SSUMS: compare the batch with our chunks, send what differs, SDONE. */
static int
sserve_batch(struct sserve *s, const struct gossip_msg *m)
{
	struct gossip_msg done = { .type = GOSSIP_SDONE, .offset = m->offset, .count = m->count };
	struct sync_digest d;
	uint64_t off = m->offset;
	uint32_t len;
	int ret = 0;

	if (m->offset != s->next)
		return sserve_end(s, GOSSIP_SYNC_REFUSED, "batch out of order", NULL);
	for (uint32_t i = 0; i < m->count && ret == 0; i++) {
		if (sync_chunk_at(m->offset, s->chunk, s->size, i, &off, &len) < 0)
			return sserve_end(s, GOSSIP_SYNC_RANGE, "batch beyond the size", NULL);
		if (pread(s->fd, s->buf, len, (off_t)off) != (ssize_t)len)
			return sserve_end(s, GOSSIP_SYNC_IO, "cannot read its disk", NULL);
		sync_digest(s->buf, len, s->seed, &d);
		if (memcmp(d.b, m->data + (size_t)i * SYNC_DIGEST_BYTES, SYNC_DIGEST_BYTES) == 0) {
			done.equal++;
			continue;
		}
		for (uint32_t p = 0; p < len && ret == 0; p += GOSSIP_SPIECE_MAX)
			ret = send_piece(s, off + p, s->buf + p, len - p < GOSSIP_SPIECE_MAX ?
					 len - p : GOSSIP_SPIECE_MAX);
	}
	s->next = off + len;
	if (ret == 0)
		ret = send_zcost(s);
	return ret < 0 ? ret : sserve_send(s, &done);
}

/* The newest logfile of ours (highest number), its size as position. */
struct newest {
	const char *host;
	int found;
	struct mars_replaylink at;
};

static int
newest_log(const char *name, uint64_t size_bytes, void *arg)
{
	struct newest *n = arg;
	struct mars_logname ln;

	if (mars_logname_parse(name, strlen(name), &ln) < 0 || strcmp(ln.host, n->host) != 0 ||
	    (n->found && ln.nr < n->at.log.nr))
		return 0;
	n->found = 1;
	n->at.log = ln;
	n->at.pos_bytes = size_bytes;
	return 0;
}

/*
 * Where the records of our logfile @at end, if before @at's position (its
 * size): the logfile being written carries preallocated zeros after its
 * log end (docs/logfile-format.md 1.1), and a syncpos among them would be
 * a position the log never reaches, so the client's disk would never
 * count as consistent.  A write reaches the disk only after its record is
 * complete in the log, so the end of the valid records still lies after
 * every write our reads could have seen.  One scan of the current
 * logfile, once per sync.
 */
static void
syncpos_records_end(struct sserve *s, struct mars_replaylink *at)
{
	char name[MARS_LOGNAME_MAX + 1];
	uint64_t len;

	if (mars_logname_format(name, sizeof(name), at->log.nr, at->log.host) < 0 ||
	    repl_log_length(s->sf, s->res, name, &len) < 0)
		return;
	if (len < at->pos_bytes)
		at->pos_bytes = len;
}

/*
 * Our log position now, after the last read of the disk: replay-HOST as
 * our tree has it, moved forward to the logfile actually being written
 * (a newer one after a rotation the link does not show yet, or the end
 * of the current one's records), so that every write that could have
 * reached the disk before our reads lies before it.  "" if we have no log
 * at all.
 */
static void
sserve_syncpos(struct sserve *s, char *out, size_t size)
{
	struct newest n = { .host = s->c->host };
	char key[STATEFS_PATH_MAX + 1], val[STATEFS_VALUE_MAX + 1];
	struct mars_replaylink cur = { .pos_bytes = 0 };
	int have;

	out[0] = '\0';
	statefs_resource_keyf(key, sizeof(key), s->res, "replay-%s", s->c->host);
	have = statefs_get(s->sf, key, val, sizeof(val), NULL) >= 0 &&
	       mars_replaylink_parse(val, strlen(val), &cur) == 0;
	cur.len_bytes = 0;
	if (have)
		mars_replaylink_format(out, size, &cur);
	statefs_resource_key(key, sizeof(key), s->res);
	statefs_list_files(s->sf, key, newest_log, &n);
	if (!n.found)
		return;
	syncpos_records_end(s, &n.at);
	if (have && (n.at.log.nr < cur.log.nr ||
		     (n.at.log.nr == cur.log.nr && strcmp(n.at.log.host, cur.log.host))))
		return;
	if (have && n.at.log.nr == cur.log.nr && n.at.pos_bytes <= cur.pos_bytes)
		return;
	mars_replaylink_format(out, size, &n.at);
}

static int
sserve_msg(struct sserve *s, const struct gossip_msg *m)
{
	char pos[GOSSIP_VALUE_MAX + 1];

	switch (m->type) {
	case GOSSIP_SSUMS:
		return sserve_batch(s, m);
	case GOSSIP_SFIN:
		if (s->next < s->size)
			return sserve_end(s, GOSSIP_SYNC_REFUSED, "end before the last batch", NULL);
		sserve_syncpos(s, pos, sizeof(pos));
		return sserve_end(s, GOSSIP_SYNC_OK, "", pos);
	default:
		log_warnx("client '%s': unexpected %s in a sync session", s->client,
			  gossip_type_str(m->type));
		return sserve_end(s, GOSSIP_SYNC_REFUSED, "unexpected message", NULL);
	}
}

static int
sserve_loop(struct sserve *s)
{
	struct gossip_msg m;
	int ret = 0;

	while (!gossip_serve_stopping() && ret == 0) {
		struct pollfd p = { .fd = 0, .events = POLLIN };

		while (ret == 0 && (ret = link_recv_inplace(s->l, &s->consumed, &m)) == 1)
			ret = sserve_msg(s, &m);
		if (ret == 0)
			ret = piece_flush(&s->pk, s->l);
		if (ret == 0 && poll(&p, 1, -1) < 0 && errno != EINTR)
			ret = -errno;
	}
	return ret;
}

int
sync_serve(struct gossip_link *l, const struct gossip_config *c, struct statefs *sf,
	   const char *client, const struct gossip_msg *first)
{
	struct sserve s = { .l = l, .c = c, .sf = sf, .client = client, .fd = -1 };
	int ret;

	gossip_serve_stop_on_signals();
	piece_packer_init(&s.pk, PIECE_NONE);
	ret = sserve_start(&s, first);
	if (ret == 0)
		ret = sserve_loop(&s);
	link_flush(l);
	if (s.fd >= 0)
		close(s.fd);
	piece_packer_release(&s.pk);
	free(s.buf);
	return ret == -ECONNRESET || ret == 0 || ret == 1 ? 1 : ret;
}
