#!/usr/bin/env bats
# mars.ko smoke test, run inside the VM by tests/bats/70-vm-kmod.bats:
#   tests/vm/run-guest tests/vm/guest/70-kmod-smoke.bats
# Load, control device, versions, the record-core self-test, the ioctl
# size negotiation, unload (refused while in use) and load again.

load guest-helpers

setup_file() {
	guest_require
	SMOKE_MARK=$(kmsg_mark)
	export SMOKE_MARK
}

# Every test starts with the module loaded; tests that unload it leave
# the reload to the next setup.  (Reloading for each test would double
# the run time under emulation without testing more.)
setup() {
	mars_loaded || mars_load
}

teardown_file() {
	mars_unload_quiet
}

@test "insmod registers the module and its control device" {
	run grep '^mars ' /proc/modules
	assert_success
	run stat -c '%F %a' "$MARS_CTL_DEV"
	assert_output "character special file 600"
	[ -d "$MARS_CTL_SYSFS" ]
}

@test "sysfs reports the interface and format versions of the headers" {
	local major minor format
	major=$(header_define ctl.h MARS_CTL_IFACE_MAJOR)
	minor=$(header_define ctl.h MARS_CTL_IFACE_MINOR)
	format=$(header_define logrec.h MARS_REC_VERSION)
	[ -n "$major" ] && [ -n "$minor" ] && [ -n "$format" ]
	run cat "$MARS_CTL_SYSFS/interface_version"
	assert_output "$major.$minor"
	run cat "$MARS_CTL_SYSFS/format_version"
	assert_output "$format"
}

@test "the version ioctl agrees with the headers and the package" {
	local package
	package=$(sed -n 's/^AC_INIT(\[mars\], \[\([^]]*\)\].*/\1/p' \
		"$MARS_SRCDIR/configure.ac")
	[ -n "$package" ]
	run "$MARS_CTL_QUERY" version
	assert_success
	assert_line "interface $(header_define ctl.h MARS_CTL_IFACE_MAJOR).$(header_define ctl.h MARS_CTL_IFACE_MINOR)"
	assert_line "format $(header_define logrec.h MARS_REC_VERSION)"
	assert_line "max_payload_bytes 1048576"
	assert_line "module $package"
	run cat /sys/module/mars/version
	assert_output "$package"
}

@test "the record-core self-test passed at load" {
	assert_selftest_passed
	assert_line "checks $SELFTEST_CHECKS"
	assert_line "first_failure -"
	run dmesg_since "$SMOKE_MARK"
	assert_output --partial "mars: record core self-test passed, $SELFTEST_CHECKS checks"
}

@test "the self-test runs again on request" {
	local mark
	mark=$(kmsg_mark)
	run "$MARS_CTL_QUERY" selftest --run
	assert_success
	assert_line "result 0"
	assert_line "failed 0"
	run dmesg_since "$mark"
	assert_output --partial "mars: record core self-test passed"
}

@test "the control device negotiates argument sizes" {
	run "$MARS_CTL_QUERY" probe 16
	assert_failure
	assert_output "error EINVAL"
	run "$MARS_CTL_QUERY" probe 56
	assert_success
	# A newer client's longer struct: fine while the unknown tail is zero.
	run "$MARS_CTL_QUERY" probe 64
	assert_success
	run "$MARS_CTL_QUERY" probe 64 dirty
	assert_failure
	assert_output "error E2BIG"
}

@test "the control device refuses unknown flags and requests" {
	run "$MARS_CTL_QUERY" probe-flags
	assert_failure
	assert_output "error EINVAL"
	run "$MARS_CTL_QUERY" probe-nr 0x7f
	assert_failure
	assert_output "error ENOTTY"
}

@test "rmmod is refused while the control device is open" {
	local fd
	# Not fd 3: bats owns it.
	exec {fd}<"$MARS_CTL_DEV"
	run rmmod mars
	exec {fd}<&-
	assert_failure
	assert_output --partial "in use"
	mars_loaded
	run rmmod mars
	assert_success
	run mars_loaded
	assert_failure
	[ ! -e "$MARS_CTL_DEV" ]
	[ ! -e "$MARS_CTL_SYSFS" ]
}

@test "the module loads again after unload" {
	rmmod mars
	mars_load
	run cat "$MARS_CTL_SYSFS/selftest"
	assert_output --regexp '^pass [0-9]+$'
	rmmod mars
	mars_load
	run "$MARS_CTL_QUERY" version
	assert_success
}

@test "the kernel log has no warnings or errors from the module" {
	local log=$BATS_TEST_TMPDIR/kmsg
	rmmod mars
	dmesg_since "$SMOKE_MARK" >"$log"
	# The filter below must see the module's lines to mean anything.
	grep -qE '^kern *:info *:.*mars: version' "$log"
	# Loading any unsigned out-of-tree module taints the kernel; expected.
	run bash -c "grep -E '^kern *:(emerg|alert|crit|err|warn) *:' '$log' |
		grep -v -e 'loading out-of-tree module taints kernel' \\
			-e 'module verification failed'"
	refute_output --partial "mars"
	refute_output --regexp "BUG|WARNING|Oops|Call Trace"
}
