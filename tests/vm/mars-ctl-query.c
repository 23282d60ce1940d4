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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mars/ctl.h"

#define PROBE_MAX_BYTES	256

static int
usage(void)
{
	fputs("usage: mars-ctl-query version | selftest [--run] |\n"
	      "       probe SIZE [dirty] | probe-flags | probe-nr NR\n", stderr);
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
	return usage();
}
