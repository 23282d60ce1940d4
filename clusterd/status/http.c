/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP for the status page, on libmicrohttpd rather than a hand-written
 * parser.  Why external polling with MHD_USE_EPOLL: clusterd is one
 * single-threaded poll() loop (STYLE rule 5); in epoll mode all of MHD's
 * sockets sit behind one descriptor, which the loop polls like any other,
 * calling MHD_run() when it is readable or MHD's timeout expires.  No
 * thread, and the handlers may read the snapshot without locking.
 *
 * Safety: GET/HEAD only, a request body is refused, connection count,
 * per-address count, per-connection memory (request line plus headers)
 * and idle time are bounded.  The token compare does not stop at the
 * first differing byte.  A request whose Host header does not name this
 * server is answered 421 before anything else (DNS rebinding, see
 * http_host.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clusterd/status/http.h"
#include "common/log.h"

/* listen name, its address, localhost, 127.0.0.1, ::1, uname -n, configured */
#define HOST_NAMES_MAX	(6 + HTTP_ALLOW_HOSTS_MAX + 1)

struct http_server {
	struct MHD_Daemon *d;
	struct http_config c;
	struct http_stats st;
	/* the Host names answered (http_host_allowed()); fixed at open */
	char name_buf[HOST_NAMES_MAX][HTTP_HOST_NAME_MAX + 1];
	const char *names[HOST_NAMES_MAX];
	size_t n_names;
	int any_ip;			/* bound to the wildcard: any IP literal too */
};

struct http_request {
	struct MHD_Connection *conn;
};

static const char security_policy[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* A numeric host, or a name resolved once at start (before the poll loop). */
static int
listen_resolve(const char *host, unsigned long port, void *ss, unsigned *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	char service[8];
	int ret = 0;

	snprintf(service, sizeof(service), "%lu", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	if (ai->ai_addrlen > sizeof(struct sockaddr_in6))
		ret = -EAFNOSUPPORT;
	else {
		memset(ss, 0, sizeof(struct sockaddr_in6));
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = (unsigned)ai->ai_addrlen;
	}
	freeaddrinfo(ai);
	return ret;
}

/* "ADDR:PORT" / "[ADDR]:PORT" / "NAME:PORT" into @host (brackets off) and @port. */
static int
listen_split(const char *s, char host[HTTP_HOST_NAME_MAX + 1], unsigned long *port)
{
	const char *colon;
	char *end;
	size_t hl;

	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -EINVAL;
	*port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || *port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -EINVAL;
		s++;
		hl -= 2;
	}
	if (hl > HTTP_HOST_NAME_MAX)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return 0;
}

int
http_parse_listen(const char *s, void *ss, unsigned *len)
{
	char host[HTTP_HOST_NAME_MAX + 1];
	unsigned long port;
	int ret = listen_split(s, host, &port);

	return ret < 0 ? ret : listen_resolve(host, port, ss, len);
}

int
http_listen_is_loopback(const char *listen)
{
	struct sockaddr_storage ss;
	unsigned len;
	int ret = http_parse_listen(listen, &ss, &len);

	return ret < 0 ? ret : http_addr_is_loopback((struct sockaddr *)&ss);
}

const char *
http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Constant-time comparison of the Authorization header with the token. */
static int
authorized(const struct http_server *h, struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	size_t tl, vl, i;
	unsigned char diff = 0;

	if (!h->c.token)
		return 1;
	if (!v || strncmp(v, "Bearer ", 7) != 0)
		return 0;
	v += 7;
	tl = strlen(h->c.token);
	vl = strlen(v);
	for (i = 0; i < tl; i++)
		diff |= (unsigned char)(h->c.token[i] ^ (i < vl ? v[i] : 0));
	return diff == 0 && vl == tl;
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct http_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->len, r->body,
			r->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		if (!r->body_static)
			free(r->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy", security_policy);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"clusterd\"");
	if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
plain(struct http_reply *r, unsigned status, const char *msg)
{
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body = (char *)msg;
	r->len = strlen(msg);
	r->body_static = 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size,
	   void **con_cls)
{
	struct http_server *h = cls;
	struct http_request req = { .conn = conn };
	struct http_reply r = { 0 };
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_HOST);
	char e1[LOG_ESC_BYTES];
	int auth;

	h->st.requests++;
	if (!http_host_allowed(host, h->names, h->n_names, h->any_ip)) {
		h->st.refused++;
		log_debug("http: refused Host '%s'", log_escape(e1, sizeof(e1), host));
		plain(&r, MHD_HTTP_MISDIRECTED_REQUEST, "misdirected request: this server "
		      "does not answer to that Host name (clusterd --http-allow-host)\n");
		return send_reply(conn, &r);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		h->st.refused++;
		plain(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only\n");
		return send_reply(conn, &r);
	}
	if (*upload_data_size) {
		h->st.refused++;
		plain(&r, MHD_HTTP_CONTENT_TOO_LARGE, "no request body accepted\n");
		return send_reply(conn, &r);
	}
	auth = authorized(h, conn);
	h->c.handler(url, &req, auth, &r, h->c.arg);
	if (r.status == MHD_HTTP_UNAUTHORIZED)
		h->st.unauthorized++;
	else if (r.status == MHD_HTTP_NOT_FOUND)
		h->st.not_found++;
	return send_reply(conn, &r);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("http: %s", buf);
}

static void
add_name(struct http_server *h, const char *name)
{
	if (!name || !*name || h->n_names == HOST_NAMES_MAX ||
	    strlen(name) > HTTP_HOST_NAME_MAX)
		return;
	strcpy(h->name_buf[h->n_names], name);
	h->names[h->n_names] = h->name_buf[h->n_names];
	h->n_names++;
}

/* The names a legitimate client may put in Host for this server. */
static void
collect_names(struct http_server *h, const struct sockaddr_storage *ss, unsigned sslen)
{
	char buf[HTTP_HOST_NAME_MAX + 1];
	unsigned long port;

	if (listen_split(h->c.listen, buf, &port) == 0)
		add_name(h, buf);
	if (getnameinfo((const struct sockaddr *)ss, sslen, buf, sizeof(buf), NULL, 0,
			NI_NUMERICHOST) == 0)
		add_name(h, buf);
	add_name(h, "localhost");
	add_name(h, "127.0.0.1");
	add_name(h, "::1");
	if (gethostname(buf, sizeof(buf)) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		add_name(h, buf);
	}
	for (size_t i = 0; i < h->c.n_allow_hosts; i++)
		add_name(h, h->c.allow_hosts[i]);
	h->any_ip = http_addr_is_any((const struct sockaddr *)ss);
}

int
http_open(struct http_server **hp, const struct http_config *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	struct http_server *h;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	*hp = NULL;
	if (http_parse_listen(c->listen, &ss, &sslen) < 0) {
		snprintf(err, errlen, "invalid listen address '%s' (want ADDR:PORT or "
			 "NAME:PORT with a NAME that resolves)", c->listen);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->c = *c;
	collect_names(h, &ss, sslen);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP_MAX,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY_BYTES,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
		MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on '%s' (address in use or not local?)",
			 c->listen);
		free(h);
		return -EADDRNOTAVAIL;
	}
	*hp = h;
	return 0;
}

void
http_close(struct http_server *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

int
http_fd(const struct http_server *h)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

int
http_timeout_ms(struct http_server *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->d, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void
http_run(struct http_server *h)
{
	MHD_run(h->d);
}

void
http_get_stats(const struct http_server *h, struct http_stats *st)
{
	*st = h->st;
}
