# A two-host cluster inside one guest, for 73-clusterd-kmod.bats and the
# replication latency bench (bench-kmod-repl.bats): hosts alpha and beta
# in network namespaces, built by the host suites' helpers
# (tests/bats/netns.bash, replica.bash), each with its own sshd and
# clusterd; alpha's clusterd runs mars.ko on a loop device, beta's the
# userspace engine, which serves a primary's device through the guest
# kernel's NBD driver (clusterd's default front end, auto).
#
# Set before loading: STATE (a directory that becomes a tmpfs of the
# guest's own), NETNS_ID (fixed namespace names: one cluster for the whole
# file), RES, DISK_MB, ROTATE_SIZE.  Load after guest-helpers.

MARSADM=$MARS_BUILDDIR/marsadm/marsadm
NETNS_DIR=$STATE/net
NETNS_HOSTS=(alpha beta)
JOIN_WAIT=120		# replica_join: gossip under TCG on a busy machine
# An SSH handshake under TCG on a busy machine takes seconds: the host
# suites' 3 s timeout would never let a connection come up.
CLUSTERD_TEST_OPTS="--period-ms 1000 --heartbeat-ms 2000 --timeout-ms 20000 \
--backoff-max-ms 2000 --log-level debug"

# helpers.bash's bounded wait, used by netns.bash and replica.bash.
wait_for() { guest_wait "$@"; }

load "$MARS_SRCDIR/tests/bats/replica"

# alpha's disk is a loop device (the module needs a block device) over
# disk alpha; the module's device is /dev/mars/RES, not a link.
alpha_loop() { cat "$STATE/alpha-loop"; }
dev() {
	if [ "$1" = alpha ]; then
		echo "/dev/mars/$RES"
	else
		echo "$NETNS_DIR/$1/dev/$RES"
	fi
}

# gcluster_up: the tmpfs, the modules, both hosts with sshd and clusterd
# (alpha --backend kmod, beta --backend user), gossiping.
gcluster_up() {
	local h
	mkdir -p "$STATE"
	mount -t tmpfs -o size=512M,mode=0700 tmpfs "$STATE" || fail "tmpfs on $STATE"
	guest_require
	[ -x "$MARSADM" ] || fail "no $MARSADM (make)"
	modprobe -a fuse loop veth bridge || fail "modprobe fuse loop veth bridge"
	# replica_require skips without FUSE; here that is a failure.
	[ -e /dev/fuse ] || fail "no /dev/fuse after modprobe fuse"
	replica_require
	mars_loaded || mars_load
	kmsg_mark >"$STATE/mark"
	BATS_TEST_TMPDIR=$STATE netns_setup 2
	[ "$NETNS_DIR" = "$STATE/net" ] || fail "netns.bash put its hosts in $NETNS_DIR"
	netns_cluster_marsadm
	for h in alpha beta; do
		truncate -s "${DISK_MB}M" "$(disk "$h")"
		mkdir -p "$(mnt "$h")"
	done
	losetup --show -f "$(disk alpha)" >"$STATE/alpha-loop" || fail "losetup"
	clusterd_start alpha --backend kmod
	clusterd_start beta --backend user
	for h in alpha beta; do
		wait_for 60 all_have "ips/ip-$h" "$(netns_addr "$h")"
	done
}

# gcluster_dump: what a failed step wants to see, on stdout.
gcluster_dump() {
	local h
	netns_dump_logs 2>&1
	for h in alpha beta; do
		echo "==== $h clusterd.log: warnings"
		grep -E 'warn|cannot|error|fail' "$NETNS_DIR/$h/clusterd.log" 2>&1 | tail -n 20
		show "$h" 2>&1
		echo "==== $h .driver-status"
		cat "$(netns_root "$h")/resource-$RES/.driver-status" 2>&1
	done
	echo "==== mars.ko status $RES"
	ctl status "$RES" 2>&1
	echo "==== kernel log (tail)"
	dmesg | tail -n 20
}

# gcluster_down: everything gcluster_up made, gone; never fails.
gcluster_down() {
	netns_teardown
	mars_loaded && ctl detach "$RES" >/dev/null 2>&1
	[ -f "$STATE/alpha-loop" ] && losetup -d "$(alpha_loop)" 2>/dev/null
	umount "$STATE" 2>/dev/null
	mars_unload_quiet
	return 0
}
