#!/usr/bin/env bats
# Power-loss test of the userspace engine, one phase per boot, driven by
# the host side (tests/bats/77-vm-engine-powerloss.bats), which kills qemu
# with SIGKILL in the middle of the write phase and keeps the disk images
# exactly as the guest left them:
#   tests/vm/run-guest --disk-image data:DATA.img --disk-image mars:MARS.img \
#       --env MARS_PL_PHASE=N --env MARS_PL_SEED=S --env MARS_PL_DIR=HOSTDIR \
#       --env MARS_PL_BIN=DIR [--env MARS_PL_WRITE=0] \
#       tests/vm/guest/77-engine-powerloss.bats
# DIR holds the mars-engine under test and seq-writer.  Every boot starts
# DIR/mars-engine as primary on the disk "data", its state tree at /mars
# on the disk "mars", its device file served over FUSE.  The engine
# recovers by itself from the applied position it published
# (resource-pl/replay-vmhost), as under clusterd.  Then it checks:
#   - the published position lies inside the surviving log;
#   - every write acknowledged by fsync or RWF_DSYNC in an earlier phase
#     is on the device (HOSTDIR/acks: "PHASE SEQ" of each earlier phase);
#   - the device equals the logfiles that survived the cut, applied in
#     number order from 0 onto a zeroed disk (mars-engine apply): so the
#     disk holds nothing the durable log does not, and recovery put back
#     everything it does.
# Then, unless MARS_PL_WRITE=0 (the last boot), it writes with seq-writer
# to the device file until the host cuts the power, noting each
# acknowledged sync in /marsvm/acked (the run's share, written through).

load guest-helpers

RES=pl
RDIR=/mars/resource-$RES
MNT=/run/pl-mnt
DEV=$MNT/$RES
REGION_BYTES=$((2 << 20))
ENGINE=${MARS_PL_BIN:?}/mars-engine
SEQ_WRITER=$MARS_PL_BIN/seq-writer

uptime_s() { cut -d' ' -f1 /proc/uptime; }

setup_file() {
	echo "# phase ${MARS_PL_PHASE:-?}: setup at $(uptime_s)s of uptime" >&3
	guest_require
	[ -x "$ENGINE" ] || fail "no mars-engine at '$ENGINE'"
	[ -x "$SEQ_WRITER" ] || fail "no seq-writer at '$SEQ_WRITER'"
	PHASE=${MARS_PL_PHASE:?} SEED=${MARS_PL_SEED:?}
	export PHASE SEED
	modprobe fuse 2>/dev/null
	[ -c /dev/fuse ] || fail "no /dev/fuse after modprobe fuse"
	mkdir -p /mars "$MNT"
	if [ "$PHASE" = 1 ]; then
		mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	fi
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	# The logfiles as they survived the cut, before the engine starts.
	log_list >"$BATS_FILE_TMPDIR/survivors"
	echo "# phase $PHASE: set up at $(uptime_s)s of uptime" >&3
}

teardown_file() {
	# The last boot only: a clean stop, so the rig's kernel log check
	# sees a quiet engine.  The other boots never get here.
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/engine.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
	return 0
}

# log_list: "NAME BYTES" of the primary's logfiles, in number order.
log_list() {
	local f
	for f in $(ls "$RDIR" 2>/dev/null | grep -E '^log-[0-9]{9}-' | sort); do
		echo "$f $(stat -c %s "$RDIR/$f")"
	done
}

# Each check leaves a mark; the write phase runs only after all of them.
passed() { : >"$BATS_FILE_TMPDIR/passed-$1"; }

# dev_bytes: the size of the device, a block device (NBD) or a file (FUSE).
dev_bytes() {
	if [ -b "$DEV" ]; then
		blockdev --getsize64 "$DEV"
	else
		stat -c %s "$DEV"
	fi
}

# serving: 0 the engine serves the device (its default front end in a
# guest is NBD: $DEV links to /dev/nbdN; else FUSE: the file $DEV in
# the mount), 1 not yet, 2 it ended.
serving() {
	kill -0 "$(cat "$BATS_FILE_TMPDIR/engine.pid")" 2>/dev/null || return 2
	[ -b "$DEV" ] || { mountpoint -q "$MNT" && [ -f "$DEV" ]; } || return 1
}

@test "the engine recovers from the replay link it published" {
	local link log pos size rc deadline
	link=$(readlink "$RDIR/replay-$MARS_HOST" 2>/dev/null) || link=''
	echo "# phase $PHASE: replay-$MARS_HOST '$link';" \
		"logfiles $(tr '\n' ' ' <"$BATS_FILE_TMPDIR/survivors")" >&3
	if [ "$PHASE" -gt 1 ]; then
		[ -n "$link" ] || fail "no replay-$MARS_HOST link after phase $((PHASE - 1))"
		IFS=, read -r log pos _ <<<"$link"
		size=$(stat -c %s "$RDIR/$log" 2>/dev/null) ||
			fail "the published logfile $log did not survive"
		[ "$pos" -le "$size" ] ||
			fail "published position $pos lies past the durable end $size of $log"
	fi
	# Checkpoints ten times as often as clusterd's default: every one
	# syncs the disk and publishes a position, so a disk or a link ahead
	# of the durable log has ten times the chances to meet the cut.
	"$ENGINE" primary --resource "$RES" --disk "$MARS_VM_DISK_data" --mount "$MNT" \
		--root /mars --host "$MARS_HOST" --checkpoint-ms 100 \
		>>/marsvm/engine.out 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/engine.pid"
	# Bounded; 2: the engine ended (recovery refused).
	deadline=$((SECONDS + 60))
	while :; do
		rc=0
		serving || rc=$?
		[ "$rc" -eq 1 ] && [ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	[ "$rc" -eq 0 ] || { cat /marsvm/engine.out; fail "mars-engine did not recover and serve $DEV"; }
	sed 's/^/# engine: /' /marsvm/engine.out >&3
	passed recovery
}

@test "every write acknowledged by fsync or DSYNC is there" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to check"
	powerloss_check_acked "$DEV"
	passed acked
}

@test "the device equals the surviving logs applied to a zeroed disk" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to compare"
	local f size now img=/mars/pl-applied.img done=/mars/pl-applied.done n=0 rc a b
	# Kept across the boots like a secondary's disk: each boot applies only
	# the logfiles the last crash finished (all survivors are final).
	[ -f "$img" ] || truncate -s "$(dev_bytes)" "$img"
	touch "$done"
	while read -r f size; do
		now=$(stat -c %s "$RDIR/$f")
		[ "$now" = "$size" ] || fail "recovery changed $f: $size bytes, now $now"
		! grep -qx "$f" "$done" || continue
		rc=0
		"$ENGINE" apply --disk "$img" --logfile "$RDIR/$f" >"$BATS_TEST_TMPDIR/apply" 2>&1 ||
			rc=$?
		# 7: a tail torn by the cut, which recovery ignores as well.
		[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] ||
			{ cat "$BATS_TEST_TMPDIR/apply"; fail "mars-engine apply $f: status $rc"; }
		[ "$rc" -eq 0 ] || echo "# phase $PHASE: $f: $(tail -n 1 "$BATS_TEST_TMPDIR/apply")" >&3
		sync "$img"
		echo "$f" >>"$done"
		sync "$done"
		n=$((n + 1))
	done <"$BATS_FILE_TMPDIR/survivors"
	a=$(md5 "$DEV") b=$(md5 "$img")
	echo "# phase $PHASE: applied $n new logfiles; md5 $a (device) $b (applied)" >&3
	if [ "$a" != "$b" ]; then
		"$SEQ_WRITER" diff "$DEV" "$img" "$REGION_BYTES" | sed 's/^/# /' >&3
		fail "the device differs from its surviving log applied to zeros"
	fi
	passed applied
}

@test "write until the power is cut" {
	[ "${MARS_PL_WRITE:-1}" = 1 ] || skip "the last boot only checks"
	local c wpid
	for c in recovery acked applied; do
		[ "$PHASE" = 1 ] && [ "$c" != recovery ] && continue
		[ -f "$BATS_FILE_TMPDIR/passed-$c" ] ||
			fail "not writing: the check '$c' above failed"
	done
	: >/marsvm/acked
	"$SEQ_WRITER" write "$DEV" "$SEED" "$PHASE" "$REGION_BYTES" /marsvm/acked 3>&- &
	wpid=$!
	# The host cuts the power; until then the writer and the engine run.
	guest_wait 200 eval '! kill -0 "$wpid" 2>/dev/null || ! serving'
	cat /marsvm/engine.out
	fail "the writer or the engine stopped before the power was cut"
}
