#!/usr/bin/env bats
# Eviction (docs/state-tree.md sections 3.1 and 8, docs/protocol.md 1.1):
# a member that cannot leave by itself (gamma, daemon and sshd stopped) is
# removed by an admin on another member (alpha: marsadm leave-cluster
# gamma).  Every other node's clusterd then ends gamma's membership in
# its own tree, removes gamma's key line from the authorized_keys it
# manages, and refuses gamma's key even where the line is still there;
# readmit undoes it.  Three hosts with real sshd in network namespaces.

load helpers
load netns

SIZE=$((1 << 20))

setup() {
	netns_setup 3
	netns_cluster_marsadm
	netns_clusterd_all --authorized-keys
	UUID=$(tree alpha get uuid)
}

teardown() {
	netns_test_teardown
}

# hello_from FROM TO: FROM says HELLO to TO's sshd with its own key;
# output and status in $output / $status.
hello_from() {
	netns_push "$1" "$2" "hello $1 $UUID"
}

# The key line of HOST in ON's authorized_keys is gone.
no_line() {	# no_line ON HOST
	! grep -q -- "--peer $2\"" "$NETNS_DIR/$1/authorized_keys"
}

sshd_stop() {	# sshd_stop HOST: bounded, until nothing listens
	local pid deadline=$((SECONDS + 10))
	pid=$(cat "$NETNS_DIR/$1/sshd.pid")
	kill "$pid"
	while netns_exec "$1" bash -c "exec 3<>/dev/tcp/$(netns_addr "$1")/22" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "sshd of $1 still listening after 10s"
		sleep 0.05
	done
}

@test "a dead member evicted from another: its key is revoked on every node, readmit undoes it" {
	local h
	hello_from gamma beta
	assert_success
	assert_line "hello beta"
	clusterd_stop gamma
	sshd_stop gamma
	# refusals, each with its exit status and nothing written
	run marsadm_on alpha leave-cluster delta
	[ "$status" -eq 3 ] || fail "unknown host: status $status, want 3"
	assert_output --partial "'delta' is no member of this cluster"
	run marsadm_on alpha leave-cluster 'Gamma!'
	[ "$status" -eq 2 ] || fail "bad name: status $status, want 2"
	run marsadm_on alpha readmit gamma
	[ "$status" -eq 3 ] || fail "readmit of a member: status $status, want 3"
	run marsadm_on alpha --dry-run leave-cluster gamma
	assert_success
	assert_output --partial "evicted/gamma"
	run tree alpha get evicted/gamma
	assert_failure
	# the eviction
	run marsadm_on alpha leave-cluster gamma
	assert_success
	assert_output --partial "'gamma' evicted from the cluster by 'alpha'"
	run marsadm_on alpha leave-cluster gamma
	assert_success
	assert_output --partial "already evicted (by 'alpha')"
	for h in alpha beta; do
		wait_for 20 has_value "$h" evicted/gamma alpha
		wait_for 20 lacks_key "$h" ips/ip-gamma
		wait_for 20 no_line "$h" gamma
		grep -q -- '--peer alpha"\|--peer beta"' "$NETNS_DIR/$h/authorized_keys"
	done
	# (beta's ips/ip-gamma tombstone is its own, or alpha's relayed)
	grep -q "'gamma' left the cluster: its key no longer logs in here" \
		"$NETNS_DIR/beta/clusterd.log"
	hello_from gamma beta
	refute_output --partial "hello beta"
	# alpha and beta still gossip
	tree beta set userspace/after-evict v1
	wait_for 20 has_value alpha userspace/after-evict v1
	# where the line is still there (no daemon manages the file), the
	# serving end refuses gamma's key itself
	clusterd_stop beta
	netns_restore_forced_command beta
	hello_from gamma beta
	assert_output --partial "error 5 'gamma' was evicted from the cluster by 'alpha'"
	assert_output --partial "marsadm readmit gamma"
	# readmitted: the serving end lets gamma in again
	run marsadm_on beta readmit gamma
	assert_success
	assert_output --partial "'gamma' may join again"
	hello_from gamma beta
	assert_success
	assert_line "hello beta"
}

@test "a member that stores a resource is evicted only with --force" {
	netns_resource r0 "$SIZE" alpha gamma
	wait_for 15 has_value beta resource-r0/data-gamma "$NETNS_DIR/disk-gamma.img"
	clusterd_stop gamma
	run marsadm_on beta leave-cluster gamma
	[ "$status" -eq 5 ] || fail "status $status, want 5"
	assert_output --partial "'gamma' still stores 1 resource: 'r0'"
	assert_output --partial "--force"
	run tree beta get evicted/gamma
	assert_failure
	run marsadm_on beta leave-cluster gamma --force
	assert_success
	wait_for 20 has_value alpha evicted/gamma beta
	wait_for 20 no_line alpha gamma
	wait_for 20 no_line beta gamma
	# gamma's own links stay (only it may delete them), but it is no
	# member of r0 any more: view lists alpha alone
	has_value beta resource-r0/data-gamma "$NETNS_DIR/disk-gamma.img"
	run marsadm_on beta view-members r0
	assert_success
	assert_output alpha
}

@test "an eviction alone (no ips tombstone with it): every daemon ends the membership itself" {
	local h
	tree alpha set evicted/gamma alpha
	for h in alpha beta; do
		wait_for 20 lacks_key "$h" ips/ip-gamma
		wait_for 20 no_line "$h" gamma
	done
	# the first daemon to see it ends it; the others may take its tombstone
	cat "$NETNS_DIR/alpha/clusterd.log" "$NETNS_DIR/beta/clusterd.log" |
		grep -q "'gamma' was evicted by 'alpha': no longer a member here"
	# gamma learns it from its tree when a session it already had carried
	# the entry, or from the members' refusal of its key otherwise (which
	# of the two depends on whether its sessions were up at that moment)
	wait_for 20 grep -q -e "this host was evicted from the cluster by 'alpha'" \
		-e "refused by peer: 'gamma' was evicted from the cluster by 'alpha'" \
		"$NETNS_DIR/gamma/clusterd.log"
	has_value gamma ips/ip-gamma "$(netns_addr gamma)"
}
