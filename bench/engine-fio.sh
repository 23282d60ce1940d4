#!/bin/bash
# engine-fio.sh: the same fio jobs on a raw image file and on the
# userspace engine's FUSE file (mars-engine primary, logfile on the same
# file system unless --mars-dir says otherwise), one after the other, and
# the ratio engine/raw of each.  Not part of the test suite; needs root,
# /dev/fuse, fio and jq.  Record results in docs/performance.md.
#
#   bench/engine-fio.sh [--size 512M] [--runtime 10] [--dir DIR] [--mars-dir DIR]
#
# Jobs (as the module's benchmark): sequential 1 MiB writes, 4 KiB random
# writes at queue depth 1 and 32 (libaio, O_DIRECT), and 4 KiB writes
# with an fsync after each (fsync latency).
set -eu

size=512M
runtime=10
dir=
marsdir=
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--mars-dir) marsdir=$2; shift 2 ;;
	*) echo "usage: $0 [--size S] [--runtime SEC] [--dir DIR] [--mars-dir DIR]" >&2; exit 2 ;;
	esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
engine=${ENGINE:-$top/engine/mars-engine}
for tool in fio jq "$engine"; do
	command -v "$tool" >/dev/null || { echo "engine-fio: '$tool' missing" >&2; exit 1; }
done
work=$(mktemp -d "${dir:-${TMPDIR:-/tmp}}/engine-fio.XXXXXX")
marsdir=${marsdir:-$work/mars}
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	fusermount3 -uz "$work/mnt" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$marsdir"

# job NAME FIO-ARGS...: one line "NAME value" per target, value in the
# unit the job reports (MiB/s, IOPS or microseconds of fsync latency).
jobs=(
	"seq-1m-MiB/s|--rw=write --bs=1M --iodepth=4 --ioengine=libaio --direct=1|bw"
	"rand-4k-qd1-IOPS|--rw=randwrite --bs=4k --iodepth=1 --ioengine=libaio --direct=1|iops"
	"rand-4k-qd32-IOPS|--rw=randwrite --bs=4k --iodepth=32 --ioengine=libaio --direct=1|iops"
	"fsync-4k-lat-us|--rw=write --bs=4k --ioengine=psync --fsync=1|sync"
)

run_job() {
	local file=$1 args=$2 what=$3 out
	# shellcheck disable=SC2086
	out=$(fio --name=job --filename="$file" --size="$size" --runtime="$runtime" \
		--time_based --output-format=json $args)
	case $what in
	bw) echo "$out" | jq '.jobs[0].write.bw / 1024' ;;
	iops) echo "$out" | jq '.jobs[0].write.iops' ;;
	sync) echo "$out" | jq '.jobs[0].sync.lat_ns.mean / 1000' ;;
	esac
}

truncate -s "$size" "$work/raw.img" "$work/disk.img"
declare -A raw eng
for j in "${jobs[@]}"; do
	IFS='|' read -r name args what <<<"$j"
	raw[$name]=$(run_job "$work/raw.img" "$args" "$what")
done

MARS_ROOT=$marsdir MARS_HOST=bench "$engine" primary --resource r0 \
	--disk "$work/disk.img" --mount "$work/mnt" 2>"$work/engine.err" &
pid=$!
for _ in $(seq 100); do
	[ -f "$work/mnt/r0" ] && break
	sleep 0.1
done
[ -f "$work/mnt/r0" ] || { cat "$work/engine.err" >&2; exit 1; }
for j in "${jobs[@]}"; do
	IFS='|' read -r name args what <<<"$j"
	eng[$name]=$(run_job "$work/mnt/r0" "$args" "$what")
done

printf '%-22s %14s %14s %10s\n' job raw engine engine/raw
for j in "${jobs[@]}"; do
	IFS='|' read -r name _ _ <<<"$j"
	printf '%-22s %14.1f %14.1f %10.2f\n' "$name" "${raw[$name]}" "${eng[$name]}" \
		"$(echo "${eng[$name]} ${raw[$name]}" | awk '{print $2 ? $1 / $2 : 0}')"
done
echo "(for fsync latency a ratio above 1 means slower)"
