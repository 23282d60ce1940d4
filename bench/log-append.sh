#!/bin/bash
# log-append.sh: which way of appending to a logfile costs least on this
# file system (issue 14: "measure whether per-record buffered writes,
# whole-batch writes or direct I/O into a preallocated logfile is
# fastest").  Not part of the test suite; needs fio and jq.
#
#   bench/log-append.sh [--dir DIR] [--size 256M] [--rounds 3]
#
# Seven methods, each on a fresh file in DIR (put DIR on the file system
# /mars lives on), rounds interleaved, medians printed with the ratio to
# the first, which is what mars.ko and the engine do today:
#
#   record         buffered pwrite of one 4 KiB record at a time, the file grows
#   batch          buffered pwrite of 256 KiB (64 records) at a time, grows
#   prealloc       buffered 4 KiB records into a file written full of zeros
#                  and synced beforehand: a sync has no size or extent to
#                  commit, only data
#   prealloc-batch the same with 256 KiB writes
#   direct-record  O_DIRECT 4 KiB writes into such a file
#   direct-batch   the same with 256 KiB writes
#   unwritten      O_DIRECT 256 KiB writes into a fallocate()d file: each
#                  sync also commits the unwritten-to-written conversion
#
# The zeros of the prealloc and direct methods are written before the
# clock starts: they are free only where logfiles are recycled (a used
# logfile renamed and written over), otherwise they cost as much disk
# bandwidth as the records themselves.
#
# Two workloads per method:
#   group  sequential appends with an fdatasync every 8 MiB (group commit
#          as the logger does it under load): MiB/s, higher is better
#   each   an fdatasync after every 4 KiB record (an fsync-bound
#          application at queue depth 1; the batch methods write single
#          records here): mean µs per record, write and sync together,
#          lower is better
set -eu

dir=${TMPDIR:-/tmp}
size=256M
rounds=3
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	*) echo "usage: $0 [--dir DIR] [--size SIZE] [--rounds N]" >&2; exit 2 ;;
	esac
done
for tool in fio jq; do
	command -v "$tool" >/dev/null ||
		{ echo "log-append: '$tool' missing (apt-get install fio jq)" >&2; exit 1; }
done
work=$(mktemp -d "$dir/log-append.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The 'each' workload writes fewer bytes: a sync per record is slow.
each_size=16M

methods=(record batch prealloc prealloc-batch direct-record direct-batch unwritten)

# fio_args METHOD WORKLOAD: the fio options of one measurement.
fio_args() {
	local bs=4k per_sync=2048 size=$size
	case $1 in *batch | unwritten) bs=256k; per_sync=32 ;; esac
	[ "$2" = each ] && { bs=4k; per_sync=1; size=$each_size; }
	echo "--rw=write --ioengine=psync --bs=$bs --fdatasync=$per_sync --size=$size"
	case $1 in
	record | batch | prealloc*) echo "--fallocate=none" ;;
	direct-*) echo "--fallocate=none --direct=1" ;;
	unwritten) echo "--fallocate=native --direct=1" ;;
	esac
}

# prepare METHOD FILE WORKLOAD: the file as that method finds it.
prepare() {
	rm -f "$2"
	if [ "${1#prealloc}" != "$1" ] || [ "${1#direct-}" != "$1" ]; then
		local s=$size
		[ "$3" = each ] && s=$each_size
		fio --name=layout --filename="$2" --rw=write --bs=1M --size="$s" \
			--fallocate=none --end_fsync=1 --output=/dev/null
	fi
	sync
}

measure() {
	local method=$1 workload=$2 file=$work/log out
	prepare "$method" "$file" "$workload"
	# shellcheck disable=SC2046
	out=$(fio --name=append --filename="$file" --output-format=json \
		$(fio_args "$method" "$workload"))
	case $workload in
	group) jq '.jobs[0].write.bw / 1024' <<<"$out" ;;
	each) jq '1000000 / .jobs[0].write.iops' <<<"$out" ;;
	esac
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A samples
for ((r = 1; r <= rounds; r++)); do
	for w in group each; do
		for m in "${methods[@]}"; do
			samples[$m.$w]+="$(measure "$m" "$w") "
		done
	done
	echo "log-append: round $r of $rounds done" >&2
done

fs=$(findmnt -no FSTYPE -T "$work" 2>/dev/null || stat -f -c %T "$work")
echo "# log-append: $fs at $dir, group $size (fdatasync every 8 MiB), each $each_size, $rounds rounds, medians"
printf '%-14s %12s %8s %14s %8s\n' method group-MiB/s ratio each-us/rec ratio
base_g='' base_e=''
for m in "${methods[@]}"; do
	g=$(tr ' ' '\n' <<<"${samples[$m.group]}" | grep . | median)
	e=$(tr ' ' '\n' <<<"${samples[$m.each]}" | grep . | median)
	base_g=${base_g:-$g}
	base_e=${base_e:-$e}
	printf '%-14s %12.1f %8.2f %14.1f %8.2f\n' "$m" "$g" \
		"$(awk -v a="$g" -v b="$base_g" 'BEGIN { print a / b }')" "$e" \
		"$(awk -v a="$e" -v b="$base_e" 'BEGIN { print a / b }')"
done
