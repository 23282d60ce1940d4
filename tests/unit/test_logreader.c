/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * common/logreader.c: the bounded window must give the scanner exactly
 * what it would see with the whole file in memory.  Files are forged with
 * tests/helpers/forge.c, with maximal records so that records straddle
 * window refills, and then cut or damaged; and common/logend.c: where the
 * records end whatever follows them (zeros, junk, a torn record).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/logend.h"
#include "common/logreader.h"
#include "../helpers/forge.h"
#include "tap.h"

#define SEED	7

static char path[] = "/tmp/test_logreader.XXXXXX";
static uint8_t rec_buf[MARS_REC_MAX_BYTES];
static uint8_t payload_buf[MARS_REC_MAX_PAYLOAD];

/* Payload sizes that make records cross the 2 MiB window in odd places. */
static uint32_t
payload_of(unsigned int i)
{
	static const uint32_t sizes[] = { MARS_REC_MAX_PAYLOAD, 1, MARS_REC_MAX_PAYLOAD - 3,
					  4096, 777777, MARS_REC_MAX_PAYLOAD };

	return sizes[(i - 1) % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* Write @n forged records to @fd; returns the file size. */
static uint64_t
forge_file(int fd, unsigned int n)
{
	uint64_t size = 0;

	for (unsigned int i = 1; i <= n; i++) {
		struct mars_rec_hdr hdr;
		long len;

		forge_generic_hdr(i, payload_of(i), 1ULL << 30, SEED, &hdr);
		forge_fill(payload_buf, hdr.stored_len, forge_payload_seed(i, SEED));
		len = mars_rec_encode(rec_buf, sizeof(rec_buf), &hdr, payload_buf, 1);
		if (len < 0 || write(fd, rec_buf, (size_t)len) != len)
			abort();
		size += (uint64_t)len;
	}
	return size;
}

static int
payload_matches(const struct logreader_rec *r, unsigned int i)
{
	forge_fill(payload_buf, r->rec.hdr.stored_len, forge_payload_seed(i, SEED));
	return !memcmp(r->payload, payload_buf, r->rec.hdr.stored_len);
}

/* Read the file to its stop; returns the records read, *@stop the result. */
static unsigned int
read_all(struct logreader_rec *stop, int *payload_ok)
{
	struct logreader lr;
	unsigned int n = 0;

	*payload_ok = 1;
	if (logreader_open(&lr, path))
		return 0;
	while (logreader_next(&lr, stop) == 0 && stop->result == MARS_SCAN_RECORD) {
		n++;
		if (stop->rec.hdr.seq != n || !payload_matches(stop, n))
			*payload_ok = 0;
	}
	logreader_close(&lr);
	return n;
}

static void
test_clean(int fd, unsigned int n, uint64_t size)
{
	struct logreader_rec stop;
	int ok;

	tap_ok(read_all(&stop, &ok) == n, "all %u records read across window refills", n);
	tap_ok(ok, "sequence numbers and payloads intact");
	tap_ok(stop.result == MARS_SCAN_END && stop.offset == size, "clean end at file size");
}

static void
test_truncated(int fd, uint64_t size)
{
	struct logreader_rec stop;
	int ok;
	unsigned int n;

	if (ftruncate(fd, (off_t)(size - 5)))
		abort();
	n = read_all(&stop, &ok);
	tap_ok(stop.result == MARS_SCAN_INCOMPLETE, "cut last record is incomplete, not corrupt");
	tap_ok(n == 5 && ok, "records before the cut are read");
}

static void
test_resync(int fd, uint64_t size)
{
	struct logreader lr;
	struct logreader_rec r;
	uint64_t at = 0, second;
	int found;

	second = mars_rec_size(payload_of(1));
	if (pwrite(fd, "X", 1, 100) != 1)
		abort();
	if (logreader_open(&lr, path))
		abort();
	logreader_next(&lr, &r);
	tap_ok(r.result == MARS_SCAN_CORRUPT && r.offset == 0, "damaged first record is corrupt");
	found = logreader_find_record(&lr, 1, &at);
	tap_ok(found == 1 && at == second, "next valid record found at %llu", (unsigned long long)at);
	found = logreader_find_record(&lr, size - 8, &at);
	tap_ok(found == 0, "nothing valid after the last record's start");
	logreader_close(&lr);
}

/* logend_find() on the file as it is: @want_ret, and @want_end on 0. */
static void
test_logend(int fd, int want_ret, uint64_t want_end, const char *what)
{
	uint64_t end = UINT64_MAX, size = 0;
	int ret = logend_find(fd, &end, &size);

	tap_ok(ret == want_ret && (ret || end == want_end),
	       "log end of %s: %d, %llu of %llu bytes", what, ret, (unsigned long long)end,
	       (unsigned long long)size);
}

/* Preallocated zeros after the last record, and a torn record before them. */
static void
test_logend_tails(int fd, uint64_t size)
{
	uint64_t last = size - mars_rec_size(payload_of(6));
	static const uint8_t junk[64] = { 0x61, 0x72, 0x73 };

	test_logend(fd, 0, size, "a finished file (its size)");
	if (ftruncate(fd, (off_t)(size + (4u << 20))))
		abort();
	test_logend(fd, 0, size, "a file with 4 MiB of zeros after its records");
	if (pwrite(fd, junk, sizeof(junk), (off_t)size) != (ssize_t)sizeof(junk))
		abort();
	test_logend(fd, 0, size, "a file with junk, then zeros after its records");
	if (ftruncate(fd, (off_t)size))
		abort();
	test_logend(fd, 0, size, "the file cut back");
	if (ftruncate(fd, (off_t)(size - 5)))
		abort();
	test_logend(fd, 0, last, "a file whose last record is incomplete");
	if (ftruncate(fd, (off_t)size))
		abort();
}

static void
test_open_errors(void)
{
	struct logreader lr;

	tap_ok(logreader_open(&lr, "/nonexistent/log") == -ENOENT, "missing file is ENOENT");
	tap_ok(logreader_open(&lr, "/tmp") == -EISDIR, "directory is EISDIR");
	tap_ok(logreader_open(&lr, "/dev/null") == -EINVAL, "character device is EINVAL");
}

int
main(void)
{
	const unsigned int n = 6;
	uint64_t size;
	int fd = mkstemp(path);

	if (fd < 0)
		return 99;
	size = forge_file(fd, n);
	test_clean(fd, n, size);
	test_logend_tails(fd, size);
	test_truncated(fd, size);
	test_resync(fd, size);
	test_logend(fd, -EBADMSG, 0, "a file damaged before valid records");
	test_open_errors();
	close(fd);
	unlink(path);
	return tap_done();
}
