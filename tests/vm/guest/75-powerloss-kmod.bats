#!/usr/bin/env bats
# Power-loss test of mars.ko, one phase per boot, driven by the host side
# (tests/bats/75-vm-kmod-powerloss.bats), which kills qemu with SIGKILL
# in the middle of the write phase and keeps the disk images exactly as
# the guest left them:
#   tests/vm/run-guest --disk-image data:DATA.img --disk-image mars:MARS.img \
#       --disk-image sec:SEC.img --env MARS_PL_PHASE=N --env MARS_PL_SEED=S \
#       --env MARS_PL_DIR=HOSTDIR [--env MARS_PL_WRITE=0] \
#       tests/vm/guest/75-kmod-powerloss.bats
# Every boot after the first recovers as clusterd would, from the applied
# position the last boot published (/mars/pl-checkpoint), and checks:
#   - every write acknowledged by fsync or RWF_DSYNC in an earlier phase
#     is on the device (HOSTDIR/acks: "PHASE SEQ" of each earlier phase);
#   - the device equals what a secondary gets that fetched the surviving
#     logfiles and replayed them, from logfile 1 at 0, onto a zeroed disk
#     (the disk "sec", kept across the boots like a secondary's: each boot
#     fetches and replays only the logfiles the last crash finished,
#     /mars/resource-sec/.replayed lists those done): so the disk holds
#     nothing the durable log does not, and recovery put back everything
#     it does.
# Then, unless MARS_PL_WRITE=0 (the last boot), it writes with
# tests/helpers/seq-writer until the host cuts the power, noting each
# acknowledged sync in /marsvm/acked (the run's share, written through).

load guest-helpers

RES=pl
RDIR=/mars/resource-$RES
SEC_DIR=/mars/resource-sec
CHECKPOINT=/mars/pl-checkpoint
REGION_BYTES=$((2 << 20))
SEQ_WRITER=$MARS_BUILDDIR/tests/helpers/seq-writer

# uptime_s: the guest's uptime, to time the steps.
uptime_s() { cut -d' ' -f1 /proc/uptime; }

setup_file() {
	echo "# phase ${MARS_PL_PHASE:-?}: setup at $(uptime_s)s of uptime" >&3
	guest_require
	[ -x "$SEQ_WRITER" ] || fail "no '$SEQ_WRITER' (run: make)"
	PHASE=${MARS_PL_PHASE:?} SEED=${MARS_PL_SEED:?}
	export PHASE SEED
	mkdir -p /mars
	if [ "$PHASE" = 1 ]; then
		mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	fi
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	mkdir -p "$RDIR" "$SEC_DIR"
	mars_load
	ctl attach "$RES" "$MARS_VM_DISK_data" "$RDIR" || fail "attach $RES"
	guest_wait 5 test -b "/dev/mars/$RES"
	echo "# phase $PHASE: set up at $(uptime_s)s of uptime" >&3
}

# Each check leaves a mark; the write phase runs only after all of them.
passed() { : >"$BATS_FILE_TMPDIR/passed-$1"; }

# log_sizes: "NAME:BYTES ..." of the primary's logfiles.
log_sizes() {
	local f out=''
	for f in "$RDIR"/log-*; do
		[ -e "$f" ] && out="$out $(basename "$f"):$(stat -c %s "$f")"
	done
	echo "${out# }"
}

@test "recovery from the published applied position" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to recover"
	local log pos size
	[ -s "$CHECKPOINT" ] || fail "no checkpoint from phase $((PHASE - 1))"
	read -r log pos <"$CHECKPOINT"
	size=$(stat -c %s "$RDIR/$log" 2>/dev/null || echo missing)
	echo "# phase $PHASE: published $log at $pos, that logfile's durable size $size" >&3
	echo "# phase $PHASE: logfiles $(log_sizes)" >&3
	# What a secondary fetches: the logfiles as they survived, each once
	# (all are final: recovery starts a new one).
	cp -n "$RDIR"/log-* "$SEC_DIR/" || fail "no logfiles survived"
	run ctl primary "$RES" "$MARS_HOST" "$log" "$pos"
	[ "$status" -eq 0 ] ||
		fail "recovery from $log at $pos: $output (durable size of $log: $size)"
	passed recovery
}

@test "every write acknowledged by fsync or DSYNC is there" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to check"
	powerloss_check_acked "/dev/mars/$RES"
	passed acked
}

# replayed LOGFILE: sec's replay of LOGFILE reached its end (waits for
# more, or stopped at a torn tail) and the disk is flushed up to there.
replayed() {
	local rc
	"$MARS_CTL_QUERY" status sec | awk -v f="$1" '
		{ v[$1] = $2 }
		END {
			if (v["replay_state"] == "failed") exit 2
			exit !((v["replay_state"] == "waiting" || v["replay_state"] == "stopped") &&
			       v["applied_logfile"] == f && v["applied_pos"] == v["stop_offset"])
		}'
	rc=$?
	[ "$rc" -ne 2 ] || fail "replay of $1 failed: $("$MARS_CTL_QUERY" status sec)"
	return "$rc"
}

@test "the disk equals the surviving logs replayed onto a zeroed disk" {
	[ "$PHASE" -gt 1 ] || skip "phase 1 has nothing to compare"
	local f n=0 bytes=0 a b
	ctl attach sec "$MARS_VM_DISK_sec" "$SEC_DIR" || fail "attach sec"
	guest_wait 5 test -b /dev/mars/sec
	[ "$(st sec size_bytes)" = "$(st "$RES" size_bytes)" ] || fail "disk sizes differ"
	touch "$SEC_DIR/.replayed"
	for f in $(cd "$SEC_DIR" && ls log-* | sort); do
		! grep -qx "$f" "$SEC_DIR/.replayed" || continue
		ctl replay sec "$f" 0 >/dev/null || fail "replay $f"
		guest_wait 60 replayed "$f"
		n=$((n + 1))
		bytes=$((bytes + $(st sec applied_pos)))
		[ "$(st sec stop_result)" = end ] ||
			echo "# phase $PHASE: replay of $f ended at $(st sec stop_offset):" \
				"$(st sec stop_result) ($(st sec stop_reason))" >&3
		# applied_pos is flushed on the disk: done for good.
		echo "$f" >>"$SEC_DIR/.replayed"
		sync "$SEC_DIR/.replayed"
	done
	a=$(md5 "/dev/mars/$RES") b=$(md5 /dev/mars/sec)
	echo "# phase $PHASE: replayed $n new logfiles, $bytes bytes of records; md5 $a (disk) $b (replay)" >&3
	if [ "$a" != "$b" ]; then
		"$SEQ_WRITER" diff "/dev/mars/$RES" /dev/mars/sec "$REGION_BYTES" |
			sed 's/^/# /' >&3
		ctl detach sec
		fail "the disk differs from the replay of its durable log"
	fi
	ctl detach sec || fail "detach sec"
	passed replay
}

@test "write until the power is cut" {
	[ "${MARS_PL_WRITE:-1}" = 1 ] || skip "the last boot only checks"
	local c wpid cpid
	if [ "$PHASE" = 1 ]; then
		ctl primary "$RES" "$MARS_HOST" || fail "primary"
	else
		for c in recovery acked replay; do
			[ -f "$BATS_FILE_TMPDIR/passed-$c" ] ||
				fail "not writing: the check '$c' above failed"
		done
	fi
	# clusterd's replay link: the applied position, published durably.
	"$SEQ_WRITER" checkpoint "$RES" "$CHECKPOINT" 3>&- &
	cpid=$!
	guest_wait 10 grep -q "^$(st "$RES" logfile) " "$CHECKPOINT"
	: >/marsvm/acked
	"$SEQ_WRITER" write "/dev/mars/$RES" "$SEED" "$PHASE" "$REGION_BYTES" /marsvm/acked 3>&- &
	wpid=$!
	: >/marsvm/writing
	# The host cuts the power; until then both run.
	guest_wait 200 eval '! kill -0 "$wpid" 2>/dev/null || ! kill -0 "$cpid" 2>/dev/null'
	fail "the writer or the checkpoint recorder stopped before the power was cut"
}
