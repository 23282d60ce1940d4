// SPDX-License-Identifier: GPL-2.0-only
/*
 * log-tamper: rewrite the payload of every record of a logfile that starts
 * at or after byte FROM, keeping its header and re-encoding it through the
 * shared codec, so that every checksum and marker is valid again.  What a
 * member that forges another host's records would serve: the scanner and
 * replay cannot tell them from the origin's (issue 15, protocol.md 9.2).
 *
 *   log-tamper FILE FROM [BYTE]     BYTE: the new payload byte (default 0xee)
 *
 * Prints the number of records rewritten; exit 0 if any, 1 if none, 2 on
 * a usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "mars/logrec.h"

static int
tamper_usage(void)
{
	fputs("usage: log-tamper FILE FROM [BYTE]\n", stderr);
	return 2;
}

/* Re-encode the record @r of @buf with every payload byte @fill, in place. */
static int
tamper_one(uint8_t *buf, const struct mars_rec *r, int fill)
{
	uint8_t *payload = malloc(r->hdr.stored_len ? r->hdr.stored_len : 1);
	long n;

	if (!payload)
		return -ENOMEM;
	memset(payload, fill, r->hdr.stored_len);
	n = mars_rec_encode(buf + r->offset, r->rec_len, &r->hdr, payload, 1);
	free(payload);
	return n == (long)r->rec_len ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	unsigned long long from;
	struct mars_rec r;
	struct stat st;
	size_t off = 0, done = 0;
	uint8_t *buf;
	int fd, fill = 0xee;

	if (argc < 3 || argc > 4)
		return tamper_usage();
	from = strtoull(argv[2], NULL, 0);
	if (argc == 4)
		fill = (int)strtol(argv[3], NULL, 0) & 0xff;
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)) ||
	    io_pread_full(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		fprintf(stderr, "log-tamper: cannot read '%s': %s\n", argv[1], strerror(errno));
		return 2;
	}
	while (mars_rec_scan(buf, (size_t)st.st_size, off, 0, &r) == MARS_SCAN_RECORD) {
		if (r.offset >= from && tamper_one(buf, &r, fill) == 0)
			done++;
		off = r.next;
	}
	if (io_pwrite_full(fd, buf, (size_t)st.st_size, 0) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "log-tamper: cannot write '%s': %s\n", argv[1], strerror(errno));
		return 2;
	}
	printf("%zu\n", done);
	free(buf);
	close(fd);
	return done ? 0 : 1;
}
