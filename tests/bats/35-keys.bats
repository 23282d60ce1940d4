#!/usr/bin/env bats
# Keys travel with the tree (docs/protocol.md section 1.1, state-tree.md
# sections 2.2, 3.1 and 8): a new host, gamma, is authorized by hand on
# alpha only (and alpha on gamma); it joins through alpha, publishing its
# key, and lets in the members whose keys it pulled; beta's clusterd then
# adds a line bound to gamma by itself.  A member cannot push another
# host's key, a changed key is not installed, and an eviction removes the
# line that was added.  Three hosts with real sshd in network namespaces.

load helpers
load netns

teardown() {
	netns_test_teardown
}

serve_cmd() {	# the forced command of HOST's lines, as netns.bash writes them
	echo "$CLUSTERD --serve --root $(netns_root "$1") --host $1"
}

ak() { echo "$NETNS_DIR/$1/authorized_keys"; }

# keep_lines HOST PEER...: HOST's authorized_keys keeps only the lines
# netns.bash bound to these peers.
keep_lines() {
	local host=$1 p pat=
	shift
	for p in "$@"; do
		pat="$pat${pat:+\\|}--peer $p\""
	done
	grep -e "$pat" "$(ak "$host")" >"$(ak "$host").new" || true
	mv "$(ak "$host").new" "$(ak "$host")"
}

# A line of ON's authorized_keys bound to HOST that clusterd added.
auto_line() {	# auto_line ON HOST
	grep -q "^restrict,from=\"$(netns_addr "$2")\",command=\"$(serve_cmd "$1") --peer $2\" .* mars-authorized=[0-9]* mars-auto=1$" \
		"$(ak "$1")"
}
lines_of() {	# lines_of ON HOST: how many lines are bound to HOST
	grep -c -- "--peer $2\"" "$(ak "$1")" || true
}
no_line() { [ "$(lines_of "$1" "$2")" = 0 ]; }

has_key() {	# has_key HOST PATH: HOST's tree has a live PATH
	tree "$1" get "$2" >/dev/null 2>&1
}

# The keys/ value of an OpenSSH .pub file (state-tree.md section 2.2).
key_value() {
	awk '{print $1 ":" $2}' "$1" | tr '+/' '-_'
}

# The node's counter NAME from its .counters file (0 if none yet).
counter() {	# counter HOST NAME
	local n
	n=$(sed -n "s/^$2 \\([0-9]*\\)$/\\1/p" "$(netns_root "$1")/.counters" 2>/dev/null)
	echo "${n:-0}"
}
counter_at_least() { [ "$(counter "$1" "$2")" -ge "$3" ]; }

daemon() {	# daemon HOST [OPTION...]: clusterd managing HOST's authorized_keys
	local h=$1
	shift
	clusterd_start "$h" --authorized-keys "$(ak "$h")" --serve-cmd "$(serve_cmd "$h")" "$@"
}

# alpha and beta form a cluster and run their daemons; gamma is known by
# hand to alpha only, and knows alpha only; then it joins through alpha.
gamma_joins() {
	netns_setup 3
	[ -x "$MARSADM" ] || fail "marsadm not built at $MARSADM"
	keep_lines beta alpha
	keep_lines gamma alpha
	no_line beta gamma
	netns_mkroot alpha
	run marsadm_on alpha create-cluster "$(netns_addr alpha)"
	assert_success
	run marsadm_on beta join-cluster "$(netns_addr alpha)" \
		--key="$(netns_key beta)" --known-hosts="$NETNS_DIR/known_hosts"
	assert_success
	daemon alpha
	daemon beta
	# beta's came with its join, alpha's daemon publishes its own
	wait_for 20 has_value alpha keys/key-alpha "$(key_value "$(netns_key alpha).pub")"
	has_value alpha keys/key-beta "$(key_value "$(netns_key beta).pub")"
	UUID=$(tree alpha get uuid)
	MARS_SERVE_CMD=$(serve_cmd gamma) run marsadm_on gamma join-cluster "$(netns_addr alpha)" \
		--key="$(netns_key gamma)" --known-hosts="$NETNS_DIR/known_hosts" \
		--authorized-keys="$(ak gamma)"
	assert_success
	assert_output --partial "authorized member 'beta' from $(netns_addr beta)"
	refute_output --partial "authorized member 'alpha'"	# its line was there
	auto_line gamma beta
	[ "$(lines_of gamma alpha)" = 1 ]
	has_value alpha keys/key-gamma "$(key_value "$(netns_key gamma).pub")"
	daemon gamma
}

@test "a host authorized on one member only joins; the others let it in by themselves; eviction removes the line" {
	gamma_joins
	wait_for 30 auto_line beta gamma
	[ "$(lines_of beta gamma)" = 1 ]
	[ "$(lines_of alpha gamma)" = 1 ]	# alpha's admin line stays the one
	! grep -q -- '--peer gamma".*mars-auto=1' "$(ak alpha)"
	grep -q "'gamma' authorized from $(netns_addr gamma) with the key it published" \
		"$NETNS_DIR/beta/clusterd.log"
	# gamma and beta gossip both ways: each one's own names come only
	# from itself, so each pulled from the other
	tree beta set defaults-beta/probe from-beta
	tree gamma set defaults-gamma/probe from-gamma
	wait_for 30 has_value gamma defaults-beta/probe from-beta
	wait_for 30 has_value beta defaults-gamma/probe from-gamma
	netns_push gamma beta "hello gamma $UUID"
	assert_success
	assert_line "hello beta"
	# evicted: the line beta added goes like any other
	clusterd_stop gamma
	run marsadm_on alpha leave-cluster gamma
	assert_success
	wait_for 30 no_line beta gamma
	wait_for 30 no_line alpha gamma
	# its key is withdrawn with its membership: no old key comes back
	wait_for 30 lacks_key beta keys/key-gamma
	lacks_key alpha keys/key-gamma
	netns_push gamma beta "hello gamma $UUID"
	refute_output --partial "hello beta"
}

@test "keys come only from their host: a member's push of another's key is refused, a changed key is not installed" {
	local policy before new
	gamma_joins
	wait_for 30 auto_line beta gamma
	# beta pushes keys for others: alpha's own, gamma's, a made-up host's
	wait_for 10 has_key gamma keys/key-alpha
	before=$(tree gamma get keys/key-alpha)
	policy=$(counter gamma policy)
	netns_push beta gamma "hello beta $UUID" \
		"entry keys/key-alpha $(key_value "$(netns_key beta).pub")" \
		"entry keys/key-delta $(key_value "$(netns_key beta).pub")" "end"
	assert_success
	assert_line "ack 0"
	assert_equal "$(tree gamma get keys/key-alpha)" "$before"
	! has_key gamma keys/key-delta
	wait_for 10 counter_at_least gamma policy $((policy + 2))
	netns_push beta alpha "hello beta $UUID" \
		"entry keys/key-alpha $(key_value "$(netns_key beta).pub")" "end"
	assert_line "ack 0"
	# gamma changes its key: the trees take it from gamma, no
	# authorized_keys line changes, beta logs and counts it once
	ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C mars-gamma2 -f "$NETNS_DIR/gamma/key2"
	new=$(key_value "$NETNS_DIR/gamma/key2.pub")
	clusterd_stop gamma
	daemon gamma --key "$NETNS_DIR/gamma/key2"
	wait_for 30 has_value beta keys/key-gamma "$new"
	wait_for 30 grep -q "'gamma' publishes another key than the one authorized in $(ak beta); not replaced" \
		"$NETNS_DIR/beta/clusterd.log"
	wait_for 10 counter_at_least beta key 1
	[ "$(lines_of beta gamma)" = 1 ]
	auto_line beta gamma
	! grep -q "$(cut -d' ' -f2 "$NETNS_DIR/gamma/key2.pub")" "$(ak beta)"
	[ "$(grep -c "'gamma' publishes another key" "$NETNS_DIR/beta/clusterd.log")" = 1 ]
	# the admin settles it on beta: mars-setup-ssh replaces the added line
	MARS_AUTHORIZED_KEYS=$(ak beta) MARS_SERVE_CMD=$(serve_cmd beta) \
		run "$MARS_BUILDDIR/clusterd/mars-setup-ssh" --authorize gamma \
		"$(netns_addr gamma)" "$NETNS_DIR/gamma/key2.pub"
	assert_success
	[ "$(lines_of beta gamma)" = 1 ]
	grep -q -- "--peer gamma\" $(cut -d' ' -f1,2 "$NETNS_DIR/gamma/key2.pub") mars-authorized=[0-9]*$" \
		"$(ak beta)"
	# and gamma, with its new key, pulls from beta again
	tree beta set defaults-beta/settled yes
	wait_for 30 has_value gamma defaults-beta/settled yes
	[ "$(lines_of beta gamma)" = 1 ]
}
