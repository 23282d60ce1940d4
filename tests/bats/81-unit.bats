#!/usr/bin/env bats
# clusterd's systemd unit and its drop-in for nodes without a FUSE front
# end (clusterd/clusterd.service, clusterd/clusterd-protect.conf;
# docs/protocol.md section 1.3), from the source tree: no package build,
# no running systemd.  systemd-analyze verify only warns about an unknown
# or misspelt setting and still exits 0, so any output is a failure; the
# security review (--offline) must show each hardening setting in force,
# so dropping one fails here.

load helpers

CLUSTERD=${CLUSTERD:-$MARS_BUILDDIR/clusterd/clusterd}

setup() {
	command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (package systemd)"
	[ -x "$CLUSTERD" ] || fail "clusterd not built at $CLUSTERD"
	UNIT_DIR=$BATS_TEST_TMPDIR/units
	mkdir -p "$UNIT_DIR"
	# verify checks that ExecStart= exists: point it at the built daemon
	sed "s|/usr/sbin/clusterd|$CLUSTERD|g" "$MARS_SRCDIR/clusterd/clusterd.service" \
		>"$UNIT_DIR/clusterd.service"
}

with_dropin() {
	mkdir -p "$UNIT_DIR/clusterd.service.d"
	cp "$MARS_SRCDIR/clusterd/clusterd-protect.conf" \
		"$UNIT_DIR/clusterd.service.d/protect.conf"
}

review() {	# the offline security review of the unit, one setting a line
	run systemd-analyze security --offline=yes --no-pager "$UNIT_DIR/clusterd.service"
	assert_success
}

@test "the unit verifies without a warning" {
	run systemd-analyze verify "$UNIT_DIR/clusterd.service"
	assert_success
	assert_output ""
}

@test "the unit with the drop-in for nodes without FUSE verifies without a warning" {
	with_dropin
	run systemd-analyze verify "$UNIT_DIR/clusterd.service"
	assert_success
	assert_output ""
}

@test "the unit's hardening is in force: no new privileges, listed capabilities, filters" {
	review
	for setting in 'NoNewPrivileges=' 'CapabilityBoundingSet=~CAP_SYS_PTRACE' \
		'CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)' 'CapabilityBoundingSet=~CAP_NET_ADMIN' \
		'CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)' 'CapabilityBoundingSet=~CAP_KILL' \
		'RestrictAddressFamilies=~AF_PACKET' 'RestrictAddressFamilies=~…' \
		'RestrictNamespaces=~user' 'RestrictSUIDSGID=' 'LockPersonality=' \
		'MemoryDenyWriteExecute=' 'SystemCallArchitectures=' \
		'SystemCallFilter=~@debug' 'SystemCallFilter=~@raw-io' 'SystemCallFilter=~@reboot' \
		'SystemCallFilter=~@swap' 'SystemCallFilter=~@clock' 'SystemCallFilter=~@obsolete' \
		'SystemCallFilter=~@cpu-emulation'; do
		assert_line --regexp "^✓ $(printf '%s' "$setting" | sed 's/[][()|.*+?^$\\]/\\&/g') "
	done
	# no mount namespace in the unit itself (the FUSE front end's mounts
	# must reach the host): these stay off without the drop-in
	assert_line --regexp '^✗ ProtectSystem= '
	assert_line --regexp '^✗ PrivateTmp= '
}

@test "with the drop-in the OS, /tmp, tunables and control groups are protected, homes read-only" {
	with_dropin
	review
	for setting in ProtectSystem= PrivateTmp= ProtectKernelTunables= \
		ProtectKernelLogs= ProtectControlGroups= ProtectProc= NoNewPrivileges=; do
		assert_line --regexp "^✓ $setting "
	done
	# read-only, not hidden: the daemon keeps authorized_keys in
	# /root/.ssh (ReadWritePaths=), adding and revoking members' lines
	assert_line --regexp '^✗ ProtectHome= .*read-only access'
	grep -qx 'ReadWritePaths=/mars -/root/.ssh' "$UNIT_DIR/clusterd.service.d/protect.conf"
	# and CAP_SYS_MODULE stays: `modprobe nbd` for the NBD front end
	assert_line --regexp '^✗ ProtectKernelModules= '
}
