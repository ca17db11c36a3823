/* build.c - kiln build: fetch the resolved packages, compose the initramfs, write the version atomically. */
#define _GNU_SOURCE
#include "build.h"
#include "disk.h"
#include "accounts.h"
#include "cmdline.h"
#include "closure.h"
#include "compose.h"
#include "tmpfiles.h"
#include "advisories.h"
#include "changelog.h"
#include "kernel.h"
#include "pkgarchive.h"
#include "manifest.h"
#include "model.h"
#include "resolve.h"
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEB_MAX ((uint64_t)2 * 1024 * 1024 * 1024)
#define RECIPE_FILE_MAX (64 * 1024 * 1024)

void
kiln_build_result_release(struct kiln_build_result *res)
{
	free(res->dir);
	free(res->version);
	kiln_strv_release(&res->ignored);
	kiln_strv_release(&res->warnings);
	memset(res, 0, sizeof(*res));
}

/* The next free YYYY.MM.R of @family for the month of @sde. */
static char *
next_version(const char *store, const char *family, int64_t sde, const struct kiln_strv *released)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s", store, family);
	time_t t = (time_t)sde;
	struct tm tm;
	char prefix[32];
	int next = 0;
	DIR *d;

	gmtime_r(&t, &tm);
	snprintf(prefix, sizeof(prefix), "%04d.%02d.", tm.tm_year + 1900, tm.tm_mon + 1);
	d = opendir(dir);
	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			if (kiln_startswith(de->d_name, prefix) && kiln_version_valid(de->d_name)) {
				int r = atoi(de->d_name + strlen(prefix));

				if (r + 1 > next)
					next = r + 1;
			}
		}
		closedir(d);
	}
	for (size_t i = 0; released && i < released->n; i++)	/* released, even if gone from the store */
		if (kiln_startswith(released->v[i], prefix) && atoi(released->v[i] + strlen(prefix)) + 1 > next)
			next = atoi(released->v[i] + strlen(prefix)) + 1;
	return kiln_asprintf("%s%d", prefix, next);
}

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);

	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			_cleanup_free_ char *p = NULL;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = kiln_asprintf("%s/%s", path, de->d_name);
			if (de->d_type == DT_DIR)
				rm_rf(p);
			else
				unlink(p);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* Is @name a temporary file ("X.tmp.PID.XXXXXX") of a process that is gone, or an unnamed one an hour old? */
static int
stale_tmp(const char *dir, const char *name)
{
	const char *t = strstr(name, ".tmp.");
	_cleanup_free_ char *p = NULL;
	struct stat st;
	int pid, n = 0;

	if (!t)
		return 0;
	if (sscanf(t, ".tmp.%d.%n", &pid, &n) == 1 && n > 0 && pid > 0)
		return pid != getpid() && kill(pid, 0) < 0 && errno == ESRCH;
	p = kiln_asprintf("%s/%s", dir, name);	/* written by an older kiln, without its pid */
	return lstat(p, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > 3600;
}

/* Removes what killed builds left in the cache: temporary files of dead processes. */
static void
clean_stale_cache(const char *store)
{
	static const char *const dirs[] = { "data", "sha256", "solv", "refs", "dates", "initrd" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *dir = kiln_asprintf("%s/cache/%s", store, dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d)))
			if (stale_tmp(dir, de->d_name)) {
				_cleanup_free_ char *p = kiln_asprintf("%s/%s", dir, de->d_name);

				unlink(p);
			}
		closedir(d);
	}
}

/* Removes what builds that were killed left behind: .build-PID-* of dead PIDs, and cache temporaries. */
static void
clean_stale(const char *store)
{
	DIR *d = opendir(store);
	struct dirent *de;

	clean_stale_cache(store);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid;

		if (sscanf(de->d_name, ".build-%d-", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
			_cleanup_free_ char *p = kiln_asprintf("%s/%s", store, de->d_name);

			rm_rf(p);
		}
	}
	closedir(d);
}

static int
write_file(struct kiln_ctx *ctx, const char *dir, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *p = kiln_asprintf("%s/%s", dir, name);

	return kiln_write_atomic(ctx, p, data, len, 0644);
}

static int
file_sha256(struct kiln_ctx *ctx, const char *path, char hex[65], uint64_t *ret_size)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (kiln_read_file(ctx, path, (size_t)4 << 30, &data, &len) < 0)
		return -1;
	kiln_sha256_hex(data, len, hex);
	*ret_size = len;
	return 0;
}

/* What the image's setup decided for kiln-init: who runs the command, and what it makes at boot. */
struct image_setup {
	unsigned uid, gid;
	char *home;
	char *groups;			/* supplementary gids, "G1,G2" */
	struct kiln_strv runtime_dirs;	/* "MODE UID GID PATH", made by kiln-init at boot */
	struct kiln_strv ignored;	/* package declarations kiln does not act on, with their origin */
};

static void
image_setup_releasep(struct image_setup *s)
{
	free(s->home);
	free(s->groups);
	kiln_strv_release(&s->runtime_dirs);
	kiln_strv_release(&s->ignored);
}

/* kiln-init's configuration, /etc/kiln/init (see init/kiln-init.c). Caller frees. */
static char *
init_conf(const struct kiln_recipe *r, const struct image_setup *su, const char *version, const struct kiln_kernel *k)
{
	struct kiln_buf b = { 0 };

	kiln_buf_addf(&b, "family=%s\nversion=%s\nhostname=%s\non_exit=%s\nuid=%u\ngid=%u\nhome=%s\n",
		      r->family, version, r->hostname, r->on_exit, su->uid, su->gid, su->home);
	if (*su->groups)
		kiln_buf_addf(&b, "groups=%s\n", su->groups);
	for (size_t i = 0; i < r->argv.n; i++)
		kiln_buf_addf(&b, "arg=%s\n", r->argv.v[i]);
	kiln_buf_addf(&b, "env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\nenv=HOME=%s\nenv=TERM=linux\n", su->home);
	for (size_t i = 0; i < r->environment.n; i++)
		kiln_buf_addf(&b, "env=%s\n", r->environment.v[i]);
	if (r->state)
		kiln_buf_addf(&b, "state=%s\n", r->state);
	for (size_t i = 0; i < su->runtime_dirs.n; i++)
		kiln_buf_addf(&b, "dir=%s\n", su->runtime_dirs.v[i]);
	for (size_t i = 0; i < r->n_execs; i++) {
		kiln_buf_addf(&b, "pre=%s\n", r->execs[i].first_boot ? "first" : "always");
		for (size_t j = 0; j < r->execs[i].argv.n; j++)
			kiln_buf_addf(&b, "parg=%s\n", r->execs[i].argv.v[j]);
	}
	for (size_t i = 0; i < k->n_load; i++)
		kiln_buf_addf(&b, "module=/usr/lib/modules/%s/%s\n", k->release, k->mods[k->load_order[i]].relpath);
	if (r->net_address)
		kiln_buf_addf(&b, "address=%s\n", r->net_address);
	if (r->net_gateway)
		kiln_buf_addf(&b, "gateway=%s\n", r->net_gateway);
	return kiln_buf_detach(&b, NULL);
}

#define DECLARATION_MAX (1024 * 1024)

/* The files kiln writes itself: package files there are skipped, package declarations refused. */
static const char *const generated_paths[] = { "/init", "/etc/passwd", "/etc/group", "/etc/hostname",
					       "/etc/kiln-release", "/etc/kiln/init" };

static int
generated_path(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(generated_paths); i++)
		if (strcmp(path, generated_paths[i]) == 0)
			return 1;
	return kiln_startswith(path, "/etc/kiln/");
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* systemd's order: by file name; a file in /etc replaces the one of the same name in /usr/lib. */
static int
decl_cmp(const void *a, const void *b)
{
	const struct kiln_declaration *x = *(const struct kiln_declaration *const *)a;
	const struct kiln_declaration *y = *(const struct kiln_declaration *const *)b;
	int c = strcmp(base_name(x->path), base_name(y->path));

	if (c)
		return c;
	return kiln_startswith(y->path, "/etc/") - kiln_startswith(x->path, "/etc/");
}

/* The declarations under @dir_suffix ("sysusers.d" or "tmpfiles.d"), in the order systemd applies them. */
static size_t
declarations_of(const struct kiln_declaration *all, size_t n, const char *kind, const struct kiln_declaration ***ret)
{
	const struct kiln_declaration **v = kiln_calloc(n ? n : 1, sizeof(*v));
	_cleanup_free_ char *a = kiln_asprintf("/usr/lib/%s/", kind), *b = kiln_asprintf("/etc/%s/", kind);
	size_t m = 0, out = 0;

	for (size_t i = 0; i < n; i++)
		if (kiln_startswith(all[i].path, a) || kiln_startswith(all[i].path, b))
			v[m++] = &all[i];
	qsort(v, m, sizeof(*v), decl_cmp);
	for (size_t i = 0; i < m; i++)	/* the first of each name wins (the /etc one sorts first) */
		if (!out || strcmp(base_name(v[out - 1]->path), base_name(v[i]->path)) != 0)
			v[out++] = v[i];
	*ret = v;
	return out;
}

/* base-passwd's passwd.master and group.master, read from its .deb (the package itself is not installed). */
struct base_files {
	char *passwd, *group;
	size_t passwd_len, group_len;
};

static void
base_files_releasep(struct base_files *b)
{
	free(b->passwd);
	free(b->group);
}

static int
on_base_entry(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *de, struct kiln_deb_reader *r)
{
	struct base_files *b = user;
	_cleanup_free_ char *path = kiln_path_normalize(de->path);
	char **data = NULL;
	size_t *len = NULL;

	if (!path || de->type != KILN_ENT_FILE)
		return 0;
	if (strcmp(path, "/usr/share/base-passwd/passwd.master") == 0)
		data = &b->passwd, len = &b->passwd_len;
	else if (strcmp(path, "/usr/share/base-passwd/group.master") == 0)
		data = &b->group, len = &b->group_len;
	if (!data || *data)
		return 0;
	if (kiln_deb_read(ctx, r, DECLARATION_MAX, data, len) < 0)
		return kiln_error_replace(ctx, ctx->code, "package '%s': '%s': %s", KILN_BASE_PACKAGE, path, ctx->msg);
	return 0;
}

static int
load_base_files(struct kiln_ctx *ctx, const struct kiln_pkg *p, struct base_files *ret)
{
	_cleanup_free_ char *tar = kiln_cache_data_tar_path(ctx, p->sha256);
	_cleanup_free_ char *deb = kiln_cache_blob_path(ctx->set->store, p->sha256);	/* fetch_all() verified it */

	if (kiln_deb_foreach(ctx, deb, p->name, tar, NULL, on_base_entry, ret) < 0)
		return -1;
	if (!ret->passwd || !ret->group)
		return kiln_error(ctx, KILN_EXIT_USAGE, "package '%s' %s holds no /usr/share/base-passwd/{passwd,group}.master",
				  p->name, p->version);
	return 0;
}

/*
 * The image's users and groups: base-passwd's master files, then the
 * packages' sysusers.d, then the recipe's [Users].
 */
static int
make_accounts(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r, const struct base_files *base,
	      struct kiln_accounts *acc, struct kiln_strv *ignored)
{
	size_t n;
	const struct kiln_declaration *all = kiln_compose_declarations(c, &n);
	_cleanup_free_ const struct kiln_declaration **su = NULL;
	size_t n_su = declarations_of(all, n, "sysusers.d", &su);

	{
		_cleanup_free_ char *origin = kiln_asprintf("package '%s'", KILN_BASE_PACKAGE);

		if (kiln_accounts_load_base(ctx, acc, base->passwd, base->passwd_len, base->group, base->group_len,
					    origin) < 0)
			return -1;
	}
	for (size_t i = 0; i < n_su; i++) {
		_cleanup_free_ char *origin = kiln_asprintf("package '%s': %s", su[i]->package, su[i]->path);

		if (su[i]->len > DECLARATION_MAX)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: over %d bytes", origin, DECLARATION_MAX);
		if (kiln_accounts_sysusers(ctx, acc, su[i]->data, su[i]->len, origin) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->n_users; i++) {
		_cleanup_free_ char *origin = kiln_asprintf("%s:%d", r->path, r->users[i].line);

		if (kiln_accounts_add(ctx, acc, r->users[i].name, r->users[i].uid, r->users[i].gid, r->users[i].home,
				      origin) < 0)
			return -1;
	}
	for (size_t i = 0; i < acc->ignored.n; i++)
		kiln_strv_push(ignored, acc->ignored.v[i]);
	return 0;
}

/* Where kiln-init mounts a fresh filesystem at boot: what lives there is made then. */
static int
runtime_path(const char *path)
{
	return kiln_startswith(path, "/run/") || kiln_startswith(path, "/tmp/") || !strcmp(path, "/run") ||
	       !strcmp(path, "/tmp");
}

/* Resolves @user and @group (NULL: root; a NULL group with a user: the user's group) against @acc. */
static int
owner_ids(struct kiln_ctx *ctx, const struct kiln_accounts *acc, const char *user, const char *group,
	  const char *origin, unsigned *ret_uid, unsigned *ret_gid)
{
	const struct kiln_account_user *u = user ? kiln_accounts_user(acc, user) : NULL;
	unsigned gid = 0;

	if (user && !u)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: unknown user '%s' (add it to [Users])", origin, user);
	if (group && kiln_accounts_gid(acc, group, &gid) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: unknown group '%s' (a user in [Users] brings its group)", origin, group);
	*ret_uid = u ? u->uid : 0;
	*ret_gid = group ? gid : u ? u->gid : 0;
	return 0;
}

/* One directory: in the image now, or (under /run and /tmp) made by kiln-init at boot. */
static int
make_dir(struct kiln_ctx *ctx, struct kiln_compose *c, struct image_setup *su, const char *path, unsigned mode,
	 unsigned uid, unsigned gid, const char *origin)
{
	if (runtime_path(path)) {
		_cleanup_free_ char *line = kiln_asprintf("%04o %u %u %s", mode, uid, gid, path);

		if (strchr(path, ' '))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: '%s': kiln-init cannot make a path with spaces at boot", origin, path);
		if (!kiln_strv_contains(&su->runtime_dirs, line))
			kiln_strv_push(&su->runtime_dirs, line);
		return 0;
	}
	if (kiln_compose_set_dir(ctx, c, path, mode, uid, gid, origin) < 0)
		return ctx->code == KILN_EXIT_INTEGRITY ? kiln_error_replace(ctx, KILN_EXIT_USAGE, "%s: %s", origin, ctx->msg) : -1;
	return 0;
}

/* The packages' tmpfiles.d lines, made as systemd-tmpfiles would have made them at first boot. */
static int
apply_tmpfiles(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_accounts *acc, struct image_setup *su)
{
	size_t n;
	const struct kiln_declaration *all = kiln_compose_declarations(c, &n);
	_cleanup_free_ const struct kiln_declaration **tf = NULL;
	_cleanup_(kiln_tmpfiles_releasep) struct kiln_tmpfiles t = { 0 };
	size_t n_tf = declarations_of(all, n, "tmpfiles.d", &tf);

	for (size_t i = 0; i < n_tf; i++) {
		_cleanup_free_ char *origin = kiln_asprintf("package '%s': %s", tf[i]->package, tf[i]->path);

		if (tf[i]->len > DECLARATION_MAX)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: over %d bytes", origin, DECLARATION_MAX);
		if (kiln_tmpfiles_parse(ctx, &t, tf[i]->data, tf[i]->len, origin) < 0)
			return -1;
	}
	for (size_t i = 0; i < t.ignored.n; i++)
		kiln_strv_push(&su->ignored, t.ignored.v[i]);
	for (size_t i = 0; i < t.n; i++) {
		const struct kiln_tmpfile *e = &t.v[i];
		enum kiln_entry_type type;
		unsigned uid, gid, mode, ouid, ogid;

		if (kiln_startswith(e->path, "/proc/") || kiln_startswith(e->path, "/sys/") || kiln_startswith(e->path, "/dev/"))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: '%s' is in a filesystem of the running kernel; kiln cannot make it",
					  e->origin, e->path);
		if (generated_path(e->path))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: '%s' is a file kiln writes itself", e->origin, e->path);
		if (e->kind == KILN_TMPFILE_ADJUST) {
			if (kiln_compose_entry(c, e->path, &type, &mode, &ouid, &ogid) < 0 || type != KILN_ENT_DIR) {
				kiln_strv_push_take(&su->ignored, kiln_asprintf("%s: tmpfiles 'z %s' (not a directory in the image)",
										e->origin, e->path));
				continue;
			}
			if (owner_ids(ctx, acc, e->user, e->group, e->origin, &uid, &gid) < 0)
				return -1;
			if (kiln_compose_set_dir(ctx, c, e->path, e->mode >= 0 ? (unsigned)e->mode : mode,
						 e->user ? uid : ouid, e->group || e->user ? gid : ogid, e->origin) < 0)
				return -1;
			continue;
		}
		if (owner_ids(ctx, acc, e->user, e->group, e->origin, &uid, &gid) < 0)
			return -1;
		if (e->kind == KILN_TMPFILE_DIR) {
			if (make_dir(ctx, c, su, e->path, e->mode >= 0 ? (unsigned)e->mode : 0755, uid, gid, e->origin) < 0)
				return -1;
			continue;
		}
		if (runtime_path(e->path))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: kiln-init makes only directories at boot, not '%s'", e->origin, e->path);
		if (kiln_compose_entry(c, e->path, &type, &mode, &ouid, &ogid) == 0)
			continue;	/* f, w and L (without +) leave what exists */
		if (kiln_compose_add(ctx, c, e->path, e->kind == KILN_TMPFILE_SYMLINK ? KILN_ENT_SYMLINK : KILN_ENT_FILE,
				     e->kind == KILN_TMPFILE_SYMLINK ? 0777 : e->mode >= 0 ? (unsigned)e->mode : 0644, uid, gid,
				     e->kind == KILN_TMPFILE_FILE ? e->arg : NULL,
				     e->kind == KILN_TMPFILE_FILE && e->arg ? strlen(e->arg) : 0,
				     e->kind == KILN_TMPFILE_SYMLINK ? e->arg : NULL) < 0)
			return kiln_error_replace(ctx, ctx->code, "%s: %s", e->origin, ctx->msg);
	}
	return 0;
}

/* The recipe's [Directories], the users' homes and the State= directory. */
static int
make_recipe_dirs(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r,
		 const struct kiln_accounts *acc, struct image_setup *su)
{
	int state_declared = 0;

	for (size_t i = 0; i < r->n_users; i++) {
		_cleanup_free_ char *origin = kiln_asprintf("%s:%d", r->path, r->users[i].line);

		if (make_dir(ctx, c, su, r->users[i].home, 0750, r->users[i].uid, r->users[i].gid, origin) < 0)
			return -1;
		state_declared |= r->state && strcmp(r->users[i].home, r->state) == 0;
	}
	for (size_t i = 0; i < r->n_dirs; i++) {
		const struct kiln_dir_entry *d = &r->dirs[i];
		_cleanup_free_ char *origin = kiln_asprintf("%s:%d", r->path, d->line);
		unsigned uid, gid;

		if (owner_ids(ctx, acc, d->user, d->group, origin, &uid, &gid) < 0 ||
		    make_dir(ctx, c, su, d->path, d->mode, uid, gid, origin) < 0)
			return -1;
		state_declared |= r->state && strcmp(d->path, r->state) == 0;
	}
	if (r->state && !state_declared) {
		enum kiln_entry_type type;
		unsigned mode, uid, gid;
		_cleanup_free_ char *origin = kiln_asprintf("%s: State=%s", r->path, r->state);

		/* the application writes its state: it owns the directory, unless the recipe said otherwise */
		if (kiln_compose_entry(c, r->state, &type, &mode, &uid, &gid) < 0 || (uid == 0 && su->uid != 0))
			if (kiln_compose_set_dir(ctx, c, r->state, 0750, su->uid, su->gid, origin) < 0)
				return -1;
	}
	return 0;
}

static int
add_recipe_files(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r)
{
	for (size_t i = 0; i < r->n_files; i++) {
		_cleanup_free_ char *data = NULL;
		size_t len;

		/* sources stay inside the recipe's directory: a recipe must not read the host */
		if (kiln_read_file_beneath(ctx, r->dir, r->files[i].src, RECIPE_FILE_MAX, &data, &len) < 0)
			return kiln_error_replace(ctx, KILN_EXIT_USAGE, "%s:%d: [Files] %s: %s", r->path,
						  r->files[i].line, r->files[i].dest, ctx->msg);
		if (kiln_compose_add(ctx, c, r->files[i].dest, KILN_ENT_FILE, r->files[i].mode, 0, 0, data, len, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The generated files: users and directories, the init config, hostname, release and the recipe's [Files]. */
static int
add_generated(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r, const char *version,
	      int64_t sde, const struct kiln_kernel *k, const struct kiln_pkg *base_pkg, const struct kiln_build_opts *o,
	      struct kiln_strv *ignored)
{
	_cleanup_(base_files_releasep) struct base_files base = { 0 };
	_cleanup_(kiln_accounts_releasep) struct kiln_accounts acc = { 0 };
	_cleanup_free_ char *passwd = NULL, *group = NULL, *init = NULL, *rel = NULL, *init_bin = NULL;
	_cleanup_free_ char *hostname = kiln_asprintf("%s\n", r->hostname);
	_cleanup_(image_setup_releasep) struct image_setup su = { 0 };
	const struct kiln_account_user *user;
	char when[21];
	size_t init_len;

	if (load_base_files(ctx, base_pkg, &base) < 0 || make_accounts(ctx, c, r, &base, &acc, &su.ignored) < 0)
		return -1;
	if (!(user = kiln_accounts_user(&acc, r->user)))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: User=%s is not a user of the image (base-passwd's, a package's sysusers.d or [Users])",
				  r->path, r->user);
	su.uid = user->uid;
	su.gid = user->gid;
	su.home = kiln_strdup(user->home);
	su.groups = kiln_accounts_supplementary(&acc, user->name);
	for (size_t i = 0; i <= r->n_execs; i++) {
		const struct kiln_strv *argv = i < r->n_execs ? &r->execs[i].argv : &r->argv;
		_cleanup_free_ char *prog = kiln_path_normalize(argv->v[0] + 1);	/* /bin/x is /usr/bin/x */

		if ((!prog || !kiln_compose_exists(c, prog)) && i < r->n_execs)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: '%s' is not in the image", r->path, r->execs[i].line,
					  argv->v[0]);
		if (!prog || !kiln_compose_exists(c, prog))
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: Cmd '%s' is not in the image", r->path, argv->v[0]);
	}
	if (apply_tmpfiles(ctx, c, &acc, &su) < 0 || make_recipe_dirs(ctx, c, r, &acc, &su) < 0)
		return -1;
	if (kiln_read_file(ctx, o->init_path, 16 << 20, &init_bin, &init_len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_FAILED, "cannot read kiln-init: %s", ctx->msg);
	kiln_format_iso8601((time_t)sde, when);
	kiln_accounts_render(&acc, &passwd, &group);
	init = init_conf(r, &su, version, k);
	rel = kiln_asprintf("FAMILY=%s\nVERSION=%s\nBUILT=%s\n", r->family, version, when);
	if (kiln_compose_add(ctx, c, "/etc/passwd", KILN_ENT_FILE, 0644, 0, 0, passwd, strlen(passwd), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/group", KILN_ENT_FILE, 0644, 0, 0, group, strlen(group), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/hostname", KILN_ENT_FILE, 0644, 0, 0, hostname, strlen(hostname), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/kiln-release", KILN_ENT_FILE, 0644, 0, 0, rel, strlen(rel), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/kiln/init", KILN_ENT_FILE, 0644, 0, 0, init, strlen(init), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/init", KILN_ENT_FILE, 0755, 0, 0, init_bin, init_len, NULL) < 0 ||
	    add_recipe_files(ctx, c, r) < 0)
		return -1;
	for (size_t i = 0; i < su.ignored.n; i++)
		kiln_strv_push(ignored, su.ignored.v[i]);
	return 0;
}

static int
add_kernel_files(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_kernel *k)
{
	_cleanup_free_ char *base = kiln_asprintf("/usr/lib/modules/%s", k->release);
	_cleanup_free_ char *dep = kiln_kernel_modules_dep(k);
	const struct { const char *name; const char *data; size_t len; } files[] = {
		{ "modules.dep", dep, strlen(dep) },
		{ "modules.order", k->order, k->order_len },
		{ "modules.builtin", k->builtin_file, k->builtin_file_len },
		{ "modules.builtin.modinfo", k->builtin_modinfo, k->builtin_modinfo_len },
	};

	for (size_t i = 0; i < k->n_load; i++) {
		const struct kiln_module *m = &k->mods[k->load_order[i]];
		_cleanup_free_ char *p = kiln_asprintf("%s/%s", base, m->relpath);

		if (kiln_compose_add(ctx, c, p, KILN_ENT_FILE, 0644, 0, 0, m->data, m->len, NULL) < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = kiln_asprintf("%s/%s", base, files[i].name);

		if (files[i].data && kiln_compose_add(ctx, c, p, KILN_ENT_FILE, 0644, 0, 0, files[i].data,
						      files[i].len, NULL) < 0)
			return -1;
	}
	return 0;
}

static void
progress(const struct kiln_build_opts *o, const char *stage, uint64_t done, uint64_t total, const char *item)
{
	struct kiln_progress p = { stage, done, total, item };

	if (o->progress)
		o->progress(o->progress_data, &p);
}

struct build_state {
	struct kiln_resolution res;
	struct kiln_kernel kernel;
	char *tmp, *target, *version;
	char *prev_version;
	char prev_sha256[65];
	int64_t sde;
	struct kiln_advisories adv;
	struct kiln_strv ignored;	/* package declarations kiln did not act on */
	const char *rebake;		/* the build options' */
	struct kiln_compose_report report;	/* which packages' files the image holds */
};

/* What make_disks() made, for the manifest. */
struct disk_made {
	char *cmdline, *seed, *osrel;
	struct kiln_disk_ids ids;
};

static void
disk_made_release(struct disk_made *d)
{
	free(d->cmdline);
	free(d->seed);
	free(d->osrel);
}

/* How many entries of the image (but directories) the package @name has, from the compose report. */
static long long
package_files(const struct kiln_compose_report *r, const char *name)
{
	for (size_t i = 0; i < r->packages.n; i++)
		if (strcmp(r->packages.v[i], name) == 0)
			return (long long)r->files[i];
	return 0;
}

/*
 * Can the recipe's kernel unpack the initramfs as Compression= asks? Its
 * /boot/config says (exit 2 when it cannot); xz adds the x86 branch filter
 * when the image is x86 and the kernel's decoder has it.
 */
static int
initrd_format(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	      const struct kiln_kernel *k, struct kiln_initrd_opts *out)
{
	static const char *const options[][2] = { { "xz", "CONFIG_RD_XZ" }, { "zstd", "CONFIG_RD_ZSTD" },
						  { "gzip", "CONFIG_RD_GZIP" } };
	size_t alg = strcspn(r->compression, ":");

	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strlen(options[i][0]) == alg && strncmp(r->compression, options[i][0], alg) == 0 &&
		    kiln_kernel_config(k, options[i][1]) == 'n')
			return kiln_error(ctx, KILN_EXIT_USAGE,
					  "Compression=%s: kernel %s cannot unpack it (%s is not set); use another [Output] Compression=",
					  r->compression, k->release, options[i][1]);
	out->x86 = kiln_startswith(r->compression, "xz") && o->arch &&
		(strcmp(o->arch, "amd64") == 0 || strcmp(o->arch, "i386") == 0) &&
		kiln_kernel_config(k, "CONFIG_XZ_DEC_X86") == 'y';
	return 0;
}

static int
compose_initrd(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	       struct build_state *st, char **ret_tsv, size_t *ret_count, struct kiln_changelog **ret_logs,
	       size_t *ret_n_logs)
{
	_cleanup_free_ char *initrd = kiln_asprintf("%s/initrd.img", st->tmp);
	_cleanup_(kiln_strv_releasep) struct kiln_strv programs = { 0 };
	struct kiln_closure_opts closure = { &programs, &r->keep, &r->install, NULL };
	struct kiln_strv reserved = { 0 };
	struct kiln_compose *c;
	int rc = 0;

	_cleanup_free_ char *cache = kiln_asprintf("%s/cache/initrd", ctx->set->store);
	struct kiln_initrd_opts out = { r->compression, 0, cache };

	if (initrd_format(ctx, r, o, &st->kernel, &out) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(generated_paths); i++)
		kiln_strv_push(&reserved, generated_paths[i]);
	for (size_t i = 0; i < r->n_files; i++)
		kiln_strv_push(&reserved, r->files[i].dest);
	c = kiln_compose_new(ctx, initrd, &out, st->sde, &r->exclude, &reserved, &r->limits);
	if (!c) {
		kiln_strv_release(&reserved);
		return -1;
	}
	/* Closure=files: from what runs (Cmd=, ExecStartPre=, FirstBoot=) to what it needs */
	kiln_strv_push(&programs, r->argv.v[0]);
	for (size_t i = 0; i < r->n_execs; i++)
		kiln_strv_push(&programs, r->execs[i].argv.v[0]);
	if (r->closure_files)
		kiln_compose_set_closure(c, &closure);
	for (size_t i = 0; i < st->res.set.n && rc == 0; i++) {
		const struct kiln_pkg *p = &st->res.set.pkgs[i];
		_cleanup_free_ char *deb = NULL;
		_cleanup_free_ char *tar = kiln_cache_data_tar_path(ctx, p->sha256);

		progress(o, "compose", i, st->res.set.n, p->name);
		deb = kiln_cache_blob_path(ctx->set->store, p->sha256);	/* fetch_all() verified it */
		rc = kiln_compose_add_deb(ctx, c, deb, tar, p->name);
	}
	if (rc == 0)
		rc = add_kernel_files(ctx, c, &st->kernel);
	if (rc == 0)
		rc = add_generated(ctx, c, r, st->version, st->sde, &st->kernel, &st->res.base, o, &st->ignored);
	kiln_strv_release(&reserved);
	if (rc < 0) {
		kiln_compose_abort(c);
		return -1;
	}
	progress(o, "finish", st->res.set.n, st->res.set.n, NULL);
	return kiln_compose_finish(ctx, c, ret_tsv, ret_count, ret_logs, ret_n_logs, &st->report);
}

struct fetch_progress {
	const struct kiln_build_opts *o;
	uint64_t before, total;
	const char *item;
};

static void
on_fetch_bytes(void *data, uint64_t received)
{
	struct fetch_progress *fp = data;

	progress(fp->o, "fetch", fp->before + received, fp->total, fp->item);
}

/*
 * Brings every .deb the image needs (packages, kernel, base-passwd) into the
 * cache first, so a progress display can say bytes of total, as apt does.
 */
static int
fetch_all(struct kiln_ctx *ctx, const struct kiln_build_opts *o, const struct build_state *st,
	  struct kiln_build_result *res)
{
	const struct kiln_pkg **need = kiln_calloc(st->res.set.n + 3, sizeof(*need));
	const struct kiln_pkg *extra[] = { &st->res.kernel, &st->res.base, &st->res.uefi_stub };
	uint64_t total = 0, done = 0;
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < st->res.set.n + ARRAY_SIZE(extra) && rc == 0; i++) {
		const struct kiln_pkg *p = i < st->res.set.n ? &st->res.set.pkgs[i] : extra[i - st->res.set.n];

		if (!p->name)	/* no stub: no disk image */
			continue;
		_cleanup_free_ char *path = kiln_cache_blob_path(ctx->set->store, p->sha256);
		struct stat sb;

		if (stat(path, &sb) == 0 && (uint64_t)sb.st_size == p->size) {
			_cleanup_free_ char *url = kiln_asprintf("%s/%s", p->uri, p->filename), *deb = NULL;

			/* cached: checked against the signed hash now (fetched again if it changed) */
			rc = kiln_cache_fetch(ctx, url, NULL, p->size, p->sha256, DEB_MAX, &deb, NULL);
			continue;
		}
		need[n++] = p;
		total += p->size;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_free_ char *url = kiln_asprintf("%s/%s", need[i]->uri, need[i]->filename);
		_cleanup_free_ char *deb = NULL;
		struct fetch_progress fp = { o, done, total, need[i]->name };
		struct kiln_fetch_watch watch = { on_fetch_bytes, &fp };

		progress(o, "fetch", done, total, need[i]->name);
		rc = kiln_cache_fetch(ctx, url, NULL, need[i]->size, need[i]->sha256, DEB_MAX, &deb, o->progress ? &watch : NULL);
		done += need[i]->size;
	}
	if (rc == 0 && n)
		progress(o, "fetch", done, total, NULL);
	free(need);
	if (rc == 0) {
		res->n_fetched = n;
		res->fetched_bytes = total;
	}
	return rc;
}

/* The changelog text of @pkg: its own doc directory's, the one it links to, or its source's. */
static char *
changelog_of(struct kiln_ctx *ctx, const struct kiln_pkg *pkg, const struct kiln_changelog *logs, size_t n,
	     size_t *ret_len)
{
	const char *want[3] = { pkg->name, NULL, pkg->source };
	char *text = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(logs[i].package, pkg->name) == 0 && logs[i].link_to)
			want[1] = logs[i].link_to;
	for (size_t w = 0; w < 3; w++)
		for (size_t i = 0; want[w] && i < n; i++)
			if (logs[i].data && strcmp(logs[i].package, want[w]) == 0) {
				struct kiln_ctx sub;

				kiln_ctx_init(&sub);
				if (kiln_gunzip(&sub, logs[i].data, logs[i].len, KILN_CHANGELOG_MAX, &text, ret_len) == 0)
					return text;
			}
	return NULL;
}

/* The family's previous manifest, parsed (NULL without one). Caller decrefs. */
static json_t *
previous_manifest(const char *store, const char *family, const char *version)
{
	_cleanup_free_ char *dir = NULL;
	struct kiln_ctx sub;

	if (!version)
		return NULL;
	dir = kiln_asprintf("%s/%s/%s", store, family, version);
	kiln_ctx_init(&sub);
	return kiln_manifest_load(&sub, dir, NULL);
}

/* name → version of the previous manifest's packages, as a JSON object (NULL without one). */
static json_t *
previous_packages(const char *store, const char *family, const char *version)
{
	json_t *root = previous_manifest(store, family, version), *out;
	struct kiln_manifest m;

	if (!root)
		return NULL;
	out = json_object();
	kiln_manifest_read(root, &m);
	for (size_t i = 0; i < m.n_packages; i++)
		json_object_set_new(out, m.packages[i].name, json_string(m.packages[i].version));
	kiln_manifest_release(&m);
	json_decref(root);
	return out;
}

/* The previous manifest's kernel version (caller frees), or NULL. */
static char *
previous_kernel_version(const char *store, const char *family, const char *version)
{
	json_t *root = previous_manifest(store, family, version);
	struct kiln_manifest m;
	char *out = NULL;

	if (!root)
		return NULL;
	kiln_manifest_read(root, &m);
	out = m.kernel.version ? kiln_strdup(m.kernel.version) : NULL;
	kiln_manifest_release(&m);
	json_decref(root);
	return out;
}

/*
 * A new version never carries a package older than the family's previous
 * version has, unless the recipe's AllowDowngrade= names it: a rolled-back
 * repository or a mistaken pin would otherwise undo security fixes quietly.
 */
static int
check_downgrades(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct build_state *st,
		 struct kiln_strv *warnings)
{
	json_t *prev = previous_packages(ctx->set->store, r->family, st->prev_version);
	_cleanup_free_ char *pk = previous_kernel_version(ctx->set->store, r->family, st->prev_version);
	struct kiln_buf bad = { 0 };
	size_t n_bad = 0;

	for (size_t i = 0; i <= st->res.set.n; i++) {
		const struct kiln_pkg *p = i < st->res.set.n ? &st->res.set.pkgs[i] : &st->res.kernel;
		const char *pv = i < st->res.set.n ? (prev ? json_string_value(json_object_get(prev, p->name)) : NULL) : pk;
		int allowed;

		if (!pv || kiln_deb_version_cmp(p->version, pv) >= 0)
			continue;
		allowed = kiln_strv_contains(&r->allow_downgrade, p->name) ||
			  (i == st->res.set.n && kiln_strv_contains(&r->allow_downgrade, r->kernel_package));
		if (allowed) {
			kiln_strv_push_take(warnings, kiln_asprintf("%s %s is older than %s in %s/%s (AllowDowngrade=)", p->name,
								    p->version, pv, r->family, st->prev_version));
			continue;
		}
		kiln_buf_addf(&bad, "%s%s %s → %s", n_bad++ ? ", " : "", p->name, pv, p->version);
	}
	json_decref(prev);
	if (n_bad) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: would downgrade %s against %s/%s; [Packages] AllowDowngrade= names the packages that may go back",
			   r->path, bad.data, r->family, st->prev_version);
		kiln_buf_release(&bad);
		return -1;
	}
	return 0;
}

static void
push_unique(struct kiln_strv *sv, const char *s)
{
	if (!kiln_strv_contains(sv, s))
		kiln_strv_push(sv, s);
}

/* The release an advisory names for @pkg's suite: "bookworm" for bookworm-security. */
static char *
release_of(const struct build_state *st, const struct kiln_pkg *pkg)
{
	for (size_t i = 0; i < st->res.n_indexes; i++) {
		const struct kiln_repo_index *ri = &st->res.indexes[i];
		const char *c = ri->codename ? ri->codename : ri->suite;

		if (strcmp(ri->suite, pkg->suite) == 0)
			return kiln_strndup(c, strcspn(c, "-/"));
	}
	return kiln_strdup(pkg->suite);
}

/*
 * The feed's fixes for @pkg: those the chosen version has and the point
 * release lacked. Ids newer than @previous go to @cves/@advs, all of them to
 * @fixed. Returns 1 when any applies: the package is then a security update.
 */
static int
advisory_ids(const struct build_state *st, const struct kiln_pkg *pkg, const char *previous,
	     struct kiln_strv *cves, struct kiln_strv *advs, struct kiln_strv *fixed)
{
	_cleanup_free_ char *rel = NULL;
	int hit = 0;

	for (size_t i = 0; i < st->adv.n; i++) {
		const struct kiln_advisory *a = &st->adv.v[i];

		if (strcmp(a->package, pkg->source) != 0 && strcmp(a->package, pkg->name) != 0)
			continue;
		if (a->release) {
			if (!rel)
				rel = release_of(st, pkg);
			if (strcmp(a->release, rel) != 0)
				continue;
		}
		if (kiln_deb_version_cmp(a->fixed, pkg->version) > 0 ||
		    (pkg->baseline && kiln_deb_version_cmp(a->fixed, pkg->baseline) <= 0))
			continue;
		hit = 1;
		for (size_t j = 0; j < a->ids.n; j++) {
			int cve = kiln_startswith(a->ids.v[j], "CVE-");

			if (cve)
				push_unique(fixed, a->ids.v[j]);
			if (!previous || kiln_deb_version_cmp(a->fixed, previous) > 0)
				push_unique(cve ? cves : advs, a->ids.v[j]);
		}
	}
	return hit;
}

/*
 * security_updates: every package chosen from a security suite
 * (classification "security") and, against a previous image, every other
 * package whose version changed ("other"). cves/advisories come from the
 * changelog entries newer than previous; fixed_cves from those newer than the
 * point release's version, so a fix stays listed while the package is at or
 * above it.
 */
static size_t
security_updates(struct kiln_ctx *ctx, const struct build_state *st, const char *family,
		 const struct kiln_changelog *logs, size_t n_logs, struct kiln_manifest_update **ret)
{
	json_t *prev = previous_packages(ctx->set->store, family, st->prev_version);
	struct kiln_manifest_update *out = kiln_calloc(st->res.set.n + 1, sizeof(*out));
	size_t n = 0;

	for (size_t i = 0; i < st->res.set.n; i++) {
		const struct kiln_pkg *pkg = &st->res.set.pkgs[i];
		const char *pv = prev ? json_string_value(json_object_get(prev, pkg->name)) : NULL;
		const char *previous = pv ? pv : pkg->baseline;
		struct kiln_manifest_update *u = &out[n];
		_cleanup_(kiln_strv_releasep) struct kiln_strv fixed_advs = { 0 };
		_cleanup_free_ char *text = NULL;
		size_t len = 0;

		int advised = advisory_ids(st, pkg, previous, &u->cves, &u->advisories, &u->fixed_cves);

		if (!pkg->security && !advised && !(pv && strcmp(pv, pkg->version) != 0)) {
			kiln_strv_release(&u->cves);
			kiln_strv_release(&u->advisories);
			kiln_strv_release(&u->fixed_cves);
			continue;
		}
		text = changelog_of(ctx, pkg, logs, n_logs, &len);
		if (text) {
			if (!previous || strcmp(previous, pkg->version) != 0)
				kiln_changelog_fixes(text, len, previous, pkg->version, &u->cves, &u->advisories);
			if (pkg->security)
				kiln_changelog_fixes(text, len, pkg->baseline, pkg->version, &u->fixed_cves,
						     &fixed_advs);
		}
		kiln_strv_sort(&u->cves);
		kiln_strv_sort(&u->advisories);
		kiln_strv_sort(&u->fixed_cves);
		u->package = pkg->name;
		u->version = pkg->version;
		u->previous = previous ? kiln_strdup(previous) : NULL;	/* @prev is gone on return */
		u->suite = pkg->suite;
		u->security = pkg->security || advised;
		u->changelog = text != NULL;
		n++;
	}
	json_decref(prev);
	*ret = out;
	return n;
}

/* manifest.json from what the build chose: every string is borrowed from @r, @st and @k. */
static char *
manifest_bytes(const struct kiln_recipe *r, const struct build_state *st, const struct kiln_manifest_artifact *artifacts,
	       size_t n_artifacts, const struct disk_made *disk, size_t n_files, const char *files_sha256, const struct kiln_manifest_update *updates,
	       size_t n_updates)
{
	const struct kiln_resolution *res = &st->res;
	const struct kiln_kernel *k = &st->kernel;
	_cleanup_free_ struct kiln_manifest_source *sources = kiln_calloc(res->n_indexes + 1, sizeof(*sources));
	_cleanup_free_ struct kiln_manifest_pkg *pkgs = kiln_calloc(res->set.n + 1, sizeof(*pkgs));
	_cleanup_free_ const char **mods = kiln_calloc(k->n_load + 1, sizeof(*mods));
	_cleanup_free_ struct kiln_manifest_exec *pre = kiln_calloc(r->n_execs + 1, sizeof(*pre));
	struct kiln_manifest m = {
		.family = r->family, .version = st->version, .built = (time_t)st->sde,
		.recipe_name = r->name, .recipe_sha256 = r->sha256,
		.sources = sources, .n_sources = res->n_indexes,
		.kernel = { res->kernel.name, res->kernel.version, res->kernel_release, r->kernel_cmdline,
			    res->kernel.sha256, mods, k->n_load },
		.base = { res->base.name, res->base.version, res->base.suite, res->base.sha256 },
		.packages = pkgs, .n_packages = res->set.n,
		.artifacts = artifacts, .n_artifacts = n_artifacts,
		.files.count = n_files,
		.updates = updates, .n_updates = n_updates,
		.image = { &r->argv, &r->environment, &st->ignored, r->user, pre, r->n_execs, r->state },
		.previous_version = st->prev_version, .previous_sha256 = st->prev_sha256,
		.rebake = st->rebake,
	};

	if (disk) {
		m.disk.cmdline = disk->cmdline;
		m.disk.stub_package = res->uefi_stub.name;
		m.disk.stub_version = res->uefi_stub.version;
		m.disk.stub_sha256 = res->uefi_stub.sha256;
		m.disk.disk_guid = disk->ids.disk_guid;
		m.disk.esp_guid = disk->ids.esp_guid;
		m.disk.fat_serial = disk->ids.fat_serial;
		m.disk.size = disk->ids.size;
	}
	for (size_t i = 0; i < res->n_indexes; i++) {
		const struct kiln_repo_index *ri = &res->indexes[i];

		sources[i] = (struct kiln_manifest_source){ ri->uri, ri->suite, ri->inrelease_sha256, ri->date,
							     ri->rollback_from };
	}
	for (size_t i = 0; i < res->set.n; i++) {
		const struct kiln_pkg *p = &res->set.pkgs[i];

		pkgs[i] = (struct kiln_manifest_pkg){ p->name, p->version, p->arch, p->suite, p->sha256,
						      package_files(&st->report, p->name) };
	}
	for (size_t i = 0; i < k->n_load; i++)
		mods[i] = k->mods[k->load_order[i]].name;
	for (size_t i = 0; i < r->n_execs; i++)
		pre[i] = (struct kiln_manifest_exec){ &r->execs[i].argv, r->execs[i].first_boot };
	snprintf(m.files.sha256, sizeof(m.files.sha256), "%s", files_sha256);
	return kiln_manifest_format(&m);
}

struct stub_read {
	char *data;
	size_t len;
};

static int
on_stub_entry(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *e, struct kiln_deb_reader *r)
{
	struct stub_read *sr = user;
	const char *p = kiln_startswith(e->path, "./") ? e->path + 1 : e->path;

	if (e->type != KILN_ENT_FILE || strcmp(p, KILN_UKI_STUB_PATH) != 0 || sr->data)
		return 0;
	return kiln_deb_read(ctx, r, KILN_UKI_STUB_MAX, &sr->data, &sr->len);
}

/* The disk formats [Output] Formats= names, in the order kiln writes them. */
static const char *const disk_formats[] = { "raw", "qcow2", "vhd" };
static const char *const disk_names[] = { "disk.raw", "disk.qcow2", "disk.vhd" };

/*
 * The disk images: the UKI from the stub package, the raw GPT disk, then
 * qcow2 and VHD from it (the raw one removed unless asked for). Appends
 * their artifacts; @m_disk gets what the manifest records of them.
 */
static int
make_disks(struct kiln_ctx *ctx, const struct kiln_recipe *r, struct build_state *st, const char *initrd_sha,
	   const char *vmlinuz_sha, struct kiln_manifest_artifact *arts, size_t *n_arts, struct disk_made *made)
{
	const struct kiln_pkg *sp = &st->res.uefi_stub;
	_cleanup_free_ char *deb = kiln_cache_blob_path(ctx->set->store, sp->sha256);
	_cleanup_free_ char *tar = kiln_cache_data_tar_path(ctx, sp->sha256);
	_cleanup_free_ char *stub = kiln_asprintf("%s/.uki-stub.efi", st->tmp);
	_cleanup_free_ char *raw = kiln_asprintf("%s/disk.raw", st->tmp);
	_cleanup_free_ char *vmlinuz = kiln_asprintf("%s/vmlinuz", st->tmp), *initrd = kiln_asprintf("%s/initrd.img", st->tmp);
	struct stub_read sr = { 0 };
	int rc;

	rc = kiln_deb_foreach(ctx, deb, sp->name, tar, NULL, on_stub_entry, &sr);
	if (rc == 0 && !sr.data)
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "package '%s' %s has no %s", sp->name, sp->version, KILN_UKI_STUB_PATH);
	if (rc == 0)
		rc = write_file(ctx, st->tmp, ".uki-stub.efi", sr.data, sr.len);
	free(sr.data);
	if (rc < 0)
		return -1;
	made->cmdline = kiln_asprintf("%s panic=-1", r->kernel_cmdline);
	made->seed = kiln_asprintf("%s/%s\ninitrd.img %s\nvmlinuz %s\ncmdline %s\nstub %s", r->family, st->version,
				   initrd_sha, vmlinuz_sha, made->cmdline, sp->sha256);
	made->osrel = kiln_asprintf("NAME=\"kiln %s\"\nID=kiln\nIMAGE_ID=%s\nIMAGE_VERSION=%s\nVERSION_ID=%s\n"
				    "PRETTY_NAME=\"kiln %s %s\"\n", r->family, r->family, st->version, st->version,
				    r->family, st->version);
	{
		struct kiln_disk_input in = { stub, vmlinuz, initrd, made->cmdline, made->osrel, made->seed, st->sde, st->tmp };

		rc = kiln_disk_make_raw(ctx, &in, raw, &made->ids);
	}
	unlink(stub);
	for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(disk_formats); i++) {
		const char *fmt = disk_formats[i];
		_cleanup_free_ char *path = kiln_asprintf("%s/%s", st->tmp, disk_names[i]);
		struct kiln_manifest_artifact *a = &arts[*n_arts];

		if (!kiln_strv_contains(&r->formats, fmt))
			continue;
		if (strcmp(fmt, "qcow2") == 0)
			rc = kiln_disk_qcow2(ctx, raw, path);
		else if (strcmp(fmt, "vhd") == 0)
			rc = kiln_disk_vhd(ctx, raw, path, made->seed, st->sde);
		if (rc == 0)
			rc = file_sha256(ctx, path, a->sha256, &a->size);
		if (rc == 0) {
			a->name = disk_names[i];
			(*n_arts)++;
		}
	}
	if (!kiln_strv_contains(&r->formats, "raw"))
		unlink(raw);
	return rc;
}

/* What kiln-init needs to mount a deployment's data volume over State= (built in, in some kernels). */
static const char *const state_modules[] = { "?virtio_blk", "?ext4" };

static int
build_in_tmp(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	     struct build_state *st, struct kiln_build_result *res)
{
	const struct kiln_pkg *kp = &st->res.kernel;
	_cleanup_free_ char *kdeb = kiln_cache_blob_path(ctx->set->store, kp->sha256);	/* fetch_all() verifies it */
	_cleanup_free_ char *tsv = NULL, *manifest = NULL, *initrd = NULL;
	_cleanup_free_ char *ktar = kiln_cache_data_tar_path(ctx, kp->sha256);
	char files_sha[65];
	struct kiln_changelog *logs = NULL;
	uint64_t rd_size;
	size_t n_files, n_logs = 0, n_updates;
	struct kiln_manifest_update *updates = NULL;
	struct kiln_manifest_artifact artifacts[2 + ARRAY_SIZE(disk_formats)] = { { .name = "initrd.img" }, { .name = "vmlinuz" } };
	size_t n_artifacts = 2;
	struct disk_made disk = { 0 };

	_cleanup_(kiln_strv_releasep) struct kiln_strv mods = { 0 };

	/* State=: a deployment may give it a data volume, the first virtio disk, ext4 (kiln-init mounts it) */
	for (size_t i = 0; i < r->kernel_modules.n; i++)
		kiln_strv_push(&mods, r->kernel_modules.v[i]);
	for (size_t i = 0; r->state && i < ARRAY_SIZE(state_modules); i++)
		if (!kiln_strv_contains(&mods, state_modules[i] + 1))
			kiln_strv_push(&mods, state_modules[i]);
	if (fetch_all(ctx, o, st, res) < 0 ||
	    kiln_kernel_load(ctx, kdeb, ktar, kp->name, st->res.kernel_release, &mods, &st->kernel) < 0)
		return -1;
	for (size_t i = 0; i < st->kernel.missing_optional.n; i++)
		kiln_strv_push_take(&res->warnings, kiln_asprintf("kernel %s has no '%s': deployments of this image cannot"
								  " mount a data volume over State=", st->res.kernel_release,
								  st->kernel.missing_optional.v[i]));
	if (compose_initrd(ctx, r, o, st, &tsv, &n_files, &logs, &n_logs) < 0)
		return -1;
	for (size_t i = 0; i < st->report.warnings.n; i++)
		kiln_strv_push(&res->warnings, st->report.warnings.v[i]);
	n_updates = security_updates(ctx, st, r->family, logs, n_logs, &updates);
	kiln_changelogs_free(logs, n_logs);
	initrd = kiln_asprintf("%s/initrd.img", st->tmp);
	if (file_sha256(ctx, initrd, artifacts[0].sha256, &rd_size) < 0) {
		kiln_manifest_updates_free(updates, n_updates);
		return -1;
	}
	artifacts[0].size = rd_size;
	artifacts[1].size = st->kernel.vmlinuz_len;
	kiln_sha256_hex(st->kernel.vmlinuz, st->kernel.vmlinuz_len, artifacts[1].sha256);
	kiln_sha256_hex(tsv, strlen(tsv), files_sha);
	/* the recipe as built (its hash is the manifest's recipe.sha256): kiln assess resolves it again later */
	if (write_file(ctx, st->tmp, "vmlinuz", st->kernel.vmlinuz, st->kernel.vmlinuz_len) < 0 ||
	    write_file(ctx, st->tmp, "files.tsv", tsv, strlen(tsv)) < 0 ||
	    write_file(ctx, st->tmp, "recipe", r->text, r->text_len) < 0) {
		kiln_manifest_updates_free(updates, n_updates);
		return -1;
	}
	if (st->res.uefi_stub.name &&
	    make_disks(ctx, r, st, artifacts[0].sha256, artifacts[1].sha256, artifacts, &n_artifacts, &disk) < 0) {
		kiln_manifest_updates_free(updates, n_updates);
		disk_made_release(&disk);
		return -1;
	}
	manifest = manifest_bytes(r, st, artifacts, n_artifacts, st->res.uefi_stub.name ? &disk : NULL, n_files, files_sha,
				  updates, n_updates);
	kiln_manifest_updates_free(updates, n_updates);
	disk_made_release(&disk);
	if (write_file(ctx, st->tmp, "manifest.json", manifest, strlen(manifest)) < 0)
		return -1;
	if (o->key_path) {
		_cleanup_free_ char *sig = NULL;

		if (kiln_sign(ctx, o->key_path, manifest, strlen(manifest), &sig) < 0 ||
		    write_file(ctx, st->tmp, "manifest.json.sig", sig, strlen(sig)) < 0)
			return -1;
	}
	res->n_packages = st->res.set.n;
	for (size_t i = 0; i < st->res.set.n; i++)
		res->n_dropped += package_files(&st->report, st->res.set.pkgs[i].name) == 0;
	res->n_files = n_files;
	res->n_modules = st->kernel.n_load;
	res->vmlinuz_size = st->kernel.vmlinuz_len;
	res->initrd_size = rd_size;
	res->segments = st->report.segments;
	res->reused = st->report.reused;
	return 0;
}

/* Moves the finished version into place: the one step a reader can see. */
static int
publish(struct kiln_ctx *ctx, const struct build_state *st, int force)
{
	_cleanup_free_ char *old = kiln_asprintf("%s.old", st->tmp);
	int replaced = 0;

	if (force && rename(st->target, old) == 0)
		replaced = 1;
	if (rename(st->tmp, st->target) < 0) {
		int e = errno;

		if (replaced)
			rename(old, st->target);
		if (e == EEXIST || e == ENOTEMPTY)
			return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' already exists (--force replaces it)", st->target);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot rename '%s' to '%s': %s", st->tmp, st->target, strerror(e));
	}
	if (replaced)
		rm_rf(old);
	return 0;
}

int
kiln_build(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	   struct kiln_build_result *ret)
{
	struct build_state st = { 0 };
	struct kiln_build_result res = { 0 };
	_cleanup_free_ char *famdir = kiln_asprintf("%s/%s", ctx->set->store, r->family);
	struct stat sb;
	int rc;

	if (o->version && !kiln_version_valid(o->version))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad version '%s': use YYYY.MM.R", o->version);
	if (o->advisories_path && kiln_advisories_load(ctx, o->advisories_path, &st.adv) < 0)
		return -1;
	if (o->key_path) {	/* a bad key should fail before the build, not after */
		_cleanup_free_ char *probe = NULL;

		if (kiln_sign(ctx, o->key_path, "", 0, &probe) < 0) {
			kiln_advisories_release(&st.adv);
			return -1;
		}
	}
	if (kiln_resolve(ctx, r, o->arch, o->apt_root, &st.res) < 0) {
		kiln_advisories_release(&st.adv);
		return -1;
	}
	st.sde = o->source_date_epoch;
	st.rebake = o->rebake;
	if (st.sde < 0)
		for (size_t i = 0; i < st.res.n_indexes; i++)
			if (st.res.indexes[i].date > st.sde)
				st.sde = st.res.indexes[i].date;
	st.version = o->version ? kiln_strdup(o->version) : next_version(ctx->set->store, r->family, st.sde, o->released);
	st.target = kiln_asprintf("%s/%s", famdir, st.version);
	rc = o->released && kiln_strv_contains(o->released, st.version)
		     ? kiln_error(ctx, KILN_EXIT_REFUSED, "%s/%s is released: a released version never changes; a rebuild gets a new version",
				  r->family, st.version)
		     : 0;
	if (rc == 0)
		rc = kiln_mkdir_p(ctx, famdir, 0755);
	if (rc == 0 && stat(st.target, &sb) == 0 && !o->force)
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s is already built (--force rebuilds it)", r->family, st.version);
	if (rc == 0) {
		clean_stale(ctx->set->store);
		st.tmp = kiln_asprintf("%s/.build-%d-%s-%s", ctx->set->store, (int)getpid(), r->family, st.version);
		rm_rf(st.tmp);
		if (mkdir(st.tmp, 0755) < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", st.tmp, strerror(errno));
	}
	if (rc == 0 && !kiln_manifest_previous(ctx->set->store, r->family, st.version, &st.prev_version, st.prev_sha256))
		st.prev_version = NULL;
	for (size_t i = 0; rc == 0 && i < st.res.n_indexes; i++) {
		char *note = kiln_repo_index_rollback_note(&st.res.indexes[i]);

		if (note)
			kiln_strv_push_take(&res.warnings, note);
	}
	if (rc == 0)
		rc = check_downgrades(ctx, r, &st, &res.warnings);
	if (rc == 0)
		rc = build_in_tmp(ctx, r, o, &st, &res);
	/* fault injection for tests/t/t3000-build.sh: a failure, and a window to kill -9 */
	if (rc == 0 && getenv("KILN_TEST_FAIL_BEFORE_PUBLISH"))
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "failure injected before publishing");
	if (rc == 0 && getenv("KILN_TEST_PAUSE_BEFORE_PUBLISH"))
		sleep((unsigned)atoi(getenv("KILN_TEST_PAUSE_BEFORE_PUBLISH")));
	if (rc == 0)
		rc = publish(ctx, &st, o->force);
	if (rc < 0 && st.tmp)
		rm_rf(st.tmp);
	if (rc == 0) {
		res.ignored = st.ignored;
		memset(&st.ignored, 0, sizeof(st.ignored));
		res.dir = TAKE_PTR(st.target);
		res.version = TAKE_PTR(st.version);
		*ret = res;
	} else {
		kiln_build_result_release(&res);
	}
	kiln_resolution_release(&st.res);
	kiln_kernel_release(&st.kernel);
	free(st.tmp);
	free(st.target);
	free(st.version);
	free(st.prev_version);
	kiln_advisories_release(&st.adv);
	kiln_strv_release(&st.ignored);
	kiln_compose_report_release(&st.report);
	return rc;
}
