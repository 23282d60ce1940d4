#!/usr/bin/env bats
# mars.ko's data path in a qemu guest (tests/vm/guest/71-kmod-data.bats):
# block device, primary logging with group commit, rotation, recovery,
# replay, and the cross-checks with marsadm log-verify and the userspace
# engine.  One boot runs the whole guest suite.  A missing rig is a
# failure (require_rig in vm.bash says what to install); MARS_TEST_QUICK=1
# skips.

load helpers
load vm

@test "the data path of mars.ko passes its guest suite" {
	skip_if_quick
	require_rig
	# A private copy: a rebuild during the long run cannot change it.
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	run "$RUN_GUEST" --ko "$BATS_TEST_TMPDIR/mars.ko" \
		--disk data:128M --disk mars:256M --timeout 1100 \
		"$GUEST_DIR/71-kmod-data.bats"
	echo "$output"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
}

