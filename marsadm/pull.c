/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The update step: pull the newest tree from the reachable members and
 * merge it, before a command looks at the tree (MARS's update-cluster).
 * It is clusterd's exchange (gossip_update() in clusterd/gossip/join.c, the one
 * implementation of docs/protocol.md), run in-process like join-cluster,
 * so every merged entry passes the daemon's checks and is written as the
 * host the member proved to be; marsadm never writes in another's name.
 *
 * Failure policy, stated once: before a command (CMD_NEED_NEWEST) a member
 * that does not answer is a warning, and the command goes on with what the
 * others sent.  A failover must work with the old primary cut off, and the
 * command's own checks still decide on the state it sees.  Only
 * update-cluster and wait-cluster, whose job the pull is, fail on it.
 */
#include "marsadm/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "clusterd/gossip/gossip.h"

/* MARS_NO_SSH=1 (MARS's --no-ssh): this node's tree is kept in step by
 * other means, marsadm opens no connection of its own. */
static int
no_ssh(void)
{
	const char *v = getenv("MARS_NO_SSH");

	return v && *v && strcmp(v, "0") != 0;
}

static void
pull_report(const struct gossip_pull_report *r, void *arg)
{
	struct pull *p = arg;

	p->members++;
	if (r->ret == 0) {
		note(p->ctx, 1, "pulled the tree of '%s' (%s): %u entries newer, %u refused",
		     r->ep->host, r->ep->addr, r->merged, r->refused);
		if (p->answered)
			p->answered(p, r->ep->host);
	} else {
		if (!p->failed++) {
			snprintf(p->first_failed, sizeof(p->first_failed), "%s", r->ep->host);
			snprintf(p->first_err, sizeof(p->first_err), "%s", r->err);
		}
		p->timed_out += r->ret == -ETIMEDOUT;
		if (!p->quiet)
			warning("member '%s' (%s) did not answer: %s%s", r->ep->host, r->ep->addr,
				r->err, p->strict ? "" : "; going on without its newest state");
	}
	if (p->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "host", json_object_new_string(r->ep->host));
		json_object_object_add(o, "address", json_object_new_string(r->ep->addr));
		json_object_object_add(o, "ok", json_object_new_boolean(r->ret == 0));
		if (r->ret == 0) {
			json_object_object_add(o, "merged", json_object_new_int64(r->merged));
			json_object_object_add(o, "refused", json_object_new_int64(r->refused));
		} else {
			json_object_object_add(o, "error", json_object_new_string(r->err));
		}
		json_object_array_add(p->json, o);
	}
}

static int
pull_want(const char *host, void *arg)
{
	struct pull *p = arg;

	return p->want ? p->want(p, host) : 1;
}

int
pull_run(struct pull *p)
{
	struct gossip_config c;
	uint64_t deadline_ms = 0;
	int ret;

	if (no_ssh()) {
		fail(MX_REFUSED, "'%s' pulls the members' trees over ssh, and MARS_NO_SSH is set",
		     p->ctx->cmd->name);
		hint("unset MARS_NO_SSH on a node whose members are reachable over ssh");
		return MX_REFUSED;
	}
	if (gossip_config_init(&c) < 0)
		return fail(MX_USAGE, "host name too long");
	c.root = p->ctx->root;
	snprintf(c.host, sizeof(c.host), "%s", p->ctx->host);
	gossip_config_finish(&c);
	if (p->deadline_ms)
		deadline_ms = p->deadline_ms;
	else if (p->ctx->timeout_s > 0)
		deadline_ms = gossip_now_ms() + (uint64_t)p->ctx->timeout_s * 1000;
	p->members = p->failed = p->timed_out = 0;
	ret = gossip_update(&c, deadline_ms, pull_want, pull_report, p);
	if (ret == -ENOENT)
		return fail(MX_NOTREE, "'%s' has no cluster uuid", p->ctx->root);
	if (ret < 0)
		return fail(MX_IO, "cannot read the members of '%s': %s", p->ctx->root,
			    strerror(-ret));
	return MX_OK;
}

int
pull_newest(struct marsadm_ctx *ctx)
{
	struct pull p = { .ctx = ctx };

	if (ctx->dry_run || ctx->timeout_s == 0 || no_ssh()) {
		note(ctx, 1, "not pulling the members' trees (%s)",
		     ctx->dry_run ? "--dry-run" : ctx->timeout_s == 0 ? "--timeout=0" : "MARS_NO_SSH");
		return MX_OK;
	}
	return pull_run(&p);
}
