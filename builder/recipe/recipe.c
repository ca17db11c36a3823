/* recipe.c - parse and validate recipes with inih; every error names file:line and key. */
#define _GNU_SOURCE
#include "recipe.h"
#include "cmdline.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <string.h>

enum section_id { SEC_NONE, SEC_IMAGE, SEC_SOURCE, SEC_KERNEL, SEC_PACKAGES,
		  SEC_FILES, SEC_USERS, SEC_DIRECTORIES, SEC_NETWORK, SEC_OUTPUT, SEC_LIMITS, SEC__MAX };

static const struct {
	const char *name;
	int repeatable;
	int free_keys;		/* keys are paths or names, not from a fixed set */
	const char *keys[12];
} sections[SEC__MAX] = {
	[SEC_IMAGE] = { "Image", 0, 0, { "Family", "Description", "Cmd", "Hostname", "OnExit",
					 "User", "Environment", "State", "ExecStartPre", "FirstBoot" } },
	[SEC_SOURCE] = { "Source", 1, 0, { "From", "URI", "Suites", "Components", "Keyring" } },
	[SEC_KERNEL] = { "Kernel", 0, 0, { "Package", "Cmdline", "Modules" } },
	[SEC_PACKAGES] = { "Packages", 0, 0, { "Install", "Exclude", "AllowDowngrade", "Closure", "Keep" } },
	[SEC_FILES] = { "Files", 0, 1, { 0 } },
	[SEC_USERS] = { "Users", 0, 1, { 0 } },
	[SEC_DIRECTORIES] = { "Directories", 0, 1, { 0 } },
	[SEC_NETWORK] = { "Network", 0, 0, { "Address", "Gateway" } },
	[SEC_OUTPUT] = { "Output", 0, 0, { "Formats", "Compression" } },
	[SEC_LIMITS] = { "Limits", 0, 0, { "PackageSize", "PackageEntries", "ImageSize", "ImageEntries" } },
};

struct kv {
	char *key, *value;
	int line;
};

/* One [Section] instance as read, before validation. */
struct sec {
	enum section_id id;
	int line;
	struct kv *kv;
	size_t n_kv;
};

struct parse {
	struct kiln_ctx *ctx;
	const char *path;
	const char *data, *pos, *end;
	int line;		/* line the reader handed out last */
	int cont;		/* that line continues the previous value */
	int err_line;		/* line of the first error recorded */
	struct sec *secs;
	size_t n_secs;
};

static int
perr(struct parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
perr(struct parse *p, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (p->ctx->code)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err_line = line;
	if (line > 0)
		return kiln_error(p->ctx, KILN_EXIT_USAGE, "%s:%d: %s", p->path, line, msg);
	return kiln_error(p->ctx, KILN_EXIT_USAGE, "%s: %s", p->path, msg);
}

static enum section_id
section_lookup(const char *name)
{
	for (int i = 1; i < SEC__MAX; i++)
		if (strcmp(sections[i].name, name) == 0)
			return i;
	return SEC_NONE;
}

/* Called by the reader for each "[...]" line, because inih tells nothing of empty sections. */
static void
section_begin(struct parse *p, const char *line, size_t len)
{
	const char *close = memchr(line, ']', len);
	_cleanup_free_ char *name = NULL;
	enum section_id id;
	struct sec *s;

	if (!close)
		return;		/* inih reports the syntax error */
	name = kiln_strndup(line + 1, close - line - 1);
	id = section_lookup(name);
	if (id == SEC_NONE) {
		perr(p, p->line, "unknown section [%s]", name);
		return;
	}
	if (!sections[id].repeatable)
		for (size_t i = 0; i < p->n_secs; i++)
			if (p->secs[i].id == id) {
				perr(p, p->line, "section [%s] given twice (first at line %d)", name,
				     p->secs[i].line);
				return;
			}
	p->secs = kiln_realloc(p->secs, (p->n_secs + 1) * sizeof(*p->secs));
	s = &p->secs[p->n_secs++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->line = p->line;
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *nl, *s;
	size_t len;

	if (p->pos >= p->end)
		return NULL;
	nl = memchr(p->pos, '\n', p->end - p->pos);
	len = (nl ? nl : p->end) - p->pos;
	p->line++;
	if (len > KILN_RECIPE_LINE_MAX || len + 1 > (size_t)num) {
		perr(p, p->line, "line too long (over %d characters): continue the value on an indented line",
		     KILN_RECIPE_LINE_MAX);
		return NULL;
	}
	memcpy(str, p->pos, len);
	str[len] = '\0';
	p->pos += len + (nl ? 1 : 0);

	for (s = str; *s == ' ' || *s == '\t' || *s == '\r'; s++)
		;
	p->cont = s > str && *s && *s != ';' && *s != '#' && *s != '[';
	if (*s == '[')
		section_begin(p, s, len - (s - str));
	return str;
}

static int
key_allowed(enum section_id id, const char *key)
{
	if (sections[id].free_keys)
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(sections[id].keys) && sections[id].keys[i]; i++)
		if (strcmp(sections[id].keys[i], key) == 0)
			return 1;
	return 0;
}

/* Keys that may be given more than once, each a value of its own (as in systemd units). */
static int
repeatable_key(enum section_id id, const char *key)
{
	return id == SEC_IMAGE && (strcmp(key, "ExecStartPre") == 0 || strcmp(key, "FirstBoot") == 0);
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct sec *s;
	struct kv *kv;

	if (p->ctx->code)
		return 0;
	if (p->n_secs == 0)
		return perr(p, p->line, "key '%s' outside of any section", name), 0;
	s = &p->secs[p->n_secs - 1];
	(void)section;
	if (p->cont && s->n_kv && strcmp(s->kv[s->n_kv - 1].key, name) == 0) {
		/* an indented continuation line: inih hands it over as the same key again */
		char *v = kiln_asprintf("%s %s", s->kv[s->n_kv - 1].value, value);

		free(s->kv[s->n_kv - 1].value);
		s->kv[s->n_kv - 1].value = v;
		return 1;
	}
	if (!key_allowed(s->id, name))
		return perr(p, p->line, "unknown key '%s' in [%s]", name, sections[s->id].name), 0;
	for (size_t i = 0; i < s->n_kv && !repeatable_key(s->id, name); i++)
		if (strcmp(s->kv[i].key, name) == 0)
			return perr(p, p->line, "duplicate key '%s' in [%s] (first at line %d)", name,
				    sections[s->id].name, s->kv[i].line), 0;
	s->kv = kiln_realloc(s->kv, (s->n_kv + 1) * sizeof(*s->kv));
	kv = &s->kv[s->n_kv++];
	kv->key = kiln_strdup(name);
	kv->value = kiln_strdup(value);
	kv->line = p->line;
	return 1;
}

static void
parse_release(struct parse *p)
{
	for (size_t i = 0; i < p->n_secs; i++) {
		for (size_t j = 0; j < p->secs[i].n_kv; j++) {
			free(p->secs[i].kv[j].key);
			free(p->secs[i].kv[j].value);
		}
		free(p->secs[i].kv);
	}
	free(p->secs);
}

static const struct kv *
sec_get(const struct sec *s, const char *key)
{
	for (size_t i = 0; s && i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

static const struct sec *
sec_find(const struct parse *p, enum section_id id)
{
	for (size_t i = 0; i < p->n_secs; i++)
		if (p->secs[i].id == id)
			return &p->secs[i];
	return NULL;
}

/* Returns the value of a required key, or NULL after recording the error. */
static const struct kv *
require(struct parse *p, const struct sec *s, enum section_id id, const char *key)
{
	const struct kv *kv;

	if (!s) {
		perr(p, 0, "missing section [%s] (it needs key '%s')", sections[id].name, key);
		return NULL;
	}
	kv = sec_get(s, key);
	if (!kv || !*kv->value) {
		perr(p, kv ? kv->line : s->line, "missing required key '%s' in [%s]", key,
		     sections[id].name);
		return NULL;
	}
	return kv;
}

static char *
opt_str(const struct sec *s, const char *key, const char *def)
{
	const struct kv *kv = sec_get(s, key);

	if (kv && *kv->value)
		return kiln_strdup(kv->value);
	return def ? kiln_strdup(def) : NULL;
}

static void
opt_words(const struct sec *s, const char *key, struct kiln_strv *sv, const char *def)
{
	const struct kv *kv = sec_get(s, key);

	kiln_strv_split(sv, kv ? kv->value : (def ? def : ""));
}

/* A Debian package name: [a-z0-9][a-z0-9+.-]+ (Policy 5.6.1). */
static int
package_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 128 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      strchr("+-.", s[i])))
			return 0;
	return 1;
}

/* An absolute path whose components are neither empty, "." nor "..", without control characters. */
static int
path_valid(const char *s)
{
	const char *c = s;

	if (s[0] != '/' || s[1] == '\0')
		return 0;
	while (*c == '/') {
		const char *e = c + 1;

		while (*e && *e != '/') {
			if ((unsigned char)*e < 0x20 || *e == 0x7f)
				return 0;
			e++;
		}
		if (e == c + 1 || (e - c == 2 && c[1] == '.') || (e - c == 3 && c[1] == '.' && c[2] == '.'))
			return 0;
		c = e;
	}
	return *c == '\0';
}

static int
parse_uint(const char *s, int base, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, base);
	if (*end || v > max)
		return -1;
	*ret = v;
	return 0;
}

static int
one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return 1;
	return 0;
}

/*
 * A command line (Cmd=, ExecStartPre=, FirstBoot=): split as systemd splits
 * ExecStart=, the program an absolute path. systemd's prefixes (@ - : + !)
 * are not supported.
 */
static int
split_command(struct parse *p, const struct kv *kv, struct kiln_strv *argv)
{
	const char *why = NULL;

	if (!*kv->value)
		return perr(p, kv->line, "missing value for key '%s' in [Image]", kv->key);
	if (kiln_cmdline_split(kv->value, KILN_CMDLINE_DOLLAR, argv, &why) < 0)
		return perr(p, kv->line, "bad value for key '%s' in [Image]: %s", kv->key, why);
	if (argv->n == 0 || !path_valid(argv->v[0]))
		return perr(p, kv->line, "key '%s' in [Image] must start with an absolute path, not '%s'%s", kv->key,
			    argv->n ? argv->v[0] : "",
			    argv->n && strchr("@-:+!", argv->v[0][0]) ? " (systemd's prefixes @-:+! are not supported)" : "");
	return 0;
}

/* NAME=VALUE with NAME a portable environment variable name. */
static int
env_assignment_valid(const char *e)
{
	const char *eq = strchr(e, '=');

	if (!eq || eq == e || isdigit((unsigned char)e[0]))
		return 0;
	for (const char *c = e; c < eq; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_'))
			return 0;
	return 1;
}

/*
 * Directories that cannot be an application's state: the system's own, and
 * those kiln-init mounts over at boot (or that hold the system).
 */
static int
system_dir(const char *path)
{
	static const char *const exact[] = { "/etc", "/var", "/var/lib", "/root", "/srv", "/opt", "/home", "/mnt" };
	static const char *const tree[] = { "/usr", "/proc", "/sys", "/dev", "/run", "/tmp", "/bin", "/sbin",
					    "/lib", "/lib64", "/boot" };

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(path, exact[i]) == 0)
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++) {
		size_t n = strlen(tree[i]);

		if (strncmp(path, tree[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

static int
validate_image(struct parse *p, struct kiln_recipe *r)
{
	static const char *const on_exit[] = { "poweroff", "reboot", "restart", NULL };
	const struct sec *s = sec_find(p, SEC_IMAGE);
	const struct kv *kv;

	if (!(kv = require(p, s, SEC_IMAGE, "Family")))
		return -1;
	if (!kiln_family_name_valid(kv->value))
		return perr(p, kv->line, "bad family name '%s' for key 'Family' in [Image]: use [a-z0-9-]+, at most 63 characters, not starting with '-'",
			    kv->value);
	r->family = kiln_strdup(kv->value);
	if (!(kv = require(p, s, SEC_IMAGE, "Cmd")))
		return -1;
	if (split_command(p, kv, &r->argv) < 0)
		return -1;
	r->cmd = kiln_strdup(kv->value);
	r->description = opt_str(s, "Description", NULL);
	r->hostname = opt_str(s, "Hostname", r->family);
	r->user = opt_str(s, "User", "root");
	r->on_exit = opt_str(s, "OnExit", "poweroff");
	if ((kv = sec_get(s, "OnExit")) && !one_of(r->on_exit, on_exit))
		return perr(p, kv->line, "bad value '%s' for key 'OnExit' in [Image]: use poweroff, reboot or restart", kv->value);
	for (const char *c = r->hostname; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '.') || strlen(r->hostname) > 64) {
			kv = sec_get(s, "Hostname");
			return perr(p, kv ? kv->line : s->line, "bad value '%s' for key 'Hostname' in [Image]", r->hostname);
		}
	if ((kv = sec_get(s, "Environment"))) {
		const char *why = NULL;

		if (kiln_cmdline_split(kv->value, 0, &r->environment, &why) < 0)
			return perr(p, kv->line, "bad value for key 'Environment' in [Image]: %s", why);
		for (size_t i = 0; i < r->environment.n; i++)
			if (!env_assignment_valid(r->environment.v[i]))
				return perr(p, kv->line, "bad value '%s' for key 'Environment' in [Image]: use NAME=VALUE, NAME of letters, digits and '_'",
					    r->environment.v[i]);
	}
	if ((kv = sec_get(s, "State"))) {
		if (!path_valid(kv->value) || strchr(kv->value, ' '))
			return perr(p, kv->line, "bad path '%s' for key 'State' in [Image]: use an absolute path without '.' or '..'", kv->value);
		if (system_dir(kv->value))
			return perr(p, kv->line, "key 'State' in [Image] cannot be '%s': the state directory gets a volume of its own", kv->value);
		r->state = kiln_strdup(kv->value);
	}
	for (size_t i = 0; s && i < s->n_kv; i++) {
		struct kiln_exec *e;
		int first = strcmp(s->kv[i].key, "FirstBoot") == 0;

		if (!first && strcmp(s->kv[i].key, "ExecStartPre") != 0)
			continue;
		if (first && !r->state)
			return perr(p, s->kv[i].line, "key 'FirstBoot' in [Image] needs 'State': a first boot is one whose state directory is empty");
		r->execs = kiln_realloc(r->execs, (r->n_execs + 1) * sizeof(*r->execs));
		e = &r->execs[r->n_execs++];
		memset(e, 0, sizeof(*e));
		e->line = s->kv[i].line;
		e->first_boot = first;
		if (split_command(p, &s->kv[i], &e->argv) < 0)
			return -1;
	}
	return 0;
}

static int
validate_sources(struct parse *p, struct kiln_recipe *r)
{
	const struct kv *kv;

	for (size_t i = 0; i < p->n_secs; i++) {
		const struct sec *s = &p->secs[i];
		struct kiln_source *src;
		const struct kv *from, *uri;

		if (s->id != SEC_SOURCE)
			continue;
		r->sources = kiln_realloc(r->sources, (r->n_sources + 1) * sizeof(*r->sources));
		src = &r->sources[r->n_sources++];
		memset(src, 0, sizeof(*src));
		src->line = s->line;
		from = sec_get(s, "From");
		uri = sec_get(s, "URI");
		if (from && uri)
			return perr(p, uri->line, "key 'URI' in [Source] cannot be combined with 'From' (line %d)", from->line);
		if (!from && !uri)
			return perr(p, s->line, "missing required key 'URI' or 'From' in [Source]");
		if (from) {
			if (strcmp(from->value, "host") != 0)
				return perr(p, from->line, "bad value '%s' for key 'From' in [Source]: only 'host' is known", from->value);
			src->from_host = 1;
			if ((kv = sec_get(s, "Keyring")))
				return perr(p, kv->line, "key 'Keyring' in [Source] cannot be combined with 'From=host': the host's Signed-By is used");
		} else {
			if (!kiln_startswith(uri->value, "http://") && !kiln_startswith(uri->value, "https://") &&
			    !kiln_startswith(uri->value, "file:///"))
				return perr(p, uri->line, "bad value '%s' for key 'URI' in [Source]: use http://, https:// or file:///", uri->value);
			if (strpbrk(uri->value, " \t\"'\\"))
				return perr(p, uri->line, "bad value '%s' for key 'URI' in [Source]", uri->value);
			src->uri = kiln_strdup(uri->value);
			if (!(kv = require(p, s, SEC_SOURCE, "Keyring")))
				return -1;
			if (kv->value[0] != '/')
				return perr(p, kv->line, "key 'Keyring' in [Source] must be an absolute path, not '%s'", kv->value);
			src->keyring = kiln_strdup(kv->value);
		}
		if (!(kv = require(p, s, SEC_SOURCE, "Suites")))
			return -1;
		kiln_strv_split(&src->suites, kv->value);
		opt_words(s, "Components", &src->components, NULL);
		for (size_t j = 0; j < src->suites.n + src->components.n; j++) {
			const char *w = j < src->suites.n ? src->suites.v[j] : src->components.v[j - src->suites.n];

			if (strstr(w, "..") || w[0] == '/' || strpbrk(w, "?#%"))
				return perr(p, (kv = sec_get(s, j < src->suites.n ? "Suites" : "Components"))->line,
					    "bad suite or component '%s' in [Source]", w);
		}
	}
	if (r->n_sources == 0)
		return perr(p, 0, "missing section [Source] (it needs key 'Suites')");
	return 0;
}

static int
validate_packages(struct parse *p, struct kiln_recipe *r)
{
	const struct sec *s = sec_find(p, SEC_KERNEL);
	const struct kv *kv;

	if (!(kv = require(p, s, SEC_KERNEL, "Package")))
		return -1;
	if (!package_name_valid(kv->value))
		return perr(p, kv->line, "bad package name '%s' for key 'Package' in [Kernel]", kv->value);
	r->kernel_package = kiln_strdup(kv->value);
	r->kernel_cmdline = opt_str(s, "Cmdline", "console=ttyS0");
	opt_words(s, "Modules", &r->kernel_modules, NULL);

	s = sec_find(p, SEC_PACKAGES);
	if (!(kv = require(p, s, SEC_PACKAGES, "Install")))
		return -1;
	kiln_strv_split(&r->install, kv->value);
	for (size_t i = 0; i < r->install.n; i++)
		if (!package_name_valid(r->install.v[i]))
			return perr(p, kv->line, "bad package name '%s' for key 'Install' in [Packages]", r->install.v[i]);
	opt_words(s, "AllowDowngrade", &r->allow_downgrade, NULL);
	for (size_t i = 0; i < r->allow_downgrade.n; i++)
		if (!package_name_valid(r->allow_downgrade.v[i]))
			return perr(p, sec_get(s, "AllowDowngrade")->line, "bad package name '%s' for key 'AllowDowngrade' in [Packages]",
				    r->allow_downgrade.v[i]);
	opt_words(s, "Exclude", &r->exclude,
		  "/usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian/*");
	for (size_t i = 0; i < r->exclude.n; i++)
		if (r->exclude.v[i][0] != '/')
			return perr(p, sec_get(s, "Exclude")->line,
				    "bad pattern '%s' for key 'Exclude' in [Packages]: patterns are absolute paths", r->exclude.v[i]);
	if ((kv = sec_get(s, "Closure"))) {
		if (strcmp(kv->value, "files") != 0 && strcmp(kv->value, "packages") != 0)
			return perr(p, kv->line, "bad value '%s' for key 'Closure' in [Packages]: 'packages' or 'files'", kv->value);
		r->closure_files = strcmp(kv->value, "files") == 0;
	}
	opt_words(s, "Keep", &r->keep, NULL);
	for (size_t i = 0; i < r->keep.n; i++)
		if (r->keep.v[i][0] != '/')
			return perr(p, sec_get(s, "Keep")->line,
				    "bad pattern '%s' for key 'Keep' in [Packages]: patterns are absolute paths", r->keep.v[i]);
	if (r->keep.n && !r->closure_files)
		return perr(p, sec_get(s, "Keep")->line, "key 'Keep' in [Packages] needs 'Closure=files' (every file is kept otherwise)");
	return 0;
}

static int
validate_files_users(struct parse *p, struct kiln_recipe *r)
{
	const struct sec *s = sec_find(p, SEC_FILES);

	for (size_t i = 0; s && i < s->n_kv; i++) {
		const struct kv *kv = &s->kv[i];
		struct kiln_file_entry *f;
		const char *colon = strrchr(kv->value, ':');
		unsigned long mode;

		if (!path_valid(kv->key))
			return perr(p, kv->line, "bad path '%s' in [Files]: use an absolute path without '.' or '..'", kv->key);
		if (!colon || colon == kv->value)
			return perr(p, kv->line, "bad value '%s' for key '%s' in [Files]: use SOURCE:MODE", kv->value, kv->key);
		if (kv->value[0] == '/')
			return perr(p, kv->line, "bad source '%.*s' for key '%s' in [Files]: sources are paths inside the recipe's directory",
				    (int)(colon - kv->value), kv->value, kv->key);
		if (colon[1] != '0' || parse_uint(colon + 1, 8, 07777, &mode) < 0)
			return perr(p, kv->line, "bad mode '%s' for key '%s' in [Files]: use octal 0000..07777 with a leading 0",
				    colon + 1, kv->key);
		r->files = kiln_realloc(r->files, (r->n_files + 1) * sizeof(*r->files));
		f = &r->files[r->n_files++];
		f->line = kv->line;
		f->dest = kiln_strdup(kv->key);
		f->src = kiln_strndup(kv->value, colon - kv->value);
		f->mode = (unsigned)mode;
	}

	s = sec_find(p, SEC_USERS);
	for (size_t i = 0; s && i < s->n_kv; i++) {
		const struct kv *kv = &s->kv[i];
		struct kiln_user *u;
		_cleanup_free_ char *v = kiln_strdup(kv->value);
		char *uid = v, *gid, *home;
		unsigned long nuid, ngid;

		if (!kiln_family_name_valid(kv->key) && !(kv->key[0] == '_' && kiln_family_name_valid(kv->key + 1)))
			return perr(p, kv->line, "bad user name '%s' in [Users]", kv->key);
		gid = strchr(uid, ':');
		home = gid ? strchr(gid + 1, ':') : NULL;
		if (!gid || !home)
			return perr(p, kv->line, "bad value '%s' for key '%s' in [Users]: use UID:GID:HOME", kv->value, kv->key);
		*gid++ = '\0';
		*home++ = '\0';
		if (parse_uint(uid, 10, 65534, &nuid) < 0 || parse_uint(gid, 10, 65534, &ngid) < 0)
			return perr(p, kv->line, "bad uid or gid in '%s' for key '%s' in [Users]", kv->value, kv->key);
		if (!path_valid(home))
			return perr(p, kv->line, "bad home '%s' for key '%s' in [Users]", home, kv->key);
		r->users = kiln_realloc(r->users, (r->n_users + 1) * sizeof(*r->users));
		u = &r->users[r->n_users++];
		u->line = kv->line;
		u->name = kiln_strdup(kv->key);
		u->uid = (unsigned)nuid;
		u->gid = (unsigned)ngid;
		u->home = kiln_strdup(home);
	}
	return 0;
}

/* A user or group name as Debian allows them ([a-z_][a-z0-9_-]*, at most 32), or a number. */
static int
account_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return 0;
	if (strspn(s, "0123456789") == n)
		return 1;
	if (isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* [Directories] PATH=MODE[:USER[:GROUP]]: made at build time, or by kiln-init at boot under /run and /tmp. */
static int
validate_directories(struct parse *p, struct kiln_recipe *r)
{
	const struct sec *s = sec_find(p, SEC_DIRECTORIES);

	for (size_t i = 0; s && i < s->n_kv; i++) {
		const struct kv *kv = &s->kv[i];
		_cleanup_(kiln_strv_releasep) struct kiln_strv f = { 0 };
		struct kiln_dir_entry *d;
		unsigned long mode;
		const char *c = kv->value;

		if (!path_valid(kv->key))
			return perr(p, kv->line, "bad path '%s' in [Directories]: use an absolute path without '.' or '..'", kv->key);
		if (kiln_startswith(kv->key, "/proc/") || kiln_startswith(kv->key, "/sys/") ||
		    kiln_startswith(kv->key, "/dev/") || !strcmp(kv->key, "/proc") || !strcmp(kv->key, "/sys") ||
		    !strcmp(kv->key, "/dev"))
			return perr(p, kv->line, "bad path '%s' in [Directories]: kiln-init mounts the kernel's filesystems there", kv->key);
		for (;;) {
			const char *colon = strchr(c, ':');

			kiln_strv_push_take(&f, colon ? kiln_strndup(c, colon - c) : kiln_strdup(c));
			if (!colon)
				break;
			c = colon + 1;
		}
		if (f.n > 3 || f.v[0][0] != '0' || parse_uint(f.v[0], 8, 07777, &mode) < 0)
			return perr(p, kv->line, "bad value '%s' for key '%s' in [Directories]: use MODE[:USER[:GROUP]], MODE octal with a leading 0",
				    kv->value, kv->key);
		for (size_t j = 1; j < f.n; j++)
			if (!account_valid(f.v[j]))
				return perr(p, kv->line, "bad %s '%s' for key '%s' in [Directories]", j == 1 ? "user" : "group",
					    f.v[j], kv->key);
		r->dirs = kiln_realloc(r->dirs, (r->n_dirs + 1) * sizeof(*r->dirs));
		d = &r->dirs[r->n_dirs++];
		d->line = kv->line;
		d->path = kiln_strdup(kv->key);
		d->mode = (unsigned)mode;
		d->user = kiln_strdup(f.n > 1 ? f.v[1] : "root");
		d->group = kiln_strdup(f.n > 2 ? f.v[2] : d->user);
	}
	return 0;
}

static int
cidr_valid(const char *s, int want_prefix)
{
	_cleanup_free_ char *a = kiln_strdup(s);
	char *slash = strchr(a, '/');
	struct in_addr in;
	unsigned long pfx;

	if (!!slash != !!want_prefix)
		return 0;
	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, 10, 32, &pfx) < 0)
			return 0;
	}
	return inet_pton(AF_INET, a, &in) == 1;
}

static int
validate_rest(struct parse *p, struct kiln_recipe *r)
{
	static const char *const formats[] = { "initramfs", "raw", "qcow2", "vhd", NULL };
	static const char *const compressions[] = { "zstd", "gzip", "xz", "none", NULL };
	const struct sec *s = sec_find(p, SEC_NETWORK);
	const struct kv *kv;

	if ((kv = sec_get(s, "Address"))) {
		if (!cidr_valid(kv->value, 1))
			return perr(p, kv->line, "bad value '%s' for key 'Address' in [Network]: use A.B.C.D/PREFIX", kv->value);
		r->net_address = kiln_strdup(kv->value);
	}
	if ((kv = sec_get(s, "Gateway"))) {
		if (!cidr_valid(kv->value, 0))
			return perr(p, kv->line, "bad value '%s' for key 'Gateway' in [Network]: use A.B.C.D", kv->value);
		if (!r->net_address)
			return perr(p, kv->line, "key 'Gateway' in [Network] needs 'Address'");
		r->net_gateway = kiln_strdup(kv->value);
	}

	s = sec_find(p, SEC_OUTPUT);
	opt_words(s, "Formats", &r->formats, "initramfs");
	for (size_t i = 0; i < r->formats.n; i++)
		if (!one_of(r->formats.v[i], formats))
			return perr(p, sec_get(s, "Formats")->line,
				    "bad value '%s' for key 'Formats' in [Output]: use initramfs, raw, qcow2 or vhd", r->formats.v[i]);
	r->compression = opt_str(s, "Compression", "xz");
	{
		_cleanup_free_ char *alg = kiln_strdup(r->compression);
		char *colon = strchr(alg, ':');
		unsigned long level, max = 0;

		if (colon)
			*colon = '\0';
		if (one_of(alg, compressions))
			max = strcmp(alg, "zstd") == 0 ? 19 : strcmp(alg, "none") == 0 ? 0 : 9;
		if (!max && strcmp(alg, "none") != 0)
			return perr(p, sec_get(s, "Compression")->line,
				    "bad value '%s' for key 'Compression' in [Output]: use zstd, gzip, xz or none", r->compression);
		if (colon && (parse_uint(colon + 1, 10, max, &level) < 0 || level < 1))
			return perr(p, sec_get(s, "Compression")->line,
				    "bad level in '%s' for key 'Compression' in [Output]: use %s:1..%lu", r->compression, alg, max);
	}
	return 0;
}

/* [Limits]: what one package and the whole image may expand to (decompression bombs stop there). */
static int
validate_limits(struct parse *p, struct kiln_recipe *r)
{
	static const struct kiln_limits defaults = KILN_LIMITS_DEFAULT;
	const struct sec *s = sec_find(p, SEC_LIMITS);
	const struct { const char *key; uint64_t *v; int size; } keys[] = {
		{ "PackageSize", &r->limits.package_bytes, 1 }, { "PackageEntries", &r->limits.package_entries, 0 },
		{ "ImageSize", &r->limits.image_bytes, 1 }, { "ImageEntries", &r->limits.image_entries, 0 },
	};

	r->limits = defaults;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct kv *kv = sec_get(s, keys[i].key);
		unsigned long n;

		if (!kv)
			continue;
		if (keys[i].size ? kiln_parse_size(kv->value, keys[i].v) < 0
				 : parse_uint(kv->value, 10, 100000000, &n) < 0 || !n)
			return perr(p, kv->line, "bad value '%s' for key '%s' in [Limits]: use %s", kv->value, keys[i].key,
				    keys[i].size ? "a size such as 1G, 512M or 1073741824" : "a count from 1 to 100000000");
		if (!keys[i].size)
			*keys[i].v = n;
	}
	return 0;
}

int
kiln_recipe_parse(struct kiln_ctx *ctx, const char *path, const char *data, size_t len,
		  struct kiln_recipe **ret)
{
	_cleanup_(kiln_recipe_freep) struct kiln_recipe *r = NULL;
	_cleanup_free_ char *p1 = kiln_strdup(path), *p2 = kiln_strdup(path);
	struct parse p = { .ctx = ctx, .path = path, .data = data, .pos = data, .end = data + len };
	const char *nul;
	int rc;

	if (len > KILN_RECIPE_MAX)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: recipe too large (over %d bytes)", path, KILN_RECIPE_MAX);
	if ((nul = memchr(data, '\0', len))) {
		int line = 1;

		for (const char *c = data; c < nul; c++)
			line += *c == '\n';
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: NUL byte in recipe", path, line);
	}
	r = kiln_calloc(1, sizeof(*r));
	r->path = kiln_strdup(path);
	r->name = kiln_strdup(basename(p1));
	r->dir = kiln_strdup(dirname(p2));
	kiln_sha256_hex(data, len, r->sha256);
	r->text = kiln_strndup(data, len);
	r->text_len = len;

	rc = ini_parse_stream(reader, &p, handler, &p);
	if (rc > 0 && (!ctx->code || rc < p.err_line))
		kiln_error_replace(ctx, KILN_EXIT_USAGE, "%s:%d: syntax error: expected [Section] or Key=Value", path, rc);
	if (rc == 0 && !ctx->code &&
	    (validate_image(&p, r) < 0 || validate_sources(&p, r) < 0 || validate_packages(&p, r) < 0 ||
	     validate_files_users(&p, r) < 0 || validate_directories(&p, r) < 0 || validate_rest(&p, r) < 0 ||
	     validate_limits(&p, r) < 0))
		rc = -1;
	parse_release(&p);
	if (rc != 0 || ctx->code)
		return -1;
	*ret = TAKE_PTR(r);
	return 0;
}

int
kiln_recipe_load(struct kiln_ctx *ctx, const char *path, struct kiln_recipe **ret)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (kiln_read_file(ctx, path, KILN_RECIPE_MAX, &data, &len) < 0) {
		if (ctx->kind == KILN_ERR_TOO_LARGE)
			return kiln_error_replace(ctx, KILN_EXIT_USAGE, "%s: recipe too large (over %d bytes)",
						  path, KILN_RECIPE_MAX);
		return -1;
	}
	return kiln_recipe_parse(ctx, path, data, len, ret);
}

void
kiln_recipe_free(struct kiln_recipe *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->name);
	free(r->dir);
	free(r->family);
	free(r->description);
	free(r->cmd);
	free(r->hostname);
	free(r->user);
	free(r->on_exit);
	kiln_strv_release(&r->argv);
	kiln_strv_release(&r->environment);
	free(r->state);
	for (size_t i = 0; i < r->n_execs; i++)
		kiln_strv_release(&r->execs[i].argv);
	free(r->execs);
	for (size_t i = 0; i < r->n_sources; i++) {
		free(r->sources[i].uri);
		free(r->sources[i].keyring);
		kiln_strv_release(&r->sources[i].suites);
		kiln_strv_release(&r->sources[i].components);
	}
	free(r->sources);
	free(r->kernel_package);
	free(r->kernel_cmdline);
	kiln_strv_release(&r->kernel_modules);
	kiln_strv_release(&r->install);
	kiln_strv_release(&r->exclude);
	kiln_strv_release(&r->keep);
	kiln_strv_release(&r->allow_downgrade);
	for (size_t i = 0; i < r->n_files; i++) {
		free(r->files[i].dest);
		free(r->files[i].src);
	}
	free(r->files);
	for (size_t i = 0; i < r->n_users; i++) {
		free(r->users[i].name);
		free(r->users[i].home);
	}
	free(r->users);
	for (size_t i = 0; i < r->n_dirs; i++) {
		free(r->dirs[i].path);
		free(r->dirs[i].user);
		free(r->dirs[i].group);
	}
	free(r->dirs);
	free(r->net_address);
	free(r->net_gateway);
	kiln_strv_release(&r->formats);
	free(r->text);
	free(r->compression);
	free(r);
}

int
kiln_recipe_wants_disk(const struct kiln_recipe *r)
{
	for (size_t i = 0; i < r->formats.n; i++)
		if (strcmp(r->formats.v[i], "initramfs") != 0)
			return 1;
	return 0;
}
