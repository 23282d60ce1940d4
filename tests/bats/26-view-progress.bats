#!/usr/bin/env bats
# `marsadm view` for running replication: the amount cursors, rates,
# remaining times and lag, the progress lines under the summary, Orphan,
# EmergencyMode, RemainsPrimary / ForcedPrimary, and the driver status
# file (.driver-status, written by clusterd) fresh, stale and absent.
# As in 21-view.bats, all nodes share one root and the daemons' reports
# are planted with set-link; the driver status is a hand-written file in
# the format of docs/replication.md (clusterd/driver/driver.c writes it).

load helpers
load view

setup() {
	mars_common_setup
	new_resource r0 1M
	STATUS=$MARS_ROOT/resource-r0/.driver-status
}

# status [AGE_S] KEY=VALUE...: the driver status file, written AGE_S
# seconds ago (default now), with version, updated_ns and the given lines.
status() {
	local age=0 now
	[[ "${1:-}" =~ ^[0-9]+$ ]] && { age=$1; shift; }
	now=$(date +%s%N)
	{
		echo version=1
		echo "updated_ns=$((now - age * 1000000000))"
		printf '%s\n' "$@"
	} >"$STATUS.tmp"
	mv "$STATUS.tmp" "$STATUS"
}

# lagging: beta is a secondary of alpha two logfiles long.  Logfile 1 is
# final at 8192 and complete here; of logfile 2 alpha's version link says
# 4096, the fetcher saw 6144 at alpha, 1024 are here.  beta replayed 2048
# of logfile 1, 30 s before alpha's replay link last moved.
lagging() {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	local v1
	v1=$(vlink 000000001 alpha 8192 "$(section "$(value resource-r0/version-000000000-alpha)")")
	mars set-link "$v1" resource-r0/version-000000001-alpha
	mars set-link "$(vlink 000000002 alpha 4096 "$(section "$v1")")" \
		resource-r0/version-000000002-alpha
	mars set-link log-000000002-alpha,6144,0 resource-r0/replay-alpha
	logfile 000000001 alpha 8192
	logfile 000000002 alpha 1024
	as beta set-link log-000000001-alpha,2048,0 resource-r0/replay-beta
	local now
	now=$(date +%s)
	touch -h -d "@$now" "$MARS_ROOT/resource-r0/replay-alpha"
	touch -h -d "@$((now - 30))" "$MARS_ROOT/resource-r0/replay-beta"
	status action=start-replay \
		"why=secondary, replaying log-000000001-alpha at 2048 of 8192 known" split=0 \
		engine_mode=replay replay_state=running replay_logfile=log-000000001-alpha \
		replay_pos=2048 replay_rate=1024 fetch_name=log-000000002-alpha fetch_local=1024 \
		fetch_remote=6144 fetch_peer=alpha fetch_rate=512 fetch_error=0 fetch_why= \
		fetch_refetches=0
}

# macro_is NAME VALUE [HOST]
macro_is() {
	run as "${3:-beta}" "view-$1" r0
	assert_success
	[ "$output" = "$2" ] || fail "view-$1: '$output', expected '$2'"
}

@test "a secondary behind across two logfiles: every amount cursor, rate, remain, lag" {
	lagging
	macro_is replay-pos 2048
	macro_is fetch-pos 9216
	macro_is fetch-size 14336
	macro_is fetch-rest 5120
	macro_is replay-rest 7168
	macro_is work-rest 12288
	macro_is replay-lognr 1
	macro_is work-lognr 2
	macro_is replay-rate 1024
	macro_is fetch-rate 512
	macro_is replay-remain 7
	macro_is fetch-remain 10
	macro_is work-remain 12
	macro_is replay-lag 30
	macro_is fetch-logfile log-000000002-alpha
	macro_is fetch-peer alpha
	macro_is driver-action start-replay
	macro_is driver-why "secondary, replaying log-000000001-alpha at 2048 of 8192 known"
	macro_is is-orphan 0
	macro_is sync-remain 0
}

@test "a secondary behind: the replaying and fetch progress lines" {
	lagging
	run as beta view r0
	assert_success
	assert_line --index 0 "r0 [2/2] OutDated[FR] Replaying dCASfr Secondary alpha"
	assert_line --index 1 "  replaying: [==>.................] 14.29% (2.00/14.00)KiB logs: [1..2] rate: 1.00 KiB/s remaining: 00:00:12"
	assert_line --index 2 "  fetch: 5.00 KiB of log-000000002-alpha from alpha rate: 512 B/s remaining: 00:00:10"
	# beta at logfile 1 holds alpha's logfile 1 from deletion: the blocker lines follow
	assert_line --index 3 --regexp "^  logfile deletion blocked by 'beta' at logfile 000000001 for "
	[ "${#lines[@]}" -eq 5 ] || fail "${#lines[@]} lines"
	# the fetcher reports a failure: said on the fetch line
	status fetch_name=log-000000002-alpha fetch_peer=alpha fetch_remote=6144 fetch_error=-110 \
		"fetch_why=connection to alpha timed out"
	run as beta view r0
	assert_line "  fetch: 5.00 KiB of log-000000002-alpha from alpha rate: 0 B/s remaining: --:--:-- error: connection to alpha timed out"
	assert_line --partial "  replaying: [==>.................] 14.29% (2.00/14.00)KiB logs: [1..2] rate: 0 B/s remaining: --:--:--"
	run as beta view-fetch-why r0
	assert_output "connection to alpha timed out"
}

@test "replay-age: the age of the oldest write not applied here, as the logging primary publishes it" {
	lagging
	macro_is replay-age -1
	macro_is replay-age 0 alpha
	local now
	now=$(date +%s%N)
	as alpha set-link "log-000000001-alpha,2048,$((now - 40 * 1000000000))" \
		resource-r0/actual-alpha/unapplied-beta >/dev/null
	run as beta view-replay-age r0
	assert_success
	# 40 s, or 41 if the second turned between the two date calls
	[[ "$output" =~ ^4[01]$ ]] || fail "view-replay-age: '$output', expected 40"
	run as beta view r0 --json
	[[ "$output" =~ \"replay-age\":4[01], ]] || fail "$output"
	# not fetched yet makes no difference: the stamp is the primary's
	rm "$MARS_ROOT/resource-r0/log-000000001-alpha"
	run as beta view-replay-age r0
	[[ "$output" =~ ^4[01]$ ]] || fail "view-replay-age without the logfile: '$output'"
	# beta applied everything: stamp 0
	as alpha set-link log-000000002-alpha,6144,0 resource-r0/actual-alpha/unapplied-beta >/dev/null
	macro_is replay-age 0
	# an entry of a primary that does not log counts for nothing
	as alpha set-link "log-000000001-alpha,2048,$now" resource-r0/actual-alpha/unapplied-beta \
		>/dev/null
	as alpha set-link 0 resource-r0/actual-alpha/is-primary >/dev/null
	macro_is replay-age -1
}

@test "caught up: no progress lines, lag 0, remain 0" {
	lagging
	truncate -s 6144 "$MARS_ROOT/resource-r0/log-000000002-alpha"
	as beta set-link log-000000002-alpha,6144,0 resource-r0/replay-beta
	run as beta view r0
	assert_output "r0 [2/2] UpToDate Replaying dCASFR Secondary alpha"
	macro_is work-rest 0
	macro_is replay-lag 0
	macro_is replay-remain 0
	macro_is fetch-remain 0
	macro_is replay-pos 6144
	macro_is replay-lognr 2
}

@test "the driver waits: its why is a line; --json carries everything" {
	lagging
	status action=idle "why=waiting for the fetch of log-000000002-alpha" replay_rate=1024
	run as beta view r0
	assert_line "  driver: waiting for the fetch of log-000000002-alpha"
	run as beta view r0 --json
	assert_success
	local j=$output
	[[ "$j" == *'"replay-remain":7,'* ]] || fail "$j"
	[[ "$j" == *'"fetch-remain":-1,'* ]] || fail "no fetch rate: -1 as a number: $j"
	[[ "$j" == *'"work-rest":10240,'* ]] || fail "no fetcher: alpha's link counts: $j"
	[[ "$j" == *'"replay-lag":30,'* ]] || fail "$j"
	[[ "$j" == *'"driver-why":"waiting for the fetch of log-000000002-alpha"'* ]] || fail "$j"
	[[ "$j" == *'"driver-action":"idle"'* ]] || fail "$j"
	[[ "$j" == *'"is-orphan":false'* ]] || fail "$j"
}

@test "replay stopped on a damaged record: replay-state, replay-error, the replay line" {
	lagging
	macro_is replay-state running
	macro_is replay-error ""
	# an engine status of a stopped replay is not believed while the driver says running
	printf '%s\n' mode=replay replay=stopped applied_logfile=log-000000001-alpha \
		stop_result=corrupt stop_reason=bad-checksum stop_offset=2048 error=0 error_text= \
		>"$MARS_ROOT/resource-r0/.engine-status"
	macro_is replay-error ""
	status action=idle "why=secondary, replaying" replay_state=stopped
	macro_is replay-state stopped
	macro_is replay-error "stopped in log-000000001-alpha at byte 2048: corrupt (bad-checksum)"
	run as beta view r0
	assert_line --index 2 "  replay: stopped in log-000000001-alpha at byte 2048: corrupt (bad-checksum)"
	printf '%s\n' mode=replay replay=failed applied_logfile=log-000000001-alpha error=-5 \
		"error_text=Input/output error" >"$MARS_ROOT/resource-r0/.engine-status"
	status action=idle "why=secondary, replaying" replay_state=failed
	macro_is replay-error "failed in log-000000001-alpha: Input/output error"
	# a stale driver status hides both
	status 20 action=idle replay_state=failed
	macro_is replay-state "(none)"
	macro_is replay-error ""
}

@test "a syncing member: sync cursors and the syncing line" {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	as beta set-link 262144 resource-r0/syncstatus-beta
	macro_is sync-pos 262144
	macro_is sync-rest 786432
	macro_is sync-remain -1
	macro_is sync-peer "(none)"
	status action=sync "why=syncing from 'alpha' at 262144 of 1048576 bytes" sync_peer=alpha \
		sync_pos=524288 sync_size=1048576 sync_equal=393216 sync_copied=131072 \
		sync_rate=262144 sync_error=0 sync_why=
	macro_is sync-pos 524288
	macro_is sync-size 1048576
	macro_is sync-rest 524288
	macro_is sync-equal 393216
	macro_is sync-copied 131072
	macro_is sync-rate 262144
	macro_is sync-remain 2
	macro_is sync-peer alpha
	# logged bytes wait for the sync's end: counted, but no replaying line
	logfile 000000001 alpha 4096
	macro_is work-rest 4096
	run as beta view r0
	assert_output "r0 [2/2] InConsistent Syncing dcAsFr Secondary alpha
  syncing: [==========>.........] 50.00% (0.50/1.00)MiB equal: 384.00 KiB copied: 128.00 KiB rate: 256.00 KiB/s remaining: 00:00:02 from alpha"
}

@test "synced, replay short of syncpos: InConsistent, and the line says until when" {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	status action=idle "why=secondary, replaying"
	as beta set-link log-000000002-alpha,100,0 resource-r0/syncpos-beta
	run as beta view r0
	assert_output "r0 [2/2] InConsistent Replaying dcASFR Secondary alpha
  synced: consistent once replay reaches logfile 000000002 byte 100 (syncpos)"
	macro_is sync-rest 0
	macro_is is-consistent 0
	as beta set-link log-000000002-alpha,100,0 resource-r0/replay-beta
	logfile 000000002 alpha 100
	macro_is diskstate UpToDate
	macro_is is-consistent 1
}

@test "Orphan: replay logfile shorter than the replay position, or deleted" {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	status action=idle "why=waiting for the fetch of log-000000001-alpha"
	# a fresh member without the logfile yet is no orphan
	macro_is diskstate UpToDate
	macro_is is-orphan 0
	logfile 000000001 alpha 1024
	as beta set-link log-000000001-alpha,4096,0 resource-r0/replay-beta
	macro_is diskstate Orphan
	macro_is replstate Orphan
	macro_is is-orphan 1
	run as beta view r0
	assert_line --index 0 "r0 [2/2] Orphan Orphan dCASFR Secondary alpha"
	assert_line "  orphan: logfile 000000001 of 'alpha' is missing or too short here, replay stands at byte 4096"
	assert_line "  fix: 'marsadm invalidate r0' here"
	# the designated primary is never an orphan
	macro_is is-orphan 0 alpha
	# the logfile was deleted cluster-wide: gone for good
	rm "$MARS_ROOT/resource-r0/log-000000001-alpha"
	as beta set-link log-000000001-alpha,0,0 resource-r0/replay-beta
	macro_is is-orphan 0
	mars set-link .deleted resource-r0/log-000000001-alpha
	macro_is diskstate Orphan
	run as beta view r0
	assert_line "  orphan: logfile 000000001 of 'alpha' is deleted here, replay stands at byte 0"
	# with fetch off a missing logfile is just not fetched
	as beta pause-fetch r0 --timeout=0
	macro_is is-orphan 0
}

@test "stale or absent driver status: clusterd not running?, its numbers unused" {
	lagging
	status 30 action=start-replay "why=secondary, replaying" replay_rate=1024 \
		fetch_name=log-000000002-alpha fetch_remote=6144 fetch_rate=512 fetch_peer=alpha
	macro_is driver-action "(none)"
	macro_is replay-rate 0
	macro_is fetch-rate 0
	macro_is replay-remain -1
	macro_is fetch-peer "(none)"
	# the fetcher's remote size is not believed either: alpha's link says 4096
	macro_is fetch-size 12288
	run as beta view-driver-age r0
	[ "$output" -ge 30 ] && [ "$output" -le 40 ] || fail "driver-age $output"
	run as beta view-driver-why r0
	assert_output --regexp '^clusterd not running\? \(its status is (3[0-9]|40) s old\)$'
	run as beta view r0
	assert_line --regexp '^  driver: clusterd not running\? \(its status is [0-9]+ s old\)$'
	# younger than 10 s is fresh
	status 5 action=idle "why=secondary, replaying"
	macro_is driver-action idle
	rm "$STATUS"
	macro_is driver-age -1
	macro_is driver-why "clusterd not running? (no status from it)"
	run as beta view r0
	assert_line "  driver: clusterd not running? (no status from it)"
	# a non-member has no driver to miss
	macro_is driver-why "" gamma
	run as gamma view r0
	assert_line --index 0 "r0 [2/2] NotJoined NotJoined ------ None alpha"
	refute_line --partial "driver:"
	# a status file of another version is ignored
	printf 'version=2\nupdated_ns=%s\naction=idle\n' "$(date +%s%N)" >"$STATUS"
	macro_is driver-action "(none)"
}

@test "EmergencyMode: the designated primary reports is-emergency" {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	status action=idle "why=primary, logging to log-000000001-alpha"
	macro_is is-emergency 0
	mars set-link 1 resource-r0/actual-alpha/is-emergency
	macro_is is-emergency 1
	macro_is diskstate EmergencyMode alpha
	macro_is replstate EmergencyMode alpha
	macro_is diskstate EmergencyMode beta
	macro_is replstate Replaying beta
	run as beta view r0
	assert_line --index 0 "r0 [2/2] EmergencyMode Replaying dCASFR Secondary alpha"
	assert_line "  emergency mode on 'alpha': it writes without logging, replication stopped"
	mars set-link 0 resource-r0/actual-alpha/is-emergency
	macro_is diskstate UpToDate beta
}

@test "RemainsPrimary, ForcedPrimary: roles from the actual primaries" {
	join_beta
	report_in alpha 1 1
	report_in beta 1 0
	status action=idle "why=handing over to 'beta': waiting for the device to be closed here"
	mars set-link beta resource-r0/primary
	macro_is role RemainsPrimary alpha
	macro_is replstate Replicating alpha
	macro_is role NotYetPrimary beta
	run as alpha view r0
	assert_output "r0 [2/2] UpToDate Replicating DCASFR RemainsPrimary beta
  driver: handing over to 'beta': waiting for the device to be closed here"
	# beta took over by force while alpha still logs
	report_in beta 1 1
	macro_is role ForcedPrimary beta
	macro_is role RemainsPrimary alpha
	report_in alpha 1 0
	macro_is role Primary beta
	macro_is role Secondary alpha
}

@test "every new word and line label of view is in the man page" {
	local text w
	text=$(sed 's/\\-/-/g' "$MARS_SRCDIR/docs/marsadm.8")
	for w in Orphan EmergencyMode ForcedPrimary RemainsPrimary replaying: fetch: syncing: \
		synced: driver: orphan: "emergency mode on" "clusterd not running?" replay-lag; do
		grep -qF -- "$w" <<<"$text" || fail "'$w' is not in docs/marsadm.8"
	done
}
