#!/usr/bin/env bats
# Power-loss test of the userspace engine (issue 14; the guest side is
# tests/vm/guest/77-engine-powerloss.bats), the twin of 75 for mars.ko:
# mars-engine runs as primary inside the guest, on the guest's disk
# "data" with its state tree on the disk "mars", and MARS_PL_KILLS (20)
# boots on the same images write O_DIRECT blocks to its FUSE device file,
# some synced with fsync, some with RWF_DSYNC.  This side kills qemu with
# SIGKILL once a random number of syncs were acknowledged, plus up to
# half a second (tests/bats/powerloss.bash): a power cut, not a process
# death, so what the guest had not synced is gone.  Every next boot
# starts the engine again, which recovers from the replay link it
# published itself, and checks that no acknowledged write was lost and
# that the device equals the surviving logfiles applied to a zeroed disk.
# MARS_ENGINE tests another mars-engine binary (default: this build's).
# MARS_PL_SEED repeats a run.  MARS_TEST_QUICK=1 skips it.

load helpers
load vm
load powerloss

@test "engine power loss: acknowledged writes survive and the disk equals its applied log, at ${MARS_PL_KILLS:-20} kill points" {
	skip_if_quick
	require_rig
	local engine=${MARS_ENGINE:-$MARS_BUILDDIR/engine/mars-engine}
	[ -x "$engine" ] || fail "no mars-engine at '$engine' (run make)"
	# Private copies: a rebuild between the boots cannot change them.
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cp "$engine" "$MARS_BUILDDIR/tests/helpers/seq-writer" "$BATS_TEST_TMPDIR/bin/"
	echo "# mars-engine: $engine" >&3
	truncate -s 16M "$BATS_TEST_TMPDIR/data.img"
	truncate -s 64M "$BATS_TEST_TMPDIR/mars.img"
	PL_GUEST=77-engine-powerloss.bats
	PL_RIG_ARGS=(--memory 256 --env "MARS_PL_BIN=$BATS_TEST_TMPDIR/bin"
		--disk-image "data:$BATS_TEST_TMPDIR/data.img"
		--disk-image "mars:$BATS_TEST_TMPDIR/mars.img")
	pl_run
}
