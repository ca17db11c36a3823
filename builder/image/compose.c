/* compose.c - one index of image paths: normalization, merged /usr, conflicts, symlink safety. */
#define _GNU_SOURCE
#include "compose.h"

#include <fnmatch.h>
#include <string.h>

#define KEEP_MAX ((size_t)8 << 20)	/* changelogs and declarations are read whole, up to this */
#define LINK_CACHE_FILE ((size_t)16 << 20)	/* a package's files kept for its hard links: each up to this... */
#define LINK_CACHE_TOTAL ((size_t)64 << 20)	/* ... and all of them up to this; the rest takes a second pass */

struct ent {
	char *path;
	enum kiln_entry_type type;
	unsigned mode, uid, gid;
	uint64_t size;
	char sha256[65];
	char *link;
	const char *pkg;	/* owner, "" for kiln */
};

struct pkgfile {		/* a file of the package being read, kept for its hard links (bounded) */
	char *path;
	char *data;
	size_t len;
};

struct pending_link {		/* a hard link of the package being read, written in a second pass */
	char *path, *target;
	unsigned mode, uid, gid;
	int64_t mtime;
	int done;
};

struct kiln_compose {
	struct kiln_cpio *cpio;
	int64_t mtime;
	const struct kiln_strv *exclude, *reserved;
	struct ent *ents;
	size_t n, alloc;
	size_t *table;		/* open addressing: index + 1, 0 empty */
	size_t tsize;
	struct kiln_strv pkgs;	/* owners' names */
	struct kiln_limits limits;
	uint64_t image_bytes, image_entries;
	uint64_t pkg_bytes;	/* of the package being read, hard links included */
	struct pending_link *links;
	size_t n_links;
	struct pkgfile *pf;
	size_t n_pf, pf_bytes;
	struct kiln_strv pkg_files;	/* the regular files of the package being read: what its hard links may name */
	const char *cur_pkg, *cur_deb, *cur_tar;
	struct kiln_changelog *logs;
	size_t n_logs;
	struct kiln_declaration *decls;
	size_t n_decls;
};

static const char *const merged[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
static const char *const var_links[][3] = { { "/var/run", "/run", "../run" }, { "/var/lock", "/run/lock", "../run/lock" } };

void
kiln_changelogs_free(struct kiln_changelog *logs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(logs[i].package);
		free(logs[i].data);
		free(logs[i].link_to);
	}
	free(logs);
}

char *
kiln_path_normalize(const char *raw)
{
	struct kiln_buf b = { 0 };
	const char *p = raw;

	if (raw[0] == '/')
		return NULL;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = e - p;

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			kiln_buf_release(&b);
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (b.len == 0)
				for (size_t i = 0; i < ARRAY_SIZE(merged); i++)
					if (strlen(merged[i]) == n && strncmp(p, merged[i], n) == 0)
						kiln_buf_add(&b, "/usr", 4);
			kiln_buf_add(&b, "/", 1);
			kiln_buf_add(&b, p, n);
		}
		p = *e ? e + 1 : e;
	}
	/* /var/run and /var/lock are base-files' symlinks to /run and /run/lock */
	for (size_t i = 0; i < ARRAY_SIZE(var_links); i++) {
		size_t n = strlen(var_links[i][0]);

		if (b.data && strncmp(b.data, var_links[i][0], n) == 0 && (b.data[n] == '\0' || b.data[n] == '/')) {
			char *out = kiln_asprintf("%s%s", var_links[i][1], b.data + n);

			kiln_buf_release(&b);
			return out;
		}
	}
	return kiln_buf_detach(&b, NULL);
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct ent *
lookup(struct kiln_compose *c, const char *path)
{
	size_t i = hash_str(path) & (c->tsize - 1);

	while (c->table[i]) {
		struct ent *e = &c->ents[c->table[i] - 1];

		if (strcmp(e->path, path) == 0)
			return e;
		i = (i + 1) & (c->tsize - 1);
	}
	return NULL;
}

static void
table_insert(struct kiln_compose *c, size_t idx)
{
	size_t i = hash_str(c->ents[idx].path) & (c->tsize - 1);

	while (c->table[i])
		i = (i + 1) & (c->tsize - 1);
	c->table[i] = idx + 1;
}

static struct ent *
insert(struct kiln_compose *c, const char *path)
{
	struct ent *e;

	if ((c->n + 1) * 2 > c->tsize) {
		free(c->table);
		c->tsize = c->tsize ? c->tsize * 2 : 4096;
		c->table = kiln_calloc(c->tsize, sizeof(*c->table));
		for (size_t i = 0; i < c->n; i++)
			table_insert(c, i);
	}
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 1024;
		c->ents = kiln_realloc(c->ents, c->alloc * sizeof(*c->ents));
	}
	e = &c->ents[c->n];
	memset(e, 0, sizeof(*e));
	e->path = kiln_strdup(path);
	table_insert(c, c->n++);
	return e;
}

/* One more entry of @size bytes in the image (and in the package being read): within the limits? */
static int
count_entry(struct kiln_ctx *ctx, struct kiln_compose *c, uint64_t size, const char *pkg)
{
	_cleanup_free_ char *what = *pkg ? kiln_asprintf("package '%s'", pkg) : kiln_strdup("the image");

	if (++c->image_entries > c->limits.image_entries)
		return kiln_limit_error(ctx, what, "the image", c->limits.image_entries, 1, "ImageEntries");
	if (size > c->limits.image_bytes - c->image_bytes)
		return kiln_limit_error(ctx, what, "the image", c->limits.image_bytes, 0, "ImageSize");
	c->image_bytes += size;
	if (*pkg && size > c->limits.package_bytes - c->pkg_bytes)
		return kiln_limit_error(ctx, what, "one package", c->limits.package_bytes, 0, "PackageSize");
	if (*pkg)
		c->pkg_bytes += size;
	return 0;
}

static int
write_ent(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, enum kiln_entry_type type,
	  unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const void *data, size_t len,
	  const char *link, const char *pkg)
{
	struct ent *e;

	if (count_entry(ctx, c, type == KILN_ENT_FILE ? len : 0, pkg) < 0)
		return -1;
	e = insert(c, path);
	e->type = type;
	e->mode = type == KILN_ENT_SYMLINK ? 0777 : mode;	/* as the archive holds it (and the kernel makes it) */
	e->uid = uid;
	e->gid = gid;
	e->pkg = pkg;
	if (type == KILN_ENT_FILE) {
		e->size = len;
		kiln_sha256_hex(data, len, e->sha256);
	} else if (type == KILN_ENT_SYMLINK) {
		e->link = kiln_strdup(link);
		e->size = strlen(link);
		kiln_sha256_hex(link, e->size, e->sha256);
	}
	if (mtime > c->mtime)
		mtime = c->mtime;
	return kiln_cpio_add(ctx, c->cpio, path, type, mode, uid, gid, mtime, data, len, link,
			     type == KILN_ENT_CHAR ? 5 : 0, type == KILN_ENT_CHAR ? 1 : 0);
}

/* Every parent of @path must be a directory; missing ones are created. */
static int
ensure_parents(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, const char *pkg)
{
	_cleanup_free_ char *p = kiln_strdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		struct ent *e;

		*s = '\0';
		e = lookup(c, p);
		if (!e) {
			if (write_ent(ctx, c, p, KILN_ENT_DIR, 0755, 0, 0, c->mtime, NULL, 0, NULL, "") < 0)
				return -1;
		} else if (e->type == KILN_ENT_SYMLINK) {
			return kiln_error(ctx, KILN_EXIT_INTEGRITY,
					  "package '%s': '%s' would be written through the symlink '%s' (from '%s')",
					  pkg, path, p, *e->pkg ? e->pkg : "kiln");
		} else if (e->type != KILN_ENT_DIR) {
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': '%s' needs '%s' to be a directory",
					  pkg, path, p);
		}
		*s = '/';
	}
	return 0;
}

struct kiln_compose *
kiln_compose_new(struct kiln_ctx *ctx, const char *path, const char *compression, int64_t mtime,
		 const struct kiln_strv *exclude, const struct kiln_strv *reserved, const struct kiln_limits *limits)
{
	static const struct kiln_limits defaults = KILN_LIMITS_DEFAULT;
	static const struct { const char *path; unsigned mode; } dirs[] = {
		{ "/usr", 0755 }, { "/usr/bin", 0755 }, { "/usr/sbin", 0755 }, { "/usr/lib", 0755 },
		{ "/usr/lib64", 0755 }, { "/dev", 0755 }, { "/etc", 0755 }, { "/proc", 0555 },
		{ "/root", 0700 }, { "/run", 0755 }, { "/sys", 0555 }, { "/tmp", 01777 }, { "/var", 0755 },
		{ "/var/tmp", 01777 },
	};
	static const char *const links[][2] = {
		{ "/bin", "usr/bin" }, { "/sbin", "usr/sbin" }, { "/lib", "usr/lib" }, { "/lib64", "usr/lib64" },
	};
	struct kiln_compose *c = kiln_calloc(1, sizeof(*c));

	c->mtime = mtime;
	c->exclude = exclude;
	c->reserved = reserved;
	c->limits = limits ? *limits : defaults;
	c->cpio = kiln_cpio_open(ctx, path, compression);
	if (!c->cpio) {
		kiln_compose_abort(c);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (write_ent(ctx, c, dirs[i].path, KILN_ENT_DIR, dirs[i].mode, 0, 0, mtime, NULL, 0, NULL, "") < 0)
			goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (write_ent(ctx, c, links[i][0], KILN_ENT_SYMLINK, 0777, 0, 0, mtime, NULL, 0, links[i][1], "") < 0)
			goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(var_links); i++)
		if (write_ent(ctx, c, var_links[i][0], KILN_ENT_SYMLINK, 0777, 0, 0, mtime, NULL, 0, var_links[i][2], "") < 0)
			goto fail;
	/* the kernel opens /dev/console for PID 1 before anything is mounted */
	if (write_ent(ctx, c, "/dev/console", KILN_ENT_CHAR, 0600, 0, 0, mtime, NULL, 0, NULL, "") < 0)
		goto fail;
	return c;
fail:
	kiln_compose_abort(c);
	return NULL;
}

static int
excluded(const struct kiln_compose *c, const char *path)
{
	for (size_t i = 0; i < c->exclude->n; i++)
		if (fnmatch(c->exclude->v[i], path, 0) == 0)
			return 1;
	return 0;
}

static void
pkgfiles_release(struct kiln_compose *c)
{
	for (size_t i = 0; i < c->n_pf; i++) {
		free(c->pf[i].path);
		free(c->pf[i].data);
	}
	free(c->pf);
	c->pf = NULL;
	c->n_pf = c->pf_bytes = 0;
}

static const struct pkgfile *
pkgfile_find(const struct kiln_compose *c, const char *path)
{
	for (size_t i = 0; i < c->n_pf; i++)
		if (strcmp(c->pf[i].path, path) == 0)
			return &c->pf[i];
	return NULL;
}

static void
links_release(struct kiln_compose *c)
{
	for (size_t i = 0; i < c->n_links; i++) {
		free(c->links[i].path);
		free(c->links[i].target);
	}
	free(c->links);
	c->links = NULL;
	c->n_links = 0;
}

/* Adds one entry; an existing one is kept when identical, else it is a conflict. */
/* @path exists already as @e: the same file (by @sha256 and @mode) is fine, anything else a conflict. */
static int
same_or_conflict(struct kiln_ctx *ctx, const struct ent *e, const char *path, enum kiln_entry_type type, unsigned mode,
		 const char *sha256, const char *link, const char *pkg)
{
	if (e->type == KILN_ENT_DIR && type == KILN_ENT_DIR)
		return 0;
	if (e->type == type && type == KILN_ENT_FILE && strcmp(e->sha256, sha256) == 0 && e->mode == mode)
		return 0;
	if (e->type == type && type == KILN_ENT_SYMLINK && strcmp(e->link, link) == 0)
		return 0;
	return kiln_error(ctx, KILN_EXIT_USAGE, "package '%s': '%s' conflicts with the one from '%s'",
			  pkg, path, *e->pkg ? e->pkg : "kiln");
}

static int
add_entry(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, enum kiln_entry_type type,
	  unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const char *data, size_t len,
	  const char *link, const char *pkg)
{
	struct ent *e = lookup(c, path);

	if (e) {
		char h[65] = "";

		if (type == KILN_ENT_FILE)
			kiln_sha256_hex(data, len, h);
		return same_or_conflict(ctx, e, path, type, mode, h, link, pkg);
	}
	if (ensure_parents(ctx, c, path, pkg) < 0)
		return -1;
	return write_ent(ctx, c, path, type, mode, uid, gid, mtime, data, len, link, pkg);
}

static void
keep_changelog(struct kiln_compose *c, const char *path, const char *data, size_t len)
{
	const char *pre = "/usr/share/doc/", *rest, *slash;
	struct kiln_changelog *l;

	if (!kiln_startswith(path, pre))
		return;
	rest = path + strlen(pre);
	slash = strchr(rest, '/');
	if (!slash || strcmp(slash, "/changelog.Debian.gz") != 0)
		return;
	c->logs = kiln_realloc(c->logs, (c->n_logs + 1) * sizeof(*c->logs));
	l = &c->logs[c->n_logs++];
	memset(l, 0, sizeof(*l));
	l->package = kiln_strndup(rest, slash - rest);
	l->data = kiln_malloc(len ? len : 1);
	memcpy(l->data, data, len);
	l->len = len;
}

/* /usr/share/doc/PKG -> OTHER: PKG's changelog is OTHER's. */
static void
keep_doclink(struct kiln_compose *c, const char *path, const char *target)
{
	const char *pre = "/usr/share/doc/", *name = path + strlen(pre), *t;
	struct kiln_changelog *l;

	if (!kiln_startswith(path, pre) || strchr(name, '/') || !*name)
		return;
	t = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (!*t || strcmp(t, "..") == 0 || strcmp(t, ".") == 0)
		return;
	c->logs = kiln_realloc(c->logs, (c->n_logs + 1) * sizeof(*c->logs));
	l = &c->logs[c->n_logs++];
	memset(l, 0, sizeof(*l));
	l->package = kiln_strdup(name);
	l->link_to = kiln_strdup(t);
}

/* Is @path one of the files that declare what maintainer scripts would make? */
static int
declaration_path(const char *path)
{
	static const char *const dirs[] = { "/usr/lib/sysusers.d/", "/usr/lib/tmpfiles.d/", "/etc/sysusers.d/",
					    "/etc/tmpfiles.d/" };
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (kiln_startswith(path, dirs[i]) && !strchr(path + strlen(dirs[i]), '/') && n > 5 &&
		    strcmp(path + n - 5, ".conf") == 0)
			return 1;
	return 0;
}

static void
keep_declaration(struct kiln_compose *c, const char *path, const char *data, size_t len)
{
	struct kiln_declaration *d;

	if (!declaration_path(path) || excluded(c, path))
		return;
	c->decls = kiln_realloc(c->decls, (c->n_decls + 1) * sizeof(*c->decls));
	d = &c->decls[c->n_decls++];
	d->package = kiln_strdup(c->cur_pkg);
	d->path = kiln_strdup(path);
	d->data = kiln_malloc(len + 1);
	memcpy(d->data, data, len);
	d->data[len] = '\0';
	d->len = len;
}

/* Where streamed content goes: the image (when @cpio), a copy for hard links (when @keep), and always the hash. */
struct sink {
	struct kiln_cpio *cpio;
	struct kiln_sha256_stream *h;
	struct kiln_buf *keep;
};

static int
sink_write(struct kiln_ctx *ctx, void *user, const void *data, size_t len)
{
	struct sink *k = user;

	kiln_sha256_stream_add(k->h, data, len);
	if (k->keep)
		kiln_buf_add(k->keep, data, len);
	return k->cpio ? kiln_cpio_write(ctx, k->cpio, data, len) : 0;
}

/*
 * A regular file of the package, streamed from the archive into the image
 * (never whole in memory), or only hashed when the path exists already.
 */
static int
stream_file(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, const struct kiln_deb_entry *de,
	    struct kiln_deb_reader *r, const char *pkg)
{
	struct sink k = { NULL, kiln_sha256_stream_new(), NULL };
	struct ent *e = lookup(c, path);
	struct kiln_buf keep = { 0 };
	char hex[65];
	int rc;

	if (!e) {
		if (ensure_parents(ctx, c, path, pkg) < 0 || count_entry(ctx, c, (uint64_t)de->size, pkg) < 0) {
			kiln_sha256_stream_end(k.h, hex);
			return -1;
		}
		k.cpio = c->cpio;
		if ((uint64_t)de->size <= LINK_CACHE_FILE && c->pf_bytes + (size_t)de->size <= LINK_CACHE_TOTAL)
			k.keep = &keep;
		if (kiln_cpio_begin_file(ctx, c->cpio, path, de->mode, de->uid, de->gid,
					 de->mtime > c->mtime ? c->mtime : de->mtime, (uint64_t)de->size) < 0) {
			kiln_sha256_stream_end(k.h, hex);
			return -1;
		}
	}
	rc = kiln_deb_stream(ctx, r, sink_write, &k);
	kiln_sha256_stream_end(k.h, hex);
	if (rc < 0) {
		kiln_buf_release(&keep);
		return kiln_error_replace(ctx, ctx->code, "package '%s': '%s': %s", pkg, path, ctx->msg);
	}
	if (k.keep) {
		c->pf = kiln_realloc(c->pf, (c->n_pf + 1) * sizeof(*c->pf));
		c->pf[c->n_pf].path = kiln_strdup(path);
		c->pf[c->n_pf].len = keep.len;
		c->pf[c->n_pf++].data = kiln_buf_detach(&keep, NULL);
		c->pf_bytes += (size_t)de->size;
	}
	if (e)
		return same_or_conflict(ctx, e, path, KILN_ENT_FILE, de->mode, hex, NULL, pkg);
	e = insert(c, path);
	e->type = KILN_ENT_FILE;
	e->mode = de->mode;
	e->uid = de->uid;
	e->gid = de->gid;
	e->pkg = pkg;
	e->size = (uint64_t)de->size;
	memcpy(e->sha256, hex, sizeof(hex));
	return 0;
}

/* Is @path a file kiln reads while streaming (a changelog, a declaration)? */
static int
kept_path(const char *path)
{
	const char *slash;

	if (declaration_path(path))
		return 1;
	if (!kiln_startswith(path, "/usr/share/doc/"))
		return 0;
	slash = strchr(path + strlen("/usr/share/doc/"), '/');
	return slash && strcmp(slash, "/changelog.Debian.gz") == 0;
}

static int
on_deb_entry(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *de, struct kiln_deb_reader *r)
{
	struct kiln_compose *c = user;
	const char *pkg = c->cur_pkg;
	_cleanup_free_ char *path = kiln_path_normalize(de->path);
	_cleanup_free_ char *data = NULL, *target = NULL;
	const struct ent *t;
	size_t len = 0;
	int skip;

	if (!path)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': unsafe path '%s'", pkg, de->path);
	if (!*path)
		return 0;	/* the root */
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)	/* files.tsv is one line per entry, tab-separated */
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': a control character in the path '%s'", pkg, path);
	skip = excluded(c, path) || (c->reserved && kiln_strv_contains(c->reserved, path));
	switch (de->type) {
	case KILN_ENT_FILE:
		if (kept_path(path) && (uint64_t)de->size <= KEEP_MAX) {
			if (kiln_deb_read(ctx, r, KEEP_MAX, &data, &len) < 0)
				return kiln_error_replace(ctx, ctx->code, "package '%s': '%s': %s", pkg, path, ctx->msg);
			keep_changelog(c, path, data, len);
			keep_declaration(c, path, data, len);
			kiln_strv_push(&c->pkg_files, path);
			break;
		}
		kiln_strv_push(&c->pkg_files, path);
		return skip ? 0 : stream_file(ctx, c, path, de, r, pkg);
	case KILN_ENT_HARDLINK:
		target = kiln_path_normalize(de->link);
		t = target && kiln_strv_contains(&c->pkg_files, target) ? lookup(c, target) : NULL;
		if (!t || t->type != KILN_ENT_FILE)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': hard link '%s' to '%s' outside the package",
					  pkg, path, de->link);
		if (skip)
			return 0;
		if (lookup(c, path))	/* the content is the target's: compared by its hash */
			return same_or_conflict(ctx, lookup(c, path), path, KILN_ENT_FILE, de->mode, t->sha256, NULL, pkg);
		if (pkgfile_find(c, target)) {	/* in place, as the archive has it */
			const struct pkgfile *pf = pkgfile_find(c, target);

			return add_entry(ctx, c, path, KILN_ENT_FILE, de->mode, de->uid, de->gid, de->mtime, pf->data,
					 pf->len, NULL, pkg);
		}
		c->links = kiln_realloc(c->links, (c->n_links + 1) * sizeof(*c->links));
		c->links[c->n_links++] = (struct pending_link){ kiln_strdup(path), TAKE_PTR(target), de->mode, de->uid,
								de->gid, de->mtime, 0 };
		return 0;
	case KILN_ENT_SYMLINK:
		keep_doclink(c, path, de->link);
		if (strpbrk(de->link, "\n\t"))
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': a control character in the target of '%s'", pkg, path);
		break;
	case KILN_ENT_DIR:
		break;
	default:
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': '%s' is a device or special file", pkg, path);
	}
	if (skip)
		return 0;
	return add_entry(ctx, c, path, de->type, de->mode, de->uid, de->gid, de->mtime, data, len, de->link, pkg);
}

/* Second pass over the package: the content of each hard link's target, streamed into its own file. */
static int
on_link_source(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *de, struct kiln_deb_reader *r)
{
	struct kiln_compose *c = user;
	_cleanup_free_ char *path = NULL;
	struct pending_link *l = NULL;
	struct kiln_deb_entry as_link;

	if (de->type != KILN_ENT_FILE || !(path = kiln_path_normalize(de->path)))
		return 0;
	for (size_t i = 0; i < c->n_links && !l; i++)
		if (!c->links[i].done && strcmp(c->links[i].target, path) == 0)
			l = &c->links[i];
	if (!l)
		return 0;
	l->done = 1;	/* one link per pass: the content can be read once */
	as_link = *de;
	as_link.mode = l->mode;
	as_link.uid = l->uid;
	as_link.gid = l->gid;
	as_link.mtime = l->mtime;
	return stream_file(ctx, c, l->path, &as_link, r, c->cur_pkg);
}

int
kiln_compose_add_deb(struct kiln_ctx *ctx, struct kiln_compose *c, const char *deb, const char *data_tar,
		     const char *pkg)
{
	int rc;

	kiln_strv_push(&c->pkgs, pkg);
	c->cur_pkg = c->pkgs.v[c->pkgs.n - 1];
	c->pkg_bytes = 0;
	rc = kiln_deb_foreach(ctx, deb, pkg, data_tar, &c->limits, on_deb_entry, c);
	/* hard links: rare (perl, a few tools); each pass streams one link's content */
	for (size_t left = c->n_links, now; rc == 0 && left; left = now) {
		rc = kiln_deb_foreach(ctx, deb, pkg, data_tar, &c->limits, on_link_source, c);
		now = 0;
		for (size_t i = 0; i < c->n_links; i++)
			now += !c->links[i].done;
		if (rc == 0 && now == left)
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': a hard link's target changed between passes", pkg);
	}
	links_release(c);
	pkgfiles_release(c);
	kiln_strv_release(&c->pkg_files);
	return rc;
}

int
kiln_compose_add(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, enum kiln_entry_type type,
		 unsigned mode, unsigned uid, unsigned gid, const void *data, size_t len, const char *link)
{
	return add_entry(ctx, c, path, type, mode, uid, gid, c->mtime, data, len, link, "");
}

int
kiln_compose_set_dir(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, unsigned mode, unsigned uid,
		     unsigned gid, const char *why)
{
	struct ent *e = lookup(c, path);

	if (!e)
		return add_entry(ctx, c, path, KILN_ENT_DIR, mode, uid, gid, c->mtime, NULL, 0, NULL, "");
	if (e->type != KILN_ENT_DIR)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: '%s' is not a directory in the image (from '%s')", why, path,
				  *e->pkg ? e->pkg : "kiln");
	if (e->mode == mode && e->uid == uid && e->gid == gid)
		return 0;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return kiln_cpio_add(ctx, c->cpio, path, KILN_ENT_DIR, mode, uid, gid, c->mtime, NULL, 0, NULL, 0, 0);
}

int
kiln_compose_entry(struct kiln_compose *c, const char *path, enum kiln_entry_type *ret_type, unsigned *ret_mode,
		   unsigned *ret_uid, unsigned *ret_gid)
{
	const struct ent *e = lookup(c, path);

	if (!e)
		return -1;
	*ret_type = e->type;
	*ret_mode = e->mode;
	*ret_uid = e->uid;
	*ret_gid = e->gid;
	return 0;
}

const struct kiln_declaration *
kiln_compose_declarations(const struct kiln_compose *c, size_t *ret_n)
{
	*ret_n = c->n_decls;
	return c->decls;
}

int
kiln_compose_exists(struct kiln_compose *c, const char *path)
{
	const struct ent *e = lookup(c, path);

	return e && e->type != KILN_ENT_DIR;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

static unsigned
type_bits(enum kiln_entry_type t)
{
	switch (t) {
	case KILN_ENT_DIR: return 0040000;
	case KILN_ENT_SYMLINK: return 0120000;
	case KILN_ENT_CHAR: return 0020000;
	default: return 0100000;
	}
}

static void
compose_free(struct kiln_compose *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->ents[i].path);
		free(c->ents[i].link);
	}
	free(c->ents);
	free(c->table);
	kiln_strv_release(&c->pkgs);
	links_release(c);
	pkgfiles_release(c);
	kiln_strv_release(&c->pkg_files);
	kiln_changelogs_free(c->logs, c->n_logs);
	for (size_t i = 0; i < c->n_decls; i++) {
		free(c->decls[i].package);
		free(c->decls[i].path);
		free(c->decls[i].data);
	}
	free(c->decls);
	free(c);
}

int
kiln_compose_finish(struct kiln_ctx *ctx, struct kiln_compose *c, char **ret_tsv, size_t *ret_count,
		    struct kiln_changelog **ret_logs, size_t *ret_n_logs)
{
	struct kiln_buf b = { 0 };
	int rc = kiln_cpio_close(ctx, c->cpio);

	c->cpio = NULL;
	if (rc < 0) {
		compose_free(c);
		return -1;
	}
	qsort(c->ents, c->n, sizeof(*c->ents), ent_cmp);
	for (size_t i = 0; i < c->n; i++) {
		const struct ent *e = &c->ents[i];

		kiln_buf_addf(&b, "%s\t%06o\t%u\t%u\t%llu\t%s\n", e->path, type_bits(e->type) | e->mode, e->uid, e->gid,
			      (unsigned long long)e->size, e->sha256[0] ? e->sha256 : "-");
	}
	*ret_tsv = kiln_buf_detach(&b, NULL);
	*ret_count = c->n;
	*ret_logs = TAKE_PTR(c->logs);
	*ret_n_logs = c->n_logs;
	c->n_logs = 0;
	compose_free(c);
	return 0;
}

void
kiln_compose_abort(struct kiln_compose *c)
{
	if (!c)
		return;
	kiln_cpio_abort(c->cpio);
	compose_free(c);
}
