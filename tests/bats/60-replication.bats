#!/usr/bin/env bats
# Replication end to end with the userspace engine (issue 7): hosts in
# network namespaces with real sshd and clusterd, which derive roles from
# the tree, run the engine, fetch logfiles over SSH and replay them.
# Every replica is compared byte for byte with the primary; every wait
# is bounded and fails with the state seen.

load helpers
load replica

teardown() {
	replica_teardown
}

frontend_is() {	# frontend_is HOST NAME: HOST's view reports that front end
	[ "$(marsadm_on "$1" view-frontend "$RES" 2>/dev/null)" = "$2" ]
}

@test "replicate: a file system written on the primary arrives on the secondary" {
	replica_up alpha beta
	fs_mount alpha mkfs
	write_files alpha 8
	fs_umount alpha
	wait_same alpha beta 60
	[ "$(val beta "actual-beta/is-replaying")" = 1 ]
}

@test "fio: random writes verified on the primary's device; the secondary's disk equals it" {
	command -v fio >/dev/null || fail "fio missing (tests/install-deps)"
	replica_up alpha beta
	# No nbd.ko on the build hosts: auto falls back to FUSE, and says so.
	if [ ! -e /dev/nbd0 ]; then
		wait_for 10 frontend_is alpha fuse
		[ "$(readlink -f "$(marsadm_on alpha view-device "$RES")")" = \
		  "$(readlink -f "$(dev alpha)")" ]
	fi
	run fio --name=repl --filename="$(dev alpha)" --rw=randwrite --bs=4k --size=8M \
		--ioengine=psync --verify=crc32c --do_verify=1 --end_fsync=1 --randrepeat=0 \
		--verify_state_save=0
	echo "$output"
	assert_success
	# The log first: once synced and written back, view on the primary
	# says so; a secondary has no log of its own to show.
	wait_for 30 log_settled alpha
	[ "$(marsadm_on beta view-log-durable "$RES")" = 0 ]
	log_unknown_elsewhere alpha beta
	wait_same alpha beta 60
	wait_for 30 diskstate_is beta UpToDate
}

# tail_round: write 1 MiB on alpha without a flush and watch, until the
# log sync covers it, that beta never holds more of alpha's logfile than
# alpha's durable end; prints how often alpha's logfile was seen longer.
tail_round() {
	local name durable name2 durable2 a b i seen=0
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=16 oflag=direct conv=notrunc \
		status=none || return 1
	for i in $(seq 1 100); do
		read -r name durable <<<"$(durable_mark alpha)"
		b=$(size_of "$(netns_root beta)/resource-$RES/$name")
		# Read after beta's size: the durable end only grows.
		read -r name2 durable2 <<<"$(durable_mark alpha)"
		a=$(log_len "$(netns_root alpha)/resource-$RES/$name")
		[ -n "$name" ] && [ "$name2" = "$name" ] || continue
		[ "$b" -le "$durable2" ] ||
			{ echo "beta holds $b bytes of $name, alpha's durable end is $durable2" >&2; return 1; }
		[ "$a" -gt "$durable2" ] || break	# synced: the round is over
		seen=$((seen + 1))
		sleep 0.05
	done
	echo "$seen"
}

@test "durable only: the primary serves no record a power loss could take; the tail follows its log sync" {
	# Alpha's engine syncs its log 3 s after an unsynced write (a flush
	# would at once): a window in which the logfile holds records that are
	# not durable yet.
	MARS_ENGINE_SYNC_MS=3000 replica_up alpha beta
	local seen=0 round
	for round in 1 2 3; do
		run tail_round
		assert_success
		seen=$((seen + output))
		[ "$seen" -lt 3 ] || break
	done
	echo "# samples of a tail not yet durable: $seen" >&3
	[ "$seen" -ge 1 ] || fail "never saw a tail that waited for its sync"
	wait_same alpha beta 60
}

# metric HOST NAME TRANSFER: a mars_transfer_* counter of resource RES on
# HOST's status page, as an integer ("" if absent)
metric() {
	netns_exec "$1" curl -sf --max-time 5 http://127.0.0.1:7780/metrics |
		awk -v k="$2{resource=\"$RES\",transfer=\"$3\"}" '$1 == k { printf "%d", $2 }'
}

fetched_compressed() {	# fetched_compressed HOST BYTES: at least BYTES fetched, a quarter on the wire
	local raw wire
	raw=$(metric "$1" mars_transfer_bytes_raw_total fetch)
	wire=$(metric "$1" mars_transfer_bytes_wire_total fetch)
	[ -n "$raw" ] && [ -n "$wire" ] && [ "$raw" -ge "$2" ] && [ "$wire" -lt $((raw / 4)) ]
}

@test "compression: logfiles of compressible writes travel zstd; the metrics show it" {
	replica_up alpha beta
	yes "a compressible line of text, written to the primary" | head -c $((8 * 1048576)) |
		dd of="$(dev alpha)" bs=1M conv=notrunc,fsync status=none iflag=fullblock
	wait_same alpha beta 60
	wait_for 20 fetched_compressed beta $((8 * 1048576))
	echo "# beta fetched $(metric beta mars_transfer_bytes_raw_total fetch) bytes as" \
		"$(metric beta mars_transfer_bytes_wire_total fetch) on the wire" >&3
	[ "$(metric beta mars_transfer_compress_cpu_seconds_total fetch)" != "" ] ||
		fail "no compression cost in the metrics"
	netns_exec beta curl -sf --max-time 5 http://127.0.0.1:7780/api/v1/resources |
		jq -e '.resources[0].replicas[] | select(.host == "beta") |
			.transfer.fetch.bytes_wire < .transfer.fetch.bytes_raw' >/dev/null ||
		fail "no transfer counters in the API"
}

@test "handover: the role moves both ways without losing a write" {
	replica_up alpha beta
	fs_mount alpha mkfs
	write_files alpha 4
	fs_umount alpha
	wait_same alpha beta 60
	run marsadm_on beta primary "$RES" --timeout=30
	assert_success
	wait_for 30 is_primary beta
	[ "$(val beta actual-alpha/is-primary)" = 0 ]
	fs_mount beta
	[ "$(ls "$(mnt beta)" | grep -c '^f')" -eq 4 ]
	write_files beta 4
	fs_umount beta
	wait_same beta alpha 60
	run marsadm_on alpha primary "$RES" --timeout=30
	assert_success
	wait_for 30 is_primary alpha
	fs_mount alpha
	[ "$(ls "$(mnt alpha)" | grep -c '^f')" -eq 8 ]
	fs_umount alpha
}

@test "failover: with the link cut and the old primary still writing, then split brain" {
	primary_cut_off_writing
	# The handover is refused: alpha's device is open and it cannot be asked.
	run marsadm_on beta primary "$RES" --timeout=0
	[ "$status" -eq 5 ]
	run marsadm_on beta primary --force "$RES"
	[ "$status" -eq 5 ]
	assert_output --partial "pause-fetch"
	beta_forced_primary
	histories_meet_split
	run marsadm_on beta primary "$RES" --timeout=0
	[ "$status" -eq 5 ]
	assert_output --partial "split brain"
	# Resolution: alpha's diverged history goes; it resyncs from beta.
	run marsadm_on alpha invalidate "$RES"
	assert_success
	wait_for 60 synced alpha
	wait_same beta alpha 90
	wait_for 30 no_split alpha
	wait_for 30 no_split beta
}

@test "join: a member joining a disk full of data syncs it while the primary writes" {
	DISK_MB=64
	replica_cluster alpha beta gamma
	replica_create alpha
	replica_join beta
	fs_mount alpha mkfs
	write_files alpha 20 1024
	replica_join gamma
	write_files alpha 10 1024	# the primary goes on writing during the sync
	fs_umount alpha
	wait_for 90 synced gamma
	wait_same alpha gamma 90
	wait_same alpha beta 60
	wait_for 30 diskstate_is gamma UpToDate
}

@test "rotation: log-rotate while writing; the secondary follows across logfiles" {
	replica_up alpha beta
	fs_mount alpha mkfs
	local before after
	before=$(ls "$(netns_root alpha)/resource-$RES" | grep -c '^log-')
	write_files alpha 2 &
	local writer=$!
	run marsadm_on alpha log-rotate "$RES"
	assert_success
	wait "$writer"
	write_files alpha 2
	# The first request may have met an empty logfile (a no-op); this
	# one follows logged writes and must start a new logfile.
	before=$(ls "$(netns_root alpha)/resource-$RES" | grep -c '^log-')
	run marsadm_on alpha log-rotate "$RES"
	assert_success
	after=$(ls "$(netns_root alpha)/resource-$RES" | grep -c '^log-')
	[ "$after" -eq $((before + 1)) ]
	fs_umount alpha
	wait_same alpha beta 60
	# Every closed logfile verifies and has the length its version link says.
	local f n len
	for f in "$(netns_root beta)/resource-$RES"/log-*; do
		run "$MARSADM" log-verify "$f"
		assert_success
	done
	n=$(basename "$(ls "$(netns_root alpha)/resource-$RES"/log-* | sort | head -n 1)" | cut -d- -f2)
	len=$(val beta "version-$n-alpha" | cut -d: -f1 | cut -d, -f3)
	[ "$len" -eq "$(stat -c %s "$(netns_root beta)/resource-$RES/log-$n-alpha")" ]
}

@test "crash: kill -9 of clusterd and of the engine mid-transfer, on both sides" {
	# The killed engine's zombie may never be reaped (a container's pid 1
	# need not reap orphans): the restarted clusterd must see it as gone.
	DISK_MB=64
	replica_up alpha beta
	fs_mount alpha mkfs
	write_files alpha 8 1024 &
	local writer=$!
	sleep 0.5
	clusterd_stop beta KILL
	pkill -9 -f "mars-engine replay --resource $RES .*--root $(netns_root beta) " || true
	clusterd_start beta
	clusterd_stop alpha KILL	# the primary's device stays up without its daemon
	wait "$writer"
	write_files alpha 2
	clusterd_start alpha
	fs_umount alpha
	wait_same alpha beta 90
	[ "$(val alpha actual-alpha/is-primary)" = 1 ]
}

# An engine that must be killed leaves the preallocated zeros after its
# log end (docs/logfile-format.md 1.1): leaving the primary role closes the
# version link at the end of the records, never at the file size, and the
# next start as primary cuts the zeros even though it recovers nothing.
@test "killed primary engine: the link closes at the end of its records; the next primary start cuts the zeros" {
	replica_up alpha beta
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=16 oflag=direct conv=notrunc,fsync \
		status=none
	wait_for 30 own_link_final alpha
	wait_same alpha beta 60
	local name len f nr pid
	read -r name len < <(log_last_data alpha)
	f=$(netns_root alpha)/resource-$RES/$name
	nr=$(echo "$name" | cut -d- -f2)
	[ "$(size_of "$f")" -gt "$len" ]	# zeros after the log end
	# A stopped engine ignores SIGTERM: leaving the role has to kill it.
	pid=$(cut -d' ' -f1 "$(netns_root alpha)/resource-$RES/.engine-pid")
	kill -STOP "$pid"
	run marsadm_on beta primary "$RES" --timeout=60
	assert_success
	wait_for 30 is_primary beta
	wait_for 10 pid_gone "$pid"
	assert_equal "$(val beta "version-$nr-alpha" | cut -d: -f1 | cut -d, -f3)" "$len"
	[ "$(size_of "$f")" -gt "$len" ]	# clusterd leaves the writer's file alone
	# The killed engine's FUSE mount stays behind, disconnected, and a new
	# engine cannot mount there (not this test's subject): let it go.
	fusermount3 -uz "$NETNS_DIR/alpha/run/$RES" 2>/dev/null || umount -l "$NETNS_DIR/alpha/run/$RES"
	dd if=/dev/urandom of="$(dev beta)" bs=64k count=4 oflag=direct conv=notrunc,fsync \
		status=none
	wait_same beta alpha 60
	run marsadm_on alpha primary "$RES" --timeout=30
	[ "$status" -eq 0 ] || { tail -n 20 "$NETNS_DIR/alpha/run/engine-$RES.log"; fail "$output"; }
	wait_for 30 is_primary alpha
	assert_equal "$(size_of "$f")" "$len"
	"$MARSADM" log-verify "$f" >/dev/null
}

@test "restart: a clusterd started after its replay engine died replays again" {
	# The dead engine left its status file ("waiting at P"); the new
	# clusterd must not take it for a live replay when no engine runs.
	replica_up alpha beta
	fs_mount alpha mkfs
	run marsadm_on alpha log-rotate "$RES"	# room for all that follows
	assert_success
	write_files alpha 1
	wait_for 60 caught_up beta alpha
	clusterd_stop beta KILL
	local pid
	pid=$(cut -d' ' -f1 "$(netns_root beta)/resource-$RES/.engine-pid")
	kill -9 "$pid"
	wait_for 10 pid_gone "$pid"
	clusterd_start beta
	write_files alpha 2	# into the same logfile: no switch restarts the replay
	fs_umount alpha
	[ "$(log_end alpha | cut -d' ' -f1)" = "$(val beta "replay-beta" | cut -d, -f1)" ]
	wait_same alpha beta 60
}

@test "damage: a fetched logfile damaged on the secondary is detected and fetched again" {
	replica_up alpha beta
	run marsadm_on beta pause-replay "$RES"
	assert_success
	# The damage must lie past what beta replayed: write only once the
	# pause took effect.
	wait_for 30 replay_paused beta
	fs_mount alpha mkfs
	write_files alpha 4
	fs_umount alpha
	local name size f
	read -r name size < <(log_last_data alpha)
	f=$(netns_root beta)/resource-$RES/$name
	wait_for 60 size_is "$f" "$size"
	# Change one byte in the middle of the copy, past what beta replayed
	# (its complement: never the value it had).
	local b
	b=$(dd if="$f" bs=1 skip=$((size / 2)) count=1 status=none | od -An -tu1 | tr -d ' ')
	printf "\\x$(printf %02x $((255 - b)))" |
		dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
	[ "$(dd if="$f" bs=1 skip=$((size / 2)) count=1 status=none | od -An -tu1 | tr -d ' ')" -ne "$b" ]
	run marsadm_on beta resume-replay "$RES"
	assert_success
	wait_same alpha beta 60
	# Found by the replay (a bad checksum) or, when the damage lies in
	# the last 64 KiB, first by the fetcher's tail digest.
	grep -q "stopped at offset\|differs from alpha's" "$NETNS_DIR/beta/clusterd.log"
	cmp "$f" "$(netns_root alpha)/resource-$RES/$name"
}

# vouched_by HOST NAME VOUCHER: HOST holds VOUCHER's vouch for logfile NAME
# (docs/state-tree.md 3.8) and it matches the first LEN bytes of VOUCHER's copy.
vouched_by() {
	local v nr len
	nr=${2#log-}
	nr=${nr%%-*}
	v=$(val "$1" "digest-$nr-$3") || return 1
	[ "$(echo "$v" | cut -d, -f2)" = "$2" ] || return 1
	len=$(echo "$v" | cut -d, -f3)
	[ "$(head -c "$len" "$(netns_root "$3")/resource-$RES/$2" | sha256sum | cut -d' ' -f1)" = \
	  "$(echo "$v" | cut -d, -f1)" ]
}

replayed_at_least() {	# replayed_at_least HOST NAME BYTES: HOST's replay link
	local link
	link=$(val "$1" "replay-$1") || return 1
	[ "${link%%,*}" = "$2" ] && [ "$(echo "$link" | cut -d, -f2)" -ge "$3" ]
}

@test "failover, three nodes: the new primary vouches for the dead origin's logfile, the laggard takes the rest from it" {
	local name size
	replica_up alpha beta gamma
	fs_mount alpha mkfs
	write_files alpha 2
	wait_same alpha gamma 60
	run marsadm_on gamma pause-fetch "$RES"
	assert_success
	write_files alpha 4
	# beta replays all of alpha's newest data (caught_up may see an empty
	# logfile just rotated to, which would leave beta no more than gamma)
	read -r name size < <(log_last_data alpha)
	wait_for 60 replayed_at_least beta "$name" "$size"
	wait_for 30 vouched_by beta "$name" alpha
	# alpha dies mid-logfile: beta holds more of it than gamma
	netns_link alpha down
	beta_forced_primary
	wait_for 30 vouched_by gamma "$name" beta
	run marsadm_on gamma resume-fetch "$RES"
	assert_success
	fs_mount beta
	write_files beta 1
	fs_umount beta
	wait_same beta gamma 90
	cmp "$(netns_root beta)/resource-$RES/$name" "$(netns_root gamma)/resource-$RES/$name"
	run grep -c "refused '$name'" "$NETNS_DIR/gamma/clusterd.log"
	assert_output 0
}

# replayed_local HOST NAME: HOST's replay link is at the end of its copy of NAME.
replayed_local() {
	[ "$(val "$1" "replay-$1" | cut -d, -f1,2)" = \
	  "$2,$(log_len "$(netns_root "$1")/resource-$RES/$2")" ]
}

# vouched_whole HOST NAME ORIGIN: HOST holds ORIGIN's vouch for all of
# ORIGIN's copy of NAME.
vouched_whole() {
	local nr=${2#log-}
	nr=${nr%%-*}
	vouched_by "$1" "$2" "$3" &&
		[ "$(val "$1" "digest-$nr-$3" | cut -d, -f3)" = \
		  "$(log_len "$(netns_root "$3")/resource-$RES/$2")" ]
}

copy_sum() {	# copy_sum FILE: sha256 of a logfile copy, "empty" if it has no bytes
	if [ -s "$1" ]; then sha256sum <"$1"; else echo empty; fi
}

unvouched_at_least() {	# unvouched_at_least HOST N: refusals counted on HOST
	[ "$(awk '$1 == "unvouched" { print $2 }' "$(netns_root "$1")/.counters" \
	     2>/dev/null || true)" -ge "$2" ] 2>/dev/null
}

@test "hostile member: forged records of the origin's logfile, served by another member, never reach the disk" {
	local name lf before_disk before_log have
	[ -x "$LOG_TAMPER" ] || fail "log-tamper not built at $LOG_TAMPER (run make)"
	replica_up alpha beta gamma
	fs_mount alpha mkfs
	write_files alpha 2
	wait_same alpha beta 60
	wait_same alpha gamma 60
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	write_files alpha 4
	wait_for 60 caught_up gamma alpha
	read -r name _ < <(log_last_data alpha)
	lf="$(netns_root beta)/resource-$RES/$name"
	wait_for 30 vouched_whole beta "$name" alpha
	wait_for 30 replayed_local beta "$name"
	have=$(size_of "$lf")
	before_disk=$(sha256sum <"$(disk beta)")
	before_log=$(copy_sum "$lf")
	# gamma forges what beta lacks (valid records, other data) and serves it
	# while the origin is unreachable
	run "$LOG_TAMPER" "$(netns_root gamma)/resource-$RES/$name" "$have"
	assert_success
	netns_link alpha down
	run marsadm_on beta resume-fetch "$RES"
	assert_success
	wait_for 60 unvouched_at_least beta 1
	grep -q "refused '$name'.*from 'gamma'" "$NETNS_DIR/beta/clusterd.log" ||
		fail "no refusal of gamma's copy in beta's log"
	assert_equal "$(copy_sum "$lf")" "$before_log"
	assert_equal "$(sha256sum <"$(disk beta)")" "$before_disk"
	# the origin back: beta takes the rest from it and equals it
	netns_link alpha up
	fs_umount alpha
	wait_same alpha beta 90
}

@test "three nodes: every replica equals the primary, and after a handover too" {
	replica_up alpha beta gamma
	fs_mount alpha mkfs
	write_files alpha 4
	fs_umount alpha
	wait_same alpha beta 60
	wait_same alpha gamma 60
	run marsadm_on gamma primary "$RES" --timeout=60
	assert_success
	fs_mount gamma
	write_files gamma 2
	fs_umount gamma
	wait_same gamma alpha 60
	wait_same gamma beta 60
}

@test "deletion: a member away blocks logfile deletion until it leaves" {
	CLUSTERD_TEST_OPTS="$CLUSTERD_TEST_OPTS --cron-ms 1000"
	replica_up alpha beta gamma
	netns_link gamma down
	fs_mount alpha mkfs
	local i
	for i in 1 2 3; do
		write_files alpha 2
		run marsadm_on alpha log-rotate "$RES"
		assert_success
	done
	fs_umount alpha
	wait_for 60 caught_up beta alpha
	# Logfile 1 is replayed by alpha and beta, but not by gamma.
	wait_for 20 blocker_is alpha gamma
	run marsadm_on alpha view "$RES"
	assert_output --partial "logfile deletion blocked by 'gamma'"
	assert_output --partial "leave-resource"
	[ -e "$(netns_root alpha)/resource-$RES/log-000000001-alpha" ]
	# gamma is gone for good: it leaves, from another node.
	run marsadm_on alpha leave-resource "$RES" --host=gamma --force
	assert_success
	wait_for 30 test ! -e "$(netns_root alpha)/resource-$RES/log-000000001-alpha"
	wait_for 30 test ! -e "$(netns_root beta)/resource-$RES/log-000000001-alpha"
	wait_same alpha beta 30
}

@test "delete-resource on the primary: every member deletes its own names and lets go" {
	replica_up alpha beta
	[ "$(val beta data-beta)" = "$(disk beta)" ]
	run marsadm_on alpha delete-resource "$RES" --force
	assert_success
	# No host takes the deletion of its names from a peer: beta's
	# clusterd sees the resource deleted and deletes its own.
	wait_for 30 lacks_key beta resource-$RES/data-beta
	wait_for 30 lacks_key beta resource-$RES/todo-beta/attach
	wait_for 30 test ! -e "$(dev beta)"
	grep -q "deleted on another node: deleted this node's" "$NETNS_DIR/beta/clusterd.log"
	# And alpha sees beta's own tombstones, not only its own.
	wait_for 30 lacks_key alpha resource-$RES/data-beta
}

@test "handover under load: the command itself waits for the catch-up" {
	replica_up alpha beta
	fs_mount alpha mkfs
	# The backlog must exist when the handover starts, whatever the
	# machine's speed: beta's replay is paused while alpha writes.
	run marsadm_on beta pause-replay "$RES"
	assert_success
	wait_for 60 replay_paused beta
	write_files alpha 12 1024
	fs_sums alpha >"$NETNS_DIR/sums"
	fs_umount alpha
	# The writer stopped and the file system is unmounted just before the
	# handover: beta's replay is behind alpha's logged end.
	! caught_up beta alpha || fail "no backlog: beta replayed everything before the handover"
	echo "# backlog: alpha logged $(log_end alpha); beta replayed $(val beta "replay-beta")" >&3
	marsadm_on beta primary "$RES" --timeout=180 >"$NETNS_DIR/primary.out" 2>&1 &
	local cmd=$!
	_netns_record "$cmd"
	# Once alpha published its final length, nothing but the paused
	# replay keeps beta from the role: the command must still wait.
	wait_for 60 own_link_final alpha
	! is_primary beta || fail "beta took the role with its replay paused"
	kill -0 "$cmd" || fail "primary returned during the backlog: $(cat "$NETNS_DIR/primary.out")"
	run marsadm_on beta resume-replay "$RES"
	assert_success
	# No wait for beta here: primary waits until beta replayed alpha's last byte.
	local rc=0
	wait_for 200 pid_gone "$cmd"
	wait "$cmd" || rc=$?
	[ "$rc" -eq 0 ] || fail "primary failed ($rc): $(cat "$NETNS_DIR/primary.out")"
	is_primary beta
	fs_mount beta
	# Everything written is on the new primary, file by file.
	assert_equal "$(fs_sums beta)" "$(cat "$NETNS_DIR/sums")"
	[ "$(wc -l <"$NETNS_DIR/sums")" -eq 12 ]
	fs_umount beta
	wait_same beta alpha 60
}

# lag_s_is HOST MEMBER JQ-CONDITION: MEMBER's lag_s on HOST's page, e.g. '> 2'.
lag_s_is() {
	page_has "$1" /api/v1/resources \
		".resources[] | select(.name==\"$RES\") | .replicas[] | select(.host==\"$2\") | .lag_s $3"
}

# events_are HOST KIND MEMBER COUNT: HOST's history holds COUNT such events.
events_are() {
	page_has "$1" /api/v1/events \
		"[.events[] | select(.kind==\"$2\" and .host==\"$3\")] | length == $4"
}

@test "lag in time: a paused replay or fetch ages past --lag-alert-s, the alert fires, and clears on resume" {
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
	command -v curl >/dev/null || fail "curl missing"
	replica_up alpha beta
	# beta's page keeps events and raises the lag alert at 2 s.
	clusterd_stop beta
	clusterd_start beta --db "$NETNS_DIR/beta/status.db" --lag-alert-s 2
	wait_for 30 lag_s_is beta beta '== 0'
	run marsadm_on beta pause-replay "$RES"
	assert_success
	wait_for 30 replay_paused beta
	local t_write
	t_write=$(date +%s)	# before the write: its records are stamped later
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=4 conv=notrunc,fsync status=none
	# Only time has to pass: beta applies nothing while its replay waits.
	wait_for 30 lag_s_is beta beta '> 2'
	wait_for 10 events_are beta lag-time beta 1
	# The primary's page and every view agree: the figure is in the tree.
	wait_for 10 lag_s_is alpha beta '> 2'
	lag_s_is alpha alpha '== 0'
	run marsadm_on beta view-replay-age "$RES"
	assert_success
	[ "$output" -ge 2 ] && [ "$output" -le $(($(date +%s) - t_write + 1)) ] ||
		fail "view-replay-age on beta: '$output', $(($(date +%s) - t_write)) s after the write"
	[ "$(marsadm_on alpha view-replay-age "$RES")" = 0 ]
	page beta /metrics | awk '$1 == "mars_replica_lag_seconds{resource=\"'"$RES"'\",host=\"beta\"}" { ok = $2 > 2 } END { exit !ok }' ||
		fail "mars_replica_lag_seconds of beta not over 2: $(page beta /metrics | grep lag_seconds)"

	run marsadm_on beta resume-replay "$RES"
	assert_success
	wait_same alpha beta 60
	wait_for 30 lag_s_is beta beta '== 0'
	wait_for 10 events_are beta lag-time-ok beta 1
	events_are beta lag-time beta 1
	[ "$(marsadm_on beta view-replay-age "$RES")" = 0 ]

	# With the fetch paused the records never reach beta: the stamp is
	# alpha's, carried by gossip, so the lag grows all the same.
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	dd if=/dev/urandom of="$(dev alpha)" bs=64k count=4 conv=notrunc,fsync status=none
	wait_for 30 lag_s_is beta beta '> 2'
	wait_for 10 events_are beta lag-time beta 2
	local name size
	read -r name size < <(log_last_data alpha)
	[ "$(stat -c %s "$(netns_root beta)/resource-$RES/$name" 2>/dev/null || echo 0)" -lt "$size" ] ||
		fail "beta holds all of $name ($size bytes) with its fetch paused"
	run marsadm_on beta resume-fetch "$RES"
	assert_success
	wait_same alpha beta 60
	wait_for 30 lag_s_is beta beta '== 0'
	wait_for 10 events_are beta lag-time-ok beta 2
}

@test "handover with the fetch paused is refused: it would be a failover" {
	# The driver takes a designated primary with its fetch off for a
	# failover; a planned handover must not lose what beta did not fetch.
	replica_up alpha beta
	run marsadm_on beta pause-fetch "$RES"
	assert_success
	run marsadm_on beta primary "$RES" --timeout=30
	assert_failure 5
	assert_output --partial "fetch is paused here"
	assert_output --partial "resume-fetch"
	assert_equal "$(val beta primary)" alpha
	run marsadm_on beta resume-fetch "$RES"
	assert_success
	run marsadm_on beta primary "$RES" --timeout=60
	assert_success
}

@test "resize: the resource grows on every member and only the new tail is synced" {
	replica_up alpha beta
	local old=$((DISK_MB * 1048576)) new=$(((DISK_MB + 8) * 1048576))
	fs_mount alpha mkfs
	write_files alpha 2
	# The admin grows every disk first: alpha's new tail holds data.
	head -c $((8 * 1048576)) /dev/urandom >>"$(disk alpha)"
	truncate -s "$new" "$(disk beta)"
	run marsadm_on beta resize "$RES"
	assert_failure 5
	assert_output --partial "not the designated primary"
	run marsadm_on alpha resize "$RES" 1M
	assert_failure 5
	assert_output --partial "shrinking"
	run marsadm_on alpha resize "$RES"
	assert_success
	wait_for 60 has_value beta "resource-$RES/syncstatus-beta" "$new"
	# The mounted device keeps its size; closed, it grows.
	[ "$(stat -L -c %s "$(dev alpha)")" = "$old" ]
	fs_umount alpha
	wait_for 30 dev_size_is alpha "$new"
	dd if=/dev/urandom of="$(dev alpha)" bs=1M seek="$DISK_MB" count=4 conv=notrunc,fsync \
		status=none
	wait_same alpha beta 60
	grep -q "full sync from 'alpha' starts at byte $old of $new" \
		"$NETNS_DIR/beta/clusterd.log"
}

@test "node fetch limit: the fetches of two resources share one node-wide bandwidth" {
	CLUSTERD_TEST_OPTS="$CLUSTERD_TEST_OPTS --node-fetch-bwlimit 1M"
	DISK_MB=8
	replica_up alpha beta
	# A second resource, r1, replicated the same way.
	local a1=$NETNS_DIR/r1-alpha.img b1=$NETNS_DIR/r1-beta.img
	truncate -s 8M "$a1" "$b1"
	run marsadm_on alpha create-resource r1 "$a1"
	assert_success
	wait_for 15 has_value beta resource-r1/primary alpha
	run marsadm_on beta join-resource r1 "$b1"
	assert_success
	wait_for 60 has_value beta resource-r1/syncstatus-beta 8388608
	wait_for 20 test -e "$NETNS_DIR/alpha/dev/r1"
	# 3 MiB into each device at once: 6 MiB to fetch at 1 MiB/s together
	# (each resource alone may use all of it).
	local t0 t1 writer
	t0=$(date +%s%N)
	dd if=/dev/urandom of="$(dev alpha)" bs=1M count=3 conv=notrunc,fsync status=none &
	writer=$!
	dd if=/dev/urandom of="$NETNS_DIR/alpha/dev/r1" bs=1M count=3 conv=notrunc,fsync \
		status=none
	wait "$writer"
	wait_for 60 caught_up beta alpha
	RES=r1 wait_for 60 caught_up beta alpha
	t1=$(date +%s%N)
	echo "both fetched in $(((t1 - t0) / 1000000)) ms"
	[ $(((t1 - t0) / 1000000)) -ge 4500 ]
	cmp "$a1" "$b1"
}

@test "node sync limit: two joining resources share one node-wide compare rate" {
	CLUSTERD_TEST_OPTS="$CLUSTERD_TEST_OPTS --node-sync-bwlimit 2M"
	DISK_MB=8
	replica_cluster alpha beta
	local r t0 t1
	for r in r0 r1; do
		truncate -s 8M "$NETNS_DIR/$r-alpha.img" "$NETNS_DIR/$r-beta.img"
		run marsadm_on alpha create-resource "$r" "$NETNS_DIR/$r-alpha.img"
		assert_success
	done
	wait_for 15 has_value beta resource-r1/primary alpha
	# 16 MiB to compare at 2 MiB/s together (each alone may use all of it).
	t0=$(date +%s%N)
	for r in r0 r1; do
		run marsadm_on beta join-resource "$r" "$NETNS_DIR/$r-beta.img"
		assert_success
	done
	for r in r0 r1; do
		wait_for 60 has_value beta "resource-$r/syncstatus-beta" 8388608
	done
	t1=$(date +%s%N)
	echo "both synced in $(((t1 - t0) / 1000000)) ms"
	[ $(((t1 - t0) / 1000000)) -ge 6000 ]
}
