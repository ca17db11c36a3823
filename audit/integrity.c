/* integrity.c - files.tsv lines as audit files, an image against its signed files.tsv, dpkg's status as packages. */
#define _GNU_SOURCE
#include "image.h"
#include "deb822.h"
#include "solve.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One files.tsv line split in place: path, mode (with type), uid, gid, size, sha256 (the package after them is not kept). */
struct tsv_line {
	const char *f[6];
	size_t l[6];
	const char *end;	/* after the newline */
};

static int
tsv_next(const char **p, struct tsv_line *t)
{
	const char *s = *p, *eol;

	if (!s || !*s)
		return 0;
	eol = strchr(s, '\n');
	t->end = eol ? eol + 1 : s + strlen(s);
	if (!eol)
		eol = t->end;
	for (int i = 0; i < 6; i++) {	/* a seventh field, the package, is not compared */
		const char *tab = memchr(s, '\t', (size_t)(eol - s));

		t->f[i] = s;
		t->l[i] = (size_t)((tab ? tab : eol) - s);
		s = tab ? tab + 1 : eol;
	}
	*p = t->end;
	return 1;
}

static char
type_of(unsigned long mode)
{
	switch (mode & 0170000) {
	case 0040000: return 'd';
	case 0120000: return 'l';
	case 0020000: return 'c';
	case 0060000: return 'b';
	case 0010000: return 'p';
	case 0140000: return 's';
	default: return 'f';
	}
}

size_t
kiln_audit_files(char *tsv, struct kiln_audit_file **ret)
{
	struct kiln_audit_file *v = NULL;
	size_t n = 0;

	for (char *line = tsv; line && *line;) {
		char *eol = strchr(line, '\n'), *f[6] = { line };
		int k = 1;

		if (eol)
			*eol = '\0';
		for (char *c = line; *c && k < 6; c++)
			if (*c == '\t') {
				*c = '\0';
				f[k++] = c + 1;
			}
		if (k == 6 && f[0][0] == '/') {
			unsigned long mode = strtoul(f[1], NULL, 8);

			v = kiln_realloc(v, (n + 1) * sizeof(*v));
			v[n++] = (struct kiln_audit_file){ f[0], type_of(mode), (unsigned)(mode & 07777),
							    (unsigned)strtoul(f[2], NULL, 10), (unsigned)strtoul(f[3], NULL, 10) };
		}
		line = eol ? eol + 1 : NULL;
	}
	*ret = v;
	return n;
}

static int
field_eq(const struct tsv_line *a, const struct tsv_line *b, int i)
{
	return a->l[i] == b->l[i] && !memcmp(a->f[i], b->f[i], a->l[i]);
}

static char *
field_dup(const struct tsv_line *t, int i)
{
	return kiln_strndup(t->f[i], t->l[i]);
}

static int
path_cmp(const struct tsv_line *a, const struct tsv_line *b)
{
	size_t n = a->l[0] < b->l[0] ? a->l[0] : b->l[0];
	int c = memcmp(a->f[0], b->f[0], n);

	return c ? c : (a->l[0] > b->l[0]) - (a->l[0] < b->l[0]);
}

static void
add_pair(struct kiln_finding **ret, size_t *n, const char *rule, const struct tsv_line *t, char *expected, char *actual)
{
	_cleanup_free_ char *path = field_dup(t, 0);

	kiln_finding_add(ret, n, rule, path, expected, actual);
	free(expected);
	free(actual);
}

void
kiln_audit_integrity(const char *signed_tsv, const char *image_tsv, struct kiln_finding **ret, size_t *ret_n)
{
	const char *ps = signed_tsv, *pi = image_tsv;
	struct tsv_line s, i;
	int hs = tsv_next(&ps, &s), hi = tsv_next(&pi, &i);

	while (hs || hi) {
		int c = !hs ? 1 : !hi ? -1 : path_cmp(&s, &i);

		if (c < 0) {
			add_pair(ret, ret_n, "removed", &s, kiln_strdup("present"), kiln_strdup("absent"));
			hs = tsv_next(&ps, &s);
			continue;
		}
		if (c > 0) {
			add_pair(ret, ret_n, "added", &i, kiln_strdup("absent"), kiln_asprintf("%.*s", (int)i.l[1], i.f[1]));
			hi = tsv_next(&pi, &i);
			continue;
		}
		{
			unsigned long ms = strtoul(s.f[1], NULL, 8), mi = strtoul(i.f[1], NULL, 8);

			if (type_of(ms) != type_of(mi))
				add_pair(ret, ret_n, "changed-type", &s, kiln_asprintf("%06lo", ms), kiln_asprintf("%06lo", mi));
			else if (ms != mi)
				add_pair(ret, ret_n, "changed-mode", &s, kiln_asprintf("%04lo", ms & 07777),
					 kiln_asprintf("%04lo", mi & 07777));
			if (!field_eq(&s, &i, 2) || !field_eq(&s, &i, 3))
				add_pair(ret, ret_n, "changed-owner", &s, kiln_asprintf("%.*s:%.*s", (int)s.l[2], s.f[2], (int)s.l[3], s.f[3]),
					 kiln_asprintf("%.*s:%.*s", (int)i.l[2], i.f[2], (int)i.l[3], i.f[3]));
			if (type_of(ms) == type_of(mi) && !(i.l[5] == 1 && i.f[5][0] == '-') &&
			    (!field_eq(&s, &i, 4) || !field_eq(&s, &i, 5)))
				add_pair(ret, ret_n, "changed-content", &s,
					 kiln_asprintf("%.*s bytes, sha256 %.*s", (int)s.l[4], s.f[4], (int)s.l[5], s.f[5]),
					 kiln_asprintf("%.*s bytes, sha256 %.*s", (int)i.l[4], i.f[4], (int)i.l[5], i.f[5]));
		}
		hs = tsv_next(&ps, &s);
		hi = tsv_next(&pi, &i);
	}
}

static int
pkg_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));

	return c ? c : kiln_deb_version_cmp(json_string_value(json_object_get(x, "version")),
					    json_string_value(json_object_get(y, "version")));
}

json_t *
kiln_audit_dpkg_packages(const char *status)
{
	struct kiln_deb822 d = { 0 };
	struct kiln_ctx ctx;
	json_t **v = NULL, *out = json_array();
	size_t n = 0;

	kiln_ctx_init(&ctx);
	if (!status || kiln_deb822_parse(&ctx, "dpkg status", status, strlen(status), &d) < 0)
		return out;
	for (size_t i = 0; i < d.n_paras; i++) {
		const struct kiln_deb822_field *name = kiln_deb822_get(&d.paras[i], "Package");
		const struct kiln_deb822_field *ver = kiln_deb822_get(&d.paras[i], "Version");
		const struct kiln_deb822_field *arch = kiln_deb822_get(&d.paras[i], "Architecture");
		const struct kiln_deb822_field *st = kiln_deb822_get(&d.paras[i], "Status");
		json_t *p;

		/* installed: "install ok installed" (and "hold ok installed") */
		if (!name || !ver || !st || !strstr(st->value, " installed") || strstr(st->value, "not-installed"))
			continue;
		p = json_pack("{s:s, s:s, s:s}", "name", name->value, "version", ver->value, "arch",
			      arch ? arch->value : "");
		if (!p)
			continue;	/* not UTF-8 */
		v = kiln_realloc(v, (n + 1) * sizeof(*v));
		v[n++] = p;
	}
	if (n)
		qsort(v, n, sizeof(*v), pkg_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	kiln_deb822_release(&d);
	return out;
}
