/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Defaults and environment overrides of the gossip configuration, shared
 * by the daemon, the serving end and marsadm's join-cluster, so that all
 * three agree on where keys, known hosts and peers are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/transfer/piece.h"
#include "common/env.h"

uint64_t
gossip_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
gossip_config_init(struct gossip_config *c)
{
	const char *port = getenv("MARS_SSH_PORT");
	int ret;

	memset(c, 0, sizeof(*c));
	c->root = statefs_default_root();
	ret = statefs_default_host(c->host, sizeof(c->host));
	if (ret < 0)
		return ret;
	c->peers_file = env_or("MARS_PEERS", GOSSIP_DEFAULT_PEERS);
	c->authorized_keys = getenv("MARS_AUTHORIZED_KEYS");
	c->serve_cmd = env_or("MARS_SERVE_CMD", GOSSIP_DEFAULT_SERVE_CMD);
	c->port = port && *port ? (unsigned)strtoul(port, NULL, 10) : 22;
	c->transport = &gossip_transport_ssh;
	c->tconf.user = env_or("MARS_SSH_USER", "root");
	c->tconf.key_path = env_or("MARS_SSH_KEY", GOSSIP_DEFAULT_KEY);
	c->tconf.known_hosts = env_or("MARS_KNOWN_HOSTS", GOSSIP_DEFAULT_KNOWN_HOSTS);
	c->tconf.remote_cmd = GOSSIP_DEFAULT_CMD;
	c->period_ms = 5000;
	c->heartbeat_ms = 5000;
	c->timeout_ms = 10000;
	c->backoff_min_ms = 500;
	c->backoff_max_ms = 30000;
	c->compress = PIECE_AUTO;	/* clusterd's --compress, MARS_COMPRESS */
	gossip_config_finish(c);
	return 0;
}

int
gossip_compress_parse(const char *s)
{
	if (strcmp(s, "none") == 0)
		return PIECE_NONE;
	if (strcmp(s, "auto") == 0)
		return PIECE_AUTO;
	if (strcmp(s, "zstd") == 0)
		return PIECE_ZSTD;
	return -EINVAL;
}

int
gossip_compress_setting(const char *s, uint64_t *out_mode)
{
	int mode = gossip_compress_parse(s);

	if (mode < 0)
		return mode;
	*out_mode = (uint64_t)mode;
	return 0;
}

const char *
gossip_compress_name(int mode)
{
	return mode == PIECE_NONE ? "none" : mode == PIECE_ZSTD ? "zstd" : "auto";
}

/* The mode a tree key @key names, or -ENOENT / -EINVAL. */
static int
compress_key(struct statefs *sf, const char *key)
{
	char val[STATEFS_VALUE_MAX + 1];

	if (statefs_get(sf, key, val, sizeof(val), NULL) < 0)
		return -ENOENT;
	return gossip_compress_parse(val);
}

int
gossip_compress_mode(const struct gossip_config *c, struct statefs *sf, const char *res)
{
	char key[STATEFS_PATH_MAX + 1];
	struct statefs *own = NULL;
	int mode;

	if (!sf) {
		if (statefs_open(&own, c->root, c->host, 0) < 0)
			return c->compress;
		sf = own;
	}
	statefs_resource_keyf(key, sizeof(key), res, "defaults-%s/compress", c->host);
	mode = compress_key(sf, key);
	if (mode < 0) {
		statefs_resource_keyf(key, sizeof(key), res, "defaults/compress");
		mode = compress_key(sf, key);
	}
	if (sf == own)
		statefs_close(&own);
	return mode < 0 ? c->compress : mode;
}

void
gossip_config_finish(struct gossip_config *c)
{
	snprintf(c->pub_buf, sizeof(c->pub_buf), "%s.pub", c->tconf.key_path);
	c->tconf.pub_path = c->pub_buf;
	c->tconf.self = c->host;
	if (c->backoff_min_ms > c->backoff_max_ms)
		c->backoff_min_ms = c->backoff_max_ms;
}
