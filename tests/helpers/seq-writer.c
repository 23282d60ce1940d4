// SPDX-License-Identifier: GPL-2.0-only
/*
 * seq-writer: the workload, the oracle and the checkpoint recorder of
 * the power-loss test (tests/vm/guest/powerloss-kmod.bash for the
 * module, powerloss-engine.bash for the userspace engine, which
 * publishes its applied position itself and needs no recorder).
 *
 * Each boot of that test is one phase.  Its writes are a deterministic
 * sequence: the PRNG seeded from (SEED, PHASE) gives write SEQ its block
 * and its kind, so the oracle regenerates what any phase wrote from two
 * numbers and the count of acknowledged writes, and needs no log of its
 * own that a power loss could cut.
 *
 *   seq-writer write DEV SEED PHASE REGION_BYTES ACKFILE
 *       O_DIRECT 4 KiB writes 1, 2, ... to blocks of the first
 *       REGION_BYTES of DEV, each stamped (below); one in twenty is
 *       followed by fsync(), one in twenty is written with RWF_DSYNC
 *       (FUA), the rest are plain: a power cut then falls as often
 *       between plain writes as inside a sync.  After each fsync or DSYNC write returns it
 *       appends "SEQ\n" to ACKFILE and syncs that.  Runs until killed.
 *   seq-writer check DEV SEED REGION_BYTES ACKS
 *       ACKS holds "PHASE SEQ" lines, the last acknowledged write of each
 *       earlier phase.  Every block must hold the last acknowledged write
 *       to it (over all phases) or a later write to it, zeros if none was
 *       ever acknowledged, and never a write aimed at another block.
 *   seq-writer diff DEV_A DEV_B REGION_BYTES
 *       names the blocks that differ, with the write each one holds.
 *   seq-writer checkpoint RES FILE
 *       clusterd's replay link, emulated: every 100 ms reads the
 *       resource's STATUS and, when it moved, stores
 *       "APPLIED_LOGFILE APPLIED_POS\n" in FILE durably (temporary file,
 *       fsync, rename, fsync of the directory).  Runs until killed.
 *
 * A block (4096 bytes, little endian):
 *
 *   0      8      16     20     24     32     40                 4096
 *   +------+------+------+------+------+------+---------------------+
 *   |magic | seed |phase | rsvd | seq  |offset| fill(seed, seq)     |
 *   +------+------+------+------+------+------+---------------------+
 *
 * Exit status: 0 good, 1 the property does not hold (why is printed),
 * 2 usage, I/O or system error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pwritev2, RWF_DSYNC */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mars/ctl.h"
#include "mars/le.h"

#define SW_BLOCK	4096
#define SW_HDR_BYTES	40
#define SW_MAGIC	0x31574c504352414dULL	/* "MARCPLW1" */
#define SW_MAX_PHASES	1000
#define SW_MAX_SEQ	(1ULL << 24)
#define SW_KIND_FSYNC	0
#define SW_KIND_DSYNC	1
#define SW_KINDS	20	/* one fsync and one DSYNC in SW_KINDS */
#define SW_POLL_NS	100000000L
#define SW_REPORT_MAX	10

/* What a block holds: phase 0 is a zero (never written) block. */
struct sw_stamp {
	uint32_t phase;
	uint64_t seq;
};

/* The writes of one phase, regenerated: blocks[seq - 1]. */
struct sw_phase {
	uint64_t seed;
	uint64_t acked;		/* last acknowledged seq, 0 if none */
	uint64_t count;		/* writes regenerated */
	uint32_t *blocks;
};

static int
error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
error(const char *fmt, ...)
{
	va_list ap;

	fputs("seq-writer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static uint64_t
sw_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
sw_phase_seed(uint64_t seed, uint32_t phase)
{
	uint64_t s = seed ^ ((uint64_t)phase << 32);

	return sw_next(&s);
}

/* Write SEQ of a phase: its block and its kind, from the phase's stream. */
static void
sw_draw(uint64_t *state, uint64_t nblocks, uint32_t *block, unsigned *kind)
{
	*block = (uint32_t)(sw_next(state) % nblocks);
	*kind = (unsigned)(sw_next(state) % SW_KINDS);
}

static void
sw_fill(uint8_t *b, uint64_t pseed, uint32_t phase, uint64_t seq,
	uint32_t block)
{
	uint64_t state = pseed ^ (seq * 0xd6e8feb86659fd93ULL);
	size_t k;

	mars_put_le64(b, SW_MAGIC);
	mars_put_le64(b + 8, pseed);
	mars_put_le32(b + 16, phase);
	mars_put_le32(b + 20, 0);
	mars_put_le64(b + 24, seq);
	mars_put_le64(b + 32, (uint64_t)block * SW_BLOCK);
	for (k = SW_HDR_BYTES; k < SW_BLOCK; k += 8)
		mars_put_le64(b + k, sw_next(&state));
}

static int
sw_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int
sw_region(const char *s, uint64_t *nblocks)
{
	uint64_t bytes;

	if (sw_parse_u64(s, &bytes) || bytes < SW_BLOCK ||
	    bytes % SW_BLOCK || bytes / SW_BLOCK > UINT32_MAX)
		return -1;
	*nblocks = bytes / SW_BLOCK;
	return 0;
}

static int
sw_ack(int afd, uint64_t seq)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", seq);

	if (write(afd, line, (size_t)n) != n || fdatasync(afd))
		return error("cannot record ack %" PRIu64 ": %s", seq,
			     strerror(errno));
	return 0;
}

/* One write; 0, or 2 on error (the writer stops: the test sees it). */
static int
sw_write_one(int fd, int afd, uint8_t *b, uint64_t seq, uint32_t block,
	     unsigned kind)
{
	struct iovec iov = { .iov_base = b, .iov_len = SW_BLOCK };
	off_t off = (off_t)block * SW_BLOCK;
	ssize_t n;

	n = pwritev2(fd, &iov, 1, off, kind == SW_KIND_DSYNC ? RWF_DSYNC : 0);
	if (n != SW_BLOCK)
		return error("write %" PRIu64 " at %jd: %s", seq, (intmax_t)off,
			     n < 0 ? strerror(errno) : "short write");
	if (kind == SW_KIND_FSYNC && fsync(fd))
		return error("fsync after write %" PRIu64 ": %s", seq,
			     strerror(errno));
	if (kind == SW_KIND_FSYNC || kind == SW_KIND_DSYNC)
		return sw_ack(afd, seq);
	return 0;
}

static int
cmd_write(int argc, char **argv)
{
	uint64_t seed, phase, nblocks, state, pseed, seq;
	unsigned kind;
	uint32_t block;
	int fd, afd, ret;
	void *b;

	if (argc != 7 || sw_parse_u64(argv[3], &seed) ||
	    sw_parse_u64(argv[4], &phase) || phase == 0 ||
	    phase > SW_MAX_PHASES || sw_region(argv[5], &nblocks))
		return error("usage: write DEV SEED PHASE REGION_BYTES ACKFILE");
	if (posix_memalign(&b, SW_BLOCK, SW_BLOCK))
		return error("out of memory");
	fd = open(argv[2], O_WRONLY | O_DIRECT);
	if (fd < 0)
		return error("cannot open '%s': %s", argv[2], strerror(errno));
	afd = open(argv[6], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (afd < 0)
		return error("cannot open '%s': %s", argv[6], strerror(errno));
	pseed = sw_phase_seed(seed, (uint32_t)phase);
	state = pseed;
	ret = 0;
	for (seq = 1; seq < SW_MAX_SEQ && !ret; seq++) {
		sw_draw(&state, nblocks, &block, &kind);
		sw_fill(b, pseed, (uint32_t)phase, seq, block);
		ret = sw_write_one(fd, afd, b, seq, block, kind);
	}
	return ret ? ret : error("write: %llu writes and still not killed",
				 SW_MAX_SEQ);
}

/* Decode a block: 0 with its stamp, or -1 if it is no valid write. */
static int
sw_decode(const uint8_t *b, uint64_t seed, uint32_t block,
	  struct sw_stamp *st, uint8_t *scratch)
{
	static const uint8_t zero[SW_BLOCK];
	uint64_t seq;
	uint32_t phase;

	if (!memcmp(b, zero, SW_BLOCK)) {
		st->phase = 0;
		st->seq = 0;
		return 0;
	}
	phase = mars_get_le32(b + 16);
	seq = mars_get_le64(b + 24);
	if (mars_get_le64(b) != SW_MAGIC || phase == 0 ||
	    phase > SW_MAX_PHASES || seq == 0 || seq >= SW_MAX_SEQ ||
	    mars_get_le64(b + 32) != (uint64_t)block * SW_BLOCK)
		return -1;
	sw_fill(scratch, sw_phase_seed(seed, phase), phase, seq, block);
	if (memcmp(b, scratch, SW_BLOCK))
		return -1;
	st->phase = phase;
	st->seq = seq;
	return 0;
}

static int
sw_stamp_cmp(const struct sw_stamp *a, const struct sw_stamp *b)
{
	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* Regenerate phase @p's blocks up to @count writes. */
static int
sw_phase_grow(struct sw_phase *p, uint64_t nblocks, uint64_t count)
{
	uint64_t state = p->seed, i;
	uint32_t *blocks;
	unsigned kind;

	if (count <= p->count)
		return 0;
	blocks = realloc(p->blocks, count * sizeof(*blocks));
	if (!blocks)
		return error("out of memory");
	p->blocks = blocks;
	for (i = 0; i < count; i++)
		sw_draw(&state, nblocks, &p->blocks[i], &kind);
	p->count = count;
	return 0;
}

static int
sw_read_acks(const char *path, uint64_t seed, struct sw_phase *phases,
	     uint32_t *nphases)
{
	unsigned long long seq;
	unsigned phase;
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return error("cannot open '%s': %s", path, strerror(errno));
	*nphases = 0;
	while ((n = fscanf(f, "%u %llu", &phase, &seq)) == 2) {
		if (phase != *nphases + 1 || phase >= SW_MAX_PHASES ||
		    seq >= SW_MAX_SEQ) {
			fclose(f);
			return error("'%s': bad line for phase %u", path, phase);
		}
		phases[phase].seed = sw_phase_seed(seed, phase);
		phases[phase].acked = seq;
		*nphases = phase;
	}
	fclose(f);
	return n == EOF ? 0 : error("'%s': not \"PHASE SEQ\" lines", path);
}

/* The last acknowledged write to each block, over all phases. */
static int
sw_expected(struct sw_phase *phases, uint32_t nphases, uint64_t nblocks,
	    struct sw_stamp *want)
{
	uint64_t s;
	uint32_t p;
	int ret;

	memset(want, 0, nblocks * sizeof(*want));
	for (p = 1; p <= nphases; p++) {
		ret = sw_phase_grow(&phases[p], nblocks, phases[p].acked);
		if (ret)
			return ret;
		for (s = 1; s <= phases[p].acked; s++) {
			want[phases[p].blocks[s - 1]].phase = p;
			want[phases[p].blocks[s - 1]].seq = s;
		}
	}
	return 0;
}

static int
sw_read_all(const char *path, uint64_t nblocks, uint8_t **data)
{
	size_t len = nblocks * SW_BLOCK, done = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	*data = malloc(len);
	if (!*data) {
		close(fd);
		return error("out of memory");
	}
	while (done < len && (n = pread(fd, *data + done, len - done,
					(off_t)done)) > 0)
		done += (size_t)n;
	close(fd);
	return done == len ? 0 : error("'%s': short read", path);
}

/* One block against what was acknowledged; 0 good, 1 bad (printed). */
static int
sw_check_block(struct sw_phase *phases, uint32_t nphases, uint64_t nblocks,
	       uint32_t block, const struct sw_stamp *have,
	       const struct sw_stamp *want)
{
	struct sw_phase *p = &phases[have->phase];

	if (have->phase > nphases) {
		printf("block %u: holds phase %u seq %" PRIu64
		       ", a phase that has not run\n", block, have->phase,
		       have->seq);
		return 1;
	}
	if (sw_stamp_cmp(have, want) < 0) {
		printf("block %u: acknowledged write phase %u seq %" PRIu64
		       " lost, holds phase %u seq %" PRIu64 "\n", block,
		       want->phase, want->seq, have->phase, have->seq);
		return 1;
	}
	if (!have->phase)
		return 0;
	if (sw_phase_grow(p, nblocks, have->seq))
		return 1;
	if (p->blocks[have->seq - 1] != block) {
		printf("block %u: holds phase %u seq %" PRIu64
		       ", which wrote block %u\n", block, have->phase,
		       have->seq, p->blocks[have->seq - 1]);
		return 1;
	}
	return 0;
}

static int
sw_check(const char *dev, uint64_t seed, uint64_t nblocks, const char *acks)
{
	static struct sw_phase phases[SW_MAX_PHASES];
	uint64_t b, constrained = 0, later = 0, bad = 0;
	struct sw_stamp *want = NULL, have;
	uint8_t *data = NULL, scratch[SW_BLOCK];
	uint32_t nphases = 0, p;
	int ret;

	ret = sw_read_acks(acks, seed, phases, &nphases);
	if (ret)
		goto out;
	want = calloc(nblocks, sizeof(*want));
	ret = want ? sw_expected(phases, nphases, nblocks, want) :
		error("out of memory");
	if (ret)
		goto out;
	ret = sw_read_all(dev, nblocks, &data);
	if (ret)
		goto out;
	for (b = 0; b < nblocks; b++) {
		if (sw_decode(data + b * SW_BLOCK, seed, (uint32_t)b, &have,
			      scratch)) {
			if (bad++ < SW_REPORT_MAX)
				printf("block %" PRIu64 ": not a valid write\n", b);
			continue;
		}
		constrained += want[b].phase != 0;
		later += sw_stamp_cmp(&have, &want[b]) > 0;
		if (sw_check_block(phases, nphases, nblocks, (uint32_t)b,
				   &have, &want[b]) && bad++ >= SW_REPORT_MAX)
			break;
	}
	printf("blocks %" PRIu64 " acknowledged %" PRIu64 " later %" PRIu64
	       " bad %" PRIu64 " phases %u\n", nblocks, constrained, later,
	       bad, nphases);
	ret = bad ? 1 : 0;
out:
	for (p = 1; p < SW_MAX_PHASES; p++)
		free(phases[p].blocks);
	free(want);
	free(data);
	return ret;
}

static int
cmd_check(int argc, char **argv)
{
	uint64_t seed, nblocks;

	if (argc != 6 || sw_parse_u64(argv[3], &seed) ||
	    sw_region(argv[4], &nblocks))
		return error("usage: check DEV SEED REGION_BYTES ACKS");
	return sw_check(argv[2], seed, nblocks, argv[5]);
}

static void
sw_describe(char *out, size_t len, const uint8_t *b, uint32_t block)
{
	static const uint8_t zero[SW_BLOCK];

	if (!memcmp(b, zero, SW_BLOCK))
		snprintf(out, len, "zeros");
	else if (mars_get_le64(b) != SW_MAGIC ||
		 mars_get_le64(b + 32) != (uint64_t)block * SW_BLOCK)
		snprintf(out, len, "garbage");
	else
		snprintf(out, len, "phase %u seq %" PRIu64,
			 mars_get_le32(b + 16), mars_get_le64(b + 24));
}

static int
cmd_diff(int argc, char **argv)
{
	uint8_t *a = NULL, *b = NULL;
	char da[64], db[64];
	uint64_t nblocks, i, differ = 0;
	int ret;

	if (argc != 5 || sw_region(argv[4], &nblocks))
		return error("usage: diff DEV_A DEV_B REGION_BYTES");
	ret = sw_read_all(argv[2], nblocks, &a);
	if (!ret)
		ret = sw_read_all(argv[3], nblocks, &b);
	for (i = 0; !ret && i < nblocks; i++) {
		if (!memcmp(a + i * SW_BLOCK, b + i * SW_BLOCK, SW_BLOCK))
			continue;
		if (differ++ >= SW_REPORT_MAX)
			continue;
		sw_describe(da, sizeof(da), a + i * SW_BLOCK, (uint32_t)i);
		sw_describe(db, sizeof(db), b + i * SW_BLOCK, (uint32_t)i);
		printf("block %" PRIu64 ": %s has %s, %s has %s\n", i, argv[2],
		       da, argv[3], db);
	}
	if (!ret)
		printf("blocks %" PRIu64 " differ %" PRIu64 "\n", nblocks, differ);
	free(a);
	free(b);
	return ret ? ret : differ ? 1 : 0;
}

/* Store "LOGFILE POS\n" in @path as a rename of a synced file. */
static int
sw_store(const char *path, const char *logfile, uint64_t pos)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return error("cannot create '%s': %s", tmp, strerror(errno));
	if (dprintf(fd, "%s %" PRIu64 "\n", logfile, pos) < 0 || fsync(fd))
		ret = error("cannot write '%s': %s", tmp, strerror(errno));
	close(fd);
	if (ret)
		return ret;
	if (rename(tmp, path))
		return error("cannot rename '%s': %s", tmp, strerror(errno));
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd))
		ret = error("cannot sync the directory of '%s': %s", path,
			    strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int
cmd_checkpoint(int argc, char **argv)
{
	const struct timespec poll = { .tv_nsec = SW_POLL_NS };
	struct mars_ctl_status st;
	char last[MARS_CTL_LOGNAME_LEN] = "";
	uint64_t last_pos = 0;
	int fd, ret;

	if (argc != 4 || strlen(argv[2]) >= sizeof(st.resource))
		return error("usage: checkpoint RES FILE");
	fd = open("/dev/" MARS_CTL_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error("cannot open the control device: %s",
			     strerror(errno));
	for (;;) {
		memset(&st, 0, sizeof(st));
		strcpy(st.resource, argv[2]);
		if (ioctl(fd, MARS_CTL_IOC_STATUS, &st))
			return error("status of '%s': %s", argv[2],
				     strerror(errno));
		st.applied_logfile[sizeof(st.applied_logfile) - 1] = '\0';
		if (st.applied_logfile[0] &&
		    (strcmp(st.applied_logfile, last) ||
		     st.applied_pos != last_pos)) {
			ret = sw_store(argv[3], st.applied_logfile,
				       st.applied_pos);
			if (ret)
				return ret;
			strcpy(last, st.applied_logfile);
			last_pos = st.applied_pos;
		}
		nanosleep(&poll, NULL);
	}
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "write", cmd_write },
	{ "check", cmd_check },
	{ "diff", cmd_diff },
	{ "checkpoint", cmd_checkpoint },
};

int
main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc, argv);
	return error("usage: seq-writer write|check|diff|checkpoint ...");
}
