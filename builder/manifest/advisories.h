/* advisories.h - security advisory feeds: OSV records or the Debian security tracker's JSON. */
#ifndef KILN_ADVISORIES_H
#define KILN_ADVISORIES_H

#include "kiln.h"

#define KILN_ADVISORIES_MAX ((size_t)512 * 1024 * 1024)

struct kiln_advisory {
	char *package;		/* Debian source package name */
	char *release;		/* "bookworm", or NULL for any (OSV "Debian" ecosystems name it too) */
	char *fixed;		/* the first fixed version */
	struct kiln_strv ids;	/* CVE-…, DSA-…, DLA-… */
};

struct kiln_advisories {
	struct kiln_advisory *v;
	size_t n;
};

/*
 * kiln_advisories_parse() - read a feed: one OSV record, a JSON array of
 * them, or the tracker's {SOURCE: {CVE: {releases: {CODENAME: {status,
 * fixed_version}}}}}. Exit 2 naming @what for anything else.
 */
int kiln_advisories_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
			  struct kiln_advisories *ret);
int kiln_advisories_load(struct kiln_ctx *ctx, const char *path, struct kiln_advisories *ret);
void kiln_advisories_release(struct kiln_advisories *a);

#endif
