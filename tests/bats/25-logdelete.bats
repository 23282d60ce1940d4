#!/usr/bin/env bats
# Logfile deletion: cluster-wide and all-or-nothing.  Logfiles every member
# has replayed go everywhere (tombstones carry the deletion to the other
# trees); a lagging member holds them all, `log-delete` and `view` name it,
# and `leave-resource` on it frees the space.

load helpers
load repl

setup() {
	repl_setup alpha beta gamma
	local nr
	for nr in 000000001 000000002 000000003; do
		rotate alpha $nr 2
	done
	# alpha's engine has written everything back: its replay link moves on
	on alpha set-link log-000000004-alpha,0,0 resource-r0/replay-alpha >/dev/null
	mesh alpha beta gamma --logs
}

logs() {	# logs NODE: the logfile names in NODE's tree
	(cd "$T/$1/resource-r0" && find . -maxdepth 1 -type f -name 'log-*' -printf '%f\n' | sort)
}

@test "every member done: logfiles below the lowest replay link go on all nodes" {
	follow beta >/dev/null
	follow gamma >/dev/null
	mesh alpha beta gamma
	run on alpha log-delete r0 --json
	assert_success
	assert_output '{"resource":"r0","deleted":["log-000000001-alpha","log-000000002-alpha","log-000000003-alpha"],"blocked_by":null}'
	[ "$(logs alpha)" = log-000000004-alpha ]
	[ "$(val alpha resource-r0/log-000000001-alpha)" = .deleted ]
	mesh alpha beta gamma
	[ "$(logs beta)" = log-000000004-alpha ]
	[ "$(logs gamma)" = log-000000004-alpha ]
	# version links stay one logfile longer
	[ "$(val alpha resource-r0/version-000000003-alpha)" != .deleted ]
	[ "$(val alpha resource-r0/version-000000002-alpha)" = .deleted ]
	run on alpha view-deletion-blocker r0
	assert_output "(none)"
}

@test "a lagging member blocks deletion; log-delete and view name it" {
	follow gamma >/dev/null
	mesh alpha beta gamma
	run on alpha log-delete r0
	assert_success
	assert_output --partial "logfile deletion is blocked by 'beta' at logfile 000000001"
	assert_output --partial "leave-resource r0"
	[ "$(logs alpha | wc -l)" -eq 4 ]
	run on alpha view-deletion-blocker r0
	assert_output beta
	run on alpha view r0
	assert_line --regexp "^  logfile deletion blocked by 'beta' at logfile 000000001 for [0-9]+m[0-9]{2}s$"
	assert_line --partial "fix: bring 'beta' up to date, or 'marsadm leave-resource r0' on it"
}

@test "leave-resource on the lagging member frees the logfiles" {
	follow gamma >/dev/null
	run on beta leave-resource r0
	[ "$status" -eq 5 ]
	assert_output --partial "run 'marsadm down r0' first"
	on beta down r0 >/dev/null
	run on beta leave-resource r0
	assert_success
	[ "$(val beta resource-r0/data-beta)" = .deleted ]
	[ "$(val beta resource-r0/replay-beta)" = .deleted ]
	[ "$(val beta resource-r0/todo-beta/attach)" = .deleted ]
	mesh alpha beta gamma
	run on alpha view-members r0
	assert_output alpha,gamma
	run on alpha log-delete r0
	assert_success
	refute_output --partial "blocked"
	[ "$(logs alpha)" = log-000000004-alpha ]
}

@test "leave-resource --host=DEAD --force from another node, for a dead member" {
	follow gamma >/dev/null
	mesh alpha beta gamma
	run on alpha leave-resource r0 --host=beta
	[ "$status" -eq 5 ]
	run on alpha leave-resource r0 --host=beta --force
	assert_success
	run on alpha view-deletion-blocker r0
	assert_output "(none)"
}

@test "cron deletes for every resource of this node; dry-run changes nothing" {
	follow beta >/dev/null
	follow gamma >/dev/null
	mesh alpha beta gamma
	local before
	before=$(cd "$T/alpha" && find . -printf '%p %l %T@\n' | sort)
	run on alpha cron --dry-run
	assert_success
	assert_line "unlink resource-r0/log-000000001-alpha"
	[ "$before" = "$(cd "$T/alpha" && find . -printf '%p %l %T@\n' | sort)" ]
	run on alpha cron
	assert_success
	[ "$(logs alpha)" = log-000000004-alpha ]
}

@test "an evicted member holds back no deletion, though its links stay" {
	follow gamma >/dev/null
	mesh alpha beta gamma
	# beta is dead and evicted with --force from alpha: its replay link
	# stays in the tree (only beta may delete it) but counts no more
	on alpha set-link alpha evicted/beta >/dev/null
	run on alpha view-deletion-blocker r0
	assert_output "(none)"
	run on alpha log-delete r0 --json
	assert_success
	assert_output --partial '"blocked_by":null'
	[ "$(logs alpha)" = log-000000004-alpha ]
	[ -n "$(val alpha resource-r0/replay-beta)" ]
}
