#!/usr/bin/env bats
# Identity from authentication (docs/protocol.md, "Trust model: identity"):
# a hostile member speaks the protocol through its own, real key
# (gossip-evil --client over ssh to the victim's sshd, tests/bats/netns.bash)
# and claims to be someone else.  The serving end must take the client's
# name from the key's authorized_keys binding (--peer NAME), never from
# HELLO; uuid "(any)" opens only a join of a host that is not a member,
# which may push only its own address; a member that left can no longer
# log in anywhere; mars-setup-ssh writes and removes the bound lines.

load helpers
load netns

teardown() {
	netns_test_teardown
}

# speak FROM TO NAME UUID STEP...: gossip-evil --client in FROM's namespace
# with FROM's own key, to TO's sshd, saying HELLO as NAME with UUID.  What
# it received is $output; what ssh and the serving end said, speak.err.
_speak() {
	local from=$1 to=$2
	shift 2
	netns_exec "$from" "$GOSSIP_EVIL" --client "$@" -- \
		ssh -T -i "$(netns_key "$from")" -o UserKnownHostsFile="$NETNS_DIR/known_hosts" \
		-o BatchMode=yes -o ConnectTimeout=5 "root@$(netns_addr "$to")" \
		2>"$BATS_TEST_TMPDIR/speak.err"
}
speak() {
	run _speak "$@"
	echo "$output"
	sed 's/^/stderr: /' "$BATS_TEST_TMPDIR/speak.err"
}

# members HOST...: the first creates the cluster, the others join it.
members() {
	local h first=$1
	[ -x "$GOSSIP_EVIL" ] || fail "gossip-evil not built at $GOSSIP_EVIL"
	[ -x "$MARSADM" ] || fail "marsadm not built at $MARSADM"
	netns_mkroot "$first"
	run marsadm_on "$first" create-cluster "$(netns_addr "$first")"
	assert_success
	for h in "${@:2}"; do
		run marsadm_on "$h" join-cluster "$(netns_addr "$first")" \
			--key="$(netns_key "$h")" --known-hosts="$NETNS_DIR/known_hosts"
		assert_success
	done
}

@test "a HELLO naming another host than the key's is refused: the server's, a third member's, an unknown one" {
	netns_setup 3
	members alpha beta gamma
	local uuid
	uuid=$(tree alpha get uuid)
	speak beta alpha beta "$uuid" pull		# the honest session
	assert_line --index 0 "HELLO alpha $uuid"
	assert_line --partial "END "
	speak beta alpha alpha "$uuid" pull
	assert_output --partial "ERROR 5 HELLO names 'alpha', the serving host itself"
	refute_output --partial "HELLO alpha"
	speak beta alpha gamma "$uuid" pull
	assert_output --partial "ERROR 5 HELLO names 'gamma', but this key is bound to 'beta'"
	refute_output --partial "HELLO alpha"
	speak beta alpha nosuch "$uuid" pull
	assert_output --partial "ERROR 5 HELLO names 'nosuch', but this key is bound to 'beta'"
	refute_output --partial "HELLO alpha"
}

@test "uuid (any) from a member is refused: it is only for a host that joins" {
	netns_setup 2
	members alpha beta
	speak beta alpha beta '(any)' pull
	assert_output --partial "ERROR 2 'beta' is a member: uuid '(any)' is only for joining"
	refute_output --partial "HELLO alpha"
	# so is a join-cluster of a host that already is a member
	run marsadm_on beta join-cluster "$(netns_addr alpha)"
	assert_failure
	assert_output --partial "is a member"
}

@test "a join pushes only the joiner's own address and key: another host's are refused, so is a fetch" {
	netns_setup 3
	members alpha beta
	local before key
	before=$(tree alpha dump)
	speak gamma alpha gamma '(any)' pull "ips/ip-beta=10.77.0.99" "actual-alpha/time=1.0" fetch
	assert_line --index 0 --partial "HELLO alpha "
	assert_line --index 2 --partial "ACK 0"
	assert_line --index 3 --partial "ACK 0"
	assert_output --partial "ERROR 5 a joining host may not fetch"
	assert_equal "$(tree alpha dump)" "$before"
	run tree alpha get ips/ip-beta
	assert_output "$(netns_addr beta)"
	# the key of another host (form ssh key, docs/state-tree.md 2.2)
	key=$(awk '{print $1 ":" $2}' "$(netns_key gamma).pub" | tr '+/' '-_')
	speak gamma alpha gamma '(any)' "keys/key-beta=$key"
	assert_line --index 1 --partial "ACK 0"
	run tree alpha get keys/key-beta
	refute_output "$key"
	# its own address and key are what a join registers
	speak gamma alpha gamma '(any)' "ips/ip-gamma=$(netns_addr gamma)" "keys/key-gamma=$key"
	assert_line --index 1 --partial "ACK 1"
	assert_line --index 2 --partial "ACK 1"
	run tree alpha get ips/ip-gamma
	assert_output "$(netns_addr gamma)"
	run tree alpha get keys/key-gamma
	assert_output "$key"
}

@test "a key line without --peer (the shared key of earlier releases) is refused, saying how to bind it" {
	netns_setup 2
	members alpha beta
	netns_set_forced_command alpha "$CLUSTERD --serve --root $(netns_root alpha) --host alpha"
	speak beta alpha beta "$(tree alpha get uuid)" pull
	assert_output --partial "ERROR 5 this key is bound to no host"
	assert_output --partial "mars-setup-ssh --authorize NAME ADDR KEYFILE"
	refute_output --partial "HELLO alpha"
}

@test "a member that left can no longer log in anywhere; the others still gossip" {
	netns_setup 3
	members alpha beta gamma
	local h uuid
	uuid=$(tree alpha get uuid)
	netns_clusterd_all --authorized-keys
	speak gamma alpha gamma "$uuid"
	assert_output "HELLO alpha $uuid"
	run marsadm_on gamma leave-cluster
	assert_success
	for h in alpha beta; do
		wait_for 20 has_value "$h" ips/ip-gamma ""
		wait_for 20 lacks_key "$h" keys/key-gamma	# withdrawn with it
		wait_for 20 sh -c "! grep -q -- '--peer gamma\"' '$NETNS_DIR/$h/authorized_keys'"
		grep -q -- '--peer beta"\|--peer alpha"' "$NETNS_DIR/$h/authorized_keys"
		grep -q "'gamma' left the cluster: its key no longer logs in here" \
			"$NETNS_DIR/$h/clusterd.log"
		speak gamma "$h" gamma "$uuid"
		refute_output --partial "HELLO"
	done
	grep -q "Permission denied" "$BATS_TEST_TMPDIR/speak.err"
	tree beta set userspace/after-leave v1
	wait_for 20 has_value alpha userspace/after-leave v1
	tree alpha set userspace/after-leave-a v2
	wait_for 20 has_value beta userspace/after-leave-a v2
}

@test "mars-setup-ssh: a line it authorizes logs in as that host only, from its address; revoked, none" {
	local setup=$MARS_BUILDDIR/clusterd/mars-setup-ssh ak
	[ -x "$setup" ] || fail "mars-setup-ssh not built at $setup"
	netns_setup 3
	members alpha beta gamma
	ak=$NETNS_DIR/alpha/authorized_keys
	export MARS_AUTHORIZED_KEYS=$ak
	export MARS_SERVE_CMD="$CLUSTERD --serve --root $(netns_root alpha) --host alpha"
	: >"$ak"
	run "$setup" --authorize beta "$(netns_addr beta)" "$(netns_key beta).pub"
	assert_success
	run "$setup" --authorize gamma "$(netns_addr beta)" "$(netns_key gamma).pub"
	assert_success
	speak gamma alpha gamma "$(tree alpha get uuid)"	# from the wrong address
	refute_output --partial "HELLO"
	grep -q "Permission denied" "$BATS_TEST_TMPDIR/speak.err"
	run "$setup" --authorize gamma "$(netns_addr gamma)" "$(netns_key gamma).pub"
	assert_success
	[ "$(grep -c -- '--peer gamma"' "$ak")" = 1 ] || fail "gamma's line not replaced"
	grep -q "^restrict,from=\"$(netns_addr beta)\",command=\"$MARS_SERVE_CMD --peer beta\" ecdsa-sha2-nistp256 [^ ]* mars-authorized=[0-9]*$" "$ak"
	[ "$(stat -c %a "$ak")" = 600 ]
	speak beta alpha beta "$(tree alpha get uuid)"
	assert_output --partial "HELLO alpha"
	speak beta alpha gamma "$(tree alpha get uuid)"
	assert_output --partial "ERROR 5 HELLO names 'gamma', but this key is bound to 'beta'"
	run "$setup" --revoke beta
	assert_success
	grep -q -- '--peer gamma"' "$ak"
	grep -qx '# mars-revoked beta' "$ak"	# clusterd adds no line for it again
	speak beta alpha beta "$(tree alpha get uuid)"
	refute_output --partial "HELLO"
	grep -q "Permission denied" "$BATS_TEST_TMPDIR/speak.err"
	run "$setup" --authorize beta "$(netns_addr beta)" "$(netns_key beta).pub"
	assert_success
	! grep -q '# mars-revoked beta' "$ak"	# authorized again: the mark goes
	run "$setup" --authorize 'bad name' 10.0.0.1 "$(netns_key beta).pub"
	assert_failure
	run "$setup" --authorize beta '10.0.0.1" evil' "$(netns_key beta).pub"
	assert_failure
	run "$setup" --install
	assert_failure
	assert_output --partial "--authorize NAME ADDR PUBKEY-FILE"
}
