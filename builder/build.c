/* build.c - kiln build: fetch the resolved packages, compose the initramfs, write the version atomically. */
#define _GNU_SOURCE
#include "build.h"
#include "compose.h"
#include "advisories.h"
#include "changelog.h"
#include "kernel.h"
#include "pkgarchive.h"
#include "manifest.h"
#include "resolve.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEB_MAX ((uint64_t)2 * 1024 * 1024 * 1024)
#define RECIPE_FILE_MAX (64 * 1024 * 1024)

int
kiln_version_valid(const char *v)
{
	unsigned y, m, r;
	int n = 0;

	if (sscanf(v, "%4u.%2u.%u%n", &y, &m, &r, &n) != 3 || v[n] || y < 1970 || m < 1 || m > 12 || r > 999)
		return 0;
	return strlen(v) >= 9 && v[4] == '.' && v[7] == '.' && (v[8] != '0' || !v[9]);
}

int
kiln_version_cmp(const char *a, const char *b)
{
	unsigned x[3] = { 0 }, y[3] = { 0 };

	sscanf(a, "%u.%u.%u", &x[0], &x[1], &x[2]);
	sscanf(b, "%u.%u.%u", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

void
kiln_build_result_release(struct kiln_build_result *res)
{
	free(res->dir);
	free(res->version);
	memset(res, 0, sizeof(*res));
}

/* The next free YYYY.MM.R of @family for the month of @sde. */
static char *
next_version(const char *store, const char *family, int64_t sde)
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

/* Removes what builds that were killed left behind: .build-PID-* of dead PIDs. */
static void
clean_stale(const char *store)
{
	DIR *d = opendir(store);
	struct dirent *de;

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

/* /etc/passwd and /etc/group from [Users], root first. Caller frees both. */
static void
users_files(const struct kiln_recipe *r, char **ret_passwd, char **ret_group)
{
	struct kiln_buf passwd = { 0 }, group = { 0 };

	kiln_buf_addf(&passwd, "root:x:0:0:root:/root:/nonexistent\n");
	kiln_buf_addf(&group, "root:x:0:\n");
	for (size_t i = 0; i < r->n_users; i++) {
		kiln_buf_addf(&passwd, "%s:x:%u:%u:%s:%s:/nonexistent\n", r->users[i].name, r->users[i].uid,
			      r->users[i].gid, r->users[i].name, r->users[i].home);
		kiln_buf_addf(&group, "%s:x:%u:\n", r->users[i].name, r->users[i].gid);
	}
	*ret_passwd = kiln_buf_detach(&passwd, NULL);
	*ret_group = kiln_buf_detach(&group, NULL);
}

/* kiln-init's configuration, /etc/kiln/init (see init/kiln-init.c). Caller frees. */
static char *
init_conf(const struct kiln_recipe *r, const struct kiln_strv *argv, const struct kiln_user *user,
	  const char *version, const struct kiln_kernel *k)
{
	const char *home = user ? user->home : "/root";
	struct kiln_buf b = { 0 };

	kiln_buf_addf(&b, "family=%s\nversion=%s\nhostname=%s\non_exit=%s\nuid=%u\ngid=%u\nhome=%s\n",
		      r->family, version, r->hostname, r->on_exit, user ? user->uid : 0, user ? user->gid : 0, home);
	for (size_t i = 0; i < argv->n; i++)
		kiln_buf_addf(&b, "arg=%s\n", argv->v[i]);
	kiln_buf_addf(&b, "env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\nenv=HOME=%s\nenv=TERM=linux\n", home);
	for (size_t i = 0; i < r->environment.n; i++)
		kiln_buf_addf(&b, "env=%s\n", r->environment.v[i]);
	for (size_t i = 0; i < k->n_load; i++)
		kiln_buf_addf(&b, "module=/usr/lib/modules/%s/%s\n", k->release, k->mods[k->load_order[i]].relpath);
	if (r->net_address)
		kiln_buf_addf(&b, "address=%s\n", r->net_address);
	if (r->net_gateway)
		kiln_buf_addf(&b, "gateway=%s\n", r->net_gateway);
	return kiln_buf_detach(&b, NULL);
}

static int
add_recipe_files(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r)
{
	for (size_t i = 0; i < r->n_users; i++)
		if (kiln_compose_add(ctx, c, r->users[i].home, KILN_ENT_DIR, 0750, r->users[i].uid, r->users[i].gid,
				     NULL, 0, NULL) < 0)
			return -1;
	for (size_t i = 0; i < r->n_files; i++) {
		_cleanup_free_ char *src = r->files[i].src[0] == '/' ? kiln_strdup(r->files[i].src)
					     : kiln_asprintf("%s/%s", r->dir, r->files[i].src);
		_cleanup_free_ char *data = NULL;
		size_t len;

		if (kiln_read_file(ctx, src, RECIPE_FILE_MAX, &data, &len) < 0)
			return kiln_error_replace(ctx, KILN_EXIT_USAGE, "%s:%d: [Files] %s: %s", r->path,
						  r->files[i].line, r->files[i].dest, ctx->msg);
		if (kiln_compose_add(ctx, c, r->files[i].dest, KILN_ENT_FILE, r->files[i].mode, 0, 0, data, len, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The generated files: the init config, users, hostname, release and the recipe's [Files]. */
static int
add_generated(struct kiln_ctx *ctx, struct kiln_compose *c, const struct kiln_recipe *r, const char *version,
	      int64_t sde, const struct kiln_kernel *k, const struct kiln_build_opts *o)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv argv = { 0 };
	_cleanup_free_ char *passwd = NULL, *group = NULL, *init = NULL, *rel = NULL, *init_bin = NULL;
	_cleanup_free_ char *hostname = kiln_asprintf("%s\n", r->hostname), *cmd = NULL;
	const struct kiln_user *user = NULL;
	char when[21];
	size_t init_len;

	if (strcmp(r->user, "root") != 0) {
		for (size_t i = 0; i < r->n_users; i++)
			if (strcmp(r->users[i].name, r->user) == 0)
				user = &r->users[i];
		if (!user)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s: User=%s is not in [Users]", r->path, r->user);
	}
	kiln_strv_split(&argv, r->cmd);
	cmd = argv.n ? kiln_path_normalize(argv.v[0] + 1) : NULL;	/* /bin/x is /usr/bin/x */
	if (!cmd || !kiln_compose_exists(c, cmd))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: Cmd '%s' is not in the image", r->path, argv.n ? argv.v[0] : "");
	if (kiln_read_file(ctx, o->init_path, 16 << 20, &init_bin, &init_len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_FAILED, "cannot read kiln-init: %s", ctx->msg);
	kiln_format_iso8601((time_t)sde, when);
	users_files(r, &passwd, &group);
	init = init_conf(r, &argv, user, version, k);
	rel = kiln_asprintf("FAMILY=%s\nVERSION=%s\nBUILT=%s\n", r->family, version, when);
	if (kiln_compose_add(ctx, c, "/etc/passwd", KILN_ENT_FILE, 0644, 0, 0, passwd, strlen(passwd), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/group", KILN_ENT_FILE, 0644, 0, 0, group, strlen(group), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/hostname", KILN_ENT_FILE, 0644, 0, 0, hostname, strlen(hostname), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/kiln-release", KILN_ENT_FILE, 0644, 0, 0, rel, strlen(rel), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/etc/kiln/init", KILN_ENT_FILE, 0644, 0, 0, init, strlen(init), NULL) < 0 ||
	    kiln_compose_add(ctx, c, "/init", KILN_ENT_FILE, 0755, 0, 0, init_bin, init_len, NULL) < 0)
		return -1;
	return add_recipe_files(ctx, c, r);
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

static json_t *
artifact_json(const char *name, uint64_t size, const char *sha256)
{
	return json_pack("{s:s, s:I, s:s}", "name", name, "size", (json_int_t)size, "sha256", sha256);
}

/* manifest.json: canonical (sorted keys, fixed indentation), part of the reproducible output. */
static char *
manifest_json(const struct kiln_recipe *r, const struct kiln_resolution *res, const struct kiln_kernel *k,
	      const char *version, int64_t sde, json_t *artifacts, size_t n_files, const char *files_sha256,
	      const char *prev_version, const char *prev_sha256, json_t *updates)
{
	json_t *root, *sources = json_array(), *pkgs = json_array(), *mods = json_array();
	char when[21];
	char *out, *dump;

	for (size_t i = 0; i < res->n_indexes; i++) {
		const struct kiln_repo_index *ri = &res->indexes[i];

		kiln_format_iso8601(ri->date, when);
		json_array_append_new(sources, json_pack("{s:s, s:s, s:s, s:s}", "uri", ri->uri, "suite", ri->suite,
							 "date", when, "inrelease_sha256", ri->inrelease_sha256));
	}
	for (size_t i = 0; i < res->set.n; i++) {
		const struct kiln_pkg *p = &res->set.pkgs[i];

		json_array_append_new(pkgs, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p->name, "version",
						      p->version, "arch", p->arch, "suite", p->suite, "sha256", p->sha256));
	}
	for (size_t i = 0; i < k->n_load; i++)
		json_array_append_new(mods, json_string(k->mods[k->load_order[i]].name));
	kiln_format_iso8601((time_t)sde, when);
	root = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:{s:s, s:s, s:s, s:s, s:s, s:o}, s:o, s:o, s:{s:s, s:I, s:s}}",
			 "schema", "kiln.manifest/1", "family", r->family, "version", version, "built", when,
			 "recipe", "name", r->name, "sha256", r->sha256,
			 "sources", sources,
			 "kernel", "package", res->kernel.name, "version", res->kernel.version,
			 "release", res->kernel_release, "cmdline", r->kernel_cmdline, "sha256", res->kernel.sha256,
			 "modules", mods,
			 "packages", pkgs, "artifacts", artifacts,
			 "files", "name", "files.tsv", "count", (json_int_t)n_files, "sha256", files_sha256);
	json_object_set_new(root, "security_updates", updates);
	json_object_set_new(root, "previous_manifest",
			    prev_version ? json_pack("{s:s, s:s}", "version", prev_version, "sha256", prev_sha256)
					 : json_null());
	dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!dump)
		abort();
	out = kiln_asprintf("%s\n", dump);	/* a text file ends with a newline */
	free(dump);
	return out;
}

struct build_state {
	struct kiln_resolution res;
	struct kiln_kernel kernel;
	char *tmp, *target, *version;
	char *prev_version;
	char prev_sha256[65];
	int64_t sde;
	struct kiln_advisories adv;
};

static int
compose_initrd(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	       struct build_state *st, char **ret_tsv, size_t *ret_count, struct kiln_changelog **ret_logs,
	       size_t *ret_n_logs)
{
	_cleanup_free_ char *initrd = kiln_asprintf("%s/initrd.img", st->tmp);
	struct kiln_strv reserved = { 0 };
	struct kiln_compose *c;
	int rc = 0;

	static const char *const gen[] = { "/init", "/etc/passwd", "/etc/group", "/etc/hostname",
					   "/etc/kiln-release", "/etc/kiln/init" };
	for (size_t i = 0; i < ARRAY_SIZE(gen); i++)
		kiln_strv_push(&reserved, gen[i]);
	for (size_t i = 0; i < r->n_files; i++)
		kiln_strv_push(&reserved, r->files[i].dest);
	c = kiln_compose_new(ctx, initrd, r->compression, st->sde, &r->exclude, &reserved);
	if (!c) {
		kiln_strv_release(&reserved);
		return -1;
	}
	for (size_t i = 0; i < st->res.set.n && rc == 0; i++) {
		const struct kiln_pkg *p = &st->res.set.pkgs[i];
		_cleanup_free_ char *url = kiln_asprintf("%s/%s", p->uri, p->filename);
		_cleanup_free_ char *deb = NULL;

		_cleanup_free_ char *tar = kiln_cache_data_tar_path(ctx, p->sha256);

		rc = kiln_cache_fetch(ctx, url, NULL, p->size, p->sha256, DEB_MAX, &deb);
		if (rc == 0)
			rc = kiln_compose_add_deb(ctx, c, deb, tar, p->name);
	}
	if (rc == 0)
		rc = add_kernel_files(ctx, c, &st->kernel);
	if (rc == 0)
		rc = add_generated(ctx, c, r, st->version, st->sde, &st->kernel, o);
	kiln_strv_release(&reserved);
	if (rc < 0) {
		kiln_compose_abort(c);
		return -1;
	}
	return kiln_compose_finish(ctx, c, ret_tsv, ret_count, ret_logs, ret_n_logs);
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

/* name → version of the previous manifest's packages, as a JSON object (NULL without one). */
static json_t *
previous_packages(const char *store, const char *family, const char *version)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	json_t *root, *out, *p;
	struct kiln_ctx sub;
	size_t len, i;

	if (!version)
		return NULL;
	path = kiln_asprintf("%s/%s/%s/manifest.json", store, family, version);
	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, path, KILN_MANIFEST_MAX, &data, &len) < 0 ||
	    !(root = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL)))
		return NULL;
	out = json_object();
	json_array_foreach(json_object_get(root, "packages"), i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		const char *v = json_string_value(json_object_get(p, "version"));

		if (n && v)
			json_object_set_new(out, n, json_string(v));
	}
	json_decref(root);
	return out;
}

static json_t *
strv_json(const struct kiln_strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
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
static json_t *
security_updates(struct kiln_ctx *ctx, const struct build_state *st, const char *family,
		 const struct kiln_changelog *logs, size_t n_logs)
{
	json_t *prev = previous_packages(ctx->store, family, st->prev_version);
	json_t *out = json_array();

	for (size_t i = 0; i < st->res.set.n; i++) {
		const struct kiln_pkg *pkg = &st->res.set.pkgs[i];
		const char *pv = prev ? json_string_value(json_object_get(prev, pkg->name)) : NULL;
		const char *previous = pv ? pv : pkg->baseline;
		_cleanup_(kiln_strv_releasep) struct kiln_strv cves = { 0 };
		_cleanup_(kiln_strv_releasep) struct kiln_strv advs = { 0 };
		_cleanup_(kiln_strv_releasep) struct kiln_strv fixed = { 0 };
		_cleanup_(kiln_strv_releasep) struct kiln_strv fixed_advs = { 0 };
		_cleanup_free_ char *text = NULL;
		size_t len = 0;

		int advised = advisory_ids(st, pkg, previous, &cves, &advs, &fixed);

		if (!pkg->security && !advised && !(pv && strcmp(pv, pkg->version) != 0))
			continue;
		text = changelog_of(ctx, pkg, logs, n_logs, &len);
		if (text) {
			if (!previous || strcmp(previous, pkg->version) != 0)
				kiln_changelog_fixes(text, len, previous, pkg->version, &cves, &advs);
			if (pkg->security)
				kiln_changelog_fixes(text, len, pkg->baseline, pkg->version, &fixed, &fixed_advs);
		}
		kiln_strv_sort(&cves);
		kiln_strv_sort(&advs);
		kiln_strv_sort(&fixed);
		json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:b}",
						     "package", pkg->name, "version", pkg->version,
						     "previous", previous ? json_string(previous) : json_null(),
						     "suite", pkg->suite, "classification", pkg->security || advised ? "security" : "other",
						     "cves", strv_json(&cves), "advisories", strv_json(&advs),
						     "fixed_cves", strv_json(&fixed), "changelog", text != NULL));
	}
	json_decref(prev);
	return out;
}

static int
build_in_tmp(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	     struct build_state *st, struct kiln_build_result *res)
{
	const struct kiln_pkg *kp = &st->res.kernel;
	_cleanup_free_ char *kurl = kiln_asprintf("%s/%s", kp->uri, kp->filename);
	_cleanup_free_ char *kdeb = NULL, *tsv = NULL, *manifest = NULL, *initrd = NULL;
	_cleanup_free_ char *ktar = kiln_cache_data_tar_path(ctx, kp->sha256);
	char files_sha[65], vm_sha[65], rd_sha[65];
	struct kiln_changelog *logs = NULL;
	uint64_t rd_size;
	size_t n_files, n_logs = 0;
	json_t *artifacts, *updates;

	if (kiln_cache_fetch(ctx, kurl, NULL, kp->size, kp->sha256, DEB_MAX, &kdeb) < 0 ||
	    kiln_kernel_load(ctx, kdeb, ktar, kp->name, st->res.kernel_release, &r->kernel_modules, &st->kernel) < 0)
		return -1;
	if (compose_initrd(ctx, r, o, st, &tsv, &n_files, &logs, &n_logs) < 0)
		return -1;
	updates = security_updates(ctx, st, r->family, logs, n_logs);
	kiln_changelogs_free(logs, n_logs);
	initrd = kiln_asprintf("%s/initrd.img", st->tmp);
	if (file_sha256(ctx, initrd, rd_sha, &rd_size) < 0) {
		json_decref(updates);
		return -1;
	}
	kiln_sha256_hex(st->kernel.vmlinuz, st->kernel.vmlinuz_len, vm_sha);
	kiln_sha256_hex(tsv, strlen(tsv), files_sha);
	if (write_file(ctx, st->tmp, "vmlinuz", st->kernel.vmlinuz, st->kernel.vmlinuz_len) < 0 ||
	    write_file(ctx, st->tmp, "files.tsv", tsv, strlen(tsv)) < 0) {
		json_decref(updates);
		return -1;
	}
	artifacts = json_array();
	json_array_append_new(artifacts, artifact_json("initrd.img", rd_size, rd_sha));
	json_array_append_new(artifacts, artifact_json("vmlinuz", st->kernel.vmlinuz_len, vm_sha));
	manifest = manifest_json(r, &st->res, &st->kernel, st->version, st->sde, artifacts, n_files, files_sha,
				 st->prev_version, st->prev_sha256, updates);
	if (write_file(ctx, st->tmp, "manifest.json", manifest, strlen(manifest)) < 0)
		return -1;
	if (o->key_path) {
		_cleanup_free_ char *sig = NULL;

		if (kiln_sign(ctx, o->key_path, manifest, strlen(manifest), &sig) < 0 ||
		    write_file(ctx, st->tmp, "manifest.json.sig", sig, strlen(sig)) < 0)
			return -1;
	}
	res->n_packages = st->res.set.n;
	res->n_files = n_files;
	res->n_modules = st->kernel.n_load;
	res->vmlinuz_size = st->kernel.vmlinuz_len;
	res->initrd_size = rd_size;
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
	_cleanup_free_ char *famdir = kiln_asprintf("%s/%s", ctx->store, r->family);
	struct stat sb;
	int rc;

	if (o->version && !kiln_version_valid(o->version))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad version '%s': use YYYY.MM.R", o->version);
	for (size_t i = 0; i < r->formats.n; i++)
		if (strcmp(r->formats.v[i], "initramfs") != 0)
			return kiln_error(ctx, KILN_EXIT_USAGE,
					  "%s: [Output] Formats=%s: this kiln builds initramfs images only (disk images are not implemented)",
					  r->path, r->formats.v[i]);
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
	if (st.sde < 0)
		for (size_t i = 0; i < st.res.n_indexes; i++)
			if (st.res.indexes[i].date > st.sde)
				st.sde = st.res.indexes[i].date;
	st.version = o->version ? kiln_strdup(o->version) : next_version(ctx->store, r->family, st.sde);
	st.target = kiln_asprintf("%s/%s", famdir, st.version);
	rc = kiln_mkdir_p(ctx, famdir, 0755);
	if (rc == 0 && stat(st.target, &sb) == 0 && !o->force)
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s is already built (--force rebuilds it)", r->family, st.version);
	if (rc == 0) {
		clean_stale(ctx->store);
		st.tmp = kiln_asprintf("%s/.build-%d-%s-%s", ctx->store, (int)getpid(), r->family, st.version);
		rm_rf(st.tmp);
		if (mkdir(st.tmp, 0755) < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", st.tmp, strerror(errno));
	}
	if (rc == 0 && !kiln_manifest_previous(ctx->store, r->family, st.version, &st.prev_version, st.prev_sha256))
		st.prev_version = NULL;
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
		res.dir = TAKE_PTR(st.target);
		res.version = TAKE_PTR(st.version);
		*ret = res;
	}
	kiln_resolution_release(&st.res);
	kiln_kernel_release(&st.kernel);
	free(st.tmp);
	free(st.target);
	free(st.version);
	free(st.prev_version);
	kiln_advisories_release(&st.adv);
	return rc;
}
