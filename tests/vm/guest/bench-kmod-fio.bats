#!/usr/bin/env bats
# Not a test suite: the guest half of bench/kmod-fio.sh.  fio on the raw
# rig disk "data", then on /dev/mars/bench on the same disk (primary, its
# /mars on the rig disk "mars"), the same jobs in the same boot.  Prints
# one line per job to the TAP stream:
#   # bench JOB METRIC RAW MARS
# MARS_BENCH_RUNTIME (seconds per job, default 10) bounds each job.

load guest-helpers
load bench-fio

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

@test "fio: raw disk vs /dev/mars on it" {
	local job mars
	declare -A raws
	for job in "${BENCH_JOBS[@]}"; do
		raws[$job]=$(bench_fio_metric "$MARS_VM_DISK_data" "$job")
	done
	res_new bench 0 "$MARS_VM_DISK_data"
	ctl primary bench "$MARS_HOST"
	for job in "${BENCH_JOBS[@]}"; do
		mars=$(bench_fio_metric "$DEV" "$job")
		echo "# bench $job $(bench_unit "$job") ${raws[$job]} $mars" >&3
	done
	ctl status bench | sed 's/^/# status /' >&3
}
