/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page in processes of its own (docs/protocol.md section 1.2,
 * "Least privilege"): whatever a bug in the HTTP, JSON or webhook code
 * lets a request do, it does in a process that reads the tree, writes
 * only its history database, connects only to the webhooks' ports, and
 * holds no capability - not in the daemon, which writes the tree and runs
 * the data path as root.
 *
 * Two processes, forked before the daemon starts any thread:
 *  - the supervisor, single-threaded, which only forks the worker and
 *    forks it again (after RESTART_S) when it ends, so that a crash of
 *    the page does not take the daemon with it, and so that no fork ever
 *    happens in the threaded daemon;
 *  - the worker, which opens the status page (binds the listen socket,
 *    opens the database: before confinement, a port below 1024 needs a
 *    capability), confines itself, and then runs its own poll loop over
 *    the HTTP server, the alerts and a snapshot of the tree each tick.
 * Both end with the daemon (PR_SET_PDEATHSIG) and on SIGTERM.
 *
 * The first worker tells the daemon over a pipe whether the page is up
 * ('1'), not configured ('0'), or could not start ('E': a listen address
 * given and not bindable is fatal to the daemon, as before the split).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/status_process.h"
#include "clusterd/status/status.h"
#include "common/confine.h"
#include "common/log.h"

#define READY_TIMEOUT_MS	10000	/* the first worker says how it went */
#define RESTART_S		5	/* between a worker's end and the next */
#define STOP_TIMEOUT_MS		5000	/* SIGTERM, then SIGKILL */
#define TREE_RETRY_MS		1000	/* a tree not there yet: look again */
#define EXIT_NONE		10	/* a first worker: nothing configured */
#define EXIT_FAILED		11	/* a first worker: could not start */

static volatile sig_atomic_t status_quit;

static void
on_term(int sig)
{
	(void)sig;
	status_quit = 1;
}

/* End with @parent; 0, or -1 if it is already gone. */
static int
follow_parent(pid_t parent)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		return -1;
	return 0;
}

/* The TCP port of webhook @url (http 80, https 443, or as written). */
static uint16_t
url_port(const char *url)
{
	const char *host = strstr(url, "://"), *end, *colon;
	long port;

	if (!host)
		return 80;
	host += 3;
	end = host + strcspn(host, "/?#");
	colon = memchr(host, ']', (size_t)(end - host));	/* past an IPv6 literal */
	colon = memchr(colon ? colon : host, ':', (size_t)(end - (colon ? colon : host)));
	if (colon) {
		port = strtol(colon + 1, NULL, 10);
		if (port > 0 && port < 65536)
			return (uint16_t)port;
	}
	return strncmp(url, "https:", 6) ? 80 : 443;
}

/* What the worker keeps: the tree to read, its database's directory,
 * what libcurl reads to resolve names and check certificates, and the
 * webhooks' ports (and DNS over TCP). */
static int
worker_confine(const struct gossip_config *c, const struct status_config *sc)
{
	static const char *const read_only[] = { "/etc", "/usr", "/lib", "/lib64", NULL };
	char dir[4096], *slash;
	struct confine cf;
	int ret = confine_begin(&cf);

	if (ret == 0)
		ret = confine_allow_read_tree(&cf, c->root);
	if (ret == 0 && sc->db_path) {
		snprintf(dir, sizeof(dir), "%s", sc->db_path);
		slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		ret = confine_allow_tree(&cf, slash ? dir : ".");
	}
	for (size_t i = 0; read_only[i] && ret == 0; i++)
		ret = confine_allow_read_tree(&cf, read_only[i]);
	if (ret == 0)
		ret = confine_allow_read(&cf, "/dev/urandom");
	for (size_t i = 0; i < sc->n_alert_urls && ret == 0; i++)
		ret = confine_allow_connect(&cf, url_port(sc->alert_urls[i]));
	if (ret == 0 && sc->n_alert_urls)
		ret = confine_allow_connect(&cf, 53);
	if (ret == 0)
		ret = confine_apply(&cf);
	confine_release(&cf);
	return ret;
}

/* The page's own loop until SIGTERM or the supervisor's end. */
static void
worker_loop(const struct gossip_config *c, struct status *st)
{
	struct pollfd pfd[STATUS_FDS_MAX];
	uint64_t now, next_try = 0;
	struct statefs *sf = NULL;
	int sf_open = 0, timeout;
	size_t n;

	while (!status_quit) {
		now = gossip_now_ms();
		if (!sf_open && now >= next_try) {
			sf_open = statefs_open(&sf, c->root, c->host, 0) == 0;
			next_try = now + TREE_RETRY_MS;
		}
		timeout = status_timeout_ms(st, now);
		if (!sf_open && timeout > TREE_RETRY_MS)
			timeout = TREE_RETRY_MS;
		n = status_pollfds(st, pfd, STATUS_FDS_MAX);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			log_warn("status page: poll");
		status_dispatch(st, sf_open ? sf : NULL, pfd, n, gossip_now_ms());
	}
	if (sf_open)
		statefs_close(&sf);
}

static void
tell(int fd, char what)
{
	if (fd >= 0) {
		if (write(fd, &what, 1) != 1)
			log_warn("status page: cannot tell the daemon");
		close(fd);
	}
}

static void
worker(const struct gossip_config *c, const struct status_config *sc, pid_t parent,
       int ready_fd)
{
	struct status *st = NULL;
	int ret;

	if (follow_parent(parent) < 0)
		_exit(0);
	prctl(PR_SET_NAME, "clusterd-page");	/* what ps and pgrep show */
	if (status_open(&st, sc) < 0) {
		tell(ready_fd, 'E');
		_exit(EXIT_FAILED);
	}
	if (!st) {
		tell(ready_fd, '0');
		_exit(EXIT_NONE);
	}
	ret = worker_confine(c, sc);
	if (ret < 0) {
		log_warnx("status page: cannot confine itself: %s", strerror(-ret));
		status_close(st);
		tell(ready_fd, 'E');
		_exit(EXIT_FAILED);
	}
	tell(ready_fd, '1');
	worker_loop(c, st);
	status_close(st);
	_exit(0);
}

/* Wait for @pid, passing a SIGTERM on to it. */
static int
wait_worker(pid_t pid)
{
	int status, passed = 0;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
		if (status_quit && !passed++)
			kill(pid, SIGTERM);
	}
	return status;
}

static void
supervisor(const struct gossip_config *c, const struct status_config *sc, pid_t daemon,
	   int ready_fd)
{
	struct timespec pause = { RESTART_S, 0 };
	pid_t me = getpid(), pid;
	int status, first = 1;

	if (follow_parent(daemon) < 0)
		_exit(0);
	prctl(PR_SET_NAME, "clusterd-status");
	for (;;) {
		pid = fork();
		if (pid < 0) {
			log_warn("status page: fork");
			_exit(1);
		}
		if (pid == 0)
			worker(c, sc, me, ready_fd);
		if (ready_fd >= 0)
			close(ready_fd);
		status = wait_worker(pid);
		if (status_quit)
			_exit(0);
		if (first && WIFEXITED(status) && (WEXITSTATUS(status) == EXIT_NONE ||
						   WEXITSTATUS(status) == EXIT_FAILED))
			_exit(0);	/* it told the daemon why */
		first = 0;
		ready_fd = -1;
		log_warnx("status page: its process ended (%s %d); a new one in %d s",
			  WIFSIGNALED(status) ? "signal" : "exit",
			  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			  RESTART_S);
		while (nanosleep(&pause, &pause) < 0 && errno == EINTR && !status_quit)
			;
		if (status_quit)
			_exit(0);
		pause.tv_sec = RESTART_S;
	}
}

int
status_process_start(const struct gossip_config *c, const struct status_config *sc,
		     pid_t *pidp)
{
	struct pollfd p = { .events = POLLIN };
	int fds[2], ret;
	char what = 'E';
	pid_t pid;

	*pidp = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(fds[0]);
		close(fds[1]);
		return ret;
	}
	if (pid == 0) {
		close(fds[0]);
		supervisor(c, sc, getppid(), fds[1]);
	}
	close(fds[1]);
	p.fd = fds[0];
	ret = poll(&p, 1, READY_TIMEOUT_MS);
	if (ret <= 0 || read(fds[0], &what, 1) != 1)
		what = 'E';
	close(fds[0]);
	if (what == '1') {
		*pidp = pid;
		return 0;
	}
	status_process_stop(pid);
	return what == '0' ? 0 : -EIO;
}

void
status_process_stop(pid_t pid)
{
	struct timespec tick = { 0, 50 * 1000000L };
	int waited_ms = 0;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (waited_ms >= STOP_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return;
		}
		nanosleep(&tick, NULL);
		waited_ms += 50;
	}
}
