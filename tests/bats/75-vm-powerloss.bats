#!/usr/bin/env bats
# Power-loss test of mars.ko (issue 14; the guest side is
# tests/vm/guest/75-kmod-powerloss.bats): MARS_PL_KILLS (20) boots on the
# same disk images write O_DIRECT blocks to the primary, some synced with
# fsync, some with RWF_DSYNC, while a recorder publishes the module's
# applied position as clusterd would; this side kills qemu with SIGKILL
# once a random number of syncs were acknowledged, plus a random delay of
# up to half a second: a power cut, the images kept as qemu wrote them,
# the guest's page cache lost.  Every next boot recovers from the
# published position and checks that no acknowledged write was lost and
# that the disk equals its surviving log replayed onto a zeroed disk.
# The boots and the cut are tests/bats/powerloss.bash, shared with the
# userspace engine's suite 77.  MARS_PL_SEED repeats a run (it is
# printed).  Its own suite so that it
# has its own time budget in tests/run-all.  MARS_TEST_QUICK=1 skips it.

load helpers
load vm
load powerloss

@test "power loss: acknowledged writes survive and the disk equals its replayed log, at ${MARS_PL_KILLS:-20} kill points" {
	skip_if_quick
	require_rig
	# A private copy: a rebuild between the boots cannot change it.
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	truncate -s 32M "$BATS_TEST_TMPDIR/data.img"
	truncate -s 256M "$BATS_TEST_TMPDIR/mars.img"
	truncate -s 32M "$BATS_TEST_TMPDIR/sec.img"
	PL_GUEST=75-kmod-powerloss.bats
	PL_RIG_ARGS=(--memory 384 --ko "$BATS_TEST_TMPDIR/mars.ko"
		--disk-image "data:$BATS_TEST_TMPDIR/data.img"
		--disk-image "mars:$BATS_TEST_TMPDIR/mars.img"
		--disk-image "sec:$BATS_TEST_TMPDIR/sec.img")
	pl_run
}
