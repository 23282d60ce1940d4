#!/usr/bin/env bats
# The userspace engine's NBD front end, run inside the VM by
# tests/bats/76-vm-engine-nbd.bats:
#   tests/vm/run-guest --disk data:64M --disk mars:256M \
#       tests/vm/guest/76-engine-nbd.bats
# The guest boots Debian's kernel, which has nbd.ko (the build host's
# kernel has none): `auto` picks NBD here, fio --verify on /dev/nbdN, the
# log rebuilds the disk (mars-engine apply), a flush and a FUA write make
# the log durable (synced_pos == log_end), a mounted ext4 and a plain open
# count in open-count, and a clean stop frees the device.  /mars (the state tree) is an ext4 on the rig disk "mars"; no
# mars.ko is loaded.

load guest-helpers

ENGINE=$MARS_BUILDDIR/engine/mars-engine
HOSTN=nbdhost

setup_file() {
	guest_require
	guest_require_fio
	[ -x "$ENGINE" ] || fail "no $ENGINE (make)"
	mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	mkdir -p /mars
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
}

teardown() {
	eng_stop_quiet
}

teardown_file() {
	umount /mars 2>/dev/null
	return 0
}

# status RES KEY: one field of the engine's status file.
status() {
	sed -n "s/^$2=//p" "/mars/resource-$1/.engine-status" 2>/dev/null
}

status_is() { [ "$(status "$1" "$2")" = "$3" ]; }

# eng_start RES DISK FRONTEND: a primary in the background; returns once
# the status names the device and it is a block device (NBD) or file.
eng_start() {
	local res=$1 disk=$2 fe=$3
	mkdir -p "/tmp/mnt-$res"
	"$ENGINE" primary --resource "$res" --disk "$disk" --mount "/tmp/mnt-$res" \
		--frontend "$fe" --root /mars --host "$HOSTN" \
		2>"$BATS_TEST_TMPDIR/engine-$res.err" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/engine.pid"
	ENG_RES=$res
	guest_wait 30 eng_served "$res"
	DEV=$(status "$res" device)
}

eng_served() {
	local dev
	kill -0 "$(cat "$BATS_TEST_TMPDIR/engine.pid")" 2>/dev/null ||
		fail "the engine ended: $(cat "$BATS_TEST_TMPDIR/engine-$1.err")"
	dev=$(status "$1" device)
	[ -n "$dev" ] && [ -e "$dev" ]
}

# eng_stop: SIGTERM, the engine must exit 0 within the bound.
eng_stop() {
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/engine.pid")
	kill -TERM "$pid"
	guest_wait 60 bash -c "! kill -0 $pid 2>/dev/null"
	wait "$pid" || fail "engine exit $?: $(cat "$BATS_TEST_TMPDIR/engine-$ENG_RES.err")"
	rm -f "$BATS_TEST_TMPDIR/engine.pid"
}

eng_stop_quiet() {
	local pid
	[ -f "$BATS_TEST_TMPDIR/engine.pid" ] || return 0
	pid=$(cat "$BATS_TEST_TMPDIR/engine.pid")
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$BATS_TEST_TMPDIR/engine.pid"
	return 0
}

@test "auto picks NBD here: status frontend=nbd, a free /dev/nbdN, the mount link" {
	truncate -s 16M /tmp/auto.img
	eng_start a1 /tmp/auto.img auto
	run status a1 frontend
	assert_output nbd
	[[ $DEV == /dev/nbd[0-9]* ]] || fail "device '$DEV'"
	test -b "$DEV"
	[ "$(readlink /tmp/mnt-a1/a1)" = "$DEV" ]
	run blockdev --getsize64 "$DEV"
	assert_output $((16 << 20))
	# The kernel sees it connected to us; is-primary only once it is.
	[ -e "/sys/block/${DEV#/dev/}/pid" ]
	run readlink /mars/resource-a1/actual-$HOSTN/is-primary
	assert_output 1
	eng_stop
	# A clean stop disconnects the device and removes the link.
	[ ! -e "/sys/block/${DEV#/dev/}/pid" ]
	[ ! -L /tmp/mnt-a1/a1 ]
	run readlink /mars/resource-a1/actual-$HOSTN/is-primary
	assert_output 0
}

@test "--frontend fuse still serves the FUSE file" {
	modprobe fuse || fail "modprobe fuse"
	truncate -s 8M /tmp/fuse.img
	eng_start f1 /tmp/fuse.img fuse
	run status f1 frontend
	assert_output fuse
	[ "$DEV" = /tmp/mnt-f1/f1 ]
	test -f "$DEV"
	eng_stop
}

@test "fio --verify on /dev/nbdN (random 4k and sequential 1M, fsyncs); the log rebuilds the disk" {
	local disk=$MARS_VM_DISK_data size log
	size=$(blockdev --getsize64 "$disk")
	dd if=/dev/zero of="$disk" bs=1M count=$((size >> 20)) oflag=direct status=none
	eng_start d1 "$disk" nbd
	run fio --name=rand --filename="$DEV" --direct=1 --rw=randwrite --bs=4k \
		--size=16M --ioengine=libaio --iodepth=16 --fsync=32 \
		--verify=crc32c --do_verify=1 --randrepeat=0
	assert_success
	run fio --name=seq --filename="$DEV" --direct=1 --rw=write --bs=1M \
		--offset=16M --size=32M --ioengine=libaio --iodepth=4 --fsync=4 \
		--verify=crc32c --do_verify=1
	assert_success
	eng_stop
	log=/mars/resource-d1/log-000000001-$HOSTN
	[ -s "$log" ]
	[ ! -e /mars/resource-d1/log-000000002-$HOSTN ]
	truncate -s "$size" /tmp/ref.img
	run "$ENGINE" apply --disk /tmp/ref.img --logfile "$log"
	assert_success
	[ "$(md5 /tmp/ref.img)" = "$(md5 "$disk")" ] || fail "the log does not rebuild the disk"
	rm -f /tmp/ref.img
}

@test "a flush and a FUA write make every record durable: synced_pos == log_end" {
	local s0 s1
	truncate -s 16M /tmp/flush.img
	eng_start s1 /tmp/flush.img nbd
	# Plain direct writes: logged, no flush asked for.
	dd if=/dev/urandom of="$DEV" bs=64k count=16 oflag=direct status=none
	guest_wait 10 status_is s1 records 16
	s0=$(status s1 sync_requests)
	# fsync on the block device sends NBD_CMD_FLUSH.
	dd if=/dev/urandom of="$DEV" bs=64k count=4 seek=32 oflag=direct conv=fsync status=none
	guest_wait 10 bash -c "[ \"\$(sed -n 's/^sync_requests=//p' /mars/resource-s1/.engine-status)\" -gt $s0 ]"
	guest_wait 10 bash -c 'f=/mars/resource-s1/.engine-status
		[ "$(sed -n "s/^synced_pos=//p" $f)" = "$(sed -n "s/^log_end=//p" $f)" ]'
	[ "$(status s1 log_end)" -gt 0 ]
	# O_DSYNC direct writes reach NBD as FUA writes: each one a flush.
	s1=$(status s1 sync_requests)
	dd if=/dev/urandom of="$DEV" bs=4k count=8 seek=100 oflag=direct,dsync status=none
	guest_wait 10 bash -c "[ \"\$(sed -n 's/^sync_requests=//p' /mars/resource-s1/.engine-status)\" -ge $((s1 + 8)) ]"
	run status s1 error
	assert_output 0
	eng_stop
}

@test "reads see writes still queued for the disk; out-of-range I/O is refused" {
	truncate -s 8M /tmp/rd.img
	eng_start r1 /tmp/rd.img nbd
	head -c $((1 << 20)) /dev/urandom >/tmp/pat
	dd if=/tmp/pat of="$DEV" bs=256k oflag=direct status=none
	run cmp /tmp/pat <(dd if="$DEV" bs=256k count=4 iflag=direct status=none)
	assert_success
	# The kernel stops I/O past the end itself; the device stays usable.
	run dd if=/dev/zero of="$DEV" bs=4k count=1 seek=$((8 << 8)) oflag=direct status=none
	assert_failure
	run cmp /tmp/pat <(dd if="$DEV" bs=256k count=4 iflag=direct status=none)
	assert_success
	eng_stop
}

@test "ext4 on /dev/nbdN: mounted it counts in open-count, unmounted not; files survive a restart" {
	local sum
	truncate -s 32M /tmp/fs.img
	eng_start m1 /tmp/fs.img nbd
	mkfs.ext4 -q "$DEV" || fail "mkfs.ext4 $DEV"
	mkdir -p /tmp/fs
	mount "$DEV" /tmp/fs || fail "mount $DEV"
	head -c $((1 << 20)) /dev/urandom >/tmp/fs/data
	sum=$(md5sum </tmp/fs/data)
	guest_wait 10 bash -c '[ "$(readlink /mars/resource-m1/actual-nbdhost/open-count)" = 1 ]'
	umount /tmp/fs
	guest_wait 10 bash -c '[ "$(readlink /mars/resource-m1/actual-nbdhost/open-count)" = 0 ]'
	eng_stop
	# Recovery at the next start, then the file system as it was.
	eng_start m1 /tmp/fs.img nbd
	mount "$DEV" /tmp/fs || fail "mount $DEV after a restart"
	[ "$(md5sum </tmp/fs/data)" = "$sum" ]
	umount /tmp/fs
	eng_stop
}

@test "a plain open of /dev/nbdN counts in open-count, and its close no more" {
	local holder
	truncate -s 16M /tmp/plain.img
	eng_start p1 /tmp/plain.img nbd
	# A process that holds the device open and does nothing else (as a
	# database on the raw device would between writes).
	sleep 600 <"$DEV" 3>&- &
	holder=$!
	guest_wait 10 bash -c '[ "$(readlink /mars/resource-p1/actual-nbdhost/open-count)" = 1 ]'
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	guest_wait 10 bash -c '[ "$(readlink /mars/resource-p1/actual-nbdhost/open-count)" = 0 ]'
	eng_stop
}
