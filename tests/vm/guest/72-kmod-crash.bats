#!/usr/bin/env bats
# Crash test of mars.ko, one phase per boot, driven by the host side
# (tests/bats/72-vm-kmod-crash.bats) on the same two disk images:
#   tests/vm/run-guest --keep --disk-image data:DATA.img \
#       --disk-image mars:MARS.img --env MARS_CRASH_PHASE=N \
#       --env MARS_CRASH_DIR=HOSTDIR tests/vm/guest/72-kmod-crash.bats
# Phase 1 makes /mars, goes primary and writes numbered 4 KiB blocks one
# after another, each with fsync, noting every acknowledged block in
# /marsvm/acked (the run directory, written through at once); after a
# random number of blocks it kills the guest (sysrq b: no sync, no
# unmount), usually in the middle of a write.  Phases 2 and 3 boot on the
# same disks, attach as primary recovering from the first logfile, and
# check: every acknowledged block is there, the device holds a prefix
# of the write order (blocks 1..M, zeros after), a new logfile was
# started.  Phase 2 then writes on and crashes again.  HOSTDIR/acked-N
# is the host's copy of phase N's list.

load guest-helpers

RES=crash
BLOCKS=2000
LOG1=log-000000001-$MARS_HOST

setup_file() {
	guest_require
	PHASE=${MARS_CRASH_PHASE:?}
	export PHASE
	modprobe loop
	mkdir -p /mars
	if [ "$PHASE" = 1 ]; then
		mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	fi
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	mkdir -p "/mars/resource-$RES"
	mars_load
	ctl attach "$RES" "$MARS_VM_DISK_data" "/mars/resource-$RES" ||
		fail "attach"
	guest_wait 5 test -b "/dev/mars/$RES"
}

# check_prefix DEV ACKED: the device holds blocks 1..M of the write
# order and zeros after, M >= the last acknowledged block; prints M.
check_prefix() {
	python3 - "$1" "$BLOCKS" "$2" <<'EOF'
import os, sys
dev, blocks, acked_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fd = os.open(dev, os.O_RDONLY)
data = os.pread(fd, (blocks + 1) * 4096, 0)
zero = bytes(4096)
m, hole = 0, 0
for i in range(1, blocks + 1):
    b = data[i * 4096:(i + 1) * 4096]
    if b == ("mars-crash-block-%d" % i).ljust(4095).encode() + b"\n":
        if hole:
            sys.exit("block %d written after hole at block %d" % (i, hole))
        m = i
    elif b == zero:
        hole = hole or i
    else:
        sys.exit("block %d holds neither its pattern nor zeros" % i)
acked = [int(x) for x in open(acked_file).read().split()]
if acked and m < max(acked):
    sys.exit("acknowledged block %d lost (device has 1..%d)" % (max(acked), m))
print(m)
EOF
}

@test "after the crash: recovery keeps every acknowledged write, a prefix, a new logfile" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to recover"
	local acked=$MARS_CRASH_DIR/acked-$((PHASE - 1)) m
	[ -s "$acked" ] || fail "no acknowledged blocks from phase $((PHASE - 1))"
	run ctl primary "$RES" "$MARS_HOST" "$LOG1" 0
	assert_success
	run st "$RES" logfile
	assert_output "log-$(printf %09d "$PHASE")-$MARS_HOST"
	run check_prefix "/dev/mars/$RES" "$acked"
	echo "# phase $PHASE: device holds blocks 1..$output, last acknowledged $(tail -n 1 "$acked")" >&3
	assert_success
	echo "$output" >"$BATS_FILE_TMPDIR/m"
}

write_blocks() {
	local i=$1 blk=$BATS_FILE_TMPDIR/blk
	while [ "$i" -le "$BLOCKS" ]; do
		printf '%-4095s\n' "mars-crash-block-$i" >"$blk"
		dd if="$blk" of="/dev/mars/$RES" bs=4k seek="$i" oflag=direct \
			conv=fsync,notrunc status=none || return 1
		echo "$i" >>/marsvm/acked
		i=$((i + 1))
	done
}

acked_at_least() {
	[ -f /marsvm/acked ] && [ "$(wc -l </marsvm/acked)" -ge "$1" ]
}

@test "write with fsync until the guest is killed" {
	[ "$PHASE" -lt 3 ] || skip "the last phase only checks"
	local start=1 stop
	if [ "$PHASE" = 1 ]; then
		ctl primary "$RES" "$MARS_HOST" || fail "primary"
	else
		start=$(($(cat "$BATS_FILE_TMPDIR/m") + 1))
	fi
	: >/marsvm/acked
	write_blocks "$start" 3>&- &
	stop=$((20 + RANDOM % 40))
	guest_wait 240 acked_at_least "$stop"
	echo b >/proc/sysrq-trigger
	sleep 30
	fail "the guest survived sysrq b"
}
