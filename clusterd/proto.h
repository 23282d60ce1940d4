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

enum gossip_type {
	GOSSIP_HELLO	= 1,	/* version, flags, uuid, host */
	GOSSIP_PULL	= 2,	/* mode: send me entries */
	GOSSIP_ENTRY	= 3,	/* stamp, path, value */
	GOSSIP_END	= 4,	/* count: end of a batch of entries */
	GOSSIP_NOTIFY	= 5,	/* server: my tree changed, pull */
	GOSSIP_ACK	= 6,	/* server: pushed batch merged; count applied */
	GOSSIP_ERROR	= 7,	/* code, text; the sender closes */
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
	char text[GOSSIP_TEXT_MAX + 1];		/* ERROR */
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
