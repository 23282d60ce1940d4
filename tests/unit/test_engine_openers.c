// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit test of engine/openers.c, the scan of /proc/<pid>/fd that lets the
 * NBD front end count plain opens of /dev/nbdN: a child holding a file
 * open twice counts 2, the scanning process itself is left out, and the
 * count goes back to 0 when the child exits.  A private temporary file
 * (matched by inode) stands in for the device, so no other process on
 * the machine can change the count.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/internal.h"
#include "tap.h"

/* The child: open @path twice, say so on @ready, wait for EOF on @go. */
static void
to_child(const char *path, int ready, int go)
{
	char c;
	int a = open(path, O_RDONLY), b = open(path, O_RDONLY);

	if (a < 0 || b < 0 || write(ready, "1", 1) != 1)
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

int
main(void)
{
	char path[] = "/tmp/test_engine_openers.XXXXXX";
	struct eng_openers_want w = { 0 };
	int fd = mkstemp(path), ready[2], go[2], status, counted;
	struct stat st;
	pid_t pid;
	char c;

	if (fd < 0 || fstat(fd, &st) < 0 || pipe(ready) < 0 || pipe(go) < 0) {
		tap_ok(0, "setup");
		return tap_done();
	}
	w.ino_dev = st.st_dev;
	w.ino = st.st_ino;
	tap_ok(eng_openers_count(&w, getpid()) == 0, "our own descriptor is not counted");
	pid = fork();
	if (pid == 0) {
		close(fd);	/* only the two opens below */
		close(ready[0]);
		close(go[1]);
		to_child(path, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	tap_ok(pid > 0 && read(ready[0], &c, 1) == 1, "a child opened the file twice");
	counted = eng_openers_count(&w, getpid());
	tap_ok(counted == 2, "the child's two descriptors are counted (%d)", counted);
	counted = eng_openers_count(&w, pid);
	tap_ok(counted == 1, "left out, the child's count is ours (%d)", counted);
	close(go[1]);
	tap_ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "the child ended");
	tap_ok(eng_openers_count(&w, getpid()) == 0, "and then nothing is counted");
	close(fd);
	unlink(path);
	return tap_done();
}
