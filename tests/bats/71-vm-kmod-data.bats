#!/usr/bin/env bats
# mars.ko's data path in a qemu guest (tests/vm/guest/71-kmod-data.bats):
# block device, primary logging with group commit, rotation, recovery,
# replay, and the cross-checks with marsadm log-verify and the userspace
# engine.  One boot runs the whole guest suite.  A missing rig is a
# failure (70-vm-kmod.bats says what to install); MARS_TEST_QUICK=1 skips.

load helpers

RUN_GUEST=$MARS_SRCDIR/tests/vm/run-guest
GUEST_DIR=$MARS_SRCDIR/tests/vm/guest

assert_tap_complete() {
	local plan count
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<<"$output" | head -n 1)
	[ -n "$plan" ] || fail "no TAP plan in the guest's output"
	count=$(grep -c '^ok ' <<<"$output" || true)
	[ "$count" -eq "$plan" ] ||
		fail "guest ran $count of $plan planned tests successfully"
}

@test "the data path of mars.ko passes its guest suite" {
	[ "${MARS_TEST_QUICK:-0}" != 1 ] || skip "booting a guest (--quick)"
	command -v qemu-system-x86_64 >/dev/null ||
		fail "qemu-system-x86_64 missing (tests/install-deps --vm)"
	[ -f "$MARS_BUILDDIR/kmod/mars.ko" ] || fail "no mars.ko (make kmod)"
	# A private copy: a rebuild during the long run cannot change it.
	cp "$MARS_BUILDDIR/kmod/mars.ko" "$BATS_TEST_TMPDIR/mars.ko"
	run "$RUN_GUEST" --ko "$BATS_TEST_TMPDIR/mars.ko" \
		--disk data:128M --disk mars:256M --timeout 1100 \
		"$GUEST_DIR/71-kmod-data.bats"
	echo "$output"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
}

