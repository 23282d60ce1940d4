// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine-append: the engine's write path alone, without a front end:
 * THREADS writers call eng_logger_write with 4 KiB at random offsets
 * for SECONDS, as the NBD front end's workers would, on a fresh state
 * root under DIR; prints "writes/s N" and "MiB/s N" of acknowledged
 * writes.  FUSE serialises what reaches this point and the build host
 * has no nbd.ko, so this is where batched appends can be seen on the
 * host.  Built by bench/engine-append.sh against one source tree at a
 * time (the API it uses is that of engine/internal.h on main too).
 *
 *   engine-append DIR THREADS SECONDS [PENDING_MIB]
 *
 * PENDING_MIB is the writeback queue's limit (the engine's --pending-mib,
 * default 64): with a limit larger than what a run writes, writers never
 * wait for writeback and the figure is the append path's own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "engine_fixture.h"

#define EA_DISK_BYTES	(256ULL << 20)
#define EA_BLOCK	4096
#define EA_THREADS_MAX	64

static struct eng_logger ea_l;
static volatile int ea_stop;

struct ea_writer {
	pthread_t t;
	unsigned int seed;
	uint64_t writes;
	int ret;
};

static void *
ea_write(void *arg)
{
	struct ea_writer *w = arg;
	uint8_t buf[EA_BLOCK];
	uint64_t off;

	memset(buf, (int)w->seed, sizeof(buf));
	while (!ea_stop && !w->ret) {
		off = (uint64_t)(rand_r(&w->seed) % (EA_DISK_BYTES / EA_BLOCK)) * EA_BLOCK;
		w->ret = eng_logger_write(&ea_l, buf, sizeof(buf), off);
		w->writes++;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct mars_engine e;
	struct ea_writer w[EA_THREADS_MAX];
	char tmpl[4096];
	struct timespec t0, t1;
	uint64_t writes = 0;
	double secs;
	int threads, i, bad = 0;

	if (argc < 4 || argc > 5 || (threads = atoi(argv[2])) < 1 || threads > EA_THREADS_MAX ||
	    atoi(argv[3]) < 1) {
		fprintf(stderr, "usage: engine-append DIR THREADS SECONDS [PENDING_MIB]\n");
		return 2;
	}
	snprintf(tmpl, sizeof(tmpl), "%s/engine-append.XXXXXX", argv[1]);
	if (argc == 5)
		e.pending_bytes = strtoull(argv[4], NULL, 10) << 20;
#ifdef MARS_ENGINE_PREALLOC_DEFAULT
	/* A tree that preallocates its logfile: as mars-engine runs by
	 * default (the fixture's zeroed struct would turn it off). */
	e.prealloc_bytes = getenv("EA_PREALLOC_KIB") ?
			   strtoull(getenv("EA_PREALLOC_KIB"), NULL, 10) << 10 :
			   MARS_ENGINE_PREALLOC_DEFAULT;
#endif
	if (engine_fixture_setup(&e, tmpl, EA_DISK_BYTES) || eng_logger_start(&ea_l, &e, 1)) {
		fprintf(stderr, "engine-append: cannot set up in '%s'\n", tmpl);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++) {
		w[i] = (struct ea_writer){ .seed = (unsigned int)i + 1 };
		pthread_create(&w[i].t, NULL, ea_write, &w[i]);
	}
	sleep((unsigned int)atoi(argv[3]));
	ea_stop = 1;
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		writes += w[i].writes;
		bad |= w[i].ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	eng_logger_stop(&ea_l);
	printf("writes/s %.0f\nMiB/s %.1f\n", (double)writes / secs,
	       (double)writes * EA_BLOCK / secs / (1 << 20));
	printf("tmpdir %s\n", tmpl);
	return bad ? 1 : 0;
}
