/* cmdline.c - split command lines and environment assignments as systemd's ExecStart= and Environment= do. */
#define _GNU_SOURCE
#include "cmdline.h"

#include <string.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends code point @cp as UTF-8; -1 for surrogates and values past U+10FFFF. */
static int
add_utf8(struct kiln_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	kiln_buf_add(b, u, n);
	return 0;
}

/*
 * One C-style escape after a backslash at *@pp (systemd's cunescape):
 * \a \b \f \n \r \t \v \\ \" \' \s, an escaped space or tab, \xHH, \NNN (octal), \uHHHH, \UHHHHHHHH.
 * Advances *@pp past it; returns 0, or -1 with @err set.
 */
static int
unescape_one(const char **pp, struct kiln_buf *b, const char **err)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s   \t\t";
	const char *p = *pp;
	unsigned long v = 0;
	int digits = 0;

	for (size_t i = 0; simple[i]; i += 2)
		if (*p == simple[i]) {
			kiln_buf_add(b, &simple[i + 1], 1);
			*pp = p + 1;
			return 0;
		}
	switch (*p) {
	case 'x':
		digits = 2;
		break;
	case 'u':
		digits = 4;
		break;
	case 'U':
		digits = 8;
		break;
	case '0': case '1': case '2': case '3':
		for (int i = 0; i < 3; i++) {
			if (p[i] < '0' || p[i] > '7')
				return *err = "bad octal escape: use \\NNN", -1;
			v = v * 8 + (unsigned long)(p[i] - '0');
		}
		if (v == 0)
			return *err = "NUL byte (\\000) in a value", -1;
		kiln_buf_add(b, &(char){ (char)v }, 1);
		*pp = p + 3;
		return 0;
	case '\0':
		return *err = "backslash at the end of the value", -1;
	default:
		return *err = "unknown escape sequence after '\\'", -1;
	}
	for (int i = 1; i <= digits; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return *err = "bad hexadecimal escape", -1;
		v = v * 16 + (unsigned long)h;
	}
	if (v == 0)
		return *err = "NUL byte in a value", -1;
	if (*p == 'x')
		kiln_buf_add(b, &(char){ (char)v }, 1);
	else if (add_utf8(b, v) < 0)
		return *err = "bad Unicode escape", -1;
	*pp = p + 1 + digits;
	return 0;
}

int
kiln_cmdline_split(const char *s, unsigned flags, struct kiln_strv *out, const char **ret_err)
{
	struct kiln_strv words = { 0 };
	struct kiln_buf w = { 0 };
	const char *p = s, *err = NULL;

	for (;;) {
		int in_word = 0;
		char quote = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		w.len = 0;
		for (; *p; p++) {
			if (!quote && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
				break;
			in_word = 1;
			if (!quote && (*p == '"' || *p == '\'')) {
				quote = *p;
				continue;
			}
			if (quote && *p == quote) {
				quote = 0;
				continue;
			}
			if (*p == '\\') {
				p++;
				if (unescape_one(&p, &w, &err) < 0)
					goto fail;
				p--;
				continue;
			}
			if (*p == '$' && (flags & KILN_CMDLINE_DOLLAR)) {
				if (p[1] == '$') {
					kiln_buf_add(&w, "$", 1);
					p++;
					continue;
				}
				if (p[1] == '{' || p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') ||
				    (p[1] >= 'a' && p[1] <= 'z')) {
					err = "variables ($NAME, ${NAME}) are not expanded: write $$ for a literal $";
					goto fail;
				}
			}
			kiln_buf_add(&w, p, 1);
		}
		if (quote) {
			err = quote == '"' ? "unbalanced double quote" : "unbalanced single quote";
			goto fail;
		}
		if (in_word) {
			for (size_t i = 0; i < w.len; i++)
				if (w.data[i] == '\n' || w.data[i] == '\r') {
					err = "a line break in a value";
					goto fail;
				}
			kiln_strv_push(&words, w.len ? w.data : "");
		}
	}
	kiln_buf_release(&w);
	for (size_t i = 0; i < words.n; i++)
		kiln_strv_push(out, words.v[i]);
	kiln_strv_release(&words);
	return 0;
fail:
	kiln_buf_release(&w);
	kiln_strv_release(&words);
	*ret_err = err;
	return -1;
}

char *
kiln_cmdline_quote(const struct kiln_strv *argv)
{
	struct kiln_buf b = { 0 };

	for (size_t i = 0; i < argv->n; i++) {
		const char *a = argv->v[i];
		int plain = *a != '\0';

		for (const char *c = a; *c; c++)
			if (strchr(" \t\"'\\$", *c) || (unsigned char)*c < 0x20)
				plain = 0;
		if (i)
			kiln_buf_add(&b, " ", 1);
		if (plain) {
			kiln_buf_add(&b, a, strlen(a));
			continue;
		}
		kiln_buf_add(&b, "\"", 1);
		for (const char *c = a; *c; c++) {
			if (*c == '"' || *c == '\\')
				kiln_buf_add(&b, "\\", 1);
			if (*c == '$')
				kiln_buf_add(&b, "$", 1);
			if (*c == '\t')
				kiln_buf_add(&b, "\\t", 2);
			else if ((unsigned char)*c < 0x20)
				kiln_buf_addf(&b, "\\x%02x", (unsigned char)*c);
			else
				kiln_buf_add(&b, c, 1);
		}
		kiln_buf_add(&b, "\"", 1);
	}
	if (!b.data)
		kiln_buf_add(&b, "", 0);
	return kiln_buf_detach(&b, NULL);
}
