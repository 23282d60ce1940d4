# Clusters of qemu guests for the multi-node module suites (74-*.bats):
# every host is a guest of its own (tests/vm/run-guest --node), with its
# own kernel, mars.ko, sshd and clusterd --backend kmod.
#
# Network: one namespace made by the test ($VMNET_NS) holds a bridge br0
# with the test's own address 10.78.0.1/24 and one tap device per guest
# (tap-HOST); each qemu runs in that namespace on its tap, and the guest's
# eth0 is 10.78.0.(10+i)/24.  Nothing in the root namespace is touched;
# the test reaches the guests by ssh from inside the namespace, and the
# guests reach each other and nothing else.
#
#   vmnet_up N       N guests alpha, beta, ...: keys, known_hosts, sshd,
#                    a cluster (create-cluster/join-cluster) and clusterd
#                    --backend kmod on each, all members known everywhere
#   on_vm HOST CMD...  CMD (an argv) as root on HOST, over ssh
#   vmnet_partition on|off  the guests lose (regain) each other, while
#                    the test still reaches every one of them
#   vmnet_down       power off, kill what is left, delete the namespace;
#                    call it from teardown_file so it always runs
#   vmnet_dump_logs  the daemons' logs of every guest, on failure
#
# The checks of replica.bash and netns.bash (val, has_value, all_have,
# synced, caught_up, wait_same, split_seen, ...) work on the guests
# unchanged, because the few functions below them are redefined here:
# tree, marsadm_on, netns_addr, netns_root, dev, disk, mnt, is_primary,
# log_end, same_disks, fs_mount, fs_umount, write_files, show.
#
# Host directory $VMNET_DIR/HOST is that guest's run directory (console
# log, disk image disks/data.img, share/ with the node files and, after
# power off, share/logs/).  In the guest everything lives on tmpfs under
# $VMNET_GUEST (/run/node, made by tests/vm/guest-node), laid out the way
# netns.bash lays out NETNS_DIR, so that clusterd_opts serves both.
#
# Variables: VMNET_ID (namespace name prefix, the same in every test and
# teardown_file of a suite; one cluster per suite), VMNET_DIR, VMNET_MEMORY (MiB, 768),
# VMNET_CPUS (1), VMNET_TIMEOUT (seconds a guest may live, 1200),
# VMNET_DISKS (more run-guest --disk NAME:SIZE specs after the data disk,
# vdb, vdc, ... in the guest; "mars:SIZE" puts the state tree on a disk:
# tests/vm/guest-node), and replica.bash's RES, DISK_MB, ROTATE_SIZE.

# An ssh handshake between two TCG guests takes 2-4 s, more on a busy
# machine: the network wait of tests/vm/guest/guest-cluster.bash, not the
# host suites' 3 s.
CLUSTERD_TEST_OPTS=${CLUSTERD_TEST_OPTS:---period-ms 1000 --heartbeat-ms 2000 --timeout-ms 20000 --backoff-max-ms 2000 --log-level debug}
JOIN_WAIT=${JOIN_WAIT:-120}	# replica_join: gossip under TCG
load "${BASH_SOURCE[0]%/*}/replica"
load "${BASH_SOURCE[0]%/*}/vm"

VMNET_NS=${VMNET_ID:-mvm}-net
VMNET_GUEST=/run/node
VMNET_PREFIX=10.78.0
VMNET_MEMORY=${VMNET_MEMORY:-768}
VMNET_CPUS=${VMNET_CPUS:-1}
VMNET_TIMEOUT=${VMNET_TIMEOUT:-1200}
VMNET_DISKS=${VMNET_DISKS:-}

vmnet_require() {
	[ "$(id -u)" = 0 ] || fail "the vmnet suites need root (ip netns, tap devices)"
	require_rig
	command -v ip >/dev/null || fail "iproute2 missing (tests/install-deps)"
	command -v nsenter >/dev/null || fail "nsenter missing (util-linux)"
	command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ||
		fail "openssh-client missing (tests/install-deps)"
	[ -x /usr/sbin/sshd ] || fail "openssh-server missing (tests/install-deps)"
	[ -c /dev/net/tun ] || fail "no /dev/net/tun for the guests' tap devices"
	[ -x "$CLUSTERD" ] && [ -x "$MARSADM" ] && [ -x "$GOSSIP_TREE" ] ||
		fail "clusterd, marsadm or gossip-tree not built (run make)"
}

# ---- what netns.bash and replica.bash see ---------------------------------

netns_addr() { echo "$VMNET_PREFIX.$((10 + $(netns_index "$1")))"; }
netns_root() { echo "$VMNET_GUEST/$1/mars"; }
dev() { echo "/dev/mars/$RES"; }
disk() { echo /dev/vda; }		# the node's one disk (run-guest --disk data:)
mnt() { echo "$VMNET_GUEST/$1/mnt"; }
disk_image() { echo "$VMNET_DIR/$1/disks/data.img"; }

tree() {	# tree HOST gossip-tree-args...
	local host=$1
	shift
	on_vm "$host" "$GOSSIP_TREE" "$(netns_root "$host")" "$host" "$@"
}

# marsadm_on HOST ARGS...: marsadm in guest HOST, with its own key,
# known hosts and peers file its clusterd uses (the pull of update-cluster
# and of the commands that need the newest state), as netns.bash's does.
marsadm_on() {
	local host=$1
	shift
	on_vm "$host" env MARS_SSH_KEY="$(NETNS_DIR=$VMNET_GUEST netns_key "$host")" \
		MARS_KNOWN_HOSTS="$VMNET_GUEST/known_hosts" MARS_PEERS="$VMNET_GUEST/$host/peers" \
		"$MARSADM" --root="$(netns_root "$host")" --host="$host" "$@"
}

is_primary() {	# is_primary HOST: its module logs and /dev/mars/RES is there
	[ "$(val "$1" "actual-$1/is-primary")" = 1 ] && on_vm "$1" test -b "$(dev "$1")"
}

# The primary's logged position: "log-N-ORIGIN LENGTH" of its newest
# logfile, LENGTH where its records end: not its size, since the module
# preallocates zeros after the log end (docs/logfile-format.md 1.1).
log_end() {
	# shellcheck disable=SC2016  # expanded in the guest
	on_vm "$1" bash -c 'f=$(ls "$1"/log-*-"$2" 2>/dev/null | sort | tail -n 1)
		[ -n "$f" ] || exit 1
		n=$("$3" log-verify --json "$f" 2>/dev/null |
			jq -r "select(.kind == \"summary\") | .offset") && [ -n "$n" ] &&
			echo "$(basename "$f") $n"' \
		- "$(netns_root "$1")/resource-$RES" "$1" "$MARSADM"
}

# The disks, compared on the host: qemu writes the guests' images in place.
same_disks() {
	local a b
	a=$(disk_image "$1") b=$(disk_image "$2")
	cmp -s "$a" "$b" && return 0
	# For the failure message: where the replicas differ (4 KiB blocks).
	echo "$1 and $2 differ in 4 KiB blocks: $(cmp -l "$a" "$b" | head -n 100000 |
		awk '{print int(($1 - 1) / 4096)}' | uniq | head -n 8 | tr '\n' ' ')"
	return 1
}

fs_mount() {	# fs_mount HOST [mkfs]
	if [ "${2:-}" = mkfs ]; then
		on_vm "$1" mkfs.ext4 -q -F "$(dev "$1")" || return 1
	fi
	on_vm "$1" mount "$(dev "$1")" "$(mnt "$1")"
}

fs_umount() { on_vm "$1" umount "$(mnt "$1")"; }

write_files() {	# write_files HOST COUNT [KB]: random files, then sync
	# shellcheck disable=SC2016  # expanded in the guest
	on_vm "$1" bash -c 'for i in $(seq 1 "$2"); do
			head -c "$3" /dev/urandom >"$1/f$i.$RANDOM" || exit 1
		done; sync -f "$1"' - "$(mnt "$1")" "$2" "$((${3:-256} * 1024))"
}

show() {	# show HOST: what a failing test wants to see
	echo "---- $1: replay $(val "$1" "replay-$1"), primary $(val "$1" primary)"
	marsadm_on "$1" view "$RES" 2>&1 | head -20
	echo "---- $1: driver status"
	on_vm "$1" cat "$(netns_root "$1")/resource-$RES/.driver-status" 2>&1 | head -10
}

# ---- ssh to the guests ----------------------------------------------------

# _vmnet_ssh HOST SSH-ARGS...: ssh from the namespace with HOST's master
# socket, bounded; SSH-ARGS name the destination (_vmnet_dest HOST).
_vmnet_ssh() {
	local host=$1
	shift
	timeout -k 5 300 nsenter --net="/run/netns/$VMNET_NS" ssh -i "$VMNET_DIR/admin_key" \
		-o UserKnownHostsFile="$VMNET_DIR/known_hosts" -o BatchMode=yes \
		-o ConnectTimeout=10 -o ServerAliveInterval=2 -o ServerAliveCountMax=5 \
		-o ControlPath="$VMNET_DIR/ssh-$host" -o LogLevel=ERROR \
		"$@"
}
_vmnet_dest() { echo "root@$(netns_addr "$1")"; }

# on_vm HOST CMD...: CMD's words travel quoted, so the guest's shell
# rebuilds the same argv.  Through the host's master connection when it
# is up (vmnet_master), else a connection of its own; bounded.
on_vm() {
	local host=$1
	shift
	_vmnet_ssh "$host" -o ControlMaster=no "$(_vmnet_dest "$host")" "$(printf '%q ' "$@")"
}

# vmnet_master HOST: one long ssh connection that every on_vm shares
# (a new connection costs ~2 s under TCG, a shared one ~0.3 s).
vmnet_master() {
	_vmnet_ssh "$1" -O exit "$(_vmnet_dest "$1")" >/dev/null 2>&1 || true
	_vmnet_ssh "$1" -M -N -f "$(_vmnet_dest "$1")" </dev/null >/dev/null 2>&1 3>&-
}

# ---- up and down ------------------------------------------------------------

_vmnet_keys() {
	local h p node
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$VMNET_DIR/admin_key"
	: >"$VMNET_DIR/known_hosts"
	for h in "${NETNS_HOSTS[@]}"; do
		node=$VMNET_DIR/$h/share/node
		mkdir -p "$node"
		# each guest's own key, where clusterd_opts names it in the guest
		# ($VMNET_GUEST/HOST/key: guest-node copies share/node to $VMNET_GUEST)
		mkdir -p "$node/$h"
		ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C "mars-$h" -f "$node/$h/key"
		ssh-keygen -q -t ecdsa -b 256 -N '' -f "$node/ssh_host_ecdsa_key"
		echo "$(netns_addr "$h") $(cut -d' ' -f1,2 "$node/ssh_host_ecdsa_key.pub")" \
			>>"$VMNET_DIR/known_hosts"
	done
	for h in "${NETNS_HOSTS[@]}"; do
		node=$VMNET_DIR/$h/share/node
		# The other guests' keys may only serve the node's tree, each
		# bound to its host; the test's key may do anything.
		{
			for p in "${NETNS_HOSTS[@]}"; do
				[ "$p" = "$h" ] && continue
				printf 'restrict,from="%s",command="%s --serve --root %s --host %s --peer %s" %s\n' \
					"$(netns_addr "$p")" "$CLUSTERD" "$(netns_root "$h")" "$h" "$p" \
					"$(cut -d' ' -f1,2 "$VMNET_DIR/$p/share/node/$p/key.pub")"
			done
			cut -d' ' -f1,2 "$VMNET_DIR/admin_key.pub"
		} >"$node/authorized_keys"
	done
	for h in "${NETNS_HOSTS[@]}"; do
		cp "$VMNET_DIR/known_hosts" "$VMNET_DIR/$h/share/node/known_hosts"
	done
}

# _vmnet_clear: the namespace gone, with whatever runs in it (qemu, ssh
# masters: ours, or left by an interrupted run of the same suite).
_vmnet_clear() {
	local pid
	[ -e "/run/netns/$VMNET_NS" ] || return 0
	for pid in $(ip netns pids "$VMNET_NS" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$VMNET_NS" 2>/dev/null || true
}

_vmnet_net() {
	local h
	_vmnet_clear
	ip netns add "$VMNET_NS"
	ip -n "$VMNET_NS" link set lo up
	ip -n "$VMNET_NS" link add br0 type bridge
	ip -n "$VMNET_NS" addr add "$VMNET_PREFIX.1/24" dev br0
	ip -n "$VMNET_NS" link set br0 up
	for h in "${NETNS_HOSTS[@]}"; do
		ip -n "$VMNET_NS" tuntap add dev "tap-$h" mode tap
		ip -n "$VMNET_NS" link set "tap-$h" master br0 up
	done
}

# vmnet_boot HOST: start the guest in the background, its output in
# $VMNET_DIR/HOST/run-guest.log.
vmnet_boot() {
	local h=$1 i mac spec
	local -a disks=(--disk "data:${DISK_MB}M")
	for spec in $VMNET_DISKS; do
		disks+=(--disk "$spec")
	done
	i=$(netns_index "$h")
	mac=$(printf '52:54:00:78:00:%02x' "$((10 + i))")
	rm -f "$VMNET_DIR/$h/share/"{ready,stop,rc}
	rm -f "$VMNET_DIR/$h/run-guest.status"
	# No bats fd kept open; the status lands in run-guest.status.
	{
		"$RUN_GUEST" --node "$h" --run-dir "$VMNET_DIR/$h" --ko "$VMNET_DIR/mars.ko" \
			--net "$VMNET_NS,tap-$h,$mac,$(netns_addr "$h")/24" \
			"${disks[@]}" --memory "$VMNET_MEMORY" --cpus "$VMNET_CPUS" \
			--timeout "$VMNET_TIMEOUT"
		echo $? >"$VMNET_DIR/$h/run-guest.status"
	} </dev/null >"$VMNET_DIR/$h/run-guest.log" 2>&1 3>&- &
	echo $! >"$VMNET_DIR/$h/run-guest.pid"
}

_vmnet_ready() {	# the guest says ready, or it gave up (rc), or run-guest did
	[ -e "$VMNET_DIR/$1/share/ready" ] || [ -e "$VMNET_DIR/$1/share/rc" ] ||
		[ -e "$VMNET_DIR/$1/run-guest.status" ]
}

# vmnet_clusterd_start HOST [OPTION...]: clusterd --backend kmod with the
# data path in HOST, its output in VMNET_GUEST/HOST/clusterd.log.
vmnet_clusterd_start() {
	local h=$1
	shift
	# shellcheck disable=SC2016,SC2046  # expanded in the guest; words of clusterd_opts
	on_vm "$h" bash -c 'd=$1; shift; mkdir -p "$d/mnt"; cd /
		"$@" </dev/null >>"$d/clusterd.log" 2>&1 &
		echo $! >"$d/clusterd.pid"' - "$VMNET_GUEST/$h" "$CLUSTERD" \
		$(NETNS_DIR=$VMNET_GUEST clusterd_opts "$h") --backend kmod "$@"
}

# vmnet_clusterd_stop HOST [SIGNAL]: stop it and wait (bounded) until gone.
vmnet_clusterd_stop() {
	# shellcheck disable=SC2016  # expanded in the guest
	on_vm "$1" bash -c 'pid=$(cat "$1/clusterd.pid") || exit 1
		kill -"$2" "$pid" 2>/dev/null
		for i in $(seq 1 200); do
			# gone, or a zombie nobody reaped yet
			[ -e "/proc/$pid/stat" ] || exit 0
			[ "$(cut -d")" -f2 "/proc/$pid/stat" | cut -c2)" = Z ] && exit 0
			sleep 0.1
		done
		echo "clusterd $pid still there after 20s"; exit 1' \
		- "$VMNET_GUEST/$1" "${2:-TERM}"
}

# netns_cluster_marsadm's tree directory, in the guest.
netns_mkroot() { on_vm "$1" mkdir -p -m 0700 "$(netns_root "$1")"; }

# vmnet_up N: N guests up, a cluster of them, clusterd everywhere.
vmnet_up() {
	local n=$1 h
	vmnet_require
	VMNET_DIR=${VMNET_DIR:-$BATS_FILE_TMPDIR/vmnet}
	NETNS_HOSTS=("${NETNS_ALL_HOSTS[@]:0:$n}")
	mkdir -p "$VMNET_DIR"
	# A private copy: a rebuild during the long run cannot change it.
	cp "$MARS_KO" "$VMNET_DIR/mars.ko"
	_vmnet_net
	_vmnet_keys
	# KVM or TCG, probed once here rather than by both guests at once;
	# its one line on stderr says which and why.
	"$MARS_SRCDIR/tests/vm/accel" --kernel "/boot/vmlinuz-$(module_kver)" >/dev/null ||
		fail "cannot choose a qemu accelerator (tests/vm/accel)"
	for h in "${NETNS_HOSTS[@]}"; do
		vmnet_boot "$h"
	done
	for h in "${NETNS_HOSTS[@]}"; do
		wait_for 240 _vmnet_ready "$h"
		if [ ! -e "$VMNET_DIR/$h/share/ready" ]; then
			cat "$VMNET_DIR/$h/share/node.log" "$VMNET_DIR/$h/run-guest.log" >&2
			fail "guest $h ended before it was ready"
		fi
		vmnet_master "$h" || fail "no ssh connection to $h"
	done
	NETNS_KEY_DIR=$VMNET_GUEST netns_cluster_marsadm
	for h in "${NETNS_HOSTS[@]}"; do
		vmnet_clusterd_start "$h" || fail "cannot start clusterd on $h"
	done
	for h in "${NETNS_HOSTS[@]}"; do
		wait_for 60 all_have "ips/ip-$h" "$(netns_addr "$h")"
	done
}

# vmnet_partition on|off: the guests stop (or start again) reaching one
# another, while the test still reaches each of them: every tap becomes an
# isolated bridge port, which talks only to the bridge's own address.
vmnet_partition() {
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		ip netns exec "$VMNET_NS" bridge link set dev "tap-$h" isolated "$1" || return 1
	done
}

vmnet_dump_logs() {
	local h
	for h in "${NETNS_HOSTS[@]}"; do
		echo "==== $h clusterd.log (tail)"
		on_vm "$h" tail -n 40 "$VMNET_GUEST/$h/clusterd.log" 2>&1
		echo "==== $h sshd.log (tail)"
		on_vm "$h" tail -n 5 "$VMNET_GUEST/sshd.log" 2>&1
		echo "==== $h kernel log (tail)"
		on_vm "$h" dmesg 2>&1 | tail -n 15
		show "$h" 2>&1
	done
}

# vmnet_poweroff [SECONDS]: ask every guest to power off and wait for
# them (bounded, 60 s); fails if one is still up.  Each run-guest's exit
# status is then in VMNET_DIR/HOST/run-guest.status (0: the guest served
# and its kernel log has no BUG, WARNING, Oops).
vmnet_poweroff() {
	local h pid deadline=$((SECONDS + ${1:-60})) up=0
	for h in "${NETNS_HOSTS[@]}"; do
		[ -d "$VMNET_DIR/$h/share" ] && touch "$VMNET_DIR/$h/share/stop"
	done
	for h in "${NETNS_HOSTS[@]}"; do
		pid=$(cat "$VMNET_DIR/$h/run-guest.pid" 2>/dev/null) || continue
		while ! pid_gone "$pid"; do
			[ "$SECONDS" -lt "$deadline" ] || { up=1; break; }
			sleep 0.2
		done
	done
	return "$up"
}

# vmnet_down: power off (bounded), then kill what is left in the
# namespace (qemu, ssh) and delete it.
vmnet_down() {
	local h pid
	[ -n "${VMNET_DIR:-}" ] && [ -d "$VMNET_DIR" ] || return 0
	vmnet_poweroff 60 || true
	_vmnet_clear
	for h in "${NETNS_HOSTS[@]}"; do
		pid=$(cat "$VMNET_DIR/$h/run-guest.pid" 2>/dev/null) || continue
		wait "$pid" 2>/dev/null || true
	done
	return 0
}
