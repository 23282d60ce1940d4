# Shared setup for the bats files that run inside the VM (tests/vm/guest/).
# Sourced with `load guest-helpers`.  The rig (tests/vm/run-guest) exports:
#   MARS_KO          the module under test
#   MARS_CTL_QUERY   the control-device probe (tests/vm/mars-ctl-query)
#   MARS_SRCDIR, MARS_BUILDDIR   the trees, at the host's paths
#   MARS_VM_DISK_<NAME>          one block device per --disk NAME:SIZE

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

MARS_CTL_DEV=/dev/mars-control
MARS_CTL_SYSFS=/sys/class/misc/mars-control

# Refuse to run anywhere but in the rig's guest: these tests load
# modules as root.
guest_require() {
	[ -f /marsvm/job ] ||
		fail "not inside the MARS VM; run via tests/vm/run-guest"
	[ -f "${MARS_KO:-}" ] || fail "MARS_KO '${MARS_KO:-}' is not a file"
	[ -x "${MARS_CTL_QUERY:-}" ] ||
		fail "MARS_CTL_QUERY '${MARS_CTL_QUERY:-}' is not executable"
}

# guest_wait TIMEOUT_S CMD...: retry CMD until it succeeds, bounded.
guest_wait() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "condition not reached within ${timeout}s: $*"
		sleep 0.1
	done
}

mars_loaded() { grep -q '^mars ' /proc/modules; }

mars_load() {
	insmod "$MARS_KO" "$@" || fail "insmod $MARS_KO failed"
	guest_wait 5 test -c "$MARS_CTL_DEV"
}

mars_unload_quiet() {
	if mars_loaded; then
		rmmod mars
	fi
}

# kmsg_mark: write a unique line into the kernel log and print it, so a
# test can look at what the kernel said after that point (dmesg_since)
# without clearing the log the rig checks at the end.
kmsg_mark() {
	local mark="marsvm-mark-$$-$RANDOM$RANDOM"
	echo "$mark" >/dev/kmsg
	echo "$mark"
}

# dmesg_since MARK: kernel log lines after MARK, as "facility:level: text".
dmesg_since() {
	dmesg -x | awk -v mark="$1" 'seen { print } index($0, mark) { seen = 1 }'
}

# header_define FILE NAME: the value of a #define in a shared header, so
# that tests compare the module against the contract, not a copy of it.
header_define() {
	awk -v name="$2" '$1 == "#define" && $2 == name { print $3; exit }' \
		"$MARS_SRCDIR/include/mars/$1"
}
