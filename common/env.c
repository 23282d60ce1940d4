/* SPDX-License-Identifier: GPL-2.0-only */
/* Environment overrides (env.h). */
#include <stdlib.h>

#include "common/env.h"

const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}
