/* solve.c - every libsolv call of kiln: pool, .solv cache, solving and apt-like choices. */
#define _GNU_SOURCE
#include "solve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/repodata.h>
#include <solv/selection.h>
#include <solv/solv_xfopen.h>
#include <solv/solver.h>
#include <solv/solverdebug.h>
#include <solv/solvversion.h>
#include <solv/transaction.h>

#ifndef MAX_ROUNDS
#define MAX_ROUNDS 16
#endif
/* Bump when what kiln stores in its .solv files changes (k1: download sizes; k2: only the fields kiln uses). */
#define SOLV_CACHE_FORMAT "k2"

struct repo_origin {
	char *uri, *suite;
};

struct kiln_solver {
	Pool *pool;
	struct repo_origin *origins;	/* indexed by the number in repo->appdata */
	size_t n_origins;
	int ready;		/* whatprovides built */
};

struct kiln_solver *
kiln_solver_new(const char *arch)
{
	struct kiln_solver *s = kiln_calloc(1, sizeof(*s));

	s->pool = pool_create();
	pool_setdisttype(s->pool, DISTTYPE_DEB);
	pool_setarch(s->pool, arch);
	return s;
}

void
kiln_solver_free(struct kiln_solver *s)
{
	if (!s)
		return;
	pool_free(s->pool);
	for (size_t i = 0; i < s->n_origins; i++) {
		free(s->origins[i].uri);
		free(s->origins[i].suite);
	}
	free(s->origins);
	free(s);
}

static Repo *
repo_new(struct kiln_solver *s, const char *uri, const char *suite, const char *name)
{
	Repo *repo = repo_create(s->pool, name);

	s->origins = kiln_realloc(s->origins, (s->n_origins + 1) * sizeof(*s->origins));
	s->origins[s->n_origins].uri = kiln_strdup(uri);
	s->origins[s->n_origins].suite = kiln_strdup(suite);
	repo->appdata = (void *)(intptr_t)s->n_origins++;
	s->ready = 0;
	return repo;
}

#define SOLV_CACHE_MAX ((size_t)512 << 20)

/*
 * Loads the parsed index from the .solv cache; 0 on success, -1 if absent,
 * unusable or not what kiln wrote (its SHA-256 is kept beside it: the
 * package hashes the build trusts come from here, so the cache is checked
 * on every use, and a changed one is parsed again from the verified index).
 */
static int
solv_load(Repo *repo, const char *path)
{
	_cleanup_free_ char *side = kiln_asprintf("%s.sha256", path), *want = NULL, *data = NULL;
	struct kiln_ctx sub;
	char got[65];
	size_t len, wlen;
	FILE *f;
	int rc;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, side, 128, &want, &wlen) < 0 || kiln_read_file(&sub, path, SOLV_CACHE_MAX, &data, &len) < 0)
		return -1;
	want[strcspn(want, "\n")] = '\0';
	kiln_sha256_hex(data, len, got);
	if (strcmp(got, want) != 0 || !(f = fmemopen(data, len ? len : 1, "r")))
		return -1;
	rc = repo_add_solv(repo, f, 0);
	fclose(f);
	if (rc != 0) {
		repo_empty(repo, 1);
		return -1;
	}
	return 0;
}

/* Writes the parsed index to the .solv cache atomically; failure only costs speed. */
static void
solv_save(struct kiln_ctx *ctx, Repo *repo, const char *dir, const char *path)
{
	struct kiln_ctx sub;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	kiln_ctx_init(&sub);
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (repo_write(repo, f) == 0 && fflush(f) == 0 && kiln_mkdir_p(&sub, dir, 0755) == 0) {
		_cleanup_free_ char *side = kiln_asprintf("%s.sha256", path);
		char line[66];

		kiln_sha256_hex(buf, len, line);
		strcat(line, "\n");
		if (kiln_write_atomic(&sub, path, buf, len, 0644) == 0)
			kiln_write_atomic(&sub, side, line, strlen(line), 0644);
	}
	fclose(f);
	free(buf);
	(void)ctx;
}

/* The value of field @name in the paragraph [p, end), or NULL; *@ret_len is its length. */
static const char *
para_field(const char *p, const char *end, const char *name, size_t *ret_len)
{
	size_t n = strlen(name);

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);

		if (!nl)
			nl = end;
		if ((size_t)(nl - p) > n + 1 && strncmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (v < nl && (*v == ' ' || *v == '\t'))
				v++;
			*ret_len = nl - v;
			return v;
		}
		p = nl + 1;
	}
	return NULL;
}

/*
 * repo_add_debpackages() keeps no download size, so take Size: from the
 * same paragraphs, which it turned into solvables in order; each match is
 * checked by name and version. The .solv cache keeps the result.
 */
static void
add_sizes(Repo *repo, const char *text, size_t len)
{
	Pool *pool = repo->pool;
	Repodata *data = repo_add_repodata(repo, REPO_REUSE_REPODATA);
	const char *p = text, *end = text + len;
	Id sid = repo->start;

	while (p < end && sid < repo->end) {
		const char *e = memmem(p, end - p, "\n\n", 2);
		const char *pe = e ? e + 1 : end, *name, *ver, *size;
		size_t nl, vl, sl;

		name = para_field(p, pe, "Package", &nl);
		ver = para_field(p, pe, "Version", &vl);
		size = para_field(p, pe, "Size", &sl);
		if (name) {
			while (sid < repo->end && pool->solvables[sid].repo != repo)
				sid++;
			if (sid < repo->end) {
				Solvable *sv = pool->solvables + sid;
				const char *sn = pool_id2str(pool, sv->name), *se = pool_id2str(pool, sv->evr);

				if (size && ver && strlen(sn) == nl && strncmp(sn, name, nl) == 0 &&
				    strlen(se) == vl && strncmp(se, ver, vl) == 0)
					repodata_set_num(data, sid, SOLVABLE_DOWNLOADSIZE, strtoull(size, NULL, 10));
				sid++;
			}
		}
		p = e ? e + 2 : end;
	}
}

/*
 * Keeps only the fields kiln uses, in place. libsolv 0.7.23 overflows a
 * buffer on a SHA384/SHA512 field that comes before SHA256 (found by
 * fuzz/fuzz-packages); passing it nothing but what resolution needs keeps
 * such surprises out.
 */
static size_t
keep_known_fields(char *text, size_t len)
{
	static const char *const keep[] = {
		"Package:", "Version:", "Architecture:", "Depends:", "Pre-Depends:", "Provides:",
		"Conflicts:", "Breaks:", "Replaces:", "Essential:", "Multi-Arch:", "Filename:",
		"SHA256:", "Size:", "Source:", "Installed-Size:",
	};
	char *r = text, *w = text, *end = text + len;
	int keeping = 0;

	while (r < end) {
		char *nl = memchr(r, '\n', end - r);
		size_t n = (nl ? nl + 1 : end) - r;
		int cont = *r == ' ' || *r == '\t';

		if (!cont) {
			keeping = n == 1;	/* blank lines separate paragraphs */
			for (size_t i = 0; i < ARRAY_SIZE(keep) && !keeping; i++)
				if (n >= strlen(keep[i]) && strncasecmp(r, keep[i], strlen(keep[i])) == 0)
					keeping = 1;
		}
		if (keeping) {
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	*w = '\0';
	return w - text;
}

/* Reads one (decompressed) Packages stream into @repo. */
static int
load_packages(struct kiln_ctx *ctx, struct kiln_solver *s, Repo *repo, FILE *in, const char *what)
{
	struct kiln_buf b = { 0 };
	char chunk[1 << 16];
	size_t n;
	FILE *f;
	int rc;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		if (b.len + n > KILN_PACKAGES_MAX * 4) {
			kiln_buf_release(&b);
			return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': index too large once decompressed", what);
		}
		kiln_buf_add(&b, chunk, n);
	}
	if (ferror(in)) {
		kiln_buf_release(&b);
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': cannot decompress", what);
	}
	if (!b.data)
		kiln_buf_add(&b, "", 0);
	if (memchr(b.data, '\0', b.len)) {
		kiln_buf_release(&b);
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': NUL byte in a Packages index", what);
	}
	b.len = keep_known_fields(b.data, b.len);
	f = fmemopen(b.data, b.len ? b.len : 1, "r");
	if (!f) {
		kiln_buf_release(&b);
		return kiln_error(ctx, KILN_EXIT_FAILED, "fmemopen: %s", strerror(errno));
	}
	rc = repo_add_debpackages(repo, f, REPO_NO_INTERNALIZE | REPO_REUSE_REPODATA);
	fclose(f);
	if (rc == 0) {
		add_sizes(repo, b.data, b.len);
		repo_internalize(repo);
	}
	kiln_buf_release(&b);
	if (rc != 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': %s", what, pool_errstr(s->pool));
	return 0;
}

int
kiln_solver_add_index(struct kiln_ctx *ctx, struct kiln_solver *s, const struct kiln_repo_index *ri)
{
	for (size_t i = 0; i < ri->n_packages; i++) {
		const struct kiln_packages_index *pi = &ri->packages[i];
		_cleanup_free_ char *name = kiln_asprintf("%s/dists/%s/%s", ri->uri, ri->suite, pi->path);
		_cleanup_free_ char *dir = kiln_asprintf("%s/cache/solv", ctx->set->store);
		_cleanup_free_ char *solv = kiln_asprintf("%s/%s-%s-%s.solv", dir, pi->sha256,
								 LIBSOLV_VERSION_STRING, SOLV_CACHE_FORMAT);
		Repo *repo = repo_new(s, ri->uri, ri->suite, name);
		const char *ext = strrchr(pi->path, '.');
		int fd, rc;
		FILE *f;

		if (solv_load(repo, solv) == 0)
			continue;
		fd = open(pi->cache_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot open '%s': %s", pi->cache_path, strerror(errno));
		/* solv_xfopen_fd picks the decompressor from the name's suffix */
		f = solv_xfopen_fd(ext && !strchr(ext, '/') ? ext : "Packages", fd, "r");
		if (!f) {
			close(fd);
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read '%s'", pi->cache_path);
		}
		rc = load_packages(ctx, s, repo, f, name);
		fclose(f);
		if (rc < 0)
			return -1;
		solv_save(ctx, repo, dir, solv);
	}
	return 0;
}

int
kiln_solver_add_packages_text(struct kiln_ctx *ctx, struct kiln_solver *s, const char *uri,
			      const char *suite, const char *text, size_t len)
{
	Repo *repo = repo_new(s, uri, suite, suite);
	FILE *f = fmemopen((void *)text, len ? len : 1, "r");
	int rc;

	if (!f)
		return kiln_error(ctx, KILN_EXIT_FAILED, "fmemopen: %s", strerror(errno));
	rc = load_packages(ctx, s, repo, f, suite);
	fclose(f);
	return rc;
}

static void
ensure_ready(struct kiln_solver *s)
{
	if (s->ready)
		return;
	pool_addfileprovides(s->pool);
	pool_createwhatprovides(s->pool);
	s->ready = 1;
}

/* The best (highest version) package really named @name, or 0. */
static Id
best_named(Pool *pool, Id name)
{
	Id p, pp, best = 0;

	FOR_PROVIDES(p, pp, name) {
		Solvable *cand = pool->solvables + p;

		if (cand->name != name || !pool_installable(pool, cand))
			continue;
		if (!best || pool_evrcmp(pool, cand->evr, pool->solvables[best].evr, EVRCMP_COMPARE) > 0)
			best = p;
	}
	return best;
}

/* Appends the alternatives of an or-dependency (A | B | C) in order. */
static void
flatten_or(Pool *pool, Id dep, Queue *alts)
{
	if (ISRELDEP(dep)) {
		Reldep *rd = GETRELDEP(pool, dep);

		if (rd->flags == REL_OR) {
			flatten_or(pool, rd->name, alts);
			flatten_or(pool, rd->evr, alts);
			return;
		}
	}
	queue_push(alts, dep);
}

static Id
dep_name(Pool *pool, Id dep)
{
	while (ISRELDEP(dep))
		dep = GETRELDEP(pool, dep)->name;
	return dep;
}

/*
 * apt's choice for one dependency group: the first alternative whose
 * candidate (the best version of a real package of that name) satisfies it;
 * an alternative only virtual packages provide is taken by apt only if one
 * of its providers is already chosen, which libsolv decides as well. Returns
 * the solvable, or 0 when apt's choice is not a real package or when a
 * package the recipe asked for already satisfies the group.
 */
static Id
apt_choice(Pool *pool, Id dep, const Map *chosen, const Map *requested)
{
	Queue alts;
	Id pick = 0;

	queue_init(&alts);
	flatten_or(pool, dep, &alts);
	/* apt marks the packages asked for first: a group they satisfy needs no choice */
	for (int i = 0; i < alts.count; i++) {
		Id p, pp;

		FOR_PROVIDES(p, pp, alts.elements[i])
			if (MAPTST(requested, p)) {
				queue_free(&alts);
				return 0;
			}
	}
	for (int i = 0; i < alts.count && !pick; i++) {
		Id a = alts.elements[i], cand = best_named(pool, dep_name(pool, a));
		Id p, pp;
		int provided = 0;

		if (cand && pool_match_nevr(pool, pool->solvables + cand, a)) {
			pick = cand;
			break;
		}
		FOR_PROVIDES(p, pp, a) {
			provided = 1;
			if (MAPTST(chosen, p))
				break;
		}
		if (provided)
			break;	/* a virtual alternative: apt takes it; leave the provider to libsolv */
	}
	queue_free(&alts);
	return pick;
}

static int
solve_once(struct kiln_solver *s, const Queue *job, Solver **ret_solv, Queue *result)
{
	Solver *solv = solver_create(s->pool);
	Transaction *trans;
	int nprob;

	solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
	solver_set_flag(solv, SOLVER_FLAG_ADD_ALREADY_RECOMMENDED, 0);
	nprob = solver_solve(solv, (Queue *)job);
	if (nprob) {
		*ret_solv = solv;
		return nprob;
	}
	trans = solver_create_transaction(solv);
	queue_empty(result);
	transaction_installedresult(trans, result);
	transaction_free(trans);
	*ret_solv = solv;
	return 0;
}

/* Adds a favor job for every dependency whose apt choice libsolv did not take. */
static int
steer(Pool *pool, const Queue *result, Queue *job, Map *favored, Map *pushed)
{
	Map chosen, requested;
	Queue deps;
	int added = 0;

	map_init(&chosen, pool->nsolvables);
	map_init(&requested, pool->nsolvables);
	for (int i = 0; i < result->count; i++) {
		Id p = result->elements[i];

		MAPSET(&chosen, p);
		for (int j = 0; j < job->count; j += 2)
			if ((job->elements[j] & SOLVER_JOBMASK) == SOLVER_INSTALL &&
			    (job->elements[j] & SOLVER_SELECTMASK) == SOLVER_SOLVABLE_NAME &&
			    job->elements[j + 1] == pool->solvables[p].name)
				MAPSET(&requested, p);
	}
	queue_init(&deps);
	for (int i = 0; i < result->count; i++) {
		Solvable *sv = pool->solvables + result->elements[i];

		queue_empty(&deps);
		solvable_lookup_deparray(sv, SOLVABLE_REQUIRES, &deps, -1);
		for (int j = 0; j < deps.count; j++) {
			Id d = deps.elements[j], pick;

			if (d == SOLVABLE_PREREQMARKER)
				continue;
			pick = apt_choice(pool, d, &chosen, &requested);
			if (!pick || MAPTST(&chosen, pick) || MAPTST(pushed, pick))
				continue;
			if (!MAPTST(favored, pick)) {
				MAPSET(favored, pick);
				queue_push2(job, SOLVER_FAVOR | SOLVER_SOLVABLE, pick);
			} else {
				/*
				 * Favoring was not enough: the dependency is already met by
				 * a provider libsolv needed anyway (lsb-base through
				 * sysvinit-utils). apt installs the real package; ask for
				 * it, weakly, so it never makes the request unsolvable.
				 */
				MAPSET(pushed, pick);
				queue_push2(job, SOLVER_INSTALL | SOLVER_SOLVABLE | SOLVER_WEAK, pick);
			}
			added++;
		}
	}
	queue_free(&deps);
	map_free(&chosen);
	map_free(&requested);
	return added;
}

static void
pkg_fill(struct kiln_solver *s, Id p, struct kiln_pkg *pkg)
{
	Pool *pool = s->pool;
	Solvable *sv = pool->solvables + p;
	const struct repo_origin *o = &s->origins[(intptr_t)sv->repo->appdata];
	const char *loc, *sum;
	unsigned medianr;
	Id type = 0;

	memset(pkg, 0, sizeof(*pkg));
	pkg->name = kiln_strdup(pool_id2str(pool, sv->name));
	pkg->version = kiln_strdup(pool_id2str(pool, sv->evr));
	pkg->arch = kiln_strdup(pool_id2str(pool, sv->arch));
	pkg->suite = kiln_strdup(o->suite);
	pkg->uri = kiln_strdup(o->uri);
	loc = solvable_lookup_location(sv, &medianr);
	pkg->filename = kiln_strdup(loc ? loc : "");
	pkg->size = solvable_lookup_num(sv, SOLVABLE_DOWNLOADSIZE, 0);
	loc = solvable_lookup_str(sv, SOLVABLE_SOURCENAME);
	pkg->source = kiln_strdup(loc ? loc : pkg->name);
	sum = solvable_lookup_checksum(sv, SOLVABLE_CHECKSUM, &type);
	if (sum && type == REPOKEY_TYPE_SHA256)
		snprintf(pkg->sha256, sizeof(pkg->sha256), "%s", sum);
}

static int
pkg_cmp(const void *a, const void *b)
{
	const struct kiln_pkg *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Records libsolv's problem text as one error line. */
static int
problems_error(struct kiln_ctx *ctx, Solver *solv, int nprob)
{
	struct kiln_buf b = { 0 };
	int rc;

	for (int i = 1; i <= nprob; i++)
		kiln_buf_addf(&b, "%s%s", i > 1 ? "; " : "", solver_problem2str(solv, i));
	rc = kiln_error(ctx, KILN_EXIT_USAGE, "cannot resolve: %s", b.data);
	kiln_buf_release(&b);
	return rc;
}

/* Checks that @name is a real package; names the providers of a virtual one. */
static int
check_installable(struct kiln_ctx *ctx, Pool *pool, const char *name, Id *ret_id)
{
	Id id = pool_str2id(pool, name, 0), p, pp;
	struct kiln_buf b = { 0 };
	int rc;

	if (id && best_named(pool, id)) {
		*ret_id = id;
		return 0;
	}
	if (id)
		FOR_PROVIDES(p, pp, id) {
			const char *pn = pool_id2str(pool, pool->solvables[p].name);

			if (!b.data || !strstr(b.data, pn))
				kiln_buf_addf(&b, "%s%s", b.len ? ", " : "", pn);
		}
	if (b.len)
		rc = kiln_error(ctx, KILN_EXIT_USAGE,
				"package '%s' is virtual: name one of its providers in Install= (%s)", name, b.data);
	else
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "package '%s' is not in any of the recipe's sources", name);
	kiln_buf_release(&b);
	return rc;
}

int
kiln_solver_resolve(struct kiln_ctx *ctx, struct kiln_solver *s, const struct kiln_strv *install,
		    struct kiln_pkgset *ret)
{
	Pool *pool = s->pool;
	Queue job, result;
	Map favored, pushed;
	struct kiln_pkgset ps = { 0 };
	int rc = -1;

	ensure_ready(s);
	queue_init(&job);
	queue_init(&result);
	map_init(&favored, pool->nsolvables);
	map_init(&pushed, pool->nsolvables);
	for (size_t i = 0; i < install->n; i++) {
		Id id;

		if (check_installable(ctx, pool, install->v[i], &id) < 0)
			goto out;
		queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_NAME, id);
	}
	for (;;) {
		Solver *solv = NULL;
		int nprob = solve_once(s, &job, &solv, &result);

		ps.rounds++;
		if (nprob) {
			problems_error(ctx, solv, nprob);
			solver_free(solv);
			goto out;
		}
		solver_free(solv);
		if (ps.rounds >= MAX_ROUNDS || steer(pool, &result, &job, &favored, &pushed) == 0)
			break;
	}
	ps.pkgs = kiln_calloc(result.count, sizeof(*ps.pkgs));
	for (int i = 0; i < result.count; i++) {
		struct kiln_pkg *pkg = &ps.pkgs[ps.n++];

		pkg_fill(s, result.elements[i], pkg);
		if (!pkg->sha256[0] || !pkg->filename[0]) {
			kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s' %s from '%s' has no %s in its signed index",
				   pkg->name, pkg->version, pkg->suite, pkg->sha256[0] ? "Filename" : "SHA256");
			kiln_pkgset_release(&ps);
			goto out;
		}
	}
	qsort(ps.pkgs, ps.n, sizeof(*ps.pkgs), pkg_cmp);
	*ret = ps;
	rc = 0;
out:
	map_free(&favored);
	map_free(&pushed);
	queue_free(&job);
	queue_free(&result);
	return rc;
}

int
kiln_solver_kernel(struct kiln_ctx *ctx, struct kiln_solver *s, const char *name,
		   struct kiln_pkg *ret, char **ret_release)
{
	Pool *pool = s->pool;
	Id id, p;
	Queue deps;

	ensure_ready(s);
	if (check_installable(ctx, pool, name, &id) < 0)
		return -1;
	p = best_named(pool, id);
	queue_init(&deps);
	/* linux-image-cloud-amd64 → linux-image-6.1.0-N-cloud-amd64: a bounded walk */
	for (int hop = 0; hop < 4; hop++) {
		const char *n = pool_id2str(pool, pool->solvables[p].name);
		Id next = 0;

		if (kiln_startswith(n, "linux-image-") && n[12] >= '0' && n[12] <= '9')
			break;
		queue_empty(&deps);
		solvable_lookup_deparray(pool->solvables + p, SOLVABLE_REQUIRES, &deps, -1);
		for (int i = 0; i < deps.count && !next; i++) {
			Id d = deps.elements[i], c;
			const char *dn;

			if (d == SOLVABLE_PREREQMARKER)
				continue;
			dn = pool_id2str(pool, dep_name(pool, d));
			if (!kiln_startswith(dn, "linux-image-"))
				continue;
			c = best_named(pool, dep_name(pool, d));
			if (c && pool_match_nevr(pool, pool->solvables + c, d))
				next = c;
		}
		if (!next) {
			queue_free(&deps);
			return kiln_error(ctx, KILN_EXIT_USAGE,
					  "kernel package '%s' does not lead to a linux-image-<version> package", name);
		}
		p = next;
	}
	queue_free(&deps);
	pkg_fill(s, p, ret);
	if (!kiln_startswith(ret->name, "linux-image-") || ret->name[12] < '0' || ret->name[12] > '9') {
		kiln_pkg_release(ret);
		return kiln_error(ctx, KILN_EXIT_USAGE, "kernel package '%s' does not lead to a linux-image-<version> package", name);
	}
	*ret_release = kiln_strdup(ret->name + strlen("linux-image-"));
	return 0;
}

int
kiln_solver_package(struct kiln_ctx *ctx, struct kiln_solver *s, const char *name, struct kiln_pkg *ret)
{
	Id id;

	ensure_ready(s);
	if (check_installable(ctx, s->pool, name, &id) < 0)
		return -1;
	pkg_fill(s, best_named(s->pool, id), ret);
	return 0;
}

void
kiln_solver_mark_security(struct kiln_solver *s, struct kiln_pkgset *ps, const struct kiln_strv *security_suites,
			  const struct kiln_strv *update_suites)
{
	Pool *pool = s->pool;

	ensure_ready(s);
	for (size_t i = 0; i < ps->n; i++) {
		struct kiln_pkg *pkg = &ps->pkgs[i];
		Id name = pool_str2id(pool, pkg->name, 0), p, pp, best = 0;

		pkg->security = kiln_strv_contains(security_suites, pkg->suite);
		if (!name)
			continue;
		FOR_PROVIDES(p, pp, name) {
			Solvable *sv = pool->solvables + p;
			const struct repo_origin *o = &s->origins[(intptr_t)sv->repo->appdata];

			if (sv->name != name || kiln_strv_contains(security_suites, o->suite) ||
			    kiln_strv_contains(update_suites, o->suite))
				continue;
			if (!best || pool_evrcmp(pool, sv->evr, pool->solvables[best].evr, EVRCMP_COMPARE) > 0)
				best = p;
		}
		if (!best && pkg->security) {
			/* a binary new in the update: its source's point-release version */
			Id src = pool_str2id(pool, pkg->source, 0);
			Solvable *sv;

			FOR_POOL_SOLVABLES(p) {
				const char *sn;

				sv = pool->solvables + p;
				if (!src || !sv->repo || kiln_strv_contains(security_suites, s->origins[(intptr_t)sv->repo->appdata].suite) ||
				    kiln_strv_contains(update_suites, s->origins[(intptr_t)sv->repo->appdata].suite))
					continue;
				sn = solvable_lookup_str(sv, SOLVABLE_SOURCENAME);
				if (!(sn ? strcmp(sn, pkg->source) == 0 : sv->name == src))
					continue;
				if (!best || pool_evrcmp(pool, sv->evr, pool->solvables[best].evr, EVRCMP_COMPARE) > 0)
					best = p;
			}
		}
		if (best)
			pkg->baseline = kiln_strdup(pool_id2str(pool, pool->solvables[best].evr));
	}
}

int
kiln_deb_version_cmp(const char *a, const char *b)
{
	static Pool *pool;

	if (!pool) {
		pool = pool_create();
		pool_setdisttype(pool, DISTTYPE_DEB);
	}
	return pool_evrcmp_str(pool, a, b, EVRCMP_COMPARE);
}

void
kiln_pkg_release(struct kiln_pkg *p)
{
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->suite);
	free(p->uri);
	free(p->filename);
	free(p->source);
	free(p->baseline);
	memset(p, 0, sizeof(*p));
}

void
kiln_pkgset_release(struct kiln_pkgset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		kiln_pkg_release(&ps->pkgs[i]);
	free(ps->pkgs);
	memset(ps, 0, sizeof(*ps));
}
