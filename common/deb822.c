/* deb822.c - a strict, size-agnostic parser of Debian control paragraphs. */
#define _GNU_SOURCE
#include "deb822.h"

#include <string.h>
#include <strings.h>

static void
para_release(struct kiln_deb822_para *p)
{
	for (size_t i = 0; i < p->n_fields; i++) {
		free(p->fields[i].name);
		free(p->fields[i].value);
	}
	free(p->fields);
}

void
kiln_deb822_release(struct kiln_deb822 *d)
{
	for (size_t i = 0; i < d->n_paras; i++)
		para_release(&d->paras[i]);
	free(d->paras);
	memset(d, 0, sizeof(*d));
}

int
kiln_deb822_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		  struct kiln_deb822 *ret)
{
	struct kiln_deb822 d = { 0 };
	struct kiln_deb822_para *cur = NULL;
	const char *p = data, *end = data + len;
	int line = 0;

	if (memchr(data, '\0', len))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: NUL byte in control data", what);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *e = nl ? nl : end, *colon;
		size_t n = e - p;

		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0 || strspn(p, " \t") >= n) {
			cur = NULL;	/* blank line ends a paragraph */
		} else if (p[0] == '#') {
			/* comment */
		} else if (p[0] == ' ' || p[0] == '\t') {
			struct kiln_deb822_field *f;
			const char *s = p + 1;
			size_t m = n - 1;
			char *v;

			if (!cur || !cur->n_fields) {
				kiln_deb822_release(&d);
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: continuation line without a field", what, line);
			}
			f = &cur->fields[cur->n_fields - 1];
			if (m == 1 && s[0] == '.')
				m = 0;	/* " ." is an empty line */
			if (!*f->value && f->value_line == f->line)
				f->value_line = line;
			v = kiln_asprintf("%s%s%.*s", f->value, *f->value ? "\n" : "", (int)m, s);
			free(f->value);
			f->value = v;
		} else {
			struct kiln_deb822_field *f;
			const char *v;

			colon = memchr(p, ':', n);
			if (!colon || colon == p) {
				kiln_deb822_release(&d);
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected 'Field: value'", what, line);
			}
			if (!cur) {
				d.paras = kiln_realloc(d.paras, (d.n_paras + 1) * sizeof(*d.paras));
				cur = &d.paras[d.n_paras++];
				memset(cur, 0, sizeof(*cur));
				cur->line = line;
			}
			for (const char *c = p; c < colon; c++)
				if (*c <= ' ' || *c > '~') {
					kiln_deb822_release(&d);
					return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad field name", what, line);
				}
			cur->fields = kiln_realloc(cur->fields, (cur->n_fields + 1) * sizeof(*cur->fields));
			f = &cur->fields[cur->n_fields++];
			f->name = kiln_strndup(p, colon - p);
			for (v = colon + 1; v < p + n && (*v == ' ' || *v == '\t'); v++)
				;
			f->value = kiln_strndup(v, p + n - v);
			while (*f->value && strchr(" \t", f->value[strlen(f->value) - 1]))
				f->value[strlen(f->value) - 1] = '\0';
			f->line = line;
			f->value_line = line;
		}
		p = nl ? nl + 1 : end;
	}
	*ret = d;
	return 0;
}

const struct kiln_deb822_field *
kiln_deb822_get(const struct kiln_deb822_para *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_fields; i++)
		if (strcasecmp(p->fields[i].name, name) == 0)
			return &p->fields[i];
	return NULL;
}
