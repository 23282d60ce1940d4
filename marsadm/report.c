/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command layer's one way to talk to the operator: errors and hints on
 * stderr with a fixed prefix, results on stdout (text or one JSON object
 * per line).  Keeping it here keeps the message format uniform, which the
 * bats tests and people's scripts rely on.
 */
#include "marsadm/marsadm.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <json-c/json.h>

static void
vreport(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("marsadm: ", fmt, ap);
	va_end(ap);
	return -1;
}

int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("marsadm: ", fmt, ap);
	va_end(ap);
	return code;
}

void
warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("marsadm: warning: ", fmt, ap);
	va_end(ap);
}

void
hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("hint: ", fmt, ap);
	va_end(ap);
}

void
note(const struct marsadm_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (ctx->verbose < level)
		return;
	va_start(ap, fmt);
	vreport("marsadm: ", fmt, ap);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("marsadm: ", fmt, ap);
	va_end(ap);
	exit(code);
}

int
usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("marsadm: ", fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: marsadm %s%s%s\n", cmd->name,
		cmd->usage && *cmd->usage ? " " : "", cmd->usage ? cmd->usage : "");
	return MX_USAGE;
}

int
print_json(struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = MX_OK;

	if (puts(s) == EOF)
		ret = fail(MX_IO, "cannot write to standard output");
	json_object_put(obj);
	return ret;
}

int
own_opt(const char *arg, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0 || arg[n] != '=')
		return 0;
	*val = arg + n + 1;
	return 1;
}
