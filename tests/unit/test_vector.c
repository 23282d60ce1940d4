// SPDX-License-Identifier: GPL-2.0-only
/*
 * The committed test vector (tests/vectors/basic.log) is the byte-level
 * contract of format version 1: the encoder must reproduce it exactly and
 * the scanner must read back exactly the records listed in
 * basic.manifest.  mars.ko checks the same file inside the VM.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mars/logrec.h"
#include "tests/helpers/forge.h"
#include "tap.h"

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = malloc(n > 0 ? (size_t)n : 1);
	if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return data;
}

static int
check_manifest(const uint8_t *log, size_t len, FILE *man)
{
	uint64_t off, seq, dev, stamp;
	unsigned int dlen;
	struct mars_rec rec;
	size_t pos = 0;
	int lines = 0;

	while (fscanf(man, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %u %" SCNu64,
		      &off, &seq, &dev, &dlen, &stamp) == 5) {
		if (mars_rec_scan(log, len, pos, seq, &rec) != MARS_SCAN_RECORD ||
		    rec.offset != off || rec.hdr.dev_off != dev ||
		    rec.hdr.data_len != dlen || rec.hdr.stamp_ns != stamp)
			return -1;
		pos = rec.next;
		lines++;
	}
	if (mars_rec_scan(log, len, pos, 0, &rec) != MARS_SCAN_END)
		return -1;
	return lines;
}

static int
regenerate_equals(const uint8_t *log, size_t len)
{
	static uint8_t payload[MARS_REC_MAX_PAYLOAD];
	static uint8_t rec[MARS_REC_MAX_BYTES];
	size_t pos = 0;
	unsigned int i;

	for (i = 1; i <= FORGE_VECTOR_RECORDS; i++) {
		struct mars_rec_hdr hdr;
		long n;

		forge_vector_hdr(i, &hdr);
		forge_fill(payload, hdr.stored_len, forge_payload_seed(i, 1));
		n = mars_rec_encode(rec, sizeof(rec), &hdr, payload, 1);
		if (n < 0 || pos + (size_t)n > len ||
		    memcmp(log + pos, rec, (size_t)n) != 0)
			return 0;
		pos += (size_t)n;
	}
	return pos == len;
}

int
main(void)
{
	const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
	char path[4096];
	uint8_t *log;
	size_t len = 0;
	FILE *man;

	snprintf(path, sizeof(path), "%s/tests/vectors/basic.log", srcdir);
	log = slurp(path, &len);
	if (!tap_ok(log != NULL, "test vector %s is readable", path))
		return tap_done();
	snprintf(path, sizeof(path), "%s/tests/vectors/basic.manifest", srcdir);
	man = fopen(path, "r");
	if (!tap_ok(man != NULL, "manifest %s is readable", path))
		return tap_done();
	tap_ok(check_manifest(log, len, man) == FORGE_VECTOR_RECORDS,
	       "scanner reads exactly the manifest's records");
	tap_ok(regenerate_equals(log, len),
	       "encoder reproduces the vector byte for byte");
	fclose(man);
	free(log);
	return tap_done();
}
