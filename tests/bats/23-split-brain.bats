#!/usr/bin/env bats
# Split brain: two nodes both primary (failover with the old primary still
# writing), each rotating its own logfiles.  Every node must detect it from
# its own tree after gossip, `view` must say where the histories part and
# how much each side has after that point, and `invalidate` on the side to
# discard must clear it everywhere.

load helpers
load repl

setup() {
	repl_setup alpha beta
	rotate alpha 000000001 2
	catch_up alpha beta
}

# split: the network is cut; beta fails over and logs 3 records, alpha
# keeps logging 5; both rotate; then the network returns.
split() {
	on beta pause-fetch r0 >/dev/null
	on beta primary --force r0 >/dev/null || fail "primary --force failed"
	rotate beta 000000003 3
	on beta log-rotate r0 >/dev/null || fail "beta rotate 2"
	rotate alpha 000000002 5
	mesh alpha beta --logs
}

@test "no split brain while one primary logs and the other follows" {
	run on alpha view-is-split-brain r0
	assert_output 0
	run on beta view-split-point r0
	assert_output "(none)"
}

@test "both primary: detected on both sides, with the divergence point and amounts" {
	split
	local a b node
	a=$(stat -c %s "$T/alpha/resource-r0/log-000000002-alpha")
	b=$(stat -c %s "$T/beta/resource-r0/log-000000003-beta")
	for node in alpha beta; do
		run on "$node" view-is-split-brain r0
		assert_output 1
		run on "$node" view-split-point r0
		assert_output "logfile 000000002 byte 0: alpha +$a, beta +$b"
		run on "$node" view r0
		assert_line "  split brain at logfile 000000002 byte 0: 'alpha' has $a bytes after it, 'beta' $b"
		assert_line "  fix: 'marsadm invalidate r0' on the side to discard"
	done
}

@test "a handover is refused during a split brain, naming it" {
	split
	on alpha set-link 1048576 resource-r0/syncstatus-alpha >/dev/null
	run on alpha primary r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "split brain: 'alpha' and 'beta' part at logfile 000000002"
	assert_output --partial "invalidate r0"
}

@test "invalidate on the discarded side clears the split brain on both" {
	split
	[ "$(val beta resource-r0/primary)" = beta ]
	run on alpha invalidate r0
	assert_success
	[ "$(val alpha resource-r0/syncstatus-alpha)" = 0 ]
	[ "$(val alpha resource-r0/skip-check-alpha)" = 2 ]
	[ "$(val alpha resource-r0/replay-alpha)" = "log-000000002-alpha,0,0" ]
	[ ! -e "$T/alpha/resource-r0/log-000000003-alpha" ]
	[ "$(val alpha resource-r0/log-000000003-alpha)" = .deleted ]
	mesh alpha beta
	[ ! -e "$T/beta/resource-r0/log-000000003-alpha" ]
	run on alpha view-is-split-brain r0
	assert_output 0
	run on beta view-is-split-brain r0
	assert_output 0
	# alpha follows beta's history from here
	mesh alpha beta --logs
	run follow alpha
	assert_success
	assert_output "log-000000004-beta,0"
	mesh alpha beta
	run on beta view-is-split-brain r0
	assert_output 0
}

@test "invalidate waits while this node still logs as primary, bounded by --timeout" {
	split
	on alpha set-link 1 resource-r0/actual-alpha/is-primary >/dev/null
	local before
	before=$(readlink "$T/alpha/resource-r0/replay-alpha")
	run on alpha invalidate r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "'alpha' still logs as primary of 'r0'"
	assert_output --partial "hint: close its device"
	run on alpha invalidate r0 --timeout=1
	[ "$status" -eq 6 ]
	[ "$(readlink "$T/alpha/resource-r0/replay-alpha")" = "$before" ]
	# The engine leaves the role meanwhile: invalidate goes on.
	(sleep 1; on alpha set-link 0 resource-r0/actual-alpha/is-primary >/dev/null) 3>&- &
	run on alpha invalidate r0 --timeout=30
	wait
	assert_success
	[ "$(val alpha resource-r0/replay-alpha)" = "log-000000002-alpha,0,0" ]
}

@test "invalidate is refused on the designated primary" {
	split
	run on beta invalidate r0
	[ "$status" -eq 5 ]
	assert_output --partial "designated primary"
}

@test "log-purge-all removes only the diverged part; nothing to do without a split" {
	run on beta log-purge-all r0
	assert_success
	split
	run on alpha log-purge-all r0 --dry-run
	assert_success
	assert_line "unlink resource-r0/log-000000003-alpha"
	assert_line --partial "set resource-r0/log-000000003-alpha .deleted"
	run on alpha log-purge-all r0
	assert_success
	[ ! -e "$T/alpha/resource-r0/log-000000003-alpha" ]
	[ "$(val alpha resource-r0/version-000000003-alpha)" = .deleted ]
}

@test "log-purge-all removes every diverged logfile, however many (no silent cap)" {
	split
	local nr
	# 300 more of alpha's own logfiles after the split point: more than any
	# fixed table of operations would hold.
	for nr in $(seq 10 309); do
		: >"$T/alpha/resource-r0/$(printf 'log-%09d-alpha' "$nr")"
	done
	run on alpha log-purge-all r0
	assert_success
	# What is left of them are tombstones (symbolic links), no file.
	run find "$T/alpha/resource-r0" -type f -name 'log-*-alpha' ! -name 'log-00000000[12]-alpha'
	assert_output ""
	[ "$(find "$T/alpha/resource-r0" -type l -name 'log-*-alpha' | wc -l)" = 301 ]
}
