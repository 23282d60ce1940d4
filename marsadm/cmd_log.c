/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log tools: `log-dump` prints a logfile record by record, `log-verify`
 * judges it.  Both walk the file with the same reader and classify the
 * stop the same way, so the exit status of one always agrees with the
 * other and with what replay would do (docs/logfile-format.md, section 5):
 *
 *   end                          MX_OK       every byte is a valid record
 *   incomplete                   MX_TAIL     the file ends inside a record
 *   torn, nothing valid after    MX_TAIL     an unfinished write at the end
 *   torn with valid records after,
 *   corrupt, sequence-gap        MX_CORRUPT  damage replay must stop at
 *
 * The human text goes to stdout, the diagnosis of a damaged file to
 * stderr with a hint; --json prints one JSON object per line instead.
 */
#include "marsadm/marsadm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/logreader.h"

/* Where and why a walk over a logfile ended. */
struct log_summary {
	const char *file;
	struct logreader_rec stop;	/* the final scan result */
	uint64_t records;		/* valid records before the stop */
	uint64_t expect_seq;		/* what the stop record had to carry */
	int resumes;			/* a valid record follows a damaged one */
	uint64_t resume_at;		/* ... at this file offset */
	int code;			/* MX_* verdict */
};

typedef int (*log_record_fn)(const struct marsadm_ctx *ctx, const struct logreader_rec *r);

static const char *const log_reason_text[MARS_REASON_COUNT] = {
	[MARS_REASON_SHORT]		= "the file ends inside a record",
	[MARS_REASON_ZEROED]		= "zeros where a record should start",
	[MARS_REASON_NO_MARKER]		= "the record's validity marker was never written",
	[MARS_REASON_BAD_MAGIC]		= "no record starts here, the start magic is wrong",
	[MARS_REASON_BAD_VERSION]	= "the record has a format version this marsadm does not know",
	[MARS_REASON_BAD_HDRLEN]	= "the header length field is wrong",
	[MARS_REASON_BAD_FLAGS]		= "the record has unknown flag bits set",
	[MARS_REASON_BAD_LENGTH]	= "the record's length fields are impossible or inconsistent",
	[MARS_REASON_BAD_RESERVED]	= "reserved header fields are not zero",
	[MARS_REASON_BAD_END_MAGIC]	= "the trailer's end magic is wrong",
	[MARS_REASON_BAD_LENGTH_COPY]	= "the trailer's length copy differs from the header",
	[MARS_REASON_BAD_MARKER]	= "the validity marker holds a wrong value",
	[MARS_REASON_BAD_PADDING]	= "the payload padding is not zero",
	[MARS_REASON_BAD_CHECKSUM]	= "the checksum does not match the record's contents",
	[MARS_REASON_SEQ_FORWARD]	= "records are missing before this one",
	[MARS_REASON_SEQ_BACKWARD]	= "the record's sequence number repeats an earlier one",
};

static const char *
log_reason_explained(enum mars_scan_reason reason)
{
	if (reason <= MARS_REASON_NONE || reason >= MARS_REASON_COUNT || !log_reason_text[reason])
		return "unknown reason";
	return log_reason_text[reason];
}

static int
log_open(struct logreader *lr, const char *file)
{
	int ret = logreader_open(lr, file);

	if (ret == 0)
		return MX_OK;
	if (ret == -EISDIR) {
		fail(MX_USAGE, "'%s' is a directory, not a logfile", file);
		hint("name one logfile, e.g. '%s/log-000000001-HOST'", file);
		return MX_USAGE;
	}
	if (ret == -EINVAL) {
		fail(MX_USAGE, "'%s' is neither a regular file nor a block device", file);
		hint("copy the logfile to a regular file first");
		return MX_USAGE;
	}
	if (ret == -ENOENT) {
		fail(MX_NOENT, "cannot open '%s': %s", file, strerror(-ret));
		hint("check the path; a resource's logfiles are ROOT/resource-RES/log-NNNNNNNNN-HOST");
		return MX_NOENT;
	}
	fail(MX_IO, "cannot open '%s': %s", file, strerror(-ret));
	if (ret == -EACCES)
		hint("run as root or make the file readable");
	return MX_IO;
}

static int
log_verdict(const struct log_summary *s)
{
	switch (s->stop.result) {
	case MARS_SCAN_END:
		return MX_OK;
	case MARS_SCAN_INCOMPLETE:
		return MX_TAIL;
	case MARS_SCAN_TORN:
		return s->resumes ? MX_CORRUPT : MX_TAIL;
	default:
		return MX_CORRUPT;
	}
}

/* Walk @lr to its stop, calling @each per record; returns MX_OK or MX_IO. */
static int
log_walk(const struct marsadm_ctx *ctx, struct logreader *lr, struct log_summary *s,
	 log_record_fn each)
{
	int ret;

	for (;;) {
		s->expect_seq = lr->expect_seq;
		ret = logreader_next(lr, &s->stop);
		if (ret)
			goto out_io;
		if (s->stop.result != MARS_SCAN_RECORD)
			break;
		if (each && (ret = each(ctx, &s->stop)))
			return ret;
	}
	s->records = lr->records;
	if (s->stop.result == MARS_SCAN_TORN || s->stop.result == MARS_SCAN_CORRUPT) {
		ret = logreader_find_record(lr, s->stop.offset + 1, &s->resume_at);
		if (ret < 0)
			goto out_io;
		s->resumes = ret;
	}
	s->code = log_verdict(s);
	return MX_OK;

out_io:
	return fail(MX_IO, "cannot read '%s' at offset %" PRIu64 ": %s", s->file,
		    lr->pos, strerror(-ret));
}

static void
log_format_stamp(uint64_t stamp_ns, char *buf, size_t size)
{
	time_t sec = (time_t)(stamp_ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&sec, &tm) || !(n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, size, "%" PRIu64 "ns", stamp_ns);
		return;
	}
	snprintf(buf + n, size - n, ".%09" PRIu64 "Z", (uint64_t)(stamp_ns % 1000000000U));
}

/* The stop in one line: "corrupt at offset 88 (bad-checksum): 1 record; ...". */
static void
log_stop_text(const struct log_summary *s, char *buf, size_t size)
{
	const struct logreader_rec *r = &s->stop;
	int n;

	n = snprintf(buf, size, "%s at offset %" PRIu64, mars_scan_result_name(r->result), r->offset);
	if (r->rec.reason != MARS_REASON_NONE)
		n += snprintf(buf + n, size - n, " (%s)", mars_scan_reason_name(r->rec.reason));
	n += snprintf(buf + n, size - n, ": %" PRIu64 " record%s", s->records,
		      s->records == 1 ? "" : "s");
	if (r->result == MARS_SCAN_END && r->offset == 0)
		n += snprintf(buf + n, size - n, " (empty logfile)");
	if (r->result == MARS_SCAN_SEQ_GAP)
		n += snprintf(buf + n, size - n, "; found sequence number %" PRIu64
			      ", expected %" PRIu64, r->rec.hdr.seq, s->expect_seq);
	if (r->result == MARS_SCAN_TORN || r->result == MARS_SCAN_CORRUPT)
		snprintf(buf + n, size - n, s->resumes ? "; valid records resume at offset %"
			 PRIu64 : "; nothing valid follows", s->resume_at);
}

/* The diagnosis of a damaged file, on stderr. */
static void
log_diagnose(const struct log_summary *s)
{
	const struct logreader_rec *r = &s->stop;
	const char *why = log_reason_explained(r->rec.reason);

	if (s->code == MX_OK)
		return;
	if (s->code == MX_TAIL) {
		fail(MX_TAIL, "'%s' ends in an unfinished record at offset %" PRIu64 ": %s (%s)",
		     s->file, r->offset, why, mars_scan_reason_name(r->rec.reason));
		hint("normal while the file is being written or fetched; after a crash, "
		     "replay ignores this tail");
		return;
	}
	fail(MX_CORRUPT, "'%s' is damaged at offset %" PRIu64 ": %s (%s)", s->file,
	     r->offset, why, mars_scan_reason_name(r->rec.reason));
	if (r->offset == 0 && r->rec.reason == MARS_REASON_BAD_MAGIC && !s->resumes) {
		hint("this is not a MARS logfile (format version %d), or its start is destroyed",
		     MARS_REC_VERSION);
		return;
	}
	hint("replay applies nothing from offset %" PRIu64 " on; 'marsadm log-dump' shows "
	     "the %" PRIu64 " valid record%s before it", r->offset, s->records,
	     s->records == 1 ? "" : "s");
}

static struct json_object *
log_json_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static struct json_object *
log_json_summary(const struct log_summary *s)
{
	const struct logreader_rec *r = &s->stop;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string("summary"));
	json_object_object_add(o, "file", json_object_new_string(s->file));
	json_object_object_add(o, "verdict", json_object_new_string(mx_name(s->code)));
	json_object_object_add(o, "exit_code", json_object_new_int(s->code));
	json_object_object_add(o, "result", json_object_new_string(mars_scan_result_name(r->result)));
	json_object_object_add(o, "reason", r->rec.reason == MARS_REASON_NONE ? NULL :
			       json_object_new_string(mars_scan_reason_name(r->rec.reason)));
	json_object_object_add(o, "offset", log_json_u64(r->offset));
	json_object_object_add(o, "records", log_json_u64(s->records));
	json_object_object_add(o, "expected_seq", log_json_u64(s->expect_seq));
	json_object_object_add(o, "found_seq", r->result == MARS_SCAN_SEQ_GAP ?
			       log_json_u64(r->rec.hdr.seq) : NULL);
	json_object_object_add(o, "resume_offset", s->resumes ? log_json_u64(s->resume_at) : NULL);
	return o;
}

static int
log_dump_record_json(const struct marsadm_ctx *ctx, const struct logreader_rec *r)
{
	const struct mars_rec *rec = &r->rec;
	struct json_object *o = json_object_new_object();
	char stamp[64], sum[24];

	log_format_stamp(rec->hdr.stamp_ns, stamp, sizeof(stamp));
	snprintf(sum, sizeof(sum), "0x%016" PRIx64, rec->checksum);
	json_object_object_add(o, "kind", json_object_new_string("record"));
	json_object_object_add(o, "offset", log_json_u64(r->offset));
	json_object_object_add(o, "length", log_json_u64(rec->rec_len));
	json_object_object_add(o, "seq", log_json_u64(rec->hdr.seq));
	json_object_object_add(o, "dev_offset", log_json_u64(rec->hdr.dev_off));
	json_object_object_add(o, "data_len", log_json_u64(rec->hdr.data_len));
	json_object_object_add(o, "stored_len", log_json_u64(rec->hdr.stored_len));
	json_object_object_add(o, "stamp_ns", log_json_u64(rec->hdr.stamp_ns));
	json_object_object_add(o, "stamp", json_object_new_string(stamp));
	json_object_object_add(o, "flags", json_object_new_int64(rec->hdr.flags));
	json_object_object_add(o, "checksum", json_object_new_string(sum));
	json_object_object_add(o, "checksum_ok", json_object_new_boolean(1));
	return print_json(o);
}

#define LOG_DUMP_HEADER "%12s %10s %16s %8s  %-30s %-18s %s\n"

static int
log_dump_record_text(const struct marsadm_ctx *ctx, const struct logreader_rec *r)
{
	const struct mars_rec *rec = &r->rec;
	char stamp[64];

	log_format_stamp(rec->hdr.stamp_ns, stamp, sizeof(stamp));
	printf("%12" PRIu64 " %10" PRIu64 " %16" PRIu64 " %8" PRIu32 "  %-30s 0x%016" PRIx64 " ok\n",
	       r->offset, rec->hdr.seq, rec->hdr.dev_off, rec->hdr.data_len, stamp, rec->checksum);
	return MX_OK;
}

/*
 * Scan @file and report where the scan stops; @dump prints each record
 * (log-dump), NULL prints only the verdict (log-verify).  Exits with the
 * verdict's code.
 */
static int
log_check(const struct marsadm_ctx *ctx, const char *file, log_record_fn dump)
{
	struct log_summary s = { .file = file };
	struct logreader lr;
	char line[256];
	int ret;

	ret = log_open(&lr, s.file);
	if (ret)
		return ret;
	if (dump && !ctx->json)
		printf(LOG_DUMP_HEADER, "OFFSET", "SEQ", "DEV_OFFSET", "LEN", "STAMP",
		       "CHECKSUM", "STATE");
	ret = log_walk(ctx, &lr, &s, dump);
	logreader_close(&lr);
	if (ret)
		return ret;
	if (ctx->json) {
		ret = print_json(log_json_summary(&s));
	} else {
		log_stop_text(&s, line, sizeof(line));
		if (dump)
			printf("stop: %s\n", line);
		else
			printf("%s: %s, %s\n", s.file, mx_name(s.code), line);
	}
	log_diagnose(&s);
	return ret ? ret : s.code;
}

static int
cmd_log_dump(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return log_check(ctx, argv[1], ctx->json ? log_dump_record_json : log_dump_record_text);
}

static int
cmd_log_verify(struct marsadm_ctx *ctx, int argc, char **argv)
{
	return log_check(ctx, argv[1], NULL);
}

const struct cmd cmds_log[] = {
	{ .name = "log-dump", .fn = cmd_log_dump, .flags = CMD_OPT_JSON, .usage = "FILE",
	  .help = "print the records of a logfile and where its scan stops" },
	{ .name = "log-verify", .fn = cmd_log_verify, .flags = CMD_OPT_JSON, .usage = "FILE",
	  .help = "check a logfile; the exit status says whether and how it is damaged" },
	{ .name = NULL },
};
