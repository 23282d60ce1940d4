/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Webhooks without blocking: curl's multi interface in socket mode.  curl
 * tells us which sockets to watch (on_socket) and when its timer fires
 * (on_timer); the daemon's poll() loop watches them and hands readiness
 * back through curl_multi_socket_action().  Name resolution uses curl's
 * threaded resolver (Debian's build), so no call here waits on the
 * network.  A post that fails is rescheduled with doubled delay; after
 * ALERTS_TRIES attempts it is dropped and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clusterd/status/alerts.h"
#include "common/log.h"

struct post {
	char *url;		/* not owned: one of alerts.urls */
	char *body;		/* owned */
	CURL *easy;		/* non-NULL while an attempt runs */
	unsigned tries;		/* attempts started */
	uint64_t due_ms;	/* when the next attempt may start */
	struct curl_slist *hdr;
};

struct watch {
	curl_socket_t fd;
	short events;
};

struct alerts {
	CURLM *multi;
	char *urls[ALERTS_URLS_MAX];
	size_t n_urls;
	struct post queue[ALERTS_QUEUE_MAX];	/* [0..n) oldest first */
	size_t n;
	struct watch fds[ALERTS_FDS_MAX];
	size_t n_fds;
	long curl_timeout_ms;			/* -1 none; from on_timer */
	uint64_t curl_timer_set_ms;		/* when on_timer was called */
	struct alerts_stats st;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct alerts *a = userp;
	size_t i;

	for (i = 0; i < a->n_fds && a->fds[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < a->n_fds)
			a->fds[i] = a->fds[--a->n_fds];
		return 0;
	}
	if (i == a->n_fds) {
		if (a->n_fds == ALERTS_FDS_MAX) {
			log_warnx("alerts: more than %d sockets, one not watched",
				  ALERTS_FDS_MAX);
			return -1;
		}
		a->n_fds++;
		a->fds[i].fd = s;
	}
	a->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
				   ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct alerts *a = userp;

	a->curl_timeout_ms = timeout_ms;
	a->curl_timer_set_ms = mono_ms();
	return 0;
}

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

int
alerts_open(struct alerts **ap, const char *const *urls, size_t n_urls)
{
	struct alerts *a;

	*ap = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return -EIO;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->curl_timeout_ms = -1;
	a->multi = curl_multi_init();
	if (!a->multi) {
		free(a);
		return -EIO;
	}
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
	for (size_t i = 0; i < n_urls && i < ALERTS_URLS_MAX; i++) {
		a->urls[i] = strdup(urls[i]);
		if (!a->urls[i]) {
			alerts_close(a);
			return -ENOMEM;
		}
		a->n_urls++;
	}
	*ap = a;
	return 0;
}

static void
post_end_attempt(struct alerts *a, struct post *p)
{
	if (p->easy) {
		curl_multi_remove_handle(a->multi, p->easy);
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
	}
	curl_slist_free_all(p->hdr);
	p->hdr = NULL;
}

static void
queue_remove(struct alerts *a, size_t i)
{
	post_end_attempt(a, &a->queue[i]);
	free(a->queue[i].body);
	memmove(&a->queue[i], &a->queue[i + 1], (a->n - i - 1) * sizeof(a->queue[0]));
	a->n--;
}

void
alerts_close(struct alerts *a)
{
	if (!a)
		return;
	while (a->n)
		queue_remove(a, 0);
	for (size_t i = 0; i < a->n_urls; i++)
		free(a->urls[i]);
	curl_multi_cleanup(a->multi);
	free(a);
	curl_global_cleanup();
}

void
alerts_post(struct alerts *a, const char *json)
{
	for (size_t i = 0; i < a->n_urls; i++) {
		struct post *p;

		if (a->n == ALERTS_QUEUE_MAX) {
			log_warnx("alerts: queue full, oldest alert to '%s' dropped",
				  a->queue[0].url);
			queue_remove(a, 0);
			a->st.dropped++;
		}
		p = &a->queue[a->n];
		memset(p, 0, sizeof(*p));
		p->url = a->urls[i];
		p->body = strdup(json);
		if (!p->body) {
			log_warnx("alerts: out of memory, alert dropped");
			a->st.dropped++;
			continue;
		}
		a->n++;
		a->st.queued++;
	}
}

static int
post_start(struct alerts *a, struct post *p)
{
	p->easy = curl_easy_init();
	p->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!p->easy || !p->hdr)
		return -ENOMEM;
	curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->hdr);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)ALERTS_TIMEOUT_MS);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ALERTS_TIMEOUT_MS);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "clusterd/" MARS_VERSION);
	p->tries++;
	if (curl_multi_add_handle(a->multi, p->easy) != CURLM_OK)
		return -EIO;
	return 0;
}

/* Start attempts that are due. */
static void
start_due(struct alerts *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n; i++) {
		struct post *p = &a->queue[i];

		if (p->easy || p->due_ms > now_ms)
			continue;
		if (post_start(a, p) < 0) {
			post_end_attempt(a, p);
			p->due_ms = now_ms + ALERTS_BACKOFF_MIN_MS;
		}
	}
}

static struct post *
post_of(struct alerts *a, CURL *easy, size_t *idx)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->queue[i].easy == easy) {
			*idx = i;
			return &a->queue[i];
		}
	return NULL;
}

static void
finish(struct alerts *a, CURL *easy, CURLcode res, uint64_t now_ms)
{
	long code = 0;
	size_t i;
	struct post *p = post_of(a, easy, &i);

	if (!p)
		return;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code >= 200 && code < 300) {
		a->st.sent++;
		queue_remove(a, i);
		return;
	}
	post_end_attempt(a, p);
	if (p->tries >= ALERTS_TRIES) {
		log_warnx("alerts: giving up on '%s' after %u attempts: %s (HTTP %ld)",
			  p->url, p->tries, curl_easy_strerror(res), code);
		a->st.failed++;
		queue_remove(a, i);
		return;
	}
	a->st.retried++;
	p->due_ms = now_ms + ((uint64_t)ALERTS_BACKOFF_MIN_MS << (p->tries - 1));
	log_info("alerts: post to '%s' failed (%s, HTTP %ld), retry in %llu ms", p->url,
		 curl_easy_strerror(res), code, (unsigned long long)(p->due_ms - now_ms));
}

static void
reap(struct alerts *a, uint64_t now_ms)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(a->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			finish(a, m->easy_handle, m->data.result, now_ms);
}

size_t
alerts_pollfds(struct alerts *a, struct pollfd *pfd, size_t max)
{
	size_t i;

	for (i = 0; i < a->n_fds && i < max; i++) {
		pfd[i].fd = a->fds[i].fd;
		pfd[i].events = a->fds[i].events;
		pfd[i].revents = 0;
	}
	return i;
}

int
alerts_timeout_ms(struct alerts *a, uint64_t now_ms)
{
	int64_t best = -1;

	if (a->curl_timeout_ms >= 0) {
		int64_t t = (int64_t)(a->curl_timer_set_ms + (uint64_t)a->curl_timeout_ms) -
			    (int64_t)now_ms;

		best = t < 0 ? 0 : t;
	}
	for (size_t i = 0; i < a->n; i++) {
		int64_t t;

		if (a->queue[i].easy)
			continue;
		t = a->queue[i].due_ms > now_ms ? (int64_t)(a->queue[i].due_ms - now_ms) : 0;
		if (best < 0 || t < best)
			best = t;
	}
	return best > 60000 ? 60000 : (int)best;
}

void
alerts_dispatch(struct alerts *a, const struct pollfd *pfd, size_t n, uint64_t now_ms)
{
	int running;

	start_due(a, now_ms);
	for (size_t i = 0; i < n; i++) {
		int ev = 0;

		if (!pfd[i].revents)
			continue;
		if (pfd[i].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (pfd[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (pfd[i].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(a->multi, pfd[i].fd, ev, &running);
	}
	now_ms = mono_ms();
	if (a->curl_timeout_ms >= 0 &&
	    now_ms >= a->curl_timer_set_ms + (uint64_t)a->curl_timeout_ms) {
		a->curl_timeout_ms = -1;
		curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	reap(a, now_ms);
}

void
alerts_get_stats(const struct alerts *a, struct alerts_stats *st)
{
	*st = a->st;
}
