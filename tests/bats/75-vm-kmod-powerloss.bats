#!/usr/bin/env bats
# Power-loss test of mars.ko (issue 14; the guest side is
# tests/vm/guest/75-kmod-powerloss.bats): MARS_PL_KILLS (20) boots on the
# same disk images write O_DIRECT blocks to the primary, some synced with
# fsync, some with RWF_DSYNC, while a recorder publishes the module's
# applied position as clusterd would; this side kills qemu with SIGKILL
# once a random number of syncs were acknowledged, plus a random delay of
# up to half a second: a power cut, the images kept as qemu wrote them,
# the guest's page cache lost.  Every next boot recovers from the
# published position and checks that no acknowledged write was lost and
# that the disk equals its surviving log replayed onto a zeroed disk.
# MARS_PL_SEED repeats a run (it is printed).  Its own suite so that it
# has its own time budget in tests/run-all.  MARS_TEST_QUICK=1 skips it.

load helpers
load vm

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
	"$RUN_GUEST" --run-dir "$RUNDIR" --timeout 300 --memory 384 \
		--ko "$BATS_TEST_TMPDIR/mars.ko" \
		--disk-image "data:$BATS_TEST_TMPDIR/data.img" \
		--disk-image "mars:$BATS_TEST_TMPDIR/mars.img" --disk sec:32M \
		--env "MARS_PL_PHASE=$1" --env "MARS_PL_SEED=$PL_SEED" \
		--env "MARS_PL_DIR=$BATS_TEST_TMPDIR/share" \
		--env "MARS_PL_WRITE=${2:-1}" \
		-- --timing "$GUEST_DIR/75-kmod-powerloss.bats" \
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

@test "power loss: acknowledged writes survive and the disk equals its replayed log, at ${MARS_PL_KILLS:-20} kill points" {
	skip_if_quick
	require_rig
	local kills=${MARS_PL_KILLS:-20} phase start=$SECONDS
	[[ "$kills" =~ ^[1-9][0-9]*$ ]] || fail "bad MARS_PL_KILLS '$kills'"
	PL_SEED=${MARS_PL_SEED:-$((RANDOM << 15 | RANDOM))}
	RANDOM=$PL_SEED
	echo "# MARS_PL_SEED=$PL_SEED MARS_PL_KILLS=$kills" >&3
	# A private copy: a rebuild between the boots cannot change it.
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	truncate -s 32M "$BATS_TEST_TMPDIR/data.img"
	truncate -s 256M "$BATS_TEST_TMPDIR/mars.img"
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
