#!/usr/bin/env bats
# The run-time settings commands (docs/state-tree.md 3.7) on a tree, no
# daemon: set-fetch-bwlimit, set-fetch-priority, set-compress and
# show-settings.  What they write is the canonical value clusterd's parser
# takes; every refusal leaves the tree as it was, with its exit code.
# tests/bats/66-bwlimit.bats checks that clusterd follows them.

load helpers
load state

setup() {
	mars_common_setup
}

@test "set-fetch-bwlimit: suffixes become plain bytes; 0 is kept; clear deletes" {
	new_resource r0
	run mars set-fetch-bwlimit r0 10M
	assert_success
	assert_output ""
	[ "$(value resource-r0/defaults/fetch-bwlimit)" = 10485760 ]
	run mars set-fetch-bwlimit r0 5000k --this-node
	assert_success
	[ "$(value resource-r0/defaults-alpha/fetch-bwlimit)" = 5000000 ]
	run mars set-fetch-bwlimit r0 0 --this-node
	assert_success
	[ "$(value resource-r0/defaults-alpha/fetch-bwlimit)" = 0 ]
	run mars set-fetch-bwlimit r0 clear
	assert_success
	[ "$(value resource-r0/defaults/fetch-bwlimit)" = .deleted ]
	[ "$(value resource-r0/defaults-alpha/fetch-bwlimit)" = 0 ]
}

@test "set-fetch-bwlimit all: the node's limit at the root" {
	new_resource r0
	run mars set-fetch-bwlimit all 2M --this-node --json
	assert_success
	assert_output '{"command":"set-fetch-bwlimit","resources":[],"changed":1}'
	[ "$(value defaults-alpha/fetch-bwlimit)" = 2097152 ]
	run mars set-fetch-bwlimit all 1G
	assert_success
	[ "$(value defaults/fetch-bwlimit)" = 1073741824 ]
	run mars show-settings
	assert_success
	assert_line "(node) fetch-bwlimit 2097152 defaults-HOST"
	assert_line "r0 fetch-bwlimit - unset"
}

@test "set-fetch-priority and set-compress; show-settings and its --json" {
	new_resource r0
	new_resource r1
	run mars set-fetch-priority r0,r1 300
	assert_success
	run mars set-fetch-priority r1 50 --this-node
	assert_success
	run mars set-compress r0 none --this-node
	assert_success
	run mars set-compress r1 zstd
	assert_success
	[ "$(value resource-r0/defaults/fetch-priority)" = 300 ]
	[ "$(value resource-r1/defaults-alpha/fetch-priority)" = 50 ]
	run mars show-settings r1
	assert_success
	assert_output "$(printf '%s\n' "r1 fetch-bwlimit - unset" "r1 fetch-priority 50 defaults-HOST" \
		"r1 compress zstd defaults")"
	run mars show-settings r0 --json
	assert_success
	assert_output '{"resource":"r0","fetch-bwlimit":{"value":null,"from":"none","ignored":[]},"fetch-priority":{"value":"300","from":"defaults","ignored":[]},"compress":{"value":"none","from":"defaults-HOST","ignored":[]}}'
}

@test "show-settings: a value outside the grammar is shown as ignored, the next level applies" {
	new_resource r0
	mars set-fetch-bwlimit r0 1M >/dev/null
	mars set-link 2M resource-r0/defaults-alpha/fetch-bwlimit >/dev/null
	mars set-link 0 resource-r0/defaults/fetch-priority >/dev/null
	run mars show-settings r0
	assert_success
	assert_line "r0 fetch-bwlimit 1048576 defaults"
	assert_line "  ignored: resource-r0/defaults-alpha/fetch-bwlimit = '2M' (not in the grammar)"
	assert_line "r0 fetch-priority - unset"
	assert_line "  ignored: resource-r0/defaults/fetch-priority = '0' (out of range)"
}

@test "refusals: exit codes, the fix in the message, the tree untouched" {
	new_resource r0
	local before
	before=$(snapshot)
	run mars set-fetch-bwlimit r0 1000
	[ "$status" -eq 2 ]
	assert_output --partial "'1000' is not a fetch limit"
	assert_output --partial "hint: e.g. 10M"
	run mars set-fetch-bwlimit r0 2T
	[ "$status" -eq 2 ]
	run mars set-fetch-bwlimit r0 -5
	[ "$status" -eq 2 ]
	run mars set-fetch-priority r0 0
	[ "$status" -eq 2 ]
	assert_output --partial "is not a weight: a number from 1 to 10000"
	run mars set-fetch-priority all 3
	[ "$status" -eq 2 ]
	run mars set-compress r0 lz4
	[ "$status" -eq 2 ]
	assert_output --partial "hint: one of auto, zstd, none"
	run mars set-compress nosuch none
	[ "$status" -eq 3 ]
	run mars set-fetch-bwlimit r0
	[ "$status" -eq 2 ]
	run mars set-fetch-bwlimit r0 1M --thisnode
	[ "$status" -eq 2 ]
	assert_output --partial "unknown option '--thisnode'"
	run mars set-fetch-bwlimit r0 1M extra
	[ "$status" -eq 2 ]
	run mars set-fetch-bwlimit r0 1M --dry-run
	assert_success
	assert_output "set resource-r0/defaults/fetch-bwlimit 1048576"
	untouched_since "$before"
}
