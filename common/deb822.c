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

static int
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* Appends the continuation lines gathered in @cont to the last field of @p. */
static void
flush_cont(struct kiln_deb822_para *p, struct kiln_buf *cont, int *have_cont)
{
	struct kiln_deb822_field *f;

	*have_cont = 0;
	if (!p || !p->n_fields || !cont->len) {
		cont->len = 0;
		return;
	}
	f = &p->fields[p->n_fields - 1];
	f->value = kiln_realloc(f->value, strlen(f->value) + cont->len + 1);
	memcpy(f->value + strlen(f->value), cont->data, cont->len + 1);
	cont->len = 0;
}

int
kiln_deb822_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		  struct kiln_deb822 *ret)
{
	struct kiln_buf cont = { 0 };
	int have_cont = 0;
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
		if (blank(p, n)) {
			flush_cont(cur, &cont, &have_cont);
			cur = NULL;	/* blank line ends a paragraph */
		} else if (p[0] == '#') {
			/* comment */
		} else if (p[0] == ' ' || p[0] == '\t') {
			struct kiln_deb822_field *f;
			const char *s = p + 1;
			size_t m = n - 1;

			if (!cur || !cur->n_fields) {
				kiln_buf_release(&cont);
				kiln_deb822_release(&d);
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: continuation line without a field", what, line);
			}
			f = &cur->fields[cur->n_fields - 1];
			if (m == 1 && s[0] == '.')
				m = 0;	/* " ." is an empty line */
			if (!*f->value && f->value_line == f->line)
				f->value_line = line;
			/* appended in place: a Release's SHA256 list has thousands of lines */
			if (*f->value || have_cont)
				kiln_buf_add(&cont, "\n", 1);
			kiln_buf_add(&cont, s, m);
			have_cont = 1;
		} else {
			struct kiln_deb822_field *f;
			const char *v;

			flush_cont(cur, &cont, &have_cont);
			colon = memchr(p, ':', n);
			if (!colon || colon == p) {
				kiln_buf_release(&cont);
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
					kiln_buf_release(&cont);
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
	flush_cont(cur, &cont, &have_cont);
	kiln_buf_release(&cont);
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
