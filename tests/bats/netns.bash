# Network-namespace hosts for the cluster suites (tests/bats/30-*.bats).
#
# netns_setup N builds N hosts (alpha, beta, gamma, delta, epsilon, ...),
# each a network namespace with one veth "eth0" at 10.77.0.(10+i)/24 on
# a bridge that lives in a namespace of its own, so nothing in the root
# namespace is touched and only these addresses and loopback are ever
# contacted.  Every host runs its own sshd (own host key, PidFile, log,
# authorized_keys under $NETNS_DIR/HOST) that accepts the other hosts' own
# keys ($NETNS_DIR/HOST/key), each bound to its host the way
# `mars-setup-ssh --authorize` binds them: from its address only, forced
# to `clusterd --serve --peer NAME` on that host's tree.  netns_teardown kills everything this file started and deletes the
# namespaces; call it from teardown() so it runs even after a failure.
#
# Needs root (ip netns), /usr/sbin/sshd, ssh-keygen.  Variables:
#   CLUSTERD     the clusterd binary under test
#   GOSSIP_TREE  tests/helpers/gossip-tree
#   GOSSIP_PUSH  tests/helpers/gossip-push (a hostile client)
#   NETNS_DIR    per-test directory: keys, known_hosts, logs, trees
#   NETNS_HOSTS  host names in use, in order
#   NETNS_NAMES  "on": every host knows the others by name only, from its
#                namespace's hosts file (/etc/netns/NS/hosts, which `ip
#                netns exec` mounts over /etc/hosts; its resolv.conf points
#                at nothing, so no name query leaves the machine), and
#                netns_cluster_marsadm types no address

CLUSTERD=${CLUSTERD:-$MARS_BUILDDIR/clusterd/clusterd}
GOSSIP_TREE=${GOSSIP_TREE:-$MARS_BUILDDIR/tests/helpers/gossip-tree}
GOSSIP_EVIL=${GOSSIP_EVIL:-$MARS_BUILDDIR/tests/helpers/gossip-evil}
GOSSIP_PUSH=${GOSSIP_PUSH:-$MARS_BUILDDIR/tests/helpers/gossip-push}
TRANSFER_CLIENT=${TRANSFER_CLIENT:-$MARS_BUILDDIR/tests/helpers/transfer-client}
NETNS_ALL_HOSTS=(alpha beta gamma delta epsilon zeta eta theta)
# Fast timers so that the suite stays short; every wait is still bounded.
CLUSTERD_TEST_OPTS=${CLUSTERD_TEST_OPTS:---period-ms 1000 --heartbeat-ms 1000 --timeout-ms 3000 --backoff-max-ms 1000 --log-level debug}

netns_require() {
	[ "$(id -u)" = 0 ] || fail "the netns suites need root (ip netns, sshd)"
	command -v ip >/dev/null || fail "iproute2 missing (tests/install-deps installs it)"
	[ -x /usr/sbin/sshd ] || fail "openssh-server missing (tests/install-deps installs it)"
	command -v ssh-keygen >/dev/null || fail "ssh-keygen missing"
	[ -x "$CLUSTERD" ] || fail "clusterd not built at $CLUSTERD (run make)"
	[ -x "$GOSSIP_TREE" ] || fail "gossip-tree not built at $GOSSIP_TREE (run make)"
}

# A short id unique to this test, for namespace names; NETNS_ID fixes it
# for a cluster that lives through several tests (the guest suites).
_netns_id() {
	echo "${NETNS_ID:-mt$$-${BATS_TEST_NUMBER:-0}}"
}

netns_name() { echo "$(_netns_id)-$1"; }
netns_bridge() { echo "$(_netns_id)-br"; }
netns_exec() {
	local host=$1
	shift
	ip netns exec "$(netns_name "$host")" "$@"
}

# Index of a host in NETNS_HOSTS (1-based) and its address.
netns_index() {
	local i
	for i in "${!NETNS_HOSTS[@]}"; do
		[ "${NETNS_HOSTS[$i]}" = "$1" ] && { echo $((i + 1)); return 0; }
	done
	return 1
}
netns_addr() { echo "10.77.0.$((10 + $(netns_index "$1")))"; }

# Names mode: each namespace's hosts file lists every host by name.
_netns_names() {
	local h ns i
	for h in "${NETNS_HOSTS[@]}"; do
		ns=$(netns_name "$h")
		mkdir -p "/etc/netns/$ns"
		{
			echo "127.0.0.1 localhost"
			for i in "${NETNS_HOSTS[@]}"; do
				echo "$(netns_addr "$i") $i"
			done
		} >"/etc/netns/$ns/hosts"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
			>"/etc/netns/$ns/resolv.conf"
	done
}
netns_root() { echo "$NETNS_DIR/$1/mars"; }

_netns_record() {
	echo "$1" >>"$NETNS_DIR/pids"
}

_netns_add_host() {
	local host=$1 i=$2 ns br
	ns=$(netns_name "$host")
	br=$(netns_bridge)
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$br" link add "v$i" type veth peer name eth0 netns "$ns"
	ip -n "$br" link set "v$i" master br0 up
	ip -n "$ns" addr add "10.77.0.$((10 + i))/24" dev eth0
	ip -n "$ns" link set eth0 up
}

netns_key() { echo "$NETNS_DIR/$1/key"; }	# HOST's own ssh key

# authorized_keys of HOST: one line per other host, bound to its name and
# address, forcing CMD (default: the serving end on HOST's tree).
_netns_authorized_keys() {
	local host=$1 cmd=${2:-} h
	for h in "${NETNS_HOSTS[@]}"; do
		[ "$h" = "$host" ] && continue
		printf 'restrict,from="%s",command="%s" %s\n' "$(netns_addr "$h")" \
			"${cmd:-${SERVE_CMD_PREFIX:-}$CLUSTERD --serve --root $(netns_root "$host") --host $host --peer $h}" \
			"$(cut -d' ' -f1,2 "$(netns_key "$h").pub")"
	done >"$NETNS_DIR/$host/authorized_keys"
}

# sshd of one host; its forced command serves the host's own tree.
_netns_sshd() {
	local host=$1 dir=$NETNS_DIR/$1 addr
	addr=$(netns_addr "$host")
	mkdir -p "$dir" /run/sshd
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$dir/ssh_host_ecdsa_key"
	_netns_authorized_keys "$host"
	cat >"$dir/sshd_config" <<-CFG
	ListenAddress $addr
	Port 22
	HostKey $dir/ssh_host_ecdsa_key
	PidFile $dir/sshd.pid
	AuthorizedKeysFile $dir/authorized_keys
	StrictModes no
	PermitRootLogin prohibit-password
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	UsePAM no
	ClientAliveInterval 2
	ClientAliveCountMax 2
	LogLevel VERBOSE
	# root's shell must not read ~/.bashrc (bash does when run by sshd
	# at SHLVL 0): it may print or hang, and the channel carries frames.
	SetEnv SHLVL=1
	CFG
	echo "$addr $(cut -d' ' -f1,2 "$dir/ssh_host_ecdsa_key.pub")" >>"$NETNS_DIR/known_hosts"
	# A simple command, not a function, so that $! is sshd itself.  No
	# daemon keeps bats' fd 3 or output open: bats would wait for it.
	ip netns exec "$(netns_name "$host")" /usr/sbin/sshd -D -f "$dir/sshd_config" \
		-E "$dir/sshd.log" </dev/null >>"$dir/sshd.log" 2>&1 3>&- &
	_netns_record $!
}

# Replace a host's forced command (for the malicious serving end), and
# put the serving end back.
netns_set_forced_command() {
	_netns_authorized_keys "$1" "$2"
}
netns_restore_forced_command() {
	_netns_authorized_keys "$1"
}

netns_wait_sshd() {
	local host=$1 addr deadline=$((SECONDS + 10))
	addr=$(netns_addr "$host")
	until netns_exec "$host" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "sshd of $host not listening within 10s"
		sleep 0.05
	done
}

# netns_setup N: N hosts with sshd, a key each and known_hosts.
netns_setup() {
	local n=$1 i
	netns_require
	NETNS_DIR=$BATS_TEST_TMPDIR/net
	mkdir -p "$NETNS_DIR"
	_netns_share_mounts
	: >"$NETNS_DIR/pids"
	: >"$NETNS_DIR/known_hosts"
	: >"$NETNS_DIR/peers"
	NETNS_HOSTS=("${NETNS_ALL_HOSTS[@]:0:$n}")
	for i in "${NETNS_HOSTS[@]}"; do
		mkdir -p "$NETNS_DIR/$i"
		ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C "mars-$i" -f "$(netns_key "$i")"
	done
	ip netns add "$(netns_bridge)"
	ip -n "$(netns_bridge)" link add br0 type bridge
	ip -n "$(netns_bridge)" link set br0 up
	for i in $(seq 1 "$n"); do
		_netns_add_host "${NETNS_HOSTS[$((i - 1))]}" "$i"
	done
	[ "${NETNS_NAMES:-off}" = on ] && _netns_names
	for i in "${NETNS_HOSTS[@]}"; do
		_netns_sshd "$i"
	done
	for i in "${NETNS_HOSTS[@]}"; do
		netns_wait_sshd "$i"
	done
}

# netns_link HOST up|down: cut or heal the host's cable at the bridge.
netns_link() {
	ip -n "$(netns_bridge)" link set "v$(netns_index "$1")" "$2"
}

# The gossip options for HOST (keys, known hosts, peers, tree, the test's
# fast timers): what every program that speaks to peers takes, clusterd
# and tests/helpers/transfer-client alike.  Printed for word splitting by
# the caller: test paths contain no blanks.
gossip_opts() {
	local host=$1
	echo --root "$(netns_root "$host")" --host "$host" \
		--key "$(netns_key "$host")" --known-hosts "${NETNS_KNOWN_HOSTS:-$NETNS_DIR/known_hosts}" \
		--peers "$NETNS_DIR/$host/peers" --timeout-ms 3000 --backoff-max-ms 1000 \
		--log-level debug
}

# clusterd options for HOST: the gossip options and the daemon's.
# shellcheck disable=SC2086
clusterd_opts() {
	local host=$1
	echo $(gossip_opts "$host") $CLUSTERD_TEST_OPTS \
		--data-path "${NETNS_DATA_PATH:-off}" --engine "$MARS_BUILDDIR/engine/mars-engine" \
		--dev-dir "$NETNS_DIR/$host/dev" --run-dir "$NETNS_DIR/$host/run"
}

# clusterd_start HOST [OPTION...]: run the daemon in HOST's namespace,
# with extra options for this host (--backend kmod).  With the data path
# on, only the network namespace is entered (nsenter), so that the
# engine's FUSE mounts are visible to the test, as on a real host.
clusterd_start() {
	local host=$1 dir=$NETNS_DIR/$1
	shift
	touch "$dir/peers"
	# A simple command, not a function, so that $! is clusterd itself.
	# shellcheck disable=SC2046
	if [ "${NETNS_DATA_PATH:-off}" = on ]; then
		nsenter --net="/run/netns/$(netns_name "$host")" "$CLUSTERD" \
			$(clusterd_opts "$host") "$@" </dev/null >>"$dir/clusterd.log" 2>&1 3>&- &
	else
		ip netns exec "$(netns_name "$host")" "$CLUSTERD" $(clusterd_opts "$host") "$@" \
			</dev/null >>"$dir/clusterd.log" 2>&1 3>&- &
	fi
	echo $! >"$dir/clusterd.pid"
	_netns_record $!
}

# clusterd_stop HOST [SIGNAL]: stop the daemon, wait (bounded) until gone.
clusterd_stop() {
	local pid deadline=$((SECONDS + 10))
	pid=$(cat "$NETNS_DIR/$1/clusterd.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "clusterd of $1 did not stop within 10s"
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
}

# NETNS_DIR becomes a mount of its own with shared propagation.  Every
# `ip netns exec` (sshd, marsadm_on) copies the whole mount table into a
# new mount namespace as slaves of what is shared.  Without this, the
# root mount being private here, a copy made while another test run had
# a file system or an engine's FUSE file mounted kept it mounted in that
# namespace: the unmount did not reach the copy, the loop device stayed
# open, and the other run's primary never saw its device closed.  With
# it, mounts and unmounts under NETNS_DIR reach every copy.
_netns_share_mounts() {
	mountpoint -q "$NETNS_DIR" && return 0
	mount --rbind "$NETNS_DIR" "$NETNS_DIR" || fail "cannot bind-mount $NETNS_DIR onto itself"
	mount --make-rshared "$NETNS_DIR" || fail "cannot make $NETNS_DIR a shared mount"
}

# Mounts and loop devices under NETNS_DIR (file systems on replicated
# devices, the engines' FUSE mounts), innermost first.
_netns_unmount() {
	local m dev
	for m in $(awk -v d="$NETNS_DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	for dev in $(losetup -nO NAME,BACK-FILE 2>/dev/null | awk -v d="$NETNS_DIR/" 'index($2, d) == 1 {print $1}'); do
		losetup -d "$dev" 2>/dev/null || true
	done
}

# Kill everything started here, then remove the namespaces.
netns_teardown() {
	local pid ns
	[ -n "${NETNS_DIR:-}" ] && [ -f "$NETNS_DIR/pids" ] || return 0
	_netns_unmount
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$NETNS_DIR/pids"
	for ns in $(ip netns list | awk '{print $1}' | grep "^$(_netns_id)-"); do
		# Processes in our own namespaces are ours: the serving ends sshd forked.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	# Names mode's hosts files (also of namespaces that failed to appear).
	rm -rf /etc/netns/"$(_netns_id)"-* 2>/dev/null || true
	while read -r pid; do
		wait "$pid" 2>/dev/null || true
	done <"$NETNS_DIR/pids"
	: >"$NETNS_DIR/pids"
	_netns_unmount		# FUSE mounts of engines killed above
	if mountpoint -q "$NETNS_DIR"; then
		umount -R "$NETNS_DIR" 2>/dev/null || umount -l "$NETNS_DIR" 2>/dev/null || true
		_netns_unmount	# what the bind covered (a small /mars mounted before it)
	fi
}

# On failure, show what the daemons and sshds said.
netns_dump_logs() {
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		echo "==== $h clusterd.log (tail)"
		# without the gossip rounds' debug lines, which would fill it
		grep -v "debug: peer '[^']*': pull of " "$NETNS_DIR/$h/clusterd.log" 2>/dev/null |
			tail -n 40
		echo "==== $h sshd.log (tail)"
		tail -n 5 "$NETNS_DIR/$h/sshd.log" 2>/dev/null
	done
}

# ---- shared by the cluster suites ------------------------------------------

# teardown() of a cluster suite: logs of a failed test, then everything gone.
netns_test_teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NETNS_DIR:-}" ]; then
		# As TAP diagnostics, so that the CI log carries them.
		netns_dump_logs 2>/dev/null | sed 's/^/# /' >&3 || true
	fi
	netns_teardown
}

# netns_resource RES BYTES FIRST [HOST...]: RES created on FIRST and
# joined by the others, each with a disk image of BYTES in NETNS_DIR
# (disk-HOST.img), waiting (bounded) until FIRST holds each data- link.
netns_resource() {
	local res=$1 size=$2 first=$3 h
	shift 3
	for h in "$first" "$@"; do
		truncate -s "$size" "$NETNS_DIR/disk-$h.img"
	done
	run marsadm_on "$first" create-resource "$res" "$NETNS_DIR/disk-$first.img"
	assert_success
	for h in "$@"; do
		wait_for 15 has_value "$h" "resource-$res/primary" "$first"
		run marsadm_on "$h" join-resource "$res" "$NETNS_DIR/disk-$h.img"
		assert_success
		wait_for 15 has_value "$first" "resource-$res/data-$h" "$NETNS_DIR/disk-$h.img"
	done
}

# netns_push FROM TO LINE...: one tests/helpers/gossip-push session with
# FROM's own key to TO's sshd, a script line per argument; output and
# status in $output / $status.
netns_push() {
	local from=$1 to=$2
	shift 2
	[ -x "$GOSSIP_PUSH" ] || fail "gossip-push not built at $GOSSIP_PUSH"
	run bash -c 'printf "%s\n" "${@:6}" | ip netns exec "$1" "$2" "$3" "$4" "$5"' \
		_ "$(netns_name "$from")" "$GOSSIP_PUSH" "$(netns_key "$from")" \
		"$NETNS_DIR/known_hosts" "$(netns_addr "$to")" "$@"
}

tree() {	# tree HOST gossip-tree-args...
	local host=$1
	shift
	"$GOSSIP_TREE" "$(netns_root "$host")" "$host" "$@"
}

lacks_key() {	# lacks_key HOST PATH: HOST's tree has no live PATH
	! tree "$1" get "$2" >/dev/null 2>&1
}

has_value() {	# has_value HOST PATH VALUE
	[ "$(tree "$1" get "$2" 2>/dev/null)" = "$3" ]
}

all_have() {	# all_have PATH VALUE
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		has_value "$h" "$1" "$2" || return 1
	done
}

# marsadm_on HOST ARGS...: marsadm as HOST in its namespace, with its
# own key, known hosts and peers file clusterd uses there (the pull of
# update-cluster and of the commands that need the newest state).
marsadm_on() {
	local host=$1
	shift
	MARS_SSH_KEY=${MARS_SSH_KEY:-$(netns_key "$host")} \
	MARS_KNOWN_HOSTS=${MARS_KNOWN_HOSTS:-${NETNS_KNOWN_HOSTS:-$NETNS_DIR/known_hosts}} \
	MARS_PEERS=${MARS_PEERS:-$NETNS_DIR/$host/peers} \
		ip netns exec "$(netns_name "$host")" "$MARSADM" --root="$(netns_root "$host")" \
		--host="$host" "$@"
}

netns_mkroot() {	# netns_mkroot HOST: HOST's empty state tree directory
	mkdir -p -m 0700 "$(netns_root "$1")"
}

# netns_cluster_marsadm: the hosts of netns_setup form a cluster the way an
# admin does it (create-cluster on the first, join-cluster on the others
# with their own keys and the known_hosts in NETNS_KEY_DIR, default
# NETNS_DIR).  In
# names mode no address is typed: create-cluster finds its own and the
# others join through the first host's name.
netns_cluster_marsadm() {
	local h first=${NETNS_HOSTS[0]} keys=${NETNS_KEY_DIR:-$NETNS_DIR} via key
	local -a addr=()
	[ -x "$MARSADM" ] || fail "marsadm not built at $MARSADM"
	via=$first
	if [ "${NETNS_NAMES:-off}" != on ]; then
		via=$(netns_addr "$first")
		addr=("$via")
	fi
	netns_mkroot "$first"
	run marsadm_on "$first" create-cluster "${addr[@]}"
	assert_success
	for h in "${NETNS_HOSTS[@]:1}"; do
		# a guest's own key lies in its NETNS_KEY_DIR (vmnet.bash)
		key=$(NETNS_DIR=${NETNS_KEY_DIR:-${NETNS_DIR:-}} netns_key "$h")
		run marsadm_on "$h" join-cluster "$via" \
			--key="$key" --known-hosts="$keys/known_hosts"
		assert_success
	done
}

# netns_clusterd_all [--authorized-keys]: clusterd on every host, until
# all know all members; with the option each daemon manages its host's
# authorized_keys (revokes departed members' lines), as installed.
netns_clusterd_all() {
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		if [ "${1:-}" = --authorized-keys ]; then
			clusterd_start "$h" --authorized-keys "$NETNS_DIR/$h/authorized_keys"
		else
			clusterd_start "$h"
		fi
	done
	for h in "${NETNS_HOSTS[@]}"; do
		wait_for 20 all_have "ips/ip-$h" "$(netns_addr "$h")"
	done
}
