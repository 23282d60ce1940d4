# Shared setup for every bats suite.  Sourced with `load helpers`.
#
# Every path a test touches lives under $BATS_TEST_TMPDIR, and every
# identity is overridable, so suites run unprivileged, in parallel and
# without a real /mars.  Variables a suite may rely on:
#   MARS_BUILDDIR  top of the build tree (default: the source tree)
#   MARSADM        the marsadm binary under test
#   FORGE_LOG      the deterministic logfile forger (tests/helpers)
#   LOG_TAMPER     rewrites a logfile's records from an offset, checksums valid
#   MARS_ROOT      a fresh, not yet existing state root for this test
#   MARS_HOST      this test's host name (alpha)
#   VECTORS        the committed test vectors

# `run` with flags (-N, !, --separate-stderr) needs bats 1.5.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

MARS_SRCDIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MARS_BUILDDIR=${MARS_BUILDDIR:-$MARS_SRCDIR}
MARSADM=${MARSADM:-$MARS_BUILDDIR/marsadm/marsadm}
FORGE_LOG=${FORGE_LOG:-$MARS_BUILDDIR/tests/helpers/forge-log}
LOG_TAMPER=${LOG_TAMPER:-$MARS_BUILDDIR/tests/helpers/log-tamper}
VECTORS=$MARS_SRCDIR/tests/vectors

mars_common_setup() {
	[ -x "$MARSADM" ] || fail "marsadm not built at $MARSADM (run make)"
	export MARS_ROOT="$BATS_TEST_TMPDIR/mars"
	export MARS_HOST=alpha
	# Never let a developer's real state leak into a test.
	unset MARS_CONFIG
}

# wait_for TIMEOUT_S CMD...: retry CMD until it succeeds, at most
# TIMEOUT_S seconds; fail with the last output otherwise.  Never used as
# a sleep: the condition is the oracle.
wait_for() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	while ! "$@" >"$BATS_TEST_TMPDIR/wait_for.out" 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			cat "$BATS_TEST_TMPDIR/wait_for.out" >&2
			fail "condition not reached within ${timeout}s: $*"
		fi
		sleep 0.1
	done
}

# wait_ms LIMIT_S CMD...: like wait_for, polling every 10 ms; prints the
# milliseconds it took (the cluster suites report their convergence times).
wait_ms() {
	local limit=$1 t0 now
	shift
	t0=$(date +%s%N)
	until "$@"; do
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000000)) -lt "$limit" ] ||
			fail "condition not reached within ${limit}s: $*"
		sleep 0.01
	done
	now=$(date +%s%N)
	echo $(((now - t0) / 1000000))
}
