#!/usr/bin/env bats
# Power-loss test of both data paths side by side, one phase per boot,
# driven by the host side (tests/bats/75-vm-powerloss.bats), which kills
# qemu with SIGKILL in the middle of the write phase and keeps the disk
# images exactly as the guest left them:
#   tests/vm/run-guest --disk-image data:DATA.img --disk-image mars:MARS.img \
#       --disk-image sec:SEC.img --disk-image edata:EDATA.img \
#       --disk-image emars:EMARS.img --env MARS_PL_PHASE=N \
#       --env MARS_PL_SEED=S --env MARS_PL_DIR=HOSTDIR \
#       --env MARS_PL_BIN=DIR [--env MARS_PL_WRITE=0] \
#       -- tests/vm/guest/75-powerloss.bats
# DIR holds the mars-engine under test, seq-writer and marsadm.  mars.ko's half is
# powerloss-kmod.bash, the engine's powerloss-engine.bash: each checks
# what the last cut left and starts its writer; the last test watches
# every writer, recorder and the engine until the power goes.  One file
# and few tests: under emulation bats costs seconds per test and per
# file, and the boots are what the suite's time is made of.

load guest-helpers
load powerloss-kmod
load powerloss-engine

REGION_BYTES=$((2 << 20))
SEQ_WRITER=${MARS_PL_BIN:?}/seq-writer

# uptime_s: the guest's uptime, to time the steps.
uptime_s() { cut -d' ' -f1 /proc/uptime; }

setup_file() {
	echo "# phase ${MARS_PL_PHASE:-?}: setup at $(uptime_s)s of uptime" >&3
	guest_require
	[ -x "$SEQ_WRITER" ] || fail "no seq-writer at '$SEQ_WRITER'"
	PHASE=${MARS_PL_PHASE:?} SEED=${MARS_PL_SEED:?}
	export PHASE SEED
	kmod_setup
	engine_setup
	echo "# phase $PHASE: set up at $(uptime_s)s of uptime" >&3
}

teardown_file() {
	engine_stop
}

@test "mars.ko: recovery, acknowledged writes, disk equals replayed log; writing until the cut" {
	kmod_test
}

@test "engine: recovery, acknowledged writes, device equals applied log; writing until the cut" {
	engine_test
}

# stopped: the first watched process that is gone, as "PID LABEL".
stopped() {
	local pid label
	while read -r pid label; do
		kill -0 "$pid" 2>/dev/null || { echo "$pid $label"; return 0; }
	done <"$POWERLOSS_WATCH"
	return 1
}

@test "everything writes until the power is cut" {
	[ "${MARS_PL_WRITE:-1}" = 1 ] || skip "the last boot only checks"
	local w gone
	for w in "mars.ko writer" "engine writer"; do
		grep -q " $w\$" "$POWERLOSS_WATCH" 2>/dev/null ||
			fail "the $w did not start: a check above failed"
	done
	: >"$POWERLOSS_GO"
	# The host cuts the power within this bound; until then all run.
	guest_wait 200 stopped
	gone=$(stopped)
	tail -n 20 /marsvm/*.out 2>/dev/null | sed 's/^/# /' >&3
	fail "stopped before the power was cut: $gone"
}
