#!/usr/bin/env bats
# The update step (issue 16): update-cluster, wait-cluster RES, and the
# commands that pull the members' newest trees before their checks
# (join-resource, primary, ...).  Hosts in network namespaces with real
# sshd serving `clusterd --serve`; most tests start no daemon at all, so
# that only marsadm's own pull can have brought what a command sees.
# --timeout=0 skips the pull and stands for the behaviour before it.

load helpers
load netns

RES=r0

teardown() {
	netns_test_teardown
}

# cluster N: N hosts formed with marsadm, no daemon running.
cluster() {
	netns_setup "$1"
	netns_cluster_marsadm
}

img() {	# img HOST: a 16 MiB disk image of HOST
	truncate -s 16M "$NETNS_DIR/disk-$1.img"
	echo "$NETNS_DIR/disk-$1.img"
}

@test "join-resource right after create-resource on another node: the pull finds it" {
	cluster 2
	run marsadm_on alpha create-resource "$RES" "$(img alpha)"
	assert_success
	# Without the pull beta's tree does not know the resource yet.
	run marsadm_on beta join-resource "$RES" "$(img beta)" --timeout=0
	assert_failure 3
	assert_output --partial "resource '$RES' does not exist"
	run marsadm_on beta join-resource "$RES" "$(img beta)"
	assert_success
	[ "$(tree beta get "resource-$RES/primary")" = alpha ]
	[ "$(tree beta get "resource-$RES/data-beta")" = "$NETNS_DIR/disk-beta.img" ]
}

@test "update-cluster brings a just-written remote entry; --json lists every member" {
	cluster 3
	tree alpha set userspace/note "from alpha"
	run marsadm_on beta update-cluster
	assert_success
	assert_output "pulled the trees of 1 member"
	has_value beta userspace/note "from alpha"
	# gamma joined through alpha after beta: alpha's tree names it.
	tree gamma set userspace/other "from gamma"
	run --separate-stderr marsadm_on alpha update-cluster --json
	assert_success
	echo "$output" | jq -e '.command == "update-cluster" and (.members | length) == 2 and
		all(.members[]; .ok)'
	has_value alpha userspace/other "from gamma"
}

@test "update-cluster does not take what a member may not write: another host's name" {
	cluster 2
	# An entry in alpha's tree under beta's name: alpha may not speak for beta.
	"$GOSSIP_TREE" "$(netns_root alpha)" beta set actual-beta/time 1.0
	run marsadm_on beta update-cluster
	assert_success
	run tree beta get actual-beta/time
	[ "$output" != "1.0" ]
}

@test "wait-cluster RES waits for the members of RES only" {
	cluster 3
	netns_clusterd_all
	run marsadm_on alpha create-resource "$RES" "$(img alpha)"
	assert_success
	run marsadm_on beta join-resource "$RES" "$(img beta)"
	assert_success
	wait_for 20 has_value alpha "resource-$RES/data-beta" "$NETNS_DIR/disk-beta.img"
	netns_link gamma down
	run marsadm_on alpha wait-cluster "$RES" --timeout=20
	assert_success
	assert_output "all 2 members of '$RES' alive"
	# gamma is a member of the cluster, not of the resource: all waits for it.
	run marsadm_on alpha wait-cluster --timeout=2
	assert_failure 6
	assert_output --partial "member 'gamma' did not answer"
	run marsadm_on alpha wait-cluster nosuch --timeout=1
	assert_failure 3
}

@test "primary right after a change on the old primary sees the newest state" {
	cluster 2
	run marsadm_on alpha create-resource "$RES" "$(img alpha)"
	assert_success
	run marsadm_on beta join-resource "$RES" "$(img beta)"
	assert_success
	# beta's sync finished (no data path runs in this test).
	tree beta set "resource-$RES/syncstatus-beta" $((16 * 1048576))
	# alpha's device was opened just now; beta has not heard of it.
	tree alpha set "resource-$RES/actual-alpha/open-count" 1
	# Without the pull (--dry-run skips it) beta's own tree lets the handover pass.
	run marsadm_on beta primary "$RES" --dry-run
	assert_success
	run marsadm_on beta primary "$RES" --timeout=2
	assert_failure 6
	assert_output --partial "still open on 'alpha'"
	[ "$(tree beta get "resource-$RES/primary")" = alpha ]
	# alpha closes the device and gives the role up; beta asks at once.
	tree alpha set "resource-$RES/actual-alpha/open-count" 0
	run marsadm_on alpha secondary "$RES"
	assert_success
	run marsadm_on beta primary "$RES" --timeout=10
	assert_success
	[ "$(tree beta get "resource-$RES/primary")" = beta ]
}

@test "an unreachable member: update-cluster exits 6 naming it, the others are merged, commands go on" {
	cluster 3
	run marsadm_on alpha create-resource "$RES" "$(img alpha)"
	assert_success
	tree beta set userspace/note "from beta"
	netns_link gamma down
	SECONDS=0
	run marsadm_on alpha update-cluster --timeout=3
	assert_failure 6
	assert_output --partial "'gamma'"
	[ "$SECONDS" -lt 30 ]
	has_value alpha userspace/note "from beta"
	run --separate-stderr marsadm_on alpha update-cluster --timeout=3 --json
	[ "$status" -eq 6 ]
	echo "$output" | jq -e '[.members[] | select(.host == "gamma")][0] |
		.ok == false and (.error | length) > 0'
	echo "$output" | jq -e '[.members[] | select(.host == "beta")][0].ok'
	# A command that pulls first warns about gamma and does its work.
	run marsadm_on beta join-resource "$RES" "$(img beta)" --timeout=3
	assert_success
	run marsadm_on alpha primary "$RES" --timeout=3
	assert_success
	assert_output --partial "member 'gamma' (10.77.0.13) did not answer"
	assert_output --partial "going on without its newest state"
}
