/* repo.c - InRelease → verified Release → Packages in the content-addressed cache. */
#define _GNU_SOURCE
#include "repo.h"
#include "aptsources.h"
#include "fetch.h"
#include "pgp.h"
#include "release.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
spec_release(struct kiln_repo_spec *s)
{
	free(s->uri);
	free(s->suite);
	kiln_strv_release(&s->components);
	kiln_strv_release(&s->keyrings);
	free(s->inline_key);
}

void
kiln_repo_specs_free(struct kiln_repo_spec *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		spec_release(&s[i]);
	free(s);
}

static struct kiln_repo_spec *
spec_add(struct kiln_repo_spec **specs, size_t *n)
{
	struct kiln_repo_spec *s;

	*specs = kiln_realloc(*specs, (*n + 1) * sizeof(**specs));
	s = &(*specs)[(*n)++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void
strv_copy(struct kiln_strv *dst, const struct kiln_strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		kiln_strv_push(dst, src->v[i]);
}

int
kiln_sources_expand(struct kiln_ctx *ctx, const struct kiln_recipe *r, const char *apt_root,
		    struct kiln_repo_spec **ret, size_t *ret_n)
{
	struct kiln_apt_sources host = { 0 };
	int host_loaded = 0;
	struct kiln_repo_spec *specs = NULL;
	size_t n = 0;

	for (size_t i = 0; i < r->n_sources; i++) {
		const struct kiln_source *src = &r->sources[i];

		if (src->from_host && !host_loaded) {
			if (kiln_apt_sources_load(ctx, apt_root, &host) < 0)
				goto fail;
			host_loaded = 1;
		}
		for (size_t j = 0; j < src->suites.n; j++) {
			const char *suite = src->suites.v[j];
			int found = 0;

			if (!src->from_host) {
				struct kiln_repo_spec *s = spec_add(&specs, &n);

				s->uri = kiln_strdup(src->uri);
				while (strlen(s->uri) > 8 && s->uri[strlen(s->uri) - 1] == '/')
					s->uri[strlen(s->uri) - 1] = '\0';
				s->suite = kiln_strdup(suite);
				strv_copy(&s->components, &src->components);
				kiln_strv_push(&s->keyrings, src->keyring);
				if (!s->components.n)
					kiln_strv_push(&s->components, "main");
				continue;
			}
			for (size_t k = 0; k < host.n; k++) {
				const struct kiln_apt_entry *e = &host.entries[k];
				struct kiln_repo_spec *s;

				if (!kiln_strv_contains(&e->suites, suite))
					continue;
				found = 1;
				s = spec_add(&specs, &n);
				s->uri = kiln_strdup(e->uri);
				s->suite = kiln_strdup(suite);
				strv_copy(&s->components, src->components.n ? &src->components : &e->components);
				if (!s->components.n)
					kiln_strv_push(&s->components, "main");
				strv_copy(&s->keyrings, &e->keyrings);
				s->inline_key = e->inline_key ? kiln_strdup(e->inline_key) : NULL;
			}
			if (!found) {
				kiln_error(ctx, KILN_EXIT_USAGE,
					   "%s:%d: suite '%s' is not in the host's apt sources (%s/etc/apt)",
					   r->path, src->line, suite, strcmp(apt_root, "/") ? apt_root : "");
				goto fail;
			}
		}
	}
	kiln_apt_sources_release(&host);
	*ret = specs;
	*ret_n = n;
	return 0;
fail:
	kiln_apt_sources_release(&host);
	kiln_repo_specs_free(specs, n);
	return -1;
}

void
kiln_repo_index_release(struct kiln_repo_index *ri)
{
	free(ri->uri);
	free(ri->suite);
	free(ri->origin);
	free(ri->label);
	free(ri->codename);
	for (size_t i = 0; i < ri->n_packages; i++) {
		free(ri->packages[i].component);
		free(ri->packages[i].path);
		free(ri->packages[i].cache_path);
	}
	free(ri->packages);
	memset(ri, 0, sizeof(*ri));
}

char *
kiln_repo_index_rollback_note(const struct kiln_repo_index *ri)
{
	char when[21], seen[21];

	if (!ri->rollback_from)
		return NULL;
	kiln_format_iso8601(ri->date, when);
	kiln_format_iso8601(ri->rollback_from, seen);
	return kiln_asprintf("accepted %s/dists/%s/InRelease dated %s, older than the one dated %s accepted before (--allow-older-index)",
			     ri->uri, ri->suite, when, seen);
}

char *
kiln_cache_data_tar_path(struct kiln_ctx *ctx, const char *deb_sha256)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/cache/data", ctx->set->store);
	struct kiln_ctx sub;

	kiln_ctx_init(&sub);
	kiln_mkdir_p(&sub, dir, 0755);	/* a failure shows when the file is written */
	return kiln_asprintf("%s/%s.tar", dir, deb_sha256);
}

char *
kiln_cache_blob_path(const char *store, const char *sha256)
{
	return kiln_asprintf("%s/cache/sha256/%s", store, sha256);
}

/* The ref file remembers which InRelease a URL last gave, for --offline. */
static char *
ref_path(const char *store, const char *url)
{
	char h[65];

	kiln_sha256_hex(url, strlen(url), h);
	return kiln_asprintf("%s/cache/refs/%s", store, h);
}

static int
cache_put(struct kiln_ctx *ctx, const char *sha256, const void *data, size_t len)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/cache/sha256", ctx->set->store);
	_cleanup_free_ char *path = kiln_cache_blob_path(ctx->set->store, sha256);
	struct stat st;

	if (stat(path, &st) == 0 && (size_t)st.st_size == len)
		return 0;
	if (kiln_mkdir_p(ctx, dir, 0755) < 0)
		return -1;
	return kiln_write_atomic(ctx, path, data, len, 0644);
}

/* Gets the InRelease bytes: from the network, or with --offline from the cache. */
static int
get_inrelease(struct kiln_ctx *ctx, const char *url, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *ref = ref_path(ctx->set->store, url);
	_cleanup_free_ char *hash = NULL, *blob = NULL;
	size_t hlen;
	char actual[65];
	struct kiln_ctx sub;

	if (!ctx->set->offline)
		return kiln_fetch(ctx, url, KILN_INRELEASE_MAX, ret, ret_len, NULL, NULL);
	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, ref, 128, &hash, &hlen) < 0)
		return kiln_error(ctx, KILN_EXIT_FETCH, "'%s' is not in the cache and --offline forbids fetching it", url);
	hash[strcspn(hash, "\n")] = '\0';
	blob = kiln_cache_blob_path(ctx->set->store, hash);
	if (!kiln_is_sha256_hex(hash) || kiln_read_file(&sub, blob, KILN_INRELEASE_MAX, ret, ret_len) < 0)
		return kiln_error(ctx, KILN_EXIT_FETCH, "'%s' is not in the cache and --offline forbids fetching it", url);
	kiln_sha256_hex(*ret, *ret_len, actual);
	if (strcmp(actual, hash) != 0) {
		free(*ret);
		*ret = NULL;
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cache entry '%s' for '%s' is corrupt: SHA256 %s", blob, url, actual);
	}
	return 0;
}

/*
 * The newest Date: kiln accepted for each InRelease URL (source and suite),
 * so that an older index, validly signed but replayed or rolled back, is
 * refused (TUF's rule for its timestamp and snapshot).
 */
static char *
date_path(const char *store, const char *url)
{
	char h[65];

	kiln_sha256_hex(url, strlen(url), h);
	return kiln_asprintf("%s/cache/dates/%s", store, h);
}

char *
kiln_index_date_format(time_t date, const char *url)
{
	char when[21];

	kiln_format_iso8601(date, when);
	return kiln_asprintf("%lld %s %s\n", (long long)date, when, url);
}

int
kiln_index_date_parse(const char *text, size_t len, time_t *ret)
{
	long long t = 0;
	char *end;

	if (!len || !memchr(text, '\n', len) || text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	t = strtoll(text, &end, 10);
	if (errno || end == text || *end != ' ' || t < 0 || t > (long long)INT64_MAX / 2)
		return -1;
	*ret = (time_t)t;
	return 0;
}

/* The newest Date: accepted for @url, or 0 when none is known. */
static time_t
newest_accepted(const char *store, const char *url)
{
	_cleanup_free_ char *path = date_path(store, url), *data = NULL;
	struct kiln_ctx sub;
	time_t t = 0;
	size_t len;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, path, 4096, &data, &len) < 0 || kiln_index_date_parse(data, len, &t) < 0)
		return 0;
	return t;
}

static int
remember_date(struct kiln_ctx *ctx, const char *url, time_t date)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/cache/dates", ctx->set->store), *path = date_path(ctx->set->store, url);
	_cleanup_free_ char *line = NULL;

	if (date <= newest_accepted(ctx->set->store, url))
		return 0;
	line = kiln_index_date_format(date, url);
	if (kiln_mkdir_p(ctx, dir, 0755) < 0)
		return -1;
	return kiln_write_atomic(ctx, path, line, strlen(line), 0644);
}

static int
check_release(struct kiln_ctx *ctx, const char *url, const char *suite, const struct kiln_release *rel,
	      time_t *ret_rollback_from)
{
	time_t newest = newest_accepted(ctx->set->store, url);
	char when[21], seen[21];

	if (!kiln_streq_ptr(rel->suite, suite) && !kiln_streq_ptr(rel->codename, suite))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY,
				  "'%s': signed index is for suite '%s' (codename '%s'), not '%s'", url,
				  rel->suite ? rel->suite : "", rel->codename ? rel->codename : "", suite);
	if (rel->has_valid_until && rel->valid_until < ctx->set->now && !ctx->set->allow_expired) {
		kiln_format_iso8601(rel->valid_until, when);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY,
				  "'%s': index expired at %s (Valid-Until); --allow-expired accepts it", url, when);
	}
	if (rel->date < newest) {
		kiln_format_iso8601(rel->date, when);
		kiln_format_iso8601(newest, seen);
		if (!ctx->set->allow_older_index)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY,
					  "'%s': signed index dated %s is older than the one already accepted (%s): a replayed or rolled-back repository; --allow-older-index accepts it",
					  url, when, seen);
		*ret_rollback_from = newest;
	}
	return 0;
}

int
kiln_cache_fetch(struct kiln_ctx *ctx, const char *url, const char *alt_url, uint64_t size,
		 const char *sha256, uint64_t max, char **ret_path, const struct kiln_fetch_watch *watch)
{
	_cleanup_free_ char *path = kiln_cache_blob_path(ctx->set->store, sha256);
	_cleanup_free_ char *data = NULL;
	char actual[65];
	struct stat st;
	size_t len = 0;
	int notfound = 0;

	if (!kiln_is_sha256_hex(sha256))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': no valid SHA256 in the signed index", url);
	if (stat(path, &st) == 0 && (uint64_t)st.st_size == size) {
		/* the cache is checked on every use: a file swapped or damaged in the store is fetched again */
		if (kiln_file_sha256(path, actual) == 0 && strcmp(actual, sha256) == 0) {
			*ret_path = TAKE_PTR(path);
			return 0;
		}
		unlink(path);
	}
	if (size > max)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': too large (%llu bytes)", url, (unsigned long long)size);
	if (alt_url && !ctx->set->offline) {
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		if (kiln_fetch(&sub, alt_url, size, &data, &len, &notfound, watch) < 0 && !notfound)
			return kiln_error(ctx, sub.code, "%s", sub.msg);
	}
	if (!data && kiln_fetch(ctx, url, size, &data, &len, NULL, watch) < 0)
		return -1;
	kiln_sha256_hex(data, len, actual);
	if (len != size || strcmp(actual, sha256) != 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY,
				  "'%s': does not match the signed index: expected SHA256 %s size %llu, got %s size %zu",
				  url, sha256, (unsigned long long)size, actual, len);
	if (cache_put(ctx, sha256, data, len) < 0)
		return -1;
	*ret_path = TAKE_PTR(path);
	return 0;
}

/* Makes sure one Packages file is in the cache, fetching and checking it if not. */
static int
ensure_packages(struct kiln_ctx *ctx, const char *base, int by_hash, struct kiln_packages_index *pi)
{
	_cleanup_free_ char *url = kiln_asprintf("%s/%s", base, pi->path);
	_cleanup_free_ char *hurl = NULL;

	if (by_hash) {
		const char *slash = strrchr(pi->path, '/');

		hurl = kiln_asprintf("%s/%.*sby-hash/SHA256/%s", base, slash ? (int)(slash - pi->path + 1) : 0,
				     pi->path, pi->sha256);
	}
	return kiln_cache_fetch(ctx, url, hurl, pi->size, pi->sha256, KILN_PACKAGES_MAX, &pi->cache_path, NULL);
}

/* Picks each component's Packages index from the signed list and brings it into the cache. */
static int
index_fill(struct kiln_ctx *ctx, const struct kiln_repo_spec *spec, const char *arch, const char *base,
	   const char *url, const char *raw, size_t raw_len, const struct kiln_release *rel,
	   struct kiln_repo_index *ri)
{
	static const char *const exts[] = { ".xz", ".gz", "" };

	for (size_t i = 0; i < spec->components.n; i++) {
		const struct kiln_release_file *rf = NULL;
		struct kiln_packages_index *pi;
		_cleanup_free_ char *path = NULL;

		for (size_t e = 0; e < ARRAY_SIZE(exts) && !rf; e++) {
			free(path);
			path = kiln_asprintf("%s/binary-%s/Packages%s", spec->components.v[i], arch, exts[e]);
			rf = kiln_release_find(rel, path);
		}
		if (!rf)
			return kiln_error(ctx, KILN_EXIT_USAGE,
					  "'%s': no Packages index for component '%s' and architecture '%s'",
					  url, spec->components.v[i], arch);
		ri->packages = kiln_realloc(ri->packages, (ri->n_packages + 1) * sizeof(*ri->packages));
		pi = &ri->packages[ri->n_packages++];
		memset(pi, 0, sizeof(*pi));
		pi->component = kiln_strdup(spec->components.v[i]);
		pi->path = TAKE_PTR(path);
		memcpy(pi->sha256, rf->sha256, 65);
		pi->size = rf->size;
	}
	/* Fetch what the signed index lists; keep the index itself only once all of it checked out. */
	for (size_t i = 0; i < ri->n_packages; i++)
		if (ensure_packages(ctx, base, rel->acquire_by_hash, &ri->packages[i]) < 0)
			return -1;
	if (!ctx->set->offline) {
		_cleanup_free_ char *refdir = kiln_asprintf("%s/cache/refs", ctx->set->store);
		_cleanup_free_ char *ref = ref_path(ctx->set->store, url);
		char line[66];

		snprintf(line, sizeof(line), "%s\n", ri->inrelease_sha256);
		if (cache_put(ctx, ri->inrelease_sha256, raw, raw_len) < 0 || kiln_mkdir_p(ctx, refdir, 0755) < 0 ||
		    kiln_write_atomic(ctx, ref, line, strlen(line), 0644) < 0)
			return -1;
	}
	return 0;
}

int
kiln_repo_index_load(struct kiln_ctx *ctx, const struct kiln_repo_spec *spec, const char *arch,
		     struct kiln_repo_index *ret)
{
	_cleanup_free_ char *base = kiln_asprintf("%s/dists/%s", spec->uri, spec->suite);
	_cleanup_free_ char *url = kiln_asprintf("%s/InRelease", base);
	_cleanup_free_ char *raw = NULL, *text = NULL;
	struct kiln_repo_index ri = { 0 };
	struct kiln_release rel = { 0 };
	size_t raw_len, text_len;
	int rc;

	if (get_inrelease(ctx, url, &raw, &raw_len) < 0)
		return -1;
	if (kiln_pgp_verify_clearsigned(ctx, url, &spec->keyrings, spec->inline_key, raw, raw_len,
					&text, &text_len, ri.fingerprint) < 0)
		return -1;
	if (kiln_release_parse(ctx, url, text, text_len, &rel) < 0)
		return -1;
	kiln_sha256_hex(raw, raw_len, ri.inrelease_sha256);
	ri.uri = kiln_strdup(spec->uri);
	ri.suite = kiln_strdup(spec->suite);
	ri.origin = rel.origin ? kiln_strdup(rel.origin) : NULL;
	ri.label = rel.label ? kiln_strdup(rel.label) : NULL;
	ri.codename = rel.codename ? kiln_strdup(rel.codename) : NULL;
	ri.date = rel.date;
	rc = check_release(ctx, url, spec->suite, &rel, &ri.rollback_from);
	if (rc == 0)
		rc = index_fill(ctx, spec, arch, base, url, raw, raw_len, &rel, &ri);
	if (rc == 0)
		rc = remember_date(ctx, url, rel.date);
	kiln_release_release(&rel);
	if (rc < 0) {
		kiln_repo_index_release(&ri);
		return -1;
	}
	*ret = ri;
	return 0;
}
