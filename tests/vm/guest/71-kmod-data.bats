#!/usr/bin/env bats
# mars.ko's data path, run inside the VM by tests/bats/71-vm-kmod-data.bats:
#   tests/vm/run-guest --disk data:128M --disk mars:256M \
#       tests/vm/guest/71-kmod-data.bats
# Attach/detach and their errors, primary mode (logging, group commit,
# rotation, recovery), replay mode (test vector, growing file, corrupt
# record) and the cross-checks with the userspace tools: every logfile
# the module writes passes `marsadm log-verify` and applies in userspace
# (mars-engine apply) to the module's disk, byte for byte, and a logfile
# the userspace engine wrote replays in the module to the engine's disk.
#
# Resources sit on loop devices over files in the guest's tmpfs, except
# the filesystem test, which uses the rig disk "data"; /mars is an ext4
# on the rig disk "mars".

load guest-helpers

MARSADM=$MARS_BUILDDIR/marsadm/marsadm
ENGINE=$MARS_BUILDDIR/engine/mars-engine
VECTOR=$MARS_SRCDIR/tests/vectors/basic.log
LOG1=log-000000001-$MARS_HOST
LOG2=log-000000002-$MARS_HOST

setup_file() {
	guest_require
	[ -x "$MARSADM" ] || fail "no $MARSADM (make)"
	[ -x "$ENGINE" ] || fail "no $ENGINE (make)"
	mars_root_setup
	DATA_MARK=$(kmsg_mark)
	export DATA_MARK
}

teardown() {
	res_cleanup
}

teardown_file() {
	res_cleanup
	umount /mars 2>/dev/null
	mars_unload_quiet
}

# ref_apply SIZE OUT LOGFILE...: a zeroed image of SIZE with the
# logfiles applied by the userspace engine.
ref_apply() {
	local size=$1 out=$2 f
	shift 2
	rm -f "$out"
	truncate -s "$size" "$out"
	for f in "$@"; do
		"$ENGINE" apply --disk "$out" --logfile "$f" ||
			fail "mars-engine apply $f failed"
	done
}

# fsync'd writes of a random pattern: PAT_FILE at byte 0 of the device.
write_pattern() {
	local dev=$1 bytes=$2 pat=$3
	head -c "$bytes" /dev/urandom >"$pat"
	dd if="$pat" of="$dev" bs=64k oflag=direct conv=fsync status=none
}

@test "attach creates /dev/mars/<res>, sized, readable, read-only until primary" {
	res_new a1 8M
	run blockdev --getsize64 "$DEV"
	assert_output $((8 << 20))
	run blockdev --getro "$DEV"
	assert_output 1
	run st a1 mode
	assert_output attached
	run dd if="$DEV" of=/dev/null bs=4k count=4 iflag=direct status=none
	assert_success
	run dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none
	assert_failure
	run ctl detach a1
	assert_success
	[ ! -e "$DEV" ]
	run ctl status a1
	assert_output "error ENOENT"
}

@test "bad requests get clear error codes" {
	res_new b1 8M
	local loop
	loop=$(losetup -j "$IMG" | cut -d: -f1)
	run ctl attach b1 "$loop" "$RDIR"
	assert_output "error EEXIST"
	run ctl detach nosuch
	assert_output "error ENOENT"
	run ctl rotate nosuch
	assert_output "error ENOENT"
	run ctl attach 'a/b' "$loop" /mars/resource-a
	assert_output "error EINVAL"
	mkdir -p /mars/resource-b2 /mars/wrong
	truncate -s 8M "$BATS_TEST_TMPDIR/plain.img"
	losetup -f "$BATS_TEST_TMPDIR/plain.img"
	local loop2
	loop2=$(losetup -j "$BATS_TEST_TMPDIR/plain.img" | cut -d: -f1)
	echo "$loop2" >>/tmp/marsvm-disks/loops
	# The directory must be what it claims: resource-<res>.
	run ctl attach b2 "$loop2" /mars/wrong
	assert_output "error EINVAL"
	# The disk must be a block device.
	run ctl attach b2 "$BATS_TEST_TMPDIR/plain.img" /mars/resource-b2
	assert_output "error EINVAL"
	run ctl attach b2 /dev/no-such-disk /mars/resource-b2
	assert_output "error ENOENT"
	# A disk held by another resource is busy.
	run ctl attach b2 "$loop" /mars/resource-b2
	assert_output "error EBUSY"
	run ctl attach b2 "$loop2" /mars/resource-b2 $((16 << 20))
	assert_output "error ENOSPC"
	run ctl attach b2 "$loop2" /mars/resource-b2 1000
	assert_output "error EINVAL"
	run ctl probe-attach-flags
	assert_output "error EINVAL"
	# A pending limit must be at least 1 MiB.
	run ctl attach b2 "$loop2" /mars/resource-b2 0 0
	assert_output "error EINVAL"
	run ctl rotate b1
	assert_output "error EINVAL"
	run ctl replay b1 log-000000001-x
	assert_output "error ENOENT"
	run ctl replay b1 not-a-logfile
	assert_output "error EINVAL"
	run ctl primary b1 "$MARS_HOST" "log-000000009-$MARS_HOST" 0
	assert_output "error ENOENT"
	# Own logfiles but no start position: refuse to guess.
	: >"$RDIR/log-000000005-$MARS_HOST"
	run ctl primary b1 "$MARS_HOST"
	assert_output "error EUCLEAN"
	run ctl primary b1 "$MARS_HOST" "log-000000005-$MARS_HOST" 3
	assert_output "error EINVAL"
	run st b1 mode
	assert_output attached
}

@test "detach, mode changes and rmmod are refused while the device is open" {
	local fd
	res_new o1 8M
	exec {fd}<"$DEV"
	run ctl detach o1
	assert_output "error EBUSY"
	run ctl primary o1 "$MARS_HOST"
	assert_output "error EBUSY"
	run rmmod mars
	assert_failure
	run st o1 open_count
	assert_output 1
	exec {fd}<&-
	run st o1 open_count
	assert_output 0
	run ctl detach o1
	assert_success
	[ ! -e /dev/mars/o1 ]
}

@test "primary: writes are logged and read back; the log verifies and replays in userspace to the same disk" {
	res_new p1 16M
	run ctl primary p1 "$MARS_HOST"
	assert_success
	run st p1 logfile
	assert_output "$LOG1"
	run blockdev --getro "$DEV"
	assert_output 0
	write_pattern "$DEV" $((3 << 20)) "$BATS_TEST_TMPDIR/pat"
	# A 1.5 MiB write: two records.  Sector-sized writes at odd places.
	head -c $((1536 << 10)) /dev/urandom >"$BATS_TEST_TMPDIR/big"
	dd if="$BATS_TEST_TMPDIR/big" of="$DEV" bs=1536k seek=5 oflag=direct,dsync status=none
	head -c 1536 /dev/urandom | dd of="$DEV" bs=512 seek=20001 oflag=direct,dsync status=none
	run cmp "$BATS_TEST_TMPDIR/pat" <(head -c $((3 << 20)) "$DEV")
	assert_success
	run cmp "$BATS_TEST_TMPDIR/big" <(dd if="$DEV" bs=1536k skip=5 count=1 iflag=direct status=none)
	assert_success
	[ "$(st p1 records)" -ge 4 ]
	[ "$(st p1 log_syncs)" -ge 1 ]
	run st p1 last_error
	assert_output 0
	local end
	end=$(st p1 log_end)
	ctl detach p1
	# Finished: the file ends at its last record (preallocation cut off).
	[ "$(stat -c %s "$RDIR/$LOG1")" = "$end" ]
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	echo "$output"
	assert_success
	ref_apply 16M "$BATS_TEST_TMPDIR/ref.img" "$RDIR/$LOG1"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

prealloc_restore() { echo 4096 >/sys/module/mars/parameters/prealloc_kib; }

# zeros_after FILE END: every byte of FILE from END on is zero, and there
# is at least one.
zeros_after() {
	local size
	size=$(stat -c %s "$1")
	[ "$size" -gt "$2" ] || { echo "$1: $size bytes, log end $2: no zeros"; return 1; }
	cmp <(tail -c +$(($2 + 1)) "$1") <(head -c $((size - $2)) /dev/zero)
}

@test "preallocation: the logfile being written carries zeros after its log end; rotation and detach cut them off" {
	local end1 end2
	run cat /sys/module/mars/parameters/prealloc_kib
	assert_output 4096
	res_new z1 16M
	ctl primary z1 "$MARS_HOST"
	write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	end1=$(st z1 log_end)
	[ "$(st z1 synced_pos)" = "$end1" ]
	# A chunk (4 MiB) of zeros was laid down after the first batch.
	[ "$(stat -c %s "$RDIR/$LOG1")" -ge $((4 << 20)) ]
	run zeros_after "$RDIR/$LOG1" "$end1"
	assert_success
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	echo "$output"
	[ "$status" = 7 ]
	assert_output --partial "torn at offset $end1 (zeroed)"
	# Rotation finishes logfile 1 before STATUS names 2.
	ctl rotate z1
	run st z1 logfile
	assert_output "$LOG2"
	[ "$(stat -c %s "$RDIR/$LOG1")" = "$end1" ]
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
	# Logfile 2 stays empty until its first record, then is preallocated.
	[ "$(stat -c %s "$RDIR/$LOG2")" = 0 ]
	dd if="$BATS_TEST_TMPDIR/a" of="$DEV" bs=64k seek=32 oflag=direct conv=fsync status=none
	end2=$(st z1 log_end)
	run zeros_after "$RDIR/$LOG2" "$end2"
	assert_success
	ctl detach z1
	[ "$(stat -c %s "$RDIR/$LOG2")" = "$end2" ]
	run "$MARSADM" log-verify "$RDIR/$LOG2"
	assert_success
	ref_apply 16M "$BATS_TEST_TMPDIR/ref.img" "$RDIR/$LOG1" "$RDIR/$LOG2"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "preallocation off (prealloc_kib 0): the logfile grows record by record" {
	echo 0 >/sys/module/mars/parameters/prealloc_kib
	res_new z2 16M
	ctl primary z2 "$MARS_HOST"
	run write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	prealloc_restore
	assert_success
	[ "$(stat -c %s "$RDIR/$LOG1")" = "$(st z2 log_end)" ]
	ctl detach z2
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
}

@test "primary with first_nr: a fresh start at that number, never below what the directory holds" {
	# create-resource of a resource made before starts 100000 higher;
	# own logfiles of the earlier incarnation are left alone.
	res_new f1 8M
	: >"$RDIR/log-000000003-$MARS_HOST"
	run ctl primary f1 "$MARS_HOST" --first 100001
	assert_success
	run st f1 logfile
	assert_output "log-000100001-$MARS_HOST"
	[ -e "$RDIR/log-000100001-$MARS_HOST" ]
	# A floor only: another origin's logfile 7 here makes it 8.
	res_new f2 8M
	: >"$RDIR/log-000000007-other"
	run ctl primary f2 "$MARS_HOST" --first 3
	assert_success
	run st f2 logfile
	assert_output "log-000000008-$MARS_HOST"
	# An own logfile at or past first_nr: refuse to guess, as without.
	res_new f4 8M
	: >"$RDIR/log-000000009-$MARS_HOST"
	run ctl primary f4 "$MARS_HOST" --first 9
	assert_output "error EUCLEAN"
	# Beyond nine digits: refused, the resource stays attached.
	res_new f3 8M
	run ctl primary f3 "$MARS_HOST" --first 1000000000
	assert_output "error ERANGE"
	run st f3 mode
	assert_output attached
}

@test "group commit: concurrent synchronous writers share log syncs" {
	guest_require_fio
	res_new g1 32M
	ctl primary g1 "$MARS_HOST"
	run fio --name=gc --filename="$DEV" --rw=randwrite --bs=4k --size=4M \
		--io_size=256k --numjobs=8 --ioengine=psync --direct=1 --sync=1 \
		--offset_increment=4M --group_reporting --minimal
	assert_success
	local req syncs
	req=$(st g1 sync_requests)
	syncs=$(st g1 log_syncs)
	echo "# sync requests $req, log syncs $syncs" >&3
	[ "$req" -ge 512 ]
	[ "$syncs" -lt "$req" ]
	ctl detach g1
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
}

# disk_cmp FILE DISK: the first bytes of the underlying DISK equal FILE
# (read past every cache).
disk_cmp() {
	cmp "$1" <(dd if="$2" bs=64k count=$(($(stat -c %s "$1") >> 16)) \
		iflag=direct status=none)
}

# applied_at_end RES: the checkpoint published the end of the log.
applied_at_end() {
	[ "$(st "$1" applied_logfile)" = "$(st "$1" logfile)" ] &&
		[ "$(st "$1" applied_pos)" = "$(st "$1" log_end)" ]
}

sync_ms_restore() { echo 10 >/sys/module/mars/parameters/sync_ms; }

@test "log first: a write completes from the log, reaches the disk only after the log sync, and reads come from memory meanwhile" {
	res_new w1 16M
	local loop pat=$BATS_TEST_TMPDIR/pat zero=$BATS_TEST_TMPDIR/zero
	loop=$(tail -n 1 /tmp/marsvm-disks/loops)
	# No sync by time: only a flush (or full pending memory) syncs.
	echo 600000 >/sys/module/mars/parameters/sync_ms
	ctl primary w1 "$MARS_HOST"
	head -c $((1 << 20)) /dev/urandom >"$pat"
	head -c $((1 << 20)) /dev/zero >"$zero"
	run dd if="$pat" of="$DEV" bs=64k oflag=direct status=none
	assert_success
	# Completed, but not durable: the disk must not have it, reads must.
	[ "$(st w1 log_end)" -gt "$(st w1 synced_pos)" ] || { sync_ms_restore; fail "the log was synced"; }
	[ "$(st w1 pending_bytes)" = $((1 << 20)) ] || { sync_ms_restore; fail "pending $(st w1 pending_bytes)"; }
	run disk_cmp "$zero" "$loop"
	[ "$status" = 0 ] || { sync_ms_restore; fail "the disk holds a write whose record is not durable"; }
	run cmp "$pat" <(dd if="$DEV" bs=64k count=16 iflag=direct status=none)
	[ "$status" = 0 ] || { sync_ms_restore; fail "a read did not see the completed write"; }
	run st w1 applied_pos
	[ "$output" = 0 ] || { sync_ms_restore; fail "applied position $output passed the durable end"; }
	# A flush makes the records durable; writeback and a checkpoint follow.
	run sync "$DEV"
	sync_ms_restore
	assert_success
	[ "$(st w1 synced_pos)" = "$(st w1 log_end)" ]
	wait_st 10 w1 pending_bytes 0
	run disk_cmp "$pat" "$loop"
	assert_success
	guest_wait 10 applied_at_end w1
	# Without any flush, the time bound (sync_ms) syncs and writes back.
	head -c $((1 << 20)) /dev/urandom >"$pat"
	dd if="$pat" of="$DEV" bs=64k oflag=direct status=none
	wait_st 10 w1 pending_bytes 0
	run disk_cmp "$pat" "$loop"
	assert_success
	guest_wait 10 applied_at_end w1
	[ "$(st w1 synced_pos)" = "$(st w1 log_end)" ]
}

@test "backpressure: a 1 MiB pending limit holds, writers wait and never fail" {
	local loop img=/tmp/marsvm-disks/bp.img pat=$BATS_TEST_TMPDIR/pat
	RDIR=/mars/resource-bp
	mkdir -p "$RDIR"
	truncate -s 32M "$img"
	loop=$(losetup --show -f "$img") || fail "losetup"
	echo "$loop" >>/tmp/marsvm-disks/loops
	echo bp >>/tmp/marsvm-disks/resources
	run ctl attach bp "$loop" "$RDIR" 0 1
	assert_success
	guest_wait 5 test -b /dev/mars/bp
	run st bp pending_limit_bytes
	assert_output $((1 << 20))
	ctl primary bp "$MARS_HOST"
	head -c $((16 << 20)) /dev/urandom >"$pat"
	run dd if="$pat" of=/dev/mars/bp bs=256k oflag=direct status=none
	assert_success
	run cmp "$pat" <(head -c $((16 << 20)) /dev/mars/bp)
	assert_success
	local peak
	peak=$(st bp pending_peak_bytes)
	echo "# pending high-water mark $peak bytes, limit $((1 << 20))" >&3
	[ "$peak" -gt 0 ] && [ "$peak" -le $((1 << 20)) ]
	ctl detach bp
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
	ref_apply 32M "$BATS_TEST_TMPDIR/ref.img" "$RDIR/$LOG1"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$img")" ]
}

# applied_within_durable RES: when the applied position is in the logfile
# being written, it is at or before the durable end; prints both.
applied_within_durable() {
	local out applied synced
	out=$("$MARS_CTL_QUERY" status "$1")
	applied=$(awk '$1 == "applied_pos" { print $2 }' <<<"$out")
	synced=$(awk '$1 == "synced_pos" { print $2 }' <<<"$out")
	[ "$(awk '$1 == "applied_logfile" { print $2 }' <<<"$out")" != \
	  "$(awk '$1 == "logfile" { print $2 }' <<<"$out")" ] ||
		[ "$applied" -le "$synced" ] ||
		{ echo "applied $applied > durable $synced"; return 1; }
}

@test "under load the applied position never passes the durable end of the log" {
	guest_require_fio
	res_new a1 64M
	ctl primary a1 "$MARS_HOST"
	fio --name=ad --filename="$DEV" --rw=randwrite --bs=4k --size=32M \
		--ioengine=psync --direct=1 --fsync=16 --time_based --runtime=8 \
		--minimal >/dev/null &
	local fio=$! i moved=0 last=0 a
	for i in $(seq 1 60); do
		run applied_within_durable a1
		[ "$status" = 0 ] || { kill "$fio"; wait "$fio"; fail "$output"; }
		a=$(st a1 applied_pos)
		[ "$a" = "$last" ] || moved=$((moved + 1))
		last=$a
		sleep 0.1
	done
	wait "$fio" || fail "fio failed"
	echo "# the applied position moved $moved times in 60 samples" >&3
	[ "$moved" -ge 2 ]
	guest_wait 10 applied_at_end a1
}

@test "ext4 and fio --verify on /dev/mars; the module's log rebuilds its disk exactly" {
	guest_require_fio
	local mnt=$BATS_TEST_TMPDIR/mnt size=$((128 << 20))
	[ "$(blockdev --getsize64 "$MARS_VM_DISK_data")" = "$size" ]
	res_new d1 0 "$MARS_VM_DISK_data"
	ctl primary d1 "$MARS_HOST"
	run mkfs.ext4 -q -F "$DEV"
	assert_success
	mkdir -p "$mnt"
	mount -t ext4 "$DEV" "$mnt"
	cp -r "$MARS_SRCDIR/kmod" "$mnt/kmod"
	(cd "$MARS_SRCDIR/kmod" && md5sum ./*.c ./*.h) >"$BATS_TEST_TMPDIR/sums"
	run fio --name=verify --filename="$mnt/fio.dat" --size=4M --rw=randwrite \
		--bs=4k --ioengine=psync --direct=1 --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --fsync=16
	echo "$output" | tail -n 5
	assert_success
	run bash -c "cd '$mnt/kmod' && md5sum -c --quiet '$BATS_TEST_TMPDIR/sums'"
	assert_success
	sync
	umount "$mnt"
	ctl rotate d1
	run st d1 logfile
	assert_output "$LOG2"
	run ctl detach d1
	assert_success
	run "$MARSADM" log-verify "/mars/resource-d1/$LOG1"
	assert_success
	ref_apply "$size" "$BATS_TEST_TMPDIR/ref.img" "/mars/resource-d1/$LOG1" \
		"/mars/resource-d1/$LOG2"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = \
	  "$(dd if="$MARS_VM_DISK_data" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1)" ]
	# Attached again (read-only), the filesystem is there.
	res_new d1 0 "$MARS_VM_DISK_data"
	mount -t ext4 -o ro "$DEV" "$mnt"
	run bash -c "cd '$mnt/kmod' && md5sum -c --quiet '$BATS_TEST_TMPDIR/sums'"
	umount "$mnt"
	assert_success
}

@test "rotation: a no-op on an empty logfile, else writes continue in N+1" {
	res_new t1 8M
	ctl primary t1 "$MARS_HOST"
	ctl rotate t1
	run st t1 logfile
	assert_output "$LOG1"
	write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	ctl rotate t1
	run st t1 logfile
	assert_output "$LOG2"
	[ -f "$RDIR/$LOG2" ]
	dd if="$BATS_TEST_TMPDIR/a" of="$DEV" bs=64k seek=32 oflag=direct conv=fsync status=none
	[ "$(st t1 log_end)" -gt 0 ]
	# The applied position follows to the new file within a checkpoint.
	wait_st 10 t1 applied_logfile "$LOG2"
	ctl detach t1
	ref_apply 8M "$BATS_TEST_TMPDIR/ref.img" "$RDIR/$LOG1" "$RDIR/$LOG2"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "recovery applies own logfiles from the given position, ignores a torn tail, starts N+1" {
	res_new r1 8M
	ctl primary r1 "$MARS_HOST"
	write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	ctl rotate r1
	head -c $((1 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/b"
	dd if="$BATS_TEST_TMPDIR/b" of="$DEV" bs=64k seek=16 oflag=direct conv=fsync status=none
	ctl detach r1
	local want
	want=$(md5 "$IMG")
	# The disk lost everything; the second logfile ends in a torn record.
	dd if=/dev/zero of="$IMG" bs=1M count=8 conv=notrunc status=none
	head -c 100 "$RDIR/$LOG1" >>"$RDIR/$LOG2"
	res_new r1 0 "$(losetup -j "$IMG" | cut -d: -f1)"
	run ctl primary r1 "$MARS_HOST" "$LOG1" 0
	assert_success
	[ "$(md5 "$IMG")" = "$want" ]
	run st r1 logfile
	assert_output "log-000000003-$MARS_HOST"
	run st r1 stop_result
	assert_output incomplete
	[ "$(st r1 records)" -ge 32 ]
	cmp "$BATS_TEST_TMPDIR/a" <(head -c $((1 << 20)) "$DEV")
	# The torn tail is cut off: logfile 2 is finished.
	[ "$(stat -c %s "$RDIR/$LOG2")" = "$(st r1 stop_offset)" ]
	run "$MARSADM" log-verify "$RDIR/$LOG2"
	assert_success
}

@test "recovery cuts a crash's preallocated zeros and torn record at the last valid record" {
	local end mark
	res_new r3 8M
	ctl primary r3 "$MARS_HOST"
	write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	end=$(st r3 log_end)
	ctl detach r3
	# What a crash leaves: a record whose marker never came, then zeros.
	head -c 65600 "$RDIR/$LOG1" >>"$RDIR/$LOG1"
	truncate -s +4M "$RDIR/$LOG1"
	res_new r3 0 "$(losetup -j "$IMG" | cut -d: -f1)"
	mark=$(kmsg_mark)
	run ctl primary r3 "$MARS_HOST" "$LOG1" 0
	assert_success
	run st r3 stop_result
	assert_output torn
	[ "$(st r3 stop_offset)" = "$end" ]
	[ "$(stat -c %s "$RDIR/$LOG1")" = "$end" ]
	run dmesg_since "$mark"
	assert_output --partial "cut $LOG1 at $end"
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
	cmp "$BATS_TEST_TMPDIR/a" <(head -c $((1 << 20)) "$DEV")
}

@test "recovery refuses a log damaged before valid records (EBADMSG) and applies nothing after it" {
	res_new r2 8M
	ctl primary r2 "$MARS_HOST"
	write_pattern "$DEV" $((1 << 20)) "$BATS_TEST_TMPDIR/a"
	ctl detach r2
	dd if=/dev/zero of="$IMG" bs=1M count=8 conv=notrunc status=none
	# Flip a payload byte of the second record (records are 64 KiB + 88).
	printf '\xff' | dd of="$RDIR/$LOG1" bs=1 seek=$((65624 + 100)) conv=notrunc status=none
	res_new r2 0 "$(losetup -j "$IMG" | cut -d: -f1)"
	run ctl primary r2 "$MARS_HOST" "$LOG1" 0
	assert_output "error EBADMSG"
	run st r2 mode
	assert_output attached
	run st r2 stop_reason
	assert_output bad-checksum
	run st r2 stop_offset
	assert_output 65624
	run st r2 last_error
	assert_output EBADMSG
	head -c 65624 "$RDIR/$LOG1" >"$BATS_TEST_TMPDIR/prefix.log"
	ref_apply 8M "$BATS_TEST_TMPDIR/ref.img" "$BATS_TEST_TMPDIR/prefix.log"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "replay: the shared test vector gives the image the userspace engine gives" {
	res_new v1 16M
	cp "$VECTOR" "$RDIR/log-000000001-vec"
	run ctl replay v1 log-000000001-vec
	assert_success
	wait_st 20 v1 replay_state waiting
	run st v1 mode
	assert_output replay
	run st v1 records
	assert_output 8
	run st v1 stop_result
	assert_output end
	[ "$(st v1 stop_offset)" = "$(stat -c %s "$VECTOR")" ]
	wait_st 10 v1 applied_pos "$(stat -c %s "$VECTOR")"
	run dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none
	assert_failure
	ref_apply 16M "$BATS_TEST_TMPDIR/ref.img" "$VECTOR"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" != "$(md5 /dev/zero $((16 << 20)))" ]
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "replay follows a growing logfile; an incomplete tail waits" {
	res_new f1 16M
	local log=$RDIR/log-000000001-vec
	# Two records and the start of the third (it begins at 4784).
	head -c 4800 "$VECTOR" >"$log"
	ctl replay f1 log-000000001-vec
	wait_st 20 f1 records 2
	wait_st 10 f1 replay_state waiting
	run st f1 stop_result
	assert_output incomplete
	run st f1 stop_offset
	assert_output 4784
	tail -c +4801 "$VECTOR" >>"$log"
	wait_st 20 f1 records 8
	wait_st 10 f1 stop_result end
	ref_apply 16M "$BATS_TEST_TMPDIR/ref.img" "$VECTOR"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "a corrupt record stops replay with offset and reason; nothing after it is applied" {
	local mark
	res_new c1 16M
	local log=$RDIR/log-000000001-vec
	cp "$VECTOR" "$log"
	# A payload byte of the fourth record (at 4880).
	printf '\x5a' | dd of="$log" bs=1 seek=$((4880 + 64 + 3)) conv=notrunc status=none
	mark=$(kmsg_mark)
	ctl replay c1 log-000000001-vec
	wait_st 20 c1 replay_state stopped
	run st c1 stop_result
	assert_output corrupt
	run st c1 stop_reason
	assert_output bad-checksum
	run st c1 stop_offset
	assert_output 4880
	run st c1 records
	assert_output 3
	run st c1 applied_pos
	assert_output 4880
	run dmesg_since "$mark"
	assert_output --partial "replay of log-000000001-vec stopped at 4880: corrupt (bad-checksum)"
	head -c 4880 "$VECTOR" >"$BATS_TEST_TMPDIR/prefix.log"
	ref_apply 16M "$BATS_TEST_TMPDIR/ref.img" "$BATS_TEST_TMPDIR/prefix.log"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
}

@test "a logfile written by the userspace engine replays in the module to the engine's disk" {
	local root=$BATS_TEST_TMPDIR/root mnt=$BATS_TEST_TMPDIR/mnt pid
	modprobe fuse || fail "modprobe fuse"
	mkdir -p "$root" "$mnt"
	truncate -s 16M "$BATS_TEST_TMPDIR/eng.img"
	"$ENGINE" primary --resource e1 --disk "$BATS_TEST_TMPDIR/eng.img" \
		--mount "$mnt" --frontend fuse --root "$root" --host eng 3>&- &
	pid=$!
	guest_wait 20 test -f "$mnt/e1"
	head -c $((2 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/pat"
	dd if="$BATS_TEST_TMPDIR/pat" of="$mnt/e1" bs=64k conv=fsync,notrunc status=none
	printf 'tail' | dd of="$mnt/e1" bs=1 seek=$((9 << 20)) conv=fsync,notrunc status=none
	kill -TERM "$pid"
	guest_wait 20 bash -c "! kill -0 $pid 2>/dev/null"
	wait "$pid" || true
	local elog=$root/resource-e1/log-000000001-eng
	[ -s "$elog" ]
	res_new x1 16M
	cp "$elog" "$RDIR/log-000000001-eng"
	ctl replay x1 log-000000001-eng
	wait_st 20 x1 stop_offset "$(stat -c %s "$elog")"
	wait_st 10 x1 replay_state waiting
	wait_st 10 x1 applied_pos "$(stat -c %s "$elog")"
	[ "$(md5 "$BATS_TEST_TMPDIR/eng.img")" = "$(md5 "$IMG")" ]
}

@test "rmmod detaches resources that are not open, their logs synced" {
	res_new u1 8M
	ctl primary u1 "$MARS_HOST"
	write_pattern "$DEV" $((256 << 10)) "$BATS_TEST_TMPDIR/a"
	run rmmod mars
	assert_success
	[ ! -e /dev/mars/u1 ]
	: >/tmp/marsvm-disks/resources
	run "$MARSADM" log-verify "$RDIR/$LOG1"
	assert_success
	ref_apply 8M "$BATS_TEST_TMPDIR/ref.img" "$RDIR/$LOG1"
	[ "$(md5 "$BATS_TEST_TMPDIR/ref.img")" = "$(md5 "$IMG")" ]
	mars_load
}

@test "the kernel log has no warnings or errors from the data path" {
	local log=$BATS_TEST_TMPDIR/kmsg
	dmesg_since "$DATA_MARK" >"$log"
	grep -q 'mars: .*attached' "$log"
	run bash -c "grep -E '^kern *:(emerg|alert|crit|warn) *:' '$log'"
	refute_output --regexp "BUG|WARNING|Oops|Call Trace|mars: .*failed"
}
