#!/usr/bin/env bats
# A hostile member in the push direction (issue 15, docs/state-tree.md
# section 8): three hosts with real sshd in network namespaces, a resource
# r0 of all three, and tests/helpers/gossip-push run on beta with beta's
# own key, speaking docs/protocol.md to alpha's forced
# `clusterd --serve`.  Whatever it pushes or asks, alpha's tree and a
# sentinel file stay as they were, and alpha keeps serving its real peers.
# (30-gossip.bats has the pull direction: a malicious serving end.)

load helpers
load netns

SIZE=$((1 << 20))

setup() {
	[ -x "$GOSSIP_PUSH" ] || fail "gossip-push not built at $GOSSIP_PUSH"
	netns_setup 3
	netns_cluster_marsadm
	netns_clusterd_all
	netns_resource r0 "$SIZE" alpha beta gamma
	UUID=$(tree alpha get uuid)
	SENTINEL=$NETNS_DIR/sentinel
	head -c 65536 /dev/urandom >"$SENTINEL"
	SENTINEL_SUM=$(sha256sum <"$SENTINEL")
	snapshot "$NETNS_DIR/before"
}

teardown() {
	netns_test_teardown
}

# alpha's live keys, without the heartbeats that move on their own.
snapshot() {
	tree alpha dump | grep -v -e '^actual-[a-z]*/time ' >"$1"
}

# push_to HOST LINE...: one gossip-push session from beta to HOST, a
# script line per argument; output and status in $output / $status.
push_to() {
	netns_push beta "$@"
}

push() {	# push LINE...: to alpha
	push_to alpha "$@"
}

# Nothing changed on alpha, the sentinel is intact, and alpha still
# exchanges with its real peers in both directions.
unchanged_and_serving() {
	snapshot "$NETNS_DIR/after"
	diff -u "$NETNS_DIR/before" "$NETNS_DIR/after"
	assert_equal "$(sha256sum <"$SENTINEL")" "$SENTINEL_SUM"
	tree gamma set userspace/from-gamma "v$RANDOM"
	wait_for 15 has_value alpha userspace/from-gamma "$(tree gamma get userspace/from-gamma)"
	tree alpha set userspace/from-alpha "v$RANDOM"
	wait_for 15 has_value beta userspace/from-alpha "$(tree alpha get userspace/from-alpha)"
}

@test "the victim's own names, live or tombstone, pushed by a member: all refused" {
	push "hello beta $UUID" \
		"entry resource-r0/data-alpha $SENTINEL" \
		"entry resource-r0/device-alpha evil" \
		"entry resource-r0/todo-alpha/allow-replay 0" \
		"entry resource-r0/todo-alpha/attach .deleted" \
		"entry resource-r0/replay-alpha .deleted" \
		"entry resource-r0/data-alpha .deleted" \
		"entry ips/ip-alpha 10.77.0.99" \
		"entry actual-alpha/tree .deleted" \
		"end"
	assert_success
	assert_line "hello alpha"
	assert_line "ack 0"
	# the same under the victim's own name (identity is the transport's
	# business: refused there, or here entry by entry)
	push "hello alpha $UUID" \
		"entry resource-r0/data-alpha $SENTINEL" \
		"entry resource-r0/todo-alpha/allow-replay 0" \
		"entry resource-r0/data-alpha .deleted" \
		"end"
	[ "$status" -ne 0 ] || assert_line "ack 0"
	unchanged_and_serving
}

@test "a third member's names and address, pushed by another member: refused" {
	push "hello beta $UUID" \
		"entry resource-r0/data-gamma $SENTINEL" \
		"entry resource-r0/data-gamma .deleted" \
		"entry resource-r0/todo-gamma/attach .deleted" \
		"entry resource-r0/todo-gamma/sync 0" \
		"entry ips/ip-gamma 10.77.0.66" \
		"end"
	assert_success
	assert_line "ack 0"
	[ "$(tree alpha get resource-r0/data-gamma)" = "$NETNS_DIR/disk-gamma.img" ]
	[ "$(tree alpha get resource-r0/todo-gamma/attach)" = 1 ]
	unchanged_and_serving
}

@test "cluster-wide keys against their rules: refused; a legitimate one in the same session: taken" {
	push "hello beta $UUID" \
		"entry resource-r0/size 4096" \
		"entry resource-r0/primary mallory" \
		"entry resource-r0/primary delta" \
		"entry uuid evil_1.1" \
		"entry userspace/pushed ok" \
		"end"
	assert_success
	assert_line "ack 1"
	[ "$(tree alpha get userspace/pushed)" = ok ]
	sed -i '/^userspace\/pushed /d' "$NETNS_DIR/before"
	tree alpha dump | grep -q '^resource-r0/size 1048576$'
	[ "$(tree alpha get resource-r0/primary)" = alpha ]
	snapshot "$NETNS_DIR/after"
	grep -v '^userspace/pushed ' "$NETNS_DIR/after" | diff -u "$NETNS_DIR/before" -
}

@test "a far-future stamp is refused and does not move the victim's clock" {
	push "hello beta $UUID" \
		"entry resource-r0/local-beta/future x +2160000" \
		"entry userspace/future x +2160000" \
		"end"
	assert_success
	assert_line "ack 0"
	run tree alpha get resource-r0/local-beta/future
	assert_failure
	local clock now
	clock=$(head -c 20 "$(netns_root alpha)/.clock")
	now=$(date +%s%N)
	[ "$((10#$clock))" -lt $((now + 600 * 1000000000)) ] ||
		fail "alpha's clock $clock is more than 10 min ahead of $now"
	unchanged_and_serving
}

@test "an entry flood is cut at the per-origin quota" {
	push "hello beta $UUID" "flood 6000 resource-r0/local-beta/f 1000" "end"
	assert_success
	local acked n
	acked=$(sed -n 's/^ack //p' <<<"$output")
	n=$(tree alpha dump resource-r0/local-beta/ | wc -l)
	echo "# $acked of 6000 1 KB entries taken, $n in alpha's tree" >&3
	[ "$acked" -lt 4200 ] && [ "$n" -lt 4200 ] && [ "$n" -ge 1000 ] ||
		fail "flood not cut at the 4 MiB quota: acked $acked, stored $n"
	tree alpha dump | grep -v -e '^actual-[a-z]*/time ' -e '^resource-r0/local-beta/f' \
		>"$NETNS_DIR/after"
	diff -u "$NETNS_DIR/before" "$NETNS_DIR/after"
}

# HOST's mars_gossip_refusals_total{reason=REASON} on its own /metrics
# (the default listen address, on the host's loopback).
refusals() {	# refusals HOST REASON
	netns_exec "$1" curl -sf --max-time 5 http://127.0.0.1:7780/metrics |
		sed -n "s/^mars_gossip_refusals_total{reason=\"$2\"} \\([0-9]*\\)$/\\1/p" | grep .
}

refusals_at_least() {	# refusals_at_least HOST REASON N
	local n
	n=$(refusals "$1" "$2") && [ "$n" -ge "$3" ]
}

@test "the serving end's refusals are counted on the victim's /metrics" {
	command -v curl >/dev/null || fail "curl missing"
	local r gamma_sync
	declare -A was
	wait_for 15 refusals alpha policy	# the pages are up
	wait_for 15 refusals gamma sync
	for r in policy identity fetch sync; do
		was[$r]=$(refusals alpha "$r")
	done
	gamma_sync=$(refusals gamma sync)
	push "hello beta $UUID" \
		"entry resource-r0/data-alpha $SENTINEL" \
		"entry ips/ip-gamma 10.77.0.66" \
		"end"
	assert_success
	assert_line "ack 0"
	wait_for 10 refusals_at_least alpha policy $((was[policy] + 2))
	push "hello gamma $UUID"
	assert_output --partial "this key is bound to 'beta'"
	wait_for 10 refusals_at_least alpha identity $((was[identity] + 1))
	push "hello beta $UUID" "fetch r0 log-1-alpha"
	assert_output --partial "fend 4"
	wait_for 10 refusals_at_least alpha fetch $((was[fetch] + 1))
	push_to gamma "hello beta $UUID" "sync r0 65536"
	assert_output --partial "is not the designated primary of 'r0'"
	wait_for 10 refusals_at_least gamma sync $((gamma_sync + 1))
	# each node counts its own serving ends' refusals only
	assert_equal "$(refusals alpha sync)" "${was[sync]}"
	unchanged_and_serving
}

@test "SYNC and FETCH of a resource the client is not a member of: refused" {
	run marsadm_on alpha create-resource r1 "$SENTINEL"
	assert_success
	push "hello beta $UUID" "sync r1 65536"
	assert_success
	assert_output --partial "send 5 client 'beta' is not a member of 'r1'"
	push "hello beta $UUID" "fetch r1 log-000000001-alpha"
	assert_success
	assert_output --partial "fend 4 client 'beta' is not a member of 'r1'"
	# a member syncs from the primary, but not from another member
	push "hello beta $UUID" "sync r0 65536"
	assert_success
	assert_line "sinfo"
	push_to gamma "hello beta $UUID" "sync r0 65536"
	assert_success
	assert_output --partial "'gamma' is not the designated primary of 'r0'"
	assert_equal "$(sha256sum <"$SENTINEL")" "$SENTINEL_SUM"
}

@test "a pushed resource naming a local file as the victim's disk reaches no file" {
	# as the victim itself: refused at HELLO by the transport, or entry
	# by entry by the trust rules
	push "hello alpha $UUID" \
		"entry resource-evil/size 65536" \
		"entry resource-evil/primary beta" \
		"entry resource-evil/data-beta /dev/zero" \
		"entry resource-evil/data-alpha $SENTINEL" \
		"entry resource-evil/todo-alpha/attach 1" \
		"entry resource-evil/todo-alpha/sync 1" \
		"entry resource-evil/syncstatus-alpha 0" \
		"end"
	run tree alpha get resource-evil/data-alpha
	assert_failure
	run tree alpha get resource-evil/todo-alpha/attach
	assert_failure
	# and the sync server does not read it either
	push "hello beta $UUID" "sync evil 65536"
	assert_success
	assert_output --regexp "send (1 no such resource|2 'alpha' is not a member of 'evil')"
	assert_equal "$(sha256sum <"$SENTINEL")" "$SENTINEL_SUM"
	tree alpha set userspace/from-alpha "v$RANDOM"
	wait_for 15 has_value gamma userspace/from-alpha "$(tree alpha get userspace/from-alpha)"
}

# --- least privilege (docs/protocol.md, "Least privilege") -----------------

# held_session OUT LINE...: a gossip-push session from beta to alpha in
# the background, script LINEs, output in OUT; a line
# "waitfile $NETNS_DIR/go" holds it open until the test creates that file.
# Sets HELD_PID; returns once alpha answered HELLO.
held_session() {
	local out=$1
	shift
	printf '%s\n' "$@" >"$out.script"
	ip netns exec "$(netns_name beta)" "$GOSSIP_PUSH" "$(netns_key beta)" \
		"$NETNS_DIR/known_hosts" "$(netns_addr alpha)" <"$out.script" >"$out" 2>&1 &
	HELD_PID=$!
	wait_for 15 grep -qx "hello alpha" "$out"
}

# The pid of alpha's serving end of the session gossip-push HELD_PID
# opened: the one whose SSH_CONNECTION names that client's port.
held_serving_end() {
	local port pid
	port=$(ip netns exec "$(netns_name beta)" ss -Htnp state established |
		sed -n "s/.*:\([0-9]*\) .*:22 .*pid=$HELD_PID,.*/\1/p" | head -n 1)
	[ -n "$port" ] || return 1
	for pid in $(pgrep -x clusterd); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
			grep -q "^SSH_CONNECTION=$(netns_addr beta) $port " && echo "$pid" && return 0
	done
	return 1
}

status_field() {	# status_field PID NAME: a field of /proc/PID/status
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# The daemon says so at start when the kernel has no Landlock (main.c);
# it started before the test (setup waited for the cluster).
without_landlock() {
	grep -q "kernel without Landlock" "$NETNS_DIR/alpha/clusterd.log"
}

@test "a serving end runs with no_new_privs and without any capability" {
	held_session "$NETNS_DIR/held" "hello beta $UUID" "waitfile $NETNS_DIR/go"
	wait_for 10 held_serving_end
	pid=$(held_serving_end)
	assert_equal "$(status_field "$pid" NoNewPrivs)" 1
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_equal "$set $(status_field "$pid" "$set")" "$set 0000000000000000"
	done
	touch "$NETNS_DIR/go"
	wait "$HELD_PID"
	assert_equal "$(cat "$NETNS_DIR/held")" "$(printf 'hello alpha\ngo')"
}

@test "a serving end opens no disk but those configured when it started (Landlock)" {
	! without_landlock || skip "this kernel has no Landlock (alpha's clusterd.log)"
	outside=$NETNS_DIR/outside.img
	head -c 65536 /dev/urandom >"$outside"
	held_session "$NETNS_DIR/held" "hello beta $UUID" "waitfile $NETNS_DIR/go" \
		"sync r9 65536"
	# configured by alpha's admin after the session confined itself: a
	# path its checks would let through, which it still cannot open
	tree alpha set resource-r9/size 65536
	tree alpha set resource-r9/data-alpha "$outside"
	tree alpha set resource-r9/primary alpha
	tree beta set resource-r9/data-beta "$NETNS_DIR/none-beta.img"
	wait_for 15 has_value alpha resource-r9/data-beta "$NETNS_DIR/none-beta.img"
	touch "$NETNS_DIR/go"
	wait "$HELD_PID"
	run cat "$NETNS_DIR/held"
	assert_line "go"
	assert_line "send 4 cannot open its disk '$outside': Permission denied"
	# a new session sees the new disk: the confinement follows the tree
	push "hello beta $UUID" "sync r9 65536"
	assert_success
	assert_line "sinfo"
}
