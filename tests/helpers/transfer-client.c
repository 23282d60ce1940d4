/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * transfer-client: one logfile fetch or one full sync, driven from the
 * command line and reported as JSON - the test driver of
 * tests/bats/31-fetch.bats and 62-sync.bats and of the transfer benches
 * (bench/fetch-bench, compress-bench, sync-bench).  It runs the very
 * fetcher and syncer the replication driver runs (clusterd/transfer/),
 * with a gossip configuration from the same options as clusterd's
 * (clusterd/gossip/options.c).  Not installed: the daemon has no test
 * entry points.
 *
 *   transfer-client [GOSSIP OPTION...] --fetch RES NAME [--final LEN]
 *                   [--bwlimit BYTES_PER_S] [--timeout S]
 *   transfer-client [GOSSIP OPTION...] --sync RES --peer HOST --disk FILE
 *                   [--from N] [--size N] [--bwlimit BYTES_PER_S]
 *                   [--timeout S] [--progress MS]
 *
 * --fetch: until LEN bytes are local, or follow the logfile until S
 * seconds (60) passed; exit 0 when complete (following: no error).
 * --sync: until done, failed or S seconds; exit 0 when done.
 * The local transport's serving ends are `clusterd --serve` children:
 * MARS_CLUSTERD names that binary (default: clusterd on PATH).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clusterd/gossip/gossip.h"
#include "clusterd/transfer/fetch.h"
#include "clusterd/transfer/piece.h"
#include "clusterd/transfer/sync.h"
#include "common/log.h"
#include "common/parse.h"

enum { O_FETCH = 256, O_FINAL, O_BWLIMIT, O_TIMEOUT, O_SYNC, O_PEER, O_DISK, O_FROM, O_SIZE,
       O_PROGRESS };

static const struct option own_options[] = {
	{ "fetch",	required_argument, NULL, O_FETCH },
	{ "final",	required_argument, NULL, O_FINAL },
	{ "bwlimit",	required_argument, NULL, O_BWLIMIT },
	{ "timeout",	required_argument, NULL, O_TIMEOUT },
	{ "sync",	required_argument, NULL, O_SYNC },
	{ "peer",	required_argument, NULL, O_PEER },
	{ "disk",	required_argument, NULL, O_DISK },
	{ "from",	required_argument, NULL, O_FROM },
	{ "size",	required_argument, NULL, O_SIZE },
	{ "progress",	required_argument, NULL, O_PROGRESS },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *fetch_res, *fetch_name;
	const char *sync_res, *peer, *disk;
	uint64_t final_len, bwlimit, timeout_s, from, size, progress_ms;
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
parse_one(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case O_FETCH:	o->fetch_res = arg; return 0;
	case O_FINAL:	return parse_u64(arg, &o->final_len) ? -EINVAL : 0;
	case O_BWLIMIT:	return parse_size(arg, &o->bwlimit) ? -EINVAL : 0;
	case O_TIMEOUT:	return parse_u64(arg, &o->timeout_s) ? -EINVAL : 0;
	case O_SYNC:	o->sync_res = arg; return 0;
	case O_PEER:	o->peer = arg; return 0;
	case O_DISK:	o->disk = arg; return 0;
	case O_FROM:	return parse_u64(arg, &o->from) ? -EINVAL : 0;
	case O_SIZE:	return parse_size(arg, &o->size) ? -EINVAL : 0;
	case O_PROGRESS: return parse_u64(arg, &o->progress_ms) ? -EINVAL : 0;
	}
	return -EINVAL;
}

static int
parse_args(int argc, char **argv, struct gossip_config *c, struct opts *o)
{
	struct option options[GOSSIP_OPTIONS_COUNT + 16];
	int opt, ret = 0;

	gossip_options_join(options, sizeof(options) / sizeof(options[0]), own_options);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == '?')
			return -EINVAL;
		ret = opt >= GOSSIP_OPT_BASE ? gossip_config_option(c, opt, optarg, "clusterd")
					     : parse_one(o, opt, optarg);
		if (ret < 0) {
			fprintf(stderr, "transfer-client: invalid argument '%s'\n", optarg);
			return ret;
		}
	}
	if (o->fetch_res && optind == argc - 1)
		o->fetch_name = argv[optind++];
	if (optind != argc || !o->fetch_res == !o->sync_res ||
	    (o->fetch_res && !o->fetch_name) || (o->sync_res && (!o->peer || !o->disk))) {
		fprintf(stderr, "usage: transfer-client [GOSSIP OPTION...] --fetch RES NAME ... | "
			"--sync RES --peer HOST --disk FILE ...\n");
		return -EINVAL;
	}
	return 0;
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
json_print(struct json_object *j)
{
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(j);
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
	json_print(j);
}

static int
run_fetch(const struct gossip_config *c, const struct opts *o)
{
	uint64_t t0 = gossip_now_ms(), limit_ms = (o->timeout_s ? o->timeout_s : 60) * 1000;
	struct fetch_want w = { .final_len = o->final_len ? o->final_len : FETCH_FOLLOW };
	struct fetch_status st = { 0 };
	struct fetcher *f;
	int ret, done = 0;

	snprintf(w.name, sizeof(w.name), "%s", o->fetch_name);
	ret = fetcher_start(c, o->fetch_res, &f);
	if (ret < 0) {
		fprintf(stderr, "transfer-client: cannot start fetcher: %s\n", strerror(-ret));
		return 1;
	}
	fetcher_set_bwlimit(f, o->bwlimit);
	fetcher_want(f, &w, 1);
	while (!quit && !done && gossip_now_ms() - t0 < limit_ms) {
		usleep(20000);
		fetcher_status(f, &st);
		done = w.final_len != FETCH_FOLLOW && st.local_len >= w.final_len;
	}
	fetcher_stop(f);
	print_fetch_status(&st, gossip_now_ms() - t0);
	return w.final_len == FETCH_FOLLOW ? st.error != 0 : !done;
}

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
	json_print(j);
}

/* The resource size: --size, else the local tree's resource-RES/size. */
static int
sync_size(const struct gossip_config *c, const struct opts *o, uint64_t *size)
{
	char key[STATEFS_PATH_MAX + 1], val[32];
	struct statefs *sf = NULL;
	int ret;

	*size = o->size;
	if (*size)
		return 0;
	ret = statefs_open(&sf, c->root, c->host, 0);
	if (ret < 0)
		return ret;
	snprintf(key, sizeof(key), "resource-%s/size", o->sync_res);
	ret = statefs_get(sf, key, val, sizeof(val), NULL);
	statefs_close(&sf);
	return ret < 0 ? ret : parse_u64(val, size) ? -EINVAL : 0;
}

static int
run_sync(const struct gossip_config *c, const struct opts *o)
{
	uint64_t t0 = gossip_now_ms(), last = t0, size,
		 limit_ms = (o->timeout_s ? o->timeout_s : 60) * 1000;
	struct sync_status st = { 0 };
	struct syncer *s;
	int ret = sync_size(c, o, &size);

	if (ret < 0) {
		fprintf(stderr, "transfer-client: no size of resource '%s' (set --size): %s\n",
			o->sync_res, strerror(-ret));
		return 1;
	}
	ret = syncer_start(c, o->sync_res, o->peer, o->disk, size, o->from, &s);
	if (ret < 0) {
		fprintf(stderr, "transfer-client: cannot start the syncer: %s\n", strerror(-ret));
		return 1;
	}
	syncer_set_bwlimit(s, o->bwlimit);
	while (!quit && !syncer_finished(s) && gossip_now_ms() - t0 < limit_ms) {
		usleep(20000);
		if (o->progress_ms && gossip_now_ms() - last >= o->progress_ms) {
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
	const char *serve_exe = getenv("MARS_CLUSTERD");
	struct gossip_config c;
	struct opts o = { 0 };

	log_init("clusterd", LOG_LVL_INFO);
	if (gossip_config_init(&c) < 0 || parse_args(argc, argv, &c, &o) < 0)
		return 2;
	gossip_config_finish(&c);
	c.tconf.local_exe = serve_exe && *serve_exe ? serve_exe : "clusterd";
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	return o.fetch_res ? run_fetch(&c, &o) : run_sync(&c, &o);
}
