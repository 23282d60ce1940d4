# demo/netns.sh: the demo's two nodes as network namespaces with the
# userspace engine (FUSE), sourced by demo/cluster.  Alpha and beta sit on
# a private bridge (10.77.0.0/24), each with its own sshd and clusterd and
# its own state tree under DEMO_DIR; the namespace harness is the cluster
# tests' (tests/bats/netns.bash) with a fixed id, so that --down finds what
# an earlier run started.

MARS_BUILDDIR=$top
BATS_TEST_TMPDIR=$DEMO_DIR
# shellcheck source=../tests/bats/netns.bash
. "$top/tests/bats/netns.bash"
_netns_id() { echo mdemo; }
NETNS_DIR=$DEMO_DIR/net
# The hosts know each other by name (/etc/netns/NS/hosts), as a user's do.
NETNS_NAMES=on

MARSADM=$top/marsadm/marsadm
ENGINE=$top/engine/mars-engine

dev() { echo "$NETNS_DIR/$1/dev/$RES"; }

synced() {	# beta's full sync finished
	[ "$(readlink "$(netns_root beta)/resource-$RES/syncstatus-beta")" = 268435456 ]
}

# beta's replay link is at the end of the records of alpha's newest
# logfile: not at its size, since the logfile being written carries
# preallocated zeros after its log end (docs/logfile-format.md 1.1).
caught_up() {
	local f end
	f=$(ls "$(netns_root alpha)/resource-$RES"/log-*-alpha | sort | tail -n 1)
	end=$("$MARSADM" log-verify --json "$f" 2>/dev/null |
		jq -r 'select(.kind == "summary") | .offset')
	[ -n "$end" ] &&
		[ "$(readlink "$(netns_root beta)/resource-$RES/replay-beta" | cut -d, -f1,2)" = \
		  "$(basename "$f"),$end" ]
}

demo_down() {
	local m
	# The demo's file systems first: they live on the replicated devices.
	for m in $(awk -v d="$DEMO_DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	netns_teardown		# engines, their FUSE mounts and loop devices too
}

demo_up() {
	local h start sum log
	say "two hosts, alpha and beta: network namespaces, each with sshd"
	mkdir -p "$DEMO_DIR"
	netns_setup 2
	for h in alpha beta; do
		mkdir -p "$(netns_root "$h")"
		chmod 0700 "$(netns_root "$h")"
	done
	echo "alpha = $(netns_addr alpha), beta = $(netns_addr beta), by name in /etc/netns/*/hosts"

	say "marsadm create-cluster on alpha, clusterd on both, join-cluster alpha on beta"
	marsadm_on alpha create-cluster
	NETNS_DATA_PATH=on
	for h in alpha beta; do
		clusterd_start "$h"
	done
	marsadm_on beta join-cluster \
		alpha --key="$(netns_key beta)" --known-hosts="$NETNS_DIR/known_hosts"

	say "a resource on alpha: clusterd starts the userspace engine, alpha logs"
	truncate -s 256M "$NETNS_DIR/disk-alpha.img" "$NETNS_DIR/disk-beta.img"
	marsadm_on alpha create-resource "$RES" "$NETNS_DIR/disk-alpha.img"
	wait_for 20 test -e "$(dev alpha)"
	echo "alpha's device: $(dev alpha) -> $(readlink "$(dev alpha)")"

	say "beta joins the resource and replicates it"
	wait_for 20 marsadm_on beta view-primary "$RES"
	marsadm_on beta join-resource "$RES" "$NETNS_DIR/disk-beta.img"
	echo "beta's disk is compared with alpha's by the full sync (only differing chunks travel)"
	wait_for 120 synced
	marsadm_on beta view "$RES"

	say "a file system on alpha's device, some files, then unmount"
	mkdir -p "$DEMO_DIR/fs-alpha" "$DEMO_DIR/fs-beta"
	mkfs.ext4 -q -F "$(dev alpha)"
	mount -o loop "$(dev alpha)" "$DEMO_DIR/fs-alpha"
	echo "hello from alpha, $(date -u)" >"$DEMO_DIR/fs-alpha/hello.txt"
	dd if=/dev/urandom of="$DEMO_DIR/fs-alpha/random.bin" bs=1M count=16 status=none
	sum=$(md5sum <"$DEMO_DIR/fs-alpha/random.bin")
	ls -l "$DEMO_DIR/fs-alpha"
	umount "$DEMO_DIR/fs-alpha"

	say "every write went to alpha's transaction log, and the log travelled to beta"
	start=$SECONDS
	wait_for 60 caught_up
	echo "beta replayed everything ($((SECONDS - start)) s after the unmount)"
	for log in "$(netns_root beta)/resource-$RES"/log-*; do
		[ -s "$log" ] || continue
		printf '%s: ' "$(basename "$log")"
		"$MARSADM" log-verify "$log" | tail -n 1
	done
	cmp "$NETNS_DIR/disk-alpha.img" "$NETNS_DIR/disk-beta.img" && echo "the two disks are identical"

	view_both

	say "handover: marsadm primary $RES on beta"
	marsadm_on beta primary "$RES" --timeout=60
	wait_for 20 test -e "$(dev beta)"
	mount -o loop "$(dev beta)" "$DEMO_DIR/fs-beta"
	cat "$DEMO_DIR/fs-beta/hello.txt"
	[ "$(md5sum <"$DEMO_DIR/fs-beta/random.bin")" = "$sum" ] &&
		echo "random.bin on beta has alpha's checksum ($sum)"
	echo "beta is primary and its file system is mounted at $DEMO_DIR/fs-beta"
	marsadm_on beta view "$RES"

	cat <<-EOF

	The cluster keeps running: beta is primary (mounted at $DEMO_DIR/fs-beta),
	alpha replicates it.  The data path is the userspace engine (FUSE) on both
	nodes; with qemu and Debian's kernel image, sudo $0 --vms runs mars.ko.

	Look further:
	  ip netns exec $(netns_name alpha) bash   # a shell on alpha
	  MARS_ROOT=$(netns_root alpha) MARS_HOST=alpha $MARSADM view all
	  ls -l $(netns_root alpha)/resource-$RES
	  tail $NETNS_DIR/alpha/clusterd.log
	  ip netns exec $(netns_name alpha) curl -s http://127.0.0.1:7780/api/v1/cluster
	Hand the role back (unmount on beta first):
	  umount $DEMO_DIR/fs-beta
	  MARS_ROOT=$(netns_root alpha) MARS_HOST=alpha $MARSADM primary $RES
	Tear down:
	  sudo $0 --down
	EOF
}
