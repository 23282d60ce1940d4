/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gossip wire protocol, version 1 (normative text: docs/protocol.md).
 *
 * A stream of frames over an SSH channel (or a pipe in tests):
 *
 *   0      4      5
 *   +------+------+----------------------+
 *   | len  | type | payload (len-1 bytes) |
 *   +------+------+----------------------+
 *   len: __le32, bytes after the length field, 1..GOSSIP_FRAME_MAX
 *
 * Payload fields are __le16/__le32/__le64 integers and strings encoded as
 * an __le16 byte count followed by that many bytes (no NUL, none inside).
 * Every count is checked against the frame and the field's bound before
 * use; a frame with bytes left over after its last field is malformed.
 */
#ifndef MARS_CLUSTERD_PROTO_H
#define MARS_CLUSTERD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define GOSSIP_PROTO_VERSION	1
#define GOSSIP_FRAME_MAX	65536	/* bytes after the length field */
#define GOSSIP_HDR_BYTES	4
#define GOSSIP_UUID_MAX		127
#define GOSSIP_HOST_MAX		63
#define GOSSIP_PATH_MAX		255
#define GOSSIP_VALUE_MAX	1023
#define GOSSIP_TEXT_MAX		511
#define GOSSIP_UUID_ANY		"(any)"	/* HELLO uuid of a joining node */

/* ---- protocol 1.1: logfile transfer (fetch), docs/protocol.md section 9 ---- */
#define GOSSIP_PROTO_MINOR	3	/* 1.1: HELLO flag FETCH and types 8..12;
					   1.2: flag SYNC and types 13..19;
					   1.3: flag ZSTD and types 20..21 */
#define GOSSIP_HELLO_FETCH	0x0001	/* HELLO flags: this end speaks fetch */
#define GOSSIP_FDATA_MAX	(GOSSIP_FRAME_MAX - 1 - 8)	/* data bytes per FDATA */
#define GOSSIP_FETCH_FOLLOW	0x01	/* FETCH flags: keep sending as it grows */
#define GOSSIP_FETCH_ZSTD	0x02	/* FETCH flags: FZDATA welcome (protocol 1.3) */
#define GOSSIP_DIGEST_MAX	65536	/* FETCH digest covers at most this tail */

enum gossip_type {
	GOSSIP_HELLO	= 1,	/* version, flags, uuid, host */
	GOSSIP_PULL	= 2,	/* mode: send me entries */
	GOSSIP_ENTRY	= 3,	/* stamp, path, value */
	GOSSIP_END	= 4,	/* count: end of a batch of entries */
	GOSSIP_NOTIFY	= 5,	/* server: my tree changed, pull */
	GOSSIP_ACK	= 6,	/* server: pushed batch merged; count applied */
	GOSSIP_ERROR	= 7,	/* code, text; the sender closes */
	/* protocol 1.1, only after both HELLOs carried GOSSIP_HELLO_FETCH */
	GOSSIP_FETCH	= 8,	/* client: res, name, offset, end, flags, digest */
	GOSSIP_FDATA	= 9,	/* server: offset, logfile bytes */
	GOSSIP_FINFO	= 10,	/* server: size of its copy now */
	GOSSIP_FEND	= 11,	/* server: offset, code, text: the stream is over */
	GOSSIP_FSTOP	= 12,	/* client: end the current stream */
	/* full sync (docs/sync.md), only after both HELLOs carried GOSSIP_HELLO_SYNC */
	GOSSIP_SYNC	= 13,	/* client: version, res, from, size, chunk, flags, seed */
	GOSSIP_SINFO	= 14,	/* server: version, size, chunk, flags: accepted */
	GOSSIP_SSUMS	= 15,	/* client: offset, count, count digests of its chunks */
	GOSSIP_SDATA	= 16,	/* server: offset, enc, raw_len, bytes of a differing chunk */
	GOSSIP_SDONE	= 17,	/* server: offset, count, equal: the batch is done */
	GOSSIP_SFIN	= 18,	/* client: every batch done, end the session */
	GOSSIP_SEND	= 19,	/* server: code, text, syncpos: the session is over */
	/* protocol 1.3, only after both HELLOs carried GOSSIP_HELLO_ZSTD */
	GOSSIP_ZCOST	= 20,	/* server: CPU spent compressing in this session */
	GOSSIP_FZDATA	= 21,	/* server: offset, enc, raw_len, a compressed FDATA */
};

/* ---- protocol 1.3: compressed pieces, docs/protocol.md section 11 ---- */
#define GOSSIP_HELLO_ZSTD	0x0004	/* HELLO flags: this end speaks zstd pieces */
#define GOSSIP_PIECE_MARGIN	16	/* a piece must shrink by 1/16 to go compressed */

/* ---- full sync (docs/sync.md) ---- */
#define GOSSIP_HELLO_SYNC	0x0002	/* HELLO flags: this end speaks full sync */
#define GOSSIP_SYNC_ZLIB	0x01	/* SYNC/SINFO flags: SDATA may be zlib (1.2) */
#define GOSSIP_SYNC_ZSTD	0x02	/* SYNC/SINFO flags: SDATA may be zstd (1.3) */
#define GOSSIP_SSUMS_MAX	1024	/* digests per SSUMS */
#define GOSSIP_SDIGEST_BYTES	16	/* bytes per digest in SSUMS */
#define GOSSIP_SPIECE_MAX	32768	/* raw bytes per SDATA */
#define GOSSIP_SDATA_RAW	0	/* SDATA enc: the bytes as they are */
#define GOSSIP_SDATA_ZLIB	1	/* SDATA enc: zlib stream of raw_len bytes */
#define GOSSIP_SDATA_ZSTD	2	/* SDATA, FZDATA enc: one zstd frame of raw_len bytes */

/* SEND codes: why a sync session ended. */
enum gossip_sync_code {
	GOSSIP_SYNC_OK		= 0,	/* every batch answered; syncpos attached */
	GOSSIP_SYNC_NOENT	= 1,	/* no such resource here */
	GOSSIP_SYNC_NOTMEMBER	= 2,	/* this host has no disk of the resource */
	GOSSIP_SYNC_RANGE	= 3,	/* asked beyond the resource or disk size */
	GOSSIP_SYNC_IO		= 4,	/* cannot open or read the disk */
	GOSSIP_SYNC_REFUSED	= 5,	/* bad request (version, chunk size, order) */
};

/* FEND codes: why a fetch stream ended. */
enum gossip_fetch_code {
	GOSSIP_FETCH_OK		= 0,	/* reached end, EOF (no follow) or FSTOP */
	GOSSIP_FETCH_NOENT	= 1,	/* no such logfile here */
	GOSSIP_FETCH_MISMATCH	= 2,	/* digest differs from our bytes */
	GOSSIP_FETCH_SHORT	= 3,	/* we hold less than the client's offset */
	GOSSIP_FETCH_REFUSED	= 4,	/* not a logfile name, not a regular file */
	GOSSIP_FETCH_IO		= 5,	/* read error on the serving end */
};

enum gossip_pull_mode {
	GOSSIP_PULL_FULL	= 0,	/* every sendable entry */
	GOSSIP_PULL_CHANGES	= 1,	/* entries changed since the last pull */
};

enum gossip_error_code {
	GOSSIP_ERR_VERSION	= 1,	/* protocol version not spoken */
	GOSSIP_ERR_UUID		= 2,	/* cluster uuid mismatch */
	GOSSIP_ERR_PROTO	= 3,	/* malformed or unexpected frame */
	GOSSIP_ERR_TREE		= 4,	/* serving end cannot open its tree */
	GOSSIP_ERR_IDENTITY	= 5,	/* key bound to no host, or HELLO not its host */
};

/* One decoded message; only the fields of its type are meaningful. */
struct gossip_msg {
	uint8_t type;				/* enum gossip_type */
	uint16_t version;			/* HELLO */
	uint16_t flags;				/* HELLO, reserved: 0 */
	uint8_t mode;				/* PULL */
	uint16_t code;				/* ERROR */
	uint32_t count;				/* END, ACK */
	uint64_t stamp_ns;			/* ENTRY */
	char uuid[GOSSIP_UUID_MAX + 1];		/* HELLO */
	char host[GOSSIP_HOST_MAX + 1];		/* HELLO */
	char path[GOSSIP_PATH_MAX + 1];		/* ENTRY */
	char value[GOSSIP_VALUE_MAX + 1];	/* ENTRY */
	char text[GOSSIP_TEXT_MAX + 1];		/* ERROR, FEND */
	/* protocol 1.1 */
	char res[GOSSIP_HOST_MAX + 1];		/* FETCH: resource name */
	char name[GOSSIP_PATH_MAX + 1];		/* FETCH: logfile name */
	uint8_t fflags;				/* FETCH: GOSSIP_FETCH_* */
	uint32_t digest_len;			/* FETCH: bytes before offset digested */
	uint64_t digest;			/* FETCH: xxh64 (seed 0) of those bytes */
	uint64_t offset;			/* FETCH, FDATA, FEND */
	uint64_t end;				/* FETCH: stop there; UINT64_MAX: never */
	uint64_t size;				/* FINFO */
	/*
	 * FDATA: the bytes.  Decoding points @data into the decoded buffer
	 * (valid while that buffer is); encoding copies from it.
	 */
	const uint8_t *data;
	uint32_t data_len;
	/* full sync (docs/sync.md); also: version, res, offset, size, count,
	 * code, text, value (SEND: syncpos), data (SSUMS digests, SDATA bytes) */
	uint32_t chunk_bytes;			/* SYNC, SINFO */
	uint8_t sflags;				/* SYNC, SINFO: GOSSIP_SYNC_* */
	uint64_t seed;				/* SYNC: digest seed of the session */
	uint8_t enc;				/* SDATA, FZDATA: GOSSIP_SDATA_* */
	uint32_t raw_len;			/* SDATA, FZDATA: bytes once decoded */
	uint64_t cpu_ns;			/* ZCOST: compressing, session total */
	uint32_t equal;				/* SDONE: chunks found equal */
};

/*
 * Decode the first frame of @buf[0..@len).  Returns 1 with *@used set to
 * the frame's total size and @m filled, 0 if more bytes are needed, or
 * -EMSGSIZE (length field 0 or above GOSSIP_FRAME_MAX) / -EPROTO (unknown
 * type, a field running past the frame, a string over its bound or with a
 * NUL, trailing bytes).  Never reads outside @buf[0..@len).
 */
int gossip_decode(const uint8_t *buf, size_t len, size_t *used, struct gossip_msg *m);

/*
 * Encode @m as one frame into @buf of @cap bytes.  Returns the frame size
 * or -ENOSPC (buffer too small), -EINVAL (a string over its bound, an
 * unknown type).
 */
int gossip_encode(const struct gossip_msg *m, uint8_t *buf, size_t cap);

/* Name of a message type for logs ("HELLO", ...; "?" if unknown). */
const char *gossip_type_str(int type);

#endif /* MARS_CLUSTERD_PROTO_H */
