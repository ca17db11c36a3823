/* closure.c - the file-level closure: from what runs to every file it needs, by symlinks, ELF loaders and libraries. */
#define _GNU_SOURCE
#include "closure.h"

#include <fnmatch.h>
#include <string.h>

#define SYMLINK_HOPS 40		/* as the kernel's path walk allows */

/* Where the dynamic loader looks when RUNPATH and its cache say nothing (Debian's multiarch first). */
static const char *const default_libdirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

static const char *const doc_dirs[] = {
	"/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/", "/usr/share/bug/",
	"/usr/share/doc-base/",
};

struct cl {
	struct kiln_closure_node *nodes;
	size_t n;
	struct kiln_strmap index;	/* path -> node */
	size_t *queue;
	size_t nq;
	size_t marked;		/* nodes marked so far */
};

int
kiln_closure_is_doc(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(doc_dirs); i++)
		if (kiln_startswith(path, doc_dirs[i]))
			return 1;
	return 0;
}

static void mark(struct cl *cl, size_t i);

static void
mark_one(struct cl *cl, size_t i)
{
	if (cl->nodes[i].keep)
		return;
	cl->nodes[i].keep = 1;
	cl->queue[cl->nq++] = i;
	cl->marked++;
}

/* Keeps node @i and the directories above it. */
static void
mark(struct cl *cl, size_t i)
{
	_cleanup_free_ char *p = NULL;
	size_t d;

	if (cl->nodes[i].keep)
		return;
	mark_one(cl, i);
	p = kiln_strdup(cl->nodes[i].path);
	for (char *s = strrchr(p, '/'); s && s != p; s = strrchr(p, '/')) {
		*s = '\0';
		if (kiln_strmap_get(&cl->index, p, &d)) {
			if (cl->nodes[d].keep)
				break;
			mark_one(cl, d);
		}
	}
}

/*
 * What @path names in the image, resolved as the kernel walks a path: each
 * component in turn, symlinks followed where they stand (and each one kept
 * on the way when @keep), ".." from the directory reached so far. The
 * node's index, or -1 (missing, the root, a loop).
 */
static ssize_t
resolve(struct cl *cl, const char *path, int keep)
{
	_cleanup_free_ char *rest = kiln_strdup(path);
	struct kiln_buf cur = { 0 };	/* the resolved directory so far, "" for the root */
	const char *p = rest;
	int hops = 0, missing = 0;
	size_t i = 0;

	kiln_buf_add(&cur, "", 0);
	for (;;) {
		const char *e;
		size_t n, len = cur.len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(cur.data, '/');

			if (slash) {
				cur.len = (size_t)(slash - cur.data);
				cur.data[cur.len] = '\0';
			}
			p = e;
			continue;
		}
		kiln_buf_add(&cur, "/", 1);
		kiln_buf_add(&cur, p, n);
		if (!kiln_strmap_get(&cl->index, cur.data, &i)) {
			missing = 1;
			break;
		}
		if (cl->nodes[i].type == KILN_ENT_SYMLINK && cl->nodes[i].link) {
			const char *link = cl->nodes[i].link;
			char *next;

			if (++hops > SYMLINK_HOPS) {
				missing = 1;
				break;
			}
			if (keep)
				mark(cl, i);
			cur.len = link[0] == '/' ? 0 : len;	/* from the root, or from the link's directory */
			cur.data[cur.len] = '\0';
			next = kiln_asprintf("%s%s", link, e);
			free(rest);
			rest = next;
			p = rest;
			continue;
		}
		if (*e && cl->nodes[i].type != KILN_ENT_DIR) {	/* a file used as a directory */
			missing = 1;
			break;
		}
		p = e;
	}
	if (!missing && (!cur.len || !kiln_strmap_get(&cl->index, cur.data, &i)))
		missing = 1;
	kiln_buf_release(&cur);
	return missing ? -1 : (ssize_t)i;
}

/* A library @name for the ELF file @nd: RUNPATH/RPATH, the image's ld.so.conf, the defaults. */
static ssize_t
find_library(struct cl *cl, const struct kiln_closure_node *nd, const char *name, const struct kiln_strv *libdirs)
{
	_cleanup_free_ char *origin = kiln_strdup(nd->path);
	const struct kiln_strv *lists[] = { &nd->elf->runpath, libdirs };
	ssize_t r;

	if (strchr(name, '/'))	/* a path, which the loader opens as it is */
		return resolve(cl, name, 0) >= 0 ? resolve(cl, name, 1) : -1;
	*strrchr(origin, '/') = '\0';
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; lists[l] && i < lists[l]->n; i++) {
			const char *dir = lists[l]->v[i];
			_cleanup_free_ char *cand = NULL;

			if (kiln_startswith(dir, "$ORIGIN") || kiln_startswith(dir, "${ORIGIN}"))
				cand = kiln_asprintf("%s%s/%s", origin, dir + (dir[1] == '{' ? 9 : 7), name);
			else if (dir[0] == '/')
				cand = kiln_asprintf("%s/%s", dir, name);
			else
				continue;	/* relative, or $LIB and $PLATFORM: not followed */
			r = resolve(cl, cand, 0);
			if (r >= 0 && cl->nodes[r].type == KILN_ENT_FILE)
				return resolve(cl, cand, 1);
		}
	for (size_t i = 0; i < ARRAY_SIZE(default_libdirs); i++) {
		_cleanup_free_ char *cand = kiln_asprintf("%s/%s", default_libdirs[i], name);

		r = resolve(cl, cand, 0);
		if (r >= 0 && cl->nodes[r].type == KILN_ENT_FILE)
			return resolve(cl, cand, 1);
	}
	return -1;
}

static const char *
owner(const struct kiln_closure_node *nd)
{
	return *nd->pkg ? nd->pkg : "kiln";
}

/* What node @i needs, kept in turn. */
static int
follow(struct kiln_ctx *ctx, struct cl *cl, size_t i, const struct kiln_closure_opts *o, struct kiln_strv *warnings)
{
	const struct kiln_closure_node *nd = &cl->nodes[i];
	ssize_t r;

	if (nd->type == KILN_ENT_SYMLINK && nd->link) {
		_cleanup_free_ char *dir = kiln_strdup(nd->path);
		_cleanup_free_ char *t = NULL;

		*strrchr(dir, '/') = '\0';
		t = nd->link[0] == '/' ? kiln_strdup(nd->link) : kiln_asprintf("%s/%s", dir, nd->link);
		r = resolve(cl, t, 1);	/* a dangling link stays dangling */
		if (r >= 0)
			mark(cl, (size_t)r);
		return 0;
	}
	if (nd->type != KILN_ENT_FILE)
		return 0;
	if (nd->elf) {
		if (nd->elf->interp) {
			r = resolve(cl, nd->elf->interp, 1);
			if (r < 0)
				return kiln_error(ctx, KILN_EXIT_USAGE,
						  "'%s' (package '%s') needs the loader '%s', which no package of the image provides",
						  nd->path, owner(nd), nd->elf->interp);
			mark(cl, (size_t)r);
		}
		for (size_t k = 0; k < nd->elf->needed.n; k++) {
			r = find_library(cl, nd, nd->elf->needed.v[k], o->libdirs);
			if (r < 0)
				return kiln_error(ctx, KILN_EXIT_USAGE,
						  "'%s' (package '%s') needs the library '%s', which no package of the image provides",
						  nd->path, owner(nd), nd->elf->needed.v[k]);
			mark(cl, (size_t)r);
		}
	}
	if (nd->script) {
		r = resolve(cl, nd->script, 1);
		if (r >= 0)
			mark(cl, (size_t)r);
		else
			kiln_strv_push_take(warnings, kiln_asprintf("'%s' (package '%s') is a script for '%s', which the image does not have",
								   nd->path, owner(nd), nd->script));
	}
	return 0;
}

static int
drain(struct kiln_ctx *ctx, struct cl *cl, const struct kiln_closure_opts *o, struct kiln_strv *warnings)
{
	while (cl->nq)
		if (follow(ctx, cl, cl->queue[--cl->nq], o, warnings) < 0)
			return -1;
	return 0;
}

/* Keep= patterns: every path they match, and below a matched directory, everything. */
static void
mark_patterns(struct cl *cl, const struct kiln_strv *keep, struct kiln_strv *warnings)
{
	_cleanup_free_ int *hit = kiln_calloc(keep->n ? keep->n : 1, sizeof(*hit));
	struct kiln_strmap dirs = { 0 };

	for (size_t i = 0; i < cl->n; i++)
		for (size_t k = 0; k < keep->n; k++)
			if (fnmatch(keep->v[k], cl->nodes[i].path, 0) == 0) {
				hit[k] = 1;
				mark(cl, i);
				if (cl->nodes[i].type == KILN_ENT_DIR)
					kiln_strmap_put(&dirs, cl->nodes[i].path, i);
			}
	for (size_t i = 0; dirs.n && i < cl->n; i++) {
		_cleanup_free_ char *p = kiln_strdup(cl->nodes[i].path);
		size_t d;

		for (char *s = strrchr(p, '/'); s && s != p; s = strrchr(p, '/')) {
			*s = '\0';
			if (kiln_strmap_get(&dirs, p, &d)) {
				mark(cl, i);
				break;
			}
		}
	}
	kiln_strmap_release(&dirs);
	for (size_t k = 0; k < keep->n; k++)
		if (!hit[k])
			kiln_strv_push_take(warnings, kiln_asprintf("Keep= pattern '%s' matches nothing in the image", keep->v[k]));
}

/*
 * What a kept package sets up for run time: its files under /etc, and its
 * empty directories (a package ships a directory with nothing in it for the
 * program to write into: /var/lib/nginx, /var/cache/...). 1 when that kept
 * anything new.
 */
static int
mark_package_setup(struct cl *cl)
{
	struct kiln_strmap kept = { 0 }, parents = { 0 };
	size_t before = cl->marked, dummy;

	for (size_t i = 0; i < cl->n; i++) {
		_cleanup_free_ char *dir = kiln_strdup(cl->nodes[i].path);

		if (cl->nodes[i].keep && *cl->nodes[i].pkg && cl->nodes[i].type != KILN_ENT_DIR)
			kiln_strmap_put(&kept, cl->nodes[i].pkg, 0);
		*strrchr(dir, '/') = '\0';
		kiln_strmap_put(&parents, dir, 0);
	}
	for (size_t i = 0; i < cl->n; i++) {
		const struct kiln_closure_node *nd = &cl->nodes[i];

		if (nd->keep || !kiln_strmap_get(&kept, nd->pkg, &dummy))
			continue;
		if (kiln_startswith(nd->path, "/etc/") ||
		    (nd->type == KILN_ENT_DIR && !kiln_strmap_get(&parents, nd->path, &dummy)))
			mark(cl, i);
	}
	kiln_strmap_release(&kept);
	kiln_strmap_release(&parents);
	return cl->marked > before;
}

static int
run(struct kiln_ctx *ctx, struct cl *cl, const struct kiln_closure_opts *o, struct kiln_strv *warnings)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct kiln_closure_node *nd = &cl->nodes[i];

		if (nd->root || !*nd->pkg ||
		    (o->install && kiln_strv_contains(o->install, nd->pkg) && !kiln_closure_is_doc(nd->path)))
			mark(cl, i);
	}
	if (o->keep)
		mark_patterns(cl, o->keep, warnings);
	for (size_t k = 0; o->programs && k < o->programs->n; k++) {
		ssize_t r = resolve(cl, o->programs->v[k], 1);

		if (r < 0 || cl->nodes[r].type != KILN_ENT_FILE)
			return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not a file of the image", o->programs->v[k]);
		mark(cl, (size_t)r);
	}
	do {
		if (drain(ctx, cl, o, warnings) < 0)
			return -1;
	} while (mark_package_setup(cl));
	return 0;
}

int
kiln_closure_run(struct kiln_ctx *ctx, struct kiln_closure_node *nodes, size_t n, const struct kiln_closure_opts *opts,
		 struct kiln_strv *warnings)
{
	struct cl cl = { nodes, n, { 0 }, NULL, 0, 0 };
	int rc;

	cl.queue = kiln_calloc(n ? n : 1, sizeof(*cl.queue));	/* each node enters it once */
	for (size_t i = 0; i < n; i++) {
		nodes[i].keep = 0;
		kiln_strmap_put(&cl.index, nodes[i].path, i);
	}
	rc = run(ctx, &cl, opts, warnings);
	kiln_strmap_release(&cl.index);
	free(cl.queue);
	return rc;
}
