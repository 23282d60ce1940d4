/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NBD front end: the primary's device as a real block device,
 * /dev/nbdN, through the kernel's own NBD driver (nbd.ko, in Debian's
 * kernels), so that no module of ours is needed and, unlike FUSE, the
 * block layer hands us many requests at once and real flush and FUA.
 *
 * Why the ioctl interface and a socketpair: the kernel is the client, we
 * are the server, and the two ends live in this process; there is no
 * network and no handshake, only the transmission phase of the protocol
 * (the NBD protocol document, "Transmission").  The kernel end is given
 * to /dev/nbdN with NBD_SET_SOCK, size and flags are set, and NBD_DO_IT
 * blocks in a thread of its own for as long as the device is connected.
 *
 * Threads: one reader takes requests off the socket and checks every
 * header with nbd_req.c (the kernel is trusted, but a malformed frame
 * must not make us read or write past a buffer or the device).  When the
 * socket holds nothing more, it runs a plain read or write itself: at
 * queue depth 1 a hand-off to another thread costs as much as the
 * request (measured in the guest, docs/performance.md).  Otherwise, and
 * always for flushes, which wait for a log sync, it queues the request
 * for NBD_WORKERS workers.  Replies go out one at a time under send_lock.
 * Writes go to the logger (append and queue: writes that arrive together
 * are appended together, logger.c), FUA writes and FLUSH to its group
 * commit, reads to its read path, which lays queued writes over the
 * disk: the very calls fuse.c makes.
 *
 * Ordering: the block layer only promises that a FLUSH covers writes
 * completed before it was sent; a write is completed (replied) only after
 * eng_logger_write appended it, and the flush's eng_logger_sync covers
 * everything appended before it, so running requests in parallel keeps
 * that promise.
 *
 * Stop: SIGTERM, SIGINT or SIGHUP (blocked in every thread by main.c and
 * taken here with sigtimedwait), or a disconnect by someone else
 * (`nbd-client -d`).  NBD_DISCONNECT makes the kernel send DISC; the
 * reader stops, the workers answer what was queued, the socket closes,
 * NBD_DO_IT returns, NBD_CLEAR_SOCK frees the device.  Failure policy: a
 * protocol error or a dead socket ends the connection (the kernel fails
 * the outstanding I/O); an engine error fails only its request.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nbd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/internal.h"
#include "engine/nbd_req.h"

#define NBD_WORKERS		4
#define NBD_START_MS		10000	/* NBD_DO_IT to the device being live */
#define NBD_DEV_MAX		256
#define NBD_SOCK_BUF_BYTES	(4u << 20)	/* a few 1 MiB requests in flight */

/* One request, decoded and checked (nbd_req.c), with its data. */
struct nbd_req {
	struct nbd_req *next;		/* queue order */
	struct eng_nbd_req h;
	uint8_t data[];			/* WRITE payload or READ buffer: h.buf_bytes */
};

/* One served device. */
struct eng_nbd {
	const struct eng_serve *s;
	int dev_fd;			/* /dev/nbdN, for the ioctls */
	int sock;			/* our end of the socketpair */
	int index;			/* N */
	char device[32];		/* "/dev/nbdN" */
	char link[PATH_MAX];		/* <mount>/<resource> -> device, or "" */
	int users;			/* mounts and holders last counted (main thread) */

	pthread_t doit, reader, workers[NBD_WORKERS];
	int workers_started;		/* threads to join: workers (by the */
	int reader_started, doit_started;	/* reader, once it ends), reader, doit */
	int doit_ret;			/* -errno of NBD_DO_IT */
	int doit_done;			/* atomic: NBD_DO_IT returned */

	pthread_mutex_t lock;		/* guards the queue and done */
	pthread_cond_t work;		/* to the workers: a request or done */
	struct nbd_req *head, *tail;
	int done;			/* the reader will queue no more */

	pthread_mutex_t send_lock;	/* one reply at a time on sock */
};

/* Read exactly @len bytes: 0, -EPIPE at end of stream, or -errno. */
static int
nbd_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n == 0)
			return -EPIPE;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
nbd_write_full(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt) {
		n = writev(fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* ---- the I/O path ----------------------------------------------------------- */

static int
nbd_reply(struct eng_nbd *n, const struct nbd_req *r, int err)
{
	uint8_t hdr[ENG_NBD_REPLY_BYTES];
	struct iovec iov[2] = {
		{ hdr, sizeof(hdr) },
		{ (void *)r->data, r->h.len },
	};
	int ret;

	eng_nbd_reply_put(hdr, &r->h, err);
	pthread_mutex_lock(&n->send_lock);
	ret = nbd_write_full(n->sock, iov, r->h.type == NBD_CMD_READ && !err ? 2 : 1);
	pthread_mutex_unlock(&n->send_lock);
	return ret;
}

static int
nbd_do_read(struct eng_nbd *n, struct nbd_req *r)
{
	ssize_t got = eng_logger_read(&n->s->e->logger, r->data, r->h.len, r->h.off);

	if (got < 0)
		return (int)got;
	if ((size_t)got < r->h.len)	/* a short disk: what it lacks is zeros */
		memset(r->data + got, 0, r->h.len - (size_t)got);
	return 0;
}

static int
nbd_do_write(struct eng_nbd *n, struct nbd_req *r)
{
	int ret = eng_logger_write(&n->s->e->logger, r->data, r->h.len, r->h.off);

	if (!ret && (r->h.flags & (NBD_CMD_FLAG_FUA >> 16)))
		ret = eng_logger_sync(&n->s->e->logger);
	return ret;
}

/* Run one checked request; returns the -errno its reply carries. */
static int
nbd_run(struct eng_nbd *n, struct nbd_req *r)
{
	switch (r->h.type) {
	case NBD_CMD_READ:
		return nbd_do_read(n, r);
	case NBD_CMD_WRITE:
		return nbd_do_write(n, r);
	case NBD_CMD_FLUSH:
		return eng_logger_sync(&n->s->e->logger);
	}
	return -EINVAL;
}

static void *
nbd_worker(void *arg)
{
	struct eng_nbd *n = arg;
	struct nbd_req *r;

	for (;;) {
		pthread_mutex_lock(&n->lock);
		while (!n->head && !n->done)
			pthread_cond_wait(&n->work, &n->lock);
		r = n->head;
		if (r) {
			n->head = r->next;
			if (!n->head)
				n->tail = NULL;
		}
		pthread_mutex_unlock(&n->lock);
		if (!r)
			return NULL;
		/* A failed send means the socket is gone: the kernel fails
		 * the request itself, nothing to tell it. */
		nbd_reply(n, r, r->h.refuse ? -r->h.refuse : nbd_run(n, r));
		free(r);
	}
}

static void
nbd_queue(struct eng_nbd *n, struct nbd_req *r)
{
	pthread_mutex_lock(&n->lock);
	if (n->tail)
		n->tail->next = r;
	else
		n->head = r;
	n->tail = r;
	pthread_cond_signal(&n->work);
	pthread_mutex_unlock(&n->lock);
}

/* Run @r in the reader: a plain read or write, and no other request
 * waiting behind it in the socket. */
static int
nbd_inline(const struct eng_nbd *n, const struct nbd_req *r)
{
	int avail = 1;

	if (r->h.refuse || (r->h.type != NBD_CMD_READ && r->h.type != NBD_CMD_WRITE) ||
	    (r->h.flags & (NBD_CMD_FLAG_FUA >> 16)))
		return 0;
	return ioctl(n->sock, FIONREAD, &avail) == 0 && avail == 0;
}

/* Take one request off the socket: 0, 1 on DISC, -errno to end. */
static int
nbd_read_req(struct eng_nbd *n)
{
	uint8_t h[ENG_NBD_REQ_BYTES];
	struct eng_nbd_req hdr;
	struct nbd_req *r;
	int ret;

	ret = nbd_read_full(n->sock, h, sizeof(h));
	if (ret)
		return ret;
	ret = eng_nbd_req_parse(h, sizeof(h), n->s->size_bytes, &hdr);
	if (ret)
		return ret;
	r = malloc(sizeof(*r) + hdr.buf_bytes);
	if (!r)
		return -ENOMEM;
	r->next = NULL;
	r->h = hdr;
	ret = nbd_read_full(n->sock, r->data, hdr.payload_bytes);
	if (ret) {
		free(r);
		return ret;
	}
	if (!nbd_inline(n, r)) {
		nbd_queue(n, r);
		return 0;
	}
	nbd_reply(n, r, nbd_run(n, r));
	free(r);
	return 0;
}

/* No more requests: the workers answer the queued ones and end. */
static void
nbd_end_workers(struct eng_nbd *n)
{
	int i;

	pthread_mutex_lock(&n->lock);
	n->done = 1;
	pthread_cond_broadcast(&n->work);
	pthread_mutex_unlock(&n->lock);
	for (i = 0; i < n->workers_started; i++)
		pthread_join(n->workers[i], NULL);
	n->workers_started = 0;
}

static void *
nbd_reader(void *arg)
{
	struct eng_nbd *n = arg;
	int ret;

	while ((ret = nbd_read_req(n)) == 0)
		;
	if (ret < 0 && ret != -EPIPE)
		fprintf(stderr, "mars-engine: %s: %s; disconnecting\n", n->device,
			ret == -EPROTO ? "malformed request" : strerror(-ret));
	nbd_end_workers(n);
	/* Every queued request is answered: now the kernel may see the end. */
	shutdown(n->sock, SHUT_RDWR);
	return NULL;
}

static void *
nbd_doit(void *arg)
{
	struct eng_nbd *n = arg;

	n->doit_ret = ioctl(n->dev_fd, NBD_DO_IT) < 0 ? -errno : 0;
	__atomic_store_n(&n->doit_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- finding and claiming a device ------------------------------------------ */

/* 1 if /dev/nbdN is connected to some server (its pid file exists). */
static int
nbd_busy(int index)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", index);
	return access(path, F_OK) == 0;
}

/* modprobe nbd, argv only; 0 if it succeeded. */
static int
nbd_modprobe(void)
{
	char *argv[] = { "modprobe", "nbd", NULL };
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENODEV;
}

/* The device nodes exist, loading nbd.ko if need be. */
static int
nbd_loaded(void)
{
	if (access("/dev/nbd0", F_OK) == 0)
		return 0;
	if (nbd_modprobe() == 0 && access("/dev/nbd0", F_OK) == 0)
		return 0;
	return -ENODEV;
}

static int
nbd_probe(void)
{
	char path[32];
	int i;

	if (nbd_loaded())
		return -ENODEV;
	for (i = 0; i < NBD_DEV_MAX; i++) {
		snprintf(path, sizeof(path), "/dev/nbd%d", i);
		if (access(path, F_OK) < 0)
			break;
		if (!nbd_busy(i))
			return 0;
	}
	return -EBUSY;
}

/*
 * Claim a free device: NBD_SET_SOCK succeeds for one task only, so two
 * engines racing for the same N cannot both get it (-EBUSY: next one).
 */
static int
nbd_claim(struct eng_nbd *n, int kern_sock)
{
	int i, fd;

	for (i = 0; i < NBD_DEV_MAX; i++) {
		snprintf(n->device, sizeof(n->device), "/dev/nbd%d", i);
		fd = open(n->device, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			break;
		if (fd < 0 || nbd_busy(i))
			goto next;
		if (ioctl(fd, NBD_SET_SOCK, kern_sock) == 0) {
			n->dev_fd = fd;
			n->index = i;
			return 0;
		}
next:
		if (fd >= 0)
			close(fd);
	}
	n->device[0] = '\0';
	return -EBUSY;
}

/*
 * Size and flags; the device accepts I/O once NBD_DO_IT runs.  The block
 * size is 512 whatever the size: NBD makes it the device's logical block
 * size, and a replica must take every file system the other data paths
 * took (mars.ko and the disks have 512-byte sectors).  With 4096 an ext4
 * of 1 KiB blocks, made on the primary, did not mount after a handover.
 */
static int
nbd_configure(struct eng_nbd *n)
{
	uint64_t size = n->s->size_bytes;
	unsigned long blk = 512;

	if (size == 0 || size % blk)
		return -EINVAL;
	if (ioctl(n->dev_fd, NBD_SET_BLKSIZE, blk) < 0 ||
	    ioctl(n->dev_fd, NBD_SET_SIZE_BLOCKS, (unsigned long)(size / blk)) < 0 ||
	    ioctl(n->dev_fd, NBD_SET_FLAGS, (unsigned long)(NBD_FLAG_HAS_FLAGS |
			NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA)) < 0)
		return -errno;
	return 0;
}

/* Wait until the kernel has the device connected (its pid file). */
static int
nbd_wait_live(struct eng_nbd *n)
{
	struct timespec tick = { 0, 10 * 1000000L };
	unsigned int ms;

	for (ms = 0; ms < NBD_START_MS; ms += 10) {
		if (__atomic_load_n(&n->doit_done, __ATOMIC_ACQUIRE))
			return n->doit_ret ? n->doit_ret : -EIO;
		if (nbd_busy(n->index))
			return 0;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

/* <mount>/<resource> names the device, as the FUSE file would. */
static void
nbd_link(struct eng_nbd *n)
{
	const struct eng_serve *s = n->s;

	if (!s->mount)
		return;
	snprintf(n->link, sizeof(n->link), "%s/%s", s->mount, s->resource);
	unlink(n->link);
	if (symlink(n->device, n->link) < 0) {
		fprintf(stderr, "mars-engine: cannot link '%s': %s\n", n->link, strerror(errno));
		n->link[0] = '\0';
	}
}

/* Read "MAJ:MIN" from the dev file in sysfs directory @dir. */
static int
nbd_sysfs_dev(const char *dir, dev_t *dev)
{
	char path[PATH_MAX + 8];
	unsigned int maj, min;
	FILE *f;
	int got;

	snprintf(path, sizeof(path), "%s/dev", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	got = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (got != 2)
		return -EINVAL;
	*dev = makedev(maj, min);
	return 0;
}

/* Entries of @dir other than . and .. (0 if it does not exist). */
static int
nbd_count_entries(const char *dir)
{
	struct dirent *d;
	int count = 0;
	DIR *dp = opendir(dir);

	while (dp && (d = readdir(dp)))
		count += d->d_name[0] != '.';
	if (dp)
		closedir(dp);
	return count;
}

/* The device and its partitions (devs[]), and the holders of them all. */
static int
nbd_devs(const struct eng_nbd *n, struct eng_openers_want *w)
{
	char top[64], part[PATH_MAX], prefix[32];
	struct dirent *d;
	struct stat st;
	int holders;
	DIR *dp;

	memset(w, 0, sizeof(*w));
	if (fstat(n->dev_fd, &st) < 0)
		return 0;
	w->dev_type = S_IFBLK;
	w->devs[w->nr_devs++] = st.st_rdev;
	snprintf(top, sizeof(top), "/sys/block/nbd%d", n->index);
	snprintf(part, sizeof(part), "%s/holders", top);
	holders = nbd_count_entries(part);
	snprintf(prefix, sizeof(prefix), "nbd%dp", n->index);
	dp = opendir(top);
	while (dp && (d = readdir(dp)) && w->nr_devs < ENG_OPENERS_DEVS) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(part, sizeof(part), "%s/%s", top, d->d_name);
		if (nbd_sysfs_dev(part, &w->devs[w->nr_devs]) == 0)
			w->nr_devs++;
		snprintf(part, sizeof(part), "%s/%s/holders", top, d->d_name);
		holders += nbd_count_entries(part);
	}
	if (dp)
		closedir(dp);
	return holders;
}

/* Mounts, in this mount namespace, of any of @w's devices. */
static int
nbd_mounts(const struct eng_openers_want *w)
{
	unsigned int maj, min, i;
	char line[4096];
	int mounts = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2)
			continue;
		for (i = 0; i < w->nr_devs; i++)
			mounts += makedev(maj, min) == w->devs[i];
	}
	if (f)
		fclose(f);
	return mounts;
}

/*
 * The protocol never sees opens of /dev/nbdN, so the users are counted
 * from outside: mounts of the device or a partition (this mount
 * namespace), devices stacked on them (holders/), and descriptors open on
 * them in other processes (openers.c: plain opens, such as a database on
 * the raw device or dd).  Not seen: processes of other PID namespaces,
 * and kernel users that hold no descriptor and claim no holder (a loop
 * device or swap on it).  A descriptor scan that could not finish counts
 * as one user: a handover waits rather than pull the device from under
 * someone unseen.
 */
static int
nbd_users(const struct eng_nbd *n)
{
	struct eng_openers_want w;
	int users = nbd_devs(n, &w), fds;

	if (!w.nr_devs)
		return -1;
	fds = eng_openers_count(&w, getpid());
	return users + nbd_mounts(&w) + (fds < 0 ? 1 : fds);
}

/* open-count follows the users, so that `marsadm secondary` and clusterd
 * refuse to stop a primary whose device is mounted, as with FUSE. */
static void
nbd_count_users(struct eng_nbd *n)
{
	int users = nbd_users(n);

	if (users < 0)
		return;		/* no fstat of our own device: keep the count */
	if (users != n->users)
		eng_actual_open(n->s->e, users - n->users);
	n->users = users;
}

/* Until a signal or a disconnect from elsewhere; counting users meanwhile. */
static void
nbd_wait_stop(struct eng_nbd *n)
{
	struct timespec tick = { 0, 200 * 1000000L };
	unsigned int ticks = 0;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while (!__atomic_load_n(&n->doit_done, __ATOMIC_ACQUIRE)) {
		if (sigtimedwait(&set, NULL, &tick) > 0)
			return;
		if (++ticks % 5 == 0)
			nbd_count_users(n);
	}
}

static int
nbd_start_threads(struct eng_nbd *n)
{
	int ret;

	for (; n->workers_started < NBD_WORKERS; n->workers_started++) {
		ret = -pthread_create(&n->workers[n->workers_started], NULL, nbd_worker, n);
		if (ret)
			return ret;
	}
	ret = -pthread_create(&n->reader, NULL, nbd_reader, n);
	if (ret)
		return ret;
	n->reader_started = 1;
	ret = -pthread_create(&n->doit, NULL, nbd_doit, n);
	n->doit_started = !ret;
	return ret;
}

/* Stop what nbd_start_threads started, in the order the protocol wants. */
static void
nbd_stop_threads(struct eng_nbd *n)
{
	if (n->doit_started) {
		/* The kernel sends DISC after what it has queued; the reader
		 * ends there and closes our end once the workers answered. */
		if (!__atomic_load_n(&n->doit_done, __ATOMIC_ACQUIRE))
			ioctl(n->dev_fd, NBD_DISCONNECT);
		pthread_join(n->doit, NULL);
	}
	/* The kernel let go of its end (or never had it): end the reader. */
	shutdown(n->sock, SHUT_RDWR);
	if (n->reader_started)
		pthread_join(n->reader, NULL);
	else
		nbd_end_workers(n);
	ioctl(n->dev_fd, NBD_CLEAR_SOCK);
}

/* Room for whole 1 MiB requests and replies in the socket: fewer turns. */
static void
nbd_sock_bufs(int fd)
{
	int bytes = NBD_SOCK_BUF_BYTES;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

static int
nbd_serve(const struct eng_serve *s)
{
	struct eng_nbd n = { .s = s, .dev_fd = -1, .sock = -1 };
	int sv[2], ret;

	ret = nbd_loaded();
	if (ret)
		return ret;
	/* Writeback to our own device must not wait for reclaim of it. */
	prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);
	pthread_mutex_init(&n.lock, NULL);
	pthread_cond_init(&n.work, NULL);
	pthread_mutex_init(&n.send_lock, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		goto out;
	}
	n.sock = sv[0];
	nbd_sock_bufs(sv[0]);
	nbd_sock_bufs(sv[1]);
	ret = nbd_claim(&n, sv[1]);
	close(sv[1]);		/* the kernel holds its own reference */
	if (ret)
		goto out;
	ret = nbd_configure(&n);
	if (ret)
		goto out_clear;
	ret = nbd_start_threads(&n);
	if (!ret)
		ret = nbd_wait_live(&n);
	if (!ret) {
		nbd_link(&n);
		s->ready(s->e, "nbd", n.device);
		nbd_wait_stop(&n);
		if (n.link[0])
			unlink(n.link);
	}
	nbd_stop_threads(&n);
	goto out_close;

out_clear:
	ioctl(n.dev_fd, NBD_CLEAR_SOCK);
out_close:
	close(n.dev_fd);
out:
	if (n.sock >= 0)
		close(n.sock);
	pthread_mutex_destroy(&n.send_lock);
	pthread_cond_destroy(&n.work);
	pthread_mutex_destroy(&n.lock);
	return ret;
}

const struct eng_frontend eng_frontend_nbd = {
	.name = "nbd",
	.probe = nbd_probe,
	.serve = nbd_serve,
};
