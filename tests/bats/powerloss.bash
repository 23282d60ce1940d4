# The host side of the power-loss suites (75 for mars.ko, 77 for the
# userspace engine), loaded after helpers.bash and vm.bash: boot the guest
# suite again and again on the same disk images and cut its power with
# SIGKILL to qemu in the middle of its write phase, so that the images
# stay as qemu wrote them and the guest's page cache is lost.
#
# A suite sets, then calls pl_run:
#   PL_GUEST       the guest bats file (under tests/vm/guest/)
#   PL_RIG_ARGS    run-guest options of every boot: the images (made by
#                  the suite in $BATS_TEST_TMPDIR), memory, --ko, --env
# Every boot gets MARS_PL_PHASE, MARS_PL_SEED, MARS_PL_DIR (the host's
# $BATS_TEST_TMPDIR/share: "acks", one "PHASE LAST_ACKED_SEQ" line per
# cut) and MARS_PL_WRITE (0 on the last boot, which only checks).  The
# guest notes each acknowledged sync in /marsvm/acked.

# pl_qemu_pid RUN_GUEST_PID: the qemu that run-guest started (its child
# timeout's child), or nothing.
pl_qemu_pid() {
	local t q
	t=$(pgrep -P "$1" -x timeout) || return 1
	q=$(pgrep -P "$t") || return 1
	[[ "$(cat "/proc/$q/comm" 2>/dev/null)" == qemu-system* ]] || return 1
	echo "$q"
}

# pl_acked RUNDIR: how many syncs the guest acknowledged so far.
pl_acked() {
	local f=$1/share/acked
	[ -f "$f" ] && wc -l <"$f" || echo 0
}

# pl_boot PHASE [WRITE]: one boot on the test's images, in the
# background; RG is run-guest's pid, RUNDIR its run directory.
pl_boot() {
	RUNDIR=$BATS_TEST_TMPDIR/run-$1
	"$RUN_GUEST" --run-dir "$RUNDIR" --timeout 300 "${PL_RIG_ARGS[@]}" \
		--env "MARS_PL_PHASE=$1" --env "MARS_PL_SEED=$PL_SEED" \
		--env "MARS_PL_DIR=$BATS_TEST_TMPDIR/share" \
		--env "MARS_PL_WRITE=${2:-1}" \
		-- --timing "$GUEST_DIR/$PL_GUEST" \
		>"$BATS_TEST_TMPDIR/out-$1" 2>&1 3>&- &
	RG=$!
}

# pl_report PHASE: the guest's diagnostics as ours; on a "not ok", its
# whole answer, and fail.
pl_report() {
	local out=$BATS_TEST_TMPDIR/out-$1
	if grep -q '^not ok' "$out"; then
		cat "$out"
		fail "boot $1: a check failed (above)"
	fi
	grep -E '^# (phase|blocks|block|run-guest: guest)' "$out" >&3 || true
}

# pl_cut PHASE: wait for a random number of acknowledged syncs, then cut
# the power; appends "PHASE LAST_ACKED_SEQ" to the acks the next boot
# checks.  Returns 1 if the guest ended by itself (its checks failed).
# PL_STATUS is run-guest's status.
pl_cut() {
	local phase=$1 want=$((3 + RANDOM % 14)) delay deadline q acked last
	deadline=$((SECONDS + 240))
	while [ "$(pl_acked "$RUNDIR")" -lt "$want" ]; do
		if ! kill -0 "$RG" 2>/dev/null; then
			wait "$RG"
			PL_STATUS=$?
			return 1
		fi
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "boot $phase: fewer than $want syncs acknowledged in 240 s"
		sleep 0.1
	done
	delay=$(printf '0.%03d' $((RANDOM % 500)))
	sleep "$delay"
	q=$(pl_qemu_pid "$RG") || fail "boot $phase: no qemu under run-guest $RG"
	kill -KILL "$q"
	acked=$(pl_acked "$RUNDIR")
	wait "$RG"
	PL_STATUS=$?
	# The last complete line: the last sync the guest saw acknowledged.
	last=$(grep -E '^[0-9]+$' "$RUNDIR/share/acked" | tail -n 1)
	echo "$phase ${last:-0}" >>"$BATS_TEST_TMPDIR/share/acks"
	echo "# boot $phase: $((SECONDS - PL_START))s, power cut after $acked acknowledged syncs" \
		"(waited for $want, then $delay s), last acknowledged seq ${last:-0}" >&3
}

# pl_run: MARS_PL_KILLS (20) boots cut mid-write, then one that only
# checks; MARS_PL_SEED repeats a run (it is printed).
pl_run() {
	local kills=${MARS_PL_KILLS:-20} phase start=$SECONDS
	[[ "$kills" =~ ^[1-9][0-9]*$ ]] || fail "bad MARS_PL_KILLS '$kills'"
	PL_SEED=${MARS_PL_SEED:-$((RANDOM << 15 | RANDOM))}
	RANDOM=$PL_SEED
	echo "# MARS_PL_SEED=$PL_SEED MARS_PL_KILLS=$kills" >&3
	mkdir -p "$BATS_TEST_TMPDIR/share"
	: >"$BATS_TEST_TMPDIR/share/acks"
	for phase in $(seq 1 "$kills"); do
		PL_START=$SECONDS
		pl_boot "$phase"
		pl_cut "$phase" || echo "# boot $phase ended by itself after $((SECONDS - PL_START))s" >&3
		pl_report "$phase"
		[ "$PL_STATUS" -eq 4 ] ||
			{ cat "$BATS_TEST_TMPDIR/out-$phase"; fail "boot $phase: status $PL_STATUS, not 4 (killed)"; }
		rm -rf "$RUNDIR"
	done
	PL_START=$SECONDS
	pl_boot $((kills + 1)) 0
	status=0
	wait "$RG" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out-$((kills + 1))")
	pl_report $((kills + 1))
	echo "# boot $((kills + 1)) (checks only): $((SECONDS - PL_START))s; all: $((SECONDS - start))s" >&3
	assert_success
	assert_tap_complete
}
