/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clusterd's gossip: its configuration (config.c), the pull of a peer's
 * tree (peer.c, the peer list of peers.c), and the one-shot join and
 * update (join.c) that marsadm join-cluster and pull-cluster run.  The
 * daemon's loop that drives the pulls and the serving end that answers
 * them are clusterd's top floor (clusterd/loop.c, clusterd/serve.c).
 * docs/protocol.md describes the exchange.
 */
#ifndef MARS_CLUSTERD_GOSSIP_H
#define MARS_CLUSTERD_GOSSIP_H

#include <getopt.h>
#include <stdint.h>

#include "clusterd/gossip/authz.h"
#include "clusterd/gossip/transport.h"
#include "statefs/statefs.h"


/* Everything configurable, with the defaults of gossip_config_init(). */
struct gossip_config {
	const char *root;		/* state tree (statefs_default_root()) */
	char host[STATEFS_NAME_MAX + 1];/* this node (statefs_default_host()) */
	const char *peers_file;		/* overrides "HOST ADDR[:PORT]" (/etc/mars/peers) */
	const char *authorized_keys;	/* departed members' lines removed, new
					   members' added (keys.h); NULL: off */
	const char *serve_cmd;		/* forced command of the lines added, before
					   " --peer NAME" (GOSSIP_DEFAULT_SERVE_CMD) */
	unsigned port;			/* default ssh port of peers (22) */
	const struct gossip_transport_ops *transport;	/* ssh */
	struct gossip_tconf tconf;	/* keys, known hosts, user, command */
	char pub_buf[4096];		/* storage for tconf.pub_path */
	unsigned period_ms;		/* keepalive pull of idle peers (5000) */
	unsigned heartbeat_ms;		/* actual-HOST/time update period (5000) */
	unsigned timeout_ms;		/* bound on connect and on each reply (10000) */
	unsigned backoff_min_ms;	/* first reconnect delay (500) */
	unsigned backoff_max_ms;	/* largest reconnect delay (30000) */
	struct authz_limits authz;	/* clock skew and per-origin quotas (authz.h) */
	/* The serving end sends a logfile the local data path writes only up
	 * to its durable end (mars_engine_durable_end()); NULL: no cap. */
	int (*durable_end)(struct statefs *sf, const char *res, const char *logfile,
			   uint64_t *end);
	/* The serving end confines itself with this before the first frame
	 * (serve_confine(), docs/protocol.md 1.2); clusterd --serve sets it.
	 * NULL: not confined, for a process that runs many sessions in
	 * itself (the fuzz target).  0, or -errno: the session ends. */
	int (*confine)(struct statefs *sf, const char *root);
	int compress;			/* enum piece_mode (auto); clusterd: --compress,
					   MARS_COMPRESS */
};

#define GOSSIP_DEFAULT_KEY		"/etc/mars/cluster_key"
#define GOSSIP_DEFAULT_KNOWN_HOSTS	"/etc/mars/known_hosts"
#define GOSSIP_DEFAULT_PEERS		"/etc/mars/peers"
#define GOSSIP_DEFAULT_CMD		"clusterd --serve"
#define GOSSIP_DEFAULT_SERVE_CMD	SBINDIR "/clusterd --serve"

/* Fill @c with defaults, then the environment (MARS_ROOT, MARS_HOST,
 * MARS_SSH_KEY, MARS_KNOWN_HOSTS, MARS_PEERS, MARS_SSH_USER, MARS_SSH_PORT,
 * MARS_AUTHORIZED_KEYS, MARS_SERVE_CMD).
 * Returns 0 or -errno (host name too long). */
int gossip_config_init(struct gossip_config *c);
/* "auto", "zstd" or "none": enum piece_mode (clusterd/transfer/piece.h), or -EINVAL. */
int gossip_compress_parse(const char *s);
/* The same as a tree setting's parser (repl_setting_read): 0 or -EINVAL. */
int gossip_compress_setting(const char *s, uint64_t *out_mode);
/* The word of a mode gossip_compress_parse() takes: auto, zstd or none. */
const char *gossip_compress_name(int mode);
/*
 * The compression mode (enum piece_mode) of this host for resource @res:
 * resource-RES/defaults-HOST/compress, else resource-RES/defaults/compress,
 * else c->compress (docs/protocol.md section 11.4).  A value that is not a
 * mode is ignored.  @sf: the tree, or NULL to open it for the call.
 */
int gossip_compress_mode(const struct gossip_config *c, struct statefs *sf, const char *res);
/*
 * Command-line options of a gossip configuration (options.c), shared by
 * clusterd and the test drivers: gossip_options[] (ids from
 * GOSSIP_OPT_BASE on, which a program's own options stay below), joined
 * before a program's own by gossip_options_join() (returns the count, the
 * table NULL-terminated in @n entries), and applied by
 * gossip_config_option(): 0, -EINVAL (a bad value) or -ENOENT (not one of
 * these).  @prog names the program in log lines (--log-level).
 */
#define GOSSIP_OPT_BASE		0x1000
#define GOSSIP_OPTIONS_COUNT	21
extern const struct option gossip_options[GOSSIP_OPTIONS_COUNT + 1];
size_t gossip_options_join(struct option *out, size_t n, const struct option *extra);
int gossip_config_option(struct gossip_config *c, int id, const char *arg, const char *prog);
/* A period of 1 ms to an hour.  0 or -EINVAL. */
int gossip_parse_ms(const char *s, unsigned *out);

/* Derive dependent fields (the public key path).  Call after changes. */
void gossip_config_finish(struct gossip_config *c);

/* The serving end and the daemon's loop are clusterd's top floor:
 * clusterd/serve.h, clusterd/loop.h. */

/*
 * Join the cluster of the peer at @addr (a numeric address or a host
 * name; port c->port): fetch its tree into the local root (created as a
 * fresh tree if empty), register this host as ips/ip-HOST with @my_ip
 * (an address or a name, resolved first: a name that does not resolve is
 * refused with -EHOSTUNREACH before anything is written; NULL: the local
 * address of the connection) and push that to the peer.  Refused (-EEXIST) if the local
 * tree belongs to another cluster.  On failure @err holds a message.
 * Returns 0 or -errno.
 */
int gossip_join(const struct gossip_config *c, const char *addr, const char *my_ip,
		char *err, size_t errlen);

/* What gossip_update() says about one member. */
struct gossip_pull_report {
	const struct gossip_endpoint *ep;	/* the member: host, address, port */
	int ret;				/* 0 or -errno (-ETIMEDOUT: no answer in time) */
	const char *err;			/* the reason when ret < 0 */
	unsigned merged;			/* entries that changed the local tree */
	unsigned refused;			/* entries the merge checks refused */
};

/*
 * Pull the full tree of every member (ips/ minus this host, overlaid with
 * the peers file) for which @want (NULL: all) returns nonzero, and merge it
 * exactly as the daemon merges a pull: gossip_entry_policy(), then
 * statefs_merge() as written by the host the member proved to be in its
 * HELLO.  Nothing is pushed and nothing is written in another name.  Each
 * wait is bounded by c->timeout_ms and by @deadline_ms (gossip_now_ms()
 * clock; 0: no overall bound).  @report is called once per member.
 * Returns the number of members that did not answer, or -errno when the
 * local tree cannot be opened (-ENOENT: it has no cluster uuid).
 */
int gossip_update(const struct gossip_config *c, uint64_t deadline_ms,
		  int (*want)(const char *host, void *arg),
		  void (*report)(const struct gossip_pull_report *r, void *arg), void *arg);

/*
 * Gossip's own refusals on top of statefs_merge()'s: a "uuid" other than
 * @uuid (unless @uuid is ""), an ips/ entry not named ip-HOST or whose
 * value is not an IP address.  Returns 0 or -EPERM / -EDOM / -EXDEV.
 */
int gossip_entry_policy(const char *uuid, const char *path, const char *value);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t gossip_now_ms(void);

/*
 * The serving end's stop request (serve_stop.c): after
 * gossip_serve_stop_on_signals(), SIGTERM and SIGINT make
 * gossip_serve_stopping() 1, and every session loop of `clusterd --serve`
 * (gossip, fetch, sync) ends.
 */
void gossip_serve_stop_on_signals(void);
int gossip_serve_stopping(void);

#endif /* MARS_CLUSTERD_GOSSIP_H */
