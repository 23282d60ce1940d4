#!/usr/bin/env bats
# Not a test suite: the guest half of bench/kmod-fio.sh.  fio on the raw
# rig disk "data", then on /dev/mars/bench on the same disk (primary, its
# /mars on the rig disk "mars"), the same jobs in the same boot.  Prints
# one line per job to the TAP stream:
#   # bench JOB METRIC RAW MARS
# MARS_BENCH_RUNTIME (seconds per job, default 10) bounds each job.

load guest-helpers

setup_file() {
	guest_require
	guest_require_fio
	mars_root_setup
}

teardown_file() {
	res_cleanup
	umount /mars 2>/dev/null
	mars_unload_quiet
}

# fio_metric DEV JOB: run one job, print its metric.
fio_metric() {
	local dev=$1 job=$2 rt=${MARS_BENCH_RUNTIME:-10} out
	local common=(--filename="$dev" --direct=1 --runtime="$rt" --time_based
		--output-format=json --name="$job" --size=256M)
	case $job in
	seq-1m) out=$(fio "${common[@]}" --rw=write --bs=1M --ioengine=libaio --iodepth=4) ;;
	rand-4k-qd1) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=psync) ;;
	rand-4k-qd32) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=libaio --iodepth=32) ;;
	fsync-4k) out=$(fio "${common[@]}" --rw=randwrite --bs=4k --ioengine=psync --fsync=1) ;;
	esac
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

@test "fio: raw disk vs /dev/mars on it" {
	local job raw mars metric
	declare -A raws
	for job in seq-1m rand-4k-qd1 rand-4k-qd32 fsync-4k; do
		raws[$job]=$(fio_metric "$MARS_VM_DISK_data" "$job")
	done
	res_new bench 0 "$MARS_VM_DISK_data"
	ctl primary bench "$MARS_HOST"
	for job in seq-1m rand-4k-qd1 rand-4k-qd32 fsync-4k; do
		mars=$(fio_metric "$DEV" "$job")
		case $job in
		seq-1m) metric=MiB/s ;;
		fsync-4k) metric=fsync-us ;;
		*) metric=iops ;;
		esac
		echo "# bench $job $metric ${raws[$job]} $mars" >&3
	done
	ctl status bench | sed 's/^/# status /' >&3
}
