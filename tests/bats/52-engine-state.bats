#!/usr/bin/env bats
# The engine's actual indicators: resource-RES/actual-HOST/{is-attached,
# is-primary,is-replaying,open-count}, written through statefs on start,
# open/release of the FUSE file and clean shutdown, as `marsadm view`
# reads them.  The tree is made by marsadm create-cluster/create-resource.
# Needs root and /dev/fuse.

load helpers
load state
load ../helpers/engine-lib

setup() {
	engine_setup
	rmdir "$MARS_ROOT"	# engine_setup made it; create-cluster wants it new
	new_resource r0 16M
	DISK=$BATS_TEST_TMPDIR/disk-r0
	A=$RDIR/actual-$MARS_HOST
}

teardown() {
	engine_teardown
}

# actual KEY: the value of resource-r0/actual-alpha/KEY, "-" if absent.
actual() {
	readlink "$A/$1" 2>/dev/null || echo -
}

# actual_is KEY VALUE: for wait_for.
actual_is() {
	[ "$(actual "$1")" = "$2" ]
}

@test "engine state: a primary is attached and Primary while it runs, not after" {
	run mars view-role r0
	assert_output NotYetPrimary
	engine_start
	assert_equal "$(actual is-attached)" 1
	assert_equal "$(actual is-primary)" 1
	assert_equal "$(actual is-replaying)" 0
	assert_equal "$(actual open-count)" 0
	run mars view-role r0
	assert_success
	assert_output Primary
	run mars view-is-primary r0
	assert_output 1
	run mars view-is-attached r0
	assert_output 1
	run mars view-diskstate r0
	assert_success
	refute_output --partial Detached
	refute_output --partial NoAttach
	run mars view r0
	assert_output --partial " Primary alpha"

	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	assert_equal "$(actual is-attached)" 0
	assert_equal "$(actual is-primary)" 0
	assert_equal "$(actual open-count)" 0
	run mars view-role r0
	refute_output Primary
	run mars view-is-primary r0
	assert_output 0
	run mars view-is-attached r0
	assert_output 0
}

@test "engine state: open-count follows the handles open on the device file" {
	engine_start
	assert_equal "$(actual open-count)" 0
	# bats owns fd 3; the test's handles are 5 and 6.
	exec 5<"$MNT/$RES"
	wait_for 10 actual_is open-count 1
	exec 6<>"$MNT/$RES"
	wait_for 10 actual_is open-count 2
	# I/O alone does not touch the indicators.
	stamp=$(stat -c %y "$A/open-count")
	head -c 65536 <&5 >/dev/null
	printf 'x%.0s' $(seq 4096) >&6
	assert_equal "$(stat -c %y "$A/open-count")" "$stamp"
	exec 6>&-
	wait_for 10 actual_is open-count 1
	exec 5<&-
	wait_for 10 actual_is open-count 0
	assert_equal "$(actual is-primary)" 1
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	assert_equal "$(actual open-count)" 0
}

@test "engine state: replay is attached and replaying while it follows, not after" {
	log=$RDIR/log-000000001-beta
	: >"$log"
	"$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$log" \
		>"$T/replay.out" 2>&1 3>&- &
	ENGINE_PID=$!
	echo "$ENGINE_PID" >>"$T/cleanup.pids"
	wait_for 10 actual_is is-replaying 1
	assert_equal "$(actual is-attached)" 1
	assert_equal "$(actual is-primary)" 0
	run mars view-role r0
	refute_output Primary
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ] || { cat "$T/replay.out"; false; }
	assert_equal "$(actual is-attached)" 0
	assert_equal "$(actual is-replaying)" 0
}
