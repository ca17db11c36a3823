/* aptsources.c - read the host's apt sources, so recipes can say From=host. */
#define _GNU_SOURCE
#include "aptsources.h"
#include "deb822.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

#define APT_SOURCES_MAX (1024 * 1024)

static void
entry_release(struct kiln_apt_entry *e)
{
	free(e->file);
	free(e->uri);
	kiln_strv_release(&e->suites);
	kiln_strv_release(&e->components);
	kiln_strv_release(&e->keyrings);
	free(e->inline_key);
}

void
kiln_apt_sources_release(struct kiln_apt_sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		entry_release(&s->entries[i]);
	free(s->entries);
	memset(s, 0, sizeof(*s));
}

static struct kiln_apt_entry *
entry_new(struct kiln_apt_sources *s, const char *file, int line)
{
	struct kiln_apt_entry *e;

	s->entries = kiln_realloc(s->entries, (s->n + 1) * sizeof(*s->entries));
	e = &s->entries[s->n++];
	memset(e, 0, sizeof(*e));
	e->file = kiln_strdup(file);
	e->line = line;
	return e;
}

/* apt's defaults when an entry has no Signed-By. */
static void
default_keyrings(const char *root, struct kiln_strv *sv)
{
	_cleanup_free_ char *tg = kiln_asprintf("%s/etc/apt/trusted.gpg", root);
	_cleanup_free_ char *pat = kiln_asprintf("%s/etc/apt/trusted.gpg.d/*.[ga][ps][gc]", root);
	struct stat st;
	glob_t g;

	if (stat(tg, &st) == 0)
		kiln_strv_push(sv, tg);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			kiln_strv_push(sv, g.gl_pathv[i]);
		globfree(&g);
	}
}

static int
set_signed_by(struct kiln_ctx *ctx, const char *root, const char *file, int line,
	      const char *v, struct kiln_apt_entry *e)
{
	struct kiln_strv words = { 0 };

	if (kiln_startswith(v, "-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		e->inline_key = kiln_strdup(v);
		return 0;
	}
	{
		_cleanup_free_ char *copy = kiln_strdup(v);

		for (char *c = copy; *c; c++)
			if (*c == ',')
				*c = ' ';	/* apt takes a comma- or space-separated list */
		kiln_strv_split(&words, copy);
	}
	for (size_t i = 0; i < words.n; i++) {
		if (words.v[i][0] != '/') {
			kiln_error(ctx, KILN_EXIT_USAGE,
				   "%s:%d: Signed-By '%s' is not a keyring path: key fingerprints are not supported",
				   file, line, words.v[i]);
			kiln_strv_release(&words);
			return -1;
		}
		kiln_strv_push_take(&e->keyrings, kiln_asprintf("%s%s", strcmp(root, "/") ? root : "", words.v[i]));
	}
	kiln_strv_release(&words);
	return 0;
}

static char *
uri_clean(const char *u)
{
	char *s = kiln_strdup(u);
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int
kiln_apt_sources_parse_deb822(struct kiln_ctx *ctx, const char *root, const char *file,
			      const char *data, size_t len, struct kiln_apt_sources *s)
{
	struct kiln_deb822 d = { 0 };
	int rc = 0;

	if (kiln_deb822_parse(ctx, file, data, len, &d) < 0)
		return -1;
	for (size_t i = 0; i < d.n_paras && rc == 0; i++) {
		const struct kiln_deb822_para *p = &d.paras[i];
		const struct kiln_deb822_field *types = kiln_deb822_get(p, "Types");
		const struct kiln_deb822_field *uris = kiln_deb822_get(p, "URIs");
		const struct kiln_deb822_field *suites = kiln_deb822_get(p, "Suites");
		const struct kiln_deb822_field *comps = kiln_deb822_get(p, "Components");
		const struct kiln_deb822_field *enabled = kiln_deb822_get(p, "Enabled");
		const struct kiln_deb822_field *sb = kiln_deb822_get(p, "Signed-By");
		struct kiln_strv tv = { 0 }, uv = { 0 };

		if (enabled && strcmp(enabled->value, "no") == 0)
			continue;
		if (!types || !uris || !suites) {
			rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: entry lacks Types, URIs or Suites", file, p->line);
			break;
		}
		kiln_strv_split(&tv, types->value);
		kiln_strv_split(&uv, uris->value);
		if (kiln_strv_contains(&tv, "deb")) {
			for (size_t j = 0; j < uv.n && rc == 0; j++) {
				struct kiln_apt_entry *e = entry_new(s, file, p->line);

				e->uri = uri_clean(uv.v[j]);
				kiln_strv_split(&e->suites, suites->value);
				if (comps)
					kiln_strv_split(&e->components, comps->value);
				if (sb)
					rc = set_signed_by(ctx, root, file, sb->line, sb->value, e);
				else
					default_keyrings(root, &e->keyrings);
			}
		}
		kiln_strv_release(&tv);
		kiln_strv_release(&uv);
	}
	kiln_deb822_release(&d);
	return rc;
}

int
kiln_apt_sources_parse_list(struct kiln_ctx *ctx, const char *root, const char *file,
			    const char *data, size_t len, struct kiln_apt_sources *s)
{
	const char *p = data, *end = data + len;
	int line = 0;

	if (memchr(data, '\0', len))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: NUL byte", file);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		_cleanup_free_ char *l = kiln_strndup(p, (nl ? nl : end) - p);
		struct kiln_strv w = { 0 }, opts = { 0 };
		char *hash = strchr(l, '#'), *ob, *cb;
		size_t k = 1;

		line++;
		p = nl ? nl + 1 : end;
		if (hash)
			*hash = '\0';
		/* options in [ ... ] after the type */
		ob = strchr(l, '[');
		if (ob) {
			cb = strchr(ob, ']');
			if (!cb)
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: unterminated '[' options", file, line);
			*cb = '\0';
			kiln_strv_split(&opts, ob + 1);
			memmove(ob, cb + 1, strlen(cb + 1) + 1);
		}
		kiln_strv_split(&w, l);
		if (w.n == 0 || strcmp(w.v[0], "deb") != 0) {
			if (w.n && strcmp(w.v[0], "deb-src") != 0) {
				kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: unknown type '%s'", file, line, w.v[0]);
				kiln_strv_release(&w);
				kiln_strv_release(&opts);
				return -1;
			}
		} else if (w.n < 3) {
			kiln_strv_release(&w);
			kiln_strv_release(&opts);
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected 'deb URI SUITE [COMPONENT...]'", file, line);
		} else {
			struct kiln_apt_entry *e = entry_new(s, file, line);
			const char *sb = NULL;

			e->uri = uri_clean(w.v[k++]);
			kiln_strv_push(&e->suites, w.v[k++]);
			for (; k < w.n; k++)
				kiln_strv_push(&e->components, w.v[k]);
			for (size_t i = 0; i < opts.n; i++)
				if (kiln_startswith(opts.v[i], "signed-by="))
					sb = opts.v[i] + strlen("signed-by=");
			if (sb ? set_signed_by(ctx, root, file, line, sb, e) < 0 : (default_keyrings(root, &e->keyrings), 0)) {
				kiln_strv_release(&w);
				kiln_strv_release(&opts);
				return -1;
			}
		}
		kiln_strv_release(&w);
		kiln_strv_release(&opts);
	}
	return 0;
}

static int
load_file(struct kiln_ctx *ctx, const char *root, const char *path, int deb822, struct kiln_apt_sources *s)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (kiln_read_file(ctx, path, APT_SOURCES_MAX, &data, &len) < 0)
		return -1;
	if (deb822)
		return kiln_apt_sources_parse_deb822(ctx, root, path, data, len, s);
	return kiln_apt_sources_parse_list(ctx, root, path, data, len, s);
}

int
kiln_apt_sources_load(struct kiln_ctx *ctx, const char *root, struct kiln_apt_sources *ret)
{
	struct kiln_apt_sources s = { 0 };
	_cleanup_free_ char *list = kiln_asprintf("%s/etc/apt/sources.list", root);
	_cleanup_free_ char *dir = kiln_asprintf("%s/etc/apt/sources.list.d", root);
	struct dirent **names = NULL;
	struct stat st;
	int n, rc = 0;

	if (stat(list, &st) == 0 && load_file(ctx, root, list, 0, &s) < 0) {
		kiln_apt_sources_release(&s);
		return -1;
	}
	n = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		int is_list = l > 5 && strcmp(nm + l - 5, ".list") == 0;
		int is_sources = l > 8 && strcmp(nm + l - 8, ".sources") == 0;

		if (rc == 0 && nm[0] != '.' && (is_list || is_sources)) {
			_cleanup_free_ char *path = kiln_asprintf("%s/%s", dir, nm);

			rc = load_file(ctx, root, path, is_sources, &s);
		}
		free(names[i]);
	}
	free(names);
	if (rc < 0) {
		kiln_apt_sources_release(&s);
		return -1;
	}
	*ret = s;
	return 0;
}
