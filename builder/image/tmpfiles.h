/*
 * tmpfiles.h - directories, files and symlinks that packages declare in
 * tmpfiles.d and that maintainer scripts or systemd-tmpfiles would have made:
 * parsed here (pure), made by the build (or by kiln-init under /run, /tmp).
 */
#ifndef KILN_TMPFILES_H
#define KILN_TMPFILES_H

#include "kiln.h"

enum kiln_tmpfile_kind { KILN_TMPFILE_DIR, KILN_TMPFILE_FILE, KILN_TMPFILE_SYMLINK, KILN_TMPFILE_ADJUST };

struct kiln_tmpfile {
	enum kiln_tmpfile_kind kind;
	char *path;
	int mode;		/* -1: the default (0755 dirs, 0644 files) or, for z, unchanged */
	char *user, *group;	/* NULL: root (z: unchanged) */
	char *arg;		/* file content (f, w) or symlink target (L); NULL if none */
	char *origin;		/* "PACKAGE: FILE:LINE" */
};

struct kiln_tmpfiles {
	struct kiln_tmpfile *v;
	size_t n;
	struct kiln_strv ignored;	/* lines kiln knowingly does not act on (cleanup at run time), with their origin */
};

void kiln_tmpfiles_release(struct kiln_tmpfiles *t);
static inline void kiln_tmpfiles_releasep(struct kiln_tmpfiles *t) { kiln_tmpfiles_release(t); }

/*
 * kiln_tmpfiles_parse() - append the lines of one tmpfiles.d file (@origin:
 * "PACKAGE: PATH", for messages) to @t. Made: d D v q Q (directories), f f+
 * w (files), L L+ (symlinks), z (mode and owner of a path). Listed as
 * ignored: x X r R e (cleanup and removal at run time). Anything else (device
 * nodes, copies, ACLs, attributes, specifiers, age-based tmp cleaning of
 * what kiln makes) is exit 2 naming @origin and the line.
 */
int kiln_tmpfiles_parse(struct kiln_ctx *ctx, struct kiln_tmpfiles *t, const char *text, size_t len,
			const char *origin);

#endif
