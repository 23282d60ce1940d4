// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the scanner must classify any byte sequence without
 * reading outside it and without ever accepting a record whose lengths do
 * not fit the buffer.  AddressSanitizer catches out-of-bounds reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mars/logrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mars_rec rec;
	size_t off = 0;
	uint64_t seq = 0;
	int steps = 0;

	while (steps++ < 4096) {
		enum mars_scan_result res = mars_rec_scan(data, size, off, seq, &rec);

		if (res != MARS_SCAN_RECORD && res != MARS_SCAN_SEQ_GAP)
			break;
		if (rec.next <= off || rec.next > size)
			abort();
		off = rec.next;
		seq = rec.hdr.seq + 1;
	}
	return 0;
}
