# Helpers for the replication suites (22-25), loaded after helpers.bash;
# it loads state.bash.  Each node has a tree of its own: $T/NODE, with
# MARS_HOST=NODE; gossip is simulated by tree-copy (statefs_merge, as
# clusterd applies a peer's entries), a secondary's replay by repl-follow.

load state

TREE_COPY=${TREE_COPY:-$MARS_BUILDDIR/tests/helpers/tree-copy}
REPL_FOLLOW=${REPL_FOLLOW:-$MARS_BUILDDIR/tests/helpers/repl-follow}
GOSSIP_TREE=${GOSSIP_TREE:-$MARS_BUILDDIR/tests/helpers/gossip-tree}

# repl_setup [NODE...]: the test's nodes live under $T; with NODEs, they
# form a cluster (see cluster).
repl_setup() {
	mars_common_setup
	# The nodes share no network: gossip is tree-copy, so marsadm must not
	# pull the members' trees over ssh itself (docs/marsadm.8, MARS_NO_SSH).
	export MARS_NO_SSH=1
	T=$BATS_TEST_TMPDIR
	local h
	for h in "$TREE_COPY" "$REPL_FOLLOW" "$GOSSIP_TREE" "$FORGE_LOG"; do
		[ -x "$h" ] || fail "test helper not built at $h (run make)"
	done
	command -v sha256sum >/dev/null || fail "sha256sum missing (coreutils)"
	[ $# -eq 0 ] || cluster "$@"
}

# on NODE marsadm ARGS...: marsadm on NODE's tree as NODE.
on() {
	local n=$1
	shift
	MARS_ROOT=$T/$n MARS_HOST=$n "$MARSADM" "$@"
}

# val NODE KEY: raw link target in NODE's tree, or "(absent)".
val() {
	readlink "$T/$1/$2" || echo "(absent)"
}

# gossip A B...: one round of A's entries into every other node (full mesh
# when called for each node); --logs also copies logfiles (a finished fetch).
gossip() {
	local from=$1 to opt=
	shift
	[ "${1:-}" = --logs ] && { opt=--logs; shift; }
	for to in "$@"; do
		"$TREE_COPY" "$T/$from" "$from" "$T/$to" "$to" $opt >/dev/null ||
			fail "tree-copy $from -> $to failed"
	done
}

# mesh NODE... [--logs]: everybody's entries to everybody.
mesh() {
	local n m logs=
	[ "${*: -1}" = --logs ] && logs=--logs
	for n in "$@"; do
		[ "$n" = --logs ] && continue
		for m in "$@"; do
			[ "$m" = --logs ] || [ "$m" = "$n" ] || gossip "$n" $logs "$m"
		done
	done
}

# cluster A B...: A creates the cluster and resource r0 (1 MiB), the others
# get a tree of their own and join r0, synced (syncstatus = size).
cluster() {
	local first=$1 n
	mkdir -m 0700 "$T/$first"
	on "$first" create-cluster 192.0.2.1 >/dev/null || fail "create-cluster failed"
	truncate -s 1M "$T/disk-$first"
	on "$first" create-resource r0 "$T/disk-$first" >/dev/null || fail "create-resource failed"
	shift
	for n in "$@"; do
		"$GOSSIP_TREE" "$T/$n" "$n" create "10.0.0.$RANDOM" || fail "tree for $n failed"
		gossip "$first" "$n"
		truncate -s 1M "$T/disk-$n"
		on "$n" join-resource r0 "$T/disk-$n" >/dev/null || fail "join-resource on $n failed"
		on "$n" set-link 1048576 resource-r0/syncstatus-$n >/dev/null
		gossip "$n" "$first"
	done
}

# write NODE NR RECORDS: NODE logs RECORDS 4 KiB writes into its logfile NR.
write() {
	"$FORGE_LOG" "$T/$1/resource-r0/log-$2-$1" --records "$3" --payload 4096 \
		--seed "$RANDOM" >/dev/null || fail "forge-log failed"
}

# rotate NODE NR RECORDS: NODE logs RECORDS 4 KiB writes into its logfile
# NR and rotates to the next one.
rotate() {
	write "$1" "$2" "$3"
	on "$1" log-rotate r0 >/dev/null || fail "log-rotate on $1 after logfile $2 failed"
}

# follow NODE: NODE replays everything fetched that the primary's links cover.
follow() {
	"$REPL_FOLLOW" "$T/$1" "$1" r0
}

# catch_up PRIMARY SECONDARY: SECONDARY fetches and replays everything
# PRIMARY logged, and each then knows the other's links.
catch_up() {
	mesh "$1" "$2" --logs
	follow "$2" >/dev/null
	mesh "$1" "$2"
}

# vlink NR ORIGIN LEN [PREV_SECTION]: a version link value, computed here
# independently of the C code (sha256sum of the text after the first comma).
vlink() {
	local body="log-$1-$2,$3:${4:-}" d
	if [ -z "${4:-}" ]; then
		d=0000000000000000000000000000000000000000000000000000000000000000
	else
		d=$(printf %s "$body" | sha256sum | cut -d' ' -f1)
	fi
	echo "$d,$body"
}

# section VALUE: the part before ':' of a version link.
section() {
	echo "${1%%:*}"
}
