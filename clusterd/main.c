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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/gossip.h"
#include "clusterd/log.h"
#include "clusterd/proto.h"
#include "clusterd/status.h"

enum { O_ROOT = 256, O_HOST, O_KEY, O_KNOWN, O_PEERS, O_PORT, O_USER, O_CMD,
       O_TRANSPORT, O_LROOTS, O_PERIOD, O_HEARTBEAT, O_TIMEOUT, O_BACKOFF, O_LOG,
       O_SERVE, O_JOIN, O_IP, O_VERSION, O_HELP, O_STATUS };

static const struct option options[] = {
	{ "root",		required_argument, NULL, O_ROOT },
	{ "host",		required_argument, NULL, O_HOST },
	{ "key",		required_argument, NULL, O_KEY },
	{ "known-hosts",	required_argument, NULL, O_KNOWN },
	{ "peers",		required_argument, NULL, O_PEERS },
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
	{ "serve",		no_argument,       NULL, O_SERVE },
	{ "join",		required_argument, NULL, O_JOIN },
	{ "ip",			required_argument, NULL, O_IP },
	{ "version",		no_argument,       NULL, O_VERSION },
	{ "help",		no_argument,       NULL, O_HELP },
	/* status page options, parsed by status_config_option() */
	{ "http-listen",	required_argument, NULL, O_STATUS },
	{ "http-token",		required_argument, NULL, O_STATUS },
	{ "db",			required_argument, NULL, O_STATUS },
	{ "alert-url",		required_argument, NULL, O_STATUS },
	{ "lag-alert-bytes",	required_argument, NULL, O_STATUS },
	{ "status-sample-ms",	required_argument, NULL, O_STATUS },
	{ "silent-ms",		required_argument, NULL, O_STATUS },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: clusterd [OPTION]...            run the gossip daemon (foreground)\n"
"       clusterd --serve [OPTION]...    serving end on stdin/stdout (ssh forced command)\n"
"       clusterd --join ADDR [--ip IP]  join the cluster of the member at ADDR\n"
"options (environment in brackets):\n"
"  --root DIR            state tree [MARS_ROOT] (/mars)\n"
"  --host NAME           this node's name [MARS_HOST] (uname -n)\n"
"  --key FILE            cluster ssh private key [MARS_SSH_KEY] (/etc/mars/cluster_key)\n"
"  --known-hosts FILE    peers' host keys [MARS_KNOWN_HOSTS] (/etc/mars/known_hosts)\n"
"  --peers FILE          peer overrides 'HOST ADDR[:PORT]' [MARS_PEERS] (/etc/mars/peers)\n"
"  --port N              peers' ssh port [MARS_SSH_PORT] (22)\n"
"  --ssh-user NAME       login name on peers [MARS_SSH_USER] (root)\n"
"  --remote-cmd CMD      command requested on peers (clusterd --serve)\n"
"  --transport ssh|local local: peers are child processes on trees --local-roots/HOST\n"
"  --period-ms N         keepalive pull of idle peers (5000)\n"
"  --heartbeat-ms N      heartbeat actual-HOST/time period (5000)\n"
"  --timeout-ms N        bound on connecting and on every reply (10000)\n"
"  --backoff-max-ms N    longest delay between reconnects (30000)\n"
"  --log-level LEVEL     err, warn, info (default) or debug\n"
"status page (docs/http-api.md):\n"
"  --http-listen ADDR:PORT  serve it there, 'none' = off (127.0.0.1:7780)\n"
"  --http-token TOKEN    require 'Authorization: Bearer TOKEN' for /api and /metrics\n"
"  --db FILE             keep history (samples, events) in this sqlite file\n"
"  --alert-url URL       post alerts as JSON to URL (repeatable, up to 8)\n"
"  --lag-alert-bytes N   alert when a replica lags more than N bytes (0 = never)\n"
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
	case O_PORT:	return parse_ms(arg, &c->port) == 0 && c->port < 65536 ? 0 : -EINVAL;
	case O_USER:	c->tconf.user = arg; return 0;
	case O_CMD:	c->tconf.remote_cmd = arg; return 0;
	case O_LROOTS:	c->tconf.local_roots = arg; return 0;
	case O_PERIOD:	return parse_ms(arg, &c->period_ms);
	case O_HEARTBEAT: return parse_ms(arg, &c->heartbeat_ms);
	case O_TIMEOUT:	return parse_ms(arg, &c->timeout_ms);
	case O_BACKOFF:	return parse_ms(arg, &c->backoff_max_ms);
	case O_SERVE:	o->serve = 1; return 0;
	case O_JOIN:	o->join = arg; return 0;
	case O_IP:	o->ip = arg; return 0;
	case O_STATUS:	return status_config_option(&o->status, o->status_name, arg);
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
	int opt, idx = 0;

	while ((opt = getopt_long(argc, argv, "", options, &idx)) != -1) {
		o->status_name = options[idx].name;
		if (opt == O_VERSION) {
			printf("clusterd %s (gossip protocol %d)\n", MARS_VERSION,
			       GOSSIP_PROTO_VERSION);
			exit(0);
		}
		if (opt == O_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (opt == '?' || parse_one(c, o, opt, optarg) < 0) {
			if (opt != '?')
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
	status_config_init(&o.status);
	if (parse_args(argc, argv, &c, &o) < 0)
		return 2;
	c.status = &o.status;
	gossip_config_finish(&c);
	n = readlink("/proc/self/exe", o.exe, sizeof(o.exe) - 1);
	if (n > 0) {
		o.exe[n] = '\0';
		c.tconf.local_exe = o.exe;
	}
	if (o.serve) {
		log_init("clusterd-serve", LOG_LVL_WARN);
		return gossip_serve(&c);
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
	return gossip_daemon(&c);
}
