#!/bin/bash
# engine-append.sh: the engine's write path alone (bench/engine-append.c:
# THREADS writers of 4 KiB at random offsets straight into the logger, as
# the NBD front end's workers call it), built from this tree and from a
# baseline tree, run side by side in interleaved rounds (order alternating),
# medians per thread count and the ratio new/baseline.  Not part of the
# test suite; needs cc and, in both trees, a build (make) for their
# libraries.  Record results in docs/performance.md.
#
#   bench/engine-append.sh --baseline-tree DIR [--threads "1 4 16"]
#                          [--seconds 5] [--rounds 5] [--pending-mib 64] [--dir DIR]
#
# --pending-mib sets the writeback queue's limit (the engine's default is
# 64): set above what a run writes, writers never wait for writeback and
# the figures are those of the append path alone.  A tree whose logger
# preallocates its logfile (issue 14) runs with mars-engine's default
# chunk; EA_PREALLOC_KIB=N in the environment sets another (0 = off).
set -eu

base=
threads="1 4 16"
seconds=5
rounds=5
pending=64
dir=
usage="usage: $0 --baseline-tree DIR [--threads LIST] [--seconds S] [--rounds N] [--pending-mib M] [--dir DIR]"
while [ $# -gt 0 ]; do
	case $1 in
	--baseline-tree) base=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--pending-mib) pending=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
[ -n "$base" ] || { echo "$usage" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${dir:-${TMPDIR:-/tmp}}/engine-append.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build TREE OUT: bench/engine-append.c against TREE's engine and libraries.
build() {
	local tree=$1 out=$2 f srcs=()
	for f in logger pending durable names position actual tree; do
		srcs+=("$tree/engine/$f.c")
	done
	for f in statefs/libstatefs.a common/libcommon.a libmars/libmars.a; do
		[ -f "$tree/$f" ] || { echo "engine-append: no $tree/$f (make there)" >&2; exit 1; }
	done
	cc -O2 -g -pthread -D_GNU_SOURCE -I"$tree" -I"$tree/include" -I"$tree/tests/unit" \
		-o "$out" "$top/bench/engine-append.c" "${srcs[@]}" \
		"$tree/statefs/libstatefs.a" "$tree/common/libcommon.a" "$tree/libmars/libmars.a" \
		-linotifytools -lxxhash
}
build "$top" "$work/new"
build "$base" "$work/base"

# run WHICH THREADS: one "WHICH THREADS writes/s" line.
run() {
	local out
	out=$("$work/$1" "$work" "$2" "$seconds" "$pending")
	rm -rf "$(sed -n 's/^tmpdir //p' <<<"$out")"
	echo "$1 $2 $(sed -n 's#^writes/s ##p' <<<"$out")" >>"$work/values"
}
for round in $(seq "$rounds"); do
	echo "engine-append: round $round of $rounds" >&2
	for t in $threads; do
		if [ $((round % 2)) = 1 ]; then run base "$t"; run new "$t"; else run new "$t"; run base "$t"; fi
	done
done

median() {
	awk -v w="$1" -v t="$2" '$1 == w && $2 == t { print $3 }' "$work/values" | sort -g |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "4 KiB writes/s, medians of $rounds round(s), ${seconds}s each, queue limit $pending MiB"
printf '%-8s %12s %12s %10s\n' threads baseline new new/base
for t in $threads; do
	b=$(median base "$t")
	n=$(median new "$t")
	printf '%-8s %12.0f %12.0f %10.2f\n' "$t" "$b" "$n" "$(echo "$n $b" | awk '{ print $2 ? $1 / $2 : 0 }')"
done
