/* accounts.c - users and groups from base-passwd, sysusers.d and [Users], as maintainer scripts would have made them. */
#define _GNU_SOURCE
#include "accounts.h"
#include "cmdline.h"

#include <ctype.h>
#include <string.h>

#define SYSTEM_ID_MAX 999	/* sysusers' dynamic ids: the highest free one at or below this */

void
kiln_accounts_release(struct kiln_accounts *a)
{
	for (size_t i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		free(a->users[i].gecos);
		free(a->users[i].home);
		free(a->users[i].shell);
		free(a->users[i].origin);
	}
	free(a->users);
	for (size_t i = 0; i < a->n_groups; i++) {
		free(a->groups[i].name);
		kiln_strv_release(&a->groups[i].members);
		free(a->groups[i].origin);
	}
	free(a->groups);
	kiln_strv_release(&a->ignored);
	memset(a, 0, sizeof(*a));
}

static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' ||
		      (s[i] == '$' && i == n - 1)))
			return 0;
	return 1;
}

static int
parse_id(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > 65534)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static struct kiln_account_user *
user_by_name(const struct kiln_accounts *a, const char *name)
{
	for (size_t i = 0; i < a->n_users; i++)
		if (strcmp(a->users[i].name, name) == 0)
			return &a->users[i];
	return NULL;
}

static struct kiln_account_user *
user_by_uid(const struct kiln_accounts *a, unsigned uid)
{
	for (size_t i = 0; i < a->n_users; i++)
		if (a->users[i].uid == uid)
			return &a->users[i];
	return NULL;
}

static struct kiln_account_group *
group_by_name(const struct kiln_accounts *a, const char *name)
{
	for (size_t i = 0; i < a->n_groups; i++)
		if (strcmp(a->groups[i].name, name) == 0)
			return &a->groups[i];
	return NULL;
}

static struct kiln_account_group *
group_by_gid(const struct kiln_accounts *a, unsigned gid)
{
	for (size_t i = 0; i < a->n_groups; i++)
		if (a->groups[i].gid == gid)
			return &a->groups[i];
	return NULL;
}

static void
push_user(struct kiln_accounts *a, const char *name, unsigned uid, unsigned gid, const char *gecos, const char *home,
	  const char *shell, const char *origin)
{
	struct kiln_account_user *u;

	a->users = kiln_realloc(a->users, (a->n_users + 1) * sizeof(*a->users));
	u = &a->users[a->n_users++];
	u->name = kiln_strdup(name);
	u->uid = uid;
	u->gid = gid;
	u->gecos = kiln_strdup(gecos);
	u->home = kiln_strdup(home);
	u->shell = kiln_strdup(shell);
	u->origin = kiln_strdup(origin);
}

static struct kiln_account_group *
push_group(struct kiln_accounts *a, const char *name, unsigned gid, const char *origin)
{
	struct kiln_account_group *g;

	a->groups = kiln_realloc(a->groups, (a->n_groups + 1) * sizeof(*a->groups));
	g = &a->groups[a->n_groups++];
	memset(g, 0, sizeof(*g));
	g->name = kiln_strdup(name);
	g->gid = gid;
	g->origin = kiln_strdup(origin);
	return g;
}

/* Splits @line at ':' into exactly @n fields (in place); -1 otherwise. */
static int
colon_fields(char *line, char **f, int n)
{
	int i = 0;

	f[i++] = line;
	for (char *c = line; *c; c++)
		if (*c == ':') {
			if (i == n)
				return -1;
			*c = '\0';
			f[i++] = c + 1;
		}
	return i == n ? 0 : -1;
}

struct base_arg {
	struct kiln_accounts *a;
	const char *origin;
	const char *file;
};

static int
base_passwd_line(struct kiln_ctx *ctx, void *user, char *line, int lineno)
{
	struct base_arg *b = user;
	char *f[7];
	unsigned uid, gid;

	if (colon_fields(line, f, 7) < 0 || !name_valid(f[0]) || parse_id(f[2], &uid) < 0 || parse_id(f[3], &gid) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: %s:%d: not a passwd entry", b->origin, b->file, lineno);
	if (user_by_name(b->a, f[0]))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: %s:%d: user '%s' given twice", b->origin, b->file, lineno, f[0]);
	push_user(b->a, f[0], uid, gid, f[4], f[5], f[6], b->origin);
	return 0;
}

static int
base_group_line(struct kiln_ctx *ctx, void *user, char *line, int lineno)
{
	struct base_arg *b = user;
	struct kiln_account_group *g;
	char *f[4];
	unsigned gid;

	if (colon_fields(line, f, 4) < 0 || !name_valid(f[0]) || parse_id(f[2], &gid) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: %s:%d: not a group entry", b->origin, b->file, lineno);
	if (group_by_name(b->a, f[0]))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: %s:%d: group '%s' given twice", b->origin, b->file, lineno, f[0]);
	g = push_group(b->a, f[0], gid, b->origin);
	for (char *m = f[3], *save = NULL, *tok; (tok = strtok_r(m, ",", &save)); m = NULL)
		kiln_strv_push(&g->members, tok);
	return 0;
}

int
kiln_accounts_load_base(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *passwd, size_t passwd_len,
			const char *group, size_t group_len, const char *origin)
{
	struct base_arg p = { a, origin, "passwd.master" }, g = { a, origin, "group.master" };

	if (kiln_foreach_config_line(ctx, passwd, passwd_len, origin, &p, base_passwd_line) < 0 ||
	    kiln_foreach_config_line(ctx, group, group_len, origin, &g, base_group_line) < 0)
		return -1;
	if (!user_by_name(a, "root") || !group_by_name(a, "root"))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: no root user or group", origin);
	return 0;
}

/* The highest id at or below SYSTEM_ID_MAX that neither a user nor a group has (sysusers' own rule). */
static int
free_id(const struct kiln_accounts *a, unsigned *ret)
{
	for (unsigned id = SYSTEM_ID_MAX; id > 0; id--)
		if (!user_by_uid(a, id) && !group_by_gid(a, id)) {
			*ret = id;
			return 0;
		}
	return -1;
}

struct sysusers_arg {
	struct kiln_accounts *a;
	const char *origin;
};

static int
sysusers_line(struct kiln_ctx *ctx, void *user, char *line, int lineno)
{
	struct sysusers_arg *s = user;
	struct kiln_accounts *a = s->a;
	_cleanup_(kiln_strv_releasep) struct kiln_strv f = { 0 };
	const char *why = NULL, *type, *name, *id;
	unsigned uid = 0, gid = 0;

	if (kiln_cmdline_split(line, 0, &f, &why) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", s->origin, lineno, why);
	if (f.n < 2)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected TYPE NAME [ID [GECOS [HOME [SHELL]]]]", s->origin, lineno);
	type = f.v[0];
	name = f.v[1];
	id = f.n > 2 ? f.v[2] : "-";
	if (strcmp(type, "r") == 0) {	/* id ranges only steer allocation */
		kiln_strv_push_take(&a->ignored, kiln_asprintf("%s:%d: sysusers 'r %s'", s->origin, lineno, id));
		return 0;
	}
	if (strchr(line, '%'))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: specifiers (%%) are not supported", s->origin, lineno);
	if (!name_valid(name))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad name '%s'", s->origin, lineno, name);
	if (strcmp(type, "m") == 0) {
		struct kiln_account_group *g;

		if (f.n != 3 || !name_valid(id))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected 'm USER GROUP'", s->origin, lineno);
		if (!(g = group_by_name(a, id))) {	/* sysusers creates the group */
			if (free_id(a, &gid) < 0)
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: no free system id", s->origin, lineno);
			g = push_group(a, id, gid, s->origin);
		}
		if (!kiln_strv_contains(&g->members, name))
			kiln_strv_push(&g->members, name);
		return 0;
	}
	if (strcmp(type, "g") == 0) {
		if (f.n > 3)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: expected 'g NAME [GID]'", s->origin, lineno);
		if (group_by_name(a, name))
			return 0;	/* kept as it is */
		if (strcmp(id, "-") == 0 ? free_id(a, &gid) < 0 : parse_id(id, &gid) < 0)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad gid '%s' (kiln takes numbers or -)", s->origin, lineno, id);
		if (group_by_gid(a, gid))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: gid %u of group '%s' is taken by '%s'", s->origin, lineno,
					  gid, name, group_by_gid(a, gid)->name);
		push_group(a, name, gid, s->origin);
		return 0;
	}
	if (strcmp(type, "u") != 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: sysusers type '%s' is not supported (u, g, m and r are)",
				  s->origin, lineno, type);
	if (f.n > 6)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: too many fields", s->origin, lineno);
	for (size_t i = 3; i < f.n; i++)
		if (strpbrk(f.v[i], ":\n") || (i > 3 && strcmp(f.v[i], "-") && f.v[i][0] != '/'))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad %s '%s'", s->origin, lineno,
					  i == 3 ? "GECOS" : i == 4 ? "home" : "shell", f.v[i]);
	if (user_by_name(a, name))
		return 0;	/* kept as it is */
	{
		const char *colon = strchr(id, ':');
		_cleanup_free_ char *u = colon ? kiln_strndup(id, colon - id) : kiln_strdup(id);
		const struct kiln_account_group *g = group_by_name(a, name);

		if (strcmp(u, "-") == 0 ? free_id(a, &uid) < 0 : parse_id(u, &uid) < 0)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: bad uid '%s' (kiln takes numbers, N:GID, N:GROUP or -)",
					  s->origin, lineno, id);
		if (user_by_uid(a, uid))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: uid %u of user '%s' is taken by '%s'", s->origin, lineno,
					  uid, name, user_by_uid(a, uid)->name);
		if (colon) {
			const struct kiln_account_group *named = group_by_name(a, colon + 1);

			if (named)
				gid = named->gid;
			else if (parse_id(colon + 1, &gid) < 0)
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: unknown group '%s'", s->origin, lineno, colon + 1);
		} else if (g) {
			gid = g->gid;
		} else {
			gid = group_by_gid(a, uid) ? 0 : uid;
			if (!gid && free_id(a, &gid) < 0)
				return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: no free system id", s->origin, lineno);
		}
		if (!group_by_gid(a, gid))
			push_group(a, name, gid, s->origin);
	}
	push_user(a, name, uid, gid, f.n > 3 && strcmp(f.v[3], "-") ? f.v[3] : "",
		  f.n > 4 && strcmp(f.v[4], "-") ? f.v[4] : "/", f.n > 5 && strcmp(f.v[5], "-") ? f.v[5] : "/usr/sbin/nologin",
		  s->origin);
	return 0;
}

int
kiln_accounts_sysusers(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *text, size_t len, const char *origin)
{
	struct sysusers_arg s = { a, origin };

	return kiln_foreach_config_line(ctx, text, len, origin, &s, sysusers_line);
}

int
kiln_accounts_add(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *name, unsigned uid, unsigned gid,
		  const char *home, const char *origin)
{
	const struct kiln_account_user *u = user_by_name(a, name), *by_uid = user_by_uid(a, uid);
	const struct kiln_account_group *g = group_by_gid(a, gid), *gn = group_by_name(a, name);

	if (u && u->uid == uid && u->gid == gid)
		return 0;
	if (u)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: user '%s' is already in the image as %u:%u (from %s)", origin, name,
				  u->uid, u->gid, u->origin);
	if (by_uid)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: uid %u of user '%s' is already taken by '%s' (from %s)", origin,
				  uid, name, by_uid->name, by_uid->origin);
	if (gn && gn->gid != gid)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: group '%s' is already in the image with gid %u (from %s)", origin,
				  name, gn->gid, gn->origin);
	if (!g)
		push_group(a, name, gid, origin);
	push_user(a, name, uid, gid, name, home, "/usr/sbin/nologin", origin);
	return 0;
}

const struct kiln_account_user *
kiln_accounts_user(const struct kiln_accounts *a, const char *name)
{
	unsigned uid;

	if (parse_id(name, &uid) == 0)
		return user_by_uid(a, uid);
	return user_by_name(a, name);
}

int
kiln_accounts_gid(const struct kiln_accounts *a, const char *name, unsigned *ret_gid)
{
	const struct kiln_account_group *g;
	unsigned gid;

	if (parse_id(name, &gid) == 0)
		g = group_by_gid(a, gid);
	else
		g = group_by_name(a, name);
	if (!g)
		return -1;
	*ret_gid = g->gid;
	return 0;
}

char *
kiln_accounts_supplementary(const struct kiln_accounts *a, const char *user)
{
	const struct kiln_account_user *u = user_by_name(a, user);
	struct kiln_buf b = { 0 };

	kiln_buf_add(&b, "", 0);
	for (size_t i = 0; u && i < a->n_groups; i++)
		if (a->groups[i].gid != u->gid && kiln_strv_contains(&a->groups[i].members, user))
			kiln_buf_addf(&b, "%s%u", b.len ? "," : "", a->groups[i].gid);
	return kiln_buf_detach(&b, NULL);
}

void
kiln_accounts_render(const struct kiln_accounts *a, char **ret_passwd, char **ret_group)
{
	struct kiln_buf p = { 0 }, g = { 0 };

	for (size_t i = 0; i < a->n_users; i++) {
		const struct kiln_account_user *u = &a->users[i];

		kiln_buf_addf(&p, "%s:x:%u:%u:%s:%s:%s\n", u->name, u->uid, u->gid, u->gecos, u->home, u->shell);
	}
	for (size_t i = 0; i < a->n_groups; i++) {
		kiln_buf_addf(&g, "%s:x:%u:", a->groups[i].name, a->groups[i].gid);
		for (size_t j = 0; j < a->groups[i].members.n; j++)
			kiln_buf_addf(&g, "%s%s", j ? "," : "", a->groups[i].members.v[j]);
		kiln_buf_add(&g, "\n", 1);
	}
	*ret_passwd = kiln_buf_detach(&p, NULL);
	*ret_group = kiln_buf_detach(&g, NULL);
}
