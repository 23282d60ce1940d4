#!/usr/bin/env bats
# Emergency mode (docs/engine.md, docs/replication.md): when the primary's
# /mars runs short of space it stops logging instead of failing the
# application, leaves a hole in the history so that no secondary replays
# across the unlogged writes, and the secondary - consistent but behind -
# says it is an orphan until `invalidate` resyncs it.  Hosts in network
# namespaces with real sshd; alpha's /mars is a 64 MiB tmpfs.

load helpers
load replica

teardown() {
	replica_teardown
}

emergency() {	# emergency HOST 0|1
	[ "$(val "$1" "actual-$1/is-emergency")" = "$2" ]
}

driver_says() {	# driver_says HOST TEXT: HOST's replication driver explains TEXT
	grep -q "$2" "$(netns_root "$1")/resource-$RES/.driver-status" 2>/dev/null
}

# own_logs_finished HOST: in emergency mode nothing is being written, so
# every logfile of HOST is finished: no preallocated zeros after its last
# record (docs/logfile-format.md 1.1), and the version link of each one
# but the newest (the one it logs to again later) is closed at its size.
own_logs_finished() {
	local f nr newest len
	newest=$(ls "$(netns_root "$1")/resource-$RES"/log-*-"$1" | sort | tail -n 1)
	for f in "$(netns_root "$1")/resource-$RES"/log-*-"$1"; do
		"$MARSADM" log-verify "$f" >/dev/null ||
			{ echo "$f does not end at its last record"; return 1; }
		[ "$f" = "$newest" ] && continue
		nr=$(basename "$f" | cut -d- -f2)
		len=$(val "$1" "version-$nr-$1" | cut -d: -f1 | cut -d, -f3)
		[ "$len" = "$(size_of "$f")" ] ||
			{ echo "version-$nr-$1 says $len, $f holds $(size_of "$f")"; return 1; }
	done
}

@test "emergency: a full /mars stops logging, not the application; invalidate resyncs" {
	SMALL_ROOT=64M
	CLUSTERD_TEST_OPTS="$CLUSTERD_TEST_OPTS --cron-ms 1000 --emergency-free 24M"
	replica_up alpha beta
	netns_link beta down		# beta away: nothing can be deleted
	fs_mount alpha mkfs
	local i sum
	for i in $(seq 1 12); do
		emergency alpha 1 && break
		write_files alpha 6 1024
		rm -f "$(mnt alpha)"/f*
		sync -f "$(mnt alpha)"
	done
	wait_for 20 emergency alpha 1
	# The application does not notice: it writes, and the data is on disk.
	write_files alpha 4 1024
	sum=$(cat "$(mnt alpha)"/f* | md5sum)
	fs_umount alpha
	fs_mount alpha
	[ "$(cat "$(mnt alpha)"/f* | md5sum)" = "$sum" ]
	fs_umount alpha
	grep -q "EMERGENCY MODE" "$NETNS_DIR/alpha/run/engine-$RES.log"
	wait_for 20 own_logs_finished alpha

	# beta comes back: it replays what was logged and then is an orphan.
	netns_link beta up
	wait_for 60 driver_says beta Orphan
	run marsadm_on beta invalidate "$RES"
	assert_success
	wait_for 90 synced beta
	# With beta past the hole, the old logfiles go and alpha logs again.
	wait_for 60 emergency alpha 0
	fs_mount alpha
	write_files alpha 2
	[ "$(cat "$(mnt alpha)"/f* | head -c 0; ls "$(mnt alpha)" | grep -c '^f')" -ge 6 ]
	fs_umount alpha
	wait_same alpha beta 90
}
