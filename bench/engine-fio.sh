#!/bin/bash
# engine-fio.sh: the same fio jobs on a raw image file and on the
# userspace engine's FUSE file (mars-engine primary, logfile on the same
# file system unless --mars-dir says otherwise), and the ratio engine/raw
# of each.  With --baseline, a second mars-engine binary (say, built from
# main in another build directory) runs the same jobs in the same rounds,
# and the ratio engine/baseline is printed too.  Rounds are interleaved
# (raw, then the engines in an order that alternates per round) and each
# value is the median of its rounds.  Not part of the test suite; needs
# root, /dev/fuse, fio and jq.  Record results in docs/performance.md.
#
#   bench/engine-fio.sh [--size 512M] [--runtime 10] [--rounds 1]
#                       [--baseline ENGINE] [--dir DIR] [--mars-dir DIR]
#
# Jobs (as the module's benchmark): sequential 1 MiB writes, 4 KiB random
# writes at queue depth 1 and 32 (libaio, O_DIRECT), and 4 KiB writes
# with an fsync after each (fsync latency).
set -eu

size=512M
runtime=10
rounds=1
baseline=
dir=
marsdir=
usage="usage: $0 [--size S] [--runtime SEC] [--rounds N] [--baseline ENGINE] [--dir DIR] [--mars-dir DIR]"
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--mars-dir) marsdir=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
case $rounds in ''|*[!0-9]*|0) echo "$usage" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
engine=${ENGINE:-$top/engine/mars-engine}
for tool in fio jq "$engine" ${baseline:+"$baseline"}; do
	command -v "$tool" >/dev/null || { echo "engine-fio: '$tool' missing" >&2; exit 1; }
done
work=$(mktemp -d "${dir:-${TMPDIR:-/tmp}}/engine-fio.XXXXXX")
marsdir=${marsdir:-$work/mars}
pid=
stop_engine() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=
	fusermount3 -uz "$work/mnt" 2>/dev/null || true
}
cleanup() {
	stop_engine
	[ -z "$root" ] || rm -rf "$root"
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$marsdir"
root=

# NAME|FIO-ARGS|WHAT: one value per run, in the unit the job reports
# (MiB/s, IOPS or microseconds of fsync latency).
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

# run_all TARGET FILE: every job on FILE, one "TARGET NAME VALUE" line each.
run_all() {
	local target=$1 file=$2 j name args what
	for j in "${jobs[@]}"; do
		IFS='|' read -r name args what <<<"$j"
		echo "$target $name $(run_job "$file" "$args" "$what")" >>"$work/values"
	done
}

# start_engine BINARY: a fresh primary over a fresh disk image, serving
# $work/mnt/r0, with a state tree of its own under the mars directory
# (removed after the run): each run starts alike.
start_engine() {
	local bin=$1
	rm -f "$work/disk.img"
	truncate -s "$size" "$work/disk.img"
	root=$(mktemp -d "$marsdir/run.XXXXXX")
	MARS_ROOT=$root MARS_HOST=bench "$bin" primary --resource r0 \
		--disk "$work/disk.img" --mount "$work/mnt" 2>"$work/engine.err" &
	pid=$!
	for _ in $(seq 100); do
		[ -f "$work/mnt/r0" ] && return 0
		sleep 0.1
	done
	cat "$work/engine.err" >&2
	exit 1
}

run_engine() {
	start_engine "$2"
	run_all "$1" "$work/mnt/r0"
	stop_engine
	rm -rf "$root"
}

truncate -s "$size" "$work/raw.img"
for round in $(seq "$rounds"); do
	echo "engine-fio: round $round of $rounds" >&2
	run_all raw "$work/raw.img"
	if [ -z "$baseline" ]; then
		run_engine engine "$engine"
	elif [ $((round % 2)) = 1 ]; then
		run_engine baseline "$baseline"
		run_engine engine "$engine"
	else
		run_engine engine "$engine"
		run_engine baseline "$baseline"
	fi
done

# median TARGET NAME
median() {
	awk -v t="$1" -v n="$2" '$1 == t && $2 == n { print $3 }' "$work/values" | sort -g |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {
	echo "$1 $2" | awk '{ print $2 ? $1 / $2 : 0 }'
}

echo "medians of $rounds round(s), ${runtime}s per job"
if [ -z "$baseline" ]; then
	printf '%-22s %14s %14s %10s\n' job raw engine engine/raw
else
	printf '%-22s %14s %14s %14s %10s %10s\n' job raw baseline engine engine/raw engine/base
fi
for j in "${jobs[@]}"; do
	IFS='|' read -r name _ _ <<<"$j"
	r=$(median raw "$name")
	e=$(median engine "$name")
	if [ -z "$baseline" ]; then
		printf '%-22s %14.1f %14.1f %10.2f\n' "$name" "$r" "$e" "$(ratio "$e" "$r")"
	else
		b=$(median baseline "$name")
		printf '%-22s %14.1f %14.1f %14.1f %10.2f %10.2f\n' "$name" "$r" "$b" "$e" \
			"$(ratio "$e" "$r")" "$(ratio "$e" "$b")"
	fi
done
echo "(for fsync latency a ratio above 1 means slower)"
