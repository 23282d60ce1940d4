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
#include <json-c/json.h>

#include "common/confine.h"
#include "clusterd/transfer/fetch.h"
#include "clusterd/gossip/gossip.h"
#include "clusterd/loop.h"
#include "clusterd/serve.h"
#include "clusterd/status_process.h"
#include "common/log.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/gossip/proto.h"
#include "clusterd/status/status.h"
#include "clusterd/transfer/sync.h"

enum { O_ROOT = 256, O_SKEW, O_QUOTA_ENTRIES, O_QUOTA_BYTES, O_HOST, O_KEY, O_KNOWN, O_PEERS,
       O_AUTH_KEYS, O_PORT, O_USER, O_CMD,
       O_TRANSPORT, O_LROOTS, O_PERIOD, O_HEARTBEAT, O_TIMEOUT, O_BACKOFF, O_LOG,
       O_SERVE, O_JOIN, O_IP, O_VERSION, O_HELP, O_STATUS,
       O_DATA_PATH, O_ENGINE, O_DEVDIR, O_RUNDIR, O_ROTATE, O_BWLIMIT, O_CRON, O_COMPRESS,
       O_EMERGENCY, O_BACKEND, O_FRONTEND, O_NODE_BWLIMIT, O_NODE_SYNC_BWLIMIT,
       O_FETCH, O_FETCH_FINAL, O_FETCH_BW, O_FETCH_TIMEOUT,
       /* full sync (docs/sync.md) test entry */
       O_SYNC, O_SYNC_PEER, O_SYNC_DISK, O_SYNC_FROM, O_SYNC_SIZE, O_SYNC_PROGRESS };

static const struct option options[] = {
	{ "root",		required_argument, NULL, O_ROOT },
	{ "host",		required_argument, NULL, O_HOST },
	{ "key",		required_argument, NULL, O_KEY },
	{ "known-hosts",	required_argument, NULL, O_KNOWN },
	{ "peers",		required_argument, NULL, O_PEERS },
	{ "authorized-keys",	required_argument, NULL, O_AUTH_KEYS },
	{ "port",		required_argument, NULL, O_PORT },
	{ "ssh-user",		required_argument, NULL, O_USER },
	{ "remote-cmd",		required_argument, NULL, O_CMD },
	{ "transport",		required_argument, NULL, O_TRANSPORT },
	{ "local-roots",	required_argument, NULL, O_LROOTS },
	{ "period-ms",		required_argument, NULL, O_PERIOD },
	{ "heartbeat-ms",	required_argument, NULL, O_HEARTBEAT },
	{ "timeout-ms",		required_argument, NULL, O_TIMEOUT },
	{ "backoff-max-ms",	required_argument, NULL, O_BACKOFF },
	{ "log-level",		required_argument, NULL, O_LOG },
	{ "max-skew-s",		required_argument, NULL, O_SKEW },
	{ "quota-entries",	required_argument, NULL, O_QUOTA_ENTRIES },
	{ "quota-bytes",	required_argument, NULL, O_QUOTA_BYTES },
	{ "serve",		no_argument,       NULL, O_SERVE },
	{ "join",		required_argument, NULL, O_JOIN },
	{ "ip",			required_argument, NULL, O_IP },
	{ "version",		no_argument,       NULL, O_VERSION },
	{ "help",		no_argument,       NULL, O_HELP },
	/* the fetch test entry point */
	{ "fetch",		required_argument, NULL, O_FETCH },
	{ "final",		required_argument, NULL, O_FETCH_FINAL },
	{ "bwlimit",		required_argument, NULL, O_FETCH_BW },
	{ "timeout",		required_argument, NULL, O_FETCH_TIMEOUT },
	/* the full sync test entry point (docs/sync.md); --bwlimit, --timeout too */
	{ "sync",		required_argument, NULL, O_SYNC },
	{ "peer",		required_argument, NULL, O_SYNC_PEER },
	{ "disk",		required_argument, NULL, O_SYNC_DISK },
	{ "from",		required_argument, NULL, O_SYNC_FROM },
	{ "size",		required_argument, NULL, O_SYNC_SIZE },
	{ "progress",		required_argument, NULL, O_SYNC_PROGRESS },
	{ "data-path",		required_argument, NULL, O_DATA_PATH },
	{ "engine",		required_argument, NULL, O_ENGINE },
	{ "dev-dir",		required_argument, NULL, O_DEVDIR },
	{ "run-dir",		required_argument, NULL, O_RUNDIR },
	{ "rotate-size",	required_argument, NULL, O_ROTATE },
	{ "fetch-bwlimit",	required_argument, NULL, O_BWLIMIT },
	{ "node-fetch-bwlimit",	required_argument, NULL, O_NODE_BWLIMIT },
	{ "node-sync-bwlimit",	required_argument, NULL, O_NODE_SYNC_BWLIMIT },
	{ "compress",		required_argument, NULL, O_COMPRESS },
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
"       clusterd --fetch RES NAME [--final LEN] [--bwlimit BYTES_PER_S] [--timeout S]\n"
"                 fetch one logfile from the members (a test entry point): until\n"
"                 LEN bytes are local, or follow it until S seconds (60) passed;\n"
"                 prints the fetcher's status as JSON\n"
"       clusterd --sync RES --peer HOST --disk FILE [--from N] [--size N]\n"
"                 [--bwlimit BYTES_PER_S] [--timeout S] [--progress MS]\n"
"                 full sync of FILE from HOST (a test entry point, docs/sync.md);\n"
"                 prints the syncer's status as JSON (every MS with --progress)\n"
"options (environment in brackets):\n"
"  --root DIR            state tree [MARS_ROOT] (/mars)\n"
"  --host NAME           this node's name [MARS_HOST] (uname -n)\n"
"  --key FILE            cluster ssh private key [MARS_SSH_KEY] (/etc/mars/cluster_key)\n"
"  --known-hosts FILE    peers' host keys [MARS_KNOWN_HOSTS] (/etc/mars/known_hosts)\n"
"  --peers FILE          peer overrides 'HOST ADDR[:PORT]' [MARS_PEERS] (/etc/mars/peers)\n"
"  --authorized-keys FILE  remove departed members' keys from it [MARS_AUTHORIZED_KEYS]\n"
"                        (none)\n"
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

static int
parse_ms(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v == 0 || v > 3600000)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

struct opts {
	struct status_config status;
	const char *status_name;	/* long name of the current O_STATUS option */
	int serve;
	const char *join;
	const char *ip;
	char exe[PATH_MAX];
	struct driver_config driver;
	int data_path;
	int backend_set;		/* --backend kmod|user given */
	/* --fetch RES NAME, the fetch test entry point */
	const char *fetch_res;
	const char *fetch_name;
	uint64_t final_len, bwlimit, fetch_timeout_s;
	/* --sync RES, the full sync test entry point */
	const char *sync_res, *sync_peer, *sync_disk;
	uint64_t sync_from, sync_size, sync_progress_ms;
};

static int
parse_one(struct gossip_config *c, struct opts *o, int opt, const char *arg)
{
	int lvl;

	switch (opt) {
	case O_ROOT:	c->root = arg; return 0;
	case O_HOST:
		if (strlen(arg) >= sizeof(c->host))
			return -EINVAL;
		strcpy(c->host, arg);
		return 0;
	case O_KEY:	c->tconf.key_path = arg; return 0;
	case O_KNOWN:	c->tconf.known_hosts = arg; return 0;
	case O_PEERS:	c->peers_file = arg; return 0;
	case O_AUTH_KEYS:	c->authorized_keys = arg; return 0;
	case O_PORT:	return parse_ms(arg, &c->port) == 0 && c->port < 65536 ? 0 : -EINVAL;
	case O_USER:	c->tconf.user = arg; return 0;
	case O_CMD:	c->tconf.remote_cmd = arg; return 0;
	case O_LROOTS:	c->tconf.local_roots = arg; return 0;
	case O_PERIOD:	return parse_ms(arg, &c->period_ms);
	case O_HEARTBEAT: return parse_ms(arg, &c->heartbeat_ms);
	case O_TIMEOUT:	return parse_ms(arg, &c->timeout_ms);
	case O_BACKOFF:	return parse_ms(arg, &c->backoff_max_ms);
	case O_SKEW:	return parse_ms(arg, &c->authz.skew_s) == 0 && c->authz.skew_s ? 0 : -EINVAL;
	case O_QUOTA_ENTRIES:
		return parse_u64(arg, &c->authz.quota_entries) || !c->authz.quota_entries ?
		       -EINVAL : 0;
	case O_QUOTA_BYTES:
		return parse_size(arg, &c->authz.quota_bytes) || !c->authz.quota_bytes ?
		       -EINVAL : 0;
	case O_SERVE:	o->serve = 1; return 0;
	case O_JOIN:	o->join = arg; return 0;
	case O_IP:	o->ip = arg; return 0;
	case O_FETCH:	o->fetch_res = arg; return 0;
	case O_FETCH_FINAL:	return parse_u64(arg, &o->final_len) ? -EINVAL : 0;
	case O_FETCH_BW:	return parse_size(arg, &o->bwlimit) ? -EINVAL : 0;
	case O_FETCH_TIMEOUT:	return parse_u64(arg, &o->fetch_timeout_s) ? -EINVAL : 0;
	case O_SYNC:	o->sync_res = arg; return 0;
	case O_SYNC_PEER:	o->sync_peer = arg; return 0;
	case O_SYNC_DISK:	o->sync_disk = arg; return 0;
	case O_SYNC_FROM:	return parse_u64(arg, &o->sync_from) ? -EINVAL : 0;
	case O_SYNC_SIZE:	return parse_size(arg, &o->sync_size) ? -EINVAL : 0;
	case O_SYNC_PROGRESS:	return parse_u64(arg, &o->sync_progress_ms) ? -EINVAL : 0;
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
	case O_COMPRESS:
		c->compress = gossip_compress_parse(arg);
		return c->compress < 0 ? -EINVAL : 0;
	case O_CRON:	return parse_ms(arg, &o->driver.cron_ms);
	case O_EMERGENCY: return parse_size(arg, &o->driver.emergency_free) ? -EINVAL : 0;
	case O_BACKEND:
		if (!strcmp(arg, "kmod"))
			o->driver.ops = &mars_engine_kmod_ops;
		else if (!strcmp(arg, "user"))
			o->driver.ops = &mars_engine_proc_ops;
		else if (strcmp(arg, "auto"))
			return -EINVAL;
		o->backend_set = strcmp(arg, "auto") != 0;
		return 0;
	case O_TRANSPORT:
		if (strcmp(arg, "ssh") == 0)
			c->transport = &gossip_transport_ssh;
		else if (strcmp(arg, "local") == 0)
			c->transport = &gossip_transport_local;
		else
			return -EINVAL;
		return 0;
	case O_LOG:
		lvl = log_level_parse(arg);
		if (lvl < 0)
			return -EINVAL;
		log_init("clusterd", (enum log_level)lvl);
		return 0;
	}
	return -EINVAL;
}

static int
parse_args(int argc, char **argv, struct gossip_config *c, struct opts *o)
{
	int opt, idx = 0, ret = 0;

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
		if (opt == '?' || (ret = parse_one(c, o, opt, optarg)) < 0) {
			if (ret == -EHOSTUNREACH)
				fprintf(stderr, "clusterd: cannot resolve host of '%s'\n", optarg);
			else if (opt != '?')
				fprintf(stderr, "clusterd: invalid argument '%s' for option\n",
					optarg ? optarg : "");
			fputs(usage_text, stderr);
			return -EINVAL;
		}
	}
	if (o->fetch_res && optind == argc - 1)
		o->fetch_name = argv[optind++];
	if (o->fetch_res && !o->fetch_name) {
		fprintf(stderr, "clusterd: --fetch RES NAME: logfile name missing\n");
		return -EINVAL;
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

static volatile sig_atomic_t fetch_quit;

static void
fetch_on_signal(int sig)
{
	fetch_quit = 1;
}

/* The transfer counters of fetch and sync (docs/protocol.md section 11.5). */
static void
json_add_piece_stats(struct json_object *j, const struct piece_stats *z)
{
	json_object_object_add(j, "bytes_raw", json_object_new_uint64(z->bytes_raw));
	json_object_object_add(j, "bytes_wire", json_object_new_uint64(z->bytes_wire));
	json_object_object_add(j, "decompress_cpu_ns", json_object_new_uint64(z->cpu_ns));
	json_object_object_add(j, "compress_cpu_ns", json_object_new_uint64(z->peer_cpu_ns));
}

static void
print_fetch_status(const struct fetch_status *st, uint64_t elapsed_ms)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "name", json_object_new_string(st->name));
	json_object_object_add(j, "local_len", json_object_new_uint64(st->local_len));
	json_object_object_add(j, "remote_len", json_object_new_uint64(st->remote_len));
	json_object_object_add(j, "final_len", st->final_len == FETCH_FOLLOW ? NULL :
			       json_object_new_uint64(st->final_len));
	json_object_object_add(j, "peer", json_object_new_string(st->peer));
	json_object_object_add(j, "bytes_total", json_object_new_uint64(st->bytes_total));
	json_object_object_add(j, "rate_bps", json_object_new_uint64(st->rate_bps));
	json_object_object_add(j, "error", json_object_new_int(st->error));
	json_object_object_add(j, "why", json_object_new_string(st->why));
	json_object_object_add(j, "refetches", json_object_new_int((int)st->refetches));
	json_object_object_add(j, "complete", json_object_new_boolean(st->complete));
	json_object_object_add(j, "elapsed_ms", json_object_new_uint64(elapsed_ms));
	json_add_piece_stats(j, &st->z);
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
}

/* `--fetch RES NAME`: one fetcher, one logfile, until done or timeout. */
static int
run_fetch(const struct gossip_config *c, const struct opts *o)
{
	struct fetch_want w = { .final_len = o->final_len ? o->final_len : FETCH_FOLLOW };
	uint64_t t0 = gossip_now_ms(), limit_ms = (o->fetch_timeout_s ? o->fetch_timeout_s : 60) * 1000;
	struct fetch_status st = { 0 };
	struct fetcher *f;
	int done = 0, ret;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, fetch_on_signal);
	signal(SIGINT, fetch_on_signal);
	snprintf(w.name, sizeof(w.name), "%s", o->fetch_name);
	ret = fetcher_start(c, o->fetch_res, &f);
	if (ret < 0) {
		fprintf(stderr, "clusterd: cannot start fetcher: %s\n", strerror(-ret));
		return 1;
	}
	fetcher_set_bwlimit(f, o->bwlimit);
	fetcher_want(f, &w, 1);
	while (!fetch_quit && !done && gossip_now_ms() - t0 < limit_ms) {
		usleep(20000);
		fetcher_status(f, &st);
		done = w.final_len != FETCH_FOLLOW && st.local_len >= w.final_len;
	}
	fetcher_stop(f);
	print_fetch_status(&st, gossip_now_ms() - t0);
	return w.final_len == FETCH_FOLLOW ? st.error != 0 : !done;
}

/* ---- `--sync RES`: the full sync test entry point (docs/sync.md) ---- */

static void
print_sync_status(const struct sync_status *st, uint64_t elapsed_ms)
{
	struct json_object *j = json_object_new_object();

#define U64(k, v) json_object_object_add(j, k, json_object_new_uint64(v))
	U64("size_bytes", st->size_bytes);
	U64("from", st->from);
	U64("pos", st->pos);
	U64("bytes_equal", st->bytes_equal);
	U64("bytes_copied", st->bytes_copied);
	U64("net_bytes", st->net_bytes);
	U64("net_bytes_out", st->net_bytes_out);
	U64("rate_bps", st->rate_bps);
	U64("chunk_bytes", st->chunk_bytes);
	U64("elapsed_ms", elapsed_ms);
#undef U64
	json_object_object_add(j, "peer", json_object_new_string(st->peer));
	json_object_object_add(j, "done", json_object_new_boolean(st->done));
	json_object_object_add(j, "syncpos", json_object_new_string(st->syncpos));
	json_object_object_add(j, "error", json_object_new_int(st->error));
	json_object_object_add(j, "why", json_object_new_string(st->why));
	json_add_piece_stats(j, &st->z);
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(j);
}

/* The resource size: --size, else the local tree's resource-RES/size. */
static int
sync_size(const struct gossip_config *c, const struct opts *o, uint64_t *size)
{
	char key[STATEFS_PATH_MAX + 1], val[32];
	struct statefs sf;
	int ret;

	*size = o->sync_size;
	if (*size)
		return 0;
	ret = statefs_open(&sf, c->root, c->host, 0);
	if (ret < 0)
		return ret;
	snprintf(key, sizeof(key), "resource-%s/size", o->sync_res);
	ret = statefs_get(&sf, key, val, sizeof(val), NULL);
	statefs_close(&sf);
	return ret < 0 ? ret : parse_u64(val, size) ? -EINVAL : 0;
}

/* `--sync RES --peer HOST --disk FILE`: one syncer until done, failed or timeout. */
static int
run_sync(const struct gossip_config *c, const struct opts *o)
{
	uint64_t t0 = gossip_now_ms(), last = t0, size,
		 limit_ms = (o->fetch_timeout_s ? o->fetch_timeout_s : 60) * 1000;
	struct sync_status st = { 0 };
	struct syncer *s;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, fetch_on_signal);
	signal(SIGINT, fetch_on_signal);
	if (!o->sync_peer || !o->sync_disk) {
		fprintf(stderr, "clusterd: --sync RES needs --peer HOST and --disk FILE\n");
		return 2;
	}
	ret = sync_size(c, o, &size);
	if (ret < 0) {
		fprintf(stderr, "clusterd: no size of resource '%s' (set --size): %s\n",
			o->sync_res, strerror(-ret));
		return 1;
	}
	ret = syncer_start(c, o->sync_res, o->sync_peer, o->sync_disk, size, o->sync_from, &s);
	if (ret < 0) {
		fprintf(stderr, "clusterd: cannot start the syncer: %s\n", strerror(-ret));
		return 1;
	}
	syncer_set_bwlimit(s, o->bwlimit);
	while (!fetch_quit && !syncer_finished(s) && gossip_now_ms() - t0 < limit_ms) {
		usleep(20000);
		if (o->sync_progress_ms && gossip_now_ms() - last >= o->sync_progress_ms) {
			syncer_status(s, &st);
			print_sync_status(&st, gossip_now_ms() - t0);
			last = gossip_now_ms();
		}
	}
	syncer_halt(s);		/* the thread is joined: this status is final */
	syncer_status(s, &st);
	syncer_stop(s);
	print_sync_status(&st, gossip_now_ms() - t0);
	return !st.done;
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
		return gossip_serve(&c, o.sync_peer);
	}
	if (o.sync_res)
		return run_sync(&c, &o);
	if (o.fetch_res)
		return run_fetch(&c, &o);
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
