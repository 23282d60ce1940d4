#!/usr/bin/env bats
# State-tree commands: create-cluster, create-/delete-resource, the todo
# switches, primary/secondary, set-/get-link.  Each has its happy path
# and its refusals; every refusal leaves the tree byte-for-byte as it was
# (compared with a snapshot including link targets and nanosecond mtimes).

load helpers
load state

setup() {
	mars_common_setup
}

# ---- create-cluster ----------------------------------------------------

@test "create-cluster: format marker, uuid, membership, tree version, mode 0700" {
	mkdir -m 0755 "$MARS_ROOT"
	run mars create-cluster --ip=192.0.2.9
	assert_success
	assert_output ""
	[ "$(value .format)" = 1 ]
	[[ "$(value uuid)" =~ ^alpha_[0-9]+\.[0-9]{9}$ ]]
	[ "$(value ips/ip-alpha)" = 192.0.2.9 ]
	[ "$(value actual-alpha/tree)" = 1 ]
	[ "$(stat -c %a "$MARS_ROOT")" = 700 ]
}

@test "create-cluster ADDRESS and --json" {
	mkdir "$MARS_ROOT"
	run mars create-cluster 192.0.2.7 --json
	assert_success
	assert_output --regexp '^\{"command":"create-cluster","uuid":"alpha_[0-9.]+","host":"alpha"\}$'
	[ "$(value ips/ip-192.0.2.7)" = "(absent)" ]
	[ "$(value ips/ip-alpha)" = 192.0.2.7 ]
}

@test "create-cluster accepts a fresh file system with lost+found" {
	mkdir -p "$MARS_ROOT/lost+found"
	run mars create-cluster 192.0.2.1
	assert_success
	[ -d "$MARS_ROOT/lost+found" ]
}

@test "create-cluster twice: refused (5), tree untouched" {
	new_cluster
	local before
	before=$(snapshot)
	run mars create-cluster
	[ "$status" -eq 5 ]
	assert_line --partial "a cluster already exists in '$MARS_ROOT'"
	untouched_since "$before"
}

@test "create-cluster: missing root is exit 9 and not created" {
	run mars create-cluster
	[ "$status" -eq 9 ]
	assert_line "marsadm: state tree root '$MARS_ROOT' does not exist"
	assert_line --partial "hint: mount the MARS file system there, or create it"
	[ ! -e "$MARS_ROOT" ]
}

@test "create-cluster: a root that is a file is exit 9" {
	echo data >"$MARS_ROOT"
	run mars create-cluster
	[ "$status" -eq 9 ]
	assert_line --partial "is not a directory"
	[ "$(cat "$MARS_ROOT")" = data ]
}

@test "create-cluster: a foreign non-empty directory is exit 9, untouched" {
	mkdir "$MARS_ROOT"
	echo precious >"$MARS_ROOT/notes"
	local before
	before=$(snapshot)
	run mars create-cluster
	[ "$status" -eq 9 ]
	assert_line --partial "is not empty and not a MARS state tree"
	untouched_since "$before"
}

@test "create-cluster: invalid node names are exit 2, nothing written" {
	mkdir "$MARS_ROOT"
	local before host
	before=$(snapshot)
	for host in Alpha alpha.example.com 1node none all localhost; do
		MARS_HOST=$host run mars create-cluster
		[ "$status" -eq 2 ] || fail "host '$host': status $status"
		assert_line --partial "invalid host name '$host'"
	done
	run mars --host=bad_name create-cluster
	[ "$status" -eq 2 ]
	untouched_since "$before"
}

@test "create-cluster: an address with a slash is refused before anything is written" {
	mkdir "$MARS_ROOT"
	local before
	before=$(snapshot)
	run mars create-cluster 10.0.0.1/24
	[ "$status" -eq 5 ]
	assert_line --partial "cannot resolve host '10.0.0.1/24': "
	assert_line --partial "--ip=ADDR"
	untouched_since "$before"
}

@test "create-cluster --dry-run prints the operations and writes nothing" {
	mkdir "$MARS_ROOT"
	local before
	before=$(snapshot)
	run mars create-cluster --dry-run fd00::7
	assert_success
	assert_line --index 0 "mark $MARS_ROOT format 1"
	assert_line --regexp '^set uuid alpha_[0-9.]+$'
	assert_line "set ips/ip-alpha fd00::7"
	assert_line "set actual-alpha/tree 1"
	untouched_since "$before"
}

# ---- trees commands refuse -----------------------------------------------

@test "state commands on a missing root, a file, an empty dir: exit 9 with a hint" {
	local cmd
	for cmd in "view" "up r0" "get-link uuid" "create-resource r0 /dev/null"; do
		run mars $cmd
		[ "$status" -eq 9 ] || fail "'$cmd' on a missing root: $status"
	done
	touch "$MARS_ROOT"
	run mars view
	[ "$status" -eq 9 ]
	rm "$MARS_ROOT"
	mkdir "$MARS_ROOT"
	run mars up r0
	[ "$status" -eq 9 ]
	assert_line --partial "create-cluster"
	[ -z "$(ls -A "$MARS_ROOT")" ]
}

@test "a foreign tree (uuid link but no format marker) is exit 9, untouched" {
	mkdir "$MARS_ROOT"
	ln -s something "$MARS_ROOT/uuid"
	mkdir "$MARS_ROOT/resource-r0"
	ln -s 1 "$MARS_ROOT/resource-r0/size"
	local before
	before=$(snapshot)
	run mars up r0
	[ "$status" -eq 9 ]
	assert_line --partial "not a MARS state tree"
	run mars set-link x userspace/k
	[ "$status" -eq 9 ]
	untouched_since "$before"
}

@test "a tree of another format version is exit 9" {
	new_cluster
	ln -sfn 2 "$MARS_ROOT/.format"
	run mars view
	[ "$status" -eq 9 ]
	assert_line --partial "unsupported format version"
}

# ---- create-resource -----------------------------------------------------

@test "create-resource writes the genesis of the resource" {
	new_cluster
	local dev
	dev=$(disk d0 1G)
	run mars create-resource r0 "$dev"
	assert_success
	local z=0000000000000000000000000000000000000000000000000000000000000000 d1
	d1=$(printf %s "log-000000001-alpha,0:$z,log-000000000-alpha,0" | sha256sum | cut -d' ' -f1)
	[ "$(value resource-r0/size)" = 1073741824 ]
	[ "$(value resource-r0/primary)" = alpha ]
	[ "$(value resource-r0/maxnr)" = 1 ]
	[ "$(value resource-r0/data-alpha)" = "$dev" ]
	[ "$(value resource-r0/device-alpha)" = r0 ]
	[ "$(value resource-r0/syncstatus-alpha)" = 1073741824 ]
	[ "$(value resource-r0/replay-alpha)" = "log-000000001-alpha,0,0" ]
	[ "$(value resource-r0/version-000000000-alpha)" = "$z,log-000000000-alpha,0:" ]
	[ "$(value resource-r0/version-000000001-alpha)" = "$d1,log-000000001-alpha,0:$z,log-000000000-alpha,0" ]
	local sw
	for sw in attach connect sync allow-replay; do
		[ "$(value resource-r0/todo-alpha/$sw)" = 1 ] || fail "todo $sw"
	done
	[ "$(find "$MARS_ROOT/resource-r0" -type l | wc -l)" -eq 13 ]
}

@test "create-resource SIZE and --json" {
	new_cluster
	run mars create-resource r0 "$(disk d0 1G)" 512M --json
	assert_success
	assert_output '{"command":"create-resource","resources":["r0"],"changed":13}'
	[ "$(value resource-r0/size)" = 536870912 ]
	[ "$(value resource-r0/syncstatus-alpha)" = 536870912 ]
}

@test "create-resource: every stamp is distinct and increasing in write order" {
	new_resource r0
	local stamps
	stamps=$(find "$MARS_ROOT/resource-r0" -type l -printf '%T@\n' | sort | uniq -d)
	[ -z "$stamps" ] || fail "duplicate stamps: $stamps"
}

@test "create-resource twice: refused (5), tree untouched" {
	new_resource r0
	local before
	before=$(snapshot)
	run mars create-resource r0 "$BATS_TEST_TMPDIR/disk-r0"
	[ "$status" -eq 5 ]
	assert_line "marsadm: resource 'r0' already exists"
	untouched_since "$before"
}

@test "create-resource refusals: names, devices, sizes, membership; tree untouched" {
	new_cluster
	local dev before
	dev=$(disk d0 1M)
	mkdir "$BATS_TEST_TMPDIR/adir"
	truncate -s 0 "$BATS_TEST_TMPDIR/empty"
	before=$(snapshot)
	run mars create-resource R0 "$dev"; [ "$status" -eq 2 ]
	assert_line --partial "invalid resource name 'R0': must start with a lowercase letter"
	run mars create-resource all "$dev"; [ "$status" -eq 2 ]
	assert_line --partial "is a reserved word"
	run mars create-resource r_0 "$dev"; [ "$status" -eq 2 ]
	run mars create-resource r0 "$BATS_TEST_TMPDIR/nodisk"; [ "$status" -eq 3 ]
	assert_line --partial "cannot use device"
	run mars create-resource r0 relative/disk; [ "$status" -eq 2 ]
	run mars create-resource r0 "$BATS_TEST_TMPDIR/adir"; [ "$status" -eq 2 ]
	# clusterd opens an image file only by its own name, never through a
	# link (links to block devices are fine: LVM names them so)
	ln -s "$dev" "$BATS_TEST_TMPDIR/alink"
	run mars create-resource r0 "$BATS_TEST_TMPDIR/alink"; [ "$status" -eq 2 ]
	assert_line --partial "is named through a symbolic link"
	assert_line --partial "name the file itself: '$dev'"
	run mars create-resource r0 "$dev" 2M; [ "$status" -eq 5 ]
	assert_line --partial "exceeds the 1048576 bytes"
	run mars create-resource r0 "$dev" 1000; [ "$status" -eq 2 ]
	run mars create-resource r0 "$dev" lots; [ "$status" -eq 2 ]
	run mars create-resource r0 "$BATS_TEST_TMPDIR/empty"; [ "$status" -eq 5 ]
	MARS_HOST=beta run mars create-resource r0 "$dev"; [ "$status" -eq 5 ]
	assert_line --partial "host 'beta' is not a member of the cluster"
	run mars create-resource r0; [ "$status" -eq 2 ]
	untouched_since "$before"
}

@test "create-resource --dry-run prints the genesis and writes nothing" {
	new_cluster
	local before dev
	dev=$(disk d0 1G)
	before=$(snapshot)
	run mars create-resource r0 "$dev" --dry-run
	assert_success
	assert_line "set resource-r0/size 1073741824"
	assert_line "set resource-r0/todo-alpha/attach 1"
	[ "${#lines[@]}" -eq 13 ]
	untouched_since "$before"
}

# ---- resize ---------------------------------------------------------------

@test "resize: grows size and the primary's syncstatus; refusals leave the tree untouched" {
	new_resource r0 16M
	local before
	before=$(snapshot)
	run mars resize r0
	assert_success
	assert_output --partial "already has 16777216 bytes"
	truncate -s 32M "$BATS_TEST_TMPDIR/disk-r0"
	run mars resize r0 8M
	[ "$status" -eq 5 ]
	assert_output --partial "shrinking to 8388608 is not supported"
	run mars resize r0 64M
	[ "$status" -eq 5 ]
	assert_output --partial "exceeds the 33554432 bytes"
	run mars resize r0 --host=beta
	[ "$status" -eq 5 ]
	untouched_since "$before"
	run mars resize r0 --json
	assert_success
	assert_line '{"command":"resize","resources":["r0"],"changed":2}'
	[ "$(value resource-r0/size)" = 33554432 ]
	[ "$(value resource-r0/syncstatus-alpha)" = 33554432 ]
}

@test "resize on a member that is not the designated primary: refused (5)" {
	new_resource r0 16M
	run mars set-link beta resource-r0/primary
	assert_success
	truncate -s 32M "$BATS_TEST_TMPDIR/disk-r0"
	run mars resize r0
	[ "$status" -eq 5 ]
	assert_output --partial "'alpha' is not the designated primary of 'r0'"
	assert_output --partial "hint: grow the disks of all members"
	[ "$(value resource-r0/size)" = 16777216 ]
}

# ---- delete-resource -----------------------------------------------------

@test "delete-resource: refused while attached, then tombstones everything" {
	new_resource r0
	local before
	before=$(snapshot)
	run mars delete-resource r0
	[ "$status" -eq 5 ]
	assert_line "marsadm: resource 'r0' is still attached on alpha"
	untouched_since "$before"
	mars down r0
	run mars delete-resource r0 --json
	assert_success
	assert_output '{"command":"delete-resource","resources":["r0"],"changed":13}'
	[ -z "$(find "$MARS_ROOT/resource-r0" -type l ! -lname .deleted)" ]
	run mars view
	assert_success
	assert_output ""
}

@test "delete-resource --force deletes an attached resource; other hosts' names too" {
	new_resource r0
	MARS_HOST=beta mars set-link /dev/b resource-r0/data-beta
	run mars delete-resource r0 --force
	assert_success
	[ "$(value resource-r0/data-beta)" = .deleted ]
	[ "$(value resource-r0/size)" = .deleted ]
}

@test "delete-resource: second run is exit 3, 'all' is refused, re-create starts past old numbers" {
	new_resource r0
	mars delete-resource --force r0
	run mars delete-resource r0
	[ "$status" -eq 3 ]
	assert_line --partial "resource 'r0' does not exist"
	run mars delete-resource all
	[ "$status" -eq 2 ]
	run mars create-resource r0 "$BATS_TEST_TMPDIR/disk-r0"
	assert_success
	[ "$(value resource-r0/maxnr)" = 100001 ]
	[ "$(value resource-r0/replay-alpha)" = "log-000100001-alpha,0,0" ]
}

# ---- todo switches -------------------------------------------------------

@test "each switch command sets its switch" {
	new_resource r0
	local row cmd key val
	for row in detach:attach:0 attach:attach:1 pause-fetch:connect:0 resume-fetch:connect:1 \
		disconnect:connect:0 connect:connect:1 pause-replay:allow-replay:0 \
		resume-replay:allow-replay:1 pause-sync:sync:0 resume-sync:sync:1; do
		IFS=: read -r cmd key val <<<"$row"
		run mars "$cmd" r0
		assert_success
		[ "$(value resource-r0/todo-alpha/$key)" = "$val" ] || fail "$cmd: $key != $val"
	done
}

@test "down and up switch all four; a second run changes nothing" {
	new_resource r0
	mars down r0
	local sw
	for sw in attach connect sync allow-replay; do
		[ "$(value resource-r0/todo-alpha/$sw)" = 0 ] || fail "down: $sw"
	done
	local before
	before=$(snapshot)
	run mars down r0 --json
	assert_success
	assert_output '{"command":"down","resources":["r0"],"changed":0}'
	untouched_since "$before"
	mars up r0
	for sw in attach connect sync allow-replay; do
		[ "$(value resource-r0/todo-alpha/$sw)" = 1 ] || fail "up: $sw"
	done
}

@test "switches take all and comma lists; a bad list changes nothing" {
	new_resource r0
	new_resource r1
	MARS_HOST=beta mars set-link /dev/x resource-r0/data-beta
	run mars detach all
	assert_success
	[ "$(value resource-r0/todo-alpha/attach)" = 0 ]
	[ "$(value resource-r1/todo-alpha/attach)" = 0 ]
	run mars attach r0,r1
	assert_success
	[ "$(value resource-r1/todo-alpha/attach)" = 1 ]
	local before
	before=$(snapshot)
	run mars detach r0,nope
	[ "$status" -eq 3 ]
	assert_line --partial "resource 'nope' does not exist"
	run mars detach r0,
	[ "$status" -eq 2 ]
	run mars detach 'r0;rm'
	[ "$status" -eq 3 ]
	untouched_since "$before"
	# a resource directory planted as a link is no resource (statefs follows none)
	ln -s "$MARS_ROOT/resource-r1" "$MARS_ROOT/resource-ln"
	before=$(snapshot)
	run mars detach r0,ln
	[ "$status" -eq 3 ]
	assert_line --partial "resource 'ln' does not exist"
	untouched_since "$before"
	rm "$MARS_ROOT/resource-ln"
	MARS_HOST=beta run mars detach all
	assert_success
	[ "$(value resource-r0/todo-beta/attach)" = 0 ]
	[ "$(value resource-r1/todo-beta/attach)" = "(absent)" ]
	MARS_HOST=beta run mars detach r1
	[ "$status" -eq 5 ]
	assert_line --partial "host 'beta' is not a member of resource 'r1'"
}

@test "switches: unknown resource is exit 3, missing operand exit 2, --dry-run writes nothing" {
	new_resource r0
	local before
	before=$(snapshot)
	run mars attach nope
	[ "$status" -eq 3 ]
	run mars attach
	[ "$status" -eq 2 ]
	run mars down r0 --dry-run
	assert_success
	assert_output "set resource-r0/todo-alpha/allow-replay 0
set resource-r0/todo-alpha/sync 0
set resource-r0/todo-alpha/connect 0
set resource-r0/todo-alpha/attach 0"
	run mars down r0 --dry-run --json
	assert_line --index 0 '{"op":"set","path":"resource-r0/todo-alpha/allow-replay","value":"0"}'
	untouched_since "$before"
}

# ---- roles ---------------------------------------------------------------

# primary / secondary: tests/bats/24-roles.bats (handover rules).

# ---- set-link / get-link -------------------------------------------------

@test "set-link and get-link: relative and absolute paths, --json" {
	new_cluster
	run mars set-link hello userspace/greeting
	assert_success
	run mars get-link userspace/greeting
	assert_output hello
	run mars get-link "$MARS_ROOT/userspace/greeting" --json
	assert_output --regexp '^\{"path":"userspace/greeting","value":"hello","stamp_ns":[0-9]{19}\}$'
	run mars set-link hello userspace/greeting --json
	assert_output '{"command":"set-link","resources":[],"changed":0}'
}

@test "set-link refusals: outside the tree, private, unknown, bad values, other hosts" {
	new_cluster
	local before
	before=$(snapshot)
	run mars set-link x /etc/passwd;			[ "$status" -eq 2 ]
	assert_line --partial "is outside the state tree"
	run mars set-link x .format;				[ "$status" -eq 2 ]
	assert_line --partial "node-private name"
	run mars set-link x ../x;				[ "$status" -eq 2 ]
	run mars set-link x whatever;				[ "$status" -eq 2 ]
	assert_line --partial "not a key of tree format 1"
	run mars set-link /etc/shadow userspace/k;		[ "$status" -eq 2 ]
	run mars set-link "$(printf 'a\tb')" userspace/k;	[ "$status" -eq 2 ]
	run mars set-link "$(head -c 1024 /dev/zero | tr '\0' v)" userspace/k
	[ "$status" -eq 2 ]
	assert_line --partial "longer than 1023"
	# a value of another form than the key's (docs/state-tree.md 2.2)
	run mars set-link 1M resource-r0/size;			[ "$status" -eq 2 ]
	assert_line --partial "value not of the key's form"
	run mars set-link 007 resource-r0/maxnr;		[ "$status" -eq 2 ]
	run mars set-link Alpha resource-r0/primary;		[ "$status" -eq 2 ]
	run mars set-link log-1-alpha,0,0 resource-r0/replay-alpha;	[ "$status" -eq 2 ]
	run mars set-link /dev/x resource-r0/data-beta;	[ "$status" -eq 5 ]
	assert_line --partial "use --force"
	untouched_since "$before"
	run mars set-link /dev/x resource-r0/data-beta --force
	assert_success
	[ "$(value resource-r0/data-beta)" = /dev/x ]
}

@test "get-link: missing and deleted keys are exit 3" {
	new_cluster
	run mars get-link userspace/nothing
	[ "$status" -eq 3 ]
	mars set-link v userspace/k
	mars set-link .deleted userspace/k
	run mars get-link userspace/k
	[ "$status" -eq 3 ]
	assert_output --partial "(deleted)"
}

@test "concurrent marsadm runs never lose an update" {
	new_resource r0
	local i
	for i in $(seq 1 20); do
		mars set-link "v$i" "userspace/k$i" &
	done
	wait
	for i in $(seq 1 20); do
		[ "$(value userspace/k$i)" = "v$i" ] || fail "k$i lost"
	done
	[ -z "$(find "$MARS_ROOT/userspace" -type l -printf '%T@\n' | sort | uniq -d)" ] ||
		fail "two runs handed out the same stamp"
}
