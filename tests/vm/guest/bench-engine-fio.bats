#!/usr/bin/env bats
# Not a test suite: the guest half of bench/engine-fio-vm.sh.  fio on the
# raw rig disk "data", then on the userspace engine's NBD device and on
# its FUSE file, both over the same disk (primary, logfiles on /mars, an
# ext4 on the rig disk "mars"), the same jobs in the same boot.  Prints
# one line per job and front end to the TAP stream:
#   # bench JOB METRIC RAW NBD FUSE
# MARS_BENCH_RUNTIME (seconds per job; bench/engine-fio-vm.sh passes 5) bounds
# each job; the jobs are tests/vm/guest/bench-fio.bash's.

load guest-helpers
load bench-fio

ENGINE=$MARS_BUILDDIR/engine/mars-engine
JOBS="seq-1m rand-4k-qd1 rand-4k-qd32 fsync-4k"

setup_file() {
	guest_require
	guest_require_fio
	mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	mkdir -p /mars /tmp/mnt
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	modprobe fuse || fail "modprobe fuse"
}

teardown_file() {
	umount /mars 2>/dev/null
	return 0
}

# engine_run FRONTEND: start a primary on the data disk, run the jobs,
# stop it; the metrics go to $BATS_FILE_TMPDIR/FRONTEND.JOB.
engine_run() {
	local fe=$1 pid dev job
	rm -rf /mars/resource-b
	"$ENGINE" primary --resource b --disk "$MARS_VM_DISK_data" --mount /tmp/mnt \
		--frontend "$fe" --root /mars --host bench 2>"/tmp/engine-$fe.err" 3>&- &
	pid=$!
	guest_wait 30 grep -q "^frontend=$fe" /mars/resource-b/.engine-status
	dev=$(sed -n 's/^device=//p' /mars/resource-b/.engine-status)
	for job in $JOBS; do
		bench_fio_metric "$dev" "$job" >"$BATS_FILE_TMPDIR/$fe.$job"
	done
	sed 's/^/# status '"$fe"' /' /mars/resource-b/.engine-status |
		grep -E ' (sync_requests|log_syncs|records)=' >&3
	kill -TERM "$pid"
	wait "$pid" || fail "engine ($fe) exit $?: $(cat "/tmp/engine-$fe.err")"
}

@test "fio: raw disk vs the engine through NBD and through FUSE" {
	local job metric
	declare -A raws
	for job in $JOBS; do
		raws[$job]=$(bench_fio_metric "$MARS_VM_DISK_data" "$job")
	done
	engine_run nbd
	engine_run fuse
	for job in $JOBS; do
		case $job in
		seq-1m) metric=MiB/s ;;
		fsync-4k) metric=fsync-us ;;
		*) metric=iops ;;
		esac
		echo "# bench $job $metric ${raws[$job]} $(cat "$BATS_FILE_TMPDIR/nbd.$job")" \
			"$(cat "$BATS_FILE_TMPDIR/fuse.$job")" >&3
	done
}
