#!/usr/bin/env bats
# The userspace engine as a primary: a real file system on a loop device
# over the FUSE file, crash recovery after kill -9, rotation, and the
# guards against bad input.  Needs root, /dev/fuse and loop devices.

load helpers
load ../helpers/engine-lib

setup() {
	engine_setup
}

teardown() {
	engine_teardown
}

@test "engine: ext4 on a loop device over the FUSE file, fio verify, logs replay to the same disk" {
	truncate -s 128M "$DISK"
	engine_start
	engine_loop "$MNT/$RES"
	mkfs.ext4 -q -F "$LOOP"
	mkdir "$T/fs"
	engine_mount "$LOOP" "$T/fs"
	cp -r "$MARS_SRCDIR/libmars" "$MARS_SRCDIR/include" "$T/fs/"
	(cd "$MARS_SRCDIR" && find libmars include -type f -exec md5sum {} +) >"$T/sums"
	run fio --name=verify --filename="$T/fs/fio.dat" --size=24M --bs=4k \
		--rw=randwrite --ioengine=psync --verify=crc32c --do_verify=1 --verify_state_save=0 \
		--fsync=64 --output="$T/fio.out"
	[ "$status" -eq 0 ] || { cat "$T/fio.out"; fail "fio failed"; }
	umount "$T/fs"
	# The device may stay busy a moment after umount; retry, bounded.
	wait_for 30 mount -o ro "$LOOP" "$T/fs"
	(cd "$T/fs" && md5sum -c --quiet "$T/sums")
	umount "$T/fs"
	losetup -d "$LOOP"
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]

	# Every logfile verifies, and applying them to zeros gives the disk.
	for f in $(engine_logfiles); do
		run "$MARSADM" log-verify "$RDIR/$f"
		assert_success
	done
	truncate -s 128M "$T/replayed.img"
	engine_apply_all "$T/replayed.img"
	cmp "$T/replayed.img" "$DISK"
	e2fsck -fn "$DISK" >/dev/null
	# The applied position names the last logfile at its end.
	last=$(engine_logfiles | tail -n 1)
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "$last,$(stat -c %s "$RDIR/$last"),0"
}

# Writes wait in memory for their log sync before they reach the disk
# (docs/engine.md); O_DIRECT verify reads that follow the writes closely
# read data still queued, and a queue of 1 MiB makes writers wait.
@test "engine: a 1 MiB writeback queue: O_DIRECT fio verify through FUSE, logs replay to the disk" {
	truncate -s 64M "$DISK"
	engine_start --pending-mib 1
	run fio --name=pending --filename="$MNT/$RES" --size=32M --bs=4k \
		--rw=randwrite --direct=1 --ioengine=psync --numjobs=1 \
		--verify=crc32c --do_verify=1 --verify_backlog=8 --verify_state_save=0 \
		--output="$T/fio.out"
	[ "$status" -eq 0 ] || { cat "$T/fio.out"; fail "fio randwrite failed"; }
	run fio --name=big --filename="$MNT/$RES" --offset=32M --size=16M --bs=1M \
		--rw=write --direct=1 --ioengine=psync --verify=md5 --do_verify=1 \
		--verify_backlog=2 --verify_state_save=0 --output="$T/fio2.out"
	[ "$status" -eq 0 ] || { cat "$T/fio2.out"; fail "fio 1 MiB writes failed"; }
	grep -q '^pending_bytes=' "$RDIR/.engine-status"
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	assert_equal "$(engine_status_field "$RDIR/.engine-status" pending_bytes)" 0
	truncate -s 64M "$T/replayed.img"
	engine_apply_all "$T/replayed.img"
	cmp "$T/replayed.img" "$DISK"
	last=$(engine_logfiles | tail -n 1)
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "$last,$(stat -c %s "$RDIR/$last"),0"
}

# crash_round N: write with fsync after every write, kill -9 the engine
# at a random point, restart, and check durability and the prefix
# property.  Odd rounds also throw away everything the disk got since the
# engine started (the disk image is restored from a copy taken then, with
# the applied position held back), so that recovery has to replay it.
crash_round() {
	local round=$1 want acked nlogs_before
	local blocks=4093 hold="" first=$((PREFIX + 1))

	[ $((round % 2)) -eq 1 ] && hold="--checkpoint-ms 3600000"
	engine_start $hold
	cp "$DISK" "$T/snap.img"
	want=$((first + 100 + RANDOM % 700))
	"$CRASHLOAD" write "$MNT/$RES" "$blocks" 1 "$first" >"$T/acked.out" 2>"$T/load.err" 3>&- &
	load=$!
	echo "$load" >>"$T/cleanup.pids"
	wait_for 60 acked_at_least "$want"
	engine_stop KILL
	wait_for 10 pid_gone "$load"
	wait "$load" || true
	acked=$(tail -n 1 "$T/acked.out" | awk '{print $2}')
	[ -n "$acked" ]
	[ -n "$hold" ] && cp "$T/snap.img" "$DISK"
	nlogs_before=$(engine_logfiles | wc -l)
	engine_start
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	run "$CRASHLOAD" check "$DISK" "$blocks" "$acked"
	echo "round $round: $output (killed after ack $want)"
	assert_success
	PREFIX=$(echo "$output" | awk '{print $2}')
	# Recovery started a fresh logfile instead of appending to the old one.
	[ "$(engine_logfiles | wc -l)" -eq $((nlogs_before + 1)) ]
}

acked_at_least() {
	local n
	n=$(tail -n 1 "$T/acked.out" | awk '{print $2}')
	[ "${n:-0}" -ge "$1" ]
}

@test "engine: kill -9 during fsync'ed writes loses no acknowledged write, device is a prefix" {
	truncate -s 16M "$DISK"
	# Each round continues the write history where the last one ended.
	PREFIX=0
	for round in 1 2 3 4; do
		crash_round "$round"
	done
	# Every logfile is clean, or ends in the torn tail of a crash (7).
	for f in $(engine_logfiles); do
		run "$MARSADM" log-verify "$RDIR/$f"
		[ "$status" -eq 0 ] || [ "$status" -eq 7 ] || fail "$f: $output"
	done
}

# Through one FUSE file the kernel serialises fsync per inode, so little
# grouping shows here; tests/unit/test_engine_logger proves the grouping
# itself.  This checks that every fsync reaches the logger and is counted.
@test "engine: every fsync through FUSE reaches the log sync, counted in the status" {
	truncate -s 16M "$DISK"
	engine_start
	pids=
	for w in 1 2 3 4 5 6 7 8; do
		"$CRASHLOAD" write "$MNT/$RES" 4093 1 $((w * 1000000)) \
			>"$T/acked.$w" 2>/dev/null 3>&- &
		pids="$pids $!"
		echo "$!" >>"$T/cleanup.pids"
	done
	wait_for 60 total_acks_at_least 1000
	kill $pids
	for p in $pids; do wait "$p" || true; done
	acks=$(cat "$T"/acked.* | wc -l)
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	status=$RDIR/.engine-status
	requests=$(engine_status_field "$status" sync_requests)
	syncs=$(engine_status_field "$status" log_syncs)
	echo "acks $acks, fsync requests $requests, log syncs $syncs"
	[ "$requests" -ge "$acks" ]
	[ "$syncs" -le "$requests" ]
	[ "$syncs" -gt 0 ]
}

total_acks_at_least() {
	[ "$(cat "$T"/acked.* | wc -l)" -ge "$1" ]
}

@test "engine: rotation on SIGUSR1 while writing; the log chain replays to the disk" {
	truncate -s 32M "$DISK"
	engine_start
	"$CRASHLOAD" write "$MNT/$RES" 8191 50 >/dev/null 2>&1 3>&- &
	writer=$!
	echo "$writer" >>"$T/cleanup.pids"
	for i in 1 2 3; do
		n=$(engine_logfiles | wc -l)
		wait_for 10 last_logfile_nonempty
		kill -USR1 "$ENGINE_PID"
		wait_for 10 logfiles_more_than "$n"
	done
	kill "$writer"
	wait "$writer" || true
	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=10 seek=100 conv=notrunc,fsync 2>/dev/null
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	[ "$(engine_logfiles | wc -l)" -ge 4 ]
	for f in $(engine_logfiles); do
		run "$MARSADM" log-verify "$RDIR/$f"
		assert_success
	done
	truncate -s 32M "$T/replayed.img"
	engine_apply_all "$T/replayed.img"
	cmp "$T/replayed.img" "$DISK"
}

last_logfile_nonempty() {
	[ "$(stat -c %s "$RDIR/$(engine_logfiles | tail -n 1)")" -gt 0 ]
}

logfiles_more_than() {
	[ "$(engine_logfiles | wc -l)" -gt "$1" ]
}

@test "engine: a second engine on the same resource is refused and changes nothing" {
	truncate -s 16M "$DISK"
	engine_start
	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=16 conv=notrunc,fsync 2>/dev/null
	before=$(ls "$RDIR" | sort)
	mkdir "$T/mnt2"
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$T/mnt2"
	assert_failure 1
	assert_output --partial "in use by another engine"
	assert_equal "$(ls "$RDIR" | sort)" "$before"
	# The first engine still serves.
	dd if="$MNT/$RES" of=/dev/null bs=4k count=16 2>/dev/null
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
}

@test "engine: missing or too small disk, bad names: clear errors, nothing created" {
	run "$ENGINE" primary --resource "$RES" --disk "$T/nope.img" --mount "$MNT"
	assert_failure 1
	assert_output --partial "cannot attach disk '$T/nope.img'"
	assert_output --partial "No such file"
	[ ! -e "$T/nope.img" ]

	truncate -s 1M "$DISK"
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT" --size 2M
	assert_failure 1
	assert_output --partial "is smaller than the resource"
	[ -z "$(engine_logfiles)" ]
	[ "$(stat -c %s "$DISK")" -eq 1048576 ]
	! mountpoint -q "$MNT"

	run "$ENGINE" primary --resource "../x" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "invalid resource name '../x'"
	run "$ENGINE" primary --resource "$RES" --host "Not.Valid" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "invalid host name 'Not.Valid'"
	run "$ENGINE" primary --resource "$RES" --disk "$T" --mount "$MNT"
	assert_failure 1
	assert_output --partial "Is a directory"
	run "$ENGINE" primary --resource "$RES" --disk /dev/null --mount "$MNT"
	assert_failure 1
	assert_output --partial "neither a regular file nor a block device"
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$T/nodir"
	assert_failure 1
	assert_output --partial "cannot use mount point"
	[ -z "$(engine_logfiles)" ]
	run "$ENGINE" primary --resource "$RES" --disk "$DISK"
	assert_failure 2
	assert_output --partial "usage:"
	run "$ENGINE" bogus
	assert_failure 2
}

@test "engine: a resource directory or lock planted as a link is refused, nothing written through it" {
	truncate -s 1M "$DISK"
	mkdir "$T/elsewhere"
	ln -s "$T/elsewhere" "$RDIR"
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "resource-$RES or its .engine-lock in '$MARS_ROOT' is a symbolic link"
	[ -z "$(ls -A "$T/elsewhere")" ]

	rm "$RDIR"
	mkdir "$RDIR"
	ln -s "$T/elsewhere/lock" "$RDIR/.engine-lock"
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "is a symbolic link"
	[ ! -e "$T/elsewhere/lock" ]
	[ -z "$(engine_logfiles)" ]
	! mountpoint -q "$MNT"
}

@test "engine: own logfiles without a replay link are not guessed at" {
	truncate -s 16M "$DISK"
	engine_start
	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=4 conv=notrunc,fsync 2>/dev/null
	engine_stop TERM
	rm "$RDIR/replay-$MARS_HOST"
	md5=$(md5sum <"$DISK")
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "refusing to guess"
	assert_equal "$(md5sum <"$DISK")" "$md5"
}

@test "engine: recovery ignores a torn tail but refuses a corrupt record before valid ones" {
	truncate -s 16M "$DISK"
	engine_start
	for i in 0 1 2 3 4 5; do
		dd if=/dev/urandom of="$MNT/$RES" bs=4k count=1 seek=$((i * 3)) \
			conv=notrunc,fsync 2>/dev/null
	done
	engine_stop TERM
	log=$(engine_logfiles | tail -n 1)
	rec=$((64 + 4096 + 24))
	[ "$(stat -c %s "$RDIR/$log")" -eq $((6 * rec)) ]
	md5=$(md5sum <"$DISK")
	# Pretend the crash came before any checkpoint: recovery from 0.
	ln -sfn "$log,0,0" "$RDIR/replay-$MARS_HOST"
	cp "$RDIR/$log" "$T/log.orig"

	# Torn tail: the last record half written, and a disk that lost
	# everything: the first five writes come back, the sixth does not.
	truncate -s $((5 * rec + 100)) "$RDIR/$log"
	cp "$DISK" "$T/expected.img"
	dd if=/dev/zero of="$T/expected.img" bs=4k count=1 seek=15 conv=notrunc 2>/dev/null
	rm "$DISK"
	truncate -s 16M "$DISK"
	engine_start
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	[ "$(engine_logfiles | tail -n 1)" != "$log" ]
	cmp "$T/expected.img" "$DISK"
	# Recovery cut the torn tail off: the logfile ends at its last record.
	[ "$(stat -c %s "$RDIR/$log")" -eq $((5 * rec)) ]
	"$MARSADM" log-verify "$RDIR/$log" >/dev/null
	cp "$T/expected.img" "$DISK"
	md5=$(md5sum <"$DISK")

	# A corrupt second record with valid ones after it.
	cp "$T/log.orig" "$RDIR/$log"
	ln -sfn "$log,0,0" "$RDIR/replay-$MARS_HOST"
	printf 'X' | dd of="$RDIR/$log" bs=1 seek=$((rec + 64 + 7)) conv=notrunc 2>/dev/null
	nlogs=$(engine_logfiles | wc -l)
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT"
	assert_failure 1
	assert_output --partial "stopped at offset $rec: corrupt (bad-checksum)"
	assert_output --partial "recovery refused"
	[ "$(engine_logfiles | wc -l)" -eq "$nlogs" ]
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "$log,0,0"
	assert_equal "$(md5sum <"$DISK")" "$md5"
}

# The end of the records of logfile $1: what log-verify's stop says.
log_records_end() {
	"$MARSADM" log-verify "$RDIR/$1" 2>/dev/null | sed -n 's/.* at offset \([0-9]*\).*/\1/p'
}

# Zeros ahead of the log end (docs/logfile-format.md 1.1): the logfile
# being written is longer than its records, and every logfile that counts
# as finished (rotated, stopped, recovered after kill -9) ends at its last
# record.
@test "engine: the logfile being written is preallocated; rotation, stop and recovery cut it" {
	truncate -s 16M "$DISK"
	engine_start
	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=4 conv=notrunc,fsync 2>/dev/null
	log=$(engine_logfiles | tail -n 1)
	end=$(log_records_end "$log")
	run "$MARSADM" log-verify "$RDIR/$log"
	assert_failure 7
	assert_output --partial "torn at offset $end (zeroed)"
	# a chunk (4 MiB) of zeros after the records
	[ "$end" -ge $((64 + 4096 + 24)) ]
	[ "$(stat -c %s "$RDIR/$log")" -ge $((end + (2 << 20))) ]

	kill -USR1 "$ENGINE_PID"
	wait_for 10 logfiles_more_than 1
	"$MARSADM" log-verify "$RDIR/$log" >/dev/null
	[ "$(stat -c %s "$RDIR/$log")" -eq "$end" ]

	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=3 seek=100 conv=notrunc,fsync 2>/dev/null
	killed=$(engine_logfiles | tail -n 1)
	end=$(log_records_end "$killed")
	[ "$end" -ge $((64 + 4096 + 24)) ]
	engine_stop KILL
	# kill -9 keeps the page cache: the zeros are still there
	[ "$(stat -c %s "$RDIR/$killed")" -ge $((end + (2 << 20))) ]
	engine_start
	grep -q "recovery cut '.*$killed' at $end bytes" "$T/engine.out"
	"$MARSADM" log-verify "$RDIR/$killed" >/dev/null
	[ "$(stat -c %s "$RDIR/$killed")" -eq "$end" ]

	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=2 seek=200 conv=notrunc,fsync 2>/dev/null
	last=$(engine_logfiles | tail -n 1)
	end=$(log_records_end "$last")
	[ "$(stat -c %s "$RDIR/$last")" -ge $((end + (2 << 20))) ]
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	"$MARSADM" log-verify "$RDIR/$last" >/dev/null
	[ "$(stat -c %s "$RDIR/$last")" -eq "$end" ]
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "$last,$end,0"
	truncate -s 16M "$T/replayed.img"
	engine_apply_all "$T/replayed.img"
	cmp "$T/replayed.img" "$DISK"
}

@test "engine: --prealloc-kib 0 appends to a growing logfile, as before" {
	truncate -s 16M "$DISK"
	engine_start --prealloc-kib 0
	dd if=/dev/urandom of="$MNT/$RES" bs=4k count=3 conv=notrunc,fsync 2>/dev/null
	log=$(engine_logfiles | tail -n 1)
	"$MARSADM" log-verify "$RDIR/$log" >/dev/null
	[ "$(stat -c %s "$RDIR/$log")" -eq "$(log_records_end "$log")" ]
	engine_stop TERM
	run "$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT" --prealloc-kib lots
	assert_failure
}

@test "engine: a full log file system fails the write and leaves the disk unchanged" {
	truncate -s 16M "$DISK"
	mkdir "$T/small"
	mount -t tmpfs -o size=1M tmpfs "$T/small"
	echo "$T/small" >>"$T/cleanup.mounts"
	export MARS_ROOT=$T/small
	RDIR=$MARS_ROOT/resource-$RES
	engine_start
	run dd if=/dev/urandom of="$MNT/$RES" bs=64k count=32 conv=notrunc,fsync
	assert_failure
	engine_stop TERM
	# Whatever was logged is on the disk, and nothing else.
	truncate -s 16M "$T/replayed.img"
	engine_apply_all "$T/replayed.img"
	cmp "$T/replayed.img" "$DISK"
	for f in $(engine_logfiles); do
		run "$MARSADM" log-verify "$RDIR/$f"
		assert_success
	done
}
