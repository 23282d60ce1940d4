# Helpers for the state-command suites (20-29), loaded after helpers.bash.
# Trees live under $BATS_TEST_TMPDIR; every node of a test shares $MARS_ROOT
# and differs only by MARS_HOST, as several nodes on one machine would.

# mars ARGS...: marsadm with the test's root and host.
mars() {
	"$MARSADM" "$@"
}

# new_cluster: an empty root and a cluster with alpha as its member.
new_cluster() {
	mkdir -m 0700 "$MARS_ROOT"
	# An address of its own: the default depends on this machine's routes.
	mars create-cluster 192.0.2.1 >/dev/null || fail "create-cluster failed"
}

# disk NAME SIZE: a sparse image file usable as backing device; prints its path.
disk() {
	truncate -s "$2" "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

# new_resource RES [SIZE]: a cluster with resource RES on alpha.
new_resource() {
	[ -d "$MARS_ROOT" ] || new_cluster
	mars create-resource "$1" "$(disk "disk-$1" "${2:-1G}")" >/dev/null ||
		fail "create-resource $1 failed"
}

# snapshot: every entry under the root with type, link target and
# nanosecond mtime, sorted; equal snapshots mean an untouched tree.
snapshot() {
	[ -e "$MARS_ROOT" ] || { echo "(no root)"; return; }
	(cd "$MARS_ROOT" && find . -printf '%p %y %m %l %T@\n' | sort)
}

# untouched_since SNAPSHOT: fail with a diff if the tree changed.
untouched_since() {
	diff -u <(echo "$1") <(snapshot) || fail "the tree changed"
}

# value KEY: the raw link target of KEY (tombstones included), or "(absent)".
value() {
	readlink "$MARS_ROOT/$1" || echo "(absent)"
}

# stamp KEY: the link's mtime in nanoseconds.
stamp() {
	stat -c '%.9Y' "$MARS_ROOT/$1" | tr -d .
}
