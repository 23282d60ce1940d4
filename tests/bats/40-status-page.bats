#!/usr/bin/env bats
# clusterd's status page (issue 9) against a running clusterd on a temporary
# tree: two members (alpha runs the daemon, beta's entries are planted
# through statefs as beta would gossip them), one resource.  The JSON API,
# the Prometheus text (strict parser below), history across a restart,
# webhooks to a live and a dead receiver, and the page in headless
# Chromium.  Every wait is bounded.

load helpers

HOSTILE='/dev/<img src=x onerror=alert(1)>'

setup() {
	CLUSTERD=${CLUSTERD:-$MARS_BUILDDIR/clusterd/clusterd}
	GOSSIP_TREE=${GOSSIP_TREE:-$MARS_BUILDDIR/tests/helpers/gossip-tree}
	[ -x "$CLUSTERD" ] || fail "clusterd not built at $CLUSTERD (run make)"
	[ -x "$GOSSIP_TREE" ] || fail "gossip-tree not built at $GOSSIP_TREE (run make)"
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
	command -v curl >/dev/null || fail "curl missing"
	export MARS_ROOT="$BATS_TEST_TMPDIR/mars"
	PIDS=()
	make_cluster
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "$BATS_TEST_TMPDIR/clusterd.log" ]; then
		echo "# clusterd log:" >&3
		sed 's/^/#   /' "$BATS_TEST_TMPDIR/clusterd.log" >&3
	fi
}

tree() {	# tree HOST gossip-tree-args...
	local host=$1
	shift
	"$GOSSIP_TREE" "$MARS_ROOT" "$host" "$@"
}

make_cluster() {
	mkdir -p "$MARS_ROOT"
	tree alpha create 127.0.0.1 >/dev/null
	tree alpha set ips/ip-beta 127.0.0.2
	tree beta set actual-beta/time 1.0
	tree alpha set resource-r0/size 1048576
	tree alpha set resource-r0/primary alpha
	tree alpha set resource-r0/data-alpha /dev/vg/r0
	tree alpha set resource-r0/syncstatus-alpha 1048576
	tree alpha set resource-r0/replay-alpha log-000000002-alpha,9000,0
	tree beta set resource-r0/data-beta "$HOSTILE"
	tree beta set resource-r0/syncstatus-beta 1048576
	tree beta set resource-r0/replay-beta log-000000002-alpha,1000,0
	tree beta set resource-r0/todo-beta/connect 1
	tree beta set resource-r0/todo-beta/allow-replay 1
	# What each host's daemon reports (no data path runs here): the view
	# model words a replica from these, not from the designation alone.
	tree alpha set resource-r0/todo-alpha/attach 1
	tree alpha set resource-r0/actual-alpha/is-attached 1
	tree alpha set resource-r0/actual-alpha/is-primary 1
	tree beta set resource-r0/todo-beta/attach 1
	tree beta set resource-r0/actual-beta/is-attached 1
	tree beta set resource-r0/actual-beta/is-primary 0
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_clusterd [OPTION...]: the daemon as alpha on a free port; sets URL.
start_clusterd() {
	PORT=$(free_port)
	URL="http://127.0.0.1:$PORT"
	"$CLUSTERD" --root "$MARS_ROOT" --host alpha --transport local \
		--local-roots "$BATS_TEST_TMPDIR/no-peers" --heartbeat-ms 500 \
		--http-listen "127.0.0.1:$PORT" "$@" >>"$BATS_TEST_TMPDIR/clusterd.log" 2>&1 &
	DAEMON=$!
	PIDS+=("$DAEMON")
	wait_for 10 curl -sf -H "Authorization: Bearer ${TOKEN:-}" "$URL/api/v1/cluster"
	# The page is a process of its own serving a snapshot of the tree taken
	# once a second: wait for one that has the daemon's first heartbeat.
	wait_for 10 eval 'get /api/v1/cluster |
		jq -e "[.members[] | select(.host == \"alpha\")] | length == 0 or .[0].alive"'
}

stop_clusterd() {
	kill -TERM "$DAEMON"
	local i
	for i in $(seq 50); do
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$DAEMON" 2>/dev/null || fail "clusterd did not stop within 5 s"
	wait "$DAEMON" || true
}

get() {	# get PATH: body on stdout, fails on an HTTP error
	curl -sf --max-time 5 -H "Authorization: Bearer ${TOKEN:-}" "$URL$1"
}

code() {	# code [CURL-ARGS...] PATH
	local path=${*: -1}
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${@:1:$#-1}" "$URL$path"
}

# An anchor version link (no predecessor, digest all zeros: it verifies).
anchor() {	# anchor NR ORIGIN LEN
	printf '%064d,log-%s-%s,%s:' 0 "$1" "$2" "$3"
}

split_brain() {	# logfile 2 written by two origins: diverging version links
	tree alpha set resource-r0/version-000000002-alpha "$(anchor 000000002 alpha 9000)"
	tree beta set resource-r0/version-000000002-beta "$(anchor 000000002 beta 100)"
}

# A webhook receiver on loopback: appends each body to $1, port to $1.port.
start_receiver() {
	cat >"$BATS_TEST_TMPDIR/receiver.py" <<'PY'
import http.server, sys
out = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > 65536:
            self.send_error(413); return
        body = self.rfile.read(n)
        with open(out, "ab") as f:
            f.write(body.rstrip(b"\n") + b"\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(out + ".port", "w").write(str(s.server_port))
s.serve_forever()
PY
	python3 "$BATS_TEST_TMPDIR/receiver.py" "$1" &
	PIDS+=($!)
	wait_for 5 test -s "$1.port"
}

# A dead receiver: listens, never accepts, so posts hang until curl's bound.
start_dead_receiver() {
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(600)' "$1" &
	PIDS+=($!)
	wait_for 5 test -s "$1"
}

@test "status: /api/v1/cluster and /api/v1/resources describe the tree" {
	start_clusterd
	run get /api/v1/cluster
	assert_success
	assert_equal "$(jq -r '.api' <<<"$output")" 1
	assert_equal "$(jq -r '.uuid | startswith("alpha_")' <<<"$output")" true
	assert_equal "$(jq -r '[.members[].host] | join(",")' <<<"$output")" alpha,beta
	assert_equal "$(jq -r '.members[] | select(.host=="alpha") | .alive' <<<"$output")" true
	run get /api/v1/resources
	assert_success
	assert_equal "$(jq -r '.resources[0].name' <<<"$output")" r0
	assert_equal "$(jq -r '.resources[0].primary' <<<"$output")" alpha
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="alpha") | .role' <<<"$output")" Primary
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .role' <<<"$output")" Secondary
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .lag_bytes' <<<"$output")" 8000
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .device' <<<"$output")" "$HOSTILE"
	assert_equal "$(jq -r '.resources[0].split_brain' <<<"$output")" false
	# A change in the tree shows within a few snapshot periods.
	tree alpha set resource-r0/primary '(none)'
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].primary == \"(none)\"'"
}

@test "status: a lagging secondary is not a split brain, diverging histories are" {
	# beta's link for logfile 2 is shorter than alpha's and it has nothing
	# later: it lags (marsadm view agrees), whatever the values' text.
	tree alpha set resource-r0/version-000000002-alpha "$(anchor 000000002 alpha 9000)"
	tree beta set resource-r0/version-000000002-beta "$(anchor 000000002 alpha 1000)"
	run env MARS_HOST=alpha "$MARSADM" view-is-split-brain r0
	assert_output 0
	start_clusterd
	run get /api/v1/resources
	assert_success
	assert_equal "$(jq -r '.resources[0].split_brain' <<<"$output")" false
	assert_equal "$(jq -r '.resources[0].resolve' <<<"$output")" ""
	run get /metrics
	assert_line 'mars_resource_split_brain{resource="r0"} 0'
	# The same logfile number from another origin is a split brain.
	split_brain
	run env MARS_HOST=alpha "$MARSADM" view-is-split-brain r0
	assert_output 1
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].split_brain'"
	run get /api/v1/resources
	assert_equal "$(jq -r '.resources[0].resolve | contains("logfile 000000002 byte 0")' <<<"$output")" true
	run get /metrics
	assert_line 'mars_resource_split_brain{resource="r0"} 1'
}

@test "status: a running sync shows its remaining time" {
	tree beta set resource-r0/syncstatus-beta 0
	start_clusterd
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].replicas[] | select(.host==\"beta\") | .disk == \"InConsistent\" and .sync_remaining_s == null'"
	# The sync moves: a quarter, then half of the device.
	tree beta set resource-r0/syncstatus-beta 262144
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].replicas[] | select(.host==\"beta\") | .sync_bytes == 262144'"
	tree beta set resource-r0/syncstatus-beta 524288
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].replicas[] | select(.host==\"beta\") | (.sync_remaining_s | type) == \"number\"'"
	run get /api/v1/resources
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .sync_rate_bytes_per_s > 0 and .sync_remaining_s > 0' <<<"$output")" true
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="alpha") | .sync_remaining_s' <<<"$output")" 0
	tree beta set resource-r0/syncstatus-beta 1048576
	wait_for 5 sh -c "curl -sf '$URL/api/v1/resources' | jq -e '.resources[0].replicas[] | select(.host==\"beta\") | .sync_remaining_s == 0'"
}

@test "status: read-only, bounded, and the token guards the data" {
	TOKEN=s3cret start_clusterd --http-token s3cret
	assert_equal "$(code /api/v1/cluster)" 401
	assert_equal "$(code /metrics)" 401
	assert_equal "$(code -H 'Authorization: Bearer wrong' /api/v1/cluster)" 401
	assert_equal "$(code -H 'Authorization: Bearer s3cret' /api/v1/cluster)" 200
	assert_equal "$(code /)" 200
	assert_equal "$(code /app.js)" 200
	assert_equal "$(code -H 'Authorization: Bearer s3cret' /api/v1/nothing)" 404
	assert_equal "$(code -X POST -d x /api/v1/cluster)" 405
	assert_equal "$(code -X DELETE /)" 405
	assert_equal "$(code -H 'Authorization: Bearer s3cret' '/api/v1/history?since_s=abc')" 400
	assert_equal "$(code -H 'Authorization: Bearer s3cret' '/api/v1/history?resource=..%2Fetc')" 400
	# Headers beyond the per-connection memory bound are refused.
	local big
	big=$(head -c 40000 /dev/zero | tr '\0' a)
	run code -H "X-Big: $big" /
	refute_output 200
	# The page carries a strict content security policy.
	run curl -sI "$URL/"
	assert_output --partial "Content-Security-Policy: default-src 'none'; script-src 'self'"
	# The daemon survived all that.
	assert_equal "$(code /)" 200
}

@test "status: /metrics parses with a strict Prometheus text parser" {
	start_clusterd --db "$BATS_TEST_TMPDIR/status.db"
	# the page serves a snapshot of the tree taken once a second, in a
	# process of its own: the daemon's first heartbeat is in the next one
	wait_for 10 eval 'get /metrics | grep -qx "mars_member_alive{host=\"alpha\"} 1"'
	get /metrics >"$BATS_TEST_TMPDIR/metrics.txt"
	cat >"$BATS_TEST_TMPDIR/promparse.py" <<'PY'
# Strict parser of the Prometheus text format 0.0.4: every line is HELP,
# TYPE or a sample; a family's TYPE precedes its samples, families are
# contiguous and not repeated, names and labels follow the grammar, label
# values use only the allowed escapes, values are floats.
import re, sys
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(%s(?:,%s)*)?\})? (\S+)( -?\d+)?$" % (NAME, LABEL, LABEL))
typed, seen, current, errors, samples = {}, set(), None, [], 0
for n, line in enumerate(open(sys.argv[1]).read().split("\n")[:-1], 1):
    m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % NAME, line)
    if m:
        kind, name, rest = m.groups()
        if kind == "TYPE":
            if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                errors.append("%d: bad type %s" % (n, rest))
            if name in typed:
                errors.append("%d: second TYPE for %s" % (n, name))
            typed[name] = rest
        if name != current:
            if name in seen:
                errors.append("%d: family %s not contiguous" % (n, name))
            seen.add(name); current = name
        continue
    if line.startswith("#") or not line:
        errors.append("%d: stray line %r" % (n, line)); continue
    m = SAMPLE.match(line)
    if not m:
        errors.append("%d: malformed sample %r" % (n, line)); continue
    name, value = m.group(1), m.group(4)
    if name != current or name not in typed:
        errors.append("%d: sample of %s outside its family" % (n, name))
    if typed.get(name) == "counter" and not name.endswith("_total"):
        errors.append("%d: counter %s without _total" % (n, name))
    try:
        float(value)
    except ValueError:
        errors.append("%d: bad value %r" % (n, value))
    samples += 1
for e in errors:
    print(e)
print("%d samples in %d families" % (samples, len(typed)))
sys.exit(1 if errors or samples == 0 else 0)
PY
	run python3 "$BATS_TEST_TMPDIR/promparse.py" "$BATS_TEST_TMPDIR/metrics.txt"
	echo "$output"
	assert_success
	run cat "$BATS_TEST_TMPDIR/metrics.txt"
	assert_line 'mars_replica_lag_bytes{resource="r0",host="beta"} 8000'
	assert_line 'mars_member_alive{host="alpha"} 1'
	assert_line --regexp '^mars_member_heartbeat_age_seconds\{host="alpha"\} [0-9.]+$'
	assert_line --regexp '^mars_gossip_refusals_total\{reason="owner"\} 0$'
	assert_line --regexp '^mars_replica_state\{resource="r0",host="beta",role="Secondary",.*device="/dev/<img src=x onerror=alert\(1\)>"\} 1$'
	# The parser can fail: a broken line is caught.
	echo 'mars_bad{host=alpha} 1' >>"$BATS_TEST_TMPDIR/metrics.txt"
	run python3 "$BATS_TEST_TMPDIR/promparse.py" "$BATS_TEST_TMPDIR/metrics.txt"
	assert_failure
}

@test "status: history survives a restart" {
	local db=$BATS_TEST_TMPDIR/status.db t_restart
	start_clusterd --db "$db" --status-sample-ms 200
	wait_for 10 sh -c "curl -sf '$URL/api/v1/history?resource=r0&host=beta' | jq -e '.samples | length >= 3'"
	tree alpha set resource-r0/primary beta
	tree alpha set ips/ip-gamma 127.0.0.3
	wait_for 10 sh -c "curl -sf '$URL/api/v1/events' | jq -e '[.events[] | select(.kind==\"role\")] | length >= 1'"
	wait_for 10 sh -c "curl -sf '$URL/api/v1/events' | jq -e '[.events[] | select(.kind==\"member-join\" and .host==\"gamma\")] | length == 1'"
	stop_clusterd
	t_restart=$(($(date +%s%3N)))
	start_clusterd --db "$db" --status-sample-ms 200
	run get '/api/v1/history?resource=r0&host=beta'
	assert_success
	assert_equal "$(jq -r "[.samples[] | select(.t_ms < $t_restart)] | length >= 3" <<<"$output")" true
	assert_equal "$(jq -r '.samples[0].lag_bytes' <<<"$output")" 8000
	run get /api/v1/events
	assert_equal "$(jq -r '[.events[] | select(.kind=="start")] | length' <<<"$output")" 2
	assert_equal "$(jq -r '[.events[] | select(.kind=="role")] | length >= 1' <<<"$output")" true
	assert_equal "$(jq -r '[.events[] | select(.kind=="member-join")] | length' <<<"$output")" 1
	assert_equal "$(jq -r '[.events[].id] | . == (sort)' <<<"$output")" true
}

@test "status: a split brain posts a webhook alert" {
	local got=$BATS_TEST_TMPDIR/alerts.jsonl
	start_receiver "$got"
	start_clusterd --db "$BATS_TEST_TMPDIR/status.db" \
		--alert-url "http://127.0.0.1:$(cat "$got.port")/hook" --lag-alert-bytes 4096 \
		--silent-ms 3000
	# The lag of beta (8000 bytes) is over the threshold from the start.
	wait_for 10 grep -q '"kind":"lag"' "$got"
	split_brain
	wait_for 10 grep -q '"kind":"split-brain"' "$got"
	run grep '"kind":"split-brain"' "$got"
	assert_equal "$(jq -r '.resource' <<<"$output")" r0
	assert_equal "$(jq -r '.reporter' <<<"$output")" alpha
	assert_equal "$(jq -r '.detail | contains("marsadm invalidate r0")' <<<"$output")" true
	run get /api/v1/resources
	assert_equal "$(jq -r '.resources[0].split_brain' <<<"$output")" true
	# beta's heartbeat was planted once, so beta falls silent after 3 s.
	wait_for 10 sh -c "grep '\"kind\":\"member-silent\"' '$got' | grep -q '\"host\":\"beta\"'"
	# The receiver writes the body before it answers: wait for the answers
	# (lag, split brain, beta silent; more if alpha's own heartbeat lagged).
	wait_for 10 sh -c "curl -sf '$URL/metrics' | grep -qE '^mars_alerts_total\\{outcome=\"sent\"\\} [3-9]'"
	run get /metrics
	assert_line 'mars_resource_split_brain{resource="r0"} 1'
}

# metric NAME: the value of the sample NAME (with labels) of /metrics.
metric() {
	get /metrics | awk -v n="$1" '$1 == n { print $2 }'
}

@test "status: a lag in time over --lag-alert-s posts an alert, and clears" {
	local got=$BATS_TEST_TMPDIR/alerts.jsonl now v
	start_receiver "$got"
	# alpha logs; the oldest write beta has not applied is 60 s old.
	tree alpha set resource-r0/actual-alpha/is-primary 1
	now=$(date +%s%N)
	tree alpha set resource-r0/actual-alpha/unapplied-beta \
		"log-000000002-alpha,1000,$((now - 60 * 1000000000))"
	start_clusterd --db "$BATS_TEST_TMPDIR/status.db" --lag-alert-s 30 \
		--alert-url "http://127.0.0.1:$(cat "$got.port")/hook"
	wait_for 10 grep -q '"kind":"lag-time"' "$got"
	run grep '"kind":"lag-time"' "$got"
	assert_equal "$(jq -r '.resource + " " + .host' <<<"$output")" "r0 beta"
	assert_equal "$(jq -r '.detail | contains("threshold 30 s")' <<<"$output")" true
	run get /api/v1/resources
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .lag_s >= 60' \
		<<<"$output")" true
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="alpha") | .lag_s' \
		<<<"$output")" 0
	v=$(metric 'mars_replica_lag_seconds{resource="r0",host="beta"}')
	awk -v v="$v" 'BEGIN { exit !(v >= 60) }' || fail "mars_replica_lag_seconds of beta: '$v'"

	# beta has applied everything alpha logged: stamp 0, the alert clears.
	tree alpha set resource-r0/actual-alpha/unapplied-beta log-000000002-alpha,9000,0
	wait_for 10 sh -c "curl -sf '$URL/api/v1/events' | jq -e '[.events[] | select(.kind==\"lag-time-ok\" and .host==\"beta\")] | length == 1'"
	run get /api/v1/events
	assert_equal "$(jq -r '[.events[] | select(.kind=="lag-time")] | length' <<<"$output")" 1
	run get /api/v1/resources
	assert_equal "$(jq -r '.resources[0].replicas[] | select(.host=="beta") | .lag_s' \
		<<<"$output")" 0
	assert_equal "$(metric 'mars_replica_lag_seconds{resource="r0",host="beta"}')" 0
	# Only the raise is posted; it went out once (bounded by curl's own limits).
	wait_for 10 sh -c "curl -sf '$URL/metrics' | grep -qE '^mars_alerts_total\\{outcome=\"sent\"\\} 1\$'"
	assert_equal "$(grep -c '"kind":"lag-time' "$got")" 1
}

@test "status: a dead webhook receiver does not slow the daemon" {
	local dead=$BATS_TEST_TMPDIR/dead.port t max=0 n=0 t0 hb0 hb1
	start_dead_receiver "$dead"
	start_clusterd --alert-url "http://127.0.0.1:$(cat "$dead")/hook" \
		--alert-url "http://127.0.0.1:1/closed"
	split_brain
	wait_for 10 sh -c "curl -sf '$URL/metrics' | grep -q '^mars_alerts_total{outcome=\"queued\"} 2'"
	hb0=$(stat -c %Y "$MARS_ROOT/actual-alpha/time" 2>/dev/null || stat -L -c %Y "$MARS_ROOT/actual-alpha/time")
	t0=$SECONDS
	# While the post hangs (up to 5 s) and retries, every request is fast.
	while [ $((SECONDS - t0)) -lt 7 ]; do
		t=$(curl -sf -o /dev/null -w '%{time_total}' --max-time 5 "$URL/api/v1/resources") ||
			fail "request failed while the receiver hangs"
		t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
		[ "$t" -gt "$max" ] && max=$t
		n=$((n + 1))
		sleep 0.1
	done
	echo "# $n requests while the receiver hangs, slowest ${max} ms" >&3
	[ "$max" -lt 500 ] || fail "slowest request took ${max} ms"
	# The heartbeat kept being written, and the failed posts are retried.
	hb1=$(stat -c %Y "$MARS_ROOT/actual-alpha/time")
	[ "$hb1" -gt "$hb0" ] || fail "heartbeat stalled"
	run get /metrics
	assert_line --regexp '^mars_alerts_total\{outcome="retried"\} [1-9][0-9]*$'
	assert_line 'mars_alerts_total{outcome="sent"} 0'
}

@test "status: the page in headless Chromium shows rows, states and markup as text" {
	split_brain
	start_clusterd --db "$BATS_TEST_TMPDIR/status.db" --status-sample-ms 200
	wait_for 10 sh -c "curl -sf '$URL/api/v1/history' | jq -e '.samples | length >= 4'"
	mkdir -p "$MARS_SRCDIR/test-out"
	STATUS_URL="$URL/" OUT_DIR="$MARS_SRCDIR/test-out" HOSTILE="$HOSTILE" \
		run timeout 90 "$MARS_SRCDIR/tests/browser/run"
	echo "$output"
	assert_success
	refute_output --partial "not ok"
	[ -s "$MARS_SRCDIR/test-out/status-page.png" ] || fail "no screenshot"
}

# ---- least privilege (issue 15): token file, Host check, bind, file modes ----

# run_clusterd_fail OPTION...: clusterd must refuse to start; output in $output.
run_clusterd_fail() {
	run timeout 10 "$CLUSTERD" --root "$MARS_ROOT" --host alpha --transport local \
		--local-roots "$BATS_TEST_TMPDIR/no-peers" --data-path off "$@"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] ||
		fail "clusterd did not refuse to start (status $status): $output"
}

@test "status: the token is read from a 0600 file; a readable file is refused" {
	local tok=$BATS_TEST_TMPDIR/token
	echo s3cret >"$tok"
	chmod 644 "$tok"
	run_clusterd_fail --http-listen "127.0.0.1:$(free_port)" --http-token-file "$tok"
	assert_output --partial "chmod 600 '$tok'"
	chmod 600 "$tok"
	run_clusterd_fail --http-token-file "$tok" --http-token s3cret
	assert_output --partial "not both"
	TOKEN=s3cret start_clusterd --http-token-file "$tok"
	assert_equal "$(code /api/v1/cluster)" 401
	assert_equal "$(code -H 'Authorization: Bearer wrong' /metrics)" 401
	assert_equal "$(code -H 'Authorization: Bearer s3cret' /api/v1/cluster)" 200
	assert_equal "$(code -H 'Authorization: Bearer s3cret' /metrics)" 200
}

@test "status: a foreign Host header is refused, the server's own names answer" {
	start_clusterd --http-allow-host status.example
	# A page of evil.example rebinding its name to 127.0.0.1 sends this.
	assert_equal "$(code -H "Host: evil.example:$PORT" /api/v1/cluster)" 421
	assert_equal "$(code -H "Host: evil.example" /)" 421
	assert_equal "$(code -H "Host: localhost.evil.example:$PORT" /)" 421
	run curl -s --max-time 5 -H "Host: evil.example" "$URL/api/v1/cluster"
	refute_output --partial '"uuid"'
	assert_equal "$(code /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: localhost:$PORT" /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: [::1]:$PORT" /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: alpha:$PORT" /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: $(uname -n):$PORT" /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: STATUS.example:$PORT" /api/v1/cluster)" 200
	# An IP literal other than the bound address is no name of this server.
	assert_equal "$(code -H "Host: 10.9.8.7:$PORT" /)" 421
}

@test "status: off loopback clusterd refuses to serve without a token" {
	local port tok=$BATS_TEST_TMPDIR/token
	port=$(free_port)
	run_clusterd_fail --http-listen "0.0.0.0:$port"
	assert_output --partial "without a token"
	assert_output --partial "--http-token-file"
	# Nothing listens after the refusal.
	run curl -s --max-time 2 "http://127.0.0.1:$port/"
	assert_failure
	# With a token it serves there; a wildcard bind answers IP literals.
	echo s3cret >"$tok"
	chmod 600 "$tok"
	PORT=$port
	URL="http://127.0.0.1:$PORT"
	"$CLUSTERD" --root "$MARS_ROOT" --host alpha --transport local \
		--local-roots "$BATS_TEST_TMPDIR/no-peers" --data-path off \
		--http-listen "0.0.0.0:$PORT" --http-token-file "$tok" \
		>>"$BATS_TEST_TMPDIR/clusterd.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 curl -sf -H "Authorization: Bearer s3cret" "$URL/api/v1/cluster"
	assert_equal "$(code /api/v1/cluster)" 401
	assert_equal "$(code -H "Host: 10.9.8.7:$PORT" -H 'Authorization: Bearer s3cret' /api/v1/cluster)" 200
	assert_equal "$(code -H "Host: evil.example" /)" 421
}

@test "status: the history database is created 0600 and a readable one tightened" {
	local db=$BATS_TEST_TMPDIR/status.db
	start_clusterd --db "$db" --status-sample-ms 200
	assert_equal "$(stat -c %a "$db")" 600
	stop_clusterd
	chmod 644 "$db"
	start_clusterd --db "$db" --status-sample-ms 200
	assert_equal "$(stat -c %a "$db")" 600
	run grep "history database: mode of '$db' tightened from 0644 to 0600" \
		"$BATS_TEST_TMPDIR/clusterd.log"
	assert_success
	run get /api/v1/events
	assert_equal "$(jq -r '[.events[] | select(.kind=="start")] | length' <<<"$output")" 2
}

# status_field PID NAME: a field of /proc/PID/status
status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

@test "status: the page runs in a confined process of its own, restarted when it dies" {
	start_clusterd
	local sup worker
	# by name: the daemon's other children (serving ends of the local
	# transport) come and go
	sup=$(pgrep -P "$DAEMON" -x clusterd-status)
	[ -n "$sup" ] || fail "no status page supervisor under the daemon"
	wait_for 5 pgrep -P "$sup" -x clusterd-page
	worker=$(pgrep -P "$sup" -x clusterd-page)
	# the daemon keeps root's capabilities; the page has none and can gain none
	[ "$(status_field "$DAEMON" NoNewPrivs)" = 0 ]
	[ "$(status_field "$DAEMON" CapEff)" != 0000000000000000 ]
	[ "$(status_field "$worker" NoNewPrivs)" = 1 ]
	[ "$(status_field "$worker" CapEff)" = 0000000000000000 ]
	[ "$(status_field "$worker" CapBnd)" = 0000000000000000 ]
	# a page that dies is started again; the daemon is untouched
	kill -KILL "$worker"
	wait_for 15 eval '[ -n "$(pgrep -P "$sup" -x clusterd-page)" ] &&
		[ "$(pgrep -P "$sup" -x clusterd-page)" != "$worker" ]'
	wait_for 10 get /api/v1/cluster
	kill -0 "$DAEMON"
	grep -q "status page: its process ended (signal 9)" "$BATS_TEST_TMPDIR/clusterd.log"
	# and it goes with the daemon
	stop_clusterd
	! kill -0 "$sup" 2>/dev/null
}
