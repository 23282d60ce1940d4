/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The length of one of this node's logfiles, for a version link or a full
 * sync's position: where its records end, not its size.  The logfile a
 * writer was killed in keeps the zeros it preallocated after its log end
 * (docs/logfile-format.md 1.1) until recovery cuts them, and no member may
 * be told a length that includes them.  Its own file, so that the fuzzed
 * serving end can link it without the rest of the history code.
 */
#include "repl/repl.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/logend.h"

int
repl_log_length(struct statefs *sf, const char *res, const char *name, uint64_t *len)
{
	int fd = statefs_file_open(sf, res, name, O_RDONLY | O_NONBLOCK, 0);

	if (fd < 0)
		return fd;
	*len = logend_length(fd);	/* O(1) unless the tail was left uncut */
	close(fd);
	return 0;
}
