#!/usr/bin/env bats
# clusterd gossip without network or root: the local transport runs each
# peer's serving end as a child process on the peer's tree, so the
# protocol, the change feed and the merge are exercised on one machine.
# Also runs the frame decoder's fuzz target for a bounded time.

load helpers

setup() {
	CLUSTERD=${CLUSTERD:-$MARS_BUILDDIR/clusterd/clusterd}
	GOSSIP_TREE=${GOSSIP_TREE:-$MARS_BUILDDIR/tests/helpers/gossip-tree}
	[ -x "$CLUSTERD" ] || fail "clusterd not built at $CLUSTERD (run make)"
	[ -x "$GOSSIP_TREE" ] || fail "gossip-tree not built at $GOSSIP_TREE (run make)"
	ROOTS=$BATS_TEST_TMPDIR/roots
	mkdir -p "$ROOTS"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		tail -n 20 "$ROOTS"/*.log >&3 2>/dev/null || true
	fi
}

tree() { "$GOSSIP_TREE" "$ROOTS/$1" "$1" "${@:2}"; }

start() {	# start HOST
	"$CLUSTERD" --transport local --local-roots "$ROOTS" --root "$ROOTS/$1" --host "$1" \
		--peers /dev/null --period-ms 500 --heartbeat-ms 500 --timeout-ms 3000 \
		--backoff-max-ms 500 --log-level debug 2>"$ROOTS/$1.log" &
	PIDS+=($!)
}

join() {	# join HOST MEMBER IP
	run "$CLUSTERD" --transport local --local-roots "$ROOTS" --root "$ROOTS/$1" \
		--host "$1" --join "$2" --ip "$3"
	assert_success
}

@test "local transport: join, change, converge, refuse a foreign uuid" {
	run tree a create 10.0.0.1
	assert_success
	join b a 10.0.0.2
	join c a 10.0.0.3
	run tree c get ips/ip-b
	assert_success
	assert_output 10.0.0.2
	start a
	start b
	start c
	tree c set userspace/k v1
	wait_for 10 tree a get userspace/k
	wait_for 10 tree b get userspace/k
	tree a set userspace/k v2
	wait_for 10 sh -c "[ \"\$('$GOSSIP_TREE' '$ROOTS/c' c get userspace/k)\" = v2 ]"
	# a tree of another cluster cannot join this one
	run tree x create 10.0.0.9
	assert_success
	run "$CLUSTERD" --transport local --local-roots "$ROOTS" --root "$ROOTS/x" --host x --join a
	assert_failure
	assert_output --partial "belongs to cluster"
}

@test "local transport: a serving end without a tree answers with an error" {
	run tree a create 10.0.0.1
	assert_success
	mkdir -p "$ROOTS/b"
	run "$CLUSTERD" --transport local --local-roots "$ROOTS" --root "$ROOTS/a" --host a --join b
	assert_failure
	assert_output --partial "refused by"
}

@test "frame decoder survives 10 s of fuzzing" {
	local fuzz=$MARS_BUILDDIR/tests/fuzz/fuzz-gossip
	[ -x "$fuzz" ] || fail "fuzz-gossip not built at $fuzz (needs clang: tests/install-deps)"
	mkdir -p "$BATS_TEST_TMPDIR/corpus"
	printf '\x05\x00\x00\x00\x02\x01' >"$BATS_TEST_TMPDIR/corpus/pull"
	run timeout 120 "$fuzz" -max_total_time=10 -max_len=70000 \
		-artifact_prefix="$BATS_TEST_TMPDIR/" "$BATS_TEST_TMPDIR/corpus"
	assert_success
}

@test "a refused path from a client is logged escaped, on one line" {
	run tree a create 10.0.0.1
	assert_success
	command -v python3 >/dev/null || fail "python3 missing"
	# HELLO as beta, then one ENTRY whose path carries a newline, a forged
	# log line and a terminal escape, then END (docs/protocol.md frames).
	python3 -c '
import struct, sys
def s(x): b = x.encode("latin-1"); return struct.pack("<H", len(b)) + b
def frame(t, p): return struct.pack("<I", len(p) + 1) + bytes([t]) + p
out = frame(1, struct.pack("<HH", 1, 0) + s(sys.argv[1]) + s("beta"))
out += frame(3, struct.pack("<Q", 4 * 10**18) +
	     s("actual-beta/x\nclusterd: warn: forged \x1b[31m\\") + s("1"))
out += frame(4, struct.pack("<I", 1))
sys.stdout.buffer.write(out)' "$(tree a get uuid)" >"$BATS_TEST_TMPDIR/frames"
	run sh -c "timeout 10 '$CLUSTERD' --serve --root '$ROOTS/a' --host a --peer beta \
		<'$BATS_TEST_TMPDIR/frames' 2>&1 >/dev/null"
	echo "$output"
	assert_equal "${#lines[@]}" 1
	assert_output "clusterd-serve: warn: client 'beta': refused entry 'actual-beta/x\\x0aclusterd: warn: forged \\x1b[31m\\x5c': malformed key path"
}
