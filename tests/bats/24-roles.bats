#!/usr/bin/env bats
# Roles: the handover `primary` refuses, with the reason and the fix, while
# the old primary's device is open, while this node has not caught up, or
# while its sync is incomplete, and moves the role once all is satisfied;
# `primary --force` demands a paused fetch; `secondary` designates nobody
# with a weak stamp; `wait-resource` waits for a view macro, bounded.

load helpers
load repl

setup() {
	repl_setup alpha beta
	rotate alpha 000000001 2
}

@test "refused while the old primary's device is open, accepted once closed" {
	catch_up alpha beta
	on alpha set-link 1 resource-r0/actual-alpha/open-count >/dev/null
	gossip alpha beta
	run on beta primary r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "the device of r0 is still open on 'alpha' (open-count 1)"
	assert_output --partial "hint: stop the application and unmount /dev/mars/r0 there"
	[ "$(val beta resource-r0/primary)" = alpha ]
	on alpha set-link 0 resource-r0/actual-alpha/open-count >/dev/null
	gossip alpha beta
	run on beta primary r0 --timeout=0
	assert_success
	[ "$(val beta resource-r0/primary)" = beta ]
	gossip beta alpha
	[ "$(val alpha resource-r0/primary)" = beta ]
}

# second_resource: r1 on alpha, beta a synced member, both caught up.
second_resource() {
	truncate -s 1M "$T/disk1-alpha" "$T/disk1-beta"
	on alpha create-resource r1 "$T/disk1-alpha" >/dev/null || fail "create r1"
	gossip alpha beta
	on beta join-resource r1 "$T/disk1-beta" >/dev/null || fail "join r1"
	on beta set-link 1048576 resource-r1/syncstatus-beta >/dev/null
	mesh alpha beta
}

@test "a list moves together: one refusal keeps every key where it was" {
	catch_up alpha beta
	second_resource
	on alpha set-link 1 resource-r1/actual-alpha/open-count >/dev/null
	gossip alpha beta
	run on beta primary r0,r1 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "the device of r1 is still open on 'alpha'"
	[ "$(val beta resource-r0/primary)" = alpha ]
	on alpha set-link 0 resource-r1/actual-alpha/open-count >/dev/null
	gossip alpha beta
	run on beta primary r0,r1 --timeout=0
	assert_success
	[ "$(val beta resource-r0/primary)" = beta ]
	[ "$(val beta resource-r1/primary)" = beta ]
}

@test "--parallel 1 moves a list one by one: a refusal stops only the rest" {
	catch_up alpha beta
	second_resource
	on alpha set-link 1 resource-r1/actual-alpha/open-count >/dev/null
	gossip alpha beta
	run on beta primary r0,r1 --parallel=1 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "moving resources 1 to 1 of 2 ('r0'...)"
	assert_output --partial "the device of r1 is still open on 'alpha'"
	[ "$(val beta resource-r0/primary)" = beta ]
	[ "$(val beta resource-r1/primary)" = alpha ]
	run on beta primary r0,r1 --parallel=0
	[ "$status" -eq 2 ]
	assert_output --partial "invalid --parallel '0'"
	run on beta view r0 --parallel=1
	[ "$status" -eq 2 ]
}

@test "a list moves only when all its checks hold at once, not one after the other" {
	catch_up alpha beta
	second_resource
	on alpha set-link 1 resource-r1/actual-alpha/open-count >/dev/null
	gossip alpha beta
	# While beta waits for r1, r0's device opens; then r1 closes, and
	# only later r0.  Moving when r1 passed would move r0 while open.
	(
		sleep 1
		on alpha set-link 1 resource-r0/actual-alpha/open-count >/dev/null
		gossip alpha beta
		on alpha set-link 0 resource-r1/actual-alpha/open-count >/dev/null
		gossip alpha beta
		sleep 1
		date +%s%N >"$T/r0-closed"
		on alpha set-link 0 resource-r0/actual-alpha/open-count >/dev/null
		gossip alpha beta
	) 3>&- &
	run on beta primary r0,r1 --timeout=30
	wait
	assert_success
	[ "$(val beta resource-r0/primary)" = beta ]
	[ "$(stat -c %.9Y "$T/beta/resource-r0/primary" | tr -d .)" -gt "$(cat "$T/r0-closed")" ]
}

@test "refused while not caught up, naming both positions" {
	mesh alpha beta
	run on beta primary r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "not caught up with 'alpha': it has logged up to logfile 000000002 byte 0, this node replayed up to logfile 000000001 byte 0"
	catch_up alpha beta
	run on beta primary r0 --timeout=0
	assert_success
}

@test "a waiting handover ends with exit 6 after --timeout and says why" {
	mesh alpha beta
	SECONDS=0
	run on beta primary r0 --timeout=1
	[ "$status" -eq 6 ]
	[ "$SECONDS" -lt 10 ]
	assert_output --partial "not caught up"
}

@test "refused while this node's sync is incomplete" {
	catch_up alpha beta
	on beta set-link 0 resource-r0/syncstatus-beta >/dev/null
	run on beta primary r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "the full sync to this node has not finished"
}

@test "refused during a split brain, even when otherwise ready" {
	catch_up alpha beta
	on alpha set-link "$(vlink 000000002 alpha 9 "$(section "$(val alpha resource-r0/version-000000001-alpha)")")" \
		resource-r0/version-000000002-alpha >/dev/null
	on beta set-link "$(vlink 000000003 beta 0 "$(section "$(val beta resource-r0/version-000000002-beta)")")" \
		resource-r0/version-000000003-beta >/dev/null
	mesh alpha beta
	run on beta primary r0 --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "split brain"
}

@test "primary --force: refused with fetch on, accepted after pause-fetch" {
	run on beta primary --force r0
	[ "$status" -eq 5 ]
	assert_output --partial "fetch is still switched on here"
	assert_output --partial "pause-fetch r0"
	on beta pause-fetch r0 >/dev/null
	run on beta primary --force r0
	assert_success
	[ "$(val beta resource-r0/primary)" = beta ]
}

@test "secondary designates none with a weak stamp; a non-member is refused" {
	local s
	s=$(stat -c '%.9Y' "$T/alpha/resource-r0/primary" | tr -d .)
	run on alpha secondary r0
	assert_success
	[ "$(val alpha resource-r0/primary)" = "(none)" ]
	[ "$(stat -c '%.9Y' "$T/alpha/resource-r0/primary" | tr -d .)" = $((s + 1)) ]
	run on alpha primary r0 --json
	assert_output '{"command":"primary","resources":["r0"],"changed":1}'
	run env MARS_ROOT="$T/alpha" MARS_HOST=gamma "$MARSADM" primary r0
	[ "$status" -eq 5 ]
}

@test "wait-resource: returns when the condition holds, times out with the state seen" {
	run on alpha wait-resource r0 primary=alpha --timeout=0
	assert_success
	run on alpha wait-resource r0 is-split-brain=0 --timeout=0
	assert_success
	SECONDS=0
	run on alpha wait-resource r0 primary=beta --timeout=1
	[ "$status" -eq 6 ]
	[ "$SECONDS" -lt 10 ]
	assert_output --partial "'primary' of 'r0' is 'alpha', not 'beta'"
	run on alpha wait-resource r0 frobnicate
	[ "$status" -eq 2 ]
	( sleep 0.5; on alpha secondary r0 >/dev/null ) &
	run on alpha wait-resource r0 'primary=(none)' --timeout=20
	wait
	assert_success
}
