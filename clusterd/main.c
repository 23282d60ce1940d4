/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clusterd: option parsing and the choice of role.  Without a role option
 * it is the daemon; `--serve` is the serving end an SSH forced command
 * runs; `--join ADDR` joins a cluster once and exits (what marsadm
 * join-cluster does in-process).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"
#include "clusterd/driver/driver.h"
#include "engine/engine.h"

#include "common/confine.h"
#include "clusterd/gossip/gossip.h"
#include "clusterd/loop.h"
#include "clusterd/serve.h"
#include "clusterd/status_process.h"
#include "common/log.h"
#include "clusterd/gossip/proto.h"
#include "clusterd/status/status.h"

/* clusterd's own options; those of the gossip configuration are shared
 * (gossip_options[], clusterd/gossip/options.c). */
enum { O_SERVE = 256, O_PEER, O_JOIN, O_IP, O_VERSION, O_HELP, O_STATUS,
       O_DATA_PATH, O_ENGINE, O_DEVDIR, O_RUNDIR, O_ROTATE, O_BWLIMIT, O_CRON,
       O_EMERGENCY, O_BACKEND, O_FRONTEND, O_NODE_BWLIMIT, O_NODE_SYNC_BWLIMIT };

static const struct option own_options[] = {
	{ "serve",		no_argument,       NULL, O_SERVE },
	{ "peer",		required_argument, NULL, O_PEER },
	{ "join",		required_argument, NULL, O_JOIN },
	{ "ip",			required_argument, NULL, O_IP },
	{ "version",		no_argument,       NULL, O_VERSION },
	{ "help",		no_argument,       NULL, O_HELP },
	{ "data-path",		required_argument, NULL, O_DATA_PATH },
	{ "engine",		required_argument, NULL, O_ENGINE },
	{ "dev-dir",		required_argument, NULL, O_DEVDIR },
	{ "run-dir",		required_argument, NULL, O_RUNDIR },
	{ "rotate-size",	required_argument, NULL, O_ROTATE },
	{ "fetch-bwlimit",	required_argument, NULL, O_BWLIMIT },
	{ "node-fetch-bwlimit",	required_argument, NULL, O_NODE_BWLIMIT },
	{ "node-sync-bwlimit",	required_argument, NULL, O_NODE_SYNC_BWLIMIT },
	{ "cron-ms",		required_argument, NULL, O_CRON },
	{ "emergency-free",	required_argument, NULL, O_EMERGENCY },
	{ "backend",		required_argument, NULL, O_BACKEND },
	{ "engine-frontend",	required_argument, NULL, O_FRONTEND },
	/* status page options, parsed by status_config_option() */
	{ "http-listen",	required_argument, NULL, O_STATUS },
	{ "http-token",		required_argument, NULL, O_STATUS },
	{ "http-token-file",	required_argument, NULL, O_STATUS },
	{ "http-allow-host",	required_argument, NULL, O_STATUS },
	{ "db",			required_argument, NULL, O_STATUS },
	{ "alert-url",		required_argument, NULL, O_STATUS },
	{ "lag-alert-bytes",	required_argument, NULL, O_STATUS },
	{ "lag-alert-s",	required_argument, NULL, O_STATUS },
	{ "status-sample-ms",	required_argument, NULL, O_STATUS },
	{ "silent-ms",		required_argument, NULL, O_STATUS },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: clusterd [OPTION]...            run the gossip daemon (foreground)\n"
"       clusterd --serve --peer NAME [OPTION]...  serving end on stdin/stdout for the\n"
"                 peer NAME (ssh forced command of NAME's key)\n"
"       clusterd --join ADDR [--ip IP]  join the cluster of the member at ADDR\n"
"                 (ADDR and IP: addresses or host names)\n"
"options (environment in brackets):\n"
"  --root DIR            state tree [MARS_ROOT] (/mars)\n"
"  --host NAME           this node's name [MARS_HOST] (uname -n)\n"
"  --key FILE            cluster ssh private key [MARS_SSH_KEY] (/etc/mars/cluster_key)\n"
"  --known-hosts FILE    peers' host keys [MARS_KNOWN_HOSTS] (/etc/mars/known_hosts)\n"
"  --peers FILE          peer overrides 'HOST ADDR[:PORT]' [MARS_PEERS] (/etc/mars/peers)\n"
"  --authorized-keys FILE  remove departed members' keys from it, add new members'\n"
"                        from keys/ [MARS_AUTHORIZED_KEYS] (none)\n"
"  --serve-cmd CMD       forced command of the lines added, ' --peer NAME' appended\n"
"                        [MARS_SERVE_CMD] (" SBINDIR "/clusterd --serve)\n"
"  --port N              peers' ssh port [MARS_SSH_PORT] (22)\n"
"  --ssh-user NAME       login name on peers [MARS_SSH_USER] (root)\n"
"  --remote-cmd CMD      command requested on peers (clusterd --serve)\n"
"  --transport ssh|local local: peers are child processes on trees --local-roots/HOST\n"
"  --period-ms N         keepalive pull of idle peers (5000)\n"
"  --heartbeat-ms N      heartbeat actual-HOST/time period (5000)\n"
"  --timeout-ms N        bound on connecting and on every reply (10000)\n"
"  --backoff-max-ms N    longest delay between reconnects (30000)\n"
"  --log-level LEVEL     err, warn, info (default) or debug\n"
"  --compress auto|zstd|none  logfile and sync bytes sent and accepted zstd-\n"
"                        compressed [MARS_COMPRESS] (auto: only while it pays;\n"
"                        per resource: resource-RES/defaults-HOST/compress)\n"
"trust (docs/state-tree.md section 8):\n"
"  --max-skew-s N        refuse peer stamps more than N s ahead (300)\n"
"  --quota-entries N     links one origin host may hold in the tree (20000)\n"
"  --quota-bytes BYTES   bytes of those links (4M)\n"
"replication (docs/replication.md):\n"
"  --data-path on|off    run the data path of this node's resources (on)\n"
"  --backend auto|kmod|user  mars.ko or the userspace engine (auto: mars.ko when\n"
"                        /dev/mars-control exists)\n"
"  --engine FILE         the userspace engine [MARS_ENGINE] (" SBINDIR "/mars-engine)\n"
"  --engine-frontend auto|nbd|fuse  how it serves a primary's device\n"
"                        [MARS_ENGINE_FRONTEND] (auto: /dev/nbdN if the\n"
"                        kernel has nbd, else a FUSE file)\n"
"  --dev-dir DIR         where device links appear [MARS_DEVDIR] (/dev/mars)\n"
"  --run-dir DIR         engine mounts and logs [MARS_RUNDIR] (/run/mars)\n"
"  --rotate-size BYTES   rotate the primary's logfile at this size (256M)\n"
"  --fetch-bwlimit BYTES per-resource fetch bandwidth per second, 0 = none (0);\n"
"                        the tree may lower it (marsadm set-fetch-bwlimit)\n"
"  --node-fetch-bwlimit BYTES  all fetches of this node together, shared among\n"
"                        the busy ones by fetch-priority, 0 = none (0)\n"
"  --node-sync-bwlimit BYTES   disk bytes compared per second by all full syncs\n"
"                        of this node together, shared likewise (0)\n"
"  --cron-ms N           delete logfiles every member replayed this often (600000)\n"
"  --emergency-free BYTES  stop logging below this free space in /mars (256M; 0 = off)\n"
"status page (docs/http-api.md):\n"
"  --http-listen ADDR:PORT  serve it there (ADDR may be a name), 'none' = off\n"
"                           (127.0.0.1:7780); off loopback only with a token\n"
"  --http-token-file FILE   require 'Authorization: Bearer TOKEN' for /api and\n"
"                           /metrics, TOKEN read from FILE (mode 600)\n"
"  --http-token TOKEN    the same, but TOKEN shows in ps: prefer the file\n"
"  --http-allow-host NAME   answer requests with Host NAME too (repeatable; the\n"
"                           listen address, loopback and the node's names always)\n"
"  --db FILE             keep history (samples, events) in this sqlite file\n"
"  --alert-url URL       post alerts as JSON to URL (repeatable, up to 8)\n"
"  --lag-alert-bytes N   alert when a replica lags more than N bytes (0 = never)\n"
"  --lag-alert-s N       alert when a replica's oldest unapplied write is older than\n"
"                        N seconds (300; 0 = never)\n"
"  --status-sample-ms N  history sample period (10000)\n"
"  --silent-ms N         heartbeat age after which a member is silent (60000)\n";

struct opts {
	struct status_config status;
	const char *status_name;	/* long name of the current O_STATUS option */
	int serve;
	const char *peer;		/* --serve --peer NAME: the client's host */
	const char *join;
	const char *ip;
	char exe[PATH_MAX];
	struct driver_config driver;
	int data_path;
	int backend_set;		/* --backend kmod|user given */
};

static int
set_backend(struct opts *o, const char *arg)
{
	if (!strcmp(arg, "kmod"))
		o->driver.ops = &mars_engine_kmod_ops;
	else if (!strcmp(arg, "user"))
		o->driver.ops = &mars_engine_proc_ops;
	else if (strcmp(arg, "auto"))
		return -EINVAL;
	o->backend_set = strcmp(arg, "auto") != 0;
	return 0;
}

static int
parse_one(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case O_SERVE:	o->serve = 1; return 0;
	case O_PEER:	o->peer = arg; return 0;
	case O_JOIN:	o->join = arg; return 0;
	case O_IP:	o->ip = arg; return 0;
	case O_STATUS:	return status_config_option(&o->status, o->status_name, arg);
	case O_DATA_PATH:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			return -EINVAL;
		o->data_path = !strcmp(arg, "on");
		return 0;
	case O_ENGINE:	o->driver.engine_exe = arg; return 0;
	case O_FRONTEND:
		if (strcmp(arg, "auto") && strcmp(arg, "nbd") && strcmp(arg, "fuse"))
			return -EINVAL;
		o->driver.engine_frontend = arg;
		return 0;
	case O_DEVDIR:	o->driver.dev_dir = arg; return 0;
	case O_RUNDIR:	o->driver.run_dir = arg; return 0;
	case O_ROTATE:	return parse_size(arg, &o->driver.rotate_bytes) ? -EINVAL : 0;
	case O_BWLIMIT:	return parse_size(arg, &o->driver.fetch_bwlimit) ? -EINVAL : 0;
	case O_NODE_BWLIMIT:
		return parse_size(arg, &o->driver.node_fetch_bwlimit) ? -EINVAL : 0;
	case O_NODE_SYNC_BWLIMIT:
		return parse_size(arg, &o->driver.node_sync_bwlimit) ? -EINVAL : 0;
	case O_CRON:	return gossip_parse_ms(arg, &o->driver.cron_ms);
	case O_EMERGENCY: return parse_size(arg, &o->driver.emergency_free) ? -EINVAL : 0;
	case O_BACKEND:	return set_backend(o, arg);
	}
	return -EINVAL;
}

static int
parse_args(int argc, char **argv, struct gossip_config *c, struct opts *o)
{
	struct option options[GOSSIP_OPTIONS_COUNT + 40];
	int opt, idx = 0, ret = 0;

	gossip_options_join(options, sizeof(options) / sizeof(options[0]), own_options);
	while ((opt = getopt_long(argc, argv, "", options, &idx)) != -1) {
		o->status_name = options[idx].name;
		if (opt == O_VERSION) {
			printf("clusterd %s (gossip protocol %d.%d)\n", MARS_VERSION,
			       GOSSIP_PROTO_VERSION, GOSSIP_PROTO_MINOR);
			exit(0);
		}
		if (opt == O_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (opt != '?')
			ret = opt >= GOSSIP_OPT_BASE ? gossip_config_option(c, opt, optarg, "clusterd")
						     : parse_one(o, opt, optarg);
		if (opt == '?' || ret < 0) {
			if (ret == -EHOSTUNREACH)
				fprintf(stderr, "clusterd: cannot resolve host of '%s'\n", optarg);
			else if (opt != '?')
				fprintf(stderr, "clusterd: invalid argument '%s' for option\n",
					optarg ? optarg : "");
			fputs(usage_text, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "clusterd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (statefs_name_check(STATEFS_NAME_HOST, c->host, NULL) < 0) {
		fprintf(stderr, "clusterd: invalid host name '%s'; set --host or MARS_HOST\n",
			c->host);
		return -EINVAL;
	}
	return 0;
}

/* The gossip loop in this thread, the replication driver beside it. */
static int
run_daemon(const struct gossip_config *c, struct opts *o)
{
	struct driver *d = NULL;
	pid_t status = -1;
	char err[512];
	int ret;

	if (status_config_finish(&o->status, c->host, err, sizeof(err)) < 0) {
		fprintf(stderr, "clusterd: %s\n", err);
		return 2;
	}
	if (!o->backend_set && access("/dev/mars-control", F_OK) == 0)
		o->driver.ops = &mars_engine_kmod_ops;
	/* said once here: the serving ends log at warn and would say it per session */
	if (confine_landlock_abi() == 0)
		log_info("kernel without Landlock: serving ends are confined by no_new_privs "
			 "and dropped capabilities only (docs/protocol.md section 1.2)");
	/* forked before any thread: the status page's processes */
	if (status_process_start(c, &o->status, &status) < 0) {
		fprintf(stderr, "clusterd: the status page could not start (see above)\n");
		return 1;
	}
	if (o->data_path && driver_start(c, &o->driver, &d) < 0) {
		fprintf(stderr, "clusterd: cannot start the replication driver\n");
		status_process_stop(status);
		return 1;
	}
	ret = gossip_daemon(c);
	driver_stop(d);
	status_process_stop(status);
	return ret;
}

int
main(int argc, char **argv)
{
	struct gossip_config c;
	struct opts o = { 0 };
	char err[512] = "";
	ssize_t n;
	int ret;

	log_init("clusterd", LOG_LVL_INFO);
	if (gossip_config_init(&c) < 0) {
		fprintf(stderr, "clusterd: host name too long; set --host\n");
		return 2;
	}
	if (getenv("MARS_COMPRESS") && *getenv("MARS_COMPRESS")) {
		c.compress = gossip_compress_parse(getenv("MARS_COMPRESS"));
		if (c.compress < 0) {
			fprintf(stderr, "clusterd: MARS_COMPRESS must be auto, zstd or none\n");
			return 2;
		}
	}
	status_config_init(&o.status);
	driver_config_init(&o.driver);
	o.data_path = 1;
	if (parse_args(argc, argv, &c, &o) < 0)
		return 2;
	c.durable_end = mars_engine_durable_end;
	gossip_config_finish(&c);
	n = readlink("/proc/self/exe", o.exe, sizeof(o.exe) - 1);
	if (n > 0) {
		o.exe[n] = '\0';
		c.tconf.local_exe = o.exe;
	}
	if (o.serve) {
		log_init("clusterd-serve", LOG_LVL_WARN);
		c.confine = serve_confine;
		return gossip_serve(&c, o.peer);
	}
	if (o.join) {
		ret = gossip_join(&c, o.join, o.ip, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "clusterd: join failed: %s\n", err);
			return 1;
		}
		printf("joined the cluster via %s\n", o.join);
		return 0;
	}
	return run_daemon(&c, &o);
}
