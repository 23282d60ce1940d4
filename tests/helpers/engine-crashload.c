// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine-crashload: the workload and the oracle of the engine's crash
 * tests.
 *
 *   engine-crashload write FILE BLOCKS [SYNC_EVERY [FIRST]]
 *       writes block-sized writes FIRST, FIRST+1, ... (FIRST defaults to 1;
 *       a later run continues the history of an earlier one) to slot
 *       (i * 7919) % BLOCKS,
 *       each block stamped with its number, and after every SYNC_EVERY
 *       writes calls fdatasync and prints "acked I" (I = last write
 *       covered).  Runs until killed.
 *   engine-crashload check FILE BLOCKS ACKED
 *       reads the result and checks the prefix property: with P the
 *       highest write number found, every slot holds exactly what writes
 *       1..P left there, and P >= ACKED (no acknowledged write lost).
 *
 * Exit status: 0 good, 1 property violated (the reason is printed),
 * 2 usage or I/O error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CL_BLOCK	4096
#define CL_STRIDE	7919ULL

static uint64_t
cl_slot(uint64_t i, uint64_t blocks)
{
	return (i * CL_STRIDE) % blocks;
}

static void
cl_fill(uint8_t *b, uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
	size_t k;

	for (k = 0; k < CL_BLOCK; k += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(b + k, &x, 8);
	}
	memcpy(b, &i, 8);
	memcpy(b + CL_BLOCK - 8, &i, 8);
}

static int
cl_write(const char *path, uint64_t blocks, uint64_t every, uint64_t first)
{
	uint8_t b[CL_BLOCK];
	uint64_t i;
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		perror(path);
		return 2;
	}
	for (i = first;; i++) {
		cl_fill(b, i);
		if (pwrite(fd, b, CL_BLOCK, (off_t)(cl_slot(i, blocks) * CL_BLOCK)) != CL_BLOCK) {
			perror("pwrite");
			return 2;
		}
		if ((i - first + 1) % every)
			continue;
		if (fdatasync(fd) < 0) {
			perror("fdatasync");
			return 2;
		}
		printf("acked %" PRIu64 "\n", i);
		fflush(stdout);
	}
}

/* The write number in block @b: 0 for zeros, UINT64_MAX for garbage. */
static uint64_t
cl_ident(const uint8_t *b)
{
	static const uint8_t zero[CL_BLOCK];
	uint8_t want[CL_BLOCK];
	uint64_t i;

	if (memcmp(b, zero, CL_BLOCK) == 0)
		return 0;
	memcpy(&i, b, 8);
	cl_fill(want, i);
	return memcmp(b, want, CL_BLOCK) == 0 ? i : UINT64_MAX;
}

static int
cl_check(const char *path, uint64_t blocks, uint64_t acked)
{
	uint64_t *have = calloc(blocks, 8), *last = calloc(blocks, 8), p = 0, s, i;
	uint8_t b[CL_BLOCK];
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !have || !last) {
		perror(path);
		return 2;
	}
	for (s = 0; s < blocks; s++) {
		if (pread(fd, b, CL_BLOCK, (off_t)(s * CL_BLOCK)) != CL_BLOCK) {
			perror("pread");
			return 2;
		}
		have[s] = cl_ident(b);
		if (have[s] == UINT64_MAX) {
			printf("slot %" PRIu64 ": garbage\n", s);
			return 1;
		}
		if (have[s] > p)
			p = have[s];
	}
	for (i = 1; i <= p; i++)
		last[cl_slot(i, blocks)] = i;
	for (s = 0; s < blocks; s++) {
		if (have[s] != last[s]) {
			printf("slot %" PRIu64 ": holds write %" PRIu64 ", prefix %" PRIu64
			       " needs %" PRIu64 "\n", s, have[s], p, last[s]);
			return 1;
		}
	}
	if (p < acked) {
		printf("lost acknowledged writes: prefix %" PRIu64 " < acked %" PRIu64 "\n",
		       p, acked);
		return 1;
	}
	printf("prefix %" PRIu64 " acked %" PRIu64 " ok\n", p, acked);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "write") == 0)
		return cl_write(argv[2], strtoull(argv[3], NULL, 0),
				argc > 4 ? strtoull(argv[4], NULL, 0) : 1,
				argc > 5 ? strtoull(argv[5], NULL, 0) : 1);
	if (argc == 5 && strcmp(argv[1], "check") == 0)
		return cl_check(argv[2], strtoull(argv[3], NULL, 0),
				strtoull(argv[4], NULL, 0));
	fputs("usage: engine-crashload write FILE BLOCKS [SYNC_EVERY [FIRST]]\n"
	      "       engine-crashload check FILE BLOCKS ACKED\n", stderr);
	return 2;
}
