# The fio jobs of the benchmarks in guests, shared by the guest halves of
# bench/kmod-fio.sh (bench-kmod-fio.bats) and bench/kmod-drbd-fio.sh
# (bench-node) and bench/engine-fio-vm.sh (bench-engine-fio.bats), so
# that every device is measured by the same jobs:
#   seq-1m        sequential 1 MiB writes, libaio QD 4, MiB/s
#   rand-4k-qd1   random 4 KiB writes, psync,          IOPS
#   rand-4k-qd32  random 4 KiB writes, libaio QD 32,   IOPS
#   fsync-4k      4 KiB writes each followed by fsync, mean fsync latency
#                 in microseconds (lower is better)
# Each job writes O_DIRECT over the first 256 MiB of the device for
# MARS_BENCH_RUNTIME seconds (default 10).

# shellcheck disable=SC2034  # used by the files that source this one
BENCH_JOBS=(seq-1m rand-4k-qd1 rand-4k-qd32 fsync-4k)

bench_unit() {	# bench_unit JOB: the metric's name
	case $1 in
	seq-1m) echo MiB/s ;;
	fsync-4k) echo fsync-us ;;
	*) echo iops ;;
	esac
}

# bench_fio_metric DEV JOB: run one job on DEV, print its metric.
bench_fio_metric() {
	local dev=$1 job=$2 rt=${MARS_BENCH_RUNTIME:-10} out
	local common=(--filename="$dev" --direct=1 --runtime="$rt" --time_based
		--output-format=json --name="$job" --size=256M)
	case $job in
	seq-1m) out=$(fio "${common[@]}" --rw=write --bs=1M --ioengine=libaio --iodepth=4) ;;
	rand-4k-qd1) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=psync) ;;
	rand-4k-qd32) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=libaio --iodepth=32) ;;
	fsync-4k) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=psync --fsync=1) ;;
	*) echo "bench_fio_metric: unknown job '$job'" >&2; return 2 ;;
	esac || return 1
	python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
job = sys.argv[1]
if job == "seq-1m":
    print("%.1f" % (j["write"]["bw_bytes"] / 1048576.0))
elif job == "fsync-4k":
    print("%.1f" % (j["sync"]["lat_ns"]["mean"] / 1000.0))
else:
    print("%.0f" % j["write"]["iops"])
' "$job" <<<"$out"
}
