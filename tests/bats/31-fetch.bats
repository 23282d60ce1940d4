#!/usr/bin/env bats
# Logfile transfer (protocol 1.1) between real hosts: network namespaces
# with their own sshd (tests/bats/netns.bash), `transfer-client --fetch RES NAME`
# on the fetching host, logfiles written straight into the origin's tree.
# No daemon runs: the fetcher needs only the tree (uuid, ips/) and sshd.
# Every wait is bounded.

load helpers
load netns

RES=r0

teardown() {
	netns_test_teardown
}

# A cluster of N hosts that all know each other and are members of RES
# (no daemon needed).
fetch_cluster() {
	local n=$1 h g
	netns_setup "$n"
	run tree alpha create "$(netns_addr alpha)"
	assert_success
	for h in "${NETNS_HOSTS[@]:1}"; do
		# shellcheck disable=SC2046
		run netns_exec "$h" "$CLUSTERD" $(clusterd_opts "$h") --join "$(netns_addr alpha)"
		assert_success
	done
	for h in "${NETNS_HOSTS[@]}"; do
		for g in "${NETNS_HOSTS[@]}"; do
			tree "$h" set "ips/ip-$g" "$(netns_addr "$g")" >/dev/null
			# every host a member of RES: logfiles go only to members
			tree "$h" merge "resource-$RES/data-$g" "$NETNS_DIR/disk-$g.img" "$g"
		done
		mkdir -p "$(netns_root "$h")/resource-$RES"
	done
}

logfile() {	# logfile HOST NAME: its path in HOST's tree
	echo "$(netns_root "$1")/resource-$RES/$2"
}

# make_log HOST NAME KIB: a logfile of random bytes
make_log() {
	head -c "$(($3 * 1024))" /dev/urandom >"$(logfile "$1" "$2")"
}

size_of() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# fetch HOST ARGS...: transfer-client --fetch on HOST; JSON status in $output
fetch() {
	local host=$1
	shift
	# shellcheck disable=SC2046
	run netns_exec "$host" timeout 120 "$TRANSFER_CLIENT" $(gossip_opts "$host") --fetch "$RES" "$@"
}

# json KEY: a field of the status line in $output
json() {
	printf '%s\n' "$output" | tail -n 1 | jq -r ".$1"
}

# fetch_bg HOST ARGS...: transfer-client --fetch in the background, pid in $FETCH_PID
fetch_bg() {
	local host=$1
	shift
	# A simple command, not a function, so that $! is the client itself.
	# shellcheck disable=SC2046
	ip netns exec "$(netns_name "$host")" "$TRANSFER_CLIENT" $(gossip_opts "$host") \
		--fetch "$RES" "$@" >"$NETNS_DIR/fetch.out" 2>"$NETNS_DIR/fetch.err" &
	FETCH_PID=$!
	_netns_record "$FETCH_PID"
}

size_at_least() {	# size_at_least FILE BYTES
	[ "$(size_of "$1")" -ge "$2" ]
}

same_size() {		# same_size FILE1 FILE2
	[ "$(size_of "$1")" -eq "$(size_of "$2")" ] && [ "$(size_of "$1")" -gt 0 ]
}

@test "a complete logfile is fetched from its origin, equal and 0600" {
	command -v jq >/dev/null || fail "jq missing"
	fetch_cluster 2
	local name=log-000000001-alpha
	make_log alpha "$name" 3072
	fetch beta "$name" --final $((3072 * 1024)) --timeout 30
	assert_success
	assert_equal "$(json complete)" true
	assert_equal "$(json peer)" alpha
	assert_equal "$(json local_len)" $((3072 * 1024))
	assert_equal "$(json refetches)" 0
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
	assert_equal "$(stat -c %a "$(logfile beta "$name")")" 600
	echo "# 3 MiB fetched in $(json elapsed_ms) ms" >&3
}

@test "a growing logfile is followed with low latency, then equal" {
	fetch_cluster 2
	local name=log-000000002-alpha i n ms want max=0 total=0
	local src dst
	src=$(logfile alpha "$name")
	dst=$(logfile beta "$name")
	make_log alpha "$name" 64
	fetch_bg beta "$name" --timeout 60
	wait_for 15 same_size "$src" "$dst"
	want=$((64 * 1024))
	for i in $(seq 1 20); do
		n=$((RANDOM % 40000 + 1))
		head -c "$n" /dev/urandom >>"$src"
		want=$((want + n))
		ms=$(wait_ms 5 size_at_least "$dst" "$want")
		total=$((total + ms))
		[ "$ms" -gt "$max" ] && max=$ms
	done
	echo "# 20 appends followed: mean $((total / 20)) ms, max $max ms" >&3
	# The times include this shell's polling (a fork per stat); the fetch
	# itself is far faster (tests/unit/test_fetch_local checks < 0.5 s).
	[ $((total / 20)) -lt 500 ] || fail "appends took $((total / 20)) ms on average (limit 500)"
	[ "$max" -lt 1500 ] || fail "an append took $max ms to arrive (limit 1500 ms)"
	kill -TERM "$FETCH_PID"
	wait "$FETCH_PID" || fail "follow fetch ended with an error: $(cat "$NETNS_DIR/fetch.out")"
	cmp "$src" "$dst"
}

@test "a fetch killed with -9 mid-transfer resumes from the local size" {
	fetch_cluster 2
	local name=log-000000003-alpha size partial
	size=$((8 * 1024 * 1024))
	make_log alpha "$name" 8192
	# 32 s for the whole file at 256 KiB/s: the kill comes long before,
	# however slowly this shell gets to it.
	fetch_bg beta "$name" --final "$size" --bwlimit 262144 --timeout 90
	wait_for 30 size_at_least "$(logfile beta "$name")" $((1024 * 1024))
	kill -9 "$FETCH_PID"
	wait "$FETCH_PID" 2>/dev/null || true
	partial=$(size_of "$(logfile beta "$name")")
	[ "$partial" -lt "$size" ] || fail "the transfer was not interrupted ($partial bytes)"
	fetch beta "$name" --final "$size" --timeout 60
	assert_success
	assert_equal "$(json refetches)" 0
	assert_equal "$(json bytes_total)" $((size - partial))
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
	echo "# killed at $partial bytes, resumed with $(json bytes_total) more" >&3
}

@test "a local copy damaged in its tail is detected and fetched again" {
	fetch_cluster 2
	local name=log-000000004-alpha dst pos byte
	dst=$(logfile beta "$name")
	make_log alpha "$name" 1024
	fetch beta "$name" --final $((1024 * 1024)) --timeout 30
	assert_success
	# flip one byte 1000 bytes before the local end
	pos=$((1024 * 1024 - 1000))
	byte=$(od -An -tu1 -j "$pos" -N 1 "$dst" | tr -d ' ')
	printf '%b' "\\$(printf '%03o' $(((byte + 1) % 256)))" |
		dd of="$dst" bs=1 seek="$pos" conv=notrunc status=none
	if cmp -s "$(logfile alpha "$name")" "$dst"; then
		fail "the local copy was not damaged"
	fi
	head -c 100000 /dev/urandom >>"$(logfile alpha "$name")"
	fetch beta "$name" --final $((1024 * 1024 + 100000)) --timeout 30
	assert_success
	assert_equal "$(json refetches)" 1
	assert_equal "$(json bytes_total)" $((1024 * 1024 + 100000))
	cmp "$(logfile alpha "$name")" "$dst"
}

# vouch TREE_HOST NAME LEN VOUCHER: VOUCHER's vouch for the first LEN bytes
# of logfile NAME (docs/state-tree.md 3.8), computed from the origin's copy
# and merged into TREE_HOST's tree as gossip from VOUCHER would.  Not
# asserted: a tree without vouches refuses the key, and the verdicts below
# are what the tests check.
vouch() {
	local host=$1 name=$2 len=$3 voucher=$4 origin digest nr
	origin=${name##*-}
	nr=${name#log-}
	nr=${nr%%-*}
	digest=$(head -c "$len" "$(logfile "$origin" "$name")" | sha256sum | cut -d' ' -f1)
	tree "$host" merge "resource-$RES/digest-$nr-$voucher" "$digest,$name,$len" "$voucher" ||
		echo "# vouch of $voucher not taken by $host" >&3
}

counter() {	# counter HOST NAME: the count in HOST's counters file, 0 if none
	awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' \
		"$(netns_root "$1")/.counters" 2>/dev/null || echo 0
}

@test "with the origin cut off, another member that holds the logfile serves it" {
	fetch_cluster 3
	local name=log-000000005-alpha size=$((2 * 1024 * 1024))
	make_log alpha "$name" 2048
	cp "$(logfile alpha "$name")" "$(logfile gamma "$name")"
	vouch beta "$name" "$size" alpha
	netns_link alpha down
	fetch beta "$name" --final "$size" --timeout 60
	assert_success
	assert_equal "$(json peer)" gamma
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
	echo "# fetched from gamma in $(json elapsed_ms) ms with alpha unreachable" >&3
}

# A forged logfile: the origin's first half, then records of another seed
# (valid headers and checksums, other data) at the same offsets.
forge_pair() {	# forge_pair NAME: alpha's copy good, gamma's forged; size on stdout
	local name=$1 good forged half
	good=$(logfile alpha "$name")
	forged=$(logfile gamma "$name")
	"$FORGE_LOG" "$good" --records 64 --payload 4000 --seed 1 >/dev/null
	"$FORGE_LOG" "$NETNS_DIR/other.log" --records 64 --payload 4000 --seed 2 >/dev/null
	half=$(($(size_of "$good") / 2))
	{ head -c "$half" "$good"; tail -c +"$((half + 1))" "$NETNS_DIR/other.log"; } >"$forged"
	[ "$(size_of "$forged")" -eq "$(size_of "$good")" ] || return 1
	cmp -s "$good" "$forged" && return 1
	size_of "$good"
}

@test "a member that is not the origin serving forged records is refused: copy unchanged, counted" {
	fetch_cluster 3
	local name=log-000000010-alpha size half before
	size=$(forge_pair "$name") || fail "cannot forge the logfile pair"
	half=$((size / 2))
	vouch beta "$name" "$size" alpha
	# the victim holds the first half, from the origin
	fetch beta "$name" --final "$half" --timeout 30
	assert_success
	before=$(sha256sum <"$(logfile beta "$name")")
	netns_link alpha down
	fetch beta "$name" --final "$size" --timeout 8
	assert_failure
	assert_equal "$(json peer)" gamma
	[[ "$(json why)" == *"SHA-256 differs from the vouch"* ]] || fail "why: $(json why)"
	assert_equal "$(size_of "$(logfile beta "$name")")" "$half"
	assert_equal "$(sha256sum <"$(logfile beta "$name")")" "$before"
	[ "$(counter beta unvouched)" -ge 1 ] || fail "the refusal was not counted"
	# the same member with the origin's bytes: taken, and only then reported
	cp "$(logfile alpha "$name")" "$(logfile gamma "$name")"
	fetch beta "$name" --final "$size" --timeout 30
	assert_success
	assert_equal "$(json peer)" gamma
	assert_equal "$(json bytes_total)" "$((size - half))"
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
}

@test "a non-origin member: nothing without a vouch, a third member's vouch is not enough, the primary's is" {
	fetch_cluster 3
	local name=log-000000011-alpha size
	size=$(forge_pair "$name") || fail "cannot forge the logfile pair"
	cp "$(logfile alpha "$name")" "$(logfile gamma "$name")"
	netns_link alpha down
	# no vouch at all: nothing taken from gamma
	fetch beta "$name" --final "$size" --timeout 6
	assert_failure
	[[ "$(json why)" == *"no vouch"* ]] || fail "why: $(json why)"
	assert_equal "$(size_of "$(logfile beta "$name")")" 0
	# gamma vouches for its own copy, but is neither origin nor primary
	tree beta set "resource-$RES/primary" alpha >/dev/null
	vouch beta "$name" "$size" gamma
	fetch beta "$name" --final "$size" --timeout 6
	assert_failure
	assert_equal "$(size_of "$(logfile beta "$name")")" 0
	# gamma becomes the designated primary (a failover): its vouch counts
	tree beta set "resource-$RES/primary" gamma >/dev/null
	fetch beta "$name" --final "$size" --timeout 30
	assert_success
	assert_equal "$(json peer)" gamma
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
}

@test "the bandwidth limit holds: 4 MiB at 1 MiB/s take at least 3 s" {
	fetch_cluster 2
	local name=log-000000006-alpha size=$((4 * 1024 * 1024))
	make_log alpha "$name" 4096
	fetch beta "$name" --final "$size" --bwlimit 1048576 --timeout 60
	assert_success
	echo "# 4 MiB at 1 MiB/s: $(json elapsed_ms) ms" >&3
	[ "$(json elapsed_ms)" -ge 3000 ] || fail "limit not enforced: $(json elapsed_ms) ms"
	[ "$(json elapsed_ms)" -le 8000 ] || fail "far slower than the limit: $(json elapsed_ms) ms"
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
}

# ---- the serving end refuses what is not a logfile ------------------------

le() {	# le BYTES VALUE: little-endian bytes as printf escapes
	local i v=$2
	for ((i = 0; i < $1; i++)); do
		printf '\\x%02x' $((v & 255))
		v=$((v >> 8))
	done
}
str() {	# str TEXT: le16 count and the bytes
	printf '%s%s' "$(le 2 ${#1})" "$1"
}
frame() {	# frame TYPE PAYLOAD-ESCAPES
	local body
	body=$(printf '%b' "$2" | wc -c)
	printf '%s\\x%02x%s' "$(le 4 $((body + 1)))" "$1" "$2"
}
# raw_fetch HOST SERVER RES NAME: HELLO (fetch) + FETCH over ssh; hex reply
raw_fetch() {
	local hello fetch uuid
	uuid=$(tree "$1" get uuid)
	hello=$(frame 1 "$(le 2 1)$(le 2 1)$(str "$uuid")$(str "$1")")
	fetch=$(frame 8 "$(str "$3")$(str "$4")$(le 8 0)$(le 8 0)$(le 1 0)$(le 4 0)$(le 8 0)")
	printf '%b%b' "$hello" "$fetch" |
		netns_exec "$1" timeout 20 ssh -i "$(netns_key "$1")" \
			-o UserKnownHostsFile="$NETNS_DIR/known_hosts" -o BatchMode=yes \
			"root@$(netns_addr "$2")" 2>/dev/null | od -An -tx1 | tr -d ' \n'
}
# FEND (type 0x0b) with offset 0 and code C, as hex
fend_hex() {
	printf '0b0000000000000000%02x00' "$1"
}

@test "the serving end refuses paths, non-log names and symlinks" {
	fetch_cluster 2
	local hex name
	make_log alpha log-000000007-alpha 4
	ln -s /etc/passwd "$(logfile alpha log-000000008-alpha)"
	tree alpha set "resource-$RES/version-000000007-alpha" \
		"$(printf '%064d,log-000000007-alpha,0:' 0)" >/dev/null
	# a valid request is answered with FINFO (type 0x0a) of the size
	hex=$(raw_fetch beta alpha "$RES" log-000000007-alpha)
	[[ $hex == *090000000a0010000000000000* ]] || fail "no FINFO(4096) in reply: $hex"
	for name in ../../../etc/passwd log-000000007-alpha/../../../../etc/passwd \
		version-000000007-alpha .format log-000000008-alpha "log-000000007-alpha/" \
		"log-1-alpha"; do
		hex=$(raw_fetch beta alpha "$RES" "$name")
		[[ $hex == *$(fend_hex 4)* ]] || fail "'$name' not refused: $hex"
	done
	hex=$(raw_fetch beta alpha .. log-000000007-alpha)
	[[ $hex == *$(fend_hex 4)* ]] || fail "resource '..' not refused: $hex"
	hex=$(raw_fetch beta alpha "$RES" log-000000099-alpha)
	[[ $hex == *$(fend_hex 1)* ]] || fail "missing logfile not NOENT: $hex"
	# and through the fetcher: it fails, and the status says why
	fetch beta log-000000008-alpha --final 10 --timeout 5
	assert_failure
	[[ $(json why) == *"symbolic link"* || $(json why) == *"holds more"* ]] ||
		fail "why: $(json why)"
	assert_equal "$(json local_len)" 0
}

@test "a running transfer does not delay gossip (separate connections)" {
	fetch_cluster 2
	local name=log-000000010-alpha size=$((256 * 1024 * 1024)) i ms max=0
	CLUSTERD_TEST_OPTS="$CLUSTERD_TEST_OPTS --data-path off"
	clusterd_start alpha
	clusterd_start beta
	tree alpha set userspace/probe start >/dev/null
	wait_for 20 has_value beta userspace/probe start
	head -c "$size" /dev/urandom >"$(logfile alpha "$name")"
	fetch_bg beta "$name" --final "$size" --timeout 120
	wait_for 20 size_at_least "$(logfile beta "$name")" $((16 * 1024 * 1024))
	for i in 1 2 3 4 5; do
		tree alpha set userspace/probe "v$i" >/dev/null
		ms=$(wait_ms 10 has_value beta userspace/probe "v$i")
		[ "$ms" -gt "$max" ] && max=$ms
	done
	local during
	during=$(size_of "$(logfile beta "$name")")
	echo "# 5 gossip changes during a 256 MiB transfer: max $max ms (fetched $during bytes by then)" >&3
	[ "$during" -lt "$size" ] || echo "# (the transfer ended before the last change)" >&3
	[ "$max" -lt 2000 ] || fail "gossip delayed by the transfer: $max ms"
	wait "$FETCH_PID" || fail "fetch failed: $(cat "$NETNS_DIR/fetch.out")"
	cmp "$(logfile alpha "$name")" "$(logfile beta "$name")"
}

# serve_compress HOST MODE: HOST's serving end runs with --compress MODE
# (the forced command of every key in its authorized_keys; sshd reads the
# file at each login).
serve_compress() {
	sed -i "s/ --peer \([a-z]*\)\( --compress [a-z]*\)\{0,1\}\"/ --peer \1 --compress $2\"/" \
		"$NETNS_DIR/$1/authorized_keys"
}

# fetch_counted HOST NAME SIZE ARGS...: fetch NAME anew, compare it with its
# origin's copy (the part of the name after the number), counters in $output
fetch_counted() {
	local host=$1 name=$2 size=$3 origin
	shift 3
	origin=${name##*-}
	rm -f "$(logfile "$host" "$name")"
	fetch "$host" "$name" --final "$size" --timeout 60 "$@"
	assert_success
	assert_equal "$(json local_len)" "$size"
	cmp "$(logfile "$origin" "$name")" "$(logfile "$host" "$name")"
	assert_equal "$(json bytes_raw)" "$size"
}

@test "compression: zstd and none interoperate both ways, logfiles byte-identical" {
	fetch_cluster 2
	local a=log-000000020-alpha b=log-000000021-beta size
	# zeros compress, the random tail does not: both kinds of piece
	{ head -c $((2048 * 1024)) /dev/zero; head -c $((512 * 1024)) /dev/urandom; } \
		>"$(logfile alpha "$a")"
	cp "$(logfile alpha "$a")" "$(logfile beta "$b")"
	size=$(size_of "$(logfile alpha "$a")")

	# alpha serves with --compress none; beta asks with zstd: raw bytes
	serve_compress alpha none
	fetch_counted beta "$a" "$size" --compress zstd
	assert_equal "$(json bytes_wire)" "$size"
	assert_equal "$(json compress_cpu_ns)" 0
	# alpha serves auto (the default); beta fetches with none: raw bytes
	serve_compress alpha auto
	fetch_counted beta "$a" "$size" --compress none
	assert_equal "$(json bytes_wire)" "$size"
	# both willing: the zeros travel compressed
	fetch_counted beta "$a" "$size" --compress zstd
	local wire
	wire=$(json bytes_wire)
	echo "# $size bytes ($((size / 1024)) KiB, 80 % zeros) as $wire bytes on the wire" >&3
	[ "$wire" -lt $((size / 3)) ] || fail "compressed: $wire bytes for $size"
	[ "$(json compress_cpu_ns)" -gt 0 ] || fail "no compression cost reported"
	[ "$(json decompress_cpu_ns)" -gt 0 ] || fail "no decompression cost counted"

	# the other way: beta serves, alpha fetches; beta's own resource
	# setting turns compression off on its serving end
	tree beta set "resource-$RES/defaults-beta/compress" none >/dev/null
	fetch_counted alpha "$b" "$size" --compress zstd
	assert_equal "$(json bytes_wire)" "$size"
	tree beta set "resource-$RES/defaults-beta/compress" auto >/dev/null
	fetch_counted alpha "$b" "$size" --compress none
	assert_equal "$(json bytes_wire)" "$size"
	fetch_counted alpha "$b" "$size" --compress zstd
	[ "$(json bytes_wire)" -lt $((size / 3)) ] || fail "compressed: $(json bytes_wire) bytes"
}
