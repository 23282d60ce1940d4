/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A malicious gossip serving end for tests/bats/30-gossip.bats.  Run as a
 * peer's SSH forced command: `gossip-evil HOST`.  It greets with the
 * client's own uuid and the name HOST, answers the first pull with
 * entries no honest member may send (paths out of the tree, other hosts'
 * names, private names, bad values, a zero stamp, a rewritten uuid), and
 * the second with a frame over the size bound.  A correct client changes
 * nothing and drops the connection.
 *
 * And a hostile client for tests/bats/33-identity.bats, in the push
 * direction: `gossip-evil --client HOST UUID STEP... -- CMD ARG...` runs
 * CMD (`ssh -i KEY root@ADDR`: a serving end) and says HELLO as HOST with
 * UUID, whatever key it logged in with; then each STEP in turn: `pull`
 * (PULL full, answered by ENTRY* END), PATH=VALUE (ENTRY stamped now,
 * then END, answered by ACK), `fetch` (HELLO's fetch flag is set; FETCH
 * of a made-up logfile).  Every frame received is printed on one line:
 * `HELLO host uuid`, `END n`, `ACK n`, `ERROR code text`, other types by
 * name; entries are counted, not printed.  It stops at an ERROR or when
 * the serving end closes, and after 20 s.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/gossip/proto.h"

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

/* Start CMD with its stdin and stdout on a socket that becomes ours. */
static void
spawn(char **cmd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		exit(2);
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[0]);
		close(sv[1]);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	dup2(sv[0], 0);
	dup2(sv[0], 1);
	close(sv[0]);
	close(sv[1]);
}

/* Print what arrives until @until (or FEND, ERROR); 0 when it came. */
static int
report_until(FILE *out, uint8_t until)
{
	struct gossip_msg m;
	unsigned entries = 0;

	while (recv_msg(&m) == 1) {
		if (m.type == GOSSIP_ENTRY) {
			entries++;
			continue;
		}
		if (m.type == GOSSIP_HELLO)
			fprintf(out, "HELLO %s %s\n", m.host, m.uuid);
		else if (m.type == GOSSIP_END || m.type == GOSSIP_ACK)
			fprintf(out, "%s %u (%u entries)\n", gossip_type_str(m.type), m.count,
				entries);
		else if (m.type == GOSSIP_ERROR)
			fprintf(out, "ERROR %u %s\n", m.code, m.text);
		else
			fprintf(out, "%s\n", gossip_type_str(m.type));
		fflush(out);
		if (m.type == GOSSIP_ERROR)
			return -1;
		if (m.type == until || m.type == GOSSIP_FEND)	/* FEND ends a fetch */
			return 0;
	}
	fprintf(out, "CLOSED\n");
	return -1;
}

static int
client_step(FILE *out, const char *step)
{
	struct gossip_msg m = { .type = GOSSIP_PULL, .mode = GOSSIP_PULL_FULL };
	struct timespec ts;
	const char *eq = strchr(step, '=');

	if (strcmp(step, "pull") == 0) {
		send_msg(&m);
		return report_until(out, GOSSIP_END);
	}
	if (strcmp(step, "fetch") == 0) {
		m = (struct gossip_msg){ .type = GOSSIP_FETCH, .end = UINT64_MAX };
		snprintf(m.res, sizeof(m.res), "r");
		snprintf(m.name, sizeof(m.name), "log-000000001-x");
		send_msg(&m);
		return report_until(out, GOSSIP_FINFO);
	}
	if (!eq || (size_t)(eq - step) >= sizeof(m.path))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	m = (struct gossip_msg){ .type = GOSSIP_ENTRY,
				 .stamp_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
					     (uint64_t)ts.tv_nsec };
	memcpy(m.path, step, (size_t)(eq - step));
	m.path[eq - step] = '\0';
	snprintf(m.value, sizeof(m.value), "%s", eq + 1);
	send_msg(&m);
	m = (struct gossip_msg){ .type = GOSSIP_END, .count = 1 };
	send_msg(&m);
	return report_until(out, GOSSIP_ACK);
}

static int
client(int argc, char **argv)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION,
				.flags = GOSSIP_HELLO_FETCH };
	FILE *out = fdopen(dup(1), "w");
	int i, dash;

	for (dash = 4; dash < argc && strcmp(argv[dash], "--") != 0; dash++)
		;
	if (argc < 5 || dash >= argc - 1 || !out) {
		fprintf(stderr, "usage: gossip-evil --client HOST UUID STEP... -- CMD ARG...\n");
		return 2;
	}
	alarm(20);
	spawn(argv + dash + 1);
	snprintf(m.host, sizeof(m.host), "%s", argv[2]);
	snprintf(m.uuid, sizeof(m.uuid), "%s", argv[3]);
	send_msg(&m);
	if (report_until(out, GOSSIP_HELLO) < 0)
		return 0;
	for (i = 4; i < dash; i++)
		if (client_step(out, argv[i]) < 0)
			break;
	return 0;
}

int
main(int argc, char **argv)
{
	struct gossip_msg m, r = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION };
	char victim[GOSSIP_HOST_MAX + 1] = "";
	int pulls = 0;

	if (argc > 1 && strcmp(argv[1], "--client") == 0)
		return client(argc, argv);
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
