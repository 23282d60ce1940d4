#!/bin/bash
# kmod-repl-latency.sh: does an application on mars.ko's primary notice
# the network?  (issue 7's latency benchmark, with the module and tc netem
# in a qemu guest; bench/repl-bench measures the userspace engine.)
#
# usage: bench/kmod-repl-latency.sh [RUNTIME_S [ROUNDS]]
#
# Boots the VM rig (tests/vm/run-guest) with the cluster of
# tests/vm/guest/guest-cluster.bash: alpha's clusterd runs mars.ko, beta
# replicates over SSH.  fio writes 4 KiB blocks at random with an fsync
# after each on alpha's /dev/mars/r0 for RUNTIME_S (default 5) seconds
# while beta's link is healthy, slowed (tc netem: 50 ms and 1% loss each
# way) and cut, the three interleaved over ROUNDS (default 3) rounds.
# Prints the medians over the rounds of the write and fsync latency
# percentiles (µs), IOPS, the time beta took to catch up afterwards, and
# each condition's ratio to healthy: ~1.0 means the application did not
# notice.  Under TCG (no usable KVM: tests/vm/accel) the absolute numbers mean little.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
runtime=${1:-5}
rounds=${2:-3}
case "$runtime$rounds" in
''|*[!0-9]*) echo "usage: $0 [RUNTIME_S [ROUNDS]]" >&2; exit 2 ;;
esac

out=$("$srcdir/tests/vm/run-guest" --no-disks --memory 1536 \
	--timeout $((400 + rounds * 3 * (runtime + 60))) \
	--env "MARS_BENCH_RUNTIME=$runtime" --env "MARS_BENCH_ROUNDS=$rounds" \
	"$srcdir/tests/vm/guest/bench-kmod-repl.bats")
rc=$?
if [ "$rc" != 0 ]; then
	echo "$out" >&2
	echo "kmod-repl-latency: the guest run failed ($rc)" >&2
	exit 1
fi
# The accelerator run-guest used (tests/vm/accel's cached verdict).
accel=$("$srcdir/tests/vm/accel" 2>/dev/null) || accel=unknown
echo "mars.ko primary, 4 KiB randwrite + fsync, ${runtime}s x $rounds rounds per link state, $accel"
echo "medians over the rounds (µs); ratio = condition / healthy"
awk '$1 == "#" && $2 == "lat" {
	c = $3; n[c]++
	for (i = 0; i < 6; i++) v[c, i, n[c]] = $(5 + i)
}
function median(c, i,   k, j, t, a, m) {
	m = n[c]
	for (k = 1; k <= m; k++) a[k] = v[c, i, k]
	for (k = 1; k <= m; k++)
		for (j = k + 1; j <= m; j++)
			if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
	return a[int((m + 1) / 2)]
}
END {
	split("w50 w99 f50 f99 iops heal_ms", name, " ")
	printf "%-8s", "link"
	for (i = 1; i <= 6; i++) printf " %9s", name[i]
	printf "   %s\n", "ratio w50 w99 f50 f99 iops"
	split("healthy slowed cut", conds, " ")
	for (k = 1; k <= 3; k++) {
		c = conds[k]
		if (!n[c]) continue
		printf "%-8s", c
		for (i = 0; i < 6; i++) { m[c, i] = median(c, i); printf " %9d", m[c, i] }
		printf "  "
		for (i = 0; i < 5; i++)
			printf " %5.2f", (m["healthy", i] > 0 ? m[c, i] / m["healthy", i] : 0)
		printf "\n"
	}
}' <<<"$out"
grep -E '^# status (sync_requests|log_syncs|records) ' <<<"$out" | sed 's/^# status /  /'
