# Replicated clusters for the replication suites (tests/bats/6x-*.bats):
# hosts from netns.bash with clusterd running the data path (userspace
# engine through the replication driver), a resource on disk images, and
# the checks every scenario needs - data written through a file system on
# the primary, replicas compared by checksum, states awaited with bounds.
#
# Variables: RES (r0), DISK_MB (32), and netns.bash's.  Loaded after
# helpers.bash; it loads netns.bash.

# Beside this file, also when a guest suite (tests/vm/guest) loads it.
load "${BASH_SOURCE[0]%/*}/netns"

RES=${RES:-r0}
DISK_MB=${DISK_MB:-32}
NETNS_DATA_PATH=on
# Small logfiles, so that rotation happens during the scenarios.
CLUSTERD_TEST_OPTS="${CLUSTERD_TEST_OPTS:---period-ms 1000 --heartbeat-ms 1000 --timeout-ms 3000 --backoff-max-ms 1000 --log-level debug} --rotate-size ${ROTATE_SIZE:-4M}"

replica_require() {
	[ -x "$MARS_BUILDDIR/engine/mars-engine" ] || fail "mars-engine not built (run make)"
	# A missing device is a failure with its fix, never a skip: a suite
	# skipped here would pass without having replicated anything.
	[ -c /dev/fuse ] || fail "no /dev/fuse: the userspace engine needs FUSE (modprobe fuse;" \
		"in a container, pass the device: --device /dev/fuse)"
	command -v mkfs.ext4 >/dev/null || fail "e2fsprogs missing"
}

disk() { echo "$NETNS_DIR/disk-$1.img"; }
dev() { echo "$NETNS_DIR/$1/dev/$RES"; }
mnt() { echo "$NETNS_DIR/$1/mnt"; }

val() {	# val HOST KEY: a key of HOST's tree under resource-RES
	tree "$1" get "resource-$RES/$2" 2>/dev/null
}

# replica_up HOSTS...: a cluster of these hosts (the first creates it and
# the resource and is primary), clusterd with the data path everywhere,
# the others joined to the resource and fully synced (their disks start
# as zeros like the primary's, so the sync finds them equal).
replica_up() {
	local h
	replica_cluster "$@"
	replica_create "$1"
	for h in "${NETNS_HOSTS[@]:1}"; do
		replica_join "$h"
	done
	for h in "${NETNS_HOSTS[@]:1}"; do
		wait_for 60 synced "$h"
	done
}

# replica_cluster HOSTS...: the cluster, clusterd everywhere, empty disks.
replica_cluster() {
	local h
	replica_require
	if [ -n "${SMALL_ROOT:-}" ]; then
		# The first host's /mars on a small tmpfs, mounted before any
		# namespace copies the mount table (netns_setup's NETNS_DIR).
		mkdir -p -m 0700 "$BATS_TEST_TMPDIR/net/$1/mars"
		mount -t tmpfs -o "size=$SMALL_ROOT,mode=0700" tmpfs "$BATS_TEST_TMPDIR/net/$1/mars"
	fi
	netns_setup "$#"
	netns_cluster_marsadm
	netns_clusterd_all
	for h in "${NETNS_HOSTS[@]}"; do
		truncate -s "${DISK_MB}M" "$(disk "$h")"
		mkdir -p "$(mnt "$h")"
	done
}

replica_create() {	# replica_create HOST: the resource, HOST primary
	run marsadm_on "$1" create-resource "$RES" "$(disk "$1")"
	assert_success
	wait_for 20 is_primary "$1"
}

replica_join() {	# replica_join HOST: HOST joins once it knows the resource
	wait_for "${JOIN_WAIT:-15}" has_value "$1" "resource-$RES/primary" "$(netns_addr_host_primary)"
	run marsadm_on "$1" join-resource "$RES" "$(disk "$1")"
	assert_success
}

netns_addr_host_primary() {	# the primary as the first host sees it
	val "${NETNS_HOSTS[0]}" primary
}

handover() {	# handover HOST: make HOST primary, wait (bounded) until it is
	run marsadm_on "$1" primary "$RES" --timeout=30
	assert_success
	wait_for 30 is_primary "$1"
}

synced() {	# synced HOST: its full sync finished
	[ "$(val "$1" "syncstatus-$1")" = "$((DISK_MB * 1048576))" ]
}

replay_paused() {	# replay_paused HOST: its driver paused the replay and no engine replays
	# (is-replaying is absent when the pause came before the first start)
	grep -q '^why=replay paused' "$(netns_root "$1")/resource-$RES/.driver-status" &&
		[ "$(val "$1" "actual-$1/is-replaying")" != 1 ]
}

pid_gone() {	# pid_gone PID: the process ended (a zombie nobody reaps counts)
	[ ! -e "/proc/$1/stat" ] || [ "$(cut -d')' -f2 "/proc/$1/stat" | cut -c2)" = Z ]
}

is_primary() {	# is_primary HOST: its engine logs and its device is there
	[ "$(val "$1" "actual-$1/is-primary")" = 1 ] && [ -e "$(dev "$1")" ]
}

dev_size_is() {	# dev_size_is HOST BYTES: HOST's device is there with that size
	[ "$(stat -L -c %s "$(dev "$1")" 2>/dev/null)" = "$2" ]
}

# fs_mount HOST [mkfs]: the device of HOST mounted (a loop device over the
# engine's file; mars.ko's block device directly), with a new ext4 file
# system first if asked.
fs_mount() {
	if [ "${2:-}" = mkfs ]; then
		mkfs.ext4 -q -F "$(dev "$1")" || return 1
	fi
	if [ -b "$(dev "$1")" ]; then
		mount "$(dev "$1")" "$(mnt "$1")"
	else
		mount -o loop "$(dev "$1")" "$(mnt "$1")"
	fi
}

fs_umount() {
	umount "$(mnt "$1")"
}

# fs_sums HOST: sha256sum lines of every file on HOST's mounted file system.
fs_sums() {
	(cd "$(mnt "$1")" && find . -type f ! -path './lost+found/*' -print0 | sort -z |
		xargs -0 -r sha256sum)
}

# write_files HOST COUNT [KB]: COUNT files of random data, then sync.
write_files() {
	local i
	for i in $(seq 1 "$2"); do
		head -c "$((${3:-256} * 1024))" /dev/urandom >"$(mnt "$1")/f$i.$RANDOM" || return 1
	done
	sync -f "$(mnt "$1")"
}

# log_len FILE: where the records of logfile FILE end.  Not its size: the
# logfile a primary writes carries preallocated zeros after its log end
# (docs/logfile-format.md 1.1).  0 if FILE is missing, like size_of.
log_len() {
	[ -f "$1" ] || { echo 0; return 0; }
	"$MARSADM" log-verify --json "$1" 2>/dev/null | jq -r 'select(.kind == "summary") | .offset'
}

# The primary's logged position: "log-N-ORIGIN LENGTH" of its newest logfile.
log_end() {
	local f
	f=$(ls "$(netns_root "$1")/resource-$RES"/log-*-"$1" 2>/dev/null | sort | tail -n 1)
	[ -n "$f" ] && echo "$(basename "$f") $(log_len "$f")"
}

# The newest logfile of HOST that holds data, as "log-N-ORIGIN SIZE" (a
# rotation by size may already have started an empty successor).
log_last_data() {
	local f
	for f in $(ls "$(netns_root "$1")/resource-$RES"/log-*-"$1" 2>/dev/null | sort -r); do
		[ -s "$f" ] && { echo "$(basename "$f") $(log_len "$f")"; return 0; }
	done
	return 1
}

# own_link_final HOST: HOST's version link of its newest logfile holding
# data has that file's length (published once the device is closed).
own_link_final() {
	local name size nr
	read -r name size < <(log_last_data "$1") || return 1
	nr=$(echo "$name" | cut -d- -f2)
	[ "$(val "$1" "version-$nr-$1" | cut -d: -f1 | cut -d, -f3)" = "$size" ]
}

# caught_up SEC PRI: SEC's replay link is at the end of PRI's newest logfile.
caught_up() {
	local want
	want=$(log_end "$2") || return 1
	[ "$(val "$1" "replay-$1" | cut -d, -f1,2 | tr , ' ')" = "$want" ]
}

# same_disks A B: the replicas are byte-identical.
same_disks() {
	cmp -s "$(disk "$1")" "$(disk "$2")" && return 0
	# For the failure message: where the replicas differ (4 KiB blocks).
	echo "$1 and $2 differ in 4 KiB blocks: $(cmp -l "$(disk "$1")" "$(disk "$2")" |
		head -n 100000 | awk '{print int(($1 - 1) / 4096)}' | uniq | head -n 8 | tr '\n' ' ')"
	return 1
}

# wait_same PRI SEC [SECONDS]: SEC replayed everything and the disks agree.
wait_same() {
	wait_for "${3:-30}" caught_up "$2" "$1"
	wait_for 10 same_disks "$1" "$2"
}

# show HOST: what a failing test wants to see.
show() {
	echo "---- $1: replay $(val "$1" "replay-$1"), primary $(val "$1" primary)"
	marsadm_on "$1" view "$RES" 2>&1 | head -20
	tail -n 5 "$NETNS_DIR/$1/run/engine-$RES.log" 2>/dev/null
}

# diskstate_is HOST STATE: marsadm view on HOST gives its disk that state
# (it follows the daemons: an engine moving to the next logfile detaches
# for a moment, so a replica that equals the primary is UpToDate soon).
# log_settled HOST: HOST logs (primary), its log is durable to the end and
# nothing waits for writeback, by view and by its own status page (which
# alone knows its log: another node's page has null there).
log_settled() {
	local durable end pending api
	durable=$(marsadm_on "$1" view-log-durable "$RES" 2>&1)
	end=$(marsadm_on "$1" view-log-end "$RES" 2>&1)
	pending=$(marsadm_on "$1" view-pending-writeback "$RES" 2>&1)
	echo "log of $1: durable $durable of $end, pending $pending"
	[ "$durable" = "$end" ] && [ "$pending" = 0 ] || return 1
	marsadm_on "$1" view "$RES" | grep -q "^  logging: log-.* durable .* writeback pending 0 B$" ||
		return 1
	api=$(netns_exec "$1" curl -sf --max-time 5 http://127.0.0.1:7780/api/v1/resources) ||
		return 1
	echo "api of $1: $api"
	jq -e --arg h "$1" --arg r "$RES" --argjson d "$durable" \
		'.resources[] | select(.name == $r) | .replicas[] | select(.host == $h) |
		 .log_durable_bytes == $d and .pending_writeback_bytes == 0' <<<"$api" >/dev/null
}

# log_unknown_elsewhere HOST OTHER: OTHER's page knows nothing of HOST's log.
log_unknown_elsewhere() {
	netns_exec "$2" curl -sf --max-time 5 http://127.0.0.1:7780/api/v1/resources |
		jq -e --arg h "$1" --arg r "$RES" '.resources[] | select(.name == $r) |
			.replicas[] | select(.host == $h) | .log_durable_bytes == null' >/dev/null
}

# durable_mark HOST: "LOGFILE OFFSET" of HOST's durable mark (engine/durable.c).
durable_mark() {
	head -c 192 "$(netns_root "$1")/resource-$RES/.log-durable" |
		awk 'NR == 1 && $1 == "v1" { print $2, $3 }'
}

# log_bytes HOST [RES]: bytes of the first primary's logfiles (log-*-alpha)
# of RES ($RES) that HOST holds, all numbers: what fetched so far.
log_bytes() {
	local f n=0
	for f in "$(netns_root "$1")/resource-${2:-$RES}"/log-*-alpha; do
		[ -f "$f" ] && n=$((n + $(log_len "$f")))
	done
	echo "$n"
}

# size_of FILE: its size, 0 if missing.
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

diskstate_is() {
	local s
	s=$(marsadm_on "$1" view-diskstate "$RES" 2>&1)
	echo "diskstate of $1: $s"
	[ "$s" = "$2" ]
}

split_seen() {	# split_seen HOST: marsadm view on HOST reports the split brain
	[ "$(marsadm_on "$1" view-is-split-brain "$RES" 2>/dev/null)" = 1 ]
}

no_split() {	# no_split HOST
	[ "$(marsadm_on "$1" view-is-split-brain "$RES" 2>/dev/null)" = 0 ]
}

size_is() {	# size_is FILE BYTES
	[ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]
}

blocker_is() {	# blocker_is HOST MEMBER: HOST's view names MEMBER as deletion blocker
	[ "$(marsadm_on "$1" view-deletion-blocker "$RES" 2>/dev/null)" = "$2" ]
}

# teardown() of a replication suite: what each host shows, then cleanup.
# primary_cut_off_writing: the start of a failover.  alpha primary with a
# file system open, beta caught up with it; then alpha's link goes down
# and it goes on writing, cut off.
primary_cut_off_writing() {
	replica_up alpha beta
	fs_mount alpha mkfs
	write_files alpha 2
	sync
	wait_for 60 caught_up beta alpha
	wait_for 30 has_value beta "resource-$RES/actual-alpha/open-count" 1
	netns_link alpha down
	write_files alpha 2
}

# beta_forced_primary: after primary_cut_off_writing, beta stops fetching
# and takes the role by force (bounded).
beta_forced_primary() {
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	run marsadm_on beta primary --force "$RES" --timeout=60
	assert_success
	wait_for 30 is_primary beta
}

# histories_meet_split: beta writes as the new primary, alpha stops, the
# link comes back, and both sides see the split brain once the trees meet.
histories_meet_split() {
	fs_mount beta
	write_files beta 1
	fs_umount beta
	fs_umount alpha
	netns_link alpha up
	wait_for 60 split_seen alpha
	wait_for 60 split_seen beta
}

# page HOST PATH: HOST's status page (its namespace's loopback), bounded.
page() {
	netns_exec "$1" curl -sf --max-time 5 "http://127.0.0.1:7780$2"
}

# page_has HOST PATH JQ-FILTER: the filter holds on HOST's answer.
page_has() {
	page "$1" "$2" | jq -e "$3" >/dev/null
}

replica_teardown() {
	local h
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NETNS_DIR:-}" ]; then
		# As TAP diagnostics, so that the CI log carries them.
		for h in "${NETNS_HOSTS[@]}"; do show "$h"; done 2>&1 |
			sed 's/^/# /' >&3 || true
	fi
	netns_test_teardown
}
