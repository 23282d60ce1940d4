#!/usr/bin/env bats
# Full sync (docs/sync.md, issue 8) between real hosts: network namespaces
# with their own sshd and clusterd (data path off: no engine), a resource
# created on alpha and joined by beta through marsadm, and
# `transfer-client --sync RES --peer alpha --disk IMG` on beta, whose JSON status
# (the last line of its output) is the oracle together with cmp of the
# two disk images.  Every wait is bounded.

load helpers
load netns

RES=r0
DISK_MB=16
SIZE=$((DISK_MB * 1048576))
CHUNK=65536

setup() {
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NETNS_DIR:-}" ]; then
		echo "==== sync.out" >&3
		cat "$NETNS_DIR/sync.out" >&3 2>/dev/null || true
		echo "==== sync.err (tail)" >&3
		tail -n 20 "$NETNS_DIR/sync.err" >&3 2>/dev/null || true
	fi
	netns_test_teardown
}

disk() { echo "$NETNS_DIR/disk-$1.img"; }

# random_disk FILE: SIZE bytes of random data
random_disk() {
	head -c "$SIZE" /dev/urandom >"$1"
}

# poke_block FILE BLOCK: one random 4 KiB block at BLOCK (in 4 KiB units)
poke_block() {
	dd if=/dev/urandom of="$1" bs=4096 count=1 seek="$2" conv=notrunc status=none
}

# Two hosts in a cluster with clusterd, r0 created on alpha (primary)
# and joined by beta; both disks random and different.
sync_cluster() {
	netns_setup 2
	netns_cluster_marsadm
	netns_clusterd_all
	random_disk "$(disk alpha)"
	random_disk "$(disk beta)"
	run marsadm_on alpha create-resource "$RES" "$(disk alpha)"
	assert_success
	wait_for 15 has_value beta "resource-$RES/primary" alpha
	run marsadm_on beta join-resource "$RES" "$(disk beta)"
	assert_success
	wait_for 15 has_value beta "resource-$RES/size" "$SIZE"
}

# sync_run ARGS...: transfer-client --sync on beta from alpha; status in $SYNC_RC,
# JSON lines in sync.out.
sync_run() {
	# shellcheck disable=SC2046
	netns_exec beta timeout 120 "$TRANSFER_CLIENT" $(gossip_opts beta) --sync "$RES" \
		--peer alpha --disk "$(disk beta)" --timeout 100 "$@" \
		>"$NETNS_DIR/sync.out" 2>"$NETNS_DIR/sync.err" && SYNC_RC=0 || SYNC_RC=$?
}

# sync_bg ARGS...: the same in the background, pid in $SYNC_PID
sync_bg() {
	# A simple command, not a function, so that $! is the client itself.
	# shellcheck disable=SC2046
	ip netns exec "$(netns_name beta)" "$TRANSFER_CLIENT" $(gossip_opts beta) --sync "$RES" \
		--peer alpha --disk "$(disk beta)" --timeout 100 --progress 100 "$@" \
		>"$NETNS_DIR/sync.out" 2>"$NETNS_DIR/sync.err" &
	SYNC_PID=$!
	_netns_record "$SYNC_PID"
}

# json KEY: a field of the last complete status line
json() {
	grep '}$' "$NETNS_DIR/sync.out" | tail -n 1 | jq -r ".$1"
}

pos_at_least() {	# pos_at_least BYTES: the running sync's last status
	[ "$(json pos 2>/dev/null || echo 0)" -ge "$1" ]
}

gone() {		# gone PID
	! kill -0 "$1" 2>/dev/null
}

@test "identical disks: only digests cross the network, syncpos is the primary's log position" {
	sync_cluster
	cp "$(disk alpha)" "$(disk beta)"
	sync_run
	[ "$SYNC_RC" -eq 0 ] || fail "sync failed: $(json why)"
	assert_equal "$(json 'done')" true
	assert_equal "$(json pos)" "$SIZE"
	assert_equal "$(json bytes_copied)" 0
	assert_equal "$(json bytes_equal)" "$SIZE"
	[ "$(json net_bytes)" -lt $((SIZE / 50)) ] ||
		fail "$(json net_bytes) bytes received for identical disks (limit 2%)"
	assert_equal "$(json syncpos)" "$(tree alpha get "resource-$RES/replay-alpha")"
	cmp "$(disk alpha)" "$(disk beta)"
	echo "# identical: $(json net_bytes) bytes in, $(json net_bytes_out) out, $(json elapsed_ms) ms" >&3
}

@test "completely different disks: everything is copied, then equal" {
	sync_cluster
	sync_run
	[ "$SYNC_RC" -eq 0 ] || fail "sync failed: $(json why)"
	assert_equal "$(json 'done')" true
	assert_equal "$(json bytes_copied)" "$SIZE"
	assert_equal "$(json bytes_equal)" 0
	[ "$(json net_bytes)" -ge "$SIZE" ] || fail "random data cannot arrive in fewer bytes"
	cmp "$(disk alpha)" "$(disk beta)"
	echo "# different: $(json net_bytes) bytes in, $(json elapsed_ms) ms" >&3
}

@test "a few scattered 4 KiB differences: only their chunks are copied" {
	sync_cluster
	cp "$(disk alpha)" "$(disk beta)"
	local b
	# five blocks in five different 64 KiB chunks, the last one included
	for b in 0 17 1000 2051 $((SIZE / 4096 - 1)); do
		poke_block "$(disk alpha)" "$b"
	done
	sync_run
	[ "$SYNC_RC" -eq 0 ] || fail "sync failed: $(json why)"
	assert_equal "$(json bytes_copied)" $((5 * CHUNK))
	assert_equal "$(json bytes_equal)" $((SIZE - 5 * CHUNK))
	[ "$(json net_bytes)" -lt $((6 * CHUNK + SIZE / 100)) ] ||
		fail "$(json net_bytes) bytes received for five chunks"
	cmp "$(disk alpha)" "$(disk beta)"
}

# writer_start FILE: poke random blocks of FILE until writer_stop; every
# block number is recorded (before its write) in $NETNS_DIR/written.
writer_start() {
	: >"$NETNS_DIR/written"
	rm -f "$NETNS_DIR/writer.stop"
	(
		while [ ! -e "$NETNS_DIR/writer.stop" ]; do
			b=$(((RANDOM * 32768 + RANDOM) % (SIZE / 4096)))
			echo "$b" >>"$NETNS_DIR/written"
			poke_block "$1" "$b"
		done
	) &
	WRITER_PID=$!
	_netns_record "$WRITER_PID"
}

writer_stop() {	# the writer ends after its current block, bounded
	touch "$NETNS_DIR/writer.stop"
	wait_for 30 gone "$WRITER_PID"
	wait "$WRITER_PID" 2>/dev/null || true
}

# chunk_sums FILE: one digest per CHUNK of FILE, in order
chunk_sums() {
	local d
	d=$(mktemp -d "$NETNS_DIR/chunks.XXXXXX")
	split -a 4 -d -b "$CHUNK" "$1" "$d/c" && md5sum "$d"/c* | cut -d' ' -f1
	rm -rf "$d"
}

# differing_chunks A B: the numbers of the chunks in which A and B differ
differing_chunks() {
	diff <(chunk_sums "$1") <(chunk_sums "$2") | sed -n 's/^\([0-9,]*\)c.*/\1/p' |
		while IFS=, read -r from to; do seq $((from - 1)) $((${to:-$from} - 1)); done
}

@test "sync under a concurrent writer, then a final pass copies exactly what the writer changed behind it" {
	sync_cluster
	local d
	sync_bg --bwlimit 4M
	writer_start "$(disk alpha)"
	# A write behind the pass whatever the speeds: chunk 0 was read
	# once pos passed 4 MiB, so it must differ after the pass.
	wait_for 60 pos_at_least $((4 * 1048576))
	echo 0 >>"$NETNS_DIR/written"
	poke_block "$(disk alpha)" 0
	wait_for 120 gone "$SYNC_PID"
	wait "$SYNC_PID" || fail "first pass failed: $(json why)"
	assert_equal "$(json 'done')" true
	writer_stop
	differing_chunks "$(disk alpha)" "$(disk beta)" >"$NETNS_DIR/differ"
	awk -v c=$((CHUNK / 4096)) '{print int($1 / c)}' "$NETNS_DIR/written" | sort -un \
		>"$NETNS_DIR/touched"
	grep -qx 0 "$NETNS_DIR/differ" || fail "chunk 0, written behind the pass, does not differ"
	# The first pass left nothing different that the writer did not touch.
	[ -z "$(comm -23 <(sort -u "$NETNS_DIR/differ") <(sort -u "$NETNS_DIR/touched"))" ] ||
		fail "chunks differ that the writer never wrote: $(comm -23 \
			<(sort -u "$NETNS_DIR/differ") <(sort -u "$NETNS_DIR/touched") | head -n 8)"
	d=$(wc -l <"$NETNS_DIR/differ")
	sync_run
	[ "$SYNC_RC" -eq 0 ] || fail "final pass failed: $(json why)"
	cmp "$(disk alpha)" "$(disk beta)"
	# Exactly the differing chunks, whole (64 KiB granularity), no more.
	assert_equal "$(json bytes_copied)" $((d * CHUNK))
	assert_equal "$(json bytes_equal)" $((SIZE - d * CHUNK))
	echo "# writer: $(wc -l <"$NETNS_DIR/written") blocks in $(wc -l <"$NETNS_DIR/touched")" \
		"chunks; final pass copied $d chunks" >&3
}

@test "a sync killed with -9 resumes from its last position without starting over" {
	sync_cluster
	local pos
	# 64 s for the whole disk at 256 KiB/s: the kill comes long before.
	sync_bg --bwlimit 256K
	wait_for 30 pos_at_least $((1048576))
	kill -9 "$SYNC_PID"
	wait "$SYNC_PID" 2>/dev/null || true
	pos=$(json pos)
	[ "$pos" -lt "$SIZE" ] || fail "the sync was not interrupted (pos $pos)"
	[ $((pos % CHUNK)) -eq 0 ] || fail "pos $pos is not a chunk boundary"
	# every byte below pos was durable: it equals the primary's already
	cmp -n "$pos" "$(disk alpha)" "$(disk beta)"
	sync_run --from "$pos"
	[ "$SYNC_RC" -eq 0 ] || fail "resumed sync failed: $(json why)"
	assert_equal "$(json from)" "$pos"
	assert_equal "$(json 'done')" true
	[ $(($(json bytes_equal) + $(json bytes_copied))) -eq $((SIZE - pos)) ] ||
		fail "resumed sync compared more than the rest"
	cmp "$(disk alpha)" "$(disk beta)"
}

@test "the primary disappears mid-sync: an error with why, then a resume completes" {
	sync_cluster
	local pos rc=0
	# 64 s for the whole disk at 256 KiB/s: the cut comes long before.
	sync_bg --bwlimit 256K
	wait_for 30 pos_at_least $((1048576))
	netns_link alpha down
	wait_for 30 gone "$SYNC_PID"
	wait "$SYNC_PID" || rc=$?
	[ "$rc" -ne 0 ] || fail "the sync succeeded with the primary cut off"
	[ "$(json error)" -ne 0 ] || fail "no error reported"
	[ -n "$(json why)" ] && [ "$(json why)" != null ] || fail "no reason reported"
	echo "# reason: $(json why)" >&3
	pos=$(json pos)
	[ "$pos" -lt "$SIZE" ]
	netns_link alpha up
	sync_run --from "$pos"
	[ "$SYNC_RC" -eq 0 ] || fail "resumed sync failed: $(json why)"
	cmp "$(disk alpha)" "$(disk beta)"
}

@test "a member disk too small is refused before anything is written" {
	sync_cluster
	local small=$NETNS_DIR/small.img before
	head -c $((SIZE - CHUNK)) /dev/urandom >"$small"
	before=$(md5sum <"$small")
	# shellcheck disable=SC2046
	run netns_exec beta timeout 60 "$TRANSFER_CLIENT" $(gossip_opts beta) --log-level warn \
		--sync "$RES" --peer alpha --disk "$small" --timeout 30
	assert_failure
	[ "$(printf '%s\n' "$output" | grep '}$' | tail -n 1 | jq -r .error)" -eq -28 ]
	assert_output --partial "fewer than the resource's $SIZE; nothing written"
	assert_equal "$(md5sum <"$small")" "$before"
	assert_equal "$(stat -c %s "$small")" $((SIZE - CHUNK))
}

@test "a source host that is not a member of the resource is refused" {
	sync_cluster
	local img=$NETNS_DIR/r1-beta.img before
	head -c "$SIZE" /dev/urandom >"$img"
	run marsadm_on beta create-resource r1 "$img"
	assert_success
	wait_for 15 has_value alpha resource-r1/primary beta
	before=$(md5sum <"$(disk beta)")
	# shellcheck disable=SC2046
	run netns_exec beta timeout 60 "$TRANSFER_CLIENT" $(gossip_opts beta) --log-level warn \
		--sync r1 --peer alpha --disk "$(disk beta)" --timeout 30
	assert_failure
	assert_output --partial "'alpha' is not a member of 'r1'"
	assert_equal "$(md5sum <"$(disk beta)")" "$before"
	# and a resource unknown there
	# shellcheck disable=SC2046
	run netns_exec beta timeout 60 "$TRANSFER_CLIENT" $(gossip_opts beta) --log-level warn \
		--sync r7 --peer alpha --disk "$(disk beta)" --size "$SIZE" --timeout 30
	assert_failure
	assert_output --partial "no such resource here"
}

# sync_from HOST PEER ARGS...: transfer-client --sync on HOST from PEER; JSON in sync.out
sync_from() {
	local host=$1 peer=$2
	shift 2
	# shellcheck disable=SC2046
	netns_exec "$host" timeout 120 "$TRANSFER_CLIENT" $(gossip_opts "$host") --sync "$RES" \
		--peer "$peer" --disk "$(disk "$host")" --timeout 100 "$@" \
		>"$NETNS_DIR/sync.out" 2>"$NETNS_DIR/sync.err" && SYNC_RC=0 || SYNC_RC=$?
	assert_equal "$SYNC_RC" 0
	assert_equal "$(json done)" true
	cmp "$(disk alpha)" "$(disk beta)"
	assert_equal "$(json bytes_raw)" "$(json bytes_copied)"
}

@test "compression: zstd and none interoperate both ways, disks byte-identical" {
	sync_cluster
	# three quarters zeros, one quarter random: both kinds of piece
	{ head -c $((SIZE / 4 * 3)) /dev/zero; head -c $((SIZE / 4)) /dev/urandom; } \
		>"$(disk alpha)"

	# alpha's own setting for the resource: none; beta asks for zstd: raw
	tree alpha set "resource-$RES/defaults-alpha/compress" none >/dev/null
	sync_from beta alpha --compress zstd
	assert_equal "$(json bytes_raw)" "$SIZE"
	assert_equal "$(json bytes_wire)" "$SIZE"
	assert_equal "$(json compress_cpu_ns)" 0
	# alpha auto (set as its setting for the resource); beta runs with
	# --compress none: raw
	tree alpha set "resource-$RES/defaults-alpha/compress" auto >/dev/null
	random_disk "$(disk beta)"
	sync_from beta alpha --compress none
	assert_equal "$(json bytes_wire)" "$SIZE"
	# both willing: the zeros travel compressed
	random_disk "$(disk beta)"
	sync_from beta alpha --compress zstd
	echo "# $SIZE bytes (75 % zeros) as $(json bytes_wire) bytes on the wire," \
		"$(json compress_cpu_ns) ns compressing" >&3
	[ "$(json bytes_wire)" -lt $((SIZE / 3)) ] || fail "compressed: $(json bytes_wire) bytes"
	[ "$(json compress_cpu_ns)" -gt 0 ] || fail "no compression cost reported"

	# the other way: beta designated primary, alpha syncs from it; alpha's
	# setting for the resource (none, then zstd) wins over its command line
	tree beta set "resource-$RES/primary" beta >/dev/null
	wait_for 15 has_value alpha "resource-$RES/primary" beta
	tree alpha set "resource-$RES/defaults-alpha/compress" none >/dev/null
	random_disk "$(disk alpha)"
	sync_from alpha beta --compress zstd
	assert_equal "$(json bytes_wire)" "$SIZE"
	tree alpha set "resource-$RES/defaults-alpha/compress" zstd >/dev/null
	random_disk "$(disk alpha)"
	sync_from alpha beta --compress none
	[ "$(json bytes_wire)" -lt $((SIZE / 3)) ] || fail "compressed: $(json bytes_wire) bytes"
}
