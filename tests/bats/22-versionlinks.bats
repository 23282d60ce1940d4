#!/usr/bin/env bats
# Version links (docs/state-tree.md, "Version links"): the genesis chain of
# create-resource, its extension by log-rotate, and a secondary that follows
# the chain node by node, each node with a tree of its own.  Every value is
# also recomputed here with sha256sum, so the C code is checked against an
# independent implementation of the format.

load helpers
load repl

Z=0000000000000000000000000000000000000000000000000000000000000000

setup() {
	repl_setup
}

@test "genesis: anchor and first link, digests as the format says" {
	cluster alpha
	[ "$(val alpha resource-r0/version-000000000-alpha)" = "$Z,log-000000000-alpha,0:" ]
	[ "$(val alpha resource-r0/version-000000001-alpha)" = \
	  "$(vlink 000000001 alpha 0 "$Z,log-000000000-alpha,0")" ]
	[ "$(val alpha resource-r0/maxnr)" = 1 ]
}

@test "rotation: the closed logfile gets its length, the next link extends it" {
	cluster alpha
	write alpha 000000001 3
	local size v1
	size=$(stat -c %s "$T/alpha/resource-r0/log-000000001-alpha")
	run on alpha log-rotate r0
	assert_success
	v1=$(vlink 000000001 alpha "$size" "$Z,log-000000000-alpha,0")
	[ "$(val alpha resource-r0/version-000000001-alpha)" = "$v1" ]
	[ "$(val alpha resource-r0/version-000000002-alpha)" = \
	  "$(vlink 000000002 alpha 0 "$(section "$v1")")" ]
	[ -f "$T/alpha/resource-r0/log-000000002-alpha" ]
	[ ! -s "$T/alpha/resource-r0/log-000000002-alpha" ]
	[ "$(val alpha resource-r0/maxnr)" = 2 ]
	# an empty newest logfile is not rotated again, unless forced
	run on alpha log-rotate r0
	assert_success
	[ "$(val alpha resource-r0/maxnr)" = 2 ]
	run on alpha log-rotate r0 --force
	assert_success
	[ "$(val alpha resource-r0/maxnr)" = 3 ]
}

@test "log-rotate only on the designated primary" {
	cluster alpha beta
	run on beta log-rotate r0
	[ "$status" -eq 5 ]
	assert_output --partial "'beta' is not the designated primary of 'r0'"
}

@test "two nodes: after rotations and replay the chains are identical" {
	cluster alpha beta
	local nr
	for nr in 000000001 000000002 000000003; do
		rotate alpha $nr 2
	done
	gossip alpha --logs beta
	run follow beta
	assert_success
	assert_output "log-000000004-alpha,0"
	for nr in 000000001 000000002 000000003 000000004; do
		[ "$(val beta resource-r0/version-$nr-beta)" = \
		  "$(val alpha resource-r0/version-$nr-alpha)" ] || fail "version $nr differs"
	done
	[ "$(val beta resource-r0/replay-beta)" = "log-000000004-alpha,0,0" ]
	gossip beta alpha
	run on alpha view-is-split-brain r0
	assert_output 0
	run on beta view-is-split-brain r0
	assert_output 0
}

@test "a secondary stops where the logfile is not yet complete" {
	cluster alpha beta
	rotate alpha 000000001 4
	gossip alpha --logs beta
	truncate -s 100 "$T/beta/resource-r0/log-000000001-alpha"
	run follow beta
	assert_success
	assert_output "log-000000001-alpha,100"
	run on beta view-is-split-brain r0
	assert_output 0
}

@test "a forged version link does not count" {
	cluster alpha beta
	on beta set-link "$(vlink 000000001 beta 7 "$Z,log-000000000-alpha,0" | sed 's/^./f/')" \
		resource-r0/version-000000001-beta
	run on beta view-is-split-brain r0
	assert_output 0
}

@test "join right after a rotation waits until the primary's links have settled" {
	# The engine moves the replay link to the new logfile before the
	# driver publishes the old one's final length and the new link; a
	# copy taken in between would chain from the unfinished length.
	cluster alpha
	write alpha 000000001 3
	local open v1 v2
	open=$(val alpha resource-r0/version-000000001-alpha)
	on alpha log-rotate r0 >/dev/null
	v1=$(val alpha resource-r0/version-000000001-alpha)
	v2=$(val alpha resource-r0/version-000000002-alpha)
	[ "$v1" != "$open" ]
	on alpha set-link "$open" resource-r0/version-000000001-alpha >/dev/null
	rm "$T/alpha/resource-r0/version-000000002-alpha"
	on alpha set-link log-000000002-alpha,0,0 resource-r0/replay-alpha >/dev/null
	"$GOSSIP_TREE" "$T/gamma" gamma create 10.0.0.3 || fail "tree for gamma"
	gossip alpha gamma
	truncate -s 1M "$T/disk-gamma"
	run on gamma join-resource r0 "$T/disk-gamma" --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "the history of 'r0' on 'alpha' is moving"
	[ "$(val gamma resource-r0/version-000000001-gamma)" = "(absent)" ]
	# The links arrive while join waits.
	(
		sleep 1
		on alpha set-link "$v1" resource-r0/version-000000001-alpha >/dev/null
		on alpha set-link "$v2" resource-r0/version-000000002-alpha >/dev/null
		gossip alpha gamma
	) 3>&- &
	run on gamma join-resource r0 "$T/disk-gamma" --timeout=30
	wait
	assert_success
	[ "$(val gamma resource-r0/version-000000001-gamma)" = "$v1" ]
	[ "$(val gamma resource-r0/version-000000002-gamma)" = "$v2" ]
	[ "$(val gamma resource-r0/replay-gamma)" = log-000000002-alpha,0,0 ]
}
