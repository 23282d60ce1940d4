/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dns-blackhole LOG
 *
 * A name server on 127.0.0.1:53 (UDP) that never answers: each query
 * received appends one line "query" to LOG.  Run in a test namespace whose
 * resolv.conf points at it, a lookup hangs for the resolver's whole
 * timeout, which shows whether a daemon's poll loop waits for it.  Prints
 * "ready" on stdout once bound.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	char buf[512];
	FILE *log;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: dns-blackhole LOG\n");
		return 2;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("dns-blackhole: cannot bind 127.0.0.1:53");
		return 1;
	}
	log = fopen(argv[1], "a");
	if (!log) {
		perror("dns-blackhole: cannot open the log");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (recv(fd, buf, sizeof(buf), 0) >= 0) {
		fputs("query\n", log);
		fflush(log);
	}
	return 1;
}
