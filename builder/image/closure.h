/* closure.h - which files of the image an application needs: the file-level closure ([Packages] Closure=files). */
#ifndef KILN_CLOSURE_H
#define KILN_CLOSURE_H

#include "kiln.h"
#include "elffile.h"
#include "pkgarchive.h"

/* One entry of the image, as the closure sees it. */
struct kiln_closure_node {
	const char *path;	/* absolute, normalized (merged /usr) */
	enum kiln_entry_type type;	/* KILN_ENT_FILE, _DIR, _SYMLINK or _CHAR */
	const char *link;	/* a symlink's target, as written */
	const char *pkg;	/* the package that shipped it, "" for what kiln made */
	const struct kiln_elf *elf;	/* a parsed ELF file's needs, else NULL */
	const char *script;	/* a script's "#!" interpreter, else NULL */
	int root;		/* kept whatever the closure finds (made or set by kiln, an unreadable ELF file) */
	int keep;		/* out: in the image */
};

struct kiln_closure_opts {
	const struct kiln_strv *programs;	/* what runs: Cmd=, ExecStartPre=, FirstBoot= (absolute paths) */
	const struct kiln_strv *keep;	/* Keep= patterns (fnmatch, '*' crosses '/'); a matched directory keeps its tree */
	const struct kiln_strv *install;	/* Install= packages: all their files but documentation are kept */
	const struct kiln_strv *libdirs;	/* the image's ld.so.conf directories, in order */
};

/*
 * kiln_closure_run() - mark what the image keeps
 * Starting from @opts' programs, patterns and packages, every root node and
 * everything kiln made, follows symlinks (every one on the way to a target),
 * ELF interpreters and DT_NEEDED libraries (RUNPATH or RPATH with $ORIGIN,
 * then @opts->libdirs, then the default directories), script interpreters,
 * and keeps a kept package's /etc files and empty directories (what it
 * ships for the program to write into) and every kept entry's directories.
 * Appends a warning to @warnings for each Keep= pattern that matches nothing
 * and each script whose interpreter is missing. Returns 0, or -1 with one
 * error (exit 2) when a kept ELF file needs a library or loader that no
 * package provides, or a program is not in the image.
 */
int kiln_closure_run(struct kiln_ctx *ctx, struct kiln_closure_node *nodes, size_t n,
		     const struct kiln_closure_opts *opts, struct kiln_strv *warnings);

/* Is @path documentation (left out of even an Install= package's files)? */
int kiln_closure_is_doc(const char *path);

#endif
