/* kernel.c - vmlinuz, modules and their closure from a Debian kernel package; .modinfo parsing. */
#define _GNU_SOURCE
#include "kernel.h"
#include "elffile.h"
#include "pkgarchive.h"

#include <string.h>

#define KERNEL_FILE_MAX ((size_t)256 * 1024 * 1024)

static void
normalize_name(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

int
kiln_modinfo_parse(char *data, size_t len, char **ret_name, struct kiln_strv *deps)
{
	_cleanup_free_ char *info = NULL;
	size_t info_len = 0;
	struct kiln_ctx quiet;

	*ret_name = NULL;
	kiln_ctx_init(&quiet);
	if (kiln_elf_section(&quiet, data, len, ".modinfo", &info, &info_len) != 0) {
		kiln_error_clear(&quiet);
		return -1;
	}
	for (size_t off = 0; off < info_len;) {
		const char *s = info + off, *nul = memchr(s, '\0', info_len - off);
		size_t n = nul ? (size_t)(nul - s) : info_len - off;

		if (n > 8 && strncmp(s, "depends=", 8) == 0) {
			_cleanup_free_ char *list = kiln_strndup(s + 8, n - 8);
			char *save = NULL;

			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				normalize_name(t);
				if (!kiln_strv_contains(deps, t))
					kiln_strv_push(deps, t);
			}
		} else if (n > 5 && strncmp(s, "name=", 5) == 0 && !*ret_name) {
			*ret_name = kiln_strndup(s + 5, n - 5);
			normalize_name(*ret_name);
		}
		off += n + 1;
	}
	return 0;
}

struct kload {
	struct kiln_kernel *k;
	const char *what;
	char *vmlinuz_path, *config_path, *mod_prefix;
};

static int
on_entry(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *e, struct kiln_deb_reader *r)
{
	struct kload *kl = user;
	struct kiln_kernel *k = kl->k;
	const char *p = e->path;
	char *data;
	size_t len;

	if (kiln_startswith(p, "./"))
		p++;
	if (e->type != KILN_ENT_FILE)
		return 0;
	if (strcmp(p, kl->vmlinuz_path) == 0) {
		if (kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &k->vmlinuz, &k->vmlinuz_len) < 0)
			return -1;
	} else if (strcmp(p, kl->config_path) == 0) {
		if (kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &k->config, &k->config_len) < 0)
			return -1;
	} else if (kiln_startswith(p, kl->mod_prefix)) {
		const char *rel = p + strlen(kl->mod_prefix);
		size_t rl = strlen(rel);

		if (strcmp(rel, "modules.order") == 0)
			return kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &k->order, &k->order_len);
		if (strcmp(rel, "modules.builtin") == 0)
			return kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &k->builtin_file, &k->builtin_file_len);
		if (strcmp(rel, "modules.builtin.modinfo") == 0)
			return kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &k->builtin_modinfo, &k->builtin_modinfo_len);
		if (rl > 3 && strcmp(rel + rl - 3, ".ko") == 0 && !strstr(rel, "..")) {
			struct kiln_module *m;
			const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
			char *name = NULL;

			if (kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &data, &len) < 0)
				return -1;
			k->mods = kiln_realloc(k->mods, (k->n_mods + 1) * sizeof(*k->mods));
			m = &k->mods[k->n_mods++];
			memset(m, 0, sizeof(*m));
			m->relpath = kiln_strdup(rel);
			m->data = data;
			m->len = len;
			if (kiln_modinfo_parse(data, len, &name, &m->depends) < 0)
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': module '%s' has no readable .modinfo",
						  kl->what, rel);
			/* only the closure's modules are kept: read again in a second pass (a kernel has thousands) */
			free(m->data);
			m->data = NULL;
			if (!name) {
				name = kiln_strndup(base, strlen(base) - 3);
				normalize_name(name);
			}
			m->name = name;
		}
	}
	return 0;
}

static struct kiln_module *
find_module(struct kiln_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->n_mods; i++)
		if (strcmp(k->mods[i].name, name) == 0)
			return &k->mods[i];
	return NULL;
}

/* Depth-first: dependencies before the module itself. */
static int
add_closure(struct kiln_ctx *ctx, struct kiln_kernel *k, const char *name, int depth)
{
	struct kiln_module *m = find_module(k, name);

	if (!m) {
		if (kiln_strv_contains(&k->builtin, name)) {
			if (!kiln_strv_contains(&k->skipped_builtin, name))
				kiln_strv_push(&k->skipped_builtin, name);
			return 0;
		}
		return kiln_error(ctx, KILN_EXIT_USAGE, "module '%s' is neither in kernel %s nor built into it",
				  name, k->release);
	}
	if (m->wanted)
		return 0;
	if (depth > 64)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "module dependencies of '%s' are too deep", name);
	m->wanted = 1;	/* set first: breaks cycles */
	for (size_t i = 0; i < m->depends.n; i++)
		if (add_closure(ctx, k, m->depends.v[i], depth + 1) < 0)
			return -1;
	k->load_order = kiln_realloc(k->load_order, (k->n_load + 1) * sizeof(*k->load_order));
	k->load_order[k->n_load++] = m - k->mods;
	return 0;
}

static void
parse_builtin(struct kiln_kernel *k)
{
	const char *p = k->builtin_file, *end = p + k->builtin_file_len;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *e = nl ? nl : end, *b = p;
		_cleanup_free_ char *name = NULL;

		for (const char *c = p; c < e; c++)
			if (*c == '/')
				b = c + 1;
		if (e - b > 3 && strncmp(e - 3, ".ko", 3) == 0) {
			name = kiln_strndup(b, e - b - 3);
			normalize_name(name);
			kiln_strv_push(&k->builtin, name);
		}
		p = e + 1;
	}
}

/* The second pass: the content of the modules the image loads. */
static int
on_wanted(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *e, struct kiln_deb_reader *r)
{
	struct kload *kl = user;
	struct kiln_kernel *k = kl->k;
	const char *p = e->path;

	if (kiln_startswith(p, "./"))
		p++;
	if (e->type != KILN_ENT_FILE || !kiln_startswith(p, kl->mod_prefix))
		return 0;
	for (size_t i = 0; i < k->n_load; i++) {
		struct kiln_module *m = &k->mods[k->load_order[i]];
		char *name = NULL;
		struct kiln_strv deps = { 0 };
		int same;

		if (m->data || strcmp(m->relpath, p + strlen(kl->mod_prefix)) != 0)
			continue;
		if (kiln_deb_read(ctx, r, KERNEL_FILE_MAX, &m->data, &m->len) < 0)
			return -1;
		/* the same module as the first pass saw: its .modinfo says the same */
		same = kiln_modinfo_parse(m->data, m->len, &name, &deps) == 0 && deps.n == m->depends.n;
		for (size_t j = 0; same && j < deps.n; j++)
			same = strcmp(deps.v[j], m->depends.v[j]) == 0;
		free(name);
		kiln_strv_release(&deps);
		if (!same)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': module '%s' changed between passes", kl->what,
					  m->relpath);
		return 0;
	}
	return 0;
}

int
kiln_kernel_load(struct kiln_ctx *ctx, const char *deb, const char *data_tar, const char *what, const char *release,
		 const struct kiln_strv *modules, struct kiln_kernel *ret)
{
	struct kiln_kernel k = { .release = kiln_strdup(release) };
	struct kload kl = { .k = &k, .what = what };
	int rc;

	kl.vmlinuz_path = kiln_asprintf("/boot/vmlinuz-%s", release);
	kl.config_path = kiln_asprintf("/boot/config-%s", release);
	kl.mod_prefix = kiln_asprintf("/lib/modules/%s/", release);
	rc = kiln_deb_foreach(ctx, deb, what, data_tar, NULL, on_entry, &kl);
	free(kl.vmlinuz_path);
	free(kl.config_path);
	free(kl.mod_prefix);
	if (rc == 0 && !k.vmlinuz)
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s' has no /boot/vmlinuz-%s", what, release);
	if (rc == 0) {
		parse_builtin(&k);
		for (size_t i = 0; i < modules->n && rc == 0; i++) {
			int optional = modules->v[i][0] == '?';
			_cleanup_free_ char *n = kiln_strdup(modules->v[i] + optional);

			normalize_name(n);
			if (optional && !find_module(&k, n) && !kiln_strv_contains(&k.builtin, n))
				kiln_strv_push(&k.missing_optional, n);
			else
				rc = add_closure(ctx, &k, n, 0);
		}
	}
	if (rc == 0 && k.n_load) {
		kl.mod_prefix = kiln_asprintf("/lib/modules/%s/", release);
		rc = kiln_deb_foreach(ctx, deb, what, data_tar, NULL, on_wanted, &kl);
		free(kl.mod_prefix);
		for (size_t i = 0; rc == 0 && i < k.n_load; i++)
			if (!k.mods[k.load_order[i]].data)
				rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': module '%s' changed between passes", what,
						k.mods[k.load_order[i]].relpath);
	}
	if (rc < 0) {
		kiln_kernel_release(&k);
		return -1;
	}
	*ret = k;
	return 0;
}

/* Appends the transitive dependencies of @m, dependencies first, each once. */
static void
deps_postorder(const struct kiln_kernel *k, const struct kiln_module *m, unsigned char *seen, size_t *out, size_t *n)
{
	for (size_t j = 0; j < m->depends.n; j++)
		for (size_t l = 0; l < k->n_mods; l++)
			if (!seen[l] && strcmp(k->mods[l].name, m->depends.v[j]) == 0) {
				seen[l] = 1;
				deps_postorder(k, &k->mods[l], seen, out, n);
				out[(*n)++] = l;
			}
}

char *
kiln_kernel_modules_dep(const struct kiln_kernel *k)
{
	struct kiln_buf b = { 0 };
	unsigned char *seen = kiln_calloc(k->n_mods ? k->n_mods : 1, 1);
	size_t *order = kiln_calloc(k->n_mods ? k->n_mods : 1, sizeof(*order));

	/* as depmod writes it: every dependency, the ones to load last first */
	for (size_t i = 0; i < k->n_load; i++) {
		const struct kiln_module *m = &k->mods[k->load_order[i]];
		size_t n = 0;

		memset(seen, 0, k->n_mods);
		seen[k->load_order[i]] = 1;
		deps_postorder(k, m, seen, order, &n);
		kiln_buf_addf(&b, "%s:", m->relpath);
		while (n--)
			kiln_buf_addf(&b, " %s", k->mods[order[n]].relpath);
		kiln_buf_add(&b, "\n", 1);
	}
	free(seen);
	free(order);
	return kiln_buf_detach(&b, NULL);
}

void
kiln_kernel_release(struct kiln_kernel *k)
{
	free(k->release);
	free(k->vmlinuz);
	free(k->config);
	for (size_t i = 0; i < k->n_mods; i++) {
		free(k->mods[i].name);
		free(k->mods[i].relpath);
		free(k->mods[i].data);
		kiln_strv_release(&k->mods[i].depends);
	}
	free(k->mods);
	free(k->load_order);
	kiln_strv_release(&k->builtin);
	kiln_strv_release(&k->skipped_builtin);
	kiln_strv_release(&k->missing_optional);
	free(k->order);
	free(k->builtin_file);
	free(k->builtin_modinfo);
	memset(k, 0, sizeof(*k));
}

char
kiln_kernel_config(const struct kiln_kernel *k, const char *name)
{
	size_t nl = strlen(name);

	if (!k->config)
		return 0;
	for (const char *l = k->config, *end = k->config + k->config_len; l < end;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));

		if (!eol)
			eol = end;
		if ((size_t)(eol - l) > nl + 1 && memcmp(l, name, nl) == 0 && l[nl] == '=')
			return l[nl + 1] == 'y' || l[nl + 1] == 'm' ? l[nl + 1] : 'n';
		l = eol + 1;
	}
	return 'n';
}
