#!/usr/bin/env bats
# The .deb packages installed into a fresh Debian root: the guest's, a
# throwaway overlay over the host's / without our packages.  Run by
# tests/bats/80-packaging.bats:
#   tests/vm/run-guest --no-disks --timeout 600 \
#       --env MARS_DEB_DIR=DIR tests/vm/guest/80-packages.bats
# DIR holds mars-{dkms,tools,clusterd,engine}_VERSION-1_*.deb.  dpkg -i
# makes DKMS build mars.ko for the guest's running kernel; the module is
# loaded with modprobe and must pass the record-core self-test; purge
# must remove what install added and leave /mars data alone.  The tests
# run in order and each builds on the one before.

load guest-helpers

PACKAGES=(mars-dkms mars-tools mars-clusterd mars-engine)

setup_file() {
	guest_require
	[ -d "${MARS_DEB_DIR:-}" ] ||
		fail "MARS_DEB_DIR '${MARS_DEB_DIR:-}' is not a directory"
	MARS_PKG_VERSION=$(sed -n 's/^AC_INIT(\[mars\], \[\([^]]*\)\].*/\1/p' \
		"$MARS_SRCDIR/configure.ac")
	KVER=$(uname -r)
	DKMS_KO=/lib/modules/$KVER/updates/dkms/mars.ko
	export MARS_PKG_VERSION KVER DKMS_KO
}

teardown_file() {
	mars_unload_quiet
}

deb_of() {
	ls "$MARS_DEB_DIR/$1_${MARS_PKG_VERSION}-1_"*.deb
}

@test "the guest is a fresh root: no MARS package, module or /mars yet" {
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		run dpkg-query -W -f '${Status}' "$pkg"
		refute_output --partial "installed"
	done
	[ ! -e /usr/sbin/marsadm ]
	[ ! -e "$DKMS_KO" ]
	[ ! -e /var/lib/dkms/mars ]
	[ ! -e /mars ]
}

@test "dpkg -i installs the four packages and DKMS builds mars.ko for uname -r" {
	local debs=() pkg start
	for pkg in "${PACKAGES[@]}"; do
		debs+=("$(deb_of "$pkg")") || fail "no $pkg .deb in $MARS_DEB_DIR"
	done
	# Data an operator already has under /mars, which purge must keep.
	mkdir -p /mars/resource-keep
	echo precious >/mars/resource-keep/data
	start=$SECONDS
	run dpkg -i "${debs[@]}"
	echo "# dpkg -i (DKMS build included) took $((SECONDS - start))s" >&3
	echo "$output"
	assert_success
	for pkg in "${PACKAGES[@]}"; do
		run dpkg-query -W -f '${Status}' "$pkg"
		assert_output "install ok installed"
	done
	run dkms status -m mars -v "$MARS_PKG_VERSION" -k "$KVER"
	echo "$output"
	assert_output --partial ": installed"
}

@test "the DKMS-built module sits under updates/dkms for the running kernel" {
	[ -f "$DKMS_KO" ] || fail "no $DKMS_KO"
	run modinfo -F vermagic "$DKMS_KO"
	assert_output --regexp "^$KVER "
	run modinfo -F version "$DKMS_KO"
	assert_output "$MARS_PKG_VERSION"
	# depmod ran: modprobe resolves the name to the DKMS module.
	run modinfo -n mars
	assert_output "$DKMS_KO"
}

@test "modprobe loads the DKMS-built module and its self-test passes" {
	run modprobe mars
	assert_success
	guest_wait 5 test -c "$MARS_CTL_DEV"
	assert_selftest_passed
	run "$MARS_CTL_QUERY" version
	assert_success
	assert_line "module $MARS_PKG_VERSION"
	run rmmod mars
	assert_success
}

@test "marsadm --version reports the package version" {
	run /usr/sbin/marsadm --version
	assert_success
	assert_output --partial "$MARS_PKG_VERSION"
}

@test "the installed clusterd unit verifies" {
	local unit
	unit=$(dpkg -L mars-clusterd | grep '/clusterd\.service$' | head -n 1)
	[ -n "$unit" ] && [ -f "$unit" ] || fail "mars-clusterd installed no clusterd.service"
	run systemd-analyze verify "$unit"
	echo "$output"
	assert_success
}

@test "dpkg --purge removes what install added and keeps /mars data" {
	local pkg
	mars_unload_quiet
	run dpkg --purge "${PACKAGES[@]}"
	echo "$output"
	assert_success
	for pkg in "${PACKAGES[@]}"; do
		run dpkg-query -W -f '${Status}' "$pkg"
		refute_output --partial "installed"
	done
	[ ! -e /usr/sbin/marsadm ] || fail "purge left /usr/sbin/marsadm"
	[ ! -e /usr/sbin/clusterd ] || fail "purge left /usr/sbin/clusterd"
	[ ! -e /etc/default/clusterd ] || fail "purge left /etc/default/clusterd"
	[ ! -e "/usr/src/mars-$MARS_PKG_VERSION" ] || fail "purge left the DKMS sources"
	[ ! -e /var/lib/dkms/mars ] || fail "purge left the DKMS tree"
	[ ! -e "$DKMS_KO" ] || fail "purge left $DKMS_KO"
	run modinfo -n mars
	assert_failure
	run cat /mars/resource-keep/data
	assert_output precious
}
