#!/usr/bin/env bats
# Two guests, each its own kernel with mars.ko, sshd and clusterd
# --backend kmod, on tap devices joined to a bridge in a namespace this
# file made (tests/bats/vmnet.bash, tests/vm/run-guest --node): the module
# replicates to the module.  One cluster lives through the whole file,
# each test one step: alpha creates the resource (/dev/mars/r0 primary),
# beta joins and syncs, an ext4 written on alpha replays on beta to an
# equal disk, the role goes to beta and back, and so on.  The disks are
# compared on the host, where qemu writes the guests' images.  Every wait
# is bounded; a failed step dumps the guests' logs and skips the rest.
# A missing rig is a failure (require_rig); MARS_TEST_QUICK=1 skips.

# One cluster for all tests of this file: a fixed namespace name.
VMNET_ID=mt74
RES=r0
DISK_MB=32
# Small logfiles: the module rotates during the scenario.
ROTATE_SIZE=2M
BOUND=120		# seconds for every replication step under TCG

load helpers
load vmnet

NETNS_HOSTS=(alpha beta)

setup_file() {
	VMNET_DIR=$BATS_FILE_TMPDIR/vmnet
	export VMNET_DIR
}

setup() {
	[ "${MARS_TEST_QUICK:-0}" != 1 ] || skip "booting guests (--quick)"
	[ ! -e "$VMNET_DIR/failed" ] || skip "an earlier step failed"
}

teardown() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] && [ ! -e "$VMNET_DIR/failed" ] || return 0
	mkdir -p "$VMNET_DIR"
	touch "$VMNET_DIR/failed"
	# As TAP diagnostics, so that the CI log carries them.
	vmnet_dump_logs 2>&1 | sed 's/^/# /' >&3
}

teardown_file() {
	vmnet_down
}

replay_moved() {	# replay_moved HOST LINK: HOST's replay link is no longer LINK
	[ "$(val "$1" "replay-$1")" != "$2" ]
}

# the_files HOST: the files on HOST's mounted device, with their md5.
the_files() {
	on_vm "$1" bash -c 'cd "$1" && md5sum f* | sort -k 2' - "$(mnt "$1")"
}

@test "two guests on a bridge, each with mars.ko, sshd and clusterd --backend kmod" {
	vmnet_up 2
	for h in alpha beta; do
		run on_vm "$h" grep -h 'replication driver: engine' "$VMNET_GUEST/$h/clusterd.log"
		assert_output --partial "engine kmod"
		run on_vm "$h" hostname
		assert_output "$h"
	done
	# The guests reach each other over the bridge.
	run on_vm alpha bash -c "exec 3<>/dev/tcp/$(netns_addr beta)/22"
	assert_success
}

@test "create-resource on alpha: the module's /dev/mars/r0 is primary" {
	run marsadm_on alpha create-resource "$RES" "$(disk alpha)"
	assert_success
	wait_for 60 is_primary alpha
	wait_for 10 has_value alpha "resource-$RES/replay-alpha" "log-000000001-alpha,0,0"
}

@test "beta joins and its module's secondary finishes the full sync" {
	replica_join beta
	wait_for "$BOUND" synced beta
	wait_for 30 caught_up beta alpha
}

@test "an ext4 written on alpha replays on beta to an equal disk" {
	fs_mount alpha mkfs
	write_files alpha 4
	the_files alpha >"$VMNET_DIR/files-1"
	fs_umount alpha
	wait_same alpha beta "$BOUND"
	run on_vm beta bash -c "ls '$(netns_root beta)/resource-$RES'/log-*-alpha | wc -l"
	[ "$output" -ge 2 ] || fail "alpha's module did not rotate: $output logfile(s) on beta"
}

@test "handover to beta: beta's module logs, alpha's replays" {
	run marsadm_on beta primary "$RES" --timeout="$BOUND"
	assert_success
	wait_for 60 is_primary beta
	[ "$(val beta actual-alpha/is-primary)" = 0 ]
	fs_mount beta
	run the_files beta
	assert_output "$(cat "$VMNET_DIR/files-1")"
	write_files beta 4
	the_files beta >"$VMNET_DIR/files-2"
	fs_umount beta
	wait_same beta alpha "$BOUND"
}

@test "handover back to alpha: the data written on beta is there" {
	run marsadm_on alpha primary "$RES" --timeout="$BOUND"
	assert_success
	wait_for 60 is_primary alpha
	fs_mount alpha
	run the_files alpha
	assert_output "$(cat "$VMNET_DIR/files-2")"
	write_files alpha 2
	fs_umount alpha
	wait_same alpha beta "$BOUND"
}

@test "kill -9 of clusterd on the secondary mid-transfer: it restarts and catches up" {
	local before writer
	before=$(val beta "replay-beta")
	fs_mount alpha
	write_files alpha 6 1024 &
	writer=$!
	# Mid-transfer: beta has replayed some of the new writes, not all.
	wait_for "$BOUND" replay_moved beta "$before"
	vmnet_clusterd_stop beta KILL
	wait "$writer" || fail "writing on alpha failed"
	vmnet_clusterd_start beta
	write_files alpha 1
	fs_umount alpha
	wait_same alpha beta "$BOUND"
	[ "$(val alpha actual-alpha/is-primary)" = 1 ]
}

@test "failover: beta takes over while cut off from alpha, split brain, invalidate" {
	fs_mount alpha
	write_files alpha 1
	the_files alpha >"$VMNET_DIR/files-4"
	wait_for "$BOUND" caught_up beta alpha
	wait_for 30 has_value beta "resource-$RES/actual-alpha/open-count" 1
	vmnet_partition on
	write_files alpha 2		# the old primary goes on, cut off
	# The handover is refused: alpha's device is open and it cannot be asked.
	run marsadm_on beta primary "$RES" --timeout=0
	[ "$status" -eq 5 ] || fail "primary without --force: status $status: $output"
	run marsadm_on beta primary --force "$RES"
	[ "$status" -eq 5 ] || fail "primary --force before pause-fetch: status $status: $output"
	assert_output --partial "pause-fetch"
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	run marsadm_on beta primary --force "$RES" --timeout="$BOUND"
	assert_success
	wait_for 60 is_primary beta
	fs_mount beta
	run the_files beta
	assert_output "$(cat "$VMNET_DIR/files-4")"
	write_files beta 1
	fs_umount beta
	fs_umount alpha
	vmnet_partition off
	# Both sides see the split brain once the trees meet again.
	wait_for "$BOUND" split_seen alpha
	wait_for "$BOUND" split_seen beta
	run marsadm_on beta primary "$RES" --timeout=0
	[ "$status" -eq 5 ] || fail "primary during split brain: status $status: $output"
	assert_output --partial "split brain"
	# Resolution: alpha's diverged history goes; it resyncs from beta.
	run marsadm_on alpha invalidate "$RES" --timeout="$BOUND"
	assert_success
	wait_for "$BOUND" synced alpha
	wait_same beta alpha "$BOUND"
	wait_for 60 no_split alpha
	wait_for 60 no_split beta
}

@test "the guests' kernel logs have no warnings or errors from the module" {
	for h in alpha beta; do
		# From the module's load on: before it, only the boot.
		run on_vm "$h" bash -c "dmesg | sed -n '/mars: version/,\$p'"
		assert_output --partial "$RES: attached"
		refute_output --regexp "BUG|WARNING|Oops|Call Trace|mars: .*failed"
	done
}

@test "the guests power off, each run-guest exits 0 (a clean kernel log)" {
	vmnet_poweroff 90 || fail "a guest did not power off within 90s"
	for h in alpha beta; do
		# run-guest has ended (vmnet_poweroff), its status written.
		run cat "$VMNET_DIR/$h/run-guest.log"
		[ "$(cat "$VMNET_DIR/$h/run-guest.status" 2>/dev/null)" = 0 ] ||
			fail "run-guest of $h did not exit 0: $output"
	done
}
