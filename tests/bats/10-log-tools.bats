#!/usr/bin/env bats
# marsadm log-dump / log-verify on forged, cut and damaged logfiles.
# Oracles: forge-log's manifest (what was written), the committed vector,
# the documented exit codes (docs/marsadm.8, EXIT STATUS):
#   0 clean end, 2 usage, 3 missing file, 4 corrupt, 7 unfinished tail, 8 I/O.

load helpers

setup() {
	mars_common_setup
	[ -x "$FORGE_LOG" ] || fail "forge-log not built at $FORGE_LOG (run make)"
	command -v jq >/dev/null || fail "jq missing (tests/install-deps installs it)"
	T=$BATS_TEST_TMPDIR
}

# forge NAME [forge-log options]: a valid logfile $T/NAME and $T/NAME.man.
forge() {
	local name=$1
	shift
	"$FORGE_LOG" "$T/$name" --manifest "$T/$name.man" "$@"
}

size_of() { stat -c %s "$1"; }

# offset_of FILE N: file offset of record N (1-based) from the manifest.
offset_of() { sed -n "${2}p" "$1.man" | cut -d' ' -f1; }

# poke FILE OFFSET BYTE: overwrite one byte (octal escape) in place.
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# verify_both FILE: run log-verify and log-dump, assert equal exit codes,
# leave log-verify's status and output in $status / $output.
verify_both() {
	run "$MARSADM" log-dump "$1"
	local dump_status=$status
	run "$MARSADM" log-verify "$1"
	[ "$status" -eq "$dump_status" ] ||
		fail "log-dump exited $dump_status, log-verify $status for $1"
}

@test "clean logfile: log-verify exits 0 and counts every record" {
	forge a.log --records 16 --payload 4096
	run "$MARSADM" log-verify "$T/a.log"
	assert_success
	assert_output "$T/a.log: ok, end at offset $(size_of "$T/a.log"): 16 records"
}

@test "log-dump text matches the forged manifest field by field" {
	forge a.log --records 12 --payload 1000 --seed 9
	run "$MARSADM" log-dump "$T/a.log"
	assert_success
	assert_line --index 0 --regexp '^ +OFFSET +SEQ +DEV_OFFSET +LEN +STAMP +CHECKSUM +STATE$'
	# offset, seq, dev offset, length per record; every checksum ok
	diff -u <(cut -d' ' -f1-4 "$T/a.log.man") \
		<(sed -n '2,13p' <<<"$output" | awk '{print $1, $2, $3, $4}')
	[ "$(sed -n '2,13p' <<<"$output" | awk '$7 == "ok"' | wc -l)" -eq 12 ]
	assert_line --index 13 "stop: end at offset $(size_of "$T/a.log"): 12 records"
	[ "${#lines[@]}" -eq 14 ]
}

@test "log-dump --json: one record object per record, stamps exact, then the summary" {
	forge a.log --records 7 --payload 333
	run "$MARSADM" log-dump --json "$T/a.log"
	assert_success
	[ "${#lines[@]}" -eq 8 ]
	diff -u <(cat "$T/a.log.man") <(head -n 7 <<<"$output" |
		jq -r 'select(.kind == "record" and .checksum_ok) |
			"\(.offset) \(.seq) \(.dev_offset) \(.data_len) \(.stamp_ns)"')
	run jq -e --arg f "$T/a.log" '.kind == "summary" and .file == $f and
		.verdict == "ok" and .exit_code == 0 and .result == "end" and
		.reason == null and .records == 7' <<<"${lines[7]}"
	assert_success
}

@test "the committed test vector dumps exactly as its manifest says" {
	run "$MARSADM" log-dump --json "$VECTORS/basic.log"
	assert_success
	diff -u "$VECTORS/basic.manifest" <(jq -r 'select(.kind == "record") |
		"\(.offset) \(.seq) \(.dev_offset) \(.data_len) \(.stamp_ns)"' <<<"$output")
}

@test "records of 1 MiB crossing the read window verify clean" {
	forge big.log --records 6 --payload 1048576
	run "$MARSADM" log-verify "$T/big.log"
	assert_success
	assert_output --partial ": 6 records"
}

@test "empty file is a valid logfile with 0 records" {
	: >"$T/empty.log"
	verify_both "$T/empty.log"
	assert_success
	assert_output "$T/empty.log: ok, end at offset 0: 0 records (empty logfile)"
	run "$MARSADM" log-dump "$T/empty.log"
	assert_line "stop: end at offset 0: 0 records (empty logfile)"
}

@test "missing file: exit 3, names the file, hints at the path" {
	run --separate-stderr "$MARSADM" log-verify "$T/nope.log"
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[[ "$stderr" == *"marsadm: cannot open '$T/nope.log': No such file or directory"* ]]
	[[ "$stderr" == *"hint: "* ]]
	run "$MARSADM" log-dump "$T/nope.log"
	[ "$status" -eq 3 ]
}

@test "a directory: exit 2, says it is a directory" {
	run "$MARSADM" log-verify "$T"
	[ "$status" -eq 2 ]
	assert_output --partial "'$T' is a directory, not a logfile"
	run "$MARSADM" log-dump "$T"
	[ "$status" -eq 2 ]
}

@test "a character device: exit 2" {
	run "$MARSADM" log-verify /dev/null
	[ "$status" -eq 2 ]
	assert_output --partial "neither a regular file nor a block device"
}

@test "garbage: exit 4, bad magic at offset 0, not a MARS logfile" {
	head -c 5000 /dev/urandom >"$T/garbage"
	# make sure the random bytes do not start with the magic by accident
	poke "$T/garbage" 0 'X'
	verify_both "$T/garbage"
	[ "$status" -eq 4 ]
	assert_output --partial "corrupt, corrupt at offset 0 (bad-magic): 0 records"
	assert_output --partial "hint: this is not a MARS logfile"
}

@test "a text file is garbage too" {
	printf 'hello world\n' >"$T/text"
	run "$MARSADM" log-verify "$T/text"
	[ "$status" -eq 4 ]
	assert_output --partial "bad-magic"
}

@test "cut inside the last record at any point: exit 7 incomplete, earlier records intact" {
	forge a.log --records 4 --payload 1000
	local last size cut
	last=$(offset_of "$T/a.log" 4)
	size=$(size_of "$T/a.log")
	for cut in $((last + 1)) $((last + 10)) $((last + 63)) $((last + 64)) \
		   $((last + 500)) $((size - 24)) $((size - 1)); do
		cp "$T/a.log" "$T/cut"
		truncate -s "$cut" "$T/cut"
		verify_both "$T/cut"
		[ "$status" -eq 7 ] || fail "cut at $cut: exit $status: $output"
		assert_output --partial "tail, incomplete at offset $last (short): 3 records"
		assert_output --partial "ends in an unfinished record at offset $last"
	done
}

@test "cut exactly between records is a clean, shorter logfile" {
	forge a.log --records 4 --payload 1000
	truncate -s "$(offset_of "$T/a.log" 3)" "$T/a.log"
	run "$MARSADM" log-verify "$T/a.log"
	assert_success
	assert_output --partial ": 2 records"
}

@test "cut inside a 1 MiB record: exit 7" {
	forge big.log --records 3 --payload 1048576
	truncate -s $(( $(size_of "$T/big.log") - 4096 )) "$T/big.log"
	run "$MARSADM" log-verify "$T/big.log"
	[ "$status" -eq 7 ]
	assert_output --partial "incomplete at offset $(offset_of "$T/big.log" 3) (short): 2 records"
}

@test "one flipped payload byte: exit 4, bad checksum at that record, later records found" {
	forge a.log --records 5 --payload 1000
	local r3 r4
	r3=$(offset_of "$T/a.log" 3)
	r4=$(offset_of "$T/a.log" 4)
	poke "$T/a.log" $((r3 + 64 + 17)) '\377'
	verify_both "$T/a.log"
	[ "$status" -eq 4 ]
	assert_output --partial "corrupt, corrupt at offset $r3 (bad-checksum): 2 records; valid records resume at offset $r4"
	assert_output --partial "marsadm: '$T/a.log' is damaged at offset $r3: the checksum does not match"
	assert_output --partial "hint: replay applies nothing from offset $r3 on"
}

@test "damaged header fields are named: magic, version, flags, reserved" {
	forge a.log --records 3 --payload 100
	local r2 field
	r2=$(offset_of "$T/a.log" 2)
	for field in "0 bad-magic" "8 bad-version" "12 bad-flags" "52 bad-reserved"; do
		cp "$T/a.log" "$T/d.log"
		poke "$T/d.log" $((r2 + ${field% *})) '\177'
		verify_both "$T/d.log"
		[ "$status" -eq 4 ] || fail "$field: exit $status"
		assert_output --partial "corrupt at offset $r2 (${field#* })"
	done
}

@test "a damaged last record with nothing after it is still corrupt (exit 4)" {
	forge a.log --records 3 --payload 100
	poke "$T/a.log" $(( $(size_of "$T/a.log") - 30 )) 'Z'
	run "$MARSADM" log-verify "$T/a.log"
	[ "$status" -eq 4 ]
	assert_output --partial "nothing valid follows"
}

@test "validity marker never written on the last record: exit 7 torn" {
	forge u.log --records 3 --payload 100 --unmarked-last
	verify_both "$T/u.log"
	[ "$status" -eq 7 ]
	assert_output --partial "tail, torn at offset $(offset_of "$T/u.log" 3) (no-marker): 2 records; nothing valid follows"
}

@test "zeroed space after the last record (preallocation): exit 7 torn" {
	forge a.log --records 3 --payload 100
	local size
	size=$(size_of "$T/a.log")
	truncate -s $((size + 65536)) "$T/a.log"
	verify_both "$T/a.log"
	[ "$status" -eq 7 ]
	assert_output --partial "torn at offset $size (zeroed): 3 records"
}

@test "a zeroed record with valid records after it: exit 4, resume offset named" {
	forge a.log --records 4 --payload 100
	local r2 r3
	r2=$(offset_of "$T/a.log" 2)
	r3=$(offset_of "$T/a.log" 3)
	dd if=/dev/zero of="$T/a.log" bs=1 seek="$r2" count=$((r3 - r2)) conv=notrunc status=none
	verify_both "$T/a.log"
	[ "$status" -eq 4 ]
	assert_output --partial "corrupt, torn at offset $r2 (zeroed): 1 record; valid records resume at offset $r3"
}

@test "sequence not starting at 1: exit 4, sequence-forward at offset 0" {
	forge g.log --records 3 --start-seq 4
	verify_both "$T/g.log"
	[ "$status" -eq 4 ]
	assert_output --partial "sequence-gap at offset 0 (sequence-forward): 0 records; found sequence number 4, expected 1"
}

@test "two logfiles glued together: exit 4, sequence-backward where the second starts" {
	forge a.log --records 3 --payload 64
	forge b.log --records 2 --payload 64 --seed 5
	cat "$T/a.log" "$T/b.log" >"$T/ab.log"
	run "$MARSADM" log-verify --json "$T/ab.log"
	[ "$status" -eq 4 ]
	run jq -e --argjson off "$(size_of "$T/a.log")" '.verdict == "corrupt" and
		.exit_code == 4 and .result == "sequence-gap" and
		.reason == "sequence-backward" and .offset == $off and
		.records == 3 and .expected_seq == 4 and .found_seq == 1' <<<"${lines[0]}"
	assert_success
}

@test "log-verify --json reports the same verdict as the exit status" {
	forge a.log --records 3 --payload 100
	cp "$T/a.log" "$T/t.log"
	truncate -s -7 "$T/t.log"
	run --separate-stderr "$MARSADM" log-verify --json "$T/t.log"
	[ "$status" -eq 7 ]
	run jq -e '.verdict == "tail" and .exit_code == 7 and .result == "incomplete" and
		.reason == "short" and .resume_offset == null' <<<"$output"
	assert_success
}

@test "a read error is exit 8" {
	# /proc/self/mem opens as a regular file; reading offset 0 fails with EIO.
	run "$MARSADM" log-verify /proc/self/mem
	[ "$status" -eq 8 ]
	assert_output --partial "cannot read '/proc/self/mem' at offset 0"
}

@test "wrong operands and options are usage errors (exit 2)" {
	run "$MARSADM" log-verify
	[ "$status" -eq 2 ]
	assert_output --partial "usage: marsadm log-verify FILE"
	run "$MARSADM" log-dump a b
	[ "$status" -eq 2 ]
	run "$MARSADM" log-dump --dry-run "$VECTORS/basic.log"
	[ "$status" -eq 2 ]
	assert_output --partial "option '--dry-run' does not apply to 'log-dump'"
	run "$MARSADM" log-verify --frobnicate "$VECTORS/basic.log"
	[ "$status" -eq 2 ]
}

@test "the reader stays bounded: a large file verifies in bounded memory" {
	forge big.log --records 80 --payload 1048576
	# 80 MiB of logfile under a 64 MiB address-space cap: slurping the
	# file could not work, a window of two records does.
	run bash -c "ulimit -v 65536; exec '$MARSADM' log-verify '$T/big.log'"
	assert_success
	assert_output --partial ": 80 records"
}
