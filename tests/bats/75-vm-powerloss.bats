#!/usr/bin/env bats
# Power-loss test of both data paths (issue 14), mars.ko and the userspace
# engine side by side in one guest, so that one cut hits both: every boot
# runs tests/vm/guest/75-powerloss.bats on the same disk images.  Its
# halves (powerloss-kmod.bash, powerloss-engine.bash) check what the last
# cut left and start writing: O_DIRECT blocks to
# /dev/mars/pl (mars.ko, with a recorder publishing the module's applied
# position as clusterd would) and to the engine's device (mars-engine
# primary, recovering from its own replay link), some synced with fsync,
# some with RWF_DSYNC (the engine's writer first, mars.ko's, thirty
# times as fast, once the engine's is under way: pl_cut).  This side
# kills qemu with SIGKILL once both writers saw a random number of syncs
# acknowledged, plus a random delay of up to half a second: a power cut, the images kept as qemu wrote
# them, the guest's page cache lost.  Every next boot recovers both and
# checks that no acknowledged write was lost and that each disk equals
# its surviving log replayed onto a zeroed disk.
#
# MARS_PL_KILLS (20) cut boots, then one that only checks; MARS_PL_SEED
# repeats a run (it is printed); MARS_ENGINE tests another mars-engine
# binary (default: this build's).  Every boot gets MARS_PL_PHASE,
# MARS_PL_SEED, MARS_PL_DIR (the host's $BATS_TEST_TMPDIR/share:
# acks-kmod and acks-engine, one "PHASE LAST_ACKED_SEQ" line per cut)
# and MARS_PL_WRITE (0 on the last boot).  The guest notes each
# acknowledged sync in /marsvm/acked-kmod and /marsvm/acked-engine.
# Its own suite so that it has its own time budget in tests/run-all.
# MARS_TEST_QUICK=1 skips it.

load helpers
load vm

PL_PATHS=(kmod engine)

# pl_qemu_pid RUN_GUEST_PID: the qemu that run-guest started (its child
# timeout's child), or nothing.
pl_qemu_pid() {
	local t q
	t=$(pgrep -P "$1" -x timeout) || return 1
	q=$(pgrep -P "$t") || return 1
	[[ "$(cat "/proc/$q/comm" 2>/dev/null)" == qemu-system* ]] || return 1
	echo "$q"
}

# pl_acked RUNDIR PATH: how many syncs PATH's writer acknowledged so far.
pl_acked() {
	local f=$1/share/acked-$2
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
		-- --timing "$GUEST_DIR/75-powerloss.bats" \
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
	# With each guest test's time (bats --timing), to see where a boot goes.
	grep -E '^(# (phase|blocks|block|run-guest: guest)|ok )' "$out" | sed 's/^ok /# ok /' >&3 || true
}

# pl_wait_acked PHASE PATH WANT: wait until PATH's writer saw WANT syncs
# acknowledged.  Returns 1 if the guest ended by itself (its checks
# failed); PL_STATUS is then run-guest's status.
pl_wait_acked() {
	local deadline=$((SECONDS + 240))
	while [ "$(pl_acked "$RUNDIR" "$2")" -lt "$3" ]; do
		if ! kill -0 "$RG" 2>/dev/null; then
			wait "$RG"
			PL_STATUS=$?
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$(pl_qemu_pid "$RG")" 2>/dev/null
			wait "$RG"
			cat "$BATS_TEST_TMPDIR/out-$1"
			fail "boot $1: fewer than $3 syncs acknowledged by the $2 writer in 240 s"
		fi
		sleep 0.1
	done
}

# pl_cut PHASE: once the engine's writer saw a random number of syncs
# acknowledged, let mars.ko's go (powerloss-kmod.bash waits for
# go-kmod) until it saw a random number as well, then cut the power a
# random delay later; appends "PHASE LAST_ACKED_SEQ" to each writer's
# acks for the next boot.  Returns 1 if the guest ended by itself.
pl_cut() {
	local phase=$1 want_e=$((3 + RANDOM % 14)) want_k=$((3 + RANDOM % 14)) delay q p last
	local acked='' lasts=''
	pl_wait_acked "$phase" engine "$want_e" || return 1
	: >"$RUNDIR/share/go-kmod"
	pl_wait_acked "$phase" kmod "$want_k" || return 1
	delay=$(printf '0.%03d' $((RANDOM % 500)))
	sleep "$delay"
	q=$(pl_qemu_pid "$RG") || fail "boot $phase: no qemu under run-guest $RG"
	kill -KILL "$q"
	wait "$RG"
	PL_STATUS=$?
	# The last complete line: the last sync each writer saw acknowledged.
	for p in "${PL_PATHS[@]}"; do
		last=$(grep -E '^[0-9]+$' "$RUNDIR/share/acked-$p" | tail -n 1)
		echo "$phase ${last:-0}" >>"$BATS_TEST_TMPDIR/share/acks-$p"
		acked="$acked $p $(pl_acked "$RUNDIR" "$p")"
		lasts="$lasts $p ${last:-0}"
	done
	echo "# boot $phase: $((SECONDS - PL_START))s, power cut after acknowledged syncs:$acked" \
		"(waited for engine $want_e, then mars.ko $want_k, then $delay s);" \
		"last acknowledged seqs:$lasts" >&3
}

@test "power loss of mars.ko and the engine: acknowledged writes survive and each disk equals its replayed log, at ${MARS_PL_KILLS:-20} kill points" {
	skip_if_quick
	require_rig
	local kills=${MARS_PL_KILLS:-20} phase start=$SECONDS p
	local engine=${MARS_ENGINE:-$MARS_BUILDDIR/engine/mars-engine}
	[[ "$kills" =~ ^[1-9][0-9]*$ ]] || fail "bad MARS_PL_KILLS '$kills'"
	[ -x "$engine" ] || fail "no mars-engine at '$engine' (run make)"
	# Private copies: a rebuild between the boots cannot change them.
	mkdir -p "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/share"
	cp "$MARS_KO" "$BATS_TEST_TMPDIR/mars.ko"
	cp "$engine" "$MARS_BUILDDIR/tests/helpers/seq-writer" \
		"$MARS_BUILDDIR/marsadm/marsadm" "$BATS_TEST_TMPDIR/bin/"
	echo "# mars-engine: $engine" >&3
	truncate -s 32M "$BATS_TEST_TMPDIR/data.img"
	truncate -s 256M "$BATS_TEST_TMPDIR/mars.img"
	truncate -s 32M "$BATS_TEST_TMPDIR/sec.img"
	truncate -s 16M "$BATS_TEST_TMPDIR/edata.img"
	truncate -s 64M "$BATS_TEST_TMPDIR/emars.img"
	PL_RIG_ARGS=(--memory 640 --ko "$BATS_TEST_TMPDIR/mars.ko"
		--env "MARS_PL_BIN=$BATS_TEST_TMPDIR/bin")
	for p in data mars sec edata emars; do
		PL_RIG_ARGS+=(--disk-image "$p:$BATS_TEST_TMPDIR/$p.img")
	done
	for p in "${PL_PATHS[@]}"; do
		: >"$BATS_TEST_TMPDIR/share/acks-$p"
	done

	PL_SEED=${MARS_PL_SEED:-$((RANDOM << 15 | RANDOM))}
	RANDOM=$PL_SEED
	echo "# MARS_PL_SEED=$PL_SEED MARS_PL_KILLS=$kills" >&3
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
