#!/usr/bin/env bats
# Host names instead of addresses (issue 16): hosts in network namespaces
# that know each other only by the names in their hosts files
# (/etc/netns/NS/hosts, netns.bash's names mode), with real sshd and
# clusterd.  No address is typed in the cluster scenarios: create-cluster
# finds this node's own, join-cluster dials a name, and the trees must
# still hold numeric addresses everyone can dial (docs/state-tree.md).

load helpers
load replica

NETNS_NAMES=on

teardown() {
	replica_teardown
}

# ips_numeric HOST: HOST's tree holds every member's netns address.
ips_numeric() {
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		has_value "$1" "ips/ip-$h" "$(netns_addr "$h")" || return 1
	done
}

@test "names only: create-cluster and join-cluster by name; both trees hold both addresses" {
	netns_setup 2
	run netns_exec beta getent hosts alpha
	assert_output --partial "$(netns_addr alpha)"
	netns_cluster_marsadm
	# Before any daemon ran: the joiner fetched alpha's, alpha got beta's push.
	ips_numeric alpha
	ips_numeric beta
	# The daemons dial those addresses: every member's heartbeat is fresh.
	netns_clusterd_all
	run marsadm_on alpha wait-cluster --timeout=30
	assert_success
	run marsadm_on beta wait-cluster --timeout=30
	assert_success
}

@test "names only: a resource replicates and hands over both ways" {
	replica_up alpha beta
	ips_numeric alpha
	ips_numeric beta
	fs_mount alpha mkfs
	write_files alpha 4
	fs_umount alpha
	wait_same alpha beta 60
	handover beta
	fs_mount beta
	[ "$(ls "$(mnt beta)" | grep -c '^f')" -eq 4 ]
	write_files beta 2
	fs_umount beta
	wait_same beta alpha 60
	handover alpha
	fs_mount alpha
	[ "$(ls "$(mnt alpha)" | grep -c '^f')" -eq 6 ]
	fs_umount alpha
}

@test "an unresolvable name is refused with the resolver's answer and nothing is written" {
	netns_setup 2
	netns_mkroot alpha
	netns_mkroot beta
	run marsadm_on alpha create-cluster --ip=nosuch
	[ "$status" -eq 5 ]
	assert_output --partial "cannot resolve host 'nosuch': "
	assert_output --partial "--ip=ADDR"
	# No default route and a node name nobody knows: no address to record.
	run marsadm_on alpha --host=ghost create-cluster
	[ "$status" -eq 5 ]
	assert_output --partial "cannot find an address of 'ghost' that peers can reach"
	assert_output --partial "cannot resolve host 'ghost'"
	assert_output --partial "--ip=ADDR"
	[ -z "$(ls -A "$(netns_root alpha)")" ]
	run marsadm_on beta join-cluster nosuch --key="$(netns_key beta)" \
		--known-hosts="$NETNS_DIR/known_hosts"
	[ "$status" -eq 1 ]
	assert_output --partial "cannot resolve host 'nosuch': "
	run marsadm_on alpha create-cluster
	assert_success
	run marsadm_on beta join-cluster alpha --ip=nosuch --key="$(netns_key beta)" \
		--known-hosts="$NETNS_DIR/known_hosts"
	[ "$status" -eq 1 ]
	assert_output --partial "cannot resolve host 'nosuch': "
	[ -z "$(ls -A "$(netns_root beta)")" ]
}

@test "create-cluster records the address toward the default route (IPv4, else IPv6); --ip takes a name" {
	netns_setup 3
	ip -n "$(netns_name alpha)" route add default dev eth0
	netns_mkroot alpha
	run marsadm_on alpha --host=ghost create-cluster
	assert_success
	has_value alpha ips/ip-ghost "$(netns_addr alpha)" ||
		fail "ips/ip-ghost is '$(tree alpha get ips/ip-ghost)'"
	# Only an IPv6 default route: its interface's IPv6 address.
	ip -n "$(netns_name beta)" addr add fd77::12/64 dev eth0 nodad
	ip -n "$(netns_name beta)" -6 route add default dev eth0
	netns_mkroot beta
	run marsadm_on beta --host=ghost create-cluster
	assert_success
	has_value beta ips/ip-ghost fd77::12 ||
		fail "ips/ip-ghost is '$(tree beta get ips/ip-ghost)'"
	netns_mkroot gamma
	run marsadm_on gamma create-cluster --ip=gamma
	assert_success
	has_value gamma ips/ip-gamma "$(netns_addr gamma)"
}

@test "host key listed under the dialled name only: accepted; changed under it: refused" {
	netns_setup 2
	netns_mkroot alpha
	run marsadm_on alpha create-cluster
	assert_success
	echo "alpha $(cut -d' ' -f1,2 "$NETNS_DIR/alpha/ssh_host_ecdsa_key.pub")" \
		>"$NETNS_DIR/kh_name"
	# The address's entry is right, the name's is beta's key: changed.
	{ grep "^$(netns_addr alpha) " "$NETNS_DIR/known_hosts"
	  echo "alpha $(cut -d' ' -f1,2 "$NETNS_DIR/beta/ssh_host_ecdsa_key.pub")"; } \
		>"$NETNS_DIR/kh_changed"
	run marsadm_on beta join-cluster alpha --key="$(netns_key beta)" \
		--known-hosts="$NETNS_DIR/kh_changed"
	[ "$status" -eq 1 ]
	assert_output --partial "CHANGED"
	assert_output --partial "ssh-keygen -R alpha"
	run marsadm_on beta join-cluster alpha --key="$(netns_key beta)" \
		--known-hosts="$NETNS_DIR/kh_name"
	assert_success
	ips_numeric alpha
	ips_numeric beta
}

@test "clusterd: peers named in the overrides file are dialled; an unresolvable one is reported" {
	NETNS_DATA_PATH=off	# ip netns exec: the daemons read the namespaces' hosts files
	netns_setup 2
	netns_cluster_marsadm
	mkdir -p "$NETNS_DIR/alpha" "$NETNS_DIR/beta"
	echo "beta beta" >"$NETNS_DIR/alpha/peers"
	echo "alpha nosuch" >"$NETNS_DIR/beta/peers"
	clusterd_start alpha
	clusterd_start beta
	wait_for 20 grep -q "peer 'beta' (beta): connected" "$NETNS_DIR/alpha/clusterd.log"
	wait_for 20 grep -q "cannot resolve host 'nosuch': " "$NETNS_DIR/beta/clusterd.log"
	# beta's daemon goes on: its heartbeat reaches alpha through alpha's pulls.
	run marsadm_on alpha wait-cluster --timeout=30
	assert_success
}

heartbeat_moved() {	# heartbeat_moved HOST OLD: HOST's own heartbeat is no longer OLD
	[ "$(tree "$1" get "actual-$1/time" 2>/dev/null)" != "$2" ]
}

@test "clusterd: a name server that never answers stalls nothing (the lookup is a polled step)" {
	local blackhole=$MARS_BUILDDIR/tests/helpers/dns-blackhole beat i
	[ -x "$blackhole" ] || fail "dns-blackhole not built at $blackhole (run make)"
	NETNS_DATA_PATH=off
	netns_setup 2
	netns_cluster_marsadm
	# beta asks a name server that answers nothing, for up to 150 s a lookup.
	printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:5\n' \
		>"/etc/netns/$(netns_name beta)/resolv.conf"
	ip netns exec "$(netns_name beta)" "$blackhole" "$NETNS_DIR/dns.log" \
		</dev/null >"$NETNS_DIR/dns.out" 2>&1 3>&- &
	_netns_record $!
	wait_for 10 grep -q ready "$NETNS_DIR/dns.out"
	mkdir -p "$NETNS_DIR/beta"
	echo "alpha slow.example" >"$NETNS_DIR/beta/peers"
	clusterd_start beta
	wait_for 30 test -s "$NETNS_DIR/dns.log"	# a lookup is under way
	# A loop waiting in the resolver would write no heartbeat for 150 s.
	for i in 1 2 3; do
		beat=$(tree beta get actual-beta/time)
		wait_for 30 heartbeat_moved beta "$beat"
	done
	! grep -q "cannot resolve host 'slow.example'" "$NETNS_DIR/beta/clusterd.log"
}

@test "join-cluster through a name whose first address is dead tries the next" {
	netns_setup 2
	netns_mkroot alpha
	run marsadm_on alpha create-cluster
	assert_success
	# beta's hosts file: alpha also at an address nobody has (.13, which the
	# resolver sorts first from beta's .12: the longer common prefix).
	sed -i "s/^$(netns_addr alpha) alpha$/10.77.0.13 alpha\n&/" \
		"/etc/netns/$(netns_name beta)/hosts"
	run netns_exec beta getent ahostsv4 alpha
	assert_line --index 0 --partial 10.77.0.13
	run marsadm_on beta join-cluster alpha --key="$(netns_key beta)" \
		--known-hosts="$NETNS_DIR/known_hosts"
	assert_success
	ips_numeric alpha
	ips_numeric beta
}
