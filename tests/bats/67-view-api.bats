#!/usr/bin/env bats
# One view model for every screen (issue 17): on each node of a
# replicating cluster (the scenarios of 60-replication: writes arriving,
# fetch and replay paused, a handover), `marsadm view --json` and the
# node's /api/v1/resources say the same about its own replica, field by
# field: role, disk, repl, flags, lag in bytes and in seconds.  Both
# print the words of view/ and derive none, so any difference is a bug.
# The page renders a snapshot taken once per period (1 s here), so each
# comparison is awaited, bounded; a difference that persists fails.

load helpers
load replica

teardown() {
	replica_teardown
}

# agree HOST: HOST's view of its replica equals its page's row for it.
# lag_s is compared to whole seconds, and may be up to 2 s behind view's
# figure while it grows: the page's snapshot is up to one period old.
agree() {
	local v a
	v=$(marsadm_on "$1" view "$RES" --json) || return 1
	a=$(page "$1" /api/v1/resources) || return 1
	jq -n -e --argjson v "$v" --argjson a "$a" --arg h "$1" --arg r "$RES" '
		[$a.resources[] | select(.name == $r)] as $res |
		[$res[].replicas[] | select(.host == $h)] as $p |
		($p | length) == 1 and $res[0].split_brain == $v["is-split-brain"] and $p[0].role == $v.role and $p[0].disk == $v.diskstate and
		$p[0].repl == $v.replstate and $p[0].flags == $v.flags and
		$p[0].lag_bytes == $v["lag-bytes"] and
		($v["lag-s"] - ($p[0].lag_s | floor)) as $d | $d >= 0 and $d <= 2' >/dev/null && return 0
	echo "view on $1: $(jq -c '{role, diskstate, replstate, flags, "lag-bytes", "lag-s",
		"is-split-brain"}' <<<"$v")"
	echo "page on $1: $(jq -c --arg h "$1" '.resources[].replicas[] | select(.host == $h) |
		{role, disk, repl, flags, lag_bytes, lag_s}' <<<"$a")"
	return 1
}

# words_are HOST ROLE DISK REPL: HOST's view says so (and so its page).
words_are() {
	[ "$(marsadm_on "$1" view-role "$RES")" = "$2" ] &&
	[ "$(marsadm_on "$1" view-diskstate "$RES")" = "$3" ] &&
	[ "$(marsadm_on "$1" view-replstate "$RES")" = "$4" ]
}

lag_bytes_over() {	# lag_bytes_over HOST N: HOST's view-lag-bytes > N
	[ "$(marsadm_on "$1" view-lag-bytes "$RES")" -gt "$2" ]
}

require_tools() {
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
	command -v curl >/dev/null || fail "curl missing"
}

@test "replicating: view and page agree on each node, primary and secondary" {
	require_tools
	replica_up alpha beta
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=4 conv=notrunc,fsync status=none
	wait_same alpha beta 60
	wait_for 20 words_are alpha Primary UpToDate Replicating
	wait_for 20 words_are beta Secondary UpToDate Replaying
	wait_for 20 agree alpha
	wait_for 20 agree beta
}

@test "paused: fetch off, then replay off with a lag; view and page agree throughout" {
	require_tools
	replica_up alpha beta
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	wait_for 30 words_are beta Secondary "OutDated[F]" PausedFetch
	wait_for 20 agree beta
	run marsadm_on beta resume-fetch "$RES"
	assert_success
	run marsadm_on beta pause-replay "$RES"
	assert_success
	wait_for 30 replay_paused beta
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=4 conv=notrunc,fsync status=none
	wait_for 30 lag_bytes_over beta 0
	wait_for 30 words_are beta Secondary "OutDated[R]" PausedReplay
	wait_for 20 agree beta
	wait_for 20 agree alpha
	run marsadm_on beta resume-replay "$RES"
	assert_success
	wait_same alpha beta 60
	wait_for 30 words_are beta Secondary UpToDate Replaying
	wait_for 20 agree beta
}

@test "handover: after the role moved, view and page agree on both nodes" {
	require_tools
	replica_up alpha beta
	run marsadm_on beta primary "$RES" --timeout=30
	assert_success
	wait_for 30 is_primary beta
	wait_for 20 words_are beta Primary UpToDate Replicating
	wait_for 20 words_are alpha Secondary UpToDate Replaying
	wait_for 20 agree beta
	wait_for 20 agree alpha
}

@test "failover: forced primary, then split brain on both sides; view and page agree on each" {
	require_tools
	primary_cut_off_writing
	beta_forced_primary
	wait_for 20 agree beta
	histories_meet_split
	wait_for 20 agree alpha
	wait_for 20 agree beta
}
