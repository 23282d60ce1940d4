/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Member keys in the tree and in authorized_keys (keys.h; the trust
 * argument is docs/protocol.md section 1.1, "Keys travel with the tree").
 *
 * What lets a key in is a line bound to its host.  This file only ever
 * adds such lines, for members that have none, and never replaces one:
 * whoever could change keys/key-X (X itself, or a member that relayed a
 * key into a joining node) must not be able to swap the key that logs
 * in as X, so a changed key stays out until the admin authorizes it
 * (mars-setup-ssh --authorize).  Everything written into the file was
 * checked here again, whatever the tree's checks: the host name by the
 * name grammar, the address as a numeric one, the key by its form, so
 * that no tree entry can add an option or a second line.  Lines removed
 * are revoke.c's business; both write through authfile_replace().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterd/gossip/authfile.h"
#include "clusterd/gossip/keys.h"
#include "clusterd/gossip/revoke.h"
#include "common/io.h"

#define PUB_MAX		4096	/* bytes of a .pub file read */
#define LINE_MAX_BYTES	(2 * STATEFS_VALUE_MAX + 4096)	/* one line added, at most */

int
keys_own_value(const char *pub_path, char *value, size_t size)
{
	char buf[PUB_MAX + 1], *nl;
	ssize_t n;
	int fd = open(pub_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = io_read_full(fd, buf, PUB_MAX);
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	return statefs_sshkey_from_openssh(buf, nl ? (size_t)(nl - buf) : (size_t)n, value, size);
}

int
keys_publish(struct statefs *sf, const char *pub_path)
{
	char path[STATEFS_PATH_MAX + 1], want[STATEFS_VALUE_MAX + 1], have[STATEFS_VALUE_MAX + 1];
	struct statefs_txn t;
	int ret = keys_own_value(pub_path, want, sizeof(want));

	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "keys/key-%s", statefs_host(sf));
	if (statefs_get(sf, path, have, sizeof(have), NULL) >= 0 && !strcmp(have, want))
		return 0;
	statefs_txn_init(&t, sf, 0);
	ret = statefs_txn_set(&t, path, want);
	if (ret == 0)
		ret = statefs_txn_commit(&t, NULL);
	statefs_txn_release(&t);
	return ret < 0 ? ret : 1;
}

/* ---- the file as read: which host each line is bound to, which key ------ */

struct line_info {
	char host[STATEFS_NAME_MAX + 1];	/* "" : bound to no host */
	uint64_t key_hash;			/* 0 : no key found */
	int revoked;				/* KEYS_REVOKED_TAG host */
};

/* FNV-1a: keys are compared by hash; a collision only ever keeps a line
 * out (never lets one in), and only the key's own host can craft one. */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* The key of an authorized_keys line as a keys/ value: the line itself
 * starts with it, or its first field (options, quotes respected) is
 * followed by it. */
static int
line_key(const char *line, size_t len, char *value, size_t size)
{
	int quoted = 0;

	if (statefs_sshkey_from_openssh(line, len, value, size) == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == ' ' && !quoted)
			return statefs_sshkey_from_openssh(line + i + 1, len - i - 1, value, size);
	}
	return -ENOENT;
}

/* "# mars-revoked NAME", mars-setup-ssh --revoke's mark: NAME into @host. */
static int
revoked_line(const char *line, size_t len, char *host, size_t size)
{
	size_t tag = strlen(KEYS_REVOKED_TAG);

	if (len <= tag || len - tag >= size || memcmp(line, KEYS_REVOKED_TAG, tag) != 0)
		return 0;
	memcpy(host, line + tag, len - tag);
	host[len - tag] = '\0';
	return 1;
}

static struct line_info *
parse_lines(const struct authfile *f, size_t *n_out)
{
	char value[STATEFS_VALUE_MAX + 1];
	struct line_info *li;
	size_t n = 1, k = 0;
	uint64_t auth_s;

	for (size_t i = 0; i < f->len; i++)
		n += f->buf[i] == '\n';
	li = calloc(n, sizeof(*li));
	if (!li)
		return NULL;
	for (size_t i = 0; i < f->len && k < n; k++) {
		const char *nl = memchr(f->buf + i, '\n', f->len - i);
		size_t len = nl ? (size_t)(nl - (f->buf + i)) : f->len - i;

		if (revoke_line_peer(f->buf + i, len, li[k].host, sizeof(li[k].host), &auth_s) < 0)
			li[k].host[0] = '\0';
		li[k].revoked = revoked_line(f->buf + i, len, li[k].host, sizeof(li[k].host));
		if (line_key(f->buf + i, len, value, sizeof(value)) == 0)
			li[k].key_hash = hash_str(value);
		i += len + (nl != NULL);
	}
	*n_out = k;
	return li;
}

/* ---- adding ---------------------------------------------------------------- */

struct install {
	struct statefs *sf;
	const char *serve_cmd;
	struct line_info *lines;
	size_t n_lines;
	char *add;			/* the lines to append */
	size_t add_len;
	unsigned added;
	struct keys_memo *memo;
	void (*report)(const struct keys_event *ev, void *arg);
	void *arg;
};

/* Report @kind for @host once per key (the memo), added lines always. */
static void
report(struct install *in, enum keys_event_kind kind, const char *host, const char *addr,
       uint64_t key_hash)
{
	struct keys_event ev = { .kind = kind, .host = host, .addr = addr };
	struct keys_memo *m = in->memo;

	if (kind != KEYS_ADDED && m) {
		for (size_t i = 0; i < m->n; i++)
			if (m->seen[i].key_hash == key_hash && !strcmp(m->seen[i].host, host))
				return;
		if (m->n < KEYS_MEMO_MAX) {
			snprintf(m->seen[m->n].host, sizeof(m->seen[m->n].host), "%s", host);
			m->seen[m->n++].key_hash = key_hash;
		}
	}
	if (in->report)
		in->report(&ev, in->arg);
}

static int
append_line(struct install *in, const char *host, const char *addr, const char *value)
{
	char key[STATEFS_VALUE_MAX + 1], *grown;
	int n;

	if (statefs_sshkey_to_openssh(value, key, sizeof(key)) < 0)
		return -EBADMSG;
	grown = realloc(in->add, in->add_len + LINE_MAX_BYTES);
	if (!grown)
		return -ENOMEM;
	in->add = grown;
	n = snprintf(in->add + in->add_len, LINE_MAX_BYTES,
		     "restrict,from=\"%s\",command=\"%s --peer %s\" %s mars-authorized=%llu "
		     KEYS_AUTO_TAG "\n", addr, in->serve_cmd, host, key,
		     (unsigned long long)time(NULL));
	if (n < 0 || n >= LINE_MAX_BYTES)
		return -ENAMETOOLONG;
	in->add_len += (size_t)n;
	return 0;
}

/* A line added counts as one of the file's for the members after it, so
 * that one key is never bound to two hosts. */
static int
remember_line(struct install *in, const char *host, uint64_t key_hash)
{
	struct line_info *grown = realloc(in->lines, (in->n_lines + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	in->lines = grown;
	snprintf(grown[in->n_lines].host, sizeof(grown[in->n_lines].host), "%s", host);
	grown[in->n_lines++].key_hash = key_hash;
	return 0;
}

/* One member, from its ips/ip-X: a line for it, a refusal, or nothing
 * (also for a member the admin revoked here by hand). */
static int
install_one(const struct statefs_entry *e, void *arg)
{
	struct install *in = arg;
	const char *host = e->path + strlen("ips/ip-");
	char path[STATEFS_PATH_MAX + 1], value[STATEFS_VALUE_MAX + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	uint64_t h;
	int bound = 0, elsewhere = 0;

	if (strncmp(e->path, "ips/ip-", 7) || statefs_name_check(STATEFS_NAME_HOST, host, NULL) ||
	    !strcmp(host, statefs_host(in->sf)) || statefs_is_evicted(in->sf, host, NULL, 0) != 0 ||
	    (inet_pton(AF_INET, e->value, addr) != 1 && inet_pton(AF_INET6, e->value, addr) != 1))
		return 0;
	snprintf(path, sizeof(path), "keys/key-%s", host);
	if (statefs_get(in->sf, path, value, sizeof(value), NULL) < 0 ||
	    statefs_sshkey_check(value) < 0)
		return 0;
	h = hash_str(value);
	for (size_t i = 0; i < in->n_lines; i++) {
		if (!strcmp(in->lines[i].host, host) && in->lines[i].revoked)
			return 0;	/* the admin's word, until --authorize */
		if (!strcmp(in->lines[i].host, host))
			bound |= in->lines[i].key_hash == h ? 1 : 2;
		else if (in->lines[i].key_hash == h)
			elsewhere = 1;
	}
	if (bound) {	/* first key wins: a line for X is never replaced here */
		if (!(bound & 1))
			report(in, KEYS_CHANGED, host, e->value, h);
		return 0;
	}
	if (elsewhere) {
		report(in, KEYS_ELSEWHERE, host, e->value, h);
		return 0;
	}
	if (append_line(in, host, e->value, value) < 0 || remember_line(in, host, h) < 0)
		return -ENOMEM;
	in->added++;
	report(in, KEYS_ADDED, host, e->value, h);
	return 0;
}

/* The file with the new lines appended, replaced in one step. */
static int
write_added(const char *path, const struct authfile *f, int exists, const struct install *in)
{
	int nl = f->len > 0 && f->buf[f->len - 1] != '\n';
	char *out = malloc(f->len + (size_t)nl + in->add_len);
	int ret;

	if (!out)
		return -ENOMEM;
	if (f->len)
		memcpy(out, f->buf, f->len);	/* an absent file has no buffer */
	if (nl)
		out[f->len] = '\n';
	memcpy(out + f->len + (size_t)nl, in->add, in->add_len);
	ret = authfile_replace(path, out, f->len + (size_t)nl + in->add_len,
			       exists ? &f->st : NULL);
	free(out);
	return ret;
}

int
keys_install(struct statefs *sf, const char *path, const char *serve_cmd,
	     struct keys_memo *memo,
	     void (*report_fn)(const struct keys_event *ev, void *arg), void *arg)
{
	struct install in = { .sf = sf, .serve_cmd = serve_cmd, .memo = memo,
			      .report = report_fn, .arg = arg };
	struct authfile f;
	int ret, exists = 1;

	for (const char *p = serve_cmd; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	ret = authfile_read(path, &f);
	if (ret == -ENOENT) {
		exists = 0;
		ret = 0;
	}
	if (ret < 0)
		goto out;
	in.lines = parse_lines(&f, &in.n_lines);
	ret = in.lines ? statefs_list(sf, "ips", 0, install_one, &in) : -ENOMEM;
	if (ret == -ENOENT)
		ret = 0;	/* no ips/ yet: no member */
	if (ret == 0 && in.added)
		ret = write_added(path, &f, exists, &in);
out:
	free(in.lines);
	free(in.add);
	authfile_release(&f);
	return ret < 0 ? ret : (int)in.added;
}
