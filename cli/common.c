/* common.c - what every subcommand shares: error printing and common options. */
#define _GNU_SOURCE
#include "cli.h"
#include "names.h"
#include <dirent.h>

#include <limits.h>

#include <string.h>
#include <unistd.h>

int
kiln_cli_fail(const char *cmd, const struct kiln_ctx *ctx)
{
	/* one line, whatever a package or a file put into the message: control characters are escaped */
	fprintf(stderr, "kiln %s: ", cmd);
	for (const char *c = ctx->msg[0] ? ctx->msg : "failed"; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stderr);
		else if (*c == '\t')
			fputs("\\t", stderr);
		else if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned char)*c);
		else
			fputc(*c, stderr);
	}
	fputc('\n', stderr);
	return ctx->code ? ctx->code : KILN_EXIT_FAILED;
}

int
kiln_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kiln %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " ('kiln help %s' for usage)\n", cmd);
	return KILN_EXIT_USAGE;
}

int
kiln_cli_setup(const char *cmd, struct kiln_cli_common *co, struct kiln_ctx *ctx)
{
	const char *now = co->now ? co->now : getenv("KILN_NOW");
	const char *store = co->store ? co->store : getenv("KILN_STORE");
	struct kiln_settings *s = &co->settings;

	kiln_settings_init(s);
	kiln_ctx_init(ctx);
	ctx->set = s;	/* the run's settings live as long as the command's options */
	if (now && *now && kiln_parse_iso8601(now, &s->now) < 0)
		return kiln_cli_usage_error(cmd, "bad date '%s': use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", now);
	s->store = store && *store ? store : "images";
	s->offline = co->offline;
	s->allow_expired = co->allow_expired;
	s->allow_older_index = co->allow_older_index;
	return 0;
}

#include "build.h"
#include "catalog.h"
#include "recipe.h"

int
kiln_cli_catalog(const char *cmd, struct kiln_ctx *ctx, struct kiln_catalog **ret)
{
	if (kiln_catalog_open(ctx, ctx->set->store, ret) < 0)
		return kiln_cli_fail(cmd, ctx);
	return 0;
}

char *
kiln_cli_image_dir(const struct kiln_ctx *ctx, const char *name, char **ret_family, char **ret_version)
{
	const char *slash = strchr(name, '/');
	char *family, *version;

	if (!slash)
		return NULL;
	family = kiln_strndup(name, slash - name);
	version = kiln_strdup(slash + 1);
	if (!kiln_family_name_valid(family) || !kiln_version_valid(version)) {
		free(family);
		free(version);
		return NULL;
	}
	if (ret_family)
		*ret_family = family;
	else
		free(family);
	if (ret_version)
		*ret_version = version;
	else
		free(version);
	return kiln_asprintf("%s/%s", ctx->set->store, name);
}

void
kiln_cli_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
}

#include <getopt.h>

/* getopt_long's table for @opts (built once per table; a command has at most a few). */
static const struct option *
long_options(const struct kiln_opt *opts)
{
	static struct {
		const struct kiln_opt *key;
		struct option *o;
	} made[16];
	size_t n = 0, i;

	for (i = 0; i < ARRAY_SIZE(made) && made[i].key; i++)
		if (made[i].key == opts)
			return made[i].o;
	while (opts[n].name)
		n++;
	if (i == ARRAY_SIZE(made))
		abort();	/* more tables than commands have */
	made[i].key = opts;
	made[i].o = kiln_calloc(n + 1, sizeof(struct option));
	for (size_t k = 0; k < n; k++)
		made[i].o[k] = (struct option){ opts[k].name, opts[k].arg ? required_argument : no_argument, NULL, opts[k].val };
	return made[i].o;
}

/* "usage: kiln NAME OPERANDS [--opt ARG]...", wrapped at 80 columns under the first option. */
static void
usage_line(FILE *f, const struct kiln_cmd *c)
{
	struct kiln_strv seen = { 0 };
	int col = fprintf(f, "usage: kiln %s%s%s", c->name, *c->operands ? " " : "", c->operands), indent = col;

	for (int t = 0; t < KILN_CMD_TABLES && c->opts[t]; t++)
		for (const struct kiln_opt *o = c->opts[t]; o->name; o++) {
			char word[64];
			int n;

			if (!o->help || kiln_strv_contains(&seen, o->name))
				continue;
			kiln_strv_push(&seen, o->name);
			n = snprintf(word, sizeof(word), " [--%s%s%s]", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			if (col + n > 80 && col > indent) {
				col = fprintf(f, "\n%*s", indent, "") - 1;
			}
			col += fprintf(f, "%s", word);
		}
	fputc('\n', f);
	kiln_strv_release(&seen);
}

/* @name's entry in @c's option tables; a form naming an option the tables lack is a bug. */
static const struct kiln_opt *
find_opt(const struct kiln_cmd *c, const char *name, size_t len)
{
	for (int t = 0; t < KILN_CMD_TABLES && c->opts[t]; t++)
		for (const struct kiln_opt *o = c->opts[t]; o->name; o++)
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
	fprintf(stderr, "kiln: help for '%s' names an option it does not have: '%.*s'\n", c->name, (int)len, name);
	abort();
}

/* One form's line ("usage: kiln deploy create NAME --family F [--version V | --auto]"), wrapped at 80 columns. */
static void
form_line(FILE *f, const struct kiln_cmd *c, const struct kiln_form *fm, int first, struct kiln_strv *named)
{
	int col = fprintf(f, "%s kiln %s%s%s%s%s", first ? "usage:" : "      ", c->name, fm->sub ? " " : "",
			  fm->sub ? fm->sub : "", *fm->operands ? " " : "", fm->operands);
	int indent = col;

	for (const char *p = fm->opts; *p; ) {
		size_t len = strcspn(p, " ");
		int required = *p == '!';
		const char *tok = p + required, *end = p + len;
		struct kiln_buf word = { 0 };

		kiln_buf_addf(&word, "%s", required ? "" : "[");
		while (tok < end) {	/* "a|b": alternatives */
			size_t alen = strcspn(tok, "|");
			const struct kiln_opt *o;

			if ((size_t)(end - tok) < alen)
				alen = end - tok;
			o = find_opt(c, tok, alen);
			if (!kiln_strv_contains(named, o->name))
				kiln_strv_push(named, o->name);
			kiln_buf_addf(&word, "%s--%s%s%s", tok == p + required ? "" : " | ", o->name, o->arg ? " " : "",
				      o->arg ? o->arg : "");
			tok += alen + (tok[alen] == '|');
		}
		kiln_buf_addf(&word, "%s", required ? "" : "]");
		if (col + (int)word.len + 1 > 80 && col > indent)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		col += fprintf(f, " %s", word.data);
		kiln_buf_release(&word);
		p = *end ? end + 1 : end;
	}
	fputc('\n', f);
}

void
kiln_cli_help(FILE *f, const struct kiln_cmd *c)
{
	struct kiln_strv seen = { 0 }, named = { 0 };

	if (c->operands)
		usage_line(f, c);
	for (const struct kiln_form *fm = c->forms; fm && fm->opts; fm++)
		form_line(f, c, fm, fm == c->forms, &named);
	if (c->usage)
		fprintf(f, "\n%s", c->usage);
	for (int t = 0; t < KILN_CMD_TABLES && c->opts[t]; t++)
		for (const struct kiln_opt *o = c->opts[t]; o->name; o++) {
			char left[64];
			const char *h;
			int n;

			if (!o->help || kiln_strv_contains(&seen, o->name))
				continue;
			if (c->forms && !kiln_strv_contains(&named, o->name)) {
				fprintf(stderr, "kiln: no usage line of '%s' shows --%s\n", c->name, o->name);
				abort();
			}
			if (!seen.n)
				fputc('\n', f);
			kiln_strv_push(&seen, o->name);
			n = snprintf(left, sizeof(left), "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "%s%*s", left, n <= 18 ? 19 - n : 2, "");
			for (h = o->help; *h; ) {
				size_t len = strcspn(h, "\n");

				fprintf(f, "%.*s\n", (int)len, h);
				h += len;
				if (*h == '\n' && *++h)
					fprintf(f, "%19s", "");
			}
		}
	kiln_strv_release(&seen);
	kiln_strv_release(&named);
	if (c->footer)
		fprintf(f, "\n%s", c->footer);
}

int
kiln_cli_getopt(int argc, char **argv, const struct kiln_opt *opts, const char *cmd, const char *topic,
		struct kiln_cli_common *co, int *ret_exit)
{
	const struct option *lo = long_options(opts);
	static char **started;
	int c;

	if (started != argv) {	/* a new command line: getopt starts over */
		started = argv;
		optind = 1;
		opterr = 0;
	}
	for (;;) {
		c = getopt_long(argc, argv, "", lo, NULL);
		switch (c) {
		case 's': co->store = optarg; continue;
		case 'n': co->now = optarg; continue;
		case 'j': co->json = 1; continue;
		case 'o': co->offline = 1; continue;
		case 'e': co->allow_expired = 1; continue;
		case 'R': co->allow_older_index = 1; continue;
		case 'h':
			*ret_exit = cmd_help(2, (char *[]){ "help", (char *)topic, NULL });
			return '?';
		case '?':
			if (optopt)	/* a known option without its value */
				*ret_exit = kiln_cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
			else
				*ret_exit = kiln_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			return '?';
		default:
			return c;
		}
	}
}

/* kiln-init: $KILN_INIT, next to this binary, or PREFIX/lib/kiln/. */
char *
kiln_cli_find_init(void)
{
	const char *env = getenv("KILN_INIT");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return kiln_strdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash, *p;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			p = kiln_asprintf("%s/kiln-init", self);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
			p = kiln_asprintf("%s/../lib/kiln/kiln-init", self);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	}
	return kiln_strdup("/usr/local/lib/kiln/kiln-init");
}

/* The newest version of @family built in the store (caller frees), or NULL. */
char *
kiln_cli_newest_built(const char *store, const char *family)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s", store, family);
	DIR *d = opendir(dir);
	struct dirent *de;
	char *best = NULL;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *m = kiln_asprintf("%s/%s/manifest.json", dir, de->d_name);

		if (!kiln_version_valid(de->d_name) || access(m, F_OK) < 0)
			continue;
		if (!best || kiln_version_cmp(de->d_name, best) > 0) {
			free(best);
			best = kiln_strdup(de->d_name);
		}
	}
	if (d)
		closedir(d);
	return best;
}
