/* compose.c - one index of image paths: normalization, merged /usr, conflicts, symlink safety. */
#define _GNU_SOURCE
#include "compose.h"
#include "closure.h"
#include "initrd.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#define KEEP_MAX ((size_t)8 << 20)	/* changelogs and declarations are read whole, up to this */
#define SPOOL_BUF ((size_t)1 << 16)

/*
 * An entry of the image. Regular files' content waits in the spool (an
 * unlinked file beside the image) until kiln_compose_finish() writes the
 * archive: by then every name of a hard link is known, and so is what stays.
 */
struct ent {
	char *path;
	enum kiln_entry_type type;
	unsigned mode, uid, gid;
	int64_t mtime;
	uint64_t size;
	char sha256[65];
	char *link;
	const char *pkg;	/* owner, "" for kiln */
	int64_t off;		/* a regular file's content in the spool, or -1 (a hard link's: its head's) */
	size_t head;		/* a hard link: index + 1 of the entry whose content it shares, else 0 */
	struct kiln_elf *elf;	/* Closure=files: what an ELF file needs */
	char *script;		/* Closure=files: a script's interpreter */
	int root;		/* kept whatever the closure finds (set by kiln, an ELF file not understood) */
	int dropped;		/* left out by the closure */
};

/* A file of the package being read that stays out of the image (excluded, reserved): a hard link may still name it. */
struct skipped {
	int64_t off;
	uint64_t size;
	char sha256[65];
};

struct kiln_compose {
	struct kiln_initrd *out;
	struct kiln_cpio *cpio;	/* the segment being written */
	struct kiln_initrd_stats out_stats;
	int64_t mtime;
	const struct kiln_strv *exclude, *reserved;
	struct ent *ents;
	size_t n, alloc;
	struct kiln_strmap index;	/* path -> index in ents */
	struct kiln_strv pkgs;	/* owners' names */
	struct kiln_limits limits;
	uint64_t image_bytes, image_entries;
	uint64_t pkg_bytes;	/* of the package being read */
	int spool;		/* file content, in the order it came */
	int64_t spool_len;
	char *spool_buf;
	size_t spool_fill;
	struct kiln_strmap pkg_files;	/* the package being read: its regular files -> 0, or index + 1 in skipped */
	struct skipped *skipped;
	size_t n_skipped;
	const char *cur_pkg;
	struct kiln_changelog *logs;
	size_t n_logs;
	struct kiln_declaration *decls;
	size_t n_decls;
	const struct kiln_closure_opts *closure;	/* Closure=files, else NULL */
	struct kiln_strv warnings;	/* for the build's output */
	struct kiln_strv ldconf;	/* "FILE\tDIR" from the image's ld.so.conf files */
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

static struct ent *
lookup(struct kiln_compose *c, const char *path)
{
	size_t i;

	return kiln_strmap_get(&c->index, path, &i) ? &c->ents[i] : NULL;
}

static struct ent *
insert(struct kiln_compose *c, const char *path)
{
	struct ent *e;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 1024;
		c->ents = kiln_realloc(c->ents, c->alloc * sizeof(*c->ents));
	}
	e = &c->ents[c->n];
	memset(e, 0, sizeof(*e));
	e->path = kiln_strdup(path);
	e->off = -1;
	kiln_strmap_put(&c->index, path, c->n++);
	return e;
}

static int
spool_flush(struct kiln_ctx *ctx, struct kiln_compose *c)
{
	for (size_t done = 0; done < c->spool_fill;) {
		ssize_t w = write(c->spool, c->spool_buf + done, c->spool_fill - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write the image's spool file: %s", strerror(errno));
		done += (size_t)w;
	}
	c->spool_fill = 0;
	return 0;
}

/* Appends @len bytes to the spool. */
static int
spool_add(struct kiln_ctx *ctx, struct kiln_compose *c, const void *data, size_t len)
{
	while (len) {
		size_t n = SPOOL_BUF - c->spool_fill < len ? SPOOL_BUF - c->spool_fill : len;

		memcpy(c->spool_buf + c->spool_fill, data, n);
		c->spool_fill += n;
		c->spool_len += (int64_t)n;
		data = (const char *)data + n;
		len -= n;
		if (c->spool_fill == SPOOL_BUF && spool_flush(ctx, c) < 0)
			return -1;
	}
	return 0;
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

#define SCRIPT_HEAD 256	/* a script's first line is read up to this */

/* What a file needs, for Closure=files (a file that is neither ELF nor a script needs nothing). */
static void
inspect(struct kiln_compose *c, struct ent *e, char *data, size_t len)
{
	struct kiln_elf info;
	struct kiln_ctx sub;

	if (!c->closure || e->type != KILN_ENT_FILE)
		return;
	if (kiln_elf_magic(data, len)) {
		kiln_ctx_init(&sub);
		if (len == e->size && kiln_elf_read(&sub, data, len, &info) == 0) {
			e->elf = kiln_malloc(sizeof(*e->elf));
			*e->elf = info;
			return;
		}
		e->root = 1;	/* what it needs is unknown: it stays, and the build says so */
		kiln_strv_push_take(&c->warnings,
				    kiln_asprintf("'%s' (package '%s') is an ELF file kiln cannot read (%s): kept as it is",
						  e->path, *e->pkg ? e->pkg : "kiln",
						  len == e->size ? sub.msg : "larger than the ELF reader takes"));
		return;
	}
	if (len > 2 && data[0] == '#' && data[1] == '!') {
		size_t i = 2, j;

		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		for (j = i; j < len && data[j] != ' ' && data[j] != '\t' && data[j] != '\n'; j++)
			;
		if (j < len && j > i && data[i] == '/')
			e->script = kiln_strndup(data + i, j - i);
	}
}

static int
write_ent(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, enum kiln_entry_type type,
	  unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const void *data, size_t len,
	  const char *link, const char *pkg)
{
	struct ent *e;
	int64_t off = c->spool_len;

	if (count_entry(ctx, c, type == KILN_ENT_FILE ? len : 0, pkg) < 0)
		return -1;
	if (type == KILN_ENT_FILE && spool_add(ctx, c, data, len) < 0)
		return -1;
	e = insert(c, path);
	e->type = type;
	e->mode = type == KILN_ENT_SYMLINK ? 0777 : mode;	/* as the archive holds it (and the kernel makes it) */
	e->uid = uid;
	e->gid = gid;
	e->pkg = pkg;
	e->mtime = mtime > c->mtime ? c->mtime : mtime;
	if (type == KILN_ENT_FILE) {
		e->size = len;
		e->off = off;
		kiln_sha256_hex(data, len, e->sha256);
		if (c->closure) {
			_cleanup_free_ char *copy = kiln_malloc(len + 1);	/* libelf may convert it in place */

			memcpy(copy, data, len);
			inspect(c, e, copy, len);
		}
	} else if (type == KILN_ENT_SYMLINK) {
		e->link = kiln_strdup(link);
		e->size = strlen(link);
		kiln_sha256_hex(link, e->size, e->sha256);
	}
	return 0;
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

/* The spool: an unlinked file in the image's directory (same filesystem, gone with the process). */
static int
spool_open(struct kiln_ctx *ctx, struct kiln_compose *c, const char *image)
{
	c->spool_buf = kiln_malloc(SPOOL_BUF);
	c->spool = kiln_tmpfile_beside(ctx, image);
	return c->spool < 0 ? -1 : 0;
}

struct kiln_compose *
kiln_compose_new(struct kiln_ctx *ctx, const char *path, const struct kiln_initrd_opts *out, int64_t mtime,
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
	c->spool = -1;
	c->out = kiln_initrd_create(ctx, path, out);
	if (!c->out || spool_open(ctx, c, path) < 0) {
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
package_done(struct kiln_compose *c)
{
	kiln_strmap_release(&c->pkg_files);
	free(c->skipped);
	c->skipped = NULL;
	c->n_skipped = 0;
}

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

/* Where streamed content goes: the spool (when @spool), the hash, and (when @cap) what inspect() reads. */
struct sink {
	struct kiln_compose *spool;
	struct kiln_sha256_stream *h;
	uint64_t got, size;
	struct kiln_buf *cap;
	size_t cap_max;
};

static int
sink_write(struct kiln_ctx *ctx, void *user, const void *data, size_t len)
{
	struct sink *k = user;

	if (k->cap && k->got == 0)	/* the first bytes decide what to read */
		k->cap_max = kiln_elf_magic(data, len) ? (k->size <= KILN_ELF_MAX ? (size_t)k->size : 4)
			: len >= 2 && memcmp(data, "#!", 2) == 0 ? SCRIPT_HEAD : 0;
	if (k->cap && k->cap->len < k->cap_max)
		kiln_buf_add(k->cap, data, len < k->cap_max - k->cap->len ? len : k->cap_max - k->cap->len);
	kiln_sha256_stream_add(k->h, data, len);
	k->got += len;
	return k->spool ? spool_add(ctx, k->spool, data, len) : 0;
}

/* A new regular file entry with the package's mode, owner and (clamped) mtime; its content is the caller's to set. */
static struct ent *
insert_file(struct kiln_compose *c, const char *path, const struct kiln_deb_entry *de, const char *pkg)
{
	struct ent *e = insert(c, path);

	e->type = KILN_ENT_FILE;
	e->mode = de->mode;
	e->uid = de->uid;
	e->gid = de->gid;
	e->mtime = de->mtime > c->mtime ? c->mtime : de->mtime;
	e->pkg = pkg;
	return e;
}

static void
add_skipped(struct kiln_compose *c, const char *path, int64_t off, uint64_t size, const char *hex)
{
	struct skipped *sk;

	c->skipped = kiln_realloc(c->skipped, (c->n_skipped + 1) * sizeof(*c->skipped));
	sk = &c->skipped[c->n_skipped++];
	*sk = (struct skipped){ off, size, "" };
	memcpy(sk->sha256, hex, sizeof(sk->sha256));
	kiln_strmap_put(&c->pkg_files, path, c->n_skipped);
}

/*
 * A regular file of the package, streamed from the archive into the spool
 * (never whole in memory), or only hashed when the path exists already.
 * A @skip file (excluded, reserved) is spooled for the package's hard links
 * only.
 */
static int
stream_file(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, const struct kiln_deb_entry *de,
	    struct kiln_deb_reader *r, const char *pkg, int skip)
{
	struct sink k = { NULL, kiln_sha256_stream_new(), 0, (uint64_t)de->size, NULL, 0 };
	struct ent *e = skip ? NULL : lookup(c, path);
	_cleanup_(kiln_buf_release) struct kiln_buf cap = { 0 };
	int64_t off = c->spool_len;
	char hex[65];
	int rc;

	if (!e && !skip && (ensure_parents(ctx, c, path, pkg) < 0 || count_entry(ctx, c, (uint64_t)de->size, pkg) < 0)) {
		kiln_sha256_stream_end(k.h, hex);
		return -1;
	}
	if (!e)
		k.spool = c;
	if (!e && !skip && c->closure)
		k.cap = &cap;
	rc = kiln_deb_stream(ctx, r, sink_write, &k);
	kiln_sha256_stream_end(k.h, hex);
	if (rc < 0)
		return kiln_error_replace(ctx, ctx->code, "package '%s': '%s': %s", pkg, path, ctx->msg);
	if (k.got != (uint64_t)de->size)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': '%s' holds %llu bytes, not the %lld it declares",
				  pkg, path, (unsigned long long)k.got, (long long)de->size);
	if (skip) {
		add_skipped(c, path, off, k.got, hex);
		return 0;
	}
	kiln_strmap_put(&c->pkg_files, path, 0);
	if (e)
		return same_or_conflict(ctx, e, path, KILN_ENT_FILE, de->mode, hex, NULL, pkg);
	e = insert_file(c, path, de, pkg);
	e->size = k.got;
	e->off = off;
	memcpy(e->sha256, hex, sizeof(hex));
	inspect(c, e, cap.data, cap.len);
	return 0;
}

/*
 * A hard link of the package to @target, a regular file it shipped before.
 * In the image it is another name of the same inode when mode and owner
 * agree (the cpio has one copy of the content), else a copy.
 */
static int
add_hardlink(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, const char *target,
	     const struct kiln_deb_entry *de, const char *pkg, int skip)
{
	const struct skipped *sk = NULL;
	const struct ent *t = NULL;
	struct ent *e;
	size_t v, ti = 0;
	int shared;

	if (!target || !kiln_strmap_get(&c->pkg_files, target, &v))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': hard link '%s' to '%s' outside the package",
				  pkg, path, de->link);
	if (v)
		sk = &c->skipped[v - 1];
	else if (!kiln_strmap_get(&c->index, target, &ti) || c->ents[ti].type != KILN_ENT_FILE)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': hard link '%s' to '%s' outside the package",
				  pkg, path, de->link);
	else
		t = &c->ents[ti];
	if (skip)
		return 0;
	if ((e = lookup(c, path)))	/* the content is the target's: compared by its hash */
		return same_or_conflict(ctx, e, path, KILN_ENT_FILE, de->mode, t ? t->sha256 : sk->sha256, NULL, pkg);
	shared = t && t->mode == de->mode && t->uid == de->uid && t->gid == de->gid;
	/* a name of the same inode adds no bytes; a copy (another mode or owner, an excluded file's) does */
	if (ensure_parents(ctx, c, path, pkg) < 0 || count_entry(ctx, c, shared ? 0 : t ? t->size : sk->size, pkg) < 0)
		return -1;
	e = insert_file(c, path, de, pkg);
	if (sk) {
		e->size = sk->size;
		e->off = sk->off;
		memcpy(e->sha256, sk->sha256, sizeof(e->sha256));
		return 0;
	}
	t = &c->ents[ti];	/* ensure_parents() and insert() may have moved the entries */
	e->size = t->size;
	memcpy(e->sha256, t->sha256, sizeof(e->sha256));
	if (shared)
		e->head = t->head ? t->head : ti + 1;
	else
		e->off = t->head ? c->ents[t->head - 1].off : t->off;
	return 0;
}

/* /etc/ld.so.conf or /etc/ld.so.conf.d/NAME.conf: where the image's libraries are, for the closure */
static int
ldconf_path(const char *path)
{
	const char *d = "/etc/ld.so.conf.d/";
	size_t n = strlen(path);

	return strcmp(path, "/etc/ld.so.conf") == 0 ||
	       (kiln_startswith(path, d) && !strchr(path + strlen(d), '/') && n > 5 && strcmp(path + n - 5, ".conf") == 0);
}

static void
keep_ldconf(struct kiln_compose *c, const char *path, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	if (!ldconf_path(path) || excluded(c, path))
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p == '/') {	/* "include" and "hwcap" lines and comments say no directory */
			const char *q = p;

			while (q < e && *q != ' ' && *q != '\t' && *q != '#' && *q != '\r')
				q++;
			kiln_strv_push_take(&c->ldconf, kiln_asprintf("%s\t%.*s", path, (int)(q - p), p));
		}
		p = nl ? nl + 1 : end;
	}
}

/* Is @path a file kiln reads while streaming (a changelog, a declaration, ld.so.conf)? */
static int
kept_path(const char *path)
{
	const char *slash;

	if (declaration_path(path) || ldconf_path(path))
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
			keep_ldconf(c, path, data, len);
			if (skip) {	/* spooled for a hard link that may name it */
				char hex[65];
				int64_t off = c->spool_len;

				kiln_sha256_hex(data, len, hex);
				if (spool_add(ctx, c, data, len) < 0)
					return -1;
				add_skipped(c, path, off, len, hex);
				return 0;
			}
			kiln_strmap_put(&c->pkg_files, path, 0);
			break;
		}
		return stream_file(ctx, c, path, de, r, pkg, skip);
	case KILN_ENT_HARDLINK:
		target = kiln_path_normalize(de->link);
		return add_hardlink(ctx, c, path, target, de, pkg, skip);
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

int
kiln_compose_add_deb(struct kiln_ctx *ctx, struct kiln_compose *c, const char *deb, const char *data_tar,
		     const char *pkg)
{
	int rc;

	kiln_strv_push(&c->pkgs, pkg);
	c->cur_pkg = c->pkgs.v[c->pkgs.n - 1];
	c->pkg_bytes = 0;
	rc = kiln_deb_foreach(ctx, deb, pkg, data_tar, &c->limits, on_deb_entry, c);
	package_done(c);
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
	e->root = 1;	/* declared: it stays whatever the closure finds */
	if (e->mode == mode && e->uid == uid && e->gid == gid)
		return 0;
	e->mode = mode;	/* the archive is written at the end: one entry, with what it says last */
	e->uid = uid;
	e->gid = gid;
	return 0;
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
		free(c->ents[i].script);
		if (c->ents[i].elf)
			kiln_elf_release(c->ents[i].elf);
		free(c->ents[i].elf);
	}
	free(c->ents);
	kiln_strmap_release(&c->index);
	kiln_strv_release(&c->warnings);
	kiln_strv_release(&c->ldconf);
	kiln_strv_release(&c->pkgs);
	kiln_initrd_stats_release(&c->out_stats);
	package_done(c);
	if (c->spool >= 0)
		close(c->spool);
	free(c->spool_buf);
	kiln_changelogs_free(c->logs, c->n_logs);
	for (size_t i = 0; i < c->n_decls; i++) {
		free(c->decls[i].package);
		free(c->decls[i].path);
		free(c->decls[i].data);
	}
	free(c->decls);
	free(c);
}

/* Copies @size bytes at @off of the spool into the archive. */
static int
copy_content(struct kiln_ctx *ctx, struct kiln_compose *c, int64_t off, uint64_t size, const char *path)
{
	while (size) {
		size_t want = size < SPOOL_BUF ? (size_t)size : SPOOL_BUF;
		ssize_t n = pread(c->spool, c->spool_buf, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read '%s' back from the spool: %s", path,
					  n < 0 ? strerror(errno) : "it is shorter than written");
		if (kiln_cpio_write(ctx, c->cpio, c->spool_buf, (size_t)n) < 0)
			return -1;
		off += n;
		size -= (uint64_t)n;
	}
	return 0;
}

/*
 * The segment an entry goes to: 0 for directories and what kiln made, 1
 * for the kernel's modules, 2 + N for the Nth package's files. A hard link
 * goes with its first name (the same package's: links out of a package are
 * refused), so every name of an inode is in one archive.
 */
static size_t
segment_of(const struct kiln_compose *c, const struct ent *e, const struct kiln_strmap *pkg_index)
{
	size_t k;

	if (e->head)
		e = &c->ents[e->head - 1];
	if (e->type == KILN_ENT_DIR)
		return 0;
	if (!*e->pkg)
		return kiln_startswith(e->path, "/usr/lib/modules/") ? 1 : 0;
	return kiln_strmap_get(pkg_index, e->pkg, &k) ? 2 + k : 0;
}

/*
 * The archive: one segment per owner (see segment_of()), each with the
 * entries in the order they came; a hard link's first name carries the
 * content, the others only name the inode. Directories come first, so
 * every file's parent exists when the kernel makes it.
 */
static int
write_archive(struct kiln_ctx *ctx, struct kiln_compose *c)
{
	_cleanup_free_ unsigned *names = kiln_calloc(c->n ? c->n : 1, sizeof(*names));
	_cleanup_free_ int64_t *inos = kiln_calloc(c->n ? c->n : 1, sizeof(*inos));
	_cleanup_free_ size_t *seg = kiln_calloc(c->n ? c->n : 1, sizeof(*seg));
	struct kiln_strmap pkg_index = { 0 };
	size_t n_seg = 2 + c->pkgs.n;
	int rc = 0, written = 0;

	if (spool_flush(ctx, c) < 0)
		return -1;
	for (size_t i = 0; i < c->pkgs.n; i++)
		kiln_strmap_put(&pkg_index, c->pkgs.v[i], i);
	for (size_t i = 0; i < c->n; i++) {
		seg[i] = segment_of(c, &c->ents[i], &pkg_index);
		if (c->ents[i].type == KILN_ENT_FILE && !c->ents[i].dropped)
			names[c->ents[i].head ? c->ents[i].head - 1 : i]++;
	}
	kiln_strmap_release(&pkg_index);
	for (size_t s = 0; s < n_seg && rc == 0; s++) {
		size_t in_seg = 0;

		for (size_t i = 0; i < c->n; i++)
			in_seg += seg[i] == s && !c->ents[i].dropped;
		if (!in_seg && (written || s + 1 < n_seg))	/* an empty image is still one archive */
			continue;
		written = 1;
		c->cpio = kiln_initrd_segment(ctx, c->out);
		if (!c->cpio)
			return -1;
		for (size_t i = 0; i < c->n && rc == 0; i++) {
			const struct ent *e = &c->ents[i];
			size_t h = e->head ? e->head - 1 : i;
			int first;

			if (e->dropped || seg[i] != s)
				continue;
			if (e->type != KILN_ENT_FILE) {
				rc = kiln_cpio_add(ctx, c->cpio, e->path, e->type, e->mode, e->uid, e->gid, e->mtime, NULL, 0,
						   e->link, e->type == KILN_ENT_CHAR ? 5 : 0, e->type == KILN_ENT_CHAR ? 1 : 0);
				continue;
			}
			first = inos[h] == 0;
			rc = kiln_cpio_begin_file(ctx, c->cpio, e->path, e->mode, e->uid, e->gid, e->mtime,
						  first ? e->size : 0, names[h], &inos[h]);
			if (rc == 0 && first)
				rc = copy_content(ctx, c, c->ents[h].off, e->size, e->path);
		}
		if (rc < 0)
			return -1;
		rc = kiln_initrd_segment_end(ctx, c->out);
		c->cpio = NULL;	/* kiln_initrd_segment_end() closed it */
	}
	return rc;
}

static int
ldconf_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Closure=files: which entries stay. */
static int
apply_closure(struct kiln_ctx *ctx, struct kiln_compose *c)
{
	_cleanup_free_ struct kiln_closure_node *nodes = kiln_calloc(c->n ? c->n : 1, sizeof(*nodes));
	_cleanup_(kiln_strv_releasep) struct kiln_strv libdirs = { 0 };
	struct kiln_closure_opts o = *c->closure;

	/* ld.so.conf.d's files in name order, as the include glob reads them */
	if (c->ldconf.n)
		qsort(c->ldconf.v, c->ldconf.n, sizeof(*c->ldconf.v), ldconf_cmp);
	for (size_t i = 0; i < c->ldconf.n; i++)
		if (!kiln_strv_contains(&libdirs, strchr(c->ldconf.v[i], '\t') + 1))
			kiln_strv_push(&libdirs, strchr(c->ldconf.v[i], '\t') + 1);
	o.libdirs = &libdirs;
	for (size_t i = 0; i < c->n; i++) {
		const struct ent *e = &c->ents[i];

		nodes[i] = (struct kiln_closure_node){ e->path, e->type, e->link, e->pkg, e->elf, e->script, e->root, 0 };
	}
	if (kiln_closure_run(ctx, nodes, c->n, &o, &c->warnings) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		c->ents[i].dropped = !nodes[i].keep;
	return 0;
}

void
kiln_compose_report_release(struct kiln_compose_report *r)
{
	kiln_strv_release(&r->warnings);
	kiln_strv_release(&r->packages);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

int
kiln_compose_finish(struct kiln_ctx *ctx, struct kiln_compose *c, char **ret_tsv, size_t *ret_count,
		    struct kiln_changelog **ret_logs, size_t *ret_n_logs, struct kiln_compose_report *ret_report)
{
	struct kiln_buf b = { 0 };
	size_t count = 0;
	int rc = c->closure ? apply_closure(ctx, c) : 0;

	if (rc == 0)
		rc = write_archive(ctx, c);
	if (rc == 0)
		rc = kiln_initrd_close(ctx, c->out, &c->out_stats);
	else
		kiln_initrd_abort(c->out);
	c->out = NULL;
	c->cpio = NULL;
	if (rc < 0) {
		compose_free(c);
		return -1;
	}
	if (ret_report) {
		memset(ret_report, 0, sizeof(*ret_report));
		struct kiln_strmap which = { 0 };	/* package -> its place in the report */
		size_t k;

		ret_report->files = kiln_calloc(c->pkgs.n ? c->pkgs.n : 1, sizeof(*ret_report->files));
		for (size_t i = 0; i < c->pkgs.n; i++) {
			kiln_strv_push(&ret_report->packages, c->pkgs.v[i]);
			kiln_strmap_put(&which, c->pkgs.v[i], i);
		}
		for (size_t i = 0; i < c->n; i++)
			if (!c->ents[i].dropped && c->ents[i].type != KILN_ENT_DIR && kiln_strmap_get(&which, c->ents[i].pkg, &k))
				ret_report->files[k]++;
		kiln_strmap_release(&which);
		for (size_t i = 0; i < c->out_stats.warnings.n; i++)
			kiln_strv_push(&c->warnings, c->out_stats.warnings.v[i]);
		ret_report->warnings = c->warnings;
		memset(&c->warnings, 0, sizeof(c->warnings));
		ret_report->segments = c->out_stats.segments;
		ret_report->reused = c->out_stats.reused;
	}
	qsort(c->ents, c->n, sizeof(*c->ents), ent_cmp);
	for (size_t i = 0; i < c->n; i++) {
		const struct ent *e = &c->ents[i];

		if (e->dropped)
			continue;
		kiln_buf_addf(&b, "%s\t%06o\t%u\t%u\t%llu\t%s\t%s\n", e->path, type_bits(e->type) | e->mode, e->uid, e->gid,
			      (unsigned long long)e->size, e->sha256[0] ? e->sha256 : "-", *e->pkg ? e->pkg : "-");
		count++;
	}
	kiln_buf_add(&b, "", 0);
	*ret_tsv = kiln_buf_detach(&b, NULL);
	*ret_count = count;
	*ret_logs = TAKE_PTR(c->logs);
	*ret_n_logs = c->n_logs;
	c->n_logs = 0;
	compose_free(c);
	return 0;
}

void
kiln_compose_set_closure(struct kiln_compose *c, const struct kiln_closure_opts *opts)
{
	c->closure = opts;
}

void
kiln_compose_abort(struct kiln_compose *c)
{
	if (!c)
		return;
	kiln_initrd_abort(c->out);
	compose_free(c);
}
