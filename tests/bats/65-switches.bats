#!/usr/bin/env bats
# Todo switches that return only once the daemon acted (issue 16): a
# switch waits, bounded by --timeout, until this node's clusterd echoes
# it as actual-HOST/acted-KEY; a paused fetch writes nothing more, a
# paused replay keeps its disk attached, and view says so (OutDated[F],
# OutDated[R]).  Real sshd and clusterd in network namespaces; every
# wait is bounded, and no verdict depends on how fast the machine is:
# "nothing arrives" is watched for a while and any arrival fails.

load helpers
load replica

teardown() {
	replica_teardown
}

log_bytes_at_least() {	# log_bytes_at_least HOST BYTES
	[ "$(log_bytes "$1")" -ge "$2" ]
}

acted() {	# acted HOST KEY: the switch value HOST's daemon carried out
	val "$1" "actual-$1/acted-$2"
}

# switched HOST CMD KEY VALUE: CMD on HOST returns, and by then HOST's
# daemon has carried out KEY = VALUE.
switched() {
	run marsadm_on "$1" "$2" "$RES" --timeout=60
	assert_success
	[ "$(acted "$1" "$3")" = "$4" ] || fail "$2: acted-$3 is '$(acted "$1" "$3")' on return"
}

# stays_for SECONDS CMD ARGS... OUTPUT: CMD keeps printing OUTPUT for that
# long (polled); a change fails at once with the value seen.
stays_for() {
	local secs=$1 want=${*: -1} got deadline
	set -- "${@:2:$#-2}"
	deadline=$((SECONDS + secs))
	while [ "$SECONDS" -lt "$deadline" ]; do
		got=$("$@")
		[ "$got" = "$want" ] || fail "'$*' moved from $want to $got"
		sleep 0.2
	done
}

replay_pos() {	# replay_pos HOST: its replay link as "NR POS"
	val "$1" "replay-$1" | cut -d, -f1,2
}

# write_dev HOST MIB: MiB of random data onto HOST's device, synced.
write_dev() {
	dd if=/dev/urandom of="$(dev "$1")" bs=1M count="$2" conv=fsync status=none
}

@test "pause-fetch: returns once the fetch stopped; later writes wait for resume-fetch" {
	replica_up alpha beta
	write_dev alpha 1
	wait_same alpha beta 60
	switched beta pause-fetch connect 0
	[ "$(marsadm_on beta view-diskstate "$RES")" = "OutDated[F]" ]
	[ "$(marsadm_on beta view-replstate "$RES")" = PausedFetch ]
	local before primary
	before=$(log_bytes beta)
	primary=$(log_bytes alpha)
	write_dev alpha 4
	# The primary logged it, so a running fetch would move it here.
	wait_for 30 log_bytes_at_least alpha $((primary + 4 * 1048576))
	stays_for 5 log_bytes beta "$before"
	[ "$(marsadm_on beta view-diskstate "$RES")" = "OutDated[F]" ]
	switched beta resume-fetch connect 1
	wait_same alpha beta 60
	wait_for 30 has_value beta "resource-$RES/actual-beta/is-attached" 1
	[ "$(marsadm_on beta view-diskstate "$RES")" = UpToDate ]
}

@test "pause-fetch under a writer that never pauses: returns, and nothing arrives after" {
	replica_up alpha beta
	local writer before primary
	(
		while :; do
			write_dev alpha 1 || exit 1
		done
	) &
	writer=$!
	_netns_record "$writer"
	wait_for 60 log_bytes_at_least beta 2097152	# the fetch streams
	switched beta pause-fetch connect 0
	before=$(log_bytes beta)
	primary=$(log_bytes alpha)
	wait_for 60 log_bytes_at_least alpha $((primary + 2 * 1048576))
	stays_for 3 log_bytes beta "$before"
	kill "$writer"
	wait "$writer" 2>/dev/null || true
	switched beta resume-fetch connect 1
	wait_same alpha beta 60
}

@test "pause-replay: the disk stays attached (OutDated[R]); fetched data waits for resume-replay" {
	replica_up alpha beta
	switched beta pause-replay allow-replay 0
	[ "$(val beta actual-beta/is-replaying)" != 1 ]
	[ "$(val beta actual-beta/is-attached)" = 1 ]
	[ "$(marsadm_on beta view-diskstate "$RES")" = "OutDated[R]" ]
	[ "$(marsadm_on beta view-replstate "$RES")" = PausedReplay ]
	local pos
	pos=$(replay_pos beta)
	write_dev alpha 2
	# The fetch goes on: the bytes arrive, the replay stands still.
	wait_for 60 log_bytes_at_least beta "$(log_bytes alpha)"
	stays_for 3 replay_pos beta "$pos"
	[ "$(marsadm_on beta view-diskstate "$RES")" = "OutDated[R]" ]
	switched beta resume-replay allow-replay 1
	wait_same alpha beta 60
}

@test "pause-sync, detach, down and their opposites wait for the daemon" {
	replica_up alpha beta
	switched beta pause-sync sync 0
	switched beta resume-sync sync 1
	switched beta detach attach 0
	[ "$(val beta actual-beta/is-attached)" = 0 ]
	[ "$(marsadm_on beta view-diskstate "$RES")" = Detached ]
	switched beta attach attach 1
	run marsadm_on beta down "$RES" --timeout=60
	assert_success
	local k
	for k in attach connect sync allow-replay; do
		[ "$(acted beta "$k")" = 0 ] || fail "acted-$k after down: $(acted beta "$k")"
	done
	[ "$(val beta actual-beta/is-replaying)" != 1 ]
	write_dev alpha 1
	run marsadm_on beta up "$RES" --timeout=60
	assert_success
	for k in attach connect sync allow-replay; do
		[ "$(acted beta "$k")" = 1 ] || fail "acted-$k after up: $(acted beta "$k")"
	done
	wait_same alpha beta 60
}

@test "a switch the daemon cannot carry out times out (exit 6) with its reason" {
	replica_up alpha beta
	fs_mount alpha mkfs
	wait_for 30 has_value alpha "resource-$RES/actual-alpha/open-count" 1
	run marsadm_on alpha detach "$RES" --timeout=2
	[ "$status" -eq 6 ] || fail "detach of an open device: status $status: $output"
	assert_output --partial "clusterd did not carry out 'detach $RES' within 2 s"
	assert_output --partial "device is open"
	[ "$(acted alpha attach)" = 1 ]
	fs_umount alpha
	run marsadm_on alpha attach "$RES" --timeout=60
	assert_success
}

@test "no clusterd on the node: a switch is recorded and returns at once" {
	replica_up alpha beta
	clusterd_stop beta
	rm -f "$(netns_root beta)/resource-$RES/.driver-status"
	run marsadm_on beta pause-fetch "$RES" --verbose
	assert_success
	assert_output --partial "no clusterd runs '$RES' on this node"
	[ "$(val beta todo-beta/connect)" = 0 ]
	# --timeout=0 never waits, with a daemon or without.
	run marsadm_on beta resume-fetch "$RES" --timeout=0
	assert_success
	clusterd_start beta
	wait_for 30 has_value beta "resource-$RES/actual-beta/acted-connect" 1
}
