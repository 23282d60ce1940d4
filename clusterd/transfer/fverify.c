/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Verified fetch from a member that is not a logfile's origin (fverify.h).
 *
 * Ordering invariant: nothing is written to the logfile before the
 * digest of [0, vouched length) compared equal; the append that follows
 * copies only staged bytes that digest covered, and the fetcher reports
 * them only after the fdatasync that made them durable.  A crash in
 * between leaves a logfile that is a verified prefix, and a staging file
 * that the next stream truncates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterd/transfer/fverify.h"
#include "common/io.h"

#define COPY_BYTES	(256U << 10)	/* staged bytes moved to the logfile per pread */

void
fverify_init(struct fverify *v)
{
	memset(v, 0, sizeof(*v));
	v->stage_fd = -1;
}

/* Empty and close the staging file: it may have held a logfile's worth. */
static void
stage_close(struct fverify *v)
{
	if (v->stage_fd < 0)
		return;
	/* a failure is harmless: the next stream truncates it at open */
	(void)!ftruncate(v->stage_fd, 0);
	close(v->stage_fd);
	v->stage_fd = -1;
}

void
fverify_abort(struct fverify *v)
{
	stage_close(v);
	/* the state covers unverified bytes: start over next time */
	if (v->staged)
		v->vh.name[0] = '\0';
	v->staged = 0;
}

void
fverify_release(struct fverify *v)
{
	fverify_abort(v);
	repl_vouch_hash_release(&v->vh);
}

/* A better candidate than @best for our @have and the peer's @peer_size? */
static int
vouch_fits(const struct repl_vouch *c, const struct repl_vouch *best, int have_best,
	   uint64_t have, uint64_t peer_size)
{
	return c->len_bytes > have && c->len_bytes <= peer_size &&
	       (!have_best || c->len_bytes > best->len_bytes);
}

int
fverify_pick(struct statefs *sf, const char *res, const char *name, uint64_t have,
	     uint64_t peer_size, struct repl_vouch *out)
{
	char key[STATEFS_PATH_MAX + 1], hosts[2][STATEFS_NAME_MAX + 1];
	struct mars_logname ln;
	struct repl_vouch c;
	int found = 0, ret;

	if (mars_logname_parse(name, strlen(name), &ln) < 0)
		return -EINVAL;
	memcpy(hosts[0], ln.host, sizeof(hosts[0]));
	if (statefs_resource_keyf(key, sizeof(key), res, "primary") < 0 ||
	    statefs_get(sf, key, hosts[1], sizeof(hosts[1]), NULL) < 0 ||
	    statefs_name_check(STATEFS_NAME_HOST, hosts[1], NULL) < 0)
		hosts[1][0] = '\0';	/* (none), absent, or not a name: no one */
	for (int i = 0; i < 2; i++) {
		if (!hosts[i][0] || (i == 1 && !strcmp(hosts[1], hosts[0])))
			continue;
		ret = repl_vouch_get(sf, res, name, hosts[i], &c);
		if (ret < 0)
			return ret;
		if (ret == 1 && vouch_fits(&c, out, found, have, peer_size)) {
			*out = c;
			found = 1;
		}
	}
	return found;
}

int
fverify_begin(struct fverify *v, struct statefs *sf, const char *res, const char *name,
	      int fd, uint64_t len, const struct repl_vouch *vouch)
{
	int ret = 0;

	fverify_abort(v);
	if (strcmp(v->vh.name, name) != 0 || v->vh.len_bytes > len)
		ret = repl_vouch_hash_reset(&v->vh, name);
	if (ret == 0)
		ret = repl_vouch_hash_file(&v->vh, fd, len);
	if (ret < 0) {
		v->vh.name[0] = '\0';
		return ret;
	}
	v->stage_fd = statefs_file_open(sf, res, FVERIFY_STAGE_NAME, O_RDWR | O_CREAT | O_TRUNC,
					0600);
	if (v->stage_fd < 0) {
		ret = v->stage_fd;
		v->stage_fd = -1;
		return ret;
	}
	v->vouch = *vouch;
	v->from = len;
	v->staged = 0;
	return 0;
}

int
fverify_data(struct fverify *v, const void *p, size_t n)
{
	int ret;

	if (v->stage_fd < 0)
		return -EBADF;
	if (v->from + v->staged + n > v->vouch.len_bytes)
		return -EPROTO;		/* beyond what we asked for */
	ret = repl_vouch_hash_update(&v->vh, p, n);
	if (ret == 0 && io_pwrite_full(v->stage_fd, p, n, (off_t)v->staged) < 0)
		ret = -EIO;
	if (ret == 0)
		v->staged += n;
	return ret;
}

/* Copy staged [0, @n) to @fd at v->from, then make it durable. */
static int
append_staged(struct fverify *v, int fd, uint64_t n)
{
	unsigned char *buf = malloc(COPY_BYTES);
	uint64_t done = 0;
	int ret = buf ? 0 : -ENOMEM;

	while (ret == 0 && done < n) {
		size_t want = n - done < COPY_BYTES ? (size_t)(n - done) : COPY_BYTES;
		ssize_t got = io_pread_full(v->stage_fd, buf, want, (off_t)done);

		if (got != (ssize_t)want ||
		    io_pwrite_full(fd, buf, want, (off_t)(v->from + done)) < 0)
			ret = -EIO;
		done += want;
	}
	free(buf);
	if (ret == 0 && fdatasync(fd) < 0)
		ret = -errno;
	return ret;
}

int
fverify_finish(struct fverify *v, int fd, uint64_t keep_to, uint64_t *appended)
{
	char hex[REPL_DIGEST_HEX + 1];
	uint64_t end = v->vouch.len_bytes, n;
	int ret;

	*appended = 0;
	if (v->stage_fd < 0 || v->from + v->staged != end ||
	    repl_vouch_hash_hex(&v->vh, hex) < 0 || strcmp(hex, v->vouch.digest) != 0) {
		fverify_abort(v);
		return 0;
	}
	n = keep_to < end ? keep_to : end;
	n = n > v->from ? n - v->from : 0;
	ret = append_staged(v, fd, n);
	if (ret < 0) {
		fverify_abort(v);
		return ret;
	}
	*appended = n;
	if (n != v->staged)
		v->vh.name[0] = '\0';	/* it hashed past what the logfile holds */
	stage_close(v);
	v->staged = 0;
	return 1;
}
