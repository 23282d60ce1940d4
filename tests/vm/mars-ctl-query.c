// SPDX-License-Identifier: GPL-2.0-only
/*
 * mars-ctl-query: talk to /dev/mars-control from the VM tests.
 *
 * A test helper, not a tool: it speaks the raw ioctl ABI of
 * include/mars/ctl.h, including deliberately wrong requests, so that the
 * guest tests can check the module's answers to exactly the bytes a
 * client sends.  marsadm will carry the real client.
 *
 *   mars-ctl-query version            print what the module speaks
 *   mars-ctl-query selftest [--run]   print (or re-run) the self-test
 *   mars-ctl-query probe SIZE [dirty] VERSION request with a SIZE-byte
 *                                     struct, a nonzero byte past the
 *                                     known layout when "dirty"
 *   mars-ctl-query probe-flags        VERSION request with flags set
 *   mars-ctl-query probe-nr NR        request number NR, VERSION layout
 *   mars-ctl-query attach RES DISK DIR [SIZE [PENDING_MIB]]
 *   mars-ctl-query detach RES
 *   mars-ctl-query primary RES HOST [LOGFILE POS | --first N]
 *   mars-ctl-query replay RES LOGFILE [POS [SEQ]]
 *   mars-ctl-query rotate RES
 *   mars-ctl-query status RES          every field, one "key value" line
 *   mars-ctl-query probe-attach-flags  ATTACH with an unknown flag set
 *
 * Output is "key value" lines; a refused request prints
 * "error <ERRNO-NAME>" and exits 1.  Usage errors exit 2.  The device
 * path can be overridden with MARS_CTL_DEVICE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strerrorname_np */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mars/ctl.h"
#include "mars/logrec.h"

#define PROBE_MAX_BYTES	256

static int
usage(void)
{
	fputs("usage: mars-ctl-query version | selftest [--run] |\n"
	      "       probe SIZE [dirty] | probe-flags | probe-nr NR |\n"
	      "       attach RES DISK DIR [SIZE [PENDING_MIB]] | detach RES |\n"
	      "       primary RES HOST [LOGFILE POS | --first N] |\n"
	      "       replay RES LOGFILE [POS [SEQ]] | rotate RES | status RES |\n"
	      "       probe-attach-flags\n", stderr);
	return 2;
}

static int
ctl_open(void)
{
	const char *path = getenv("MARS_CTL_DEVICE");
	int fd;

	if (!path)
		path = "/dev/" MARS_CTL_DEVICE_NAME;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "mars-ctl-query: cannot open '%s': %s\n", path,
			strerror(errno));
	return fd;
}

/* Issue one request; print "error NAME" and return 1 when refused. */
static int
ctl_call(unsigned long cmd, void *arg)
{
	int fd = ctl_open();
	int ret = 0;

	if (fd < 0)
		return 1;
	if (ioctl(fd, cmd, arg) < 0) {
		printf("error %s\n", strerrorname_np(errno));
		ret = 1;
	}
	close(fd);
	return ret;
}

static int
cmd_version(void)
{
	struct mars_ctl_version v;

	memset(&v, 0, sizeof(v));
	if (ctl_call(MARS_CTL_IOC_VERSION, &v))
		return 1;
	printf("interface %u.%u\n", v.iface_major, v.iface_minor);
	printf("format %u\n", v.format_version);
	printf("max_payload_bytes %u\n", v.max_payload_bytes);
	printf("module %.*s\n", (int)sizeof(v.module_version),
	       v.module_version);
	return 0;
}

static int
cmd_selftest(int argc, char **argv)
{
	struct mars_ctl_selftest st;

	memset(&st, 0, sizeof(st));
	if (argc == 3 && !strcmp(argv[2], "--run"))
		st.flags = MARS_CTL_SELFTEST_F_RUN;
	else if (argc != 2)
		return usage();
	if (ctl_call(MARS_CTL_IOC_SELFTEST, &st))
		return 1;
	printf("result %d\n", st.result);
	printf("checks %u\n", st.checks_run);
	printf("failed %u\n", st.checks_failed);
	printf("first_failure %.*s\n", (int)sizeof(st.first_failure),
	       st.first_failure[0] ? st.first_failure : "-");
	return 0;
}

static int
cmd_probe(int argc, char **argv)
{
	unsigned char buf[PROBE_MAX_BYTES];
	unsigned long size;
	char *end;

	if (argc < 3 || argc > 4)
		return usage();
	size = strtoul(argv[2], &end, 10);
	if (*end || size == 0 || size > sizeof(buf))
		return usage();
	memset(buf, 0, sizeof(buf));
	if (argc == 4) {
		if (strcmp(argv[3], "dirty") ||
		    size <= sizeof(struct mars_ctl_version))
			return usage();
		buf[size - 1] = 0x5a;
	}
	if (ctl_call(_IOC(_IOC_READ | _IOC_WRITE, MARS_CTL_IOC_TYPE,
			  MARS_CTL_NR_VERSION, size), buf))
		return 1;
	puts("ok");
	return 0;
}

static int
cmd_probe_flags(void)
{
	struct mars_ctl_version v;

	memset(&v, 0, sizeof(v));
	v.flags = 1;
	if (ctl_call(MARS_CTL_IOC_VERSION, &v))
		return 1;
	puts("ok");
	return 0;
}

static int
cmd_probe_nr(int argc, char **argv)
{
	struct mars_ctl_version v;
	unsigned long nr;
	char *end;

	if (argc != 3)
		return usage();
	nr = strtoul(argv[2], &end, 0);
	if (*end || nr > 0xff)
		return usage();
	memset(&v, 0, sizeof(v));
	if (ctl_call(_IOWR(MARS_CTL_IOC_TYPE, nr, struct mars_ctl_version), &v))
		return 1;
	puts("ok");
	return 0;
}

/* Copy @src into a fixed field; usage error if it does not fit. */
static int
put_str(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "mars-ctl-query: '%s' too long\n", src);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

static int
parse_u64(const char *s, __u64 *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || !*s ? -1 : 0;
}

static int
cmd_attach(int argc, char **argv)
{
	struct mars_ctl_attach a;
	unsigned long long mib = 0;

	memset(&a, 0, sizeof(a));
	if (argc < 5 || argc > 7 ||
	    put_str(a.resource, sizeof(a.resource), argv[2]) ||
	    put_str(a.disk, sizeof(a.disk), argv[3]) ||
	    put_str(a.dir, sizeof(a.dir), argv[4]) ||
	    (argc >= 6 && parse_u64(argv[5], &a.size_bytes)) ||
	    (argc == 7 && (parse_u64(argv[6], &mib) || mib > UINT32_MAX)))
		return usage();
	if (argc == 7) {
		/* Sent as given, 0 included: the module must refuse that. */
		a.flags = MARS_CTL_ATTACH_F_PENDING_LIMIT;
		a.pending_mib = (__u32)mib;
	}
	if (ctl_call(MARS_CTL_IOC_ATTACH, &a))
		return 1;
	puts("ok");
	return 0;
}

static int
cmd_res(int argc, char **argv, unsigned long cmd)
{
	struct mars_ctl_res r;

	memset(&r, 0, sizeof(r));
	if (argc != 3 || put_str(r.resource, sizeof(r.resource), argv[2]))
		return usage();
	if (ctl_call(cmd, &r))
		return 1;
	puts("ok");
	return 0;
}

static int
cmd_primary(int argc, char **argv)
{
	struct mars_ctl_primary p;

	__u64 first;

	memset(&p, 0, sizeof(p));
	/* "--first N" in place of LOGFILE POS: no recovery, first_nr N */
	if (argc == 6 && !strcmp(argv[4], "--first")) {
		if (parse_u64(argv[5], &first) || first > UINT32_MAX)
			return usage();
		p.flags = MARS_CTL_PRIMARY_F_FIRST_NR;
		p.first_nr = (uint32_t)first;
		argc = 4;
	}
	if ((argc != 4 && argc != 6) ||
	    put_str(p.resource, sizeof(p.resource), argv[2]) ||
	    put_str(p.host, sizeof(p.host), argv[3]) ||
	    (argc == 6 &&
	     (put_str(p.recover_logfile, sizeof(p.recover_logfile), argv[4]) ||
	      parse_u64(argv[5], &p.recover_pos))))
		return usage();
	if (ctl_call(MARS_CTL_IOC_SET_PRIMARY, &p))
		return 1;
	puts("ok");
	return 0;
}

static int
cmd_replay(int argc, char **argv)
{
	struct mars_ctl_replay r;

	memset(&r, 0, sizeof(r));
	if (argc < 4 || argc > 6 ||
	    put_str(r.resource, sizeof(r.resource), argv[2]) ||
	    put_str(r.logfile, sizeof(r.logfile), argv[3]) ||
	    (argc >= 5 && parse_u64(argv[4], &r.start_pos)) ||
	    (argc == 6 && parse_u64(argv[5], &r.first_seq)))
		return usage();
	if (ctl_call(MARS_CTL_IOC_SET_REPLAY, &r))
		return 1;
	puts("ok");
	return 0;
}

static const char *
mode_name(__u32 mode)
{
	static const char *const names[] = { "attached", "primary", "replay" };

	return mode < 3 ? names[mode] : "?";
}

static const char *
rs_name(__u32 rs)
{
	static const char *const names[] = {
		"none", "running", "waiting", "stopped", "failed"
	};

	return rs < 5 ? names[rs] : "?";
}

static int
cmd_status(int argc, char **argv)
{
	struct mars_ctl_status st;

	memset(&st, 0, sizeof(st));
	if (argc != 3 || put_str(st.resource, sizeof(st.resource), argv[2]))
		return usage();
	if (ctl_call(MARS_CTL_IOC_STATUS, &st))
		return 1;
	printf("mode %s\n", mode_name(st.mode));
	printf("replay_state %s\n", rs_name(st.replay_state));
	printf("last_error %s\n", st.error ? strerrorname_np(-st.error) : "0");
	printf("open_count %u\n", st.open_count);
	printf("size_bytes %llu\n", (unsigned long long)st.size_bytes);
	printf("logfile %s\n", st.logfile[0] ? st.logfile : "-");
	printf("log_end %llu\n", (unsigned long long)st.log_end);
	printf("synced_pos %llu\n", (unsigned long long)st.synced_pos);
	printf("sync_requests %llu\n", (unsigned long long)st.sync_requests);
	printf("log_syncs %llu\n", (unsigned long long)st.log_syncs);
	printf("applied_logfile %s\n",
	       st.applied_logfile[0] ? st.applied_logfile : "-");
	printf("applied_pos %llu\n", (unsigned long long)st.applied_pos);
	printf("records %llu\n", (unsigned long long)st.records);
	printf("data_bytes %llu\n", (unsigned long long)st.data_bytes);
	printf("inflight %llu\n", (unsigned long long)st.inflight);
	printf("rate_bps %llu\n", (unsigned long long)st.rate_bps);
	printf("stop_result %s\n",
	       mars_scan_result_name((enum mars_scan_result)st.stop_result));
	printf("stop_reason %s\n",
	       mars_scan_reason_name((enum mars_scan_reason)st.stop_reason));
	printf("stop_offset %llu\n", (unsigned long long)st.stop_offset);
	printf("pending_bytes %llu\n", (unsigned long long)st.pending_bytes);
	printf("pending_peak_bytes %llu\n",
	       (unsigned long long)st.pending_peak_bytes);
	printf("pending_limit_bytes %llu\n",
	       (unsigned long long)st.pending_limit_bytes);
	return 0;
}

static int
cmd_probe_attach_flags(void)
{
	struct mars_ctl_attach a;

	memset(&a, 0, sizeof(a));
	a.flags = 0x80000000U;
	if (ctl_call(MARS_CTL_IOC_ATTACH, &a))
		return 1;
	puts("ok");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "version") && argc == 2)
		return cmd_version();
	if (!strcmp(argv[1], "selftest"))
		return cmd_selftest(argc, argv);
	if (!strcmp(argv[1], "probe"))
		return cmd_probe(argc, argv);
	if (!strcmp(argv[1], "probe-flags") && argc == 2)
		return cmd_probe_flags();
	if (!strcmp(argv[1], "probe-nr"))
		return cmd_probe_nr(argc, argv);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(argv[1], "detach"))
		return cmd_res(argc, argv, MARS_CTL_IOC_DETACH);
	if (!strcmp(argv[1], "rotate"))
		return cmd_res(argc, argv, MARS_CTL_IOC_ROTATE);
	if (!strcmp(argv[1], "primary"))
		return cmd_primary(argc, argv);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc, argv);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc, argv);
	if (!strcmp(argv[1], "probe-attach-flags") && argc == 2)
		return cmd_probe_attach_flags();
	return usage();
}
