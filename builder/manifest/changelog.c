/* changelog.c - read "pkg (version) dist; urgency=..." entries and the ids they mention. */
#define _GNU_SOURCE
#include "changelog.h"
#include "solve.h"

#include <ctype.h>
#include <string.h>

/* "name (version) ..." at the start of a line: the version, or NULL. */
static char *
header_version(const char *l, size_t n)
{
	const char *open, *close;

	if (!n || !(islower((unsigned char)l[0]) || isdigit((unsigned char)l[0])))
		return NULL;
	open = memchr(l, ' ', n);
	if (!open || (size_t)(open - l) + 2 >= n || open[1] != '(')
		return NULL;
	for (const char *c = l; c < open; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr("+-.", *c)))
			return NULL;
	close = memchr(open, ')', n - (open - l));
	if (!close || close == open + 2 || memchr(open + 2, ' ', close - open - 2))
		return NULL;
	return kiln_strndup(open + 2, close - open - 2);
}

static size_t
digits(const char *s, const char *end)
{
	size_t n = 0;

	while (s + n < end && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

static void
scan_ids(const char *l, size_t n, struct kiln_strv *cves, struct kiln_strv *advisories)
{
	const char *end = l + n;

	for (const char *p = l; p + 8 < end; p++) {
		size_t a, b;

		if (p > l && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		if (memcmp(p, "CVE-", 4) == 0 && (a = digits(p + 4, end)) == 4 && p + 9 < end && p[8] == '-' &&
		    (b = digits(p + 9, end)) >= 4 && b <= 7) {
			_cleanup_free_ char *id = kiln_strndup(p, 9 + b);

			if (!kiln_strv_contains(cves, id))
				kiln_strv_push(cves, id);
		} else if ((memcmp(p, "DSA-", 4) == 0 || memcmp(p, "DLA-", 4) == 0) &&
			   (a = digits(p + 4, end)) >= 1 && a <= 6) {
			size_t len = 4 + a;
			_cleanup_free_ char *id = NULL;

			if (p + len + 1 < end && p[len] == '-' && (b = digits(p + len + 1, end)) >= 1 && b <= 3)
				len += 1 + b;
			id = kiln_strndup(p, len);
			if (!kiln_strv_contains(advisories, id))
				kiln_strv_push(advisories, id);
		}
	}
}

int
kiln_changelog_fixes(const char *text, size_t len, const char *after, const char *upto,
		     struct kiln_strv *cves, struct kiln_strv *advisories)
{
	const char *p = text, *end = text + len;
	int entries = 0, take = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;
		char *v = header_version(p, n);

		if (v) {
			entries++;
			take = (!after || kiln_deb_version_cmp(v, after) > 0) && (!upto || kiln_deb_version_cmp(v, upto) <= 0);
			free(v);
		} else if (take) {
			scan_ids(p, n, cves, advisories);
		}
		p = nl ? nl + 1 : end;
	}
	kiln_strv_sort(cves);
	kiln_strv_sort(advisories);
	return entries;
}
