# The mars.ko half of the power-loss test (tests/vm/guest/75-powerloss.bats
# loads it; the host side is tests/bats/75-vm-powerloss.bats).  mars.ko is
# primary of resource "pl" on the disk "data", its logfiles on the disk
# "mars" at /mars.  Every boot after the first recovers as clusterd
# would, from the applied position the last boot published
# (/mars/pl-checkpoint), and checks:
#   - the logfile being written at the cut carried bytes after its last
#     valid record (the module's preallocated zeros, or a torn record in
#     them: docs/logfile-format.md 1.1), and recovery cut it there; every
#     own logfile but the new one is then finished: clean under
#     `marsadm log-verify`;
#   - every write acknowledged by fsync or RWF_DSYNC in an earlier phase
#     is on the device (HOSTDIR/acks-kmod: "PHASE SEQ" of each earlier
#     phase);
#   - the device equals what a secondary gets that fetched the surviving
#     logfiles and replayed them, from logfile 1 at 0, onto a zeroed disk
#     (the disk "sec", kept across the boots like a secondary's: each boot
#     fetches and replays only the logfiles recovery finished,
#     /mars/resource-sec/.replayed lists those done): so the disk holds
#     nothing the durable log does not, and recovery put back everything
#     it does.
# Then, unless MARS_PL_WRITE=0 (the last boot), it starts seq-writer
# (waiting for the host's go: guest-helpers.bash, POWERLOSS_GO) and the
# checkpoint recorder in the background, noting each acknowledged sync
# in /marsvm/acked-kmod (the run's share, written through).
# Names: KM_* and kmod_*.

KM_RES=pl
KM_RDIR=/mars/resource-$KM_RES
KM_SEC_DIR=/mars/resource-sec
KM_CHECKPOINT=/mars/pl-checkpoint
KM_ACKS=$MARS_PL_DIR/acks-kmod
KM_TAG="phase ${MARS_PL_PHASE:-?}, mars.ko"
KM_MARSADM=${MARS_PL_BIN:?}/marsadm

# kmod_setup: /mars mounted, the module loaded, the resource attached.
kmod_setup() {
	mkdir -p /mars
	if [ "$PHASE" = 1 ]; then
		mkfs.ext4 -q -F "$MARS_VM_DISK_mars" || fail "mkfs.ext4 /mars"
	fi
	mount -t ext4 "$MARS_VM_DISK_mars" /mars || fail "mount /mars"
	mkdir -p "$KM_RDIR" "$KM_SEC_DIR"
	mars_load
	ctl attach "$KM_RES" "$MARS_VM_DISK_data" "$KM_RDIR" || fail "attach $KM_RES"
	guest_wait 5 test -b "/dev/mars/$KM_RES"
}

# kmod_log_sizes: "NAME:BYTES ..." of the primary's logfiles.
kmod_log_sizes() {
	local f out=''
	for f in "$KM_RDIR"/log-*; do
		[ -e "$f" ] && out="$out $(basename "$f"):$(stat -c %s "$f")"
	done
	echo "${out# }"
}

# kmod_check_cut CUR BYTES: CUR, the logfile being written at the cut,
# BYTES long then, held bytes after its last valid record (where
# recovery stopped), and recovery cut them off; every own logfile but
# the one recovery started is finished.  The host cut the power only
# after the writer saw at least three syncs acknowledged, and the
# second log sync after the first record makes the first chunk of zeros
# durable, so the zeros are there whatever the timing.
kmod_check_cut() {
	local end cur_now f
	end=$(st "$KM_RES" stop_offset)
	echo "# $KM_TAG: $1 was $2 bytes at the cut, its valid records end at $end" >&3
	[ "$2" -gt "$end" ] ||
		fail "$1: nothing after its last record ($2 bytes): not preallocated"
	[ "$(stat -c %s "$KM_RDIR/$1")" = "$end" ] ||
		fail "$1: $(stat -c %s "$KM_RDIR/$1") bytes after recovery, not cut at $end"
	cur_now=$(st "$KM_RES" logfile)
	for f in "$KM_RDIR"/log-*; do
		[ "$(basename "$f")" != "$cur_now" ] || continue
		run "$KM_MARSADM" log-verify "$f"
		[ "$status" -eq 0 ] || fail "finished logfile not clean: $output"
	done
}

# kmod_check_recovery: recovery from the published applied position.
kmod_check_recovery() {
	local log pos size cur cur_bytes f
	[ -s "$KM_CHECKPOINT" ] || fail "no checkpoint from phase $((PHASE - 1))"
	read -r log pos <"$KM_CHECKPOINT"
	size=$(stat -c %s "$KM_RDIR/$log" 2>/dev/null || echo missing)
	echo "# $KM_TAG: published $log at $pos, that logfile's durable size $size" >&3
	echo "# $KM_TAG: logfiles $(kmod_log_sizes)" >&3
	cur=$(cd "$KM_RDIR" && ls log-* | sort | tail -n 1)
	cur_bytes=$(stat -c %s "$KM_RDIR/$cur") || fail "no logfiles survived"
	run ctl primary "$KM_RES" "$MARS_HOST" "$log" "$pos"
	[ "$status" -eq 0 ] ||
		fail "recovery from $log at $pos: $output (durable size of $log: $size)"
	kmod_check_cut "$cur" "$cur_bytes"
	# What a secondary fetches: the finished logfiles, each once (the
	# one recovery started is not finished).
	for f in "$KM_RDIR"/log-*; do
		[ "$(basename "$f")" = "$(st "$KM_RES" logfile)" ] ||
			cp -n "$f" "$KM_SEC_DIR/" || fail "copy $f"
	done
}

# kmod_check_acked: every write acknowledged by fsync or DSYNC is there.
kmod_check_acked() {
	powerloss_check_acked "$KM_TAG" "/dev/mars/$KM_RES" "$KM_ACKS"
}

# kmod_replayed LOGFILE: sec's replay of LOGFILE reached its end (waits for
# more, or stopped at a torn tail) and the disk is flushed up to there.
kmod_replayed() {
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

# kmod_check_replay: the disk equals the surviving logs replayed onto a zeroed
# disk.
kmod_check_replay() {
	local f n=0 bytes=0 a b
	ctl attach sec "$MARS_VM_DISK_sec" "$KM_SEC_DIR" || fail "attach sec"
	guest_wait 5 test -b /dev/mars/sec
	[ "$(st sec size_bytes)" = "$(st "$KM_RES" size_bytes)" ] || fail "disk sizes differ"
	touch "$KM_SEC_DIR/.replayed"
	for f in $(cd "$KM_SEC_DIR" && ls log-* | sort); do
		! grep -qx "$f" "$KM_SEC_DIR/.replayed" || continue
		ctl replay sec "$f" 0 >/dev/null || fail "replay $f"
		guest_wait 60 kmod_replayed "$f"
		n=$((n + 1))
		bytes=$((bytes + $(st sec applied_pos)))
		# Finished logfiles: nothing after the last record.
		[ "$(st sec stop_result)" = end ] ||
			fail "replay of $f ended at $(st sec stop_offset):" \
				"$(st sec stop_result) ($(st sec stop_reason))"
		# applied_pos is flushed on the disk: done for good.
		echo "$f" >>"$KM_SEC_DIR/.replayed"
		sync "$KM_SEC_DIR/.replayed"
	done
	a=$(md5 "/dev/mars/$KM_RES") b=$(md5 /dev/mars/sec)
	echo "# $KM_TAG: replayed $n new logfiles, $bytes bytes of records; md5 $a (disk) $b (replay)" >&3
	if [ "$a" != "$b" ]; then
		"$SEQ_WRITER" diff "/dev/mars/$KM_RES" /dev/mars/sec "$REGION_BYTES" |
			sed 's/^/# /' >&3
		ctl detach sec
		fail "the disk differs from the replay of its durable log"
	fi
	ctl detach sec || fail "detach sec"
}

# kmod_start_writing: the writer and the checkpoint recorder in the
# background, watched by the last test.
kmod_start_writing() {
	[ "$PHASE" != 1 ] || ctl primary "$KM_RES" "$MARS_HOST" || fail "primary"
	# clusterd's replay link: the applied position, published durably.
	"$SEQ_WRITER" checkpoint "$KM_RES" "$KM_CHECKPOINT" >/marsvm/recorder-kmod.out 2>&1 3>&- &
	powerloss_watch "mars.ko checkpoint recorder" $!
	guest_wait 10 grep -q "^$(st "$KM_RES" logfile) " "$KM_CHECKPOINT"
	: >/marsvm/acked-kmod
	powerloss_writer "mars.ko writer" /marsvm/go-kmod /marsvm/writer-kmod.out \
		"$SEQ_WRITER" write "/dev/mars/$KM_RES" "$SEED" "$PHASE" "$REGION_BYTES" /marsvm/acked-kmod
}

# kmod_test: the checks of what the last cut left, then the writing.
kmod_test() {
	if [ "$PHASE" -gt 1 ]; then
		kmod_check_recovery
		kmod_check_acked
		kmod_check_replay
	fi
	[ "${MARS_PL_WRITE:-1}" = 0 ] || kmod_start_writing
}
