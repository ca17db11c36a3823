/* release.c - read Date, Valid-Until and the SHA256 list from a verified Release text. */
#define _GNU_SOURCE
#include "release.h"
#include "deb822.h"

#include <inttypes.h>
#include <string.h>

void
kiln_release_release(struct kiln_release *r)
{
	free(r->origin);
	free(r->label);
	free(r->suite);
	free(r->codename);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

static char *
dup_field(const struct kiln_deb822_para *p, const char *name)
{
	const struct kiln_deb822_field *f = kiln_deb822_get(p, name);

	return f ? kiln_strdup(f->value) : NULL;
}

static int
parse_sha256_list(struct kiln_ctx *ctx, const char *what, const struct kiln_deb822_field *f,
		  struct kiln_release *r)
{
	const char *s = f->value;
	int line = f->value_line;

	while (*s) {
		const char *e = strchrnul(s, '\n');
		char hash[65], path[512];
		uint64_t size;
		int n = 0;
		struct kiln_release_file *rf;

		if (e > s) {
			_cleanup_free_ char *l = kiln_strndup(s, e - s);

			if (sscanf(l, " %64s %" SCNu64 " %511s %n", hash, &size, path, &n) != 3 ||
			    l[n] || !kiln_is_sha256_hex(hash) || strstr(path, "..") || path[0] == '/')
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad SHA256 entry", what, line);
			r->files = kiln_realloc(r->files, (r->n_files + 1) * sizeof(*r->files));
			rf = &r->files[r->n_files++];
			rf->path = kiln_strdup(path);
			rf->size = size;
			memcpy(rf->sha256, hash, 65);
		}
		line++;
		s = *e ? e + 1 : e;
	}
	return 0;
}

int
kiln_release_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		   struct kiln_release *ret)
{
	struct kiln_deb822 d = { 0 };
	struct kiln_release r = { 0 };
	const struct kiln_deb822_para *p;
	const struct kiln_deb822_field *f;

	if (kiln_deb822_parse(ctx, what, data, len, &d) < 0)
		return -1;
	if (d.n_paras != 1) {
		kiln_error(ctx, KILN_EXIT_USAGE, "%s: expected one paragraph, found %zu", what, d.n_paras);
		kiln_deb822_release(&d);
		return -1;
	}
	p = &d.paras[0];
	r.origin = dup_field(p, "Origin");
	r.label = dup_field(p, "Label");
	r.suite = dup_field(p, "Suite");
	r.codename = dup_field(p, "Codename");
	f = kiln_deb822_get(p, "Acquire-By-Hash");
	r.acquire_by_hash = f && strcmp(f->value, "yes") == 0;
	if (!(f = kiln_deb822_get(p, "Date"))) {
		kiln_error(ctx, KILN_EXIT_USAGE, "%s: no Date field", what);
		goto fail;
	}
	if (kiln_parse_rfc2822(f->value, &r.date) < 0) {
		kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad Date '%s'", what, f->line, f->value);
		goto fail;
	}
	if ((f = kiln_deb822_get(p, "Valid-Until"))) {
		if (kiln_parse_rfc2822(f->value, &r.valid_until) < 0) {
			kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad Valid-Until '%s'", what, f->line, f->value);
			goto fail;
		}
		r.has_valid_until = 1;
	}
	if (!(f = kiln_deb822_get(p, "SHA256"))) {
		kiln_error(ctx, KILN_EXIT_USAGE, "%s: no SHA256 field", what);
		goto fail;
	}
	if (parse_sha256_list(ctx, what, f, &r) < 0)
		goto fail;
	kiln_deb822_release(&d);
	*ret = r;
	return 0;
fail:
	kiln_deb822_release(&d);
	kiln_release_release(&r);
	return -1;
}

const struct kiln_release_file *
kiln_release_find(const struct kiln_release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	return NULL;
}
