#!/usr/bin/env bats
# clusterd drives mars.ko (engine/kmod.c, `clusterd --backend kmod`), run
# inside the VM by tests/bats/73-vm-clusterd-kmod.bats:
#   tests/vm/run-guest --no-disks tests/vm/guest/73-clusterd-kmod.bats
# Two hosts in network namespaces, built by the host suites' helpers
# (tests/bats/netns.bash, replica.bash): alpha's clusterd runs the module,
# beta's the userspace engine over NBD.  One cluster lives through the
# whole file, each test one step of the scenario: the resource is made
# on alpha (the module's /dev/mars/r0 becomes primary), beta joins and
# syncs, an ext4 written on alpha replays on beta to an equal disk, beta
# syncs once more after invalidate, the role goes to beta (the module
# replays beta's logfiles) and back.
#
# Everything lives on a tmpfs at $STATE, the guest's own; every daemon
# is started without bats' fd 3 and with its output in a file (netns.bash),
# every wait is bounded, and a failed step dumps the daemons' logs and
# skips the steps after it.

load guest-helpers

STATE=/tmp/marsvm-clusterd-kmod
NETNS_ID=mtvm
RES=r0
DISK_MB=32
# Small logfiles: the module rotates during the scenario.
ROTATE_SIZE=2M
BOUND=120		# seconds for every replication step under TCG

load guest-cluster

# the_files HOST: the files on HOST's mounted device, with their md5.
the_files() {
	(cd "$(mnt "$1")" && md5sum f* | sort -k 2)
}

setup() {
	[ ! -e "$STATE/failed" ] || skip "an earlier step failed"
}

teardown() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] && [ ! -e "$STATE/failed" ] || return 0
	touch "$STATE/failed"
	gcluster_dump
}

teardown_file() {
	gcluster_down
}

@test "a cluster: alpha's clusterd runs mars.ko, beta's the userspace engine" {
	gcluster_up
	run grep -h 'replication driver: engine' "$NETNS_DIR/alpha/clusterd.log" \
		"$NETNS_DIR/beta/clusterd.log"
	assert_line --partial "engine kmod"
	assert_line --partial "engine proc"
}

@test "create-resource on alpha: clusterd makes the module primary of /dev/mars/r0" {
	run marsadm_on alpha create-resource "$RES" "$(alpha_loop)"
	assert_success
	wait_for 60 is_primary alpha
	[ -b "/dev/mars/$RES" ]
	wait_st 10 "$RES" mode primary
	run st "$RES" logfile
	assert_output "log-000000001-alpha"
	[ -f "$(netns_root alpha)/resource-$RES/log-000000001-alpha" ]
	wait_for 10 has_value alpha "resource-$RES/replay-alpha" "log-000000001-alpha,0,0"
}

@test "beta joins and finishes its full sync from alpha's disk" {
	replica_join beta
	wait_for "$BOUND" synced beta
	wait_for 30 caught_up beta alpha
}

@test "an ext4 written on alpha's /dev/mars/r0 replays on beta to an equal disk" {
	fs_mount alpha mkfs
	write_files alpha 4
	the_files alpha >"$STATE/files-1"
	fs_umount alpha
	wait_same alpha beta "$BOUND"
	# The module rotated (--rotate-size 2M) and every logfile is sound.
	run bash -c "ls '$(netns_root alpha)/resource-$RES'/log-*-alpha | wc -l"
	[ "$output" -ge 2 ] || fail "mars.ko did not rotate: $output logfile(s)"
	local cur
	cur=$(st "$RES" logfile)
	for f in "$(netns_root alpha)/resource-$RES"/log-*-alpha; do
		# The one being written carries preallocated zeros after its log
		# end (docs/logfile-format.md 1.1): its records are what ends there.
		if [ "$(basename "$f")" = "$cur" ]; then
			head -c "$(st "$RES" log_end)" "$f" >"$STATE/current.log"
			f=$STATE/current.log
		fi
		run "$MARSADM" log-verify "$f"
		assert_success
	done
}

@test "invalidate on beta: the new full sync serves what the module wrote" {
	# The first sync read alpha's loop device through its page cache;
	# the module's writes since then passed that cache by.  The logfiles
	# before the current one are not replayed again: only a sync that
	# reads the disk itself gives beta an equal disk.
	run marsadm_on beta invalidate "$RES"
	assert_success
	wait_for "$BOUND" synced beta
	wait_same alpha beta "$BOUND"
}

@test "handover to beta: the module leaves the role and replays beta's writes" {
	run marsadm_on beta primary "$RES" --timeout="$BOUND"
	assert_success
	wait_for 60 is_primary beta
	[ "$(val beta actual-alpha/is-primary)" = 0 ]
	# auto picks NBD in the guest: an ext4 made on the module's 512-byte
	# sectors must mount on /dev/nbdN too
	# (bounded: the status file follows the role by a tick)
	wait_for 30 grep -qx 'engine_frontend=nbd' "$(netns_root beta)/resource-$RES/.driver-status"
	fs_mount beta
	run the_files beta
	assert_output "$(cat "$STATE/files-1")"
	write_files beta 4
	the_files beta >"$STATE/files-2"
	fs_umount beta
	wait_same beta alpha "$BOUND"
	wait_st 10 "$RES" mode replay
	# Replaying beta's logs.  Right after a rotation on beta the module
	# may hold no logfile open (the next one has no data yet); the replay
	# link names it then.
	run val alpha replay-alpha
	assert_output --regexp '^log-[0-9]{9}-beta,'
	run st "$RES" logfile
	[[ -z "$output" || "$output" =~ ^log-[0-9]{9}-beta$ ]] ||
		fail "the module replays '$output', not one of beta's logfiles"
}

@test "handover back to alpha: the module logs again, beta replays" {
	run marsadm_on alpha primary "$RES" --timeout="$BOUND"
	assert_success
	wait_for 60 is_primary alpha
	wait_st 10 "$RES" mode primary
	run st "$RES" logfile
	assert_output --regexp '^log-[0-9]{9}-alpha$'
	fs_mount alpha
	run the_files alpha
	assert_output "$(cat "$STATE/files-2")"
	write_files alpha 2
	fs_umount alpha
	wait_same alpha beta "$BOUND"
}

@test "delete-resource, then create-resource again: the module starts at the new number" {
	run marsadm_on alpha delete-resource --force "$RES"
	assert_success
	# Both drivers let go: the module's device goes away.
	wait_for 60 test ! -e "/dev/mars/$RES"
	# The earlier incarnation's logfiles stay; the new one starts past
	# them (create-resource adds 100000), and so must the module.
	run marsadm_on alpha create-resource "$RES" "$(alpha_loop)"
	assert_success
	local first
	first=$(val alpha replay-alpha | cut -d, -f1)
	[[ "$first" =~ ^log-0001[0-9]{5}-alpha$ ]] || fail "create-resource named $first"
	wait_for 60 is_primary alpha
	wait_st 10 "$RES" mode primary
	run st "$RES" logfile
	assert_output "$first"
	# beta joins the new incarnation and gets what alpha writes.
	replica_join beta
	wait_for "$BOUND" synced beta
	fs_mount alpha
	write_files alpha 2
	fs_umount alpha
	wait_same alpha beta "$BOUND"
}

@test "the kernel log has no warnings or errors from the module" {
	local log=$STATE/kmsg
	dmesg_since "$(cat "$STATE/mark")" >"$log"
	grep -q "$RES: attached" "$log" || fail "the module never attached $RES"
	run grep -E '^kern *:(emerg|alert|crit|warn) *:' "$log"
	refute_output --regexp "BUG|WARNING|Oops|Call Trace|mars: .*failed"
}
