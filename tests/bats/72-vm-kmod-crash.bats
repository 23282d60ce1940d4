#!/usr/bin/env bats
# Crash test of mars.ko in qemu guests (tests/vm/guest/72-kmod-crash.bats):
# three boots on the same two disk images; the first two write fsync'd
# blocks and kill the guest, the next ones recover as primary and check
# that every acknowledged write is there and the device is a prefix of
# the write order.  Its own suite so that it has its own time budget in
# tests/run-all.  MARS_TEST_QUICK=1 skips it.

load helpers
load vm

# crash_boot PHASE: one boot of the crash suite on the test's images;
# RUNDIR is the kept run directory (removed by the caller).
crash_boot() {
	run "$RUN_GUEST" --keep --timeout 400 --ko "$BATS_TEST_TMPDIR/mars.ko" \
		--disk-image "data:$BATS_TEST_TMPDIR/data.img" \
		--disk-image "mars:$BATS_TEST_TMPDIR/mars.img" \
		--env "MARS_CRASH_PHASE=$1" --env "MARS_CRASH_DIR=$BATS_TEST_TMPDIR" \
		"$GUEST_DIR/72-kmod-crash.bats"
	echo "$output"
	RUNDIR=$(sed -n 's/^run-guest: run directory kept: //p' <<<"$output")
	[ -d "$RUNDIR" ] || fail "no run directory kept"
}

@test "crash: a killed guest keeps every acknowledged fsync'd write, at two points" {
	skip_if_quick
	require_rig
	# A private copy: a rebuild between the boots cannot change it.
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	truncate -s 32M "$BATS_TEST_TMPDIR/data.img"
	truncate -s 64M "$BATS_TEST_TMPDIR/mars.img"
	local phase
	for phase in 1 2; do
		crash_boot "$phase"
		# Killed in the middle: no result, exit 4.
		[ "$status" -eq 4 ] || { rm -rf "$RUNDIR"; fail "phase $phase: status $status, not 4"; }
		refute_output --partial "not ok"
		cp "$RUNDIR/share/acked" "$BATS_TEST_TMPDIR/acked-$phase"
		rm -rf "$RUNDIR"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/acked-$phase")" -ge 20 ] ||
			fail "phase $phase acknowledged too few blocks"
	done
	crash_boot 3
	rm -rf "$RUNDIR"
	assert_success
	assert_tap_complete
	refute_output --partial "not ok"
}
