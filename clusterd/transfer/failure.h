/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one contract for the failure a transfer thread (fetch.c, sync.c)
 * reports in its status as (error, why); both reach it through a
 * `set_error(owner, err, fmt, ...)` of their own.
 *
 *  - The first failure of an attempt wins: what fails after it in the same
 *    attempt (the stream torn down, the session closed) is a consequence,
 *    and the operator needs the cause.  A fetcher's attempt is one stream
 *    of one entry; a syncer's is its whole run.
 *  - The failure shown stays until the next attempt records another or a
 *    success clears it (err 0): a retrying fetcher never reads healthy
 *    between two failed attempts.
 *  - A failure is logged when it is recorded and its text differs from the
 *    one shown, so a retry loop does not repeat the same line.
 *  - set_error() returns @err, so that `return set_error(...)` reads
 *    naturally.
 */
#ifndef MARS_CLUSTERD_TRANSFER_FAILURE_H
#define MARS_CLUSTERD_TRANSFER_FAILURE_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

struct transfer_failure {
	pthread_mutex_t *lock;	/* the owner's lock: guards *error and why */
	int *error;		/* the owner's status.error: -errno, 0 when healthy */
	char *why;		/* the owner's status.why: "" when healthy */
	size_t why_bytes;
	char who[160];		/* log prefix: "fetch r0", "sync r0 from alpha" */
	int held;		/* under *lock: the current attempt has failed */
};

/* Point @tf at its owner's status fields; @who_fmt names the owner in log lines. */
void transfer_failure_init(struct transfer_failure *tf, pthread_mutex_t *lock, int *error,
			   char *why, size_t why_bytes, const char *who_fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* A new attempt starts: its first failure replaces the one shown. */
void transfer_failure_attempt(struct transfer_failure *tf);
/* Record @err (the contract above; 0 clears).  Returns @err. */
int transfer_failure_set(struct transfer_failure *tf, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif /* MARS_CLUSTERD_TRANSFER_FAILURE_H */
