#!/usr/bin/env bats
# The README's first command: demo/cluster brings up a two-node cluster on
# this machine, shows replication and a handover, leaves it running, and
# demo/cluster --down removes everything it started.  Both flavours: the
# userspace engine in network namespaces, and qemu guests with mars.ko
# (what a machine with the VM rig gets by default).

load helpers
load vm

DEMO=$MARS_SRCDIR/demo/cluster

setup() {
	[ "$(id -u)" = 0 ] || skip "the demo needs root (network namespaces, FUSE, loop devices)"
	export MARS_DEMO_DIR=$BATS_TEST_TMPDIR/demo
}

teardown() {
	"$DEMO" --down >/dev/null 2>&1 || true
}

demo_netns() {	# the demo's namespaces still there
	ip netns list | grep -c '^mdemo-' || true
}

demo_qemu() {	# the demo's guests still running
	pgrep -f "^qemu-system.*$MARS_DEMO_DIR/" | wc -l
}

# assert_demo_shown: what every flavour demonstrates.
assert_demo_shown() {
	assert_output --partial "the two disks are identical"
	assert_output --partial "hello from alpha"
	assert_output --partial "random.bin on beta has alpha's checksum"
	assert_output --partial "Tear down:"
}

# assert_down: --down removes everything.
assert_down() {
	run "$DEMO" --down
	assert_success
	[ ! -e "$MARS_DEMO_DIR" ]
	[ "$(demo_netns)" = 0 ]
	[ -z "$(ls -d /etc/netns/mdemo-* 2>/dev/null)" ]	# the hosts files of its names
	[ "$(demo_qemu)" = 0 ]
	! grep -q " $MARS_DEMO_DIR/" /proc/self/mounts
}

@test "demo/cluster --userspace: namespaces, replication and a handover; --down removes it" {
	# Never a skip: the README's first command must work here.
	[ -c /dev/fuse ] || fail "no /dev/fuse: the userspace demo needs FUSE (modprobe fuse;" \
		"in a container, pass the device: --device /dev/fuse)"
	run timeout 600 "$DEMO" --userspace
	echo "$output"
	assert_success
	assert_output --partial "data path: the userspace engine"
	assert_demo_shown
	# It keeps running: beta is primary, with its file system mounted.
	grep -q " $MARS_DEMO_DIR/fs-beta " /proc/self/mounts
	[ "$(demo_netns)" -ge 3 ]
	# A second run refuses and says how to stop the first.
	run "$DEMO" --userspace
	assert_failure
	assert_output --partial "--down"
	assert_down
}

@test "demo/cluster on a machine with the VM rig: two guests with mars.ko; --down removes them" {
	skip_if_quick
	require_rig
	run timeout 1500 "$DEMO"
	echo "$output"
	assert_success
	assert_output --partial "data path: mars.ko, in two qemu guests"
	assert_output --partial "alpha: mars.ko version"
	assert_demo_shown
	[ "$(demo_qemu)" = 2 ]
	[ "$(demo_netns)" = 1 ]
	assert_down
}
