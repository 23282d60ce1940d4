# Helpers for the `marsadm view` suites (21, 26), loaded after
# helpers.bash; it loads repl.bash (and so state.bash) for vlink and the
# like.  All nodes share one root, as several nodes on one machine would;
# what the daemons and peers would write is planted with set-link as
# those hosts, logfiles as plain files.  The resource is r0.

load repl

# as HOST marsadm ARGS...
as() {
	local host=$1
	shift
	MARS_HOST=$host "$MARSADM" "$@"
}

# report_in HOST [attached] [primary]: HOST's daemon reports in, optionally
# with its device attached and as actual primary of r0.
report_in() {
	as "$1" set-link "$(date +%s.%N)" "actual-$1/time" >/dev/null
	as "$1" set-link "${2:-0}" "resource-r0/actual-$1/is-attached" >/dev/null
	as "$1" set-link "${3:-0}" "resource-r0/actual-$1/is-primary" >/dev/null
}

# join_beta: beta becomes a synced secondary of r0 with all switches on.
join_beta() {
	local sw
	as beta set-link "$(disk disk-beta 1M)" resource-r0/data-beta
	as beta set-link r0 resource-r0/device-beta
	as beta set-link 1048576 resource-r0/syncstatus-beta
	as beta set-link log-000000001-alpha,0,0 resource-r0/replay-beta
	for sw in attach connect sync allow-replay; do
		as beta set-link 1 "resource-r0/todo-beta/$sw"
	done
}

# logfile NR ORIGIN BYTES: a local logfile of that size.
logfile() {
	truncate -s "$3" "$MARS_ROOT/resource-r0/log-$1-$2"
}
