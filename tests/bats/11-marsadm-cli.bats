#!/usr/bin/env bats
# The marsadm framework: command table, option handling, help, version,
# exit-code table, man page and bash completion staying in step with the
# binary.  Command families test their own commands elsewhere.

load helpers

setup() {
	mars_common_setup
	MAN=$MARS_SRCDIR/docs/marsadm.8
	EXITCODES_H=$MARS_SRCDIR/marsadm/exitcodes.h
	COMPLETION=$MARS_SRCDIR/marsadm/bash-completion/marsadm
	[ -f "$MAN" ] || fail "man page missing at $MAN"
}

@test "no command: usage on stderr, exit 2" {
	run --separate-stderr "$MARSADM"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"usage: marsadm [OPTIONS] COMMAND [OPERANDS]"* ]]
}

@test "unknown command: exit 2, named, with a hint" {
	run "$MARSADM" frobnicate
	[ "$status" -eq 2 ]
	assert_line "marsadm: 'frobnicate' is not a marsadm command"
	assert_line --partial "hint: run 'marsadm help'"
}

@test "unknown global option: exit 2" {
	run "$MARSADM" --frobnicate help
	[ "$status" -eq 2 ]
	assert_line "marsadm: unknown option '--frobnicate'"
}

@test "--version prints the version from configure.ac" {
	local v
	v=$(sed -n 's/^AC_INIT(\[mars\], \[\([^]]*\)\].*/\1/p' "$MARS_SRCDIR/configure.ac")
	[ -n "$v" ]
	run "$MARSADM" --version
	assert_success
	assert_output "marsadm (MARS) $v"
}

@test "help lists every command with its one-line help" {
	run "$MARSADM" help
	assert_success
	local cmd
	for cmd in $("$MARSADM" help --commands); do
		assert_line --regexp "^  $cmd( |$)"
	done
	assert_line --partial "--root=DIR"
}

@test "help COMMAND shows usage for every command; --help after a command too" {
	local cmd
	for cmd in $("$MARSADM" help --commands); do
		run "$MARSADM" help "$cmd"
		assert_success
		assert_line --index 0 --regexp "^usage: marsadm $cmd( |$)"
		run "$MARSADM" "$cmd" --help
		assert_success
		assert_line --index 0 --regexp "^usage: marsadm $cmd( |$)"
	done
}

@test "help for an unknown command: exit 2" {
	run "$MARSADM" help frobnicate
	[ "$status" -eq 2 ]
	run "$MARSADM" help --frobnicate
	[ "$status" -eq 2 ]
}

@test "every command of 'marsadm help' is in the man page, and no other" {
	local cmd documented
	for cmd in $("$MARSADM" help --commands); do
		sed 's/\\-/-/g' "$MAN" | grep -Eq "^\.BI? \"?$cmd( |\"|$)" ||
			fail "command '$cmd' is not documented in docs/marsadm.8"
	done
	# the terms of the COMMANDS section: the line after each .TP
	documented=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$MAN" | sed 's/\\-/-/g' |
		awk 'tp { gsub(/"/, ""); print $2; tp = 0 } /^\.TP/ { tp = 1 }')
	[ -n "$documented" ]
	for cmd in $documented; do
		"$MARSADM" help "$cmd" >/dev/null 2>&1 ||
			fail "docs/marsadm.8 documents '$cmd', which marsadm does not know"
	done
}

@test "exit codes: header, 'help --exit-codes' and the man page agree" {
	local code name desc hdr
	run "$MARSADM" help --exit-codes
	assert_success
	[ "${#lines[@]}" -ge 10 ]
	while read -r code name desc; do
		grep -qxF ".BR $code \" ($name)\"" "$MAN" ||
			fail "exit code $code ($name) missing from EXIT STATUS in docs/marsadm.8"
		hdr=$(sed -n "s/^\tMX_[A-Z]* = \([0-9]*\),.*/\1/p" "$EXITCODES_H" | grep -cx "$code")
		[ "$hdr" -eq 1 ] || fail "exit code $code not once in marsadm/exitcodes.h"
	done <<<"$output"
	[ "$(grep -c '^\.BR [0-9]* " (' "$MAN")" -eq "${#lines[@]}" ] ||
		fail "docs/marsadm.8 lists a different number of exit codes"
}

@test "the man page renders without groff warnings" {
	command -v groff >/dev/null || fail "groff missing (apt-get install groff-base)"
	run --separate-stderr groff -man -Tascii -ww -z "$MAN"
	assert_success
	[ -z "$stderr" ] || fail "groff: $stderr"
}

@test "global options work before the command and among its operands" {
	local a b c
	a=$("$MARSADM" --json log-verify "$VECTORS/basic.log")
	b=$("$MARSADM" log-verify --json "$VECTORS/basic.log")
	c=$("$MARSADM" log-verify "$VECTORS/basic.log" --json)
	[ "$a" = "$b" ] && [ "$b" = "$c" ]
	[[ "$a" == "{"* ]]
}

@test "'--' ends the options: a file named --json is an operand" {
	cp "$VECTORS/basic.log" "$BATS_TEST_TMPDIR/--json"
	cd "$BATS_TEST_TMPDIR"
	run "$MARSADM" log-verify -- --json
	assert_success
	assert_output --partial "--json: ok"
}

@test "option arguments are checked: missing, empty, out of range" {
	run "$MARSADM" help --root
	[ "$status" -eq 2 ]
	run "$MARSADM" --root= help
	[ "$status" -eq 2 ]
	assert_output --partial "needs a non-empty DIR"
	run "$MARSADM" --timeout=abc help
	[ "$status" -eq 2 ]
	run "$MARSADM" --timeout=-2 help
	[ "$status" -eq 2 ]
	run "$MARSADM" --json=1 help
	[ "$status" -eq 2 ]
	assert_output --partial "takes no argument"
}

@test "an option a command does not take is refused, not ignored" {
	run "$MARSADM" help --json
	[ "$status" -eq 2 ]
	run "$MARSADM" --force log-verify "$VECTORS/basic.log"
	[ "$status" -eq 2 ]
	assert_output --partial "option '--force' does not apply to 'log-verify'"
}

@test "standard output that cannot be written is exit 8" {
	[ -w /dev/full ] || fail "/dev/full missing"
	run bash -c "'$MARSADM' help >/dev/full"
	[ "$status" -eq 8 ]
	assert_output --partial "cannot write to standard output"
}

# complete WORDS...: run the completion function as bash would for the
# last word; prints COMPREPLY one per line.
complete_words() {
	PATH="$(dirname "$MARSADM"):$PATH" bash -c '
		source "$0"
		COMP_WORDS=("${@}")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		_marsadm
		printf "%s\n" "${COMPREPLY[@]}"' "$COMPLETION" marsadm "$@"
}

@test "bash completion: commands, options, files, help topics" {
	run complete_words log-
	assert_success
	assert_line log-dump
	assert_line log-verify
	run complete_words --js
	assert_output "--json"
	run complete_words --root /tmp help l
	assert_line log-dump
	touch "$BATS_TEST_TMPDIR/some.log"
	run complete_words log-dump "$BATS_TEST_TMPDIR/so"
	assert_output "$BATS_TEST_TMPDIR/some.log"
}

@test "bash completion: a setting's words and its own option" {
	run complete_words set-compress r0 ""
	assert_success
	assert_output "$(printf 'auto\nzstd\nnone\nclear')"
	run complete_words set-fetch-bwlimit r0 c
	assert_output "clear"
	run complete_words set-fetch-priority r0 100 --this
	assert_output "--this-node"
}

@test "bash completion offers every command marsadm lists" {
	diff -u <("$MARSADM" help --commands | sort) <(complete_words "" | sort)
}
