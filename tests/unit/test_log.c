/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log_escape(): what a peer chose reaches the journal visible, on one
 * line, and bounded.
 */
#include <string.h>

#include "common/log.h"
#include "tap.h"

static void
check(const char *in, size_t buflen, const char *want, const char *what)
{
	char buf[LOG_ESC_BYTES];

	log_escape(buf, buflen, in);
	tap_ok(strcmp(buf, want) == 0, "%s: got '%s'", what, buf);
}

int
main(void)
{
	char big[1000], buf[LOG_ESC_BYTES];

	check("resource-r0/data-beta", sizeof(buf), "resource-r0/data-beta", "plain text kept");
	check("a\nclusterd: warn: forged", sizeof(buf), "a\\x0aclusterd: warn: forged",
	      "a newline cannot start a forged line");
	check("\x1b[2Jx\r", sizeof(buf), "\\x1b[2Jx\\x0d", "terminal escapes shown as bytes");
	check("C:\\x0a", sizeof(buf), "C:\\x5cx0a", "a backslash is escaped, so escapes are unambiguous");
	check("\xc3\xa9\x7f", sizeof(buf), "\\xc3\\xa9\\x7f", "bytes above 0x7e escaped");
	check("abcdefghij", 8, "abcd...", "cut with dots when it does not fit");
	check("abcdefg", 8, "abcdefg", "a string that fits exactly is not cut");
	check("\n\n\n", 8, "\\x0a...", "an escape is never cut in half");
	check("", sizeof(buf), "", "empty string");
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_escape(buf, sizeof(buf), big);
	tap_ok(strlen(buf) < sizeof(buf) && strcmp(buf + strlen(buf) - 3, "...") == 0,
	       "a long string is bounded by the buffer (%zu bytes)", strlen(buf));
	tap_ok(log_escape(buf, 4, "abc") == buf && buf[0] == '\0',
	       "a buffer too small for one escape gets the empty string");
	return tap_done();
}
