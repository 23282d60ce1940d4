/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A hostile gossip client for tests/bats/32-hostile-push.bats: it connects
 * to a host's sshd with the cluster key, as a member would, and speaks
 * docs/protocol.md to the forced `clusterd --serve` from a script on
 * stdin, one command a line, printing each answer on stdout:
 *
 *   hello HOST UUID          HELLO (fetch and sync announced)  -> hello SERVER
 *   entry PATH VALUE [+S]    ENTRY stamped now (+S seconds)
 *   flood N PREFIX BYTES     N ENTRY PREFIX0.. of BYTES 'x' each
 *   end                      END, wait for its ACK             -> ack N
 *   sync RES SIZE            SYNC from 0                       -> sinfo | send CODE TEXT
 *   fetch RES NAME           FETCH from 0                      -> finfo SIZE | fend CODE TEXT
 *   waitfile PATH            wait until PATH exists (10 s at most), the
 *                            session held open meanwhile         -> go
 *
 * An ERROR frame prints "error CODE TEXT" and ends with status 2.
 * Usage: gossip-push KEY KNOWN_HOSTS ADDR < SCRIPT
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/gossip/link.h"
#include "clusterd/transfer/sync.h"

#define WAIT_MS	10000

static struct gossip_link link;

static void
die(const char *what, int err)
{
	fprintf(stderr, "gossip-push: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void
wait_io(uint64_t deadline)
{
	struct pollfd p;
	uint64_t now = gossip_now_ms();

	if (now >= deadline)
		die("no answer", -ETIMEDOUT);
	p.fd = link.ops->poll_fd(link.t, link.out_len > 0, &p.events);
	poll(&p, 1, (int)(deadline - now));
}

/* Send what is queued and wait for one message that is not a NOTIFY. */
static void
answer(struct gossip_msg *m)
{
	uint64_t deadline = gossip_now_ms() + WAIT_MS;
	int ret;

	for (;;) {
		ret = link_flush(&link);
		if (ret == 0)
			ret = link_recv(&link, m);
		if (ret < 0)
			die("exchange", ret);
		if (ret == 1 && m->type == GOSSIP_ERROR) {
			printf("error %u %s\n", m->code, m->text);
			exit(2);
		}
		if (ret == 1 && m->type != GOSSIP_NOTIFY)
			return;
		if (ret == 0)
			wait_io(deadline);
	}
}

/*
 * Queue @m; past SEND_HIGH bytes queued, wait until the server has taken
 * enough of them.  A flush alone sends only what the socket takes now, so a
 * server slower than us (a loaded machine) would let the queue reach
 * GOSSIP_OUTQ_MAX and fail with ENOBUFS.
 */
#define SEND_HIGH	(256 * 1024)

static void
send_msg(const struct gossip_msg *m)
{
	uint64_t deadline = gossip_now_ms() + WAIT_MS;
	int ret = link_send(&link, m);

	while (ret == 0 && link.out_len >= SEND_HIGH) {
		ret = link_flush(&link);
		if (ret == 0 && link.out_len >= SEND_HIGH)
			wait_io(deadline);
	}
	if (ret < 0)
		die("send", ret);
}

static void
connect_to(const char *key, const char *known, const char *addr)
{
	static char pub[4096];
	struct gossip_tconf tc = { .user = "root", .key_path = key, .pub_path = pub,
				   .known_hosts = known, .remote_cmd = "clusterd --serve" };
	struct gossip_endpoint ep = { .port = 22 };
	uint64_t deadline = gossip_now_ms() + WAIT_MS;
	char err[256];
	int ret;

	snprintf(pub, sizeof(pub), "%s.pub", key);
	snprintf(ep.host, sizeof(ep.host), "%s", addr);
	snprintf(ep.addr, sizeof(ep.addr), "%s", addr);
	link_init(&link, &gossip_transport_ssh);
	ret = link.ops->open(&tc, &ep, &link.t);
	if (ret < 0)
		die("connect", ret);
	while ((ret = link.ops->connect_step(link.t, err, sizeof(err))) == 0)
		wait_io(deadline);
	if (ret < 0) {
		fprintf(stderr, "gossip-push: connect: %s\n", err);
		exit(1);
	}
}

static void
cmd_hello(const char *host, const char *uuid)
{
	struct gossip_msg m = { .type = GOSSIP_HELLO, .version = GOSSIP_PROTO_VERSION,
				.flags = GOSSIP_HELLO_FETCH | GOSSIP_HELLO_SYNC };

	snprintf(m.host, sizeof(m.host), "%s", host);
	snprintf(m.uuid, sizeof(m.uuid), "%s", uuid);
	send_msg(&m);
	answer(&m);
	printf("hello %s\n", m.host);
}

static void
cmd_entry(const char *path, const char *value, long ahead_s)
{
	struct gossip_msg m = { .type = GOSSIP_ENTRY };

	m.stamp_ns = statefs_realtime_ns() + (uint64_t)ahead_s * STATEFS_NS_PER_S;
	snprintf(m.path, sizeof(m.path), "%s", path);
	snprintf(m.value, sizeof(m.value), "%s", value);
	send_msg(&m);
}

static void
cmd_flood(unsigned long n, const char *prefix, size_t bytes)
{
	char path[GOSSIP_PATH_MAX + 1], value[GOSSIP_VALUE_MAX + 1];

	if (bytes > GOSSIP_VALUE_MAX)
		bytes = GOSSIP_VALUE_MAX;
	memset(value, 'x', bytes);
	value[bytes] = '\0';
	for (unsigned long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%lu", prefix, i);
		cmd_entry(path, value, 0);
	}
}

static void
cmd_end(void)
{
	struct gossip_msg m = { .type = GOSSIP_END };

	send_msg(&m);
	answer(&m);
	printf("ack %u\n", m.count);
}

static void
cmd_sync(const char *res, const char *size)
{
	struct gossip_msg m = { .type = GOSSIP_SYNC, .version = SYNC_PROTO_VERSION,
				.chunk_bytes = SYNC_CHUNK_MIN, .seed = 1 };

	snprintf(m.res, sizeof(m.res), "%s", res);
	m.size = strtoull(size, NULL, 10);
	send_msg(&m);
	answer(&m);
	if (m.type == GOSSIP_SINFO)
		printf("sinfo\n");
	else
		printf("send %u %s\n", m.code, m.text);
}

static void
cmd_fetch(const char *res, const char *name)
{
	struct gossip_msg m = { .type = GOSSIP_FETCH, .end = UINT64_MAX };

	snprintf(m.res, sizeof(m.res), "%s", res);
	snprintf(m.name, sizeof(m.name), "%s", name);
	send_msg(&m);
	answer(&m);
	if (m.type == GOSSIP_FINFO)
		printf("finfo %llu\n", (unsigned long long)m.size);
	else
		printf("fend %u %s\n", m.code, m.text);
}

/* The test's cue: it changed the victim in the middle of our session. */
static void
cmd_waitfile(const char *path)
{
	uint64_t deadline = gossip_now_ms() + WAIT_MS;
	struct stat st;

	while (stat(path, &st) < 0) {
		if (gossip_now_ms() >= deadline)
			die(path, -ETIMEDOUT);
		poll(NULL, 0, 50);
	}
	printf("go\n");
}

static void
run_line(char *line)
{
	char *w[5] = { NULL };
	int n = 0;

	for (char *tok = strtok(line, " \t\n"); tok && n < 5; tok = strtok(NULL, " \t\n"))
		w[n++] = tok;
	if (n == 0 || w[0][0] == '#')
		return;
	if (!strcmp(w[0], "hello") && n == 3)
		cmd_hello(w[1], w[2]);
	else if (!strcmp(w[0], "entry") && (n == 3 || n == 4))
		cmd_entry(w[1], w[2], n == 4 ? strtol(w[3], NULL, 10) : 0);
	else if (!strcmp(w[0], "flood") && n == 4)
		cmd_flood(strtoul(w[1], NULL, 10), w[2], strtoul(w[3], NULL, 10));
	else if (!strcmp(w[0], "end") && n == 1)
		cmd_end();
	else if (!strcmp(w[0], "sync") && n == 3)
		cmd_sync(w[1], w[2]);
	else if (!strcmp(w[0], "fetch") && n == 3)
		cmd_fetch(w[1], w[2]);
	else if (!strcmp(w[0], "waitfile") && n == 2)
		cmd_waitfile(w[1]);
	else {
		fprintf(stderr, "gossip-push: bad script line '%s'\n", w[0]);
		exit(1);
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	char line[2048];

	if (argc != 4) {
		fprintf(stderr, "usage: gossip-push KEY KNOWN_HOSTS ADDR < SCRIPT\n");
		return 1;
	}
	connect_to(argv[1], argv[2], argv[3]);
	while (fgets(line, sizeof(line), stdin))
		run_line(line);
	link_flush(&link);
	link_release(&link);
	return 0;
}
