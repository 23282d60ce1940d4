#!/usr/bin/env bats
# The README's first command: demo/cluster brings up a two-node cluster on
# this machine, shows replication and a handover, leaves it running, and
# demo/cluster --down removes everything it started.

load helpers

DEMO=$MARS_SRCDIR/demo/cluster

setup() {
	[ "$(id -u)" = 0 ] || skip "the demo needs root (network namespaces, FUSE, loop devices)"
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	export MARS_DEMO_DIR=$BATS_TEST_TMPDIR/demo
}

teardown() {
	"$DEMO" --down >/dev/null 2>&1 || true
}

demo_netns() {	# the demo's namespaces still there
	ip netns list | grep -c '^mdemo-' || true
}

@test "demo/cluster: replication and a handover on one machine, then --down removes it" {
	run timeout 600 "$DEMO"
	echo "$output"
	assert_success
	assert_output --partial "the two disks are identical"
	assert_output --partial "random.bin on beta has alpha's checksum"
	assert_output --partial "hello from alpha"
	assert_output --partial "Tear down:"
	# It keeps running: beta is primary, with its file system mounted.
	grep -q " $MARS_DEMO_DIR/fs-beta " /proc/self/mounts
	[ "$(demo_netns)" -ge 3 ]
	# A second run refuses and says how to stop the first.
	run "$DEMO"
	assert_failure
	assert_output --partial "--down"
	run "$DEMO" --down
	assert_success
	[ ! -e "$MARS_DEMO_DIR" ]
	[ "$(demo_netns)" = 0 ]
	! grep -q " $MARS_DEMO_DIR/" /proc/self/mounts
}
