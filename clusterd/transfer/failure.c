/* SPDX-License-Identifier: GPL-2.0-only */
/* The failure contract of failure.h, shared by the fetcher and the syncer. */
#include <stdio.h>
#include <string.h>

#include "clusterd/transfer/failure.h"
#include "common/log.h"

void
transfer_failure_init(struct transfer_failure *tf, pthread_mutex_t *lock, int *error,
		      char *why, size_t why_bytes, const char *who_fmt, ...)
{
	va_list ap;

	tf->lock = lock;
	tf->error = error;
	tf->why = why;
	tf->why_bytes = why_bytes;
	va_start(ap, who_fmt);
	vsnprintf(tf->who, sizeof(tf->who), who_fmt, ap);
	va_end(ap);
	tf->held = 0;
}

void
transfer_failure_attempt(struct transfer_failure *tf)
{
	pthread_mutex_lock(tf->lock);
	tf->held = 0;
	pthread_mutex_unlock(tf->lock);
}

int
transfer_failure_set(struct transfer_failure *tf, int err, const char *fmt, va_list ap)
{
	char why[512], e1[LOG_ESC_BYTES];	/* the text may quote the peer's */

	vsnprintf(why, sizeof(why), fmt, ap);
	pthread_mutex_lock(tf->lock);
	if (!err) {
		*tf->error = 0;
		tf->why[0] = '\0';
		tf->held = 0;
	} else if (!tf->held) {
		if (strncmp(why, tf->why, tf->why_bytes - 1) != 0)
			log_warnx("%s: %s", tf->who, log_escape(e1, sizeof(e1), why));
		*tf->error = err;
		snprintf(tf->why, tf->why_bytes, "%s", why);
		tf->held = 1;
	}
	pthread_mutex_unlock(tf->lock);
	return err;
}
