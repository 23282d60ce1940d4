# Shared setup of the engine suites (tests/bats/50-engine*): starting and
# stopping mars-engine, and undoing every mount, loop device and engine
# process a test made, even when it failed half-way.  Everything a test
# creates is recorded in $BATS_TEST_TMPDIR/cleanup.* as it is created.

ENGINE=${ENGINE:-$MARS_BUILDDIR/engine/mars-engine}
CRASHLOAD=${CRASHLOAD:-$MARS_BUILDDIR/tests/helpers/engine-crashload}

engine_setup() {
	mars_common_setup
	[ "$(id -u)" = 0 ] || fail "the engine suites need root (FUSE, losetup, mount)"
	[ -c /dev/fuse ] || fail "/dev/fuse missing"
	[ -x "$ENGINE" ] || fail "mars-engine not built at $ENGINE (run make)"
	[ -x "$CRASHLOAD" ] || fail "engine-crashload not built at $CRASHLOAD (run make)"
	T=$BATS_TEST_TMPDIR
	mkdir -p "$MARS_ROOT" "$T/mnt"
	MNT=$T/mnt
	DISK=$T/disk.img
	RES=r0
	RDIR=$MARS_ROOT/resource-$RES
}

# engine_start ARGS...: start a primary on $DISK served at $MNT and wait
# (bounded) until the file is there.  ENGINE_PID is the process.
engine_start() {
	"$ENGINE" primary --resource "$RES" --disk "$DISK" --mount "$MNT" "$@" \
		>>"$T/engine.out" 2>&1 3>&- &
	ENGINE_PID=$!
	echo "$ENGINE_PID" >>"$T/cleanup.pids"
	echo "$MNT" >>"$T/cleanup.fuse"
	wait_for 10 engine_serving
}

engine_serving() {
	kill -0 "$ENGINE_PID" 2>/dev/null || { cat "$T/engine.out"; return 2; }
	mountpoint -q "$MNT" && [ -f "$MNT/$RES" ]
}

# A process that is gone or a zombie (ours, not yet reaped).
pid_gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	case $st in Z*) return 0 ;; esac
	return 1
}

# engine_stop [SIGNAL]: end the engine, bounded; ENGINE_RC is its status.
engine_stop() {
	kill -"${1:-TERM}" "$ENGINE_PID" 2>/dev/null || true
	wait_for 15 pid_gone "$ENGINE_PID"
	ENGINE_RC=0
	wait "$ENGINE_PID" || ENGINE_RC=$?
	# After SIGKILL the mount stays behind, disconnected.
	if mountpoint -q "$MNT" || ! stat "$MNT" >/dev/null 2>&1; then
		fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	fi
}

# engine_loop FILE: attach a loop device, recorded for teardown.
engine_loop() {
	LOOP=$(losetup -f --show "$1")
	echo "$LOOP" >>"$T/cleanup.loops"
}

engine_mount() {
	mount "$1" "$2"
	echo "$2" >>"$T/cleanup.mounts"
}

# The logfiles of $RDIR in number order.
engine_logfiles() {
	ls "$RDIR" | grep -E '^log-[0-9]{9}-' | sort
}

# engine_apply_all IMG: apply every logfile in order to IMG.
engine_apply_all() {
	local f
	for f in $(engine_logfiles); do
		"$ENGINE" apply --disk "$1" --logfile "$RDIR/$f" >/dev/null || return 1
	done
}

engine_status_field() {
	sed -n "s/^$2=//p" "$1"
}

# Undo, in reverse order of setup, whatever is recorded; every step bounded.
engine_teardown() {
	local x
	[ -n "${T:-}" ] || return 0
	for x in $(tac "$T/cleanup.mounts" 2>/dev/null); do
		timeout 10 umount "$x" 2>/dev/null || umount -l "$x" 2>/dev/null || true
	done
	for x in $(tac "$T/cleanup.loops" 2>/dev/null); do
		timeout 10 losetup -d "$x" 2>/dev/null || true
	done
	for x in $(cat "$T/cleanup.pids" 2>/dev/null); do
		kill -9 "$x" 2>/dev/null || true
	done
	for x in $(sort -u "$T/cleanup.fuse" 2>/dev/null); do
		fusermount3 -uz "$x" 2>/dev/null || umount -l "$x" 2>/dev/null || true
	done
}
