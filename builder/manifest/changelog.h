/* changelog.h - security fixes named in a Debian changelog. */
#ifndef KILN_CHANGELOG_H
#define KILN_CHANGELOG_H

#include "kiln.h"

#define KILN_CHANGELOG_MAX (64 * 1024 * 1024)	/* decompressed */

/*
 * kiln_changelog_fixes() - the CVE and DSA/DLA ids of the entries of a
 * debian/changelog text whose version is newer than @after (all when NULL)
 * and not newer than @upto (no bound when NULL). Ids are appended to @cves
 * and @advisories once each, sorted. Returns the number of entries read.
 */
int kiln_changelog_fixes(const char *text, size_t len, const char *after, const char *upto,
			 struct kiln_strv *cves, struct kiln_strv *advisories);

#endif
