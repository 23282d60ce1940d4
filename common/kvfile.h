/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Status files of "key=value" lines (clusterd's .driver-status, the
 * engine's .engine-status): the one reader both marsadm and clusterd's
 * status page use.  A table says where each known key goes; unknown keys
 * are skipped (a newer writer), values are cut to their field.
 */
#ifndef MARS_COMMON_KVFILE_H
#define MARS_COMMON_KVFILE_H

#include <stddef.h>
#include <stdint.h>

#define KVFILE_MAX_BYTES	16384	/* a status file is well under 4 KiB */

enum kv_kind { KV_STR, KV_U64, KV_S64 };

struct kv_field {
	const char *key;
	enum kv_kind kind;
	size_t off, size;	/* offset in the target struct; KV_STR: buffer bytes */
	int group;		/* bit set in the result when the key is seen */
};

#define KV_S(T, k, f, g) { k, KV_STR, offsetof(T, f), sizeof(((T *)0)->f), g }
#define KV_U(T, k, f, g) { k, KV_U64, offsetof(T, f), 0, g }
#define KV_I(T, k, f, g) { k, KV_S64, offsetof(T, f), 0, g }
#define KV_COUNT(t)	(sizeof(t) / sizeof((t)[0]))

/*
 * Read @path relative to @dirfd (at most KVFILE_MAX_BYTES, no symlink
 * followed) into @base by table @t of @n fields.  Returns the group bits
 * of the keys seen, or -errno.
 */
int kvfile_load(int dirfd, const char *path, const struct kv_field *t, size_t n, void *base);

#endif /* MARS_COMMON_KVFILE_H */
