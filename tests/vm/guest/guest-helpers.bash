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

# assert_selftest_passed: the loaded module's record-core self-test passed
# with at least 10 checks, as sysfs and the control device say.  Sets
# SELFTEST_CHECKS to the count; leaves the control device's answer in
# $output for further asserts.
assert_selftest_passed() {
	run cat "$MARS_CTL_SYSFS/selftest"
	assert_output --regexp '^pass [0-9]+$'
	SELFTEST_CHECKS=${output#pass }
	[ "$SELFTEST_CHECKS" -ge 10 ] || fail "self-test ran only $SELFTEST_CHECKS checks"
	run "$MARS_CTL_QUERY" selftest
	assert_success
	assert_line "result 0"
	assert_line "failed 0"
}

# ---- resources (the data-path suites, 71-*) ----------------------------

MARS_HOST=vmhost

# ctl ARGS...: the control-device probe (attach, status, ...).
ctl() { "$MARS_CTL_QUERY" "$@"; }

# st RES KEY: one field of `mars-ctl-query status RES`.
st() {
	"$MARS_CTL_QUERY" status "$1" | awk -v k="$2" '$1 == k { print $2 }'
}

st_is() { [ "$(st "$1" "$2")" = "$3" ]; }

# wait_st SECS RES KEY VALUE: bounded wait for a status field.
wait_st() {
	local secs=$1
	shift
	guest_wait "$secs" st_is "$@" ||
		{ "$MARS_CTL_QUERY" status "$1"; return 1; }
}

# mars_root_setup: an ext4 on the rig disk "mars" at /mars, module loaded.
mars_root_setup() {
	mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	mkdir -p /mars
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	modprobe loop || fail "modprobe loop"
	mars_loaded || mars_load
}

# res_new RES SIZE [DISKDEV]: attach RES on DISKDEV, or on a fresh
# zeroed loop device of SIZE whose backing file becomes IMG (with
# DISKDEV, IMG keeps its value: re-attaching the same loop device).
# Records the resource for res_cleanup.  Sets DEV, IMG, RDIR.
res_new() {
	local res=$1 size=$2 disk=${3:-}
	RDIR=/mars/resource-$res
	mkdir -p "$RDIR" /tmp/marsvm-disks
	if [ -z "$disk" ]; then
		IMG=/tmp/marsvm-disks/$res.img
		rm -f "$IMG"
		truncate -s "$size" "$IMG"
		disk=$(losetup --show -f "$IMG") || fail "losetup $IMG"
		echo "$disk" >>/tmp/marsvm-disks/loops
	fi
	echo "$res" >>/tmp/marsvm-disks/resources
	ctl attach "$res" "$disk" "$RDIR" || fail "attach $res on $disk"
	DEV=/dev/mars/$res
	guest_wait 5 test -b "$DEV"
}

# res_cleanup: detach what res_new attached, free the loop devices.
res_cleanup() {
	local r l
	if [ -f /tmp/marsvm-disks/resources ]; then
		while read -r r; do
			mars_loaded && ctl detach "$r" >/dev/null 2>&1
		done </tmp/marsvm-disks/resources
		rm -f /tmp/marsvm-disks/resources
	fi
	if [ -f /tmp/marsvm-disks/loops ]; then
		while read -r l; do
			losetup -d "$l" 2>/dev/null
		done </tmp/marsvm-disks/loops
		rm -f /tmp/marsvm-disks/loops
	fi
	return 0
}

# md5 FILE [BYTES]: md5 of a file or device (its first BYTES).
md5() {
	if [ -n "${2:-}" ]; then
		head -c "$2" "$1" | md5sum | cut -d' ' -f1
	else
		md5sum <"$1" | cut -d' ' -f1
	fi
}

# A missing fio is an error, not a silent pass (tests/install-deps --vm).
guest_require_fio() {
	command -v fio >/dev/null || fail "fio missing (apt-get install fio)"
}

# powerloss_check_acked TAG DEV ACKS: the power-loss test's check that
# every write acknowledged by fsync or RWF_DSYNC in an earlier phase is on
# DEV (ACKS: "PHASE SEQ" lines from the host; $SEQ_WRITER, $SEED and
# $REGION_BYTES from the test).
powerloss_check_acked() {
	echo "# $1: acknowledged seqs of the earlier phases:" \
		"$(tr '\n' ' ' <"$3")" >&3
	run "$SEQ_WRITER" check "$2" "$SEED" "$REGION_BYTES" "$3"
	sed 's/^/# /' <<<"$output" >&3
	assert_success
}

# The processes that must run until the power is cut, one "PID LABEL"
# line each; the last test of 75-powerloss.bats watches them.
POWERLOSS_WATCH=/run/powerloss-watch

# Created by the last test of 75-powerloss.bats once both halves have
# started: the engine's writer begins then.  mars.ko's, thirty times as fast, waits
# for the host's go (/marsvm/go-kmod) once the engine's writer is well
# under way, so that it does not fill its log for long alone: both are
# mid-write when the power goes, and the next boot has little to check.
POWERLOSS_GO=/run/powerloss-go

# powerloss_watch LABEL PID: add PID to the processes watched.
powerloss_watch() {
	[[ "$2" =~ ^[0-9]+$ ]] || fail "powerloss_watch: no pid for '$1'"
	echo "$2 $1" >>"$POWERLOSS_WATCH"
}

# powerloss_writer LABEL GO OUT CMD...: CMD in the background, started
# once the file GO exists (bounded: the guest's own timeout is shorter),
# its output in OUT; watched as LABEL.
powerloss_writer() {
	local label=$1 go=$2 out=$3
	shift 3
	(
		for _ in $(seq 1 3000); do
			[ -e "$go" ] && exec "$@"
			sleep 0.1
		done
		echo "no go within 300 s" >&2
		exit 1
	) >"$out" 2>&1 3>&- &
	powerloss_watch "$label" $!
}
