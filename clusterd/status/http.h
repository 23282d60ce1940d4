/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The status page's HTTP server: libmicrohttpd in external-poll mode, so
 * the daemon's one poll() loop drives it through a single descriptor (its
 * epoll set).  Read-only: GET and HEAD only, no request bodies, bounded
 * connections, connection memory and per-connection time, an optional
 * bearer token, and only requests whose Host header names this server
 * (http_host.c says why).  What each path returns is decided by the handler the
 * caller registers (status.c).
 */
#ifndef MARS_CLUSTERD_HTTP_H
#define MARS_CLUSTERD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_CONNECTIONS_MAX	32	/* concurrent connections */
#define HTTP_PER_IP_MAX		16	/* concurrent connections from one address */
#define HTTP_CONN_MEMORY_BYTES	16384	/* request line + headers per connection */
#define HTTP_CONN_TIMEOUT_S	10	/* idle connection closed after this */
#define HTTP_DEFAULT_PORT	7780
#define HTTP_TOKEN_MAX		1024	/* bytes of a bearer token */
#define HTTP_ALLOW_HOSTS_MAX	16	/* names added with --http-allow-host */
#define HTTP_HOST_NAME_MAX	255	/* bytes of one name in a Host header */

/* What a handler fills in; body is malloc'd (freed by http.c) or static. */
struct http_reply {
	unsigned status;		/* 200, 404, ... */
	const char *content_type;
	char *body;
	size_t len;
	int body_static;		/* body points to static data, do not free */
};

/* One request being answered; opaque, see http_query(). */
struct http_request;

/* Value of query argument @name of @req, NULL if absent (already decoded). */
const char *http_query(const struct http_request *req, const char *name);

/*
 * Produce the reply for GET @path (without the query).  @authorized is 0
 * when a token is configured and the request did not carry it; the
 * handler decides which paths need it (data does, static assets do not).
 */
typedef void (*http_handler_fn)(const char *path, const struct http_request *req,
				int authorized, struct http_reply *r, void *arg);

struct http_config {
	const char *listen;		/* "ADDR:PORT", "[V6]:PORT" or "NAME:PORT" */
	const char *token;		/* bearer token or NULL */
	/* Host header names answered besides the listen address, loopback
	 * and uname -n: the node's MARS name, --http-allow-host names */
	const char *const *allow_hosts;
	size_t n_allow_hosts;		/* at most HTTP_ALLOW_HOSTS_MAX + 1 */
	http_handler_fn handler;
	void *arg;
};

struct http_server;

/*
 * Parse "ADDR:PORT" / "[ADDR]:PORT" / "NAME:PORT" into a socket address
 * (a name: its first address, resolved here, blocking).  -EINVAL if bad,
 * -EHOSTUNREACH if the name does not resolve.
 */
int http_parse_listen(const char *s, void *sockaddr_storage, unsigned *len);

/* 1 if @listen (as http_parse_listen() reads it) is a loopback address,
 * 0 if not, -errno if it does not parse. */
int http_listen_is_loopback(const char *listen);

/* http_host.c: the address checks, for a struct sockaddr_in or _in6. */
struct sockaddr;
int http_addr_is_loopback(const struct sockaddr *sa);	/* 127/8, ::1, ::ffff:127/104 */
int http_addr_is_any(const struct sockaddr *sa);	/* 0.0.0.0 or :: */
/*
 * 1 if a request with Host header @header (NULL: none) may be answered:
 * its name (port and one final dot stripped) is one of @names (compared
 * without case), or @any_ip is set and it is an IP literal.
 */
int http_host_allowed(const char *header, const char *const *names, size_t n_names,
		      int any_ip);

/*
 * http_token.c: read the bearer token from @path into @buf (@buflen bytes,
 * at most HTTP_TOKEN_MAX + 1).  The file must be a regular file of this
 * user or root with no group or other permission bits, holding one line
 * of visible ASCII.  0, or -errno with @err saying why and how to fix it.
 */
int http_token_read(const char *path, char *buf, size_t buflen, char *err, size_t errlen);

/* Start listening.  Returns 0 or -errno; @err says why. */
int http_open(struct http_server **hp, const struct http_config *c, char *err, size_t errlen);
void http_close(struct http_server *h);

/* The descriptor to poll for POLLIN (the server's epoll set). */
int http_fd(const struct http_server *h);
/* Milliseconds until http_run() must be called even without events, -1 none. */
int http_timeout_ms(struct http_server *h);
/* Process what is ready; call when http_fd() is readable or the timeout expired. */
void http_run(struct http_server *h);

/* Requests answered since http_open(), by class, for /metrics. */
struct http_stats {
	uint64_t requests;
	uint64_t unauthorized;
	uint64_t not_found;
	uint64_t refused;	/* foreign Host, bad method, body, or over the limits */
};
void http_get_stats(const struct http_server *h, struct http_stats *st);

#endif /* MARS_CLUSTERD_HTTP_H */
