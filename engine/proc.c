/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace engine driven as a child process: one `mars-engine`
 * process at a time per resource, started in the mode asked for
 * (`primary` serves the device, `replay` applies a logfile).  Either
 * front end of a primary leaves its device at <mount>/<resource>: the
 * FUSE file, or a link to /dev/nbdN (engine/nbd.c); clusterd links its
 * device name there and never needs to know which.
 * This is how clusterd runs the userspace data path.  The child lives in
 * a session of its own, so the device stays up when clusterd restarts or
 * is killed; the next clusterd adopts the running child through
 * <root>/resource-<res>/.engine-pid ("PID MODE").  The child publishes
 * its state in the status file (engine/status.c), which is what
 * status() reads.
 *
 * A primary child is only ever stopped on purpose (set_replay refuses,
 * detach stops it): libfuse detaches a busy mount lazily, so stopping it
 * under an open device would fail the application's I/O.  The caller
 * checks open-count first.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "mars/names.h"
#include "statefs/statefs.h"

#define PROC_PATH_MAX	4096
#define PROC_STOP_MS	15000	/* SIGTERM, then SIGKILL */
#define PROC_START_MS	30000	/* primary: recovery and mount */

struct mars_engine {
	char root[PROC_PATH_MAX], dir[PROC_PATH_MAX], host[64], resource[64];
	char disk[PROC_PATH_MAX], exe[PROC_PATH_MAX], mount[PROC_PATH_MAX];
	char log_path[PROC_PATH_MAX], status_path[PROC_PATH_MAX + 32], pid_path[PROC_PATH_MAX + 32];
	uint64_t size_bytes;
	uint64_t emergency_free;
	uint64_t pending_bytes;		/* --pending-mib for the primary; 0 = default */
	uint64_t prealloc_bytes;	/* --prealloc-kib for the primary; 0 = default */
	char frontend[8];		/* --frontend for the primary; "" = default */
	unsigned int checkpoint_ms;
	enum mars_engine_mode mode;	/* of the child, ATTACHED when none */
	pid_t pid;			/* the child, 0 when none */
	int own_child;			/* ours to waitpid(); else adopted */
	int exit_status;		/* waitpid status of the last child, -1 none */
};

static void
proc_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * An adopted engine is not our child, and once it dies its zombie waits
 * for whoever reaps orphans, which in a container may be nobody; kill(0)
 * still succeeds on a zombie, so the state in /proc decides.
 */
static int
pid_running(pid_t pid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) < 0 && errno != EPERM)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;	/* no /proc: trust kill() */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	paren = strrchr(buf, ')');
	return !paren || (paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X');
}

/* 1 while the child runs; reaps our own child when it ended. */
static int
proc_alive(struct mars_engine *e)
{
	int status;

	if (e->pid <= 0)
		return 0;
	if (e->own_child) {
		if (waitpid(e->pid, &status, WNOHANG) == 0)
			return 1;
		e->exit_status = status;
	} else if (pid_running(e->pid)) {
		return 1;
	}
	e->pid = 0;
	unlink(e->pid_path);
	return 0;
}

/* The running mars-engine of this resource named in the pid file, if any. */
static void
proc_adopt(struct mars_engine *e)
{
	char cmd[PROC_PATH_MAX], mode[16], path[64];
	long pid;
	FILE *f = fopen(e->pid_path, "re");
	size_t n;
	int fd;

	if (!f)
		return;
	n = fscanf(f, "%ld %15s", &pid, mode) == 2 && pid > 1;
	fclose(f);
	if (!n)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = (size_t)read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n == (size_t)-1 || n == 0)
		return;
	cmd[n] = '\0';
	/* argv[0] must be the engine and --resource ours: pids are reused. */
	if (!strstr(cmd, "mars-engine") || !memmem(cmd, n, e->resource, strlen(e->resource)))
		return;
	e->pid = (pid_t)pid;
	e->own_child = 0;
	e->mode = !strcmp(mode, "primary") ? MARS_ENGINE_PRIMARY : MARS_ENGINE_REPLAY;
}

static int
proc_attach(const struct mars_engine_config *cfg, struct mars_engine **out)
{
	struct mars_engine *e;
	struct stat st;
	int ret;

	if (!cfg->root || !cfg->host || !cfg->resource || !cfg->disk || !cfg->exe || !cfg->mount)
		return -EINVAL;
	if (stat(cfg->disk, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = statefs_resource_path(cfg->root, cfg->resource, NULL, e->dir, sizeof(e->dir));
	if (ret) {
		free(e);
		return ret;
	}
	snprintf(e->root, sizeof(e->root), "%s", cfg->root);
	snprintf(e->host, sizeof(e->host), "%s", cfg->host);
	snprintf(e->resource, sizeof(e->resource), "%s", cfg->resource);
	snprintf(e->disk, sizeof(e->disk), "%s", cfg->disk);
	snprintf(e->exe, sizeof(e->exe), "%s", cfg->exe);
	snprintf(e->mount, sizeof(e->mount), "%s", cfg->mount);
	snprintf(e->log_path, sizeof(e->log_path), "%s", cfg->log_path ? cfg->log_path : "/dev/null");
	if (cfg->status_path)
		snprintf(e->status_path, sizeof(e->status_path), "%s", cfg->status_path);
	else
		snprintf(e->status_path, sizeof(e->status_path), "%s/.engine-status", e->dir);
	snprintf(e->pid_path, sizeof(e->pid_path), "%s/.engine-pid", e->dir);
	e->size_bytes = cfg->size_bytes;
	e->checkpoint_ms = cfg->checkpoint_ms;
	e->emergency_free = cfg->emergency_free_bytes;
	e->pending_bytes = cfg->pending_bytes;
	e->prealloc_bytes = cfg->prealloc_bytes;
	if (cfg->frontend && strlen(cfg->frontend) >= sizeof(e->frontend)) {
		free(e);
		return -EINVAL;
	}
	snprintf(e->frontend, sizeof(e->frontend), "%s", cfg->frontend ? cfg->frontend : "");
	e->exit_status = -1;
	e->mode = MARS_ENGINE_ATTACHED;
	proc_adopt(e);
	*out = e;
	return 0;
}

/* In the child: a session of its own, messages to the log, clean signals. */
static void
proc_child(struct mars_engine *e, char **argv)
{
	sigset_t none;
	int fd, sig;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(e->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	execv(e->exe, argv);
	dprintf(2, "clusterd: cannot run '%s': %s\n", e->exe, strerror(errno));
	_exit(127);
}

static int
proc_spawn(struct mars_engine *e, enum mars_engine_mode mode, const char *logfile, uint64_t pos)
{
	char size[32], ckpt[32], from[32], efree[32], pending[32], prealloc[32], *argv[32];
	const char *mname = mode == MARS_ENGINE_PRIMARY ? "primary" : "replay";
	int n = 0;
	pid_t pid;
	FILE *f;

	argv[n++] = e->exe;
	argv[n++] = (char *)mname;
	argv[n++] = "--resource";
	argv[n++] = e->resource;
	argv[n++] = "--disk";
	argv[n++] = e->disk;
	argv[n++] = "--root";
	argv[n++] = e->root;
	argv[n++] = "--host";
	argv[n++] = e->host;
	argv[n++] = "--status";
	argv[n++] = e->status_path;
	if (e->size_bytes) {
		snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size_bytes);
		argv[n++] = "--size";
		argv[n++] = size;
	}
	if (e->checkpoint_ms) {
		snprintf(ckpt, sizeof(ckpt), "%u", e->checkpoint_ms);
		argv[n++] = "--checkpoint-ms";
		argv[n++] = ckpt;
	}
	if (mode == MARS_ENGINE_PRIMARY && e->emergency_free) {
		snprintf(efree, sizeof(efree), "%llu", (unsigned long long)e->emergency_free);
		argv[n++] = "--emergency-free";
		argv[n++] = efree;
	}
	if (mode == MARS_ENGINE_PRIMARY && e->pending_bytes) {
		snprintf(pending, sizeof(pending), "%llu",
			 (unsigned long long)(e->pending_bytes >> 20 ? e->pending_bytes >> 20 : 1));
		argv[n++] = "--pending-mib";
		argv[n++] = pending;
	}
	if (mode == MARS_ENGINE_PRIMARY && e->prealloc_bytes) {
		snprintf(prealloc, sizeof(prealloc), "%llu",
			 e->prealloc_bytes == MARS_ENGINE_PREALLOC_OFF ? 0ULL :
			 (unsigned long long)(e->prealloc_bytes >> 10 ? e->prealloc_bytes >> 10 : 1));
		argv[n++] = "--prealloc-kib";
		argv[n++] = prealloc;
	}
	if (mode == MARS_ENGINE_PRIMARY && e->frontend[0]) {
		argv[n++] = "--frontend";
		argv[n++] = e->frontend;
	}
	if (mode == MARS_ENGINE_PRIMARY) {
		argv[n++] = "--mount";
		argv[n++] = e->mount;
	} else {
		snprintf(from, sizeof(from), "%llu", (unsigned long long)pos);
		argv[n++] = "--logfile";
		argv[n++] = (char *)logfile;
		argv[n++] = "--from";
		argv[n++] = from;
	}
	argv[n] = NULL;
	unlink(e->status_path);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		proc_child(e, argv);
	e->pid = pid;
	e->own_child = 1;
	e->mode = mode;
	e->exit_status = -1;
	f = fopen(e->pid_path, "we");
	if (f) {
		fprintf(f, "%ld %s\n", (long)pid, mname);
		fclose(f);
	}
	return 0;
}

/* SIGTERM, wait, SIGKILL: the child is gone when this returns. */
static void
proc_stop(struct mars_engine *e)
{
	unsigned int waited = 0;

	if (!proc_alive(e))
		goto out;
	kill(e->pid, SIGTERM);
	while (proc_alive(e) && waited < PROC_STOP_MS + 2000) {
		if (waited == PROC_STOP_MS)
			kill(e->pid, SIGKILL);
		proc_sleep_ms(20);
		waited += 20;
	}
out:
	e->pid = 0;
	e->mode = MARS_ENGINE_ATTACHED;
	unlink(e->pid_path);
}

static void
proc_detach(struct mars_engine *e)
{
	proc_stop(e);
	free(e);
}

static int
proc_set_primary(struct mars_engine *e)
{
	struct mars_engine_status st;
	char dev[PROC_PATH_MAX + 80];
	unsigned int waited;
	struct stat sb;
	int ret;

	if (e->mode == MARS_ENGINE_PRIMARY && proc_alive(e))
		return 0;
	proc_stop(e);
	if (mkdir(e->mount, 0700) < 0 && errno != EEXIST)
		return -errno;
	ret = proc_spawn(e, MARS_ENGINE_PRIMARY, NULL, 0);
	if (ret)
		return ret;
	/* Recovery first, then the device: both must be done.  The device is
	 * the FUSE file or a link to /dev/nbdN (stat follows it). */
	snprintf(dev, sizeof(dev), "%s/%s", e->mount, e->resource);
	for (waited = 0; waited < PROC_START_MS; waited += 20) {
		if (!proc_alive(e))
			return -EIO;	/* the engine's log says why */
		if (mars_engine_status_read(e->status_path, &st) == 0 &&
		    st.mode == MARS_ENGINE_PRIMARY && stat(dev, &sb) == 0 &&
		    (S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode)))
			return 0;
		proc_sleep_ms(20);
	}
	proc_stop(e);
	return -ETIMEDOUT;
}

static int
proc_set_replay(struct mars_engine *e, const char *logfile, uint64_t pos)
{
	char path[PROC_PATH_MAX + 300];
	struct mars_logname ln;

	if (e->mode == MARS_ENGINE_PRIMARY && proc_alive(e))
		return -EBUSY;
	if (mars_logname_parse(logfile, strlen(logfile), &ln) < 0 || ln.nr == 0)
		return -EINVAL;
	proc_stop(e);
	snprintf(path, sizeof(path), "%s/%s", e->dir, logfile);
	if (access(path, R_OK) < 0)
		return -errno;
	return proc_spawn(e, MARS_ENGINE_REPLAY, path, pos);
}

static int
proc_rotate(struct mars_engine *e)
{
	if (e->mode != MARS_ENGINE_PRIMARY || !proc_alive(e))
		return -EINVAL;
	return kill(e->pid, SIGUSR1) < 0 ? -errno : 0;
}

static int
proc_status(struct mars_engine *e, struct mars_engine_status *st)
{
	int alive = proc_alive(e), ret;

	/* No child, none adopted, or one stopped on purpose: a status file
	 * left by an engine that died with an earlier clusterd describes a
	 * replay nobody runs, and would keep the driver waiting on it. */
	ret = !alive && e->mode == MARS_ENGINE_ATTACHED ? -ENOENT :
		mars_engine_status_read(e->status_path, st);
	if (ret == -ENOENT) {	/* not written yet, or no child */
		memset(st, 0, sizeof(*st));
		st->mode = alive ? e->mode : MARS_ENGINE_ATTACHED;
		st->size_bytes = e->size_bytes;
		return 0;
	}
	if (ret)
		return ret;
	if (alive)
		return 0;
	/* The child ended: a replay that stopped says so itself; any other
	 * end is a failure of the child. */
	if (st->replay != MARS_ENGINE_RS_STOPPED && st->replay != MARS_ENGINE_RS_FAILED &&
	    e->mode != MARS_ENGINE_ATTACHED) {
		st->replay = st->mode == MARS_ENGINE_REPLAY ? MARS_ENGINE_RS_FAILED : st->replay;
		st->error = st->error ? st->error : -ECHILD;
	}
	if (st->mode == MARS_ENGINE_PRIMARY)
		st->mode = MARS_ENGINE_ATTACHED;
	return 0;
}

const struct mars_engine_ops mars_engine_proc_ops = {
	.name = "proc",
	.attach = proc_attach,
	.detach = proc_detach,
	.set_primary = proc_set_primary,
	.set_replay = proc_set_replay,
	.rotate = proc_rotate,
	.status = proc_status,
};
