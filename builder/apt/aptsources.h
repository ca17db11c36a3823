/* aptsources.h - the host's apt sources (deb822 .sources and one-line .list files). */
#ifndef KILN_APTSOURCES_H
#define KILN_APTSOURCES_H

#include "kiln.h"

struct kiln_apt_entry {
	char *file;		/* where it was read, for messages */
	int line;
	char *uri;		/* without a trailing '/' */
	struct kiln_strv suites;
	struct kiln_strv components;
	struct kiln_strv keyrings;	/* Signed-By paths (or the trusted.gpg.d defaults) */
	char *inline_key;	/* Signed-By given as an armored key block, else NULL */
};

struct kiln_apt_sources {
	struct kiln_apt_entry *entries;
	size_t n;
};

/*
 * kiln_apt_sources_load() - read the apt sources below @root ("/" normally)
 * Reads etc/apt/sources.list, etc/apt/sources.list.d/ *.list and *.sources in
 * name order; "deb" entries only, disabled ones skipped. Returns 0 and fills
 * @ret (release with kiln_apt_sources_release()), or -1 with an error on @ctx.
 */
int kiln_apt_sources_load(struct kiln_ctx *ctx, const char *root, struct kiln_apt_sources *ret);

/* Parsers of one file's text, appending to @s; exposed for tests and fuzzing. */
int kiln_apt_sources_parse_deb822(struct kiln_ctx *ctx, const char *root, const char *file,
				  const char *data, size_t len, struct kiln_apt_sources *s);
int kiln_apt_sources_parse_list(struct kiln_ctx *ctx, const char *root, const char *file,
				const char *data, size_t len, struct kiln_apt_sources *s);

void kiln_apt_sources_release(struct kiln_apt_sources *s);

#endif
