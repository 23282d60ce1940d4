#!/usr/bin/env bats
# The status page of a real cluster (issue 9): three hosts in network
# namespaces (tests/bats/netns.bash), each with its own sshd and clusterd,
# made by marsadm create-cluster / join-cluster.  A resource is created on
# alpha and joined by beta; the page of gamma - a node that holds no
# replica and wrote none of it - must show the resource, its replicas and
# every member with a heartbeat age, since the tree is gossiped and any
# node shows all.  Each daemon serves its page on its own namespace's
# loopback (the default 127.0.0.1:7780), queried with `ip netns exec`.
# Every wait is bounded.

load helpers
load netns

PAGE=http://127.0.0.1:7780

setup() {
	[ -x "$MARSADM" ] || fail "marsadm not built at $MARSADM (run make)"
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
	command -v curl >/dev/null || fail "curl missing"
}

teardown() {
	netns_test_teardown
}

page() {	# page HOST PATH: body from HOST's status page, fails on an HTTP error
	netns_exec "$1" curl -sf --max-time 5 "$PAGE$2"
}

# page_has HOST PATH JQ-FILTER: the filter holds on HOST's answer.
page_has() {
	page "$1" "$2" | jq -e "$3" >/dev/null
}

# Three hosts by marsadm; all daemons running, every member known everywhere.
cluster_up() {
	netns_setup 3
	netns_cluster_marsadm
	netns_clusterd_all
}

@test "status: any node's API and metrics show every member and a resource made elsewhere" {
	cluster_up
	local h out
	truncate -s 1M "$NETNS_DIR/disk-alpha" "$NETNS_DIR/disk-beta"
	run marsadm_on alpha create-resource r0 "$NETNS_DIR/disk-alpha"
	assert_success
	wait_for 15 all_have resource-r0/primary alpha
	run marsadm_on beta join-resource r0 "$NETNS_DIR/disk-beta"
	assert_success
	wait_for 15 all_have resource-r0/data-beta "$NETNS_DIR/disk-beta"

	# gamma holds no replica: its page shows the tree gossiped to it.
	wait_for 15 page_has gamma /api/v1/resources \
		'[.resources[] | select(.name=="r0") | .replicas[].host] == ["alpha","beta"]'
	out=$(page gamma /api/v1/resources) || fail "gamma's /api/v1/resources failed"
	assert_equal "$(jq -r '.resources | length' <<<"$out")" 1
	assert_equal "$(jq -r '.resources[0].primary' <<<"$out")" alpha
	assert_equal "$(jq -r '.resources[0].size_bytes' <<<"$out")" 1048576
	assert_equal "$(jq -r '.resources[0].split_brain' <<<"$out")" false
	# No data path runs in this suite, so no host reports is-primary: the
	# designated primary is NotYetPrimary, on the page as in marsadm view.
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="alpha") | .role' <<<"$out")" \
		NotYetPrimary
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .role' <<<"$out")" Secondary
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .device' <<<"$out")" \
		"$NETNS_DIR/disk-beta"

	# Every member with a heartbeat age, as gamma sees them (heartbeats
	# are gossiped too, so wait until all have arrived).
	wait_for 15 page_has gamma /api/v1/cluster \
		'[.members[] | select(.alive and (.heartbeat_age_s | type) == "number")] | length == 3'
	out=$(page gamma /api/v1/cluster) || fail "gamma's /api/v1/cluster failed"
	assert_equal "$(jq -r '.self' <<<"$out")" gamma
	assert_equal "$(jq -r '[.members[].host] | join(",")' <<<"$out")" alpha,beta,gamma
	assert_equal "$(jq -r '.uuid' <<<"$out")" "$(tree alpha get uuid)"
	for h in alpha beta gamma; do
		assert_equal "$(jq -r ".members[] | select(.host==\"$h\") | .address" <<<"$out")" \
			"$(netns_addr "$h")"
		assert_equal "$(jq -r ".members[] | select(.host==\"$h\") | .heartbeat_age_s < 10" <<<"$out")" true
	done

	# The metrics of another node again, beta: same members and resource.
	run page beta /metrics
	assert_success
	assert_line 'mars_cluster_members 3'
	for h in alpha beta gamma; do
		assert_line "mars_member_alive{host=\"$h\"} 1"
		assert_line --regexp "^mars_member_heartbeat_age_seconds\\{host=\"$h\"\\} [0-9.e+-]+\$"
	done
	assert_line 'mars_resource_size_bytes{resource="r0"} 1048576'
	assert_line 'mars_resource_split_brain{resource="r0"} 0'
	assert_line --regexp '^mars_replica_state\{resource="r0",host="alpha",role="NotYetPrimary",.*\} 1$'
	assert_line --regexp '^mars_replica_state\{resource="r0",host="beta",role="Secondary",.*\} 1$'
	run page gamma /metrics
	assert_success
	assert_line 'mars_cluster_members 3'
	assert_line --regexp '^mars_replica_state\{resource="r0",host="beta",role="Secondary",.*\} 1$'
}
