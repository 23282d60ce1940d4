/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mars-engine: the userspace data path of one resource, for hosts that
 * cannot load mars.ko.  Three modes, one per subcommand:
 *   primary  serve the device, log every write: /dev/nbdN through the
 *            kernel's NBD driver, or <mount>/<resource> over FUSE
 *            (--frontend; auto takes NBD where the kernel has it)
 *   replay   apply a logfile from a position, following it as it grows
 *   apply    apply a logfile to a disk image once (a tool, no resource)
 * Everything but argument handling and messages is in the ops object
 * (user.c), so that clusterd can drive the same code.
 *
 * Exit status, numbered as marsadm's (marsadm/exitcodes.h) so that the
 * same outcome has the same number: 0 success; 1 failure (the message
 * says why); 2 usage; 4 a corrupt record or sequence gap stopped the
 * replay before it; 7 the logfile ends in a torn record (replay, apply)
 * or inside a record (apply only; replay waits for the rest).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"
#include "engine/internal.h"
#include "statefs/statefs.h"

#define EX_FAIL		1
#define EX_USAGE	2
#define EX_CORRUPT	4
#define EX_TAIL		7

struct eng_opts {
	const char *mode;
	struct mars_engine_config cfg;
	const char *mount;
	const char *frontend;		/* auto, nbd, fuse */
	const char *logfile;
	uint64_t from;
	char host_buf[65];
};

static int
eng_usage(void)
{
	fputs("usage: mars-engine primary --resource R --disk IMG --mount DIR\n"
	      "                           [--frontend auto|nbd|fuse] [common]\n"
	      "       mars-engine replay --resource R --disk IMG --logfile F [--from POS] [common]\n"
	      "       mars-engine apply --disk IMG --logfile F [--from POS]\n"
	      "common: [--root DIR] [--host H] [--size BYTES] [--checkpoint-ms N]\n"
	      "        [--status FILE] [--emergency-free BYTES] [--pending-mib N]\n"
	      "        [--prealloc-kib N]\n", stderr);
	return EX_USAGE;
}

static int
eng_error(const char *what, const char *subject, int err)
{
	fprintf(stderr, "mars-engine: %s '%s': %s\n", what, subject, strerror(-err));
	return EX_FAIL;
}

/* Attach failures are what operators meet first; say what to fix. */
static int
eng_attach_error(const struct mars_engine_config *cfg, int err)
{
	if (err == -EBUSY)
		fprintf(stderr, "mars-engine: resource '%s' or disk '%s' is in use by "
			"another engine\n", cfg->resource, cfg->disk);
	else if (err == -ENOSPC)
		fprintf(stderr, "mars-engine: disk '%s' is smaller than the resource "
			"(%" PRIu64 " bytes) or empty\n", cfg->disk, cfg->size_bytes);
	else if (err == -EINVAL)
		fprintf(stderr, "mars-engine: disk '%s' is neither a regular file nor "
			"a block device\n", cfg->disk);
	else if (err == -ELOOP || err == -ENOTDIR)
		fprintf(stderr, "mars-engine: resource-%s or its .engine-lock in '%s' is a "
			"symbolic link or of the wrong type; the engine follows no link in the "
			"state tree: remove it\n", cfg->resource, cfg->root);
	else
		return eng_error("cannot attach disk", cfg->disk, err);
	return EX_FAIL;
}

static int
eng_number(const char *s, uint64_t *v)
{
	return parse_size(s, v) ? -1 : 0;
}

static int
eng_parse(int argc, char **argv, struct eng_opts *o)
{
	static const struct option longopts[] = {
		{ "resource", required_argument, NULL, 'r' },
		{ "disk", required_argument, NULL, 'd' },
		{ "mount", required_argument, NULL, 'm' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 'f' },
		{ "root", required_argument, NULL, 'R' },
		{ "host", required_argument, NULL, 'H' },
		{ "size", required_argument, NULL, 's' },
		{ "checkpoint-ms", required_argument, NULL, 'c' },
		{ "status", required_argument, NULL, 'S' },
		{ "emergency-free", required_argument, NULL, 'E' },
		{ "pending-mib", required_argument, NULL, 'P' },
		{ "frontend", required_argument, NULL, 'F' },
		{ "prealloc-kib", required_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->cfg.resource = optarg; break;
		case 'd': o->cfg.disk = optarg; break;
		case 'm': o->mount = optarg; break;
		case 'F':
			o->frontend = optarg;
			bad |= strcmp(optarg, "auto") && strcmp(optarg, "nbd") &&
			       strcmp(optarg, "fuse");
			break;
		case 'l': o->logfile = optarg; break;
		case 'f': bad |= eng_number(optarg, &o->from); break;
		case 'R': o->cfg.root = optarg; break;
		case 'H': o->cfg.host = optarg; break;
		case 's': bad |= eng_number(optarg, &o->cfg.size_bytes); break;
		case 'c':
			bad |= eng_number(optarg, &v) || v == 0 || v > 3600000;
			o->cfg.checkpoint_ms = (unsigned int)v;
			break;
		case 'S': o->cfg.status_path = optarg; break;
		case 'E': bad |= eng_number(optarg, &o->cfg.emergency_free_bytes); break;
		case 'P':
			bad |= eng_number(optarg, &v) || v == 0 || v > 65536;
			o->cfg.pending_bytes = v << 20;
			break;
		case 'Z':
			bad |= eng_number(optarg, &v) || v > (1ULL << 20);
			o->cfg.prealloc_bytes = v ? v << 10 : MARS_ENGINE_PREALLOC_OFF;
			break;
		default: bad = 1;
		}
	}
	return bad || optind != argc ? -1 : 0;
}

static void
eng_defaults(struct eng_opts *o)
{
	const char *env;
	struct utsname u;

	if (!o->cfg.root) {
		env = getenv("MARS_ROOT");
		o->cfg.root = env && *env ? env : "/mars";
	}
	if (!o->cfg.host) {
		env = getenv("MARS_HOST");
		if (env && *env) {
			o->cfg.host = env;
		} else if (uname(&u) == 0) {
			snprintf(o->host_buf, sizeof(o->host_buf), "%s", u.nodename);
			o->cfg.host = o->host_buf;
		}
	}
}

/* Names go into the state tree; check them before anything else. */
static int
eng_check_names(const struct mars_engine_config *cfg)
{
	const char *why = NULL;

	if (!cfg->host || statefs_name_check(STATEFS_NAME_HOST, cfg->host, &why)) {
		fprintf(stderr, "mars-engine: invalid host name '%s': %s (use --host or "
			"MARS_HOST)\n", cfg->host ? cfg->host : "", why ? why : "missing");
		return -1;
	}
	if (cfg->resource && statefs_name_check(STATEFS_NAME_RESOURCE, cfg->resource, &why)) {
		fprintf(stderr, "mars-engine: invalid resource name '%s': %s\n",
			cfg->resource, why);
		return -1;
	}
	return 0;
}

/* Report where the last apply or recovery stopped, from a status. */
static void
eng_report_stop(const struct mars_engine_status *st)
{
	fprintf(stderr, "mars-engine: '%s' stopped at offset %" PRIu64 ": %s (%s)\n",
		st->logfile, st->stop_offset, mars_scan_result_name(st->stop_result),
		mars_scan_reason_name(st->stop_reason));
}

/* ---- primary ---------------------------------------------------------------- */

static int
eng_primary_error(const struct mars_engine_config *cfg,
		  const struct mars_engine_status *st, int err)
{
	if (err == -EBADMSG) {
		eng_report_stop(st);
		fprintf(stderr, "mars-engine: logfile '%s' is damaged before its end; "
			"recovery refused\n", st->logfile);
	} else if (err == -EUCLEAN) {
		fprintf(stderr, "mars-engine: logfiles of '%s' exist but replay-%s is "
			"missing; refusing to guess where recovery starts\n",
			cfg->host, cfg->host);
	} else if (err == -ENOENT) {
		fprintf(stderr, "mars-engine: the logfile named by replay-%s is missing\n",
			cfg->host);
	} else {
		return eng_error("cannot become primary for", cfg->resource, err);
	}
	return EX_FAIL;
}

static volatile int eng_sig_stop;

/* SIGUSR1 asks for a rotation; a thread waits for it synchronously. */
static void *
eng_sigthread(void *arg)
{
	struct mars_engine *e = arg;
	sigset_t set;
	int sig, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigwait(&set, &sig) == 0 && !eng_sig_stop) {
		ret = mars_engine_user_ops.rotate(e);
		if (ret)
			fprintf(stderr, "mars-engine: cannot rotate: %s\n", strerror(-ret));
	}
	return NULL;
}

static volatile int eng_served;

/*
 * Recovery is done and the device is served: this host is now the actual
 * primary.  Announced only now, so `marsadm primary`, which waits for it,
 * returns when the device can be opened.
 */
static void
eng_primary_ready(struct mars_engine *e, const char *frontend, const char *device)
{
	eng_served = 1;
	eng_frontend_set(e, frontend, device);
	fprintf(stderr, "mars-engine: serving '%s' through %s\n", device, frontend);
	eng_actual_mode(e, 1, 1, 0);
}

/*
 * The front end: the one asked for, or with auto NBD when the kernel has
 * it and a device is free, else FUSE.  Said on stderr either way.
 */
static const struct eng_frontend *
eng_frontend_pick(const struct eng_opts *o)
{
	const char *want = o->frontend ? o->frontend : "auto";
	int ret;

	if (!strcmp(want, "fuse"))
		return &eng_frontend_fuse;
	ret = eng_frontend_nbd.probe();
	if (!ret || !strcmp(want, "nbd"))
		return &eng_frontend_nbd;
	fprintf(stderr, "mars-engine: no NBD device (%s); serving over FUSE\n",
		ret == -EBUSY ? "all in use" : "no nbd.ko");
	return &eng_frontend_fuse;
}

/* SIGTERM, SIGINT, SIGHUP: blocked for NBD (it waits for them), not for
 * FUSE (libfuse's handlers take them). */
static void
eng_stop_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(how, &set, NULL);
}

/* A link left at <mount>/<res> by an NBD engine that was killed would
 * name a device that is not ours any more. */
static void
eng_drop_stale_link(const struct eng_opts *o)
{
	char path[4096];
	struct stat st;

	if (!o->mount)
		return;
	snprintf(path, sizeof(path), "%s/%s", o->mount, o->cfg.resource);
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		unlink(path);
}

/* Serve with @fe; if NBD fails before it served and auto chose it, FUSE. */
static int
eng_serve(const struct eng_opts *o, const struct eng_frontend *fe, const struct eng_serve *s)
{
	int ret = fe->serve(s);

	if (!ret || eng_served || fe != &eng_frontend_nbd || (o->frontend &&
	    strcmp(o->frontend, "auto")) || !o->mount)
		return ret;
	fprintf(stderr, "mars-engine: cannot serve through nbd: %s; serving over FUSE\n",
		strerror(-ret));
	eng_stop_signals(SIG_UNBLOCK);
	return eng_frontend_fuse.serve(s);
}

static int
eng_cmd_primary(struct eng_opts *o)
{
	const struct eng_frontend *fe;
	struct mars_engine_status st;
	struct eng_serve serve;
	struct mars_engine *e;
	struct stat mst;
	pthread_t sigt;
	sigset_t set;
	int ret;

	if (!o->cfg.resource || !o->cfg.disk || o->logfile)
		return eng_usage();
	if (!o->mount && (!o->frontend || strcmp(o->frontend, "nbd")))
		return eng_usage();
	/* Check the mount point before recovery writes anything. */
	if (o->mount && stat(o->mount, &mst) < 0)
		return eng_error("cannot use mount point", o->mount, -errno);
	if (o->mount && !S_ISDIR(mst.st_mode))
		return eng_error("cannot use mount point", o->mount, -ENOTDIR);
	eng_drop_stale_link(o);
	fe = eng_frontend_pick(o);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by every thread */
	if (fe == &eng_frontend_nbd)
		eng_stop_signals(SIG_BLOCK);
	ret = mars_engine_user_ops.attach(&o->cfg, &e);
	if (ret)
		return eng_attach_error(&o->cfg, ret);
	ret = mars_engine_user_ops.set_primary(e);
	if (ret) {
		mars_engine_user_ops.status(e, &st);
		mars_engine_user_ops.detach(e);
		return eng_primary_error(&o->cfg, &st, ret);
	}
	mars_engine_user_ops.status(e, &st);
	fprintf(stderr, "mars-engine: primary for '%s', logging to '%s'\n",
		o->cfg.resource, st.logfile);
	ret = -pthread_create(&sigt, NULL, eng_sigthread, e);
	if (ret) {
		eng_actual_mode(e, 0, 0, 0);
		mars_engine_user_ops.detach(e);
		return eng_error("cannot start the signal thread for", o->cfg.resource, ret);
	}
	serve = (struct eng_serve){ .e = e, .mount = o->mount, .resource = o->cfg.resource,
				    .size_bytes = st.size_bytes, .ready = eng_primary_ready };
	ret = eng_serve(o, fe, &serve);
	eng_sig_stop = 1;
	pthread_kill(sigt, SIGUSR1);
	pthread_join(sigt, NULL);
	eng_actual_mode(e, 0, 0, 0);
	mars_engine_user_ops.detach(e);
	if (ret)
		return eng_error("cannot serve through", fe->name, ret);
	return 0;
}

/* ---- replay ------------------------------------------------------------------ */

static int
eng_replay_wait(struct mars_engine *e)
{
	struct mars_engine_status st;
	struct timespec tick = { 1, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		mars_engine_user_ops.status(e, &st);
		fprintf(stderr, "mars-engine: replay '%s' %s applied=%" PRIu64
			" records=%" PRIu64 " rate=%" PRIu64 "B/s\n", st.logfile,
			mars_engine_replay_state_name(st.replay), st.applied_pos,
			st.records, st.rate_bps);
		if (sig > 0)
			return 0;
		if (st.replay == MARS_ENGINE_RS_STOPPED) {
			eng_report_stop(&st);
			return st.stop_result == MARS_SCAN_TORN ? EX_TAIL : EX_CORRUPT;
		}
		if (st.replay == MARS_ENGINE_RS_FAILED && st.error == -EFBIG) {
			fprintf(stderr, "mars-engine: '%s' offset %" PRIu64 ": record "
				"reaches past the end of the disk (%" PRIu64 " bytes)\n",
				st.logfile, st.stop_offset, st.size_bytes);
			return EX_FAIL;
		}
		if (st.replay == MARS_ENGINE_RS_FAILED)
			return eng_error("replay failed on", st.logfile, st.error);
	}
}

static int
eng_cmd_replay(struct eng_opts *o)
{
	struct mars_engine *e;
	sigset_t set;
	int ret;

	if (!o->cfg.resource || !o->cfg.disk || !o->logfile || o->mount)
		return eng_usage();
	/* Block before any thread exists, so only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ret = mars_engine_user_ops.attach(&o->cfg, &e);
	if (ret)
		return eng_attach_error(&o->cfg, ret);
	ret = mars_engine_user_ops.set_replay(e, o->logfile, o->from);
	if (ret) {
		mars_engine_user_ops.detach(e);
		return eng_error("cannot replay", o->logfile, ret);
	}
	eng_actual_mode(e, 1, 0, 1);
	ret = eng_replay_wait(e);
	eng_actual_mode(e, 0, 0, 0);
	mars_engine_user_ops.detach(e);
	return ret;
}

/* ---- apply -------------------------------------------------------------------- */

static int
eng_cmd_apply(struct eng_opts *o)
{
	struct mars_engine_status st = { 0 };
	struct eng_apply a;
	uint64_t bytes = 0;
	int fd, res;

	if (!o->cfg.disk || !o->logfile || o->cfg.resource || o->mount)
		return eng_usage();
	fd = open(o->cfg.disk, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return eng_error("cannot open disk", o->cfg.disk, -errno);
	bytes = (uint64_t)lseek(fd, 0, SEEK_END);
	res = eng_apply_open(&a, fd, bytes, o->logfile, o->from);
	if (res) {
		close(fd);
		return eng_error("cannot open logfile", o->logfile, res);
	}
	res = eng_apply_run(&a, 0);
	if (fdatasync(fd) < 0 && res >= 0)
		res = -errno;
	printf("applied %" PRIu64 " records, %" PRIu64 " bytes, position %" PRIu64 "\n",
	       a.records, a.data_bytes, eng_apply_pos(&a));
	snprintf(st.logfile, sizeof(st.logfile), "%s", o->logfile);
	st.stop_result = a.stop.result;
	st.stop_reason = a.stop.rec.reason;
	st.stop_offset = a.stop.offset;
	eng_apply_close(&a);
	close(fd);
	if (res < 0)
		return eng_error("cannot apply", o->logfile, res);
	if (res == MARS_SCAN_END)
		return 0;
	eng_report_stop(&st);
	return res == MARS_SCAN_INCOMPLETE || res == MARS_SCAN_TORN ? EX_TAIL : EX_CORRUPT;
}

int
main(int argc, char **argv)
{
	struct eng_opts o = { 0 };

	if (argc < 2)
		return eng_usage();
	o.mode = argv[1];
	if (eng_parse(argc - 1, argv + 1, &o))
		return eng_usage();
	eng_defaults(&o);
	if (strcmp(o.mode, "apply") != 0 && eng_check_names(&o.cfg))
		return EX_FAIL;
	if (strcmp(o.mode, "primary") == 0)
		return eng_cmd_primary(&o);
	if (strcmp(o.mode, "replay") == 0)
		return eng_cmd_replay(&o);
	if (strcmp(o.mode, "apply") == 0)
		return eng_cmd_apply(&o);
	return eng_usage();
}
