#!/bin/bash
# engine-fio-vm.sh: the userspace engine's two front ends against the raw
# disk, fio in a qemu guest (the build host's kernel has no nbd.ko; the
# guest boots Debian's, which has).
#
# usage: bench/engine-fio-vm.sh [RUNTIME_S]
#
# Boots the VM rig (tests/vm/run-guest) with a 512 MiB "data" disk and a
# 2 GiB "mars" disk (/mars, the logfiles), runs each fio job on the raw
# data disk, then on /dev/nbdN (mars-engine primary --frontend nbd) and
# on the FUSE file (--frontend fuse), both over the same data disk, in
# the same boot, and prints each ratio front end/raw:
#   seq-1m        sequential 1 MiB writes, libaio QD 4, MiB/s
#   rand-4k-qd1   random 4 KiB writes, psync,          IOPS
#   rand-4k-qd32  random 4 KiB writes, libaio QD 32,   IOPS
#   fsync-4k      4 KiB writes each followed by fsync, mean fsync latency
#                 in microseconds (lower is better: ratio > 1 is slower)
# RUNTIME_S (default 5) bounds each job.  Under TCG the absolute numbers
# mean little; the ratios are what to compare.  bench/engine-fio.sh is
# the FUSE-only variant on the host.
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
runtime=${1:-5}
case $runtime in ''|*[!0-9]*) echo "usage: $0 [RUNTIME_S]" >&2; exit 2 ;; esac

out=$("$srcdir/tests/vm/run-guest" --disk data:512M --disk mars:2G \
	--timeout $((300 + 24 * runtime)) --env "MARS_BENCH_RUNTIME=$runtime" \
	"$srcdir/tests/vm/guest/bench-engine-fio.bats")
rc=$?
if [ "$rc" != 0 ]; then
	echo "$out" >&2
	echo "engine-fio-vm: the guest run failed ($rc)" >&2
	exit 1
fi
accel=$("$srcdir/tests/vm/accel" 2>/dev/null) || accel=unknown
echo "mars-engine (NBD, FUSE) vs raw virtio disk, fio ${runtime}s per job, $accel"
printf '%-14s %-9s %10s %10s %10s %8s %9s\n' job metric raw nbd fuse nbd/raw fuse/raw
awk '$1 == "#" && $2 == "bench" {
	r1 = ($5 > 0 && $6 > 0) ? $6 / $5 : 0
	r2 = ($5 > 0 && $7 > 0) ? $7 / $5 : 0
	printf "%-14s %-9s %10s %10s %10s %8.2f %9.2f\n", $3, $4, $5, $6, $7, r1, r2
}' <<<"$out"
grep -E '^# status ' <<<"$out" | sed 's/^# status /  /'
