/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command-line options of a gossip configuration (gossip.h), one
 * table and one parser for every program that connects to or serves
 * peers: clusterd itself and the test drivers of tests/helpers/.  Each
 * program appends its own options to gossip_options[] (ids from
 * GOSSIP_OPT_BASE up are ours) and hands ours to gossip_config_option().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/gossip/gossip.h"
#include "common/log.h"
#include "common/parse.h"

enum {
	G_ROOT = GOSSIP_OPT_BASE, G_HOST, G_KEY, G_KNOWN, G_PEERS, G_AUTH_KEYS, G_PORT, G_USER,
	G_CMD, G_TRANSPORT, G_LROOTS, G_PERIOD, G_HEARTBEAT, G_TIMEOUT, G_BACKOFF, G_LOG, G_SKEW,
	G_QUOTA_ENTRIES, G_QUOTA_BYTES, G_COMPRESS, G_SERVE_CMD,
};

const struct option gossip_options[GOSSIP_OPTIONS_COUNT + 1] = {
	{ "root",		required_argument, NULL, G_ROOT },
	{ "host",		required_argument, NULL, G_HOST },
	{ "key",		required_argument, NULL, G_KEY },
	{ "known-hosts",	required_argument, NULL, G_KNOWN },
	{ "peers",		required_argument, NULL, G_PEERS },
	{ "authorized-keys",	required_argument, NULL, G_AUTH_KEYS },
	{ "port",		required_argument, NULL, G_PORT },
	{ "ssh-user",		required_argument, NULL, G_USER },
	{ "remote-cmd",		required_argument, NULL, G_CMD },
	{ "transport",		required_argument, NULL, G_TRANSPORT },
	{ "local-roots",	required_argument, NULL, G_LROOTS },
	{ "period-ms",		required_argument, NULL, G_PERIOD },
	{ "heartbeat-ms",	required_argument, NULL, G_HEARTBEAT },
	{ "timeout-ms",		required_argument, NULL, G_TIMEOUT },
	{ "backoff-max-ms",	required_argument, NULL, G_BACKOFF },
	{ "log-level",		required_argument, NULL, G_LOG },
	{ "max-skew-s",		required_argument, NULL, G_SKEW },
	{ "quota-entries",	required_argument, NULL, G_QUOTA_ENTRIES },
	{ "quota-bytes",	required_argument, NULL, G_QUOTA_BYTES },
	{ "compress",		required_argument, NULL, G_COMPRESS },
	{ "serve-cmd",		required_argument, NULL, G_SERVE_CMD },
	{ NULL, 0, NULL, 0 },
};

_Static_assert(G_SERVE_CMD - GOSSIP_OPT_BASE + 1 == GOSSIP_OPTIONS_COUNT,
	       "one table entry per option id");

/* A period in ms: 1 to an hour. */
int
gossip_parse_ms(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v == 0 || v > 3600000)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int
set_port(struct gossip_config *c, const char *arg)
{
	uint64_t v;

	if (parse_u64(arg, &v) < 0 || v == 0 || v > 65535)
		return -EINVAL;
	c->port = (unsigned)v;
	return 0;
}

static int
set_transport(struct gossip_config *c, const char *arg)
{
	if (strcmp(arg, "ssh") == 0)
		c->transport = &gossip_transport_ssh;
	else if (strcmp(arg, "local") == 0)
		c->transport = &gossip_transport_local;
	else
		return -EINVAL;
	return 0;
}

static int
set_log_level(const char *prog, const char *arg)
{
	int lvl = log_level_parse(arg);

	if (lvl < 0)
		return -EINVAL;
	log_init(prog, (enum log_level)lvl);
	return 0;
}

int
gossip_config_option(struct gossip_config *c, int id, const char *arg, const char *prog)
{
	switch (id) {
	case G_ROOT:	c->root = arg; return 0;
	case G_HOST:
		if (strlen(arg) >= sizeof(c->host))
			return -EINVAL;
		strcpy(c->host, arg);
		return 0;
	case G_KEY:	c->tconf.key_path = arg; return 0;
	case G_KNOWN:	c->tconf.known_hosts = arg; return 0;
	case G_PEERS:	c->peers_file = arg; return 0;
	case G_AUTH_KEYS:	c->authorized_keys = arg; return 0;
	case G_PORT:	return set_port(c, arg);
	case G_USER:	c->tconf.user = arg; return 0;
	case G_CMD:	c->tconf.remote_cmd = arg; return 0;
	case G_TRANSPORT:	return set_transport(c, arg);
	case G_LROOTS:	c->tconf.local_roots = arg; return 0;
	case G_PERIOD:	return gossip_parse_ms(arg, &c->period_ms);
	case G_HEARTBEAT: return gossip_parse_ms(arg, &c->heartbeat_ms);
	case G_TIMEOUT:	return gossip_parse_ms(arg, &c->timeout_ms);
	case G_BACKOFF:	return gossip_parse_ms(arg, &c->backoff_max_ms);
	case G_LOG:	return set_log_level(prog, arg);
	case G_SKEW:
		return gossip_parse_ms(arg, &c->authz.skew_s) == 0 && c->authz.skew_s ? 0 : -EINVAL;
	case G_QUOTA_ENTRIES:
		return parse_u64(arg, &c->authz.quota_entries) || !c->authz.quota_entries ?
		       -EINVAL : 0;
	case G_QUOTA_BYTES:
		return parse_size(arg, &c->authz.quota_bytes) || !c->authz.quota_bytes ?
		       -EINVAL : 0;
	case G_COMPRESS:
		c->compress = gossip_compress_parse(arg);
		return c->compress < 0 ? -EINVAL : 0;
	case G_SERVE_CMD:
		c->serve_cmd = arg;
		return *arg ? 0 : -EINVAL;
	}
	return -ENOENT;
}

size_t
gossip_options_join(struct option *out, size_t n, const struct option *extra)
{
	size_t i = 0;

	for (const struct option *o = gossip_options; o->name && i + 1 < n; o++)
		out[i++] = *o;
	for (const struct option *o = extra; o->name && i + 1 < n; o++)
		out[i++] = *o;
	memset(&out[i], 0, sizeof(out[i]));
	return i;
}
