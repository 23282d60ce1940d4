#!/usr/bin/env bats
# The VM rig itself, checked from inside the guest: the kernel matches the
# module, the host tree is there and writable only in the guest, the
# disks arrive under their names and carry a filesystem.  Run with
#   tests/vm/run-guest --disk data:64M --disk mars:128M tests/vm/guest/70-rig.bats

load guest-helpers

setup_file() {
	guest_require
}

@test "the guest runs the kernel mars.ko was built for" {
	run modinfo -F vermagic "$MARS_KO"
	assert_success
	[ "${output%% *}" = "$(uname -r)" ]
}

@test "the host tree is visible, writes stay in the guest" {
	[ -f "$MARS_SRCDIR/configure.ac" ]
	[ -f "$MARS_BUILDDIR/kmod/mars.ko" ]
	# The host test checks afterwards that this file never reached it.
	echo guest >"$MARS_SRCDIR/tests/vm/guest-write-probe"
	run cat "$MARS_SRCDIR/tests/vm/guest-write-probe"
	assert_output guest
}

@test "disks arrive under their names with their sizes" {
	[ -b "${MARS_VM_DISK_data:-}" ]
	[ -b "${MARS_VM_DISK_mars:-}" ]
	run blockdev --getsize64 "$MARS_VM_DISK_data"
	assert_output $((64 << 20))
	run blockdev --getsize64 "$MARS_VM_DISK_mars"
	assert_output $((128 << 20))
}

@test "a rig disk takes an ext4 filesystem" {
	local mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	run mkfs.ext4 -q -F "$MARS_VM_DISK_mars"
	assert_success
	mount -t ext4 "$MARS_VM_DISK_mars" "$mnt"
	echo data >"$mnt/file"
	sync
	umount "$mnt"
	mount -t ext4 -o ro "$MARS_VM_DISK_mars" "$mnt"
	run cat "$mnt/file"
	umount "$mnt"
	assert_output data
}
