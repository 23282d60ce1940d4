#!/bin/bash
# kmod-fio.sh: mars.ko against the raw disk, fio in a qemu guest.
#
# usage: bench/kmod-fio.sh [RUNTIME_S]
#
# Boots the VM rig (tests/vm/run-guest) with a 2 GiB "data" disk and a
# 1 GiB "mars" disk (/mars, the logfiles), runs each fio job on the raw
# data disk and then on /dev/mars/bench (primary) on the same disk, in
# the same boot, and prints each ratio mars/raw:
#   seq-1m        sequential 1 MiB writes, libaio QD 4, MiB/s
#   rand-4k-qd1   random 4 KiB writes, psync,          IOPS
#   rand-4k-qd32  random 4 KiB writes, libaio QD 32,   IOPS
#   fsync-4k      4 KiB writes each followed by fsync, mean fsync latency
#                 in microseconds (lower is better: ratio > 1 is slower)
# RUNTIME_S (default 10) bounds each job.  Under TCG (no usable KVM: tests/vm/accel) the
# absolute numbers mean little; the ratios are what to compare.
# MARS_BENCH_KO=FILE boots with another mars.ko of the same control ABI
# (say, main's, built by hand with Kbuild): run the script once with
# each module and compare the mars/raw ratios, each against its own raw.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
runtime=${1:-10}
case $runtime in ''|*[!0-9]*) echo "usage: $0 [RUNTIME_S]" >&2; exit 2 ;; esac

ko=()
[ -z "${MARS_BENCH_KO:-}" ] || ko=(--ko "$MARS_BENCH_KO")
out=$("$srcdir/tests/vm/run-guest" "${ko[@]}" --disk data:2G --disk mars:1G \
	--timeout $((300 + 16 * runtime)) --env "MARS_BENCH_RUNTIME=$runtime" \
	"$srcdir/tests/vm/guest/bench-kmod-fio.bats")
rc=$?
if [ "$rc" != 0 ]; then
	echo "$out" >&2
	echo "kmod-fio: the guest run failed ($rc)" >&2
	exit 1
fi
# The accelerator run-guest used (tests/vm/accel's cached verdict).
accel=$("$srcdir/tests/vm/accel" 2>/dev/null) || accel=unknown
echo "mars.ko vs raw virtio disk, fio ${runtime}s per job, $accel"
printf '%-14s %-9s %12s %12s %8s\n' job metric raw mars mars/raw
awk '$1 == "#" && $2 == "bench" {
	ratio = ($5 > 0 && $6 > 0) ? $6 / $5 : 0
	printf "%-14s %-9s %12s %12s %8.2f\n", $3, $4, $5, $6, ratio
}' <<<"$out"
grep -E '^# status (sync_requests|log_syncs|records|pending_peak_bytes|pending_limit_bytes) ' <<<"$out" | sed 's/^# status /  /'
