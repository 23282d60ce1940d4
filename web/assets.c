/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard files as byte arrays; web/local.am generates the .inc
 * files from the sources with od(1), one "0xNN," per byte.
 */
#include <string.h>

#include "web/assets.h"

static const unsigned char index_html[] = {
#include "web/index.html.inc"
};
static const unsigned char app_js[] = {
#include "web/app.js.inc"
};
static const unsigned char style_css[] = {
#include "web/style.css.inc"
};

static const struct web_asset assets[] = {
	{ "/", "text/html; charset=utf-8", index_html, sizeof(index_html) },
	{ "/index.html", "text/html; charset=utf-8", index_html, sizeof(index_html) },
	{ "/app.js", "text/javascript; charset=utf-8", app_js, sizeof(app_js) },
	{ "/style.css", "text/css; charset=utf-8", style_css, sizeof(style_css) },
};

const struct web_asset *
web_asset_find(const char *path)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].path, path) == 0)
			return &assets[i];
	return NULL;
}
