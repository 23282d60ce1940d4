# Helpers for the host side of the VM suites (70-72), loaded after
# helpers.bash: where the rig and the guest suites are, what the rig
# needs, and the check of the guest's TAP answer.  A missing qemu, kernel
# image or module is a failure, never a skip (tests/install-deps --vm
# installs them); MARS_TEST_QUICK=1 (run-all --quick) skips the booting
# tests on purpose.

RUN_GUEST=$MARS_SRCDIR/tests/vm/run-guest
GUEST_DIR=$MARS_SRCDIR/tests/vm/guest
MARS_KO=$MARS_BUILDDIR/kmod/mars.ko
# MARS_VM_FLAVOUR=amd64|cloud|rt: the suites boot Debian's kernel of that
# flavour (run-guest reads it too) with the module built for it.
if [ -n "${MARS_VM_FLAVOUR:-}" ]; then
	MARS_KO=$(MARS_BUILDDIR=$MARS_BUILDDIR "$MARS_SRCDIR/tests/vm/flavour" --ko \
		"$("$MARS_SRCDIR/tests/vm/flavour" "$MARS_VM_FLAVOUR")")
fi

# The kernel release the module was built for, and its image.
module_kver() {
	modinfo -F vermagic "$MARS_KO" | awk '{ print $1 }'
}

require_rig() {
	command -v qemu-system-x86_64 >/dev/null ||
		fail "qemu-system-x86_64 missing (tests/install-deps --vm)"
	[ -f "$MARS_KO" ] || fail "no module at $MARS_KO (make kmod; for MARS_VM_FLAVOUR, make kmod-flavours)"
	[ -r "/boot/vmlinuz-$(module_kver)" ] ||
		fail "no /boot/vmlinuz-$(module_kver) for mars.ko (tests/install-deps --vm)"
}

skip_if_quick() {
	[ "${MARS_TEST_QUICK:-0}" != 1 ] || skip "booting a guest (--quick)"
}

# TAP from the guest must be complete: a plan and as many ok lines.
assert_tap_complete() {
	local plan count
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<<"$output" | head -n 1)
	[ -n "$plan" ] || fail "no TAP plan in the guest's output"
	count=$(grep -c '^ok ' <<<"$output" || true)
	[ "$count" -eq "$plan" ] ||
		fail "guest ran $count of $plan planned tests successfully"
}
