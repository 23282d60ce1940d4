/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard's static files (web/index.html, app.js, style.css),
 * compiled into clusterd at build time, so nothing is read from disk or
 * fetched from elsewhere at run time.
 */
#ifndef MARS_WEB_ASSETS_H
#define MARS_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;		/* URL path, e.g. "/app.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;			/* bytes */
};

/* The asset served at @path ("/" is index.html), NULL if none. */
const struct web_asset *web_asset_find(const char *path);

#endif /* MARS_WEB_ASSETS_H */
