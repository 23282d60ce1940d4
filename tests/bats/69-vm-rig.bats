#!/usr/bin/env bats
# The VM rig's choice of accelerator (tests/vm/accel), with a stand-in
# qemu (tests/helpers/fake-qemu) playing a broken KVM: one that aborts
# as nested virtualization makes qemu abort, one whose guest never prints.
# Both must fall back to TCG and say why; MARS_VM_ACCEL forces either;
# the verdict is cached.  /dev/kvm is a writable file of the test's
# (MARS_VM_KVM_DEV), so the probe runs on any machine.  The guest suites
# (70-74) boot the real qemu.  Last, the kernel flavours the rig finds
# (tests/vm/flavour) in a /boot and /usr/src of the test's.

load helpers
load vm

ACCEL=$MARS_SRCDIR/tests/vm/accel

setup() {
	export MARS_VM_QEMU=$MARS_SRCDIR/tests/helpers/fake-qemu
	export MARS_VM_CACHE=$BATS_TEST_TMPDIR/cache
	export MARS_VM_KVM_DEV=$BATS_TEST_TMPDIR/kvm
	export FAKE_QEMU_LOG=$BATS_TEST_TMPDIR/qemu-calls
	# Long enough for any load: a stand-in that prints ends the probe at
	# once; only the silent one (given 2 s) waits it out.
	export MARS_VM_PROBE_TIMEOUT=60
	unset MARS_VM_ACCEL
	: >"$MARS_VM_KVM_DEV"
	: >"$FAKE_QEMU_LOG"
	KERNEL=$BATS_TEST_TMPDIR/vmlinuz
	echo "not a kernel: the stand-in never reads it" >"$KERNEL"
}

# kvm_probes: how many times the stand-in was started with -accel kvm.
kvm_probes() {
	grep -c -- '-accel kvm' "$FAKE_QEMU_LOG" || true
}

@test "a qemu that aborts under KVM (MSR 0x10a, status 134): TCG, and why" {
	FAKE_QEMU_KVM=abort run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line tcg
	assert_output --partial "exited with status 134"
	assert_output --partial "failed to set MSR 0x10a"
	assert_output --partial "MARS_VM_ACCEL"
	[ "$(kvm_probes)" = 1 ]
}

@test "a KVM guest that prints nothing: TCG after the bound, and why" {
	MARS_VM_PROBE_TIMEOUT=2 FAKE_QEMU_KVM=hang run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line tcg
	assert_output --partial "printed nothing on its console in 2 s"
	[ "$(kvm_probes)" = 1 ]
}

@test "a KVM guest that prints its banner: KVM" {
	FAKE_QEMU_KVM=boot run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line kvm
	assert_output --partial "printed on its console under KVM"
}

@test "no writable /dev/kvm: TCG without a probe" {
	rm "$MARS_VM_KVM_DEV"
	FAKE_QEMU_KVM=boot run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line tcg
	assert_output --partial "missing or not writable"
	[ "$(kvm_probes)" = 0 ]
}

@test "MARS_VM_ACCEL forces either, without a probe; a bad value is refused" {
	MARS_VM_ACCEL=kvm FAKE_QEMU_KVM=abort run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line kvm
	assert_output --partial "forced by MARS_VM_ACCEL"
	MARS_VM_ACCEL=tcg FAKE_QEMU_KVM=boot run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line tcg
	[ "$(kvm_probes)" = 0 ]
	MARS_VM_ACCEL=xen run "$ACCEL" --kernel "$KERNEL"
	assert_failure 2
	assert_output --partial "kvm or tcg"
}

@test "the verdict is cached; a new qemu version probes again" {
	FAKE_QEMU_KVM=abort run "$ACCEL" --kernel "$KERNEL"
	assert_line tcg
	# Now KVM would work, but the cached verdict stands: no probe.
	FAKE_QEMU_KVM=boot run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line tcg
	assert_output --partial "cached in $MARS_VM_CACHE/accel-"
	[ "$(kvm_probes)" = 1 ]
	FAKE_QEMU_VERSION=8.0.0 FAKE_QEMU_KVM=boot run "$ACCEL" --kernel "$KERNEL"
	assert_success
	assert_line kvm
	[ "$(kvm_probes)" = 2 ]
	# Removing the cache probes again.
	rm -r "$MARS_VM_CACHE"
	MARS_VM_PROBE_TIMEOUT=2 FAKE_QEMU_KVM=hang run "$ACCEL" --kernel "$KERNEL"
	assert_line tcg
	[ "$(kvm_probes)" = 3 ]
}

@test "run-guest boots under the accelerator the probe chose" {
	require_rig
	export MARS_VM_CONSOLE_TIMEOUT=2
	FAKE_QEMU_KVM=abort run "$RUN_GUEST" --no-disks --timeout 30 "$GUEST_DIR/70-rig.bats"
	assert_failure 4
	assert_output --partial "accel: tcg: KVM cannot run guests here"
	# The probe under KVM, then the guest under TCG.
	[ "$(kvm_probes)" = 1 ]
	grep -q -- '-accel tcg' "$FAKE_QEMU_LOG"
}

@test "run-guest: a guest silent on its console fails with that diagnosis" {
	require_rig
	export MARS_VM_CONSOLE_TIMEOUT=2
	MARS_VM_ACCEL=kvm FAKE_QEMU_KVM=hang run "$RUN_GUEST" --no-disks --timeout 60 \
		"$GUEST_DIR/70-rig.bats"
	assert_failure 4
	assert_output --partial "the guest printed nothing on its console in 2 s: accelerator kvm cannot run guests here; try MARS_VM_ACCEL=tcg"
	refute_output --partial "timed out"
}

@test "flavours: installed means image and headers; the newest release of each" {
	local boot=$BATS_TEST_TMPDIR/boot src=$BATS_TEST_TMPDIR/src f
	mkdir -p "$boot" "$src"
	for f in 6.1.0-9-amd64 6.1.0-10-amd64 6.1.0-10-cloud-amd64 6.1.0-10-rt-amd64; do
		: >"$boot/vmlinuz-$f"
	done
	mkdir "$src/linux-headers-6.1.0-10-amd64" "$src/linux-headers-6.1.0-10-cloud-amd64"
	export MARS_VM_BOOT=$boot MARS_VM_HEADERS=$src
	run "$MARS_SRCDIR/tests/vm/flavour" --list
	assert_success
	assert_output "$(printf 'amd64\ncloud')"
	run "$MARS_SRCDIR/tests/vm/flavour" amd64
	assert_output 6.1.0-10-amd64
	run "$MARS_SRCDIR/tests/vm/flavour" cloud
	assert_output 6.1.0-10-cloud-amd64
	rm "$boot/vmlinuz-6.1.0-10-rt-amd64"
	run "$MARS_SRCDIR/tests/vm/flavour" rt
	assert_failure 3
	assert_output --partial "apt-get install linux-image-rt-amd64 linux-headers-rt-amd64"
	run "$MARS_SRCDIR/tests/vm/flavour" --ko 6.1.0-10-cloud-amd64
	assert_output "$MARS_BUILDDIR/kmod/flavours/6.1.0-10-cloud-amd64/mars.ko"
}
