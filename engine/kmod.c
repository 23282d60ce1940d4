/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path in mars.ko, driven through its control device
 * (/dev/mars-control, docs/kernel-interface.md): the operations table's
 * second implementation.  The module keeps no state tree of its own, so
 * what the userspace engine publishes itself is published here, from the
 * status snapshots: the replay link (applied position, after the module
 * flushed the disk) and the actual indicators, each only when it changed.
 * The device is the module's /dev/mars/<res>.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/names.h"
#include "engine/tree.h"
#include "mars/ctl.h"
#include "statefs/statefs.h"

struct mars_engine {
	int fd;				/* /dev/mars-control */
	unsigned int iface_minor;	/* what the loaded module speaks */
	char root[4096], host[64], resource[MARS_CTL_RES_LEN];
	struct mars_ctl_status last;	/* last published snapshot */
	int published;			/* last is valid */
};

static const char *
kmod_control(void)
{
	const char *p = getenv("MARS_CONTROL");

	return p && *p ? p : "/dev/" MARS_CTL_DEVICE_NAME;
}

static int
kmod_ioctl(struct mars_engine *e, unsigned long req, void *arg)
{
	return ioctl(e->fd, req, arg) < 0 ? -errno : 0;
}

/* Copy into a fixed ABI field; callers checked the length already. */
static void
kmod_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
kmod_attach(const struct mars_engine_config *cfg, struct mars_engine **out)
{
	struct mars_ctl_version ver = { 0 };
	struct mars_ctl_attach at = { 0 };
	struct mars_engine *e;
	int ret;

	if (!cfg->root || !cfg->host || !cfg->resource || !cfg->disk ||
	    strlen(cfg->resource) > MARS_CTL_RES_MAX || strlen(cfg->disk) >= MARS_CTL_PATH_LEN)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = open(kmod_control(), O_RDWR | O_CLOEXEC);
	ret = e->fd < 0 ? -errno : kmod_ioctl(e, MARS_CTL_IOC_VERSION, &ver);
	if (!ret && ver.iface_major != MARS_CTL_IFACE_MAJOR)
		ret = -EPROTO;		/* a module of another interface generation */
	if (ret)
		goto fail;
	e->iface_minor = ver.iface_minor;
	kmod_name(e->root, sizeof(e->root), cfg->root);
	kmod_name(e->host, sizeof(e->host), cfg->host);
	kmod_name(e->resource, sizeof(e->resource), cfg->resource);
	at.size_bytes = cfg->size_bytes;
	kmod_name(at.resource, sizeof(at.resource), cfg->resource);
	kmod_name(at.disk, sizeof(at.disk), cfg->disk);
	ret = statefs_resource_path(cfg->root, cfg->resource, NULL, at.dir, sizeof(at.dir));
	if (ret)
		goto fail;
	ret = kmod_ioctl(e, MARS_CTL_IOC_ATTACH, &at);
	/* Attached by an earlier clusterd: the module keeps running it.
	 * (-EBUSY is somebody else holding the disk: an error.) */
	if (ret == -EEXIST)
		ret = 0;
	if (ret)
		goto fail;
	*out = e;
	return 0;
fail:
	if (e->fd >= 0)
		close(e->fd);
	free(e);
	return ret;
}

/*
 * The replay link of a replay is ours only while it names the logfile
 * replayed: invalidate or a join may have moved this node elsewhere
 * meanwhile, and an old position written back would undo that (as the
 * userspace engine, engine/user.c).  A primary's link is always its own.
 */
static int
kmod_link_ours(struct mars_engine *e, const struct mars_ctl_status *s)
{
	struct eng_pos cur;

	if (s->mode != MARS_CTL_MODE_REPLAY)
		return 1;
	return eng_pos_read(e->root, e->resource, e->host, &cur) < 0 ||
	       !strncmp(cur.logfile, s->applied_logfile, sizeof(s->applied_logfile));
}

/* The replay link of the module's applied position; -EINVAL if the
 * module reported no logfile name. */
static int
kmod_replay_value(const struct mars_ctl_status *s, char *buf, size_t size)
{
	struct mars_replaylink r = { .pos_bytes = s->applied_pos };
	size_t len = strnlen(s->applied_logfile, sizeof(s->applied_logfile));

	if (mars_logname_parse(s->applied_logfile, len, &r.log) < 0)
		return -EINVAL;
	return mars_replaylink_format(buf, size, &r);
}

/* Publish what changed since the last snapshot. */
static void
kmod_publish(struct mars_engine *e, const struct mars_ctl_status *s)
{
	char k[4][96], v[4][16], rk[96], rv[MARS_REPLAY_MAX + 1];
	const char *kv[10];
	size_t n = 0;

	if (!e->published || s->mode != e->last.mode || s->open_count != e->last.open_count) {
		snprintf(k[0], sizeof(k[0]), "actual-%s/is-attached", e->host);
		snprintf(k[1], sizeof(k[1]), "actual-%s/is-primary", e->host);
		snprintf(k[2], sizeof(k[2]), "actual-%s/is-replaying", e->host);
		snprintf(k[3], sizeof(k[3]), "actual-%s/open-count", e->host);
		snprintf(v[0], sizeof(v[0]), "1");
		snprintf(v[1], sizeof(v[1]), "%d", s->mode == MARS_CTL_MODE_PRIMARY);
		snprintf(v[2], sizeof(v[2]), "%d", s->mode == MARS_CTL_MODE_REPLAY);
		snprintf(v[3], sizeof(v[3]), "%u", s->open_count);
		for (int i = 0; i < 4; i++) {
			kv[n++] = k[i];
			kv[n++] = v[i];
		}
	}
	if (s->applied_logfile[0] &&
	    (!e->published || s->applied_pos != e->last.applied_pos ||
	     strncmp(s->applied_logfile, e->last.applied_logfile, sizeof(s->applied_logfile))) &&
	    kmod_link_ours(e, s) && kmod_replay_value(s, rv, sizeof(rv)) >= 0) {
		snprintf(rk, sizeof(rk), "replay-%s", e->host);
		kv[n++] = rk;
		kv[n++] = rv;
	}
	if (n && eng_tree_set(e->root, e->resource, e->host, kv, n / 2) == 0) {
		e->last = *s;
		e->published = 1;
	}
}

static void
kmod_detach(struct mars_engine *e)
{
	struct mars_ctl_res r = { 0 };

	/* The indicators go to 0 in clusterd's engine_drop(), for every
	 * implementation alike.  DETACH returns once the module cut its
	 * logfile's preallocated zeros off and synced it (kernel-interface.md,
	 * DETACH), so from here on the logfile's size is its length. */
	kmod_name(r.resource, sizeof(r.resource), e->resource);
	kmod_ioctl(e, MARS_CTL_IOC_DETACH, &r);
	close(e->fd);
	free(e);
}

/*
 * A fresh resource: create-resource names this host's first logfile @nr
 * at 0, and nothing was logged yet.  The module cannot recover from a
 * file that does not exist, so it is asked for no recovery, and told to
 * start at @nr (interface 1.2): a resource created again starts 100000
 * above its earlier incarnation, whose own logfiles below @nr may still
 * lie in the directory.  A module before 1.2 always starts at the
 * highest number in the directory + 1 and counts every own logfile, so
 * for it the resource is fresh only without any and when that is @nr.
 * Otherwise the link goes to the module as it is, which refuses it.
 */
static int
kmod_fresh(struct mars_engine *e, uint64_t nr)
{
	int first_nr = e->iface_minor >= 2;
	char dir[4200];
	uint64_t *own, max_any;
	size_t n_own;

	if (nr > ENG_LOGNR_MAX ||
	    statefs_resource_path(e->root, e->resource, NULL, dir, sizeof(dir)))
		return 0;
	if (eng_log_list(dir, e->host, first_nr ? nr : 0, &own, &n_own, &max_any))
		return 0;
	free(own);
	return n_own == 0 && (first_nr || max_any + 1 == nr);
}

static int
kmod_set_primary(struct mars_engine *e)
{
	struct mars_ctl_primary p = { 0 };
	struct eng_pos cur;
	int ret;

	kmod_name(p.resource, sizeof(p.resource), e->resource);
	kmod_name(p.host, sizeof(p.host), e->host);
	/* Recovery starts where the replay link says (its own logfile);
	 * without a usable link the module refuses to guess (-EUCLEAN). */
	ret = eng_pos_read(e->root, e->resource, e->host, &cur);
	if (ret != 0 && ret != -ENOENT && ret != -EBADMSG)
		return ret;
	if (ret == 0 && cur.pos == 0 && !strcmp(cur.origin, e->host) && kmod_fresh(e, cur.nr)) {
		if (e->iface_minor >= 2) {
			p.flags = MARS_CTL_PRIMARY_F_FIRST_NR;
			p.first_nr = (uint32_t)cur.nr;
		}
	} else if (ret == 0) {
		kmod_name(p.recover_logfile, sizeof(p.recover_logfile), cur.logfile);
		p.recover_pos = cur.pos;
	}
	return kmod_ioctl(e, MARS_CTL_IOC_SET_PRIMARY, &p);
}

static int
kmod_set_replay(struct mars_engine *e, const char *logfile, uint64_t pos)
{
	struct mars_ctl_replay r = { 0 };

	if (strchr(logfile, '/') || strlen(logfile) >= sizeof(r.logfile))
		return -EINVAL;
	kmod_name(r.resource, sizeof(r.resource), e->resource);
	kmod_name(r.logfile, sizeof(r.logfile), logfile);
	r.start_pos = pos;
	return kmod_ioctl(e, MARS_CTL_IOC_SET_REPLAY, &r);
}

static int
kmod_rotate(struct mars_engine *e)
{
	struct mars_ctl_res r = { 0 };

	kmod_name(r.resource, sizeof(r.resource), e->resource);
	return kmod_ioctl(e, MARS_CTL_IOC_ROTATE, &r);
}

static int
kmod_status(struct mars_engine *e, struct mars_engine_status *st)
{
	struct mars_ctl_status s = { 0 };
	int ret;

	kmod_name(s.resource, sizeof(s.resource), e->resource);
	ret = kmod_ioctl(e, MARS_CTL_IOC_STATUS, &s);
	if (ret)
		return ret;
	kmod_publish(e, &s);
	memset(st, 0, sizeof(*st));
	st->mode = s.mode == MARS_CTL_MODE_PRIMARY ? MARS_ENGINE_PRIMARY :
		   s.mode == MARS_CTL_MODE_REPLAY ? MARS_ENGINE_REPLAY : MARS_ENGINE_ATTACHED;
	st->replay = (enum mars_engine_replay_state)s.replay_state;
	/* Out of the module's fixed fields, which may lack a NUL. */
	snprintf(st->logfile, sizeof(st->logfile), "%.*s", (int)sizeof(s.logfile) - 1,
		 s.logfile);
	snprintf(st->applied_logfile, sizeof(st->applied_logfile), "%.*s",
		 (int)sizeof(s.applied_logfile) - 1, s.applied_logfile);
	st->size_bytes = s.size_bytes;
	st->log_end = s.log_end;
	st->synced_pos = s.synced_pos;
	st->pending_bytes = s.pending_bytes;
	st->sync_requests = s.sync_requests;
	st->log_syncs = s.log_syncs;
	st->applied_pos = s.applied_pos;
	st->records = s.records;
	st->data_bytes = s.data_bytes;
	st->rate_bps = s.rate_bps;
	st->stop_result = (enum mars_scan_result)s.stop_result;
	st->stop_reason = (enum mars_scan_reason)s.stop_reason;
	st->stop_offset = s.stop_offset;
	st->error = s.error;
	return 0;
}

const struct mars_engine_ops mars_engine_kmod_ops = {
	.name = "kmod",
	.attach = kmod_attach,
	.detach = kmod_detach,
	.set_primary = kmod_set_primary,
	.set_replay = kmod_set_replay,
	.rotate = kmod_rotate,
	.status = kmod_status,
};
