#!/bin/bash
# kmod-drbd-fio.sh: mars.ko against the raw disk and DRBD protocol A, with
# a replicating peer, fio in two qemu guests on a bridge (issue 14).
#
# usage: sudo bench/kmod-drbd-fio.sh [RUNTIME_S [ROUNDS]]
#
# Boots two node guests, alpha and beta (tests/bats/vmnet.bash), each with
# a data disk, a small disk for DRBD's external meta-data and a disk for
# the state tree and logfiles, and runs on alpha's data disk, in the same
# boot and in this order, the jobs of tests/vm/guest/bench-fio.bash:
#   raw    the disk;
#   drbd   /dev/drbd0: DRBD 8.4 (the guest kernel's drbd.ko, drbd-utils'
#          drbdadm) protocol A, alpha primary, beta connected;
#   mars   /dev/mars/r0: mars.ko primary on alpha, beta joined, synced
#          and replaying through clusterd --backend kmod;
#   mars-paused  the same with beta's fetch paused (marsadm pause-fetch),
#          so alpha serves no replication traffic: what that costs.
# The host half is tests/vm/bench-kmod-drbd-fio.bats, the guest half
# tests/vm/guest/bench-node.  Prints one line per job with each value and
# the ratios mars/raw and mars/drbd-A (for fsync-us lower is better, so
# a ratio > 1 is slower), then mars.ko's status counters per job, where
# alpha's CPU went during each job (idle, sshd, clusterd, the module's
# threads, DRBD's threads, the rest), the pending-memory high-water mark
# and beta's catch-up time.
# RUNTIME_S (default MARS_BENCH_RUNTIME, else 10) bounds each job; each
# kind runs its jobs ROUNDS times in a row (default MARS_BENCH_ROUNDS, else
# 1) and the table shows the medians; the counters are summed.  Needs
# root (network namespace, tap devices), bats, qemu, drbd-utils, a build
# (make && make kmod).  MARS_BENCH_TAP=FILE keeps the guests' raw lines
# (every round's value, the counters before and after).  Under TCG (tests/vm/accel) the absolute numbers
# mean little; the ratios are what to compare.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
runtime=${1:-${MARS_BENCH_RUNTIME:-10}}
rounds=${2:-${MARS_BENCH_ROUNDS:-1}}
case "$runtime$rounds" in ''|*[!0-9]*) echo "usage: $0 [RUNTIME_S [ROUNDS]]" >&2; exit 2 ;; esac
command -v bats >/dev/null || { echo "kmod-drbd-fio: bats missing" >&2; exit 3; }
command -v drbdadm >/dev/null ||
	{ echo "kmod-drbd-fio: drbdadm missing (apt-get install drbd-utils)" >&2; exit 3; }

out=$(MARS_BENCH_RUNTIME=$runtime MARS_BENCH_ROUNDS=$rounds bats --tap "$srcdir/tests/vm/bench-kmod-drbd-fio.bats" 2>&1)
rc=$?
[ -z "${MARS_BENCH_TAP:-}" ] || printf '%s\n' "$out" >"$MARS_BENCH_TAP"
if [ "$rc" != 0 ]; then
	echo "$out" >&2
	echo "kmod-drbd-fio: a step failed ($rc); the table has what ran" >&2
fi
accel=$("$srcdir/tests/vm/accel" 2>/dev/null) || accel=unknown
echo "mars.ko vs raw virtio disk vs DRBD 8.4 protocol A, beta replicating," \
	"fio ${runtime}s per job, medians of $rounds round(s), $accel, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
awk '
$1 == "#" && $2 == "bench" {
	c = ++cnt[$3, $4]; all[$3, $4, c] = $5
	if (!($4 in seen)) { seen[$4] = 1; order[n++] = $4 }
}
function median(k, j,   m, a, x, y, t) {
	m = cnt[k, j]
	for (x = 1; x <= m; x++) a[x] = all[k, j, x]
	for (x = 1; x <= m; x++)
		for (y = x + 1; y <= m; y++)
			if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
	return a[int((m + 1) / 2)]
}
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf(a / b < 0.1 ? "%.3f" : "%.2f", a / b) : "-" }
function val(k, j) { return ((k, j) in cnt) ? median(k, j) : "-" }
END {
	unit["seq-1m"] = "MiB/s"; unit["fsync-4k"] = "fsync-us"
	printf "%-13s %-9s %9s %9s %9s %9s %12s %12s\n", "job", "metric", "raw", "drbd-A", "mars",
		"mars/raw", "mars/drbd-A", "mars-paused"
	for (i = 0; i < n; i++) {
		j = order[i]
		printf "%-13s %-9s %9s %9s %9s %9s %12s %12s\n", j, (j in unit) ? unit[j] : "iops",
			val("raw", j), val("drbd", j), val("mars", j),
			ratio(val("mars", j), val("raw", j)), ratio(val("mars", j), val("drbd", j)),
			val("mars-paused", j)
	}
}' <<<"$out"
echo "mars.ko status moved by each job: records log_syncs sync_requests data_bytes"
awk '$1 == "#" && $2 == "counters" {
	k = $3 " " $4; d[k, $5] += $7 - $6; if (!(k in s)) { s[k] = 1; o[n++] = k }
}
END {
	for (i = 0; i < n; i++)
		printf "  %-26s %8d %8d %8d %12d\n", o[i], d[o[i], "records"], d[o[i], "log_syncs"],
			d[o[i], "sync_requests"], d[o[i], "data_bytes"]
}' <<<"$out"
echo "alpha's CPU during each job (all rounds), percent of its time: idle, then busy by process;"
echo "  rest = fio and all else (processes that exit within the job)"
awk '$1 == "#" && $2 == "cpu" {
	k = $3 " " $4; v = $7 - $6; if (v < 0) v = 0
	d[k, $5] += v; if (!(k in s)) { s[k] = 1; o[n++] = k }
	if (!($5 in g) && $5 != "busy" && $5 != "idle") { g[$5] = 1; gs[m++] = $5 }
}
END {
	for (i = 0; i < n; i++) {
		k = o[i]; all = d[k, "busy"] + d[k, "idle"]
		if (all <= 0) continue
		line = sprintf("  %-26s idle %3.0f", k, 100 * d[k, "idle"] / all)
		named = 0
		for (x = 0; x < m; x++) {
			v = d[k, gs[x]]; named += v
			if (100 * v / all >= 0.5) line = line sprintf("  %s %.0f", gs[x], 100 * v / all)
		}
		rest = d[k, "busy"] - named; if (rest < 0) rest = 0
		print line sprintf("  rest %.0f", 100 * rest / all)
	}
}' <<<"$out"
grep -E '^# status(-end)? (pending_peak_bytes|pending_limit_bytes) ' <<<"$out" |
	sed 's/^# status /  after mars: /; s/^# status-end /  after mars-paused: /'
grep -E '^# (catchup|drbd-state-after) ' <<<"$out" | sed 's/^# /  /'
exit "$rc"
