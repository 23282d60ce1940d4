#!/usr/bin/env bats
# `marsadm view` and `view-MACRO`: the summary line and every macro in
# the states the tree can express today.  The daemon's reports (heartbeat,
# actual-HOST/is-*) and peers' entries are planted with set-link as those
# hosts, logfiles as plain files; all nodes share one root, as several
# nodes on one machine would.  Every word shown must be in the man page.

load helpers
load view

# A version link's digest: 64 hex digits (docs/state-tree.md 2.1); every
# reader, the view included, ignores a link with a shorter one.
Z=0000000000000000000000000000000000000000000000000000000000000000

setup() {
	mars_common_setup
	MAN=$MARS_SRCDIR/docs/marsadm.8
	new_resource r0 1M
}

# daemon HOST [attached] [primary]: HOST's daemon reports in (report_in)
# and its replication driver writes an idle status (26-view-progress.bats
# tests the others).
daemon() {
	printf 'version=1\nupdated_ns=%s\naction=idle\nwhy=\n' "$(date +%s%N)" \
		>"$MARS_ROOT/resource-r0/.driver-status"
	report_in "$@"
}

@test "fresh resource: no daemon yet" {
	run mars view
	assert_success
	assert_output "r0 [0/1] NoAttach NotStarted -CaSFR NotYetPrimary alpha
  driver: clusterd not running? (no status from it)"
	run mars view r0
	assert_line --index 0 "r0 [0/1] NoAttach NotStarted -CaSFR NotYetPrimary alpha"
}

@test "primary with its daemon up: UpToDate Replicating DCASFR Primary" {
	daemon alpha 1 1
	run mars view all
	assert_output "r0 [1/1] UpToDate Replicating DCASFR Primary alpha"
	daemon alpha 1 0
	run mars view r0
	assert_output "r0 [1/1] UpToDate NotYetPrimary dCASFR NotYetPrimary alpha"
}

@test "primary with logged bytes not yet written back: WriteBack / Recovery" {
	daemon alpha 1 1
	logfile 000000001 alpha 4096
	run mars view r0
	assert_output "r0 [1/1] WriteBack[4096] Replicating DCASFr Primary alpha"
	run mars view-replay-rest r0
	assert_output 4096
	daemon alpha 1 0
	run mars view-diskstate r0
	assert_output "Recovery[4096]"
}

@test "daemon heartbeat older than 60 s: UnResponsive, not alive" {
	daemon alpha 1 1
	touch -h -d '2 minutes ago' "$MARS_ROOT/actual-alpha/time"
	run mars view r0
	assert_output "r0 [0/1] UpToDate UnResponsive DCASFR Primary alpha"
	run mars view-is-alive r0
	assert_output 0
}

@test "detached, detaching, device missing" {
	daemon alpha 1 0
	mars detach r0 --timeout=0
	run mars view-diskstate r0
	assert_output Detaching
	daemon alpha 0 0
	run mars view r0
	assert_output "r0 [1/1] Detached NotYetPrimary -C-SFR NotYetPrimary alpha"
	rm "$BATS_TEST_TMPDIR/disk-r0"
	run mars view-diskstate r0
	assert_output NotPresent
}

@test "a node that is no member: NotJoined ... None" {
	run as gamma view r0
	assert_output "r0 [0/1] NotJoined NotJoined ------ None alpha"
	run as gamma view-is-member r0
	assert_output 0
}

@test "secondary: Replaying, PrimaryUnreachable, paused fetch and replay" {
	join_beta
	daemon alpha 1 1
	daemon beta 1 0
	run as beta view r0
	assert_output "r0 [2/2] UpToDate Replaying dCASFR Secondary alpha"
	touch -h -d '2 minutes ago' "$MARS_ROOT/actual-alpha/time"
	run as beta view-replstate r0
	assert_output PrimaryUnreachable
	daemon alpha 1 1
	# the stub daemon does not act: recorded, not waited for; the intent shows
	as beta pause-fetch r0 --timeout=0
	run as beta view r0
	assert_output "r0 [2/2] OutDated[F] PausingFetch dCAS-R Secondary alpha"
	as beta set-link 0 resource-r0/actual-beta/acted-connect
	run as beta view r0
	assert_output "r0 [2/2] OutDated[F] PausedFetch dCAS-R Secondary alpha"
	as beta resume-fetch r0 --timeout=0
	as beta pause-replay r0 --timeout=0
	run as beta view r0
	assert_output "r0 [2/2] OutDated[R] PausingReplay dCASF- Secondary alpha"
	as beta set-link 0 resource-r0/actual-beta/acted-allow-replay
	run as beta view r0
	assert_output "r0 [2/2] OutDated[R] PausedReplay dCASF- Secondary alpha"
	# without a daemon nothing runs: an off switch holds at once
	rm "$MARS_ROOT/resource-r0/.driver-status"
	as beta set-link 1 resource-r0/actual-beta/acted-allow-replay
	run as beta view-replstate r0
	assert_output PausedReplay
}

@test "secondary: sync incomplete, Syncing / PausedSync, sync-rest" {
	join_beta
	daemon alpha 1 1
	daemon beta 1 0
	as beta set-link 1024 resource-r0/syncstatus-beta
	run as beta view r0
	assert_output "r0 [2/2] InConsistent Syncing dcAsFR Secondary alpha
  syncing: [>...................] 0.10% (0.00/1.00)MiB equal: 0 B copied: 0 B rate: 0 B/s remaining: --:--:--"
	run as beta view-sync-rest r0
	assert_output 1047552
	as beta pause-sync r0 --timeout=0
	run as beta view r0
	assert_line --index 0 "r0 [2/2] InConsistent PausingSync dcA-FR Secondary alpha"
	as beta set-link 0 resource-r0/actual-beta/acted-sync
	run as beta view r0
	assert_line --index 0 "r0 [2/2] InConsistent PausedSync dcA-FR Secondary alpha"
}

@test "secondary behind: fetch-rest and replay-rest, OutDated[FR]" {
	join_beta
	daemon alpha 1 1
	daemon beta 1 0
	mars set-link "$Z,log-000000001-alpha,8192:$Z,log-000000000-alpha,0" \
		resource-r0/version-000000001-alpha
	logfile 000000001 alpha 4096
	as beta set-link log-000000001-alpha,1024,0 resource-r0/replay-beta
	run as beta view r0
	assert_output "r0 [2/2] OutDated[FR] Replaying dCASfr Secondary alpha
  replaying: [==>.................] 12.50% (1.00/8.00)KiB logs: [1..1] rate: 0 B/s remaining: --:--:--
  fetch: 4.00 KiB rate: 0 B/s remaining: --:--:--"
	run as beta view-fetch-rest r0
	assert_output 4096
	run as beta view-replay-rest r0
	assert_output 3072
	truncate -s 8192 "$MARS_ROOT/resource-r0/log-000000001-alpha"
	run as beta view-diskstate r0
	assert_output "OutDated[R]"
}

@test "no designated primary: NoPrimaryDesignated, (none)" {
	join_beta
	daemon beta 1 0
	mars secondary r0
	run as beta view r0
	assert_output "r0 [1/2] UpToDate NoPrimaryDesignated dCASFR Secondary (none)"
	run as beta view-primary r0
	assert_output "(none)"
}

@test "is-split-brain: two origins for one logfile, or two local logfiles of one number" {
	join_beta
	run mars view-is-split-brain r0
	assert_output 0
	local v1 s1
	v1=$(value resource-r0/version-000000001-alpha)
	s1=${v1%%:*}
	as beta set-link "$v1" resource-r0/version-000000001-beta
	as beta set-link "$(vlink 000000002 beta 512 "$s1")" resource-r0/version-000000002-beta
	run mars view-is-split-brain r0
	assert_output 0
	run mars view-split-point r0
	assert_output "(none)"
	mars set-link "$(vlink 000000002 alpha 100 "$s1")" resource-r0/version-000000002-alpha
	run mars view-is-split-brain r0
	assert_output 1
	run mars view-split-point r0
	assert_output "logfile 000000002 byte 0: alpha +100, beta +512"
	run mars view r0
	assert_line --index 1 "  driver: clusterd not running? (no status from it)"
	assert_line --index 2 "  split brain at logfile 000000002 byte 0: 'alpha' has 100 bytes after it, 'beta' 512"
	mars set-link .deleted resource-r0/version-000000002-alpha
	as beta set-link .deleted resource-r0/version-000000002-beta
	run mars view-is-split-brain r0
	assert_output 0
	logfile 000000002 alpha 0
	logfile 000000002 beta 0
	run mars view-is-split-brain r0 --json
	assert_output '{"resource":"r0","is-split-brain":true}'
}

@test "view-MACRO: bare value for one resource, RES VALUE for all and lists" {
	new_resource r1 2M
	run mars view-resource-size r1
	assert_output 2097152
	run mars view-resource-size all
	assert_output "r0 1048576
r1 2097152"
	run mars view-resource-size r1,r0
	assert_output "r1 2097152
r0 1048576"
	run mars view-members
	assert_output "r0 alpha
r1 alpha"
	run mars view-todo-attach r0 --json
	assert_output '{"resource":"r0","todo-attach":true}'
}

@test "view --json carries one field per view-MACRO command, typed" {
	run mars view r0 --json
	assert_success
	local json=$output cmd macro
	for cmd in $("$MARSADM" help --commands | grep '^view-'); do
		macro=${cmd#view-}
		[[ "$json" == *"\"$macro\":"* ]] || fail "view --json lacks '$macro'"
		run mars "$cmd" r0
		assert_success
	done
	[[ "$json" == *'"resource-size":1048576'* ]]
	[[ "$json" == *'"todo-sync":true'* ]]
	[[ "$json" == *'"primary":"alpha"'* ]]
	# besides the macros: "resource", and "limits" (null: no clusterd here)
	[[ "$json" == *'"limits":null'* ]]
	[ "$(grep -o '"[a-z-]*":' <<<"$json" | wc -l)" -eq \
	  $(( $("$MARSADM" help --commands | grep -c '^view-') + 2 )) ]
}

@test "every word view prints is documented in the man page" {
	local text words=() w
	text=$(sed 's/\\-/-/g' "$MAN")
	join_beta
	words+=($(mars view-diskstate r0) $(mars view-replstate r0) $(mars view-role r0))
	daemon alpha 1 1
	daemon beta 1 0
	words+=($(mars view-replstate r0) $(mars view-role r0))
	words+=($(as beta view-replstate r0) $(as beta view-role r0) $(as beta view-diskstate r0))
	words+=($(as gamma view-diskstate r0) $(as gamma view-role r0))
	as beta pause-sync r0 --timeout=0
	as beta set-link 0 resource-r0/syncstatus-beta
	words+=($(as beta view-diskstate r0) $(as beta view-replstate r0))
	for w in "${words[@]}"; do
		grep -qw -- "${w%%\[*}" <<<"$text" || fail "'$w' is not in docs/marsadm.8"
	done
	[ "${#words[@]}" -ge 12 ]
}

@test "view: unknown resource exit 3, no resources prints nothing, missing tree exit 9" {
	run mars view nope
	[ "$status" -eq 3 ]
	run mars view-role nope
	[ "$status" -eq 3 ]
	mars down r0 --timeout=0
	mars delete-resource r0
	run mars view
	assert_success
	assert_output ""
	MARS_ROOT=$BATS_TEST_TMPDIR/none run mars view
	[ "$status" -eq 9 ]
}

@test "view is read-only: the tree is untouched, no clock file made" {
	rm -f "$MARS_ROOT/.clock"
	local before
	before=$(snapshot)
	mars view >/dev/null
	mars view all --json >/dev/null
	mars view-flags r0 >/dev/null
	mars get-link resource-r0/size >/dev/null
	untouched_since "$before"
}
