/* tmpfiles.c - the tmpfiles.d lines kiln makes at build time (or has kiln-init make at boot). */
#define _GNU_SOURCE
#include "tmpfiles.h"
#include "cmdline.h"

#include <ctype.h>
#include <string.h>

#define TMPFILE_ARG_MAX 4096

void
kiln_tmpfiles_release(struct kiln_tmpfiles *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].user);
		free(t->v[i].group);
		free(t->v[i].arg);
		free(t->v[i].origin);
	}
	free(t->v);
	kiln_strv_release(&t->ignored);
	memset(t, 0, sizeof(*t));
}

/* An absolute path without "." or ".." components, empty ones or control characters. */
static int
path_ok(const char *s)
{
	if (s[0] != '/')
		return 0;
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c < 0x20)
			return 0;
		if (*c == '/' && (c[1] == '/' || (c[1] == '.' && (c[2] == '/' || !c[2] || (c[2] == '.' && (c[3] == '/' || !c[3]))))))
			return 0;
	}
	return 1;
}

struct parse_arg {
	struct kiln_tmpfiles *t;
	const char *origin;
};

static int
one_line(struct kiln_ctx *ctx, void *user, char *line, int lineno)
{
	struct parse_arg *pa = user;
	struct kiln_tmpfiles *t = pa->t;
	const char *origin = pa->origin;
	_cleanup_(kiln_strv_releasep) struct kiln_strv f = { 0 };
	const char *why = NULL, *type, *mods;
	enum kiln_tmpfile_kind kind;
	struct kiln_tmpfile *e;
	int mode = -1;

	if (kiln_cmdline_split(line, 0, &f, &why) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", origin, lineno, why);
	if (f.n < 2 || !f.v[0][0])
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected TYPE PATH [MODE [USER [GROUP [AGE [ARGUMENT]]]]]",
				  origin, lineno);
	if (f.n == 7 && strcmp(f.v[6], "-") == 0) {	/* "-" is no argument */
		free(f.v[6]);
		f.v[6] = NULL;
		f.n = 6;
	}
	type = f.v[0];
	mods = type + 1;
	if (strspn(mods, "!-+") != strlen(mods))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: tmpfiles modifier in '%s' is not supported (! - + are)",
				  origin, lineno, type);
	switch (type[0]) {
	case 'd': case 'D': case 'v': case 'q': case 'Q':
		kind = KILN_TMPFILE_DIR;
		break;
	case 'f': case 'F': case 'w':
		kind = KILN_TMPFILE_FILE;
		break;
	case 'L':
		kind = KILN_TMPFILE_SYMLINK;
		break;
	case 'z':
		kind = KILN_TMPFILE_ADJUST;
		break;
	case 'x': case 'X': case 'r': case 'R': case 'e':
		kiln_strv_push_take(&t->ignored, kiln_asprintf("%s:%d: tmpfiles '%s %s' (cleanup at run time)", origin,
							       lineno, type, f.v[1]));
		return 0;
	default:
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: tmpfiles type '%s' is not supported (d D v q Q f F w L z are; x X r R e are ignored)",
				  origin, lineno, type);
	}
	if (strchr(line, '%'))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: specifiers (%%) are not supported", origin, lineno);
	if (!path_ok(f.v[1]))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad path '%s'", origin, lineno, f.v[1]);
	if (f.n > 2 && strcmp(f.v[2], "-") != 0) {
		const char *m = f.v[2][0] == ':' ? f.v[2] + 1 : f.v[2];
		char *end;
		long v = strtol(m, &end, 8);

		if (!*m || *end || v < 0 || v > 07777 || !isdigit((unsigned char)*m))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad mode '%s' (kiln takes octal, ':' allowed)", origin,
					  lineno, f.v[2]);
		mode = (int)v;
	}
	if (f.n > 5 && strcmp(f.v[5], "-") != 0 && kind != KILN_TMPFILE_DIR)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: an age on '%s' is not supported", origin, lineno, type);
	if (kind == KILN_TMPFILE_SYMLINK && f.n < 7)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: 'L' needs a target (kiln does not guess one)", origin, lineno);
	if (f.n > 7)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: too many fields", origin, lineno);
	if (f.n > 6 && (kind == KILN_TMPFILE_DIR || kind == KILN_TMPFILE_ADJUST))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: an argument on '%s' is not supported", origin, lineno, type);
	if (f.n > 6 && strlen(f.v[6]) > TMPFILE_ARG_MAX)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: argument over %d bytes", origin, lineno, TMPFILE_ARG_MAX);
	t->v = kiln_realloc(t->v, (t->n + 1) * sizeof(*t->v));
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->path = kiln_strdup(f.v[1]);
	e->mode = mode;
	e->user = f.n > 3 && strcmp(f.v[3], "-") ? kiln_strdup(f.v[3]) : NULL;
	e->group = f.n > 4 && strcmp(f.v[4], "-") ? kiln_strdup(f.v[4]) : NULL;
	e->arg = f.n > 6 ? kiln_strdup(f.v[6]) : NULL;
	e->origin = kiln_asprintf("%s:%d", origin, lineno);
	return 0;
}

int
kiln_tmpfiles_parse(struct kiln_ctx *ctx, struct kiln_tmpfiles *t, const char *text, size_t len, const char *origin)
{
	struct parse_arg pa = { t, origin };

	return kiln_foreach_config_line(ctx, text, len, origin, &pa, one_line);
}
