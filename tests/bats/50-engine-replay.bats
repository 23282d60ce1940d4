#!/usr/bin/env bats
# The userspace engine as a secondary: replay following a logfile that
# grows while it is replayed, stop at a corrupt record with nothing after
# it applied, the apply tool, and bad input.  Logfiles come from the
# deterministic forger, so the expected disk is known exactly.

load helpers
load ../helpers/engine-lib

setup() {
	engine_setup
	[ -x "$FORGE_LOG" ] || fail "forge-log not built at $FORGE_LOG (run make)"
	mkdir -p "$RDIR"
	LOG=$RDIR/log-000000001-beta
	STATUS=$RDIR/.engine-status
	truncate -s 16M "$DISK"
}

teardown() {
	engine_teardown
}

# forge N: a logfile of N 4 KiB records over 16 MiB at $T/full.log, its
# record offsets in $T/offsets (one per line, then the file size).
forge() {
	"$FORGE_LOG" "$T/full.log" --records "$1" --payload 4096 --dev-size 16777216 \
		--seed 7 --manifest "$T/manifest"
	{ awk '{print $1}' "$T/manifest"; stat -c %s "$T/full.log"; } >"$T/offsets"
}

# The image the first K records of $T/full.log produce on zeros.
expected_image() {
	truncate -s 16M "$2"
	head -c "$(sed -n "$(($1 + 1))p" "$T/offsets")" "$T/full.log" >"$T/prefix.log"
	"$ENGINE" apply --disk "$2" --logfile "$T/prefix.log" >/dev/null
}

replay_start() {
	"$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$LOG" \
		--checkpoint-ms 100 "$@" >"$T/replay.out" 2>&1 3>&- &
	ENGINE_PID=$!
	echo "$ENGINE_PID" >>"$T/cleanup.pids"
}

# replay_at POS STATE [RESULT]: the status file says so.
replay_at() {
	[ -f "$STATUS" ] || return 1
	cat "$STATUS"
	[ "$(engine_status_field "$STATUS" applied_pos)" = "$1" ] &&
		[ "$(engine_status_field "$STATUS" replay)" = "$2" ] &&
		{ [ -z "${3:-}" ] || [ "$(engine_status_field "$STATUS" stop_result)" = "$3" ]; }
}

@test "replay: follows a logfile that grows, waits on an incomplete tail, ends on the same disk" {
	forge 120
	size=$(stat -c %s "$T/full.log")
	: >"$LOG"
	replay_start
	wait_for 10 replay_at 0 waiting end
	have=0
	# Cut points: on a record boundary, inside a header, inside a
	# payload, inside a trailer, then the rest.
	for k in 10 25 40 77; do
		off=$(sed -n "$((k + 1))p" "$T/offsets")
		for cut in "$off" $((off + 30)) $((off + 2000)) $((off + 4150)); do
			[ "$cut" -gt "$have" ] || continue
			tail -c +$((have + 1)) "$T/full.log" | head -c $((cut - have)) >>"$LOG"
			have=$cut
			if [ "$cut" -eq "$off" ]; then
				wait_for 10 replay_at "$off" waiting end
			else
				wait_for 10 replay_at "$off" waiting incomplete
			fi
		done
	done
	tail -c +$((have + 1)) "$T/full.log" >>"$LOG"
	wait_for 10 replay_at "$size" waiting end
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "log-000000001-beta,$size,0"
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
	grep -q "rate=" "$T/replay.out"
	expected_image 120 "$T/expected.img"
	cmp "$T/expected.img" "$DISK"
}

@test "replay: a corrupt record stops it with offset and reason; nothing after it is applied" {
	forge 50
	cp "$T/full.log" "$LOG"
	bad=$(sed -n 21p "$T/offsets")		# record 21
	printf '\xff' | dd of="$LOG" bs=1 seek=$((bad + 64 + 100)) conv=notrunc 2>/dev/null
	replay_start
	wait_for 20 pid_gone "$ENGINE_PID"
	rc=0
	wait "$ENGINE_PID" || rc=$?
	cat "$T/replay.out"
	[ "$rc" -eq 4 ]
	grep -q "stopped at offset $bad: corrupt (bad-checksum)" "$T/replay.out"
	replay_at "$bad" stopped corrupt
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "log-000000001-beta,$bad,0"
	expected_image 20 "$T/expected.img"
	cmp "$T/expected.img" "$DISK"
	# And the stop mattered: the whole log would give another disk.
	expected_image 50 "$T/all.img"
	! cmp -s "$T/all.img" "$DISK"
}

@test "replay: restarts from a recorded position" {
	forge 30
	cp "$T/full.log" "$LOG"
	mid=$(sed -n 16p "$T/offsets")
	expected_image 15 "$DISK"
	replay_start --from "$mid"
	size=$(stat -c %s "$LOG")
	wait_for 10 replay_at "$size" waiting end
	engine_stop TERM
	[ "$(engine_status_field "$STATUS" records)" = 15 ]
	expected_image 30 "$T/expected.img"
	cmp "$T/expected.img" "$DISK"
}

@test "apply: clean, truncated, torn and corrupt logfiles get distinct exit codes" {
	forge 20
	run "$ENGINE" apply --disk "$DISK" --logfile "$T/full.log"
	assert_success
	assert_output --partial "applied 20 records"

	head -c $(($(sed -n 11p "$T/offsets") + 100)) "$T/full.log" >"$T/cut.log"
	run "$ENGINE" apply --disk "$DISK" --logfile "$T/cut.log"
	assert_failure 7
	assert_output --partial "applied 10 records"
	assert_output --partial "incomplete (short)"

	"$FORGE_LOG" "$T/torn.log" --records 5 --unmarked-last --dev-size 16777216
	run "$ENGINE" apply --disk "$DISK" --logfile "$T/torn.log"
	assert_failure 7
	assert_output --partial "applied 4 records"
	assert_output --partial "torn (no-marker)"

	cp "$T/full.log" "$T/bad.log"
	printf 'X' | dd of="$T/bad.log" bs=1 seek=$(($(sed -n 6p "$T/offsets") + 8)) \
		conv=notrunc 2>/dev/null
	run "$ENGINE" apply --disk "$DISK" --logfile "$T/bad.log"
	assert_failure 4
	assert_output --partial "applied 5 records"
	assert_output --partial "corrupt (bad-version)"
}

@test "replay and apply: bad input is refused with a clear error" {
	forge 5
	cp "$T/full.log" "$T/not-a-logfile"
	run "$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$T/not-a-logfile"
	assert_failure 1
	assert_output --partial "cannot replay"
	run "$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$LOG"
	assert_failure 1
	assert_output --partial "No such file"
	run "$ENGINE" apply --disk "$DISK" --logfile "$T/full.log" --from 5
	assert_failure 1
	run "$ENGINE" apply --disk "$T/none.img" --logfile "$T/full.log"
	assert_failure 1
	[ ! -e "$T/none.img" ]

	# Records for a larger device than the disk: stop before them.
	"$FORGE_LOG" "$LOG" --records 40 --payload 4096 --dev-size 67108864 --seed 3
	md5=$(md5sum <"$DISK")
	run timeout 20 "$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$LOG"
	assert_failure 1
	assert_output --partial "reaches past the end of the disk"

	# A second engine on a resource in replay is refused.
	: >"$T/empty"
	cp "$T/empty" "$LOG"
	replay_start
	wait_for 10 replay_at 0 waiting
	run "$ENGINE" replay --resource "$RES" --disk "$DISK" --logfile "$LOG"
	assert_failure 1
	assert_output --partial "in use by another engine"
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
}

@test "replay then primary: a former secondary starts a fresh logfile after the replayed one" {
	forge 10
	cp "$T/full.log" "$LOG"
	# An old logfile of our own from an earlier primary period.
	"$FORGE_LOG" "$RDIR/log-000000001-$MARS_HOST" --records 3 --dev-size 16777216
	replay_start
	wait_for 10 replay_at "$(stat -c %s "$LOG")" waiting end
	engine_stop TERM
	md5=$(md5sum <"$DISK")
	engine_start
	assert_equal "$(readlink "$RDIR/replay-$MARS_HOST")" "log-000000002-$MARS_HOST,0,0"
	[ -f "$RDIR/log-000000002-$MARS_HOST" ]
	assert_equal "$(md5sum <"$MNT/$RES")" "$md5"
	engine_stop TERM
	[ "$ENGINE_RC" -eq 0 ]
}
