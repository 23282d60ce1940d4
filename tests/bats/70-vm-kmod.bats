#!/usr/bin/env bats
# mars.ko in a qemu guest booted from Debian's kernel (tests/vm/).
#
# The host side of the VM layer: checks what the rig needs, runs the
# guest suites through tests/vm/run-guest and judges its answer (helpers
# in tests/bats/vm.bash).  A missing qemu, kernel image or module is a
# failure, never a skip; tests/install-deps --vm installs them.
# MARS_TEST_QUICK=1 (run-all --quick) skips the booting tests on purpose.

load helpers
load vm

@test "the rig's prerequisites are installed" {
	require_rig
	command -v busybox >/dev/null || fail "busybox missing (busybox-static)"
	command -v cpio >/dev/null || fail "cpio missing"
	[ -x "$MARS_BUILDDIR/tests/vm/mars-ctl-query" ] ||
		fail "tests/vm/mars-ctl-query not built (make)"
}

@test "run-guest refuses to start without a kernel image" {
	require_rig
	run "$RUN_GUEST" --kernel "$BATS_TEST_TMPDIR/no-such-vmlinuz" \
		"$GUEST_DIR/70-kmod-smoke.bats"
	assert_failure 3
	assert_output --partial "no kernel image"
}

@test "run-guest refuses to start without the module" {
	require_rig
	run "$RUN_GUEST" --ko "$BATS_TEST_TMPDIR/mars.ko" \
		"$GUEST_DIR/70-kmod-smoke.bats"
	assert_failure 3
	assert_output --partial "make kmod"
}

@test "the rig and mars.ko pass their guest suites" {
	skip_if_quick
	require_rig
	rm -f "$MARS_SRCDIR/tests/vm/guest-write-probe"
	run "$RUN_GUEST" --disk data:64M --disk mars:128M --timeout 600 \
		"$GUEST_DIR/70-rig.bats" "$GUEST_DIR/70-kmod-smoke.bats"
	echo "$output"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
	# The guest wrote into its overlay only.
	[ ! -e "$MARS_SRCDIR/tests/vm/guest-write-probe" ]
}

@test "a failing guest test fails the run" {
	skip_if_quick
	require_rig
	run "$RUN_GUEST" --no-disks --timeout 300 \
		"$MARS_SRCDIR/tests/vm/fixtures/one-fails.bats"
	echo "$output"
	assert_failure 1
	assert_line "ok 1 passes"
	assert_line "not ok 2 fails"
}

@test "a kernel warning fails a run whose tests passed" {
	skip_if_quick
	require_rig
	run "$RUN_GUEST" --no-disks --timeout 300 \
		"$MARS_SRCDIR/tests/vm/fixtures/kernel-warns.bats"
	echo "$output"
	assert_failure 1
	assert_line "ok 1 passes while the kernel warns"
	assert_output --partial "the guest kernel reported problems"
}

@test "a guest that cannot finish in time is reported, not passed" {
	skip_if_quick
	require_rig
	run "$RUN_GUEST" --no-disks --timeout 3 "$GUEST_DIR/70-kmod-smoke.bats"
	assert_failure 4
	assert_output --partial "timed out after 3s"
}
