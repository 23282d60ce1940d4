// SPDX-License-Identifier: GPL-2.0-only
/*
 * forge-log: write a valid MARS logfile with deterministic content, for
 * tests.  Corruption is left to the tests themselves (dd on a copy), so
 * that this tool only ever produces what a correct writer produces.
 *
 *   forge-log OUT --vector                  the canonical test vector
 *   forge-log OUT [--records N] [--payload BYTES] [--dev-size BYTES]
 *                 [--seed S] [--start-seq N] [--unmarked-last]
 *   ... [--manifest FILE]                   one line per record:
 *                                           offset seq dev_off len stamp
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forge.h"

struct forge_opts {
	const char *out;
	const char *manifest;
	unsigned int records;
	uint32_t payload;
	uint64_t dev_bytes;
	uint64_t seed;
	uint64_t start_seq;
	int vector;
	int unmarked_last;
};

static void
forge_usage(void)
{
	fputs("usage: forge-log OUT [--vector] [--records N] [--payload BYTES]\n"
	      "                 [--dev-size BYTES] [--seed S] [--start-seq N]\n"
	      "                 [--unmarked-last] [--manifest FILE]\n", stderr);
	exit(2);
}

static uint64_t
forge_number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		forge_usage();
	return v;
}

static void
forge_parse(int argc, char **argv, struct forge_opts *o)
{
	static const struct option longopts[] = {
		{ "vector", no_argument, NULL, 'v' },
		{ "records", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' },
		{ "dev-size", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "start-seq", required_argument, NULL, 'q' },
		{ "unmarked-last", no_argument, NULL, 'u' },
		{ "manifest", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': o->vector = 1; break;
		case 'n': o->records = (unsigned int)forge_number(optarg); break;
		case 'p': o->payload = (uint32_t)forge_number(optarg); break;
		case 'd': o->dev_bytes = forge_number(optarg); break;
		case 's': o->seed = forge_number(optarg); break;
		case 'q': o->start_seq = forge_number(optarg); break;
		case 'u': o->unmarked_last = 1; break;
		case 'm': o->manifest = optarg; break;
		default: forge_usage();
		}
	}
	if (optind != argc - 1 || o->payload > MARS_REC_MAX_PAYLOAD ||
	    o->start_seq == 0)
		forge_usage();
	o->out = argv[optind];
	if (o->vector)
		o->records = FORGE_VECTOR_RECORDS;
}

static void
forge_one(const struct forge_opts *o, unsigned int i, struct mars_rec_hdr *hdr,
	  uint8_t *payload)
{
	if (o->vector)
		forge_vector_hdr(i, hdr);
	else
		forge_generic_hdr(i, o->payload, o->dev_bytes, o->seed, hdr);
	hdr->seq = o->start_seq + i - 1;
	forge_fill(payload, hdr->stored_len, forge_payload_seed(i, o->seed));
}

int
main(int argc, char **argv)
{
	struct forge_opts o = { .records = 16, .payload = 4096,
				.dev_bytes = 64 << 20, .seed = 1, .start_seq = 1 };
	uint8_t *payload, *rec;
	FILE *out, *man = NULL;
	uint64_t offset = 0;
	unsigned int i;

	forge_parse(argc, argv, &o);
	payload = malloc(MARS_REC_MAX_PAYLOAD);
	rec = malloc(MARS_REC_MAX_BYTES);
	out = fopen(o.out, "wb");
	if (o.manifest)
		man = fopen(o.manifest, "w");
	if (!payload || !rec || !out || (o.manifest && !man)) {
		perror("forge-log");
		return 1;
	}
	for (i = 1; i <= o.records; i++) {
		struct mars_rec_hdr hdr;
		int mark = !(o.unmarked_last && i == o.records);
		long len;

		forge_one(&o, i, &hdr, payload);
		len = mars_rec_encode(rec, MARS_REC_MAX_BYTES, &hdr, payload, mark);
		if (len < 0 || fwrite(rec, 1, (size_t)len, out) != (size_t)len) {
			fprintf(stderr, "forge-log: cannot write record %u\n", i);
			return 1;
		}
		if (man)
			fprintf(man, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %u %" PRIu64 "\n",
				offset, hdr.seq, hdr.dev_off, hdr.data_len,
				hdr.stamp_ns);
		offset += (uint64_t)len;
	}
	if (fclose(out) || (man && fclose(man))) {
		perror("forge-log");
		return 1;
	}
	free(payload);
	free(rec);
	return 0;
}
