#!/usr/bin/env bats
# Fetch limits, weights and compression set at run time (issue 18,
# docs/state-tree.md 3.7): marsadm writes them into the tree, clusterd's
# driver follows them within a tick.  Real sshd and clusterd in network
# namespaces.  Rates are measured over windows of several seconds with
# limits of 1 to 2 MiB/s, far below what SSH carries between namespaces,
# and a backlog written while the fetch was paused: the verdict is that
# the rate is not above the limit by more than 10%, and not below it by
# more than 10% while bytes were still waiting.  Every wait is bounded.

load helpers
# No rotation while a rate is measured: a new logfile is a new stream.
ROTATE_SIZE=64M
DISK_MB=24
# The daemon default every host starts with; the tree lowers it.
OPTION_BPS=$((2 * 1048576))
CLUSTERD_TEST_OPTS="--period-ms 1000 --heartbeat-ms 1000 --timeout-ms 3000 --backoff-max-ms 1000 --log-level debug --fetch-bwlimit $OPTION_BPS"
load replica

teardown() {
	replica_teardown
}

more_than() {	# more_than RES HOST BYTES: HOST holds more of RES's log than that
	[ "$(log_bytes "$2" "$1")" -gt "$3" ]
}

# drv RES HOST KEY: a line of HOST's driver status file for RES.
drv() {
	sed -n "s/^$3=//p" "$(netns_root "$2")/resource-$1/.driver-status" 2>/dev/null
}

drv_is() {	# drv_is RES HOST KEY VALUE
	local got
	got=$(drv "$1" "$2" "$3")
	echo "$3 of $1 on $2: '$got'"
	[ "$got" = "$4" ]
}

# write_res RES MIB: MiB of random data onto alpha's device of RES, synced.
write_res() {
	dd if=/dev/urandom of="$(RES=$1 dev alpha)" bs=1M count="$2" conv=fsync status=none
}

# resume RES...: resume beta's fetch of each RES, wait until it moved, then
# one more second for the streams to run on their limits (what a bucket
# saves up while idle is at most an eighth of a second's worth).
resume() {
	local res
	declare -A b0
	for res in "$@"; do
		b0[$res]=$(log_bytes beta "$res")
		run marsadm_on beta resume-fetch "$res" --timeout=60
		assert_success
	done
	for res in "$@"; do
		wait_for 30 more_than "$res" beta "${b0[$res]}"
	done
	sleep 1
}

# second_resource RES: RES on alpha (primary) and beta, on disk images of
# its own, fully synced.
second_resource() {
	local h
	for h in alpha beta; do
		truncate -s "${DISK_MB}M" "$NETNS_DIR/disk-$h-$1.img"
	done
	run marsadm_on alpha create-resource "$1" "$NETNS_DIR/disk-alpha-$1.img"
	assert_success
	wait_for 15 has_value beta "resource-$1/primary" alpha
	run marsadm_on beta join-resource "$1" "$NETNS_DIR/disk-beta-$1.img"
	assert_success
	RES=$1 wait_for 60 synced beta
}

# measure SECONDS RES...: beta's fetch rate of each RES over the window,
# as "RES RATE BACKLOG" lines (BACKLOG 1: bytes were still waiting at the
# end of the window, so the fetch could have run at its limit throughout).
measure() {
	local secs=$1 res t0 t1
	shift
	declare -A b0
	for res in "$@"; do b0[$res]=$(log_bytes beta "$res"); done
	t0=$(date +%s.%N)
	sleep "$secs"
	t1=$(date +%s.%N)
	for res in "$@"; do
		echo "$res $(log_bytes beta "$res") ${b0[$res]} $t0 $t1 $(log_bytes alpha "$res")"
	done | awk '{ printf "%s %.0f %d\n", $1, ($2 - $3) / ($5 - $4), $2 < $6 }'
}

# holds RES LIMIT: the verdict of the header on RES's line of measure's
# output (in $output).
holds() {
	local rate backlog
	read -r rate backlog < <(awk -v r="$1" '$1 == r { print $2, $3 }' <<<"$output")
	echo "$1: rate $rate B/s, limit $2 B/s, backlog $backlog"
	echo "# $1: fetched at $rate B/s under a limit of $2 B/s" >&3
	awk -v r="$rate" -v l="$2" 'BEGIN { exit !(r <= l * 1.10) }' ||
		fail "$1: fetch at $rate B/s, above the limit $2 B/s by more than 10%"
	[ "$backlog" = 1 ] || fail "$1: no backlog left: the window measured nothing at the limit"
	awk -v r="$rate" -v l="$2" 'BEGIN { exit !(r >= l * 0.90) }' ||
		fail "$1: fetch at $rate B/s with bytes waiting, below the limit $2 B/s by more than 10%"
}

@test "set-fetch-bwlimit on a secondary holds within 10%; clear restores the daemon's limit" {
	replica_up alpha beta
	wait_same alpha beta 60
	run marsadm_on beta set-compress "$RES" none --this-node
	assert_success
	wait_for 10 drv_is "$RES" beta compress none
	wait_for 10 drv_is "$RES" beta limit_fetch "$OPTION_BPS"
	[ "$(drv "$RES" beta limit_fetch_from)" = option ]

	run marsadm_on beta pause-fetch "$RES" --timeout=60
	assert_success
	write_res "$RES" 16
	run marsadm_on beta set-fetch-bwlimit "$RES" 1M --this-node
	assert_success
	wait_for 10 drv_is "$RES" beta limit_fetch 1048576
	[ "$(drv "$RES" beta limit_fetch_from)" = defaults-HOST ]
	run marsadm_on beta view "$RES"
	assert_line --partial "limits: fetch 1.00 MiB/s (defaults-HOST) node none now 1.00 MiB/s"
	resume "$RES"
	run measure 8 "$RES"
	holds "$RES" 1048576

	# Cleared, the daemon's --fetch-bwlimit applies again.
	run marsadm_on beta set-fetch-bwlimit "$RES" clear --this-node
	assert_success
	wait_for 10 drv_is "$RES" beta limit_fetch "$OPTION_BPS"
	[ "$(drv "$RES" beta limit_fetch_from)" = option ]
	write_res "$RES" 16
	sleep 1
	run measure 6 "$RES"
	holds "$RES" "$OPTION_BPS"
}

@test "a tree limit above the option does not raise it; a bad value is ignored, logged once, counted" {
	replica_up alpha beta
	run marsadm_on alpha set-fetch-bwlimit "$RES" 8M
	assert_success
	wait_for 10 has_value beta "resource-$RES/defaults/fetch-bwlimit" 8388608
	sleep 0.5
	wait_for 10 drv_is "$RES" beta limit_fetch "$OPTION_BPS"
	[ "$(drv "$RES" beta limit_fetch_from)" = option ]
	# A member writes what marsadm would refuse; beta's driver must not use it.
	run marsadm_on alpha set-link 1k "resource-$RES/defaults/fetch-bwlimit"
	assert_success
	wait_for 10 has_value beta "resource-$RES/defaults/fetch-bwlimit" 1k
	wait_for 10 grep -q "ignoring resource-$RES/defaults/fetch-bwlimit = '1k'" \
		"$NETNS_DIR/beta/clusterd.log"
	sleep 2	# twenty ticks that read it again
	[ "$(grep -c "ignoring resource-$RES/defaults/fetch-bwlimit" \
		"$NETNS_DIR/beta/clusterd.log")" -eq 1 ]
	[ "$(drv "$RES" beta limit_fetch)" = "$OPTION_BPS" ]
	run netns_exec beta curl -sf --max-time 5 http://127.0.0.1:7780/metrics
	assert_success
	assert_line "mars_settings_invalid_total 1"
	run marsadm_on beta show-settings "$RES"
	assert_line "$RES fetch-bwlimit - unset"
	assert_line "  ignored: resource-$RES/defaults/fetch-bwlimit = '1k' (not in the grammar)"
}

@test "set-fetch-priority 3:1 shares the node limit 3:1" {
	replica_up alpha beta
	second_resource r1
	run marsadm_on beta set-fetch-bwlimit all 2M --this-node
	assert_success
	run marsadm_on beta set-fetch-priority "$RES" 300
	assert_success
	run marsadm_on beta set-fetch-priority r1 100
	assert_success
	wait_for 10 drv_is "$RES" beta fetch_priority 300
	wait_for 10 drv_is r1 beta limit_node 2097152
	[ "$(drv r1 beta limit_node_from)" = defaults-HOST ]

	for res in "$RES" r1; do
		run marsadm_on beta pause-fetch "$res" --timeout=60
		assert_success
	done
	write_res "$RES" 16
	write_res r1 8
	resume "$RES" r1
	# Both busy: the driver's shares are exact.
	wait_for 10 drv_is "$RES" beta limit_share 1572864
	wait_for 10 drv_is r1 beta limit_share 524288
	run measure 6 "$RES" r1
	holds "$RES" 1572864
	holds r1 524288
}
