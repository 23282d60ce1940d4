#!/usr/bin/env bats
# Not a test suite: the guest half of bench/kmod-repl-latency.sh.  Does
# the application on mars.ko's primary notice the network?  The cluster
# of guest-cluster.bash (alpha: clusterd on the module, beta: the
# userspace engine), r0 replicated to beta, then fio 4 KiB random writes
# with fsync on alpha's /dev/mars/r0 while beta's link is healthy,
# slowed by tc netem in this guest's kernel (50 ms each way, 1% loss
# each way) and cut, the conditions interleaved over rounds.  Prints one
# line per round and condition to the TAP stream:
#   # lat COND ROUND W50 W99 F50 F99 IOPS HEAL_MS
# (write and fsync latency percentiles in µs; HEAL_MS: how long beta
# took to catch up once the condition ended).
# MARS_BENCH_RUNTIME (seconds per fio run, default 5) and
# MARS_BENCH_ROUNDS (default 3) size the run.

load guest-helpers

STATE=/tmp/marsvm-bench-repl
NETNS_ID=mbvm
RES=r0
DISK_MB=96
ROTATE_SIZE=16M
BOUND=300

load guest-cluster

teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || gcluster_dump
}

teardown_file() {
	gcluster_down
}

cond_on() {
	case $1 in
	slowed)
		netns_exec beta tc qdisc add dev eth0 root netem delay 50ms loss 1% ||
			fail "tc netem on beta"
		ip netns exec "$(netns_bridge)" tc qdisc add dev "v$(netns_index beta)" root \
			netem delay 50ms loss 1% || fail "tc netem on the bridge"
		;;
	cut) netns_link beta down ;;
	esac
}

cond_off() {
	case $1 in
	slowed)
		netns_exec beta tc qdisc del dev eth0 root
		ip netns exec "$(netns_bridge)" tc qdisc del dev "v$(netns_index beta)" root
		;;
	cut) netns_link beta up ;;
	esac
}

# fio_lat: one fio run on alpha's device; prints "W50 W99 F50 F99 IOPS".
fio_lat() {
	local rt=${MARS_BENCH_RUNTIME:-5}
	timeout $((rt + 120)) fio --name=lat --filename="$(dev alpha)" --rw=randwrite \
		--bs=4k --ioengine=psync --direct=1 --fsync=1 --offset=0 --size=64M \
		--time_based --runtime="$rt" --randrepeat=0 --output-format=json |
		jq -r '.jobs[0] | [((.write.clat_ns.percentile["50.000000"],
			.write.clat_ns.percentile["99.000000"],
			.sync.lat_ns.percentile["50.000000"],
			.sync.lat_ns.percentile["99.000000"]) / 1000 | floor),
			(.write.iops | floor)] | @tsv'
}

@test "primary write latency on mars.ko: link healthy, slowed, cut" {
	local round cond lat t0
	guest_require_fio
	command -v jq >/dev/null || fail "jq missing"
	modprobe sch_netem || fail "modprobe sch_netem"
	gcluster_up
	run marsadm_on alpha create-resource "$RES" "$(alpha_loop)"
	assert_success
	wait_for 60 is_primary alpha
	replica_join beta
	wait_for "$BOUND" synced beta
	wait_for 60 caught_up beta alpha
	for round in $(seq 1 "${MARS_BENCH_ROUNDS:-3}"); do
		for cond in healthy slowed cut; do
			cond_on "$cond"
			lat=$(fio_lat) || { cond_off "$cond"; fail "fio ($cond)"; }
			[ -n "$lat" ] || { cond_off "$cond"; fail "fio ($cond) gave no numbers"; }
			cond_off "$cond"
			t0=$(date +%s%N)
			wait_for "$BOUND" caught_up beta alpha
			echo "# lat $cond $round $lat $((($(date +%s%N) - t0) / 1000000))" >&3
		done
	done
	ctl status "$RES" | sed 's/^/# status /' >&3
}
