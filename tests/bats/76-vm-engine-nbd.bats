#!/usr/bin/env bats
# The userspace engine's NBD front end in a qemu guest
# (tests/vm/guest/76-engine-nbd.bats): the build host's kernel has no
# nbd.ko and loads no modules, Debian's guest kernel has it.  auto picks
# NBD there, fio --verify on /dev/nbdN, the log rebuilds the disk, flush
# and FUA make the log durable.  One boot runs the whole guest suite.  A
# missing rig is a failure (require_rig in vm.bash); MARS_TEST_QUICK=1
# skips.

load helpers
load vm

@test "the engine's NBD front end passes its guest suite" {
	skip_if_quick
	require_rig
	run "$RUN_GUEST" --disk data:64M --disk mars:256M --timeout 600 \
		"$GUEST_DIR/76-engine-nbd.bats"
	echo "$output"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
}

@test "auto picks FUSE on a host without nbd.ko, and says so" {
	local mnt=$BATS_TEST_TMPDIR/mnt root=$BATS_TEST_TMPDIR/root pid
	[ ! -e /dev/nbd0 ] || skip "this host has /dev/nbd0"
	[ -c /dev/fuse ] || fail "no /dev/fuse"
	mkdir -p "$mnt" "$root"
	truncate -s 8M "$BATS_TEST_TMPDIR/disk.img"
	"$MARS_BUILDDIR/engine/mars-engine" primary --resource h1 \
		--disk "$BATS_TEST_TMPDIR/disk.img" --mount "$mnt" --root "$root" \
		--host hst 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for 20 grep -q '^frontend=fuse$' "$root/resource-h1/.engine-status"
	run grep '^device=' "$root/resource-h1/.engine-status"
	assert_output "device=$mnt/h1"
	[ -f "$mnt/h1" ]
	kill -TERM "$pid"
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --partial "serving over FUSE"
}
