/* release.h - a Debian Release file (the signed text of InRelease). */
#ifndef KILN_RELEASE_H
#define KILN_RELEASE_H

#include "kiln.h"

#define KILN_INRELEASE_MAX (16 * 1024 * 1024)

struct kiln_release_file {
	char *path;		/* e.g. "main/binary-amd64/Packages.xz" */
	uint64_t size;
	char sha256[65];
};

struct kiln_release {
	char *origin, *label, *suite, *codename;
	time_t date;
	int has_valid_until;
	time_t valid_until;
	int acquire_by_hash;
	struct kiln_release_file *files;	/* from the SHA256 field */
	size_t n_files;
};

/*
 * kiln_release_parse() - parse the (already verified) text of a Release file
 * Requires Date and a SHA256 list. Returns 0 and fills @ret (release with
 * kiln_release_release()), or -1 with an error naming @what on @ctx.
 */
int kiln_release_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		       struct kiln_release *ret);
void kiln_release_release(struct kiln_release *r);

/* The entry for @path, or NULL; borrowed from @r. */
const struct kiln_release_file *kiln_release_find(const struct kiln_release *r, const char *path);

#endif
