#!/usr/bin/env bats
# clusterd gossip between real hosts: network namespaces on a bridge, each
# with its own sshd and clusterd on its own tree (tests/bats/netns.bash).
# Every wait is bounded; times are printed with the test's TAP output.

load helpers
load netns

teardown() {
	netns_test_teardown
}

create_cluster() {	# on the first host
	local h=${NETNS_HOSTS[0]}
	mkdir -p "$NETNS_DIR/$h"
	run tree "$h" create "$(netns_addr "$h")"
	assert_success
}

join_cluster() {	# join_cluster HOST MEMBER
	# shellcheck disable=SC2046
	run netns_exec "$1" "$CLUSTERD" $(clusterd_opts "$1") --join "$(netns_addr "$2")"
	assert_success
}

# A cluster of N hosts: created on the first, joined by the others, all
# daemons running and every member known everywhere.  With "marsadm" as
# second argument the cluster is made by marsadm create-cluster and
# join-cluster, else by the gossip test tools.
cluster_up() {
	local n=$1 how=${2:-tools} h
	netns_setup "$n"
	if [ "$how" = marsadm ]; then
		netns_cluster_marsadm
	else
		create_cluster
		for h in "${NETNS_HOSTS[@]:1}"; do
			join_cluster "$h" "${NETNS_HOSTS[0]}"
		done
	fi
	netns_clusterd_all
}

@test "3 hosts: create, join, a change on any node reaches all" {
	cluster_up 3 marsadm
	local h ms uuid
	uuid=$(tree alpha get uuid)
	for h in beta gamma; do
		run tree "$h" get uuid
		assert_output "$uuid"
	done
	for h in alpha beta gamma; do
		tree "$h" set userspace/from-$h "v-$h"
		ms=$(wait_ms 10 all_have userspace/from-$h "v-$h")
		echo "# change on $h reached all 3 hosts in $ms ms" >&3
	done
	# heartbeats of every node are seen everywhere
	for h in alpha beta gamma; do
		wait_for 10 tree gamma get "actual-$h/time"
	done
	run marsadm_on alpha wait-cluster --timeout=20
	assert_success
	assert_output "all 3 members alive"
	# a node that leaves is dropped by the others
	run marsadm_on gamma leave-cluster
	assert_success
	wait_for 10 grep -q "peer 'gamma' removed" "$NETNS_DIR/alpha/clusterd.log"
	# beta takes the departure from gamma itself, not relayed by alpha
	# (only X deletes ips/ip-X, docs/state-tree.md section 8)
	wait_for 10 lacks_key beta ips/ip-gamma
	run tree beta get ips/ip-gamma
	assert_failure
	# SIGTERM: a clean, logged shutdown
	clusterd_stop gamma
	run grep -c "clusterd: info: shutting down" "$NETNS_DIR/gamma/clusterd.log"
	assert_output 1
}

@test "concurrent conflicting writes converge to one value everywhere" {
	cluster_up 3
	local h ms pids
	for round in 1 2 3; do
		pids=()
		for h in alpha beta gamma; do
			tree "$h" set userspace/conflict "r$round-$h" &
			pids+=($!)
		done
		wait "${pids[@]}"
		ms=$(wait_ms 15 same_everywhere userspace/conflict "r$round-")
		echo "# round $round: converged on '$(tree alpha get userspace/conflict)' in $ms ms" >&3
	done
}

same_everywhere() {	# same_everywhere PATH PREFIX
	local first v h
	first=$(tree "${NETNS_HOSTS[0]}" get "$1") || return 1
	case "$first" in "$2"*) ;; *) return 1 ;; esac
	for h in "${NETNS_HOSTS[@]:1}"; do
		v=$(tree "$h" get "$1") || return 1
		[ "$v" = "$first" ] || return 1
	done
}

@test "a cut link and changes on both sides converge after heal" {
	cluster_up 3
	local ms
	netns_link gamma down
	tree alpha set userspace/during-cut-a a1
	tree gamma set userspace/during-cut-g g1
	wait_for 10 has_value beta userspace/during-cut-a a1
	# gamma is cut off: what it wrote cannot have left it yet
	run tree alpha get userspace/during-cut-g
	assert_failure
	netns_link gamma up
	ms=$(wait_ms 30 all_have userspace/during-cut-g g1)
	wait_for 10 all_have userspace/during-cut-a a1
	echo "# healed link converged in $ms ms" >&3
}

@test "a clusterd killed with -9 restarts and catches up" {
	cluster_up 3
	local ms
	grep -q "^clusterd: info: peer 'alpha' (10.77.0.11): connected" "$NETNS_DIR/beta/clusterd.log"
	clusterd_stop beta KILL
	run grep -c "starting as 'beta'" "$NETNS_DIR/beta/clusterd.log"
	assert_output 1
	tree alpha set userspace/while-dead x1
	tree gamma set userspace/while-dead-g x2
	clusterd_start beta
	ms=$(wait_ms 20 has_value beta userspace/while-dead x1)
	wait_for 10 has_value beta userspace/while-dead-g x2
	echo "# restarted clusterd caught up in $ms ms" >&3
	run grep -c "starting as 'beta'" "$NETNS_DIR/beta/clusterd.log"
	assert_output 2
	tree beta set userspace/after-restart y
	wait_for 10 all_have userspace/after-restart y
}

@test "a peer with a changed or unknown host key is refused" {
	cluster_up 2
	clusterd_stop alpha
	# beta's host key replaced in alpha's known_hosts by another key
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$NETNS_DIR/other_key"
	grep -v "^$(netns_addr beta) " "$NETNS_DIR/known_hosts" >"$NETNS_DIR/kh-changed"
	echo "$(netns_addr beta) $(cut -d' ' -f1,2 "$NETNS_DIR/other_key.pub")" >>"$NETNS_DIR/kh-changed"
	: >"$NETNS_DIR/alpha/clusterd.log"
	NETNS_KNOWN_HOSTS=$NETNS_DIR/kh-changed clusterd_start alpha
	tree beta set userspace/secret s1
	wait_for 10 grep -q "host key of beta (10.77.0.12) CHANGED, refusing.*ssh-keygen -R" \
		"$NETNS_DIR/alpha/clusterd.log"
	run tree alpha get userspace/secret
	assert_failure
	clusterd_stop alpha
	# and a known_hosts without beta: unknown key, with how to accept it
	grep -v "^$(netns_addr beta) " "$NETNS_DIR/known_hosts" >"$NETNS_DIR/kh-unknown"
	NETNS_KNOWN_HOSTS=$NETNS_DIR/kh-unknown clusterd_start alpha
	wait_for 10 grep -q "host key of beta (10.77.0.12) unknown, refusing.*ssh-keyscan" \
		"$NETNS_DIR/alpha/clusterd.log"
	run tree alpha get userspace/secret
	assert_failure
}

@test "wait-cluster times out on a silent member" {
	cluster_up 2
	clusterd_stop beta
	run marsadm_on alpha wait-cluster --timeout=1
	assert_success
	# beta's last heartbeat is fresh for a while; forge an old member instead
	tree alpha set ips/ip-delta 10.77.0.99
	run marsadm_on alpha wait-cluster --timeout=1
	assert_failure 6
	assert_output --partial "'delta'"
}

@test "a peer of another cluster (wrong uuid) is refused, and so is a join into it" {
	netns_setup 2
	create_cluster
	# beta founds a cluster of its own
	run tree beta create "$(netns_addr beta)"
	assert_success
	[ "$(tree alpha get uuid)" != "$(tree beta get uuid)" ]
	tree beta set userspace/foreign f1
	echo "beta $(netns_addr beta)" >"$NETNS_DIR/alpha/peers"
	clusterd_start alpha
	wait_for 10 grep -q "peer 'beta'.*cluster uuid mismatch" "$NETNS_DIR/alpha/clusterd.log"
	run tree alpha get userspace/foreign
	assert_failure
	# beta cannot join alpha's cluster while it belongs to its own
	# shellcheck disable=SC2046
	run netns_exec beta "$CLUSTERD" $(clusterd_opts beta) --join "$(netns_addr alpha)"
	assert_failure
	assert_output --partial "belongs to cluster"
	run tree beta get ips/ip-alpha
	assert_failure
}

@test "a malicious serving end changes nothing" {
	[ -x "$GOSSIP_EVIL" ] || fail "gossip-evil not built at $GOSSIP_EVIL"
	netns_setup 2
	create_cluster
	netns_set_forced_command beta "$GOSSIP_EVIL beta"
	echo "beta $(netns_addr beta)" >"$NETNS_DIR/alpha/peers"
	# what alpha's own daemon writes (its heartbeat, its key) is no change
	tree alpha dump | grep -v -e '^actual-alpha/time ' -e '^keys/key-alpha ' \
		>"$NETNS_DIR/before"
	clusterd_start alpha
	wait_for 15 grep -q "peer 'beta'.*oversized frame" "$NETNS_DIR/alpha/clusterd.log"
	run grep -c "peer 'beta': refused entry" "$NETNS_DIR/alpha/clusterd.log"
	assert_success
	[ "$output" -ge 10 ]
	clusterd_stop alpha
	tree alpha dump | grep -v -e '^actual-alpha/time ' -e '^keys/key-alpha ' \
		>"$NETNS_DIR/after"
	diff -u "$NETNS_DIR/before" "$NETNS_DIR/after"
	[ ! -e "$NETNS_DIR/escape" ] && [ ! -e "$NETNS_DIR/alpha/escape" ] && [ ! -e /etc/evil ]
	run tree alpha get actual-alpha/time
	assert_success
	refute_output "1.0"
	run tree alpha get resource-r/data-alpha
	assert_failure
}
