# The userspace engine's half of the power-loss test
# (tests/vm/guest/75-powerloss.bats loads it; the host side is
# tests/bats/75-vm-powerloss.bats): MARS_PL_BIN/mars-engine is primary of
# resource "pe" on the disk "edata", its state tree at /emars on the disk
# "emars", its device served over NBD (its default where the kernel has
# nbd.ko) or FUSE.  The engine recovers by itself from the applied
# position it published (resource-pe/replay-vmhost), as under clusterd.
# Then it checks:
#   - the published position lies inside the surviving log;
#   - the logfile being written at the cut is finished by recovery (cut
#     after its last valid record, clean under marsadm log-verify), and
#     every other logfile is as the cut left it;
#   - every write acknowledged by fsync or RWF_DSYNC in an earlier phase
#     is on the device (HOSTDIR/acks-engine: "PHASE SEQ" of each earlier
#     phase);
#   - the device equals the logfiles that survived the cut, applied in
#     number order from 0 onto a zeroed disk (mars-engine apply): so the
#     disk holds nothing the durable log does not, and recovery put back
#     everything it does.
# Then, unless MARS_PL_WRITE=0 (the last boot), it starts seq-writer on
# the device in the background, noting each acknowledged sync in
# /marsvm/acked-engine (the run's share, written through).
# Names: EN_* and engine_*.

EN_RES=pe
EN_ROOT=/emars
EN_RDIR=$EN_ROOT/resource-$EN_RES
EN_MNT=/run/pe-mnt
EN_DEV=$EN_MNT/$EN_RES
EN_ENGINE=${MARS_PL_BIN:?}/mars-engine
EN_MARSADM=${MARS_PL_BIN:?}/marsadm
EN_ACKS=$MARS_PL_DIR/acks-engine
EN_TAG="phase ${MARS_PL_PHASE:-?}, engine"
EN_PID=/run/pe-engine.pid

# engine_setup: /emars mounted, the surviving logfiles noted.
engine_setup() {
	[ -x "$EN_ENGINE" ] || fail "no mars-engine at '$EN_ENGINE'"
	modprobe fuse 2>/dev/null
	[ -c /dev/fuse ] || fail "no /dev/fuse after modprobe fuse"
	mkdir -p "$EN_ROOT" "$EN_MNT"
	if [ "$PHASE" = 1 ]; then
		mkfs.ext4 -q -F "$MARS_VM_DISK_emars" || fail "mkfs.ext4 $EN_ROOT"
	fi
	mount -t ext4 "$MARS_VM_DISK_emars" "$EN_ROOT" || fail "mount $EN_ROOT"
	# The logfiles as they survived the cut, before the engine starts.
	engine_log_list >"$BATS_FILE_TMPDIR/survivors"
}

# engine_stop: a clean stop on the last boot, so that the rig's kernel
# log check sees a quiet engine.  In the others it serves until the
# power goes.
engine_stop() {
	local pid
	[ "${MARS_PL_WRITE:-1}" = 0 ] || return 0
	pid=$(cat "$EN_PID" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
	return 0
}

# engine_log_list: "NAME BYTES" of the primary's logfiles, in number order.
engine_log_list() {
	local f
	for f in $(ls "$EN_RDIR" 2>/dev/null | grep -E '^log-[0-9]{9}-' | sort); do
		echo "$f $(stat -c %s "$EN_RDIR/$f")"
	done
}

# engine_dev_bytes: the size of the device, a block device (NBD) or a file (FUSE).
engine_dev_bytes() {
	if [ -b "$EN_DEV" ]; then
		blockdev --getsize64 "$EN_DEV"
	else
		stat -c %s "$EN_DEV"
	fi
}

# engine_serving: 0 the engine serves the device (its default front end in a
# guest is NBD: $EN_DEV links to /dev/nbdN; else FUSE: the file $EN_DEV in
# the mount), 1 not yet, 2 it ended.
engine_serving() {
	kill -0 "$(cat "$EN_PID")" 2>/dev/null || return 2
	[ -b "$EN_DEV" ] || { mountpoint -q "$EN_MNT" && [ -f "$EN_DEV" ]; } || return 1
}

# engine_start: the engine recovers from the replay link it published,
# which must lie inside the surviving log, and serves its device.
engine_start() {
	local link log pos size rc deadline
	link=$(readlink "$EN_RDIR/replay-$MARS_HOST" 2>/dev/null) || link=''
	echo "# $EN_TAG: replay-$MARS_HOST '$link';" \
		"logfiles $(tr '\n' ' ' <"$BATS_FILE_TMPDIR/survivors")" >&3
	if [ "$PHASE" -gt 1 ]; then
		[ -n "$link" ] || fail "no replay-$MARS_HOST link after phase $((PHASE - 1))"
		IFS=, read -r log pos _ <<<"$link"
		size=$(stat -c %s "$EN_RDIR/$log" 2>/dev/null) ||
			fail "the published logfile $log did not survive"
		[ "$pos" -le "$size" ] ||
			fail "published position $pos lies past the durable end $size of $log"
	fi
	# Checkpoints ten times as often as clusterd's default: every one
	# syncs the disk and publishes a position, so a disk or a link ahead
	# of the durable log has ten times the chances to meet the cut.
	"$EN_ENGINE" primary --resource "$EN_RES" --disk "$MARS_VM_DISK_edata" --mount "$EN_MNT" \
		--root "$EN_ROOT" --host "$MARS_HOST" --checkpoint-ms 100 \
		>>/marsvm/engine-pe.out 2>&1 3>&- &
	echo $! >"$EN_PID"
	# Bounded; 2: the engine ended (recovery refused).
	deadline=$((SECONDS + 60))
	while :; do
		rc=0
		engine_serving || rc=$?
		[ "$rc" -eq 1 ] && [ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	[ "$rc" -eq 0 ] || { cat /marsvm/engine-pe.out; fail "mars-engine did not recover and serve $EN_DEV"; }
	sed 's/^/# engine: /' /marsvm/engine-pe.out >&3
}

# engine_check_acked: every write acknowledged by fsync or DSYNC is there.
engine_check_acked() {
	powerloss_check_acked "$EN_TAG" "$EN_DEV" "$EN_ACKS"
}

# engine_check_cut F BYTES NOW: F, the logfile being written at the cut,
# BYTES long then, NOW after recovery: recovery cut what followed its last
# valid record (the preallocated zeros, or a torn record in them:
# docs/logfile-format.md 1.1), so the file is finished and clean.
engine_check_cut() {
	echo "# $EN_TAG: $1 was $2 bytes at the cut, $3 after recovery" >&3
	[ "$3" -le "$2" ] || fail "recovery grew $1: $2 bytes, now $3"
	run "$EN_MARSADM" log-verify "$EN_RDIR/$1"
	[ "$status" -eq 0 ] || fail "$1 after recovery is not a finished logfile: $output"
}

# engine_check_applied: the device equals the surviving logs applied to a
# zeroed disk.
engine_check_applied() {
	local f size now last img=$EN_ROOT/pe-applied.img done=$EN_ROOT/pe-applied.done n=0 rc a b
	# Kept across the boots like a secondary's disk: each boot applies only
	# the logfiles recovery finished (all survivors are final then).
	[ -f "$img" ] || truncate -s "$(engine_dev_bytes)" "$img"
	touch "$done"
	last=$(tail -n 1 "$BATS_FILE_TMPDIR/survivors" | cut -d' ' -f1)
	while read -r f size; do
		now=$(stat -c %s "$EN_RDIR/$f")
		if [ "$f" = "$last" ]; then
			engine_check_cut "$f" "$size" "$now"
		else
			[ "$now" = "$size" ] || fail "recovery changed $f: $size bytes, now $now"
		fi
		! grep -qx "$f" "$done" || continue
		rc=0
		"$EN_ENGINE" apply --disk "$img" --logfile "$EN_RDIR/$f" >"$BATS_FILE_TMPDIR/apply" 2>&1 ||
			rc=$?
		# 7: a tail torn by the cut, which recovery ignores as well.
		[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] ||
			{ cat "$BATS_FILE_TMPDIR/apply"; fail "mars-engine apply $f: status $rc"; }
		[ "$rc" -eq 0 ] || echo "# $EN_TAG: $f: $(tail -n 1 "$BATS_FILE_TMPDIR/apply")" >&3
		sync "$img"
		echo "$f" >>"$done"
		sync "$done"
		n=$((n + 1))
	done <"$BATS_FILE_TMPDIR/survivors"
	a=$(md5 "$EN_DEV") b=$(md5 "$img")
	echo "# $EN_TAG: applied $n new logfiles; md5 $a (device) $b (applied)" >&3
	if [ "$a" != "$b" ]; then
		"$SEQ_WRITER" diff "$EN_DEV" "$img" "$REGION_BYTES" | sed 's/^/# /' >&3
		fail "the device differs from its surviving log applied to zeros"
	fi
}

# engine_start_writing: the writer in the background, watched with the engine
# by the last test.
engine_start_writing() {
	powerloss_watch "mars-engine (log /marsvm/engine-pe.out)" "$(cat "$EN_PID")"
	: >/marsvm/acked-engine
	powerloss_writer "engine writer" "$POWERLOSS_GO" /marsvm/writer-engine.out \
		"$SEQ_WRITER" write "$EN_DEV" "$SEED" "$PHASE" "$REGION_BYTES" /marsvm/acked-engine
}

# engine_test: recovery and the checks of what the last cut left, then
# the writing.
engine_test() {
	engine_start
	if [ "$PHASE" -gt 1 ]; then
		engine_check_acked
		engine_check_applied
	fi
	[ "${MARS_PL_WRITE:-1}" = 0 ] || engine_start_writing
}
