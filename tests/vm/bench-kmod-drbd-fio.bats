#!/usr/bin/env bats
# Not a test suite: the host half of bench/kmod-drbd-fio.sh (issue 14).
# Two guests on a bridge (tests/bats/vmnet.bash: alpha and beta, each with
# mars.ko, sshd and clusterd --backend kmod) with the same disks: "data"
# (the device measured), "meta" (DRBD's external meta-data) and "mars"
# (the state tree and logfiles, tests/vm/guest-node).  On alpha's data
# disk, in this order and in the same boot, the jobs of
# tests/vm/guest/bench-fio.bash run on
#   raw    the disk itself;
#   drbd   /dev/drbd0, DRBD 8.4 protocol A, alpha primary, beta
#          connected and UpToDate (the initial sync skipped); then down;
#   mars   /dev/mars/RES, alpha primary (create-resource), beta joined,
#          synced and replaying (its clusterd fetches alpha's logfiles);
#   mars-paused  the same with beta's fetch paused (marsadm pause-fetch):
#          what the replication traffic costs alpha.
# Prints to the TAP stream, for the driver script:
#   # bench KIND JOB UNIT VALUE
#   # counters KIND JOB KEY BEFORE AFTER  mars.ko status around each job
#   # cpu KIND JOB GROUP BEFORE AFTER     alpha's CPU ticks around each job
#                                        (bench-node cpu)
#   # status KEY VALUE                   mars.ko status after the mars jobs
#   # status-end KEY VALUE               and after the mars-paused jobs
#   # catchup SECONDS                    beta's replay reaching alpha's log end
# A kind that fails prints nothing and the next kind still runs.
# MARS_BENCH_RUNTIME (seconds per job, default 10) bounds each job;
# MARS_BENCH_ROUNDS (default 1) runs each kind's jobs that many times in a
# row, one "# bench" line each (the driver takes the median).

VMNET_ID=mbd
RES=r0
DISK_MB=${MARS_BENCH_DISK_MB:-320}	# fio writes the first 256 MiB
ROTATE_SIZE=256M		# clusterd's default
VMNET_DISKS="meta:64M mars:${MARS_BENCH_LOG_MB:-3072}M"
ROUNDS=${MARS_BENCH_ROUNDS:-1}
VMNET_TIMEOUT=$((1500 + 40 * ROUNDS * ${MARS_BENCH_RUNTIME:-10}))
BOUND=300			# seconds for every setup step under TCG

load ../bats/helpers
load ../bats/vmnet
load guest/bench-fio

NETNS_HOSTS=(alpha beta)
BENCH_NODE=$MARS_SRCDIR/tests/vm/guest/bench-node
CTL_QUERY=$MARS_BUILDDIR/tests/vm/mars-ctl-query
DRBD_RES=bench

setup_file() {
	VMNET_DIR=$BATS_FILE_TMPDIR/vmnet
	export VMNET_DIR
}

teardown_file() {
	vmnet_down
}

bench_on() {	# bench_on HOST SUBCOMMAND ARGS...
	local h=$1
	shift
	on_vm "$h" env MARS_BENCH_RUNTIME="${MARS_BENCH_RUNTIME:-10}" "$BENCH_NODE" "$@"
}

# cpu_around KIND JOB BEFORE: the "# cpu" lines of alpha's ticks from
# BEFORE (bench-node cpu) to now; a group that appeared counts from 0.
cpu_around() {
	local after
	after=$(bench_on alpha cpu | sort) || return 0
	join -a 2 -e 0 -o 0,1.2,2.2 <(echo "$3") <(echo "$after") | sed "s/^/# cpu $1 $2 /" >&3
}

# run_jobs KIND DEV: every job on alpha's DEV, one "# bench" line each,
# and the CPU ticks around it.
run_jobs() {
	local kind=$1 dev=$2 job v r cpu
	for r in $(seq 1 "$ROUNDS"); do
		for job in "${BENCH_JOBS[@]}"; do
			cpu=$(bench_on alpha cpu | sort)
			v=$(bench_on alpha fio "$dev" "$job") || fail "$kind: fio $job failed: $v"
			echo "# bench $kind $job $v" >&3
			cpu_around "$kind" "$job" "$cpu"
		done
	done
}

@test "two guests with the same disks; both data disks zeroed over the measured range" {
	vmnet_up 2
	[ -x "$CTL_QUERY" ] || fail "no $CTL_QUERY (make)"
	on_vm alpha command -v drbdadm >/dev/null || fail "drbdadm missing (apt-get install drbd-utils)"
	# The images are sparse files: zero them first, so that no kind pays
	# for the host's first allocation of the blocks fio writes.
	zero_both
}

zero_both() {	# both data disks all zeros, as mars.ko's full sync finds them
	bench_on alpha zero data "$DISK_MB" && bench_on beta zero data "$DISK_MB" ||
		fail "cannot zero the data disks"
}

@test "raw disk" {
	run_jobs raw data
}

drbd_is() {	# drbd_is HOST "CSTATE DSTATE ROLE"
	[ "$(bench_on "$1" drbd-state "$DRBD_RES")" = "$2" ]
}

@test "DRBD 8.4 protocol A, alpha primary, beta connected" {
	local h peers=()
	for h in alpha beta; do
		peers+=("$h=$(netns_addr "$h")")
	done
	for h in alpha beta; do
		run bench_on "$h" drbd-up "$DRBD_RES" "${peers[@]}"
		[ "$status" = 0 ] || fail "drbd-up on $h: $output"
	done
	wait_for "$BOUND" drbd_is alpha "Connected Inconsistent/Inconsistent Secondary/Secondary"
	run bench_on alpha drbd-skip-sync "$DRBD_RES"
	[ "$status" = 0 ] || fail "drbd-skip-sync: $output"
	wait_for 60 drbd_is alpha "Connected UpToDate/UpToDate Secondary/Secondary"
	run bench_on alpha drbd-primary "$DRBD_RES"
	[ "$status" = 0 ] || fail "drbd-primary: $output"
	wait_for 30 drbd_is beta "Connected UpToDate/UpToDate Secondary/Primary"
	run_jobs drbd /dev/drbd0
	# Still connected after the jobs: protocol A replicated all along.
	run bench_on alpha drbd-state "$DRBD_RES"
	echo "# drbd-state-after $output" >&3
	for h in alpha beta; do
		run bench_on "$h" drbd-down "$DRBD_RES"
		[ "$status" = 0 ] || fail "drbd-down on $h: $output"
	done
}

# counters: the mars.ko status fields that show where a job's time goes.
counters() {
	on_vm alpha "$CTL_QUERY" status "$RES" |
		awk '$1 ~ /^(sync_requests|log_syncs|records|data_bytes|pending_peak_bytes)$/' | sort
}

replaying() {	# replaying: beta's module replays alpha's logfiles
	[ "$(val beta "actual-beta/is-replaying")" = 1 ]
}

# mars_jobs KIND: every job on alpha's /dev/mars/RES, with the counters
# the job moved.
mars_jobs() {
	local job v before after r cpu
	for r in $(seq 1 "$ROUNDS"); do
		for job in "${BENCH_JOBS[@]}"; do
			before=$(counters)
			cpu=$(bench_on alpha cpu | sort)
			v=$(bench_on alpha fio "$(dev alpha)" "$job") || fail "$1: fio $job failed: $v"
			echo "# bench $1 $job $v" >&3
			cpu_around "$1" "$job" "$cpu"
			after=$(counters)
			join <(echo "$before") <(echo "$after") | sed "s/^/# counters $1 $job /" >&3
		done
	done
}

@test "mars.ko primary on alpha, beta joined and replaying" {
	local t0
	# Equal disks: beta's full sync compares digests and copies nothing
	# (the raw jobs wrote alpha's disk alone).
	zero_both
	run marsadm_on alpha create-resource "$RES" /dev/vda
	[ "$status" = 0 ] || fail "create-resource: $output"
	wait_for 60 is_primary alpha
	replica_join beta
	wait_for "$BOUND" synced beta
	wait_for "$BOUND" caught_up beta alpha
	wait_for 60 replaying
	touch "$VMNET_DIR/mars-replicating"
	mars_jobs mars
	t0=$SECONDS
	wait_for "$BOUND" caught_up beta alpha
	echo "# catchup $((SECONDS - t0))" >&3
	on_vm alpha "$CTL_QUERY" status "$RES" | sed 's/^/# status /' >&3
}

@test "mars.ko primary on alpha, beta's fetch paused" {
	[ -e "$VMNET_DIR/mars-replicating" ] || skip "beta never replicated"
	# Returns once beta's fetch stopped (tests/bats/65-switches.bats).
	run marsadm_on beta pause-fetch "$RES" --timeout="$BOUND"
	[ "$status" = 0 ] || fail "pause-fetch: $output"
	mars_jobs mars-paused
	on_vm alpha "$CTL_QUERY" status "$RES" | sed 's/^/# status-end /' >&3
}

@test "the guests power off" {
	vmnet_poweroff 120 || fail "a guest did not power off within 120s"
}
