/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A malicious gossip serving end for tests/bats/30-gossip.bats.  Run as a
 * peer's SSH forced command: `gossip-evil HOST`.  It greets with the
 * client's own uuid and the name HOST, answers the first pull with
 * entries no honest member may send (paths out of the tree, other hosts'
 * names, private names, bad values, a zero stamp, a rewritten uuid), and
 * the second with a frame over the size bound.  A correct client changes
 * nothing and drops the connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/proto.h"

static uint8_t inbuf[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
static size_t in_len;

static int
recv_msg(struct gossip_msg *m)
{
	size_t used;
	ssize_t n;
	int ret;

	for (;;) {
		ret = gossip_decode(inbuf, in_len, &used, m);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			memmove(inbuf, inbuf + used, in_len - used);
			in_len -= used;
			return 1;
		}
		n = read(0, inbuf + in_len, sizeof(inbuf) - in_len);
		if (n <= 0)
			return -1;
		in_len += (size_t)n;
	}
}

static void
send_msg(const struct gossip_msg *m)
{
	uint8_t frame[GOSSIP_HDR_BYTES + GOSSIP_FRAME_MAX];
	int n = gossip_encode(m, frame, sizeof(frame));

	if (n < 0 || write(1, frame, (size_t)n) != n)
		exit(1);
}

static void
send_entry(const char *path, const char *value, uint64_t stamp)
{
	struct gossip_msg m = { .type = GOSSIP_ENTRY, .stamp_ns = stamp };

	snprintf(m.path, sizeof(m.path), "%s", path);
	snprintf(m.value, sizeof(m.value), "%s", value);
	send_msg(&m);
}

static void
bad_entries(const char *me, const char *victim)
{
	uint64_t t = 4000000000ULL * 1000000000ULL;	/* year 2096: wins any race */
	struct gossip_msg end = { .type = GOSSIP_END, .count = 12 };
	char path[256];

	send_entry("../escape", "x", t);
	send_entry("/etc/evil", "x", t);
	send_entry("ips/../../escape", "x", t);
	send_entry("resource-r/.tmp.1.size", "1", t);
	snprintf(path, sizeof(path), "actual-%s/time", victim);
	send_entry(path, "1.0", t);				/* foreign name */
	snprintf(path, sizeof(path), "resource-r/data-%s", victim);
	send_entry(path, "/dev/evil", t);			/* foreign name */
	send_entry("uuid", "evil_1", t);			/* rewrite the cluster id */
	snprintf(path, sizeof(path), "actual-%s/note", me);
	send_entry(path, "a\nb", t);				/* control character */
	snprintf(path, sizeof(path), "resource-r/data-%s", me);
	send_entry(path, "../../etc/passwd", t);		/* bad path value */
	snprintf(path, sizeof(path), "actual-%s/zero", me);
	send_entry(path, "1", 0);				/* zero stamp */
	send_entry("no-such-key", "1", t);			/* not in the tree format */
	send_entry("ips/ip-", "10.0.0.1", t);			/* empty host name */
	send_msg(&end);
}

static void
oversized_frame(void)
{
	uint8_t hdr[5] = { 0x00, 0x00, 0x10, 0x00, GOSSIP_ENTRY };	/* 1 MiB */
	static uint8_t junk[65536];

	if (write(1, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		exit(1);
	memset(junk, 'A', sizeof(junk));
	for (int i = 0; i < 4; i++)
		if (write(1, junk, sizeof(junk)) < 0)
			exit(0);
}

int
main(int argc, char **argv)
{
	struct gossip_msg m, r = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };
	char victim[GOSSIP_HOST_MAX + 1] = "";
	int pulls = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gossip-evil HOST\n");
		return 2;
	}
	while (recv_msg(&m) == 1) {
		if (m.type == GOSSIP_HELLO) {
			snprintf(victim, sizeof(victim), "%s", m.host);
			snprintf(r.uuid, sizeof(r.uuid), "%s", m.uuid);
			snprintf(r.host, sizeof(r.host), "%s", argv[1]);
			send_msg(&r);
		} else if (m.type == GOSSIP_PULL && pulls++ == 0) {
			bad_entries(argv[1], victim);
		} else if (m.type == GOSSIP_PULL) {
			oversized_frame();
			return 0;
		}
	}
	return 0;
}
