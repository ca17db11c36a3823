/* policy.c - kiln audit's policy: parsed with inih, evaluated over a file list and the account files. */
#define _GNU_SOURCE
#include "policy.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse {
	struct kiln_ctx *ctx;
	const char *path, *pos, *end;
	int line;
	struct kiln_audit_policy *p;
};

/* inih reads lines through this, so that errors can name them. */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *nl;
	size_t n;

	if (ps->pos >= ps->end)
		return NULL;
	nl = memchr(ps->pos, '\n', ps->end - ps->pos);
	n = (nl ? nl + 1 : ps->end) - ps->pos;
	ps->line++;
	if (n >= (size_t)num) {
		kiln_error(ps->ctx, KILN_EXIT_USAGE, "%s:%d: line too long (over %d characters; lists may be split"
			   " over several Allow= lines)", ps->path, ps->line, num - 2);
		return NULL;
	}
	memcpy(str, ps->pos, n);
	str[n] = '\0';
	ps->pos += n;
	return str;
}

static int perr(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct parse *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kiln_error(ps->ctx, KILN_EXIT_USAGE, "%s:%d: %s", ps->path, ps->line, msg);
	return 0;
}

static int
parse_deny(struct parse *ps, const char *name, const char *value, int *ret)
{
	if (!strcmp(value, "deny"))
		*ret = 1;
	else if (!strcmp(value, "allow"))
		*ret = 0;
	else
		return perr(ps, "%s=%s: deny or allow", name, value);
	return 1;
}

/* "[max] MODE [OWNER [GROUP]]" */
static int
parse_path(struct parse *ps, const char *name, const char *value)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv w = { 0 };
	struct kiln_audit_path r = { .exact = 1, .line = ps->line };
	size_t i = 0;
	char *end;
	unsigned long mode;

	if (name[0] != '/' || strstr(name, "//") || strstr(name, "/../") || strstr(name, "/./"))
		return perr(ps, "'%s': a path is absolute and normalized", name);
	kiln_strv_split(&w, value);
	if (i < w.n && !strcmp(w.v[i], "max")) {
		r.exact = 0;
		i++;
	}
	if (i >= w.n || w.v[i][0] != '0' || (mode = strtoul(w.v[i], &end, 8), *end) || mode > 07777 || w.n - i > 3)
		return perr(ps, "'%s': expected [max] MODE (octal, 0644) [OWNER [GROUP]], not '%s'", name, value);
	r.mode = (unsigned)mode;
	if (++i < w.n && strcmp(w.v[i], "-"))
		r.owner = kiln_strdup(w.v[i]);
	if (++i < w.n && strcmp(w.v[i], "-"))
		r.group = kiln_strdup(w.v[i]);
	r.path = kiln_strdup(name);
	ps->p->paths = kiln_realloc(ps->p->paths, (ps->p->n_paths + 1) * sizeof(*ps->p->paths));
	ps->p->paths[ps->p->n_paths++] = r;
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;

	if (ps->ctx->code)
		return 0;
	if (!strcmp(section, "Paths"))
		return parse_path(ps, name, value);
	if ((!strcmp(section, "WorldWritable") || !strcmp(section, "Setuid")) && !strcmp(name, "Allow")) {
		struct kiln_strv *to = section[0] == 'W' ? &ps->p->ww_allow : &ps->p->suid_allow;
		size_t first = to->n;

		kiln_strv_split(to, value);
		for (size_t i = first; i < to->n; i++)
			if (to->v[i][0] != '/')
				return perr(ps, "[%s] Allow: '%s' is not an absolute path", section, to->v[i]);
		return 1;
	}
	if (!strcmp(section, "Accounts") && !strcmp(name, "EmptyPasswords"))
		return parse_deny(ps, name, value, &ps->p->empty_passwords);
	if (!strcmp(section, "Accounts") && !strcmp(name, "ExtraUid0"))
		return parse_deny(ps, name, value, &ps->p->extra_uid0);
	if (!strcmp(section, "Accounts") && !strcmp(name, "Unowned"))
		return parse_deny(ps, name, value, &ps->p->unowned);
	return perr(ps, "unknown key '%s' in [%s]", name, section);
}

int
kiln_audit_policy_parse(struct kiln_ctx *ctx, const char *path, const char *data, size_t len,
			struct kiln_audit_policy *ret)
{
	struct parse ps = { .ctx = ctx, .path = path, .pos = data, .end = data + len, .p = ret };
	int rc;

	memset(ret, 0, sizeof(*ret));
	ret->empty_passwords = ret->extra_uid0 = ret->unowned = 1;
	if (len > KILN_AUDIT_POLICY_MAX)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: policy too large (over %d bytes)", path, KILN_AUDIT_POLICY_MAX);
	if (memchr(data, '\0', len))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: NUL byte in policy", path);
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (rc > 0 && !ctx->code)
		kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: syntax error: expected [Section] or Key=Value", path, rc);
	if (rc != 0 || ctx->code) {
		kiln_audit_policy_release(ret);
		return -1;
	}
	return 0;
}

void
kiln_audit_policy_release(struct kiln_audit_policy *p)
{
	for (size_t i = 0; i < p->n_paths; i++) {
		free(p->paths[i].path);
		free(p->paths[i].owner);
		free(p->paths[i].group);
	}
	free(p->paths);
	kiln_strv_release(&p->ww_allow);
	kiln_strv_release(&p->suid_allow);
	memset(p, 0, sizeof(*p));
}

void
kiln_findings_free(struct kiln_finding *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].rule);
		free(f[i].path);
		free(f[i].expected);
		free(f[i].actual);
	}
}

struct out {
	struct kiln_finding *v;
	size_t n;
};

static void
add(struct out *o, const char *rule, const char *path, char *expected, char *actual)
{
	o->v = kiln_realloc(o->v, (o->n + 1) * sizeof(*o->v));
	o->v[o->n++] = (struct kiln_finding){ kiln_strdup(rule), kiln_strdup(path), expected, actual };
}

/* The @field-th (0-based) ':'-separated field of @line (up to its end), a new string. */
static char *
field(const char *line, const char *eol, int field)
{
	const char *p = line, *e;

	for (int i = 0; i < field; i++) {
		p = memchr(p, ':', eol - p);
		if (!p)
			return NULL;
		p++;
	}
	e = memchr(p, ':', eol - p);
	return kiln_strndup(p, (e ? e : eol) - p);
}

/* Calls @fn for each line of @text with its first (name), @f1-th and @f2-th fields. */
static void
each_account(const char *text, int f1, int f2, void (*fn)(void *data, const char *name, const char *a, const char *b),
	     void *data)
{
	for (const char *p = text; p && *p; ) {
		const char *eol = strchr(p, '\n');
		char *name, *a, *b;

		eol = eol ? eol : p + strlen(p);
		if (eol > p && *p != '#') {
			name = field(p, eol, 0);
			a = field(p, eol, f1);
			b = field(p, eol, f2);
			if (name && a)
				fn(data, name, a, b);
			free(name);
			free(a);
			free(b);
		}
		p = *eol ? eol + 1 : eol;
	}
}

struct ids {
	struct kiln_strv names, ids;
};

static void
collect(void *data, const char *name, const char *id, const char *unused)
{
	struct ids *s = data;

	(void)unused;
	kiln_strv_push(&s->names, name);
	kiln_strv_push(&s->ids, id);
}

static const char *
name_of(const struct ids *s, unsigned id)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", id);
	for (size_t i = 0; i < s->ids.n; i++)
		if (!strcmp(s->ids.v[i], buf))
			return s->names.v[i];
	return NULL;
}

static void
empty_password(void *data, const char *name, const char *pw, const char *unused)
{
	(void)unused;
	if (!*pw)
		add(data, "empty-password", name, kiln_strdup("a password or a locked account ('!' or '*')"),
		    kiln_strdup("empty"));
}

static void
uid0(void *data, const char *name, const char *uid, const char *unused)
{
	(void)unused;
	if (!strcmp(uid, "0") && strcmp(name, "root"))
		add(data, "uid0", name, kiln_strdup("uid 0 for root only"), kiln_strdup("uid 0"));
}

/* Is @path @dir or under it? */
static int
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0' || !strcmp(dir, "/"));
}

void
kiln_audit_evaluate(const struct kiln_audit_policy *p, const struct kiln_audit_file *files, size_t n,
		    const char *passwd, const char *group, const char *shadow, struct kiln_finding **ret,
		    size_t *ret_n)
{
	struct out o = { *ret, *ret_n };
	struct ids users = { 0 }, groups = { 0 };

	each_account(passwd, 2, 2, collect, &users);
	each_account(group, 2, 2, collect, &groups);
	for (size_t r = 0; r < p->n_paths; r++) {
		const struct kiln_audit_path *rule = &p->paths[r];
		const struct kiln_audit_file *f = NULL;
		const char *owner, *grp;

		for (size_t i = 0; i < n && !f; i++)
			if (!strcmp(files[i].path, rule->path))
				f = &files[i];
		if (!f) {
			/* "at most" holds for a file that is not there; an exact mode needs the file */
			if (rule->exact)
				add(&o, "missing", rule->path, kiln_strdup("present"), kiln_strdup("absent"));
			continue;
		}
		if (rule->exact ? f->mode != rule->mode : (f->mode & ~rule->mode) != 0)
			add(&o, "mode", f->path, kiln_asprintf(rule->exact ? "%04o" : "at most %04o", rule->mode),
			    kiln_asprintf("%04o", f->mode));
		owner = name_of(&users, f->uid);
		grp = name_of(&groups, f->gid);
		if (rule->owner && (!owner || strcmp(owner, rule->owner)))
			add(&o, "owner", f->path, kiln_strdup(rule->owner),
			    owner ? kiln_strdup(owner) : kiln_asprintf("uid %u", f->uid));
		if (rule->group && (!grp || strcmp(grp, rule->group)))
			add(&o, "group", f->path, kiln_strdup(rule->group),
			    grp ? kiln_strdup(grp) : kiln_asprintf("gid %u", f->gid));
	}
	for (size_t i = 0; i < n; i++) {
		const struct kiln_audit_file *f = &files[i];
		int allowed = 0;

		/*
		 * as cloud and CIS checks count them: regular files, and directories
		 * without the sticky bit; a device node's mode is its interface
		 * (/dev/null is 0666), a symlink's means nothing
		 */
		if ((f->type == 'f' || (f->type == 'd' && !(f->mode & 01000))) && (f->mode & 0002)) {
			for (size_t k = 0; k < p->ww_allow.n && !allowed; k++)
				allowed = under(f->path, p->ww_allow.v[k]);
			if (!allowed)
				add(&o, "world-writable", f->path, kiln_strdup("not world-writable"), kiln_asprintf("%04o", f->mode));
		}
		if (f->type == 'f' && (f->mode & 06000) && !kiln_strv_contains(&p->suid_allow, f->path))
			add(&o, "setuid", f->path, kiln_strdup("no setuid/setgid bit (not on the allow-list)"),
			    kiln_asprintf("%04o", f->mode));
		if (p->unowned && (!name_of(&users, f->uid) || !name_of(&groups, f->gid)))
			add(&o, "unowned", f->path, kiln_strdup("an owner and a group with accounts"),
			    kiln_asprintf("uid %u, gid %u", f->uid, f->gid));
	}
	if (p->empty_passwords) {
		each_account(shadow, 1, 1, empty_password, &o);
		if (!shadow)	/* passwords in /etc/passwd itself */
			each_account(passwd, 1, 1, empty_password, &o);
	}
	if (p->extra_uid0)
		each_account(passwd, 2, 2, uid0, &o);
	kiln_strv_release(&users.names);
	kiln_strv_release(&users.ids);
	kiln_strv_release(&groups.names);
	kiln_strv_release(&groups.ids);
	*ret = o.v;
	*ret_n = o.n;
}

/* audit/default.policy, as the build compiled it in */
const char kiln_audit_default_policy[] =
#include "default-policy.inc"
	;
