#!/bin/bash
# kmod-ab.sh: two mars.ko builds compared in alternating boots of
# bench/kmod-fio.sh, the old one first in each pair.
#
# usage: bench/kmod-ab.sh OLD_KO NEW_KO [PAIRS [RUNTIME_S]]
#
# Each boot measures the raw disk and /dev/mars on it side by side, so
# each module's figure is its mars/raw ratio against the raw disk of its
# own boot; boots of the two modules alternate, so a host that gets
# busier or quieter during the run moves both alike.  Prints every
# boot's mars/raw per job, the median of each module's boots and
# new/old of the medians (for fsync-4k, a latency, below 1 is better).
# PAIRS defaults to 2, RUNTIME_S (seconds per fio job) to 5.  Both
# modules are copied first: a rebuild during the run changes nothing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 OLD_KO NEW_KO [PAIRS [RUNTIME_S]]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 4 ] || usage
pairs=${3:-2} runtime=${4:-5}
case $pairs$runtime in *[!0-9]*) usage ;; esac
[ "$pairs" -ge 1 ] && [ "$pairs" -le 10 ] || usage
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "$1" "$tmp/old.ko" && cp "$2" "$tmp/new.ko" || exit 1

# One boot: "JOB RATIO" lines into $tmp/WHICH, the whole output kept.
boot() {
	local which=$1 n=$2 out
	out=$(MARS_BENCH_KO=$tmp/$which.ko "$here/kmod-fio.sh" "$runtime") || {
		echo "$out" >&2
		echo "kmod-ab: the $which module's boot $n failed" >&2
		exit 1
	}
	echo "== $which, boot $n" >&2
	echo "$out" >&2
	# mars/raw from the values: kmod-fio.sh rounds its ratio to 0.01.
	awk 'NF == 5 && $5 ~ /^[0-9.]+$/ && $3 > 0 { printf "%s %.3f\n", $1, $4 / $3 }' \
		<<<"$out" >>"$tmp/$which"
}

for n in $(seq 1 "$pairs"); do
	boot old "$n"
	boot new "$n"
done

echo "mars/raw per boot, $pairs boot(s) of each module, alternating, fio ${runtime}s per job"
printf '%-14s %-24s %-24s %8s %8s %8s\n' job old new old-med new-med new/old
# median LIST: the median of whitespace-separated numbers.
awk '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FNR == 1 { which = (FILENAME ~ /old$/) ? "old" : "new" }
{ if (!($1 in seen)) { seen[$1] = 1; order[++jobs] = $1 }
  r[which, $1] = r[which, $1] " " $2 }
END {
	for (k = 1; k <= jobs; k++) {
		j = order[k]; mo = median(r["old", j]); mn = median(r["new", j])
		printf "%-14s %-24s %-24s %8.3f %8.3f %8.2f\n", j, substr(r["old", j], 2),
			substr(r["new", j], 2),
			mo, mn, (mo > 0 ? mn / mo : 0)
	}
}' "$tmp/old" "$tmp/new"
