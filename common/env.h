/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Settings that the environment may override (STYLE rule 13: every path
 * and identity can be overridden), read one way everywhere: a variable
 * that is set but empty counts as unset.
 */
#ifndef MARS_COMMON_ENV_H
#define MARS_COMMON_ENV_H

/* The value of @name if set and not empty, else @dflt. */
const char *env_or(const char *name, const char *dflt);

#endif /* MARS_COMMON_ENV_H */
