/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text from a snapshot.  Every family is written in one block
 * (HELP, TYPE, samples) as the format requires; label values go through
 * metrics_label_escape() because an address or device path may hold any
 * printable byte.  Text is collected in a memstream, so no size guessing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/status/metrics.h"

void
metrics_label_escape(char *out, size_t size, const char *v)
{
	size_t o = 0;

	for (; *v && o + 3 < size; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
members(FILE *f, const struct snapshot *s)
{
	size_t i;

	family(f, "mars_cluster_members", "gauge", "Hosts listed in ips/ of the state tree.");
	fprintf(f, "mars_cluster_members %zu\n", s->n_members);
	family(f, "mars_member_alive", "gauge", "1 if the member's heartbeat is within the window.");
	for (i = 0; i < s->n_members; i++)
		fprintf(f, "mars_member_alive{host=\"%s\"} %d\n", s->members[i].host,
			s->members[i].alive);
	family(f, "mars_member_heartbeat_age_seconds", "gauge",
	       "Age of the member's heartbeat actual-HOST/time.");
	for (i = 0; i < s->n_members; i++)
		if (s->members[i].heartbeat_ns)
			fprintf(f, "mars_member_heartbeat_age_seconds{host=\"%s\"} %.3f\n",
				s->members[i].host, s->members[i].heartbeat_age_s);
	family(f, "mars_member_emergency", "gauge", "1 if the member reports emergency mode.");
	for (i = 0; i < s->n_members; i++)
		fprintf(f, "mars_member_emergency{host=\"%s\"} %d\n", s->members[i].host,
			s->members[i].emergency);
}

static void
resources(FILE *f, const struct snapshot *s)
{
	size_t i;

	family(f, "mars_resource_size_bytes", "gauge", "Size of the resource.");
	for (i = 0; i < s->n_resources; i++)
		fprintf(f, "mars_resource_size_bytes{resource=\"%s\"} %llu\n", s->resources[i].name,
			(unsigned long long)s->resources[i].size_bytes);
	family(f, "mars_resource_split_brain", "gauge", "1 while a split brain is detected.");
	for (i = 0; i < s->n_resources; i++)
		fprintf(f, "mars_resource_split_brain{resource=\"%s\"} %d\n", s->resources[i].name,
			s->resources[i].split_brain);
	family(f, "mars_resource_emergency", "gauge", "1 while the primary is in emergency mode.");
	for (i = 0; i < s->n_resources; i++)
		fprintf(f, "mars_resource_emergency{resource=\"%s\"} %d\n", s->resources[i].name,
			s->resources[i].emergency);
}

/* One gauge family over all replicas; @pick returns the value. */
static void
replica_family(FILE *f, const struct snapshot *s, const char *name, const char *help,
	       double (*pick)(const struct snap_replica *p))
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < s->n_resources; i++)
		for (size_t j = 0; j < s->resources[i].n_replicas; j++)
			fprintf(f, "%s{resource=\"%s\",host=\"%s\"} %.17g\n", name,
				s->resources[i].name, s->resources[i].replicas[j].host,
				pick(&s->resources[i].replicas[j]));
}

static double pick_lag_bytes(const struct snap_replica *p) { return (double)p->lag_bytes; }
static double pick_lag_s(const struct snap_replica *p) { return p->lag_s; }
static double pick_sync(const struct snap_replica *p) { return (double)p->sync_bytes; }
static double pick_pos(const struct snap_replica *p) { return (double)p->replay_pos_bytes; }
static double pick_nr(const struct snap_replica *p) { return (double)p->replay_nr; }
static double pick_logs(const struct snap_replica *p) { return (double)p->logfile_bytes; }

static void
replicas(FILE *f, const struct snapshot *s)
{
	char dev[2 * STATEFS_VALUE_MAX + 4];

	replica_family(f, s, "mars_replica_lag_bytes", "Logfile bytes not yet replayed.",
		       pick_lag_bytes);
	replica_family(f, s, "mars_replica_lag_seconds", "Age of the oldest write not yet applied.",
		       pick_lag_s);
	replica_family(f, s, "mars_replica_sync_bytes", "Bytes of the device already synced.",
		       pick_sync);
	replica_family(f, s, "mars_replica_replay_logfile", "Logfile number being replayed.",
		       pick_nr);
	replica_family(f, s, "mars_replica_replay_position_bytes",
		       "Position applied in that logfile.", pick_pos);
	replica_family(f, s, "mars_replica_logfile_bytes",
		       "Bytes of the host's logfiles present on this node.", pick_logs);
	family(f, "mars_replica_state", "gauge",
	       "Always 1; the view states are in the labels.");
	for (size_t i = 0; i < s->n_resources; i++)
		for (size_t j = 0; j < s->resources[i].n_replicas; j++) {
			const struct snap_replica *p = &s->resources[i].replicas[j];

			metrics_label_escape(dev, sizeof(dev), p->device);
			fprintf(f, "mars_replica_state{resource=\"%s\",host=\"%s\",role=\"%s\","
				"disk=\"%s\",repl=\"%s\",flags=\"%s\",device=\"%s\"} 1\n",
				s->resources[i].name, p->host, p->role, p->disk, p->repl,
				p->flags, dev);
		}
}

/* Refusals by reason (snapshot_refusals(), the same as the API's). */
static void
refusals(FILE *f, const struct snapshot *s)
{
	struct statefs_counters r;

	snapshot_refusals(s, &r);
	family(f, "mars_gossip_refusals_total", "counter",
	       "Remote entries and requests refused, by reason.");
	for (size_t i = 0; i < r.n; i++)
		fprintf(f, "mars_gossip_refusals_total{reason=\"%s\"} %llu\n", r.c[i].name,
			(unsigned long long)r.c[i].value);
}

/* One counter family over this node's transfers; @pick from one kind. */
static void
transfer_family(FILE *f, const struct snapshot *s, const char *name, const char *help,
		double (*pick)(const struct snap_transfer *t))
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < s->n_resources; i++) {
		const struct snap_replica *p = snap_resource_replica(&s->resources[i], s->self);

		if (!p || !p->transfer_known)
			continue;
		fprintf(f, "%s{resource=\"%s\",transfer=\"fetch\"} %.17g\n", name,
			s->resources[i].name, pick(&p->fetch));
		fprintf(f, "%s{resource=\"%s\",transfer=\"sync\"} %.17g\n", name,
			s->resources[i].name, pick(&p->sync));
	}
}

static double pick_raw(const struct snap_transfer *t) { return (double)t->bytes_raw; }
static double pick_wire(const struct snap_transfer *t) { return (double)t->bytes_wire; }
static double pick_cpu(const struct snap_transfer *t) { return (double)t->cpu_ns / 1e9; }
static double pick_peer_cpu(const struct snap_transfer *t) { return (double)t->peer_cpu_ns / 1e9; }

/* Logfile and sync bytes this node received, before and after compression. */
static void
transfers(FILE *f, const struct snapshot *s)
{
	transfer_family(f, s, "mars_transfer_bytes_raw_total",
			"Logfile (fetch) or disk (sync) bytes received, as written.", pick_raw);
	transfer_family(f, s, "mars_transfer_bytes_wire_total",
			"The same bytes as carried on the wire, compressed or not.", pick_wire);
	transfer_family(f, s, "mars_transfer_decompress_cpu_seconds_total",
			"CPU time this node spent decompressing them.", pick_cpu);
	transfer_family(f, s, "mars_transfer_compress_cpu_seconds_total",
			"CPU time the sending peers spent compressing them, as they reported.",
			pick_peer_cpu);
}

static void
counters(FILE *f, const struct snapshot *s, const struct metrics_extra *x)
{
	const struct statefs_stats *m = &s->merge;

	family(f, "mars_gossip_merged_total", "counter", "Remote entries merged, by outcome.");
	fprintf(f, "mars_gossip_merged_total{outcome=\"applied\"} %llu\n",
		(unsigned long long)m->applied);
	fprintf(f, "mars_gossip_merged_total{outcome=\"kept\"} %llu\n",
		(unsigned long long)m->kept);
	refusals(f, s);
	family(f, "mars_settings_invalid_total", "counter",
	       "Run-time settings in the tree ignored as outside their grammar.");
	fprintf(f, "mars_settings_invalid_total %llu\n",
		(unsigned long long)statefs_counters_get(&s->counters, "settings_invalid"));
	family(f, "mars_status_snapshot_errors_total", "counter",
	       "State tree reads of the status page that failed.");
	fprintf(f, "mars_status_snapshot_errors_total %llu\n",
		(unsigned long long)x->snapshot_errors);
}

static void
daemon_counters(FILE *f, const struct metrics_extra *x)
{
	if (x->http) {
		family(f, "mars_http_requests_total", "counter", "HTTP requests, by outcome.");
		fprintf(f, "mars_http_requests_total{outcome=\"all\"} %llu\n"
			"mars_http_requests_total{outcome=\"unauthorized\"} %llu\n"
			"mars_http_requests_total{outcome=\"not_found\"} %llu\n"
			"mars_http_requests_total{outcome=\"refused\"} %llu\n",
			(unsigned long long)x->http->requests,
			(unsigned long long)x->http->unauthorized,
			(unsigned long long)x->http->not_found,
			(unsigned long long)x->http->refused);
	}
	if (x->alerts) {
		family(f, "mars_alerts_total", "counter", "Webhook posts, by outcome.");
		fprintf(f, "mars_alerts_total{outcome=\"queued\"} %llu\n"
			"mars_alerts_total{outcome=\"sent\"} %llu\n"
			"mars_alerts_total{outcome=\"retried\"} %llu\n"
			"mars_alerts_total{outcome=\"failed\"} %llu\n"
			"mars_alerts_total{outcome=\"dropped\"} %llu\n",
			(unsigned long long)x->alerts->queued,
			(unsigned long long)x->alerts->sent,
			(unsigned long long)x->alerts->retried,
			(unsigned long long)x->alerts->failed,
			(unsigned long long)x->alerts->dropped);
	}
	if (x->history_samples >= 0) {
		family(f, "mars_history_rows", "gauge", "Rows kept in the history database.");
		fprintf(f, "mars_history_rows{table=\"samples\"} %lld\n"
			"mars_history_rows{table=\"events\"} %lld\n",
			(long long)x->history_samples, (long long)x->history_events);
	}
}

char *
metrics_render(const struct snapshot *s, const struct metrics_extra *x, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	members(f, s);
	resources(f, s);
	replicas(f, s);
	transfers(f, s);
	counters(f, s, x);
	daemon_counters(f, x);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
