// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the serving end (`clusterd --serve`, serve.c and the
 * fetch and sync sessions it hands over to), fed frames in any order.
 *
 * The serving end talks on its stdin and stdout, so no seam is needed:
 * for each input the target builds a stream of frames, puts it behind
 * file descriptor 0 (a memfd: always readable, end of stream at its end),
 * points descriptor 1 at another memfd, calls gossip_serve() against a
 * scratch tree (fuzz_tree.c) and puts both descriptors back.
 *
 * The input is a sequence of operations; the first byte of each says
 * which (low three bits) and the rest depends on it:
 *   0 HELLO   version(1: 0xff = le16 follows), flags(1), uuid choice(1),
 *             host choice(1); a choice of 3 takes a counted string
 *   1 PULL    mode(1)
 *   2 ENTRY   stamp(8), path and value as counted strings
 *   3 END     count(1)
 *   4 frame   type(1), counted payload: any frame, header made right
 *   5 bytes   counted bytes put on the stream as they are
 *   6,7 empty frame of type(1)
 * A counted string or payload is a length byte and that many bytes.
 *
 * Invariants after each session:
 *  - what the server wrote is a whole number of frames that decode; at
 *    most one ERROR, and nothing after it; its HELLO names it and its
 *    cluster, and echoes only flags it speaks; it sends only entries it
 *    may send (its own, cluster-wide, tombstones); an ACK counts no more
 *    entries than the client pushed since its previous END;
 *  - compressed pieces (protocol 1.3; the server runs in mode auto) only
 *    after a FETCH or SYNC that asked for zstd, each decoding to exactly
 *    its raw_len; never zlib; ZCOST only then too, and never decreasing;
 *  - the tree has nothing outside the root or the key grammar, its uuid
 *    did not change, and every live entry owned by a host is owned by the
 *    host the session's key is bound to (FUZZ_PEER, clusterd --serve
 *    --peer; or planted by fuzz_tree.c), whatever the HELLOs said;
 *  - the session closed every descriptor it opened.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clusterd/serve.h"
#include "common/log.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/gossip/proto.h"
#include "fuzz_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_MAX	(1U << 20)	/* bytes of frames built from one input */
#define HELLO_HOSTS_MAX	64
#define ENDS_MAX	1024

#define FUZZ_PEER	"alpha"	/* the client's identity: its key's binding */
static const char *const hosts[] = { FUZZ_PEER, "beta", FUZZ_TREE_HOST };
static const char *const uuids[] = { FUZZ_TREE_UUID, GOSSIP_UUID_ANY, "other-cluster" };

static struct fuzz_tree tree;
static struct gossip_config config;
static int tree_ready;

struct input {
	const uint8_t *p, *end;
};

struct stream {
	uint8_t *buf;
	size_t len;
};

static unsigned
take_byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint64_t
take_le(struct input *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)take_byte(in) << (8 * i);
	return v;
}

/* A counted field: up to 255 bytes, cut by the end of the input. */
static size_t
take_counted(struct input *in, const uint8_t **bytes)
{
	size_t n = take_byte(in);

	if (n > (size_t)(in->end - in->p))
		n = (size_t)(in->end - in->p);
	*bytes = in->p;
	in->p += n;
	return n;
}

/* A counted string into @out of @cap bytes (an embedded NUL cuts it). */
static void
take_string(struct input *in, char *out, size_t cap)
{
	const uint8_t *b;
	size_t n = take_counted(in, &b);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

static void
append(struct stream *st, const void *p, size_t n)
{
	if (n == 0 || n > STREAM_MAX - st->len)
		return;
	memcpy(st->buf + st->len, p, n);
	st->len += n;
}

static void
append_msg(struct stream *st, const struct gossip_msg *m)
{
	static uint8_t frame[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	int n = gossip_encode(m, frame, sizeof(frame));

	if (n > 0)
		append(st, frame, (size_t)n);
}

/* A frame of any type around any payload: the length field made right. */
static void
append_raw_frame(struct stream *st, unsigned type, const uint8_t *payload, size_t n)
{
	uint8_t hdr[GOSSIP_HDR_BYTES + 1];
	uint32_t len = (uint32_t)n + 1;

	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(len >> (8 * i));
	hdr[4] = (uint8_t)type;
	append(st, hdr, sizeof(hdr));
	append(st, payload, n);
}

static void
build_hello(struct input *in, struct gossip_msg *m)
{
	unsigned v = take_byte(in), u, h;

	m->type = GOSSIP_HELLO;
	m->version = v == 0xff ? (uint16_t)take_le(in, 2) : GOSSIP_PROTO_VERSION;
	m->flags = (uint16_t)take_byte(in);
	u = take_byte(in) % 4;
	if (u < 3)
		snprintf(m->uuid, sizeof(m->uuid), "%s", uuids[u]);
	else
		take_string(in, m->uuid, sizeof(m->uuid));
	h = take_byte(in) % 4;
	if (h < 3)
		snprintf(m->host, sizeof(m->host), "%s", hosts[h]);
	else
		take_string(in, m->host, sizeof(m->host));
}

static void
build_op(struct input *in, struct stream *st)
{
	static struct gossip_msg m;
	const uint8_t *b;
	size_t n;
	unsigned kind = take_byte(in) & 7, type;

	memset(&m, 0, sizeof(m));
	switch (kind) {
	case 0:
		build_hello(in, &m);
		break;
	case 1:
		m.type = GOSSIP_PULL;
		m.mode = (uint8_t)take_byte(in);
		break;
	case 2:
		m.type = GOSSIP_ENTRY;
		m.stamp_ns = take_le(in, 8);
		take_string(in, m.path, sizeof(m.path));
		take_string(in, m.value, sizeof(m.value));
		break;
	case 3:
		m.type = GOSSIP_END;
		m.count = take_byte(in);
		break;
	case 4:
		type = take_byte(in);
		n = take_counted(in, &b);
		append_raw_frame(st, type, b, n);
		return;
	case 5:
		n = take_counted(in, &b);
		append(st, b, n);
		return;
	default:
		append_raw_frame(st, take_byte(in), NULL, 0);
		return;
	}
	append_msg(st, &m);
}

/*
 * What the client said, as far as the stream decodes: the host names of
 * its HELLOs (what the session may write as) and, for each END, how many
 * ENTRY frames came since the previous one (what its ACK may count).
 */
struct said {
	char host[HELLO_HOSTS_MAX][GOSSIP_HOST_MAX + 1];
	size_t n;
	uint32_t pushed[ENDS_MAX];
	size_t n_ends;
	int zstd;	/* a FETCH or SYNC asked for compressed pieces */
};

static void
collect_said(const struct stream *st, struct said *hn)
{
	static struct gossip_msg m;
	size_t off = 0, used;
	uint32_t entries = 0;

	hn->n = hn->n_ends = 0;
	hn->zstd = 0;
	while (off < st->len && gossip_decode(st->buf + off, st->len - off, &used, &m) == 1) {
		if ((m.type == GOSSIP_FETCH && (m.fflags & GOSSIP_FETCH_ZSTD)) ||
		    (m.type == GOSSIP_SYNC && (m.sflags & GOSSIP_SYNC_ZSTD)))
			hn->zstd = 1;
		if (m.type == GOSSIP_HELLO && hn->n < HELLO_HOSTS_MAX)
			snprintf(hn->host[hn->n++], GOSSIP_HOST_MAX + 1, "%s", m.host);
		if (m.type == GOSSIP_ENTRY)
			entries++;
		if (m.type == GOSSIP_END && hn->n_ends < ENDS_MAX) {
			hn->pushed[hn->n_ends++] = entries;
			entries = 0;
		}
		off += used;
	}
}

static int
named(const struct said *hn, const char *host)
{
	for (size_t i = 0; i < hn->n; i++)
		if (strcmp(hn->host[i], host) == 0)
			return 1;
	return 0;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	FUZZ_CHECK(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Run one session with @st on stdin; the reply is left in @out (a memfd).
 * The session gives back every descriptor it opened. */
static void
run_session(const struct stream *st, int out)
{
	int fds = open_fds(), in = memfd_create("fuzz-serve-in", MFD_CLOEXEC);
	int save0 = dup(0), save1 = dup(1);

	FUZZ_CHECK(in >= 0 && save0 >= 0 && save1 >= 0);
	FUZZ_CHECK(write(in, st->buf, st->len) == (ssize_t)st->len);
	FUZZ_CHECK(lseek(in, 0, SEEK_SET) == 0);
	FUZZ_CHECK(dup2(in, 0) == 0 && dup2(out, 1) == 1);
	gossip_serve(&config, FUZZ_PEER);
	FUZZ_CHECK(dup2(save0, 0) == 0 && dup2(save1, 1) == 1);
	close(save0);
	close(save1);
	close(in);
	FUZZ_CHECK(open_fds() == fds);
}

/* Only what this node may send: its own names, cluster-wide keys, tombstones. */
static void
check_sent_entry(const struct gossip_msg *m)
{
	struct statefs_keyinfo ki;

	FUZZ_CHECK(statefs_key_check(m->path, &ki) == 0);
	FUZZ_CHECK(statefs_value_check(&ki, m->value) == 0);
	FUZZ_CHECK(ki.owner[0] == '\0' || strcmp(ki.owner, FUZZ_TREE_HOST) == 0 ||
		   strcmp(m->value, STATEFS_TOMBSTONE) == 0);
}

static void
check_hello_reply(const struct gossip_msg *m)
{
	FUZZ_CHECK(strcmp(m->host, FUZZ_TREE_HOST) == 0);
	FUZZ_CHECK(strcmp(m->uuid, FUZZ_TREE_UUID) == 0);
	FUZZ_CHECK(m->version == GOSSIP_PROTO_VERSION);
	FUZZ_CHECK((m->flags & ~(GOSSIP_HELLO_FETCH | GOSSIP_HELLO_SYNC | GOSSIP_HELLO_ZSTD)) == 0);
}

/* A piece the server sent: compressed only if asked, and decodable. */
static void
check_piece(const struct gossip_msg *m, const struct said *hn, uint64_t *zcost)
{
	static struct piece_unpacker u;
	const uint8_t *raw;

	if (m->type == GOSSIP_ZCOST) {
		FUZZ_CHECK(hn->zstd && m->cpu_ns >= *zcost);
		*zcost = m->cpu_ns;
		return;
	}
	if (m->type == GOSSIP_SDATA)
		FUZZ_CHECK(m->enc != GOSSIP_SDATA_ZLIB);
	if (m->type != GOSSIP_FZDATA && (m->type != GOSSIP_SDATA || m->enc != GOSSIP_SDATA_ZSTD))
		return;
	FUZZ_CHECK(hn->zstd);
	FUZZ_CHECK(piece_unpack(&u, m->enc, m->data, m->data_len, m->raw_len, &raw) == 0);
}

/* The reply: whole frames, one ERROR at most and last; ACKs count no
 * more entries than the client pushed in the batch. */
static void
check_reply(int out, const struct said *hn)
{
	static struct gossip_msg m;
	off_t size = lseek(out, 0, SEEK_END);
	size_t off = 0, used, acks = 0;
	uint64_t zcost = 0;
	int errors = 0;
	uint8_t *buf;

	FUZZ_CHECK(size >= 0);
	if (size == 0)
		return;
	buf = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, out, 0);
	FUZZ_CHECK(buf != MAP_FAILED);
	while (off < (size_t)size) {
		FUZZ_CHECK(gossip_decode(buf + off, (size_t)size - off, &used, &m) == 1);
		FUZZ_CHECK(errors == 0);
		if (m.type == GOSSIP_ERROR)
			errors++;
		if (m.type == GOSSIP_HELLO)
			check_hello_reply(&m);
		if (m.type == GOSSIP_ENTRY)
			check_sent_entry(&m);
		if (m.type == GOSSIP_ACK && acks < hn->n_ends)
			FUZZ_CHECK(m.count <= hn->pushed[acks++]);
		check_piece(&m, hn, &zcost);
		off += used;
	}
	munmap(buf, (size_t)size);
}

static int
check_entry(const struct statefs_entry *e, void *arg)
{
	const struct said *hn = arg;
	struct statefs_keyinfo ki;

	FUZZ_CHECK(statefs_key_check(e->path, &ki) == 0);
	if (ki.owner[0] && !e->tombstone &&
	    !(strcmp(e->path, FUZZ_TREE_DATA_KEY) == 0 && strcmp(e->value, tree.disk) == 0))
		FUZZ_CHECK(named(hn, ki.owner) && strcmp(ki.owner, FUZZ_PEER) == 0);
	if (strcmp(e->path, "uuid") == 0)
		FUZZ_CHECK(strcmp(e->value, FUZZ_TREE_UUID) == 0);
	return 0;
}

static void
setup(void)
{
	log_init("fuzz", LOG_LVL_ERR);
	fuzz_tree_init(&tree);
	config.root = tree.root;
	snprintf(config.host, sizeof(config.host), "%s", FUZZ_TREE_HOST);
	config.timeout_ms = 10000;
	config.transport = &gossip_transport_local;
	config.compress = PIECE_AUTO;	/* the serving end's default */
	tree_ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stream st;
	static struct said hn;
	struct input in = { data, data + size };
	int out;

	if (!tree_ready)
		setup();
	if (!st.buf)
		st.buf = malloc(STREAM_MAX);
	FUZZ_CHECK(st.buf);
	st.len = 0;
	while (in.p < in.end)
		build_op(&in, &st);
	collect_said(&st, &hn);
	out = memfd_create("fuzz-serve-out", MFD_CLOEXEC);
	FUZZ_CHECK(out >= 0);
	run_session(&st, out);
	check_reply(out, &hn);
	close(out);
	fuzz_tree_check(&tree);
	FUZZ_CHECK(statefs_list(tree.sf, "", STATEFS_LIST_TOMBSTONES, check_entry, &hn) == 0);
	fuzz_tree_reset(&tree);
	return 0;
}
