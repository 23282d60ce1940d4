# demo/vms.sh: the demo's two nodes as qemu guests, sourced by
# demo/cluster.  Each guest boots Debian's kernel with mars.ko, sshd and
# clusterd --backend kmod (tests/vm/run-guest --node); their taps sit on a
# bridge in a network namespace of the demo's own (10.78.0.0/24), which
# also holds the demo's ssh connections to them.  The harness is the VM
# cluster tests' (tests/bats/vmnet.bash) with a fixed id, so that --down
# finds what an earlier run started.  Each guest's disk is an image file
# under DEMO_DIR; the guests live at most VMNET_TIMEOUT seconds (a day).

MARS_SRCDIR=$top
MARS_BUILDDIR=$top
MARSADM=$top/marsadm/marsadm
VMNET_ID=mdemo
VMNET_DIR=$DEMO_DIR/vm
VMNET_TIMEOUT=86400
VMNET_MEMORY=768
DISK_MB=128
ROTATE_SIZE=16M
NETNS_HOSTS=(alpha beta)

# The few bats functions the harness uses, for a plain script.
load() {
	local f=$1
	[[ "$f" == /* ]] || f=$top/tests/bats/$f
	# shellcheck source=/dev/null
	. "$f.bash"
}
run() {
	status=0
	output=$("$@" 2>&1) || status=$?
}
assert_success() {
	[ "$status" = 0 ] || fail "$output"
}

# shellcheck source=../tests/bats/vmnet.bash
load vmnet

# --down needs the hosts vmnet_up chose; wait_for is demo/cluster's.
demo_down() {
	vmnet_down
}

demo_up() {
	local h start sum
	say "two qemu guests, alpha and beta, on a private bridge: Debian's kernel, mars.ko, sshd"
	echo "booting both (under emulation without KVM this takes a minute or two)"
	vmnet_up 2
	echo "alpha = $(netns_addr alpha), beta = $(netns_addr beta); clusterd --backend kmod runs on both"
	for h in alpha beta; do
		on_vm "$h" cat /sys/module/mars/version | sed "s/^/$h: mars.ko version /"
	done

	say "a resource on alpha's disk /dev/vda: clusterd makes the module's /dev/mars/$RES primary"
	marsadm_on alpha create-resource "$RES" "$(disk alpha)"
	wait_for 60 is_primary alpha
	on_vm alpha ls -l "$(dev alpha)"

	say "beta joins the resource: a full sync into its module, then replication"
	wait_for 120 has_value beta "resource-$RES/primary" alpha
	marsadm_on beta join-resource "$RES" "$(disk beta)"
	echo "beta's disk is compared with alpha's by the full sync (only differing chunks travel)"
	wait_for 600 synced beta
	marsadm_on beta view "$RES"

	say "a file system on alpha's /dev/mars/$RES, some files, then unmount"
	fs_mount alpha mkfs
	# shellcheck disable=SC2016  # expanded in the guest
	on_vm alpha bash -c 'echo "hello from alpha, $(date -u)" >"$1/hello.txt"
		dd if=/dev/urandom of="$1/random.bin" bs=1M count=8 status=none
		ls -l "$1"' - "$(mnt alpha)"
	sum=$(on_vm alpha md5sum "$(mnt alpha)/random.bin" | cut -d' ' -f1)
	fs_umount alpha

	say "every write went to alpha's transaction log, and the log travelled to beta"
	start=$SECONDS
	wait_for 300 caught_up beta alpha
	echo "beta's module replayed everything ($((SECONDS - start)) s after the unmount)"
	# shellcheck disable=SC2016  # expanded in the guest
	on_vm beta bash -c 'for log in "$1"/log-*; do
			[ -s "$log" ] || continue
			printf "%s: " "$(basename "$log")"
			"$2" log-verify "$log" | tail -n 1
		done' - "$(netns_root beta)/resource-$RES" "$MARSADM"
	wait_for 30 same_disks alpha beta
	echo "the two disks are identical (compared here: qemu writes the guests' images in place)"

	view_both

	say "handover: marsadm primary $RES on beta"
	marsadm_on beta primary "$RES" --timeout=300
	wait_for 60 is_primary beta
	fs_mount beta
	on_vm beta cat "$(mnt beta)/hello.txt"
	[ "$(on_vm beta md5sum "$(mnt beta)/random.bin" | cut -d' ' -f1)" = "$sum" ] &&
		echo "random.bin on beta has alpha's checksum ($sum)"
	echo "beta is primary and its file system is mounted at $(mnt beta) in the guest"
	marsadm_on beta view "$RES"

	cat <<-EOF

	The cluster keeps running: beta is primary (mounted at $(mnt beta)),
	alpha replicates it, mars.ko carrying the data on both guests.

	Look further (the guests are reached from the demo's namespace):
	  ip netns exec $VMNET_NS ssh -i $VMNET_DIR/admin_key -o UserKnownHostsFile=$VMNET_DIR/known_hosts root@$(netns_addr alpha)
	  then in the guest:
	    $MARSADM --root=$(netns_root alpha) --host=alpha view all
	    grep . /sys/class/misc/mars-control/*_version; dmesg | grep mars
	    tail $VMNET_GUEST/alpha/clusterd.log
	Hand the role back: umount $(mnt beta) on beta, then on alpha
	    $MARSADM --root=$(netns_root alpha) --host=alpha primary $RES
	Consoles: $VMNET_DIR/*/run-guest.log
	Tear down:
	  sudo $0 --down
	EOF
}
