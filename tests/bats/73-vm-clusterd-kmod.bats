#!/usr/bin/env bats
# clusterd drives mars.ko through its kmod backend, in a qemu guest
# (tests/vm/guest/73-clusterd-kmod.bats): two hosts in network namespaces,
# alpha's clusterd on the module, beta's on the userspace engine; create,
# join and full sync, an ext4 replicated to an equal disk, handover to
# beta and back.  One boot runs the whole guest suite.  A missing rig is a
# failure (require_rig in vm.bash says what to install); MARS_TEST_QUICK=1
# skips.

load helpers
load vm

@test "clusterd drives mars.ko in a two-host cluster (guest suite)" {
	skip_if_quick
	require_rig
	# A private copy: a rebuild during the long run cannot change it.
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	run "$RUN_GUEST" --ko "$BATS_TEST_TMPDIR/mars.ko" --no-disks --memory 1024 \
		--timeout 900 "$GUEST_DIR/73-clusterd-kmod.bats"
	echo "$output"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
}
