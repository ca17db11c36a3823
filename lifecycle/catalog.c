/* catalog.c - every SQLite call of kiln: the lifecycle catalog, its migrations and its rules applied. */
#define _GNU_SOURCE
#include "catalog.h"
#include "render.h"
#include "manifest.h"

#include <sqlite3.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

struct kiln_catalog {
	sqlite3 *db;
	char *store;
};

/* Numbered migrations: migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE policies (family TEXT PRIMARY KEY, keep INTEGER NOT NULL, disable_after_days INTEGER NOT NULL,"
	"  expire_after_days INTEGER NOT NULL, notice_days INTEGER NOT NULL);"
	"CREATE TABLE trusted_keys (fingerprint TEXT PRIMARY KEY, pem TEXT NOT NULL);"
	"CREATE TABLE versions (family TEXT NOT NULL, version TEXT NOT NULL, y INTEGER NOT NULL, m INTEGER NOT NULL,"
	"  r INTEGER NOT NULL, released INTEGER NOT NULL, manifest_sha256 TEXT NOT NULL, signer TEXT NOT NULL,"
	"  security_updates INTEGER NOT NULL, disable_at INTEGER NOT NULL DEFAULT 0, extend_until INTEGER NOT NULL DEFAULT 0,"
	"  expire_at INTEGER NOT NULL DEFAULT 0, override_reason TEXT, state TEXT NOT NULL DEFAULT 'active',"
	"  PRIMARY KEY (family, version));"
	"CREATE TABLE deployments (tenant TEXT NOT NULL, name TEXT NOT NULL, family TEXT NOT NULL, version TEXT NOT NULL,"
	"  auto_update INTEGER NOT NULL, config TEXT NOT NULL DEFAULT '{}', created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant, name));"
	"CREATE INDEX deployments_by_version ON deployments (family, version);"
	"CREATE TABLE notices (tenant TEXT NOT NULL, name TEXT NOT NULL, family TEXT NOT NULL, version TEXT NOT NULL,"
	"  kind TEXT NOT NULL, PRIMARY KEY (tenant, name, family, version, kind));"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, tenant TEXT,"
	"  deployment TEXT, family TEXT, version TEXT, from_version TEXT, to_version TEXT, reason TEXT);"
	"CREATE INDEX events_by_tenant ON events (tenant, at);"
	"CREATE TABLE tokens (sha256 TEXT PRIMARY KEY, tenant TEXT NOT NULL, created INTEGER NOT NULL);",
	/* 2: the fixes each released version carries, for /v1/fixes (filled from the manifests already released) */
	"CREATE TABLE fixes (id TEXT NOT NULL, family TEXT NOT NULL, version TEXT NOT NULL, package TEXT NOT NULL,"
	"  package_version TEXT NOT NULL);"
	"CREATE INDEX fixes_by_id ON fixes (id);",
	/*
	 * 3: deployments that run. guest is the JSON of where and how (hosts,
	 * instances, memory, window ...), NULL for a deployment kiln only
	 * records (every deployment made before). An instance is one libvirt
	 * domain: the version it is defined for, the one an upgrade in flight
	 * is moving it to (what a killed tick leaves behind), the last upgrade
	 * that failed.
	 */
	"ALTER TABLE deployments ADD COLUMN guest TEXT;"
	"ALTER TABLE policies ADD COLUMN health_timeout_s INTEGER NOT NULL DEFAULT 180;"
	"CREATE TABLE instances (tenant TEXT NOT NULL, name TEXT NOT NULL, idx INTEGER NOT NULL, host TEXT NOT NULL,"
	"  domain TEXT NOT NULL, uuid TEXT, version TEXT NOT NULL, upgrading TEXT, failed_version TEXT,"
	"  failed_at INTEGER NOT NULL DEFAULT 0, stopped INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL,"
	"  address TEXT, PRIMARY KEY (tenant, name, idx));"
	"CREATE INDEX instances_by_host ON instances (host);",
	/* 4: whether the package that carries a fix has a file in the image (a file-level closure may drop it) */
	"ALTER TABLE fixes ADD COLUMN in_image INTEGER NOT NULL DEFAULT 1;",
};

static int
db_error(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *what)
{
	return kiln_error(ctx, KILN_EXIT_FAILED, "catalog: %s: %s", what, sqlite3_errmsg(c->db));
}

static int
exec(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		kiln_error(ctx, KILN_EXIT_FAILED, "catalog: %s", err ? err : "error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Prepares @sql and binds the arguments described by @types: s=string (NULL ok), i=int64. */
static sqlite3_stmt *
prep(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(ctx, c, "prepare");
		return NULL;
	}
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 's') {
			const char *s = va_arg(ap, const char *);

			if (s)
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
		} else {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		}
	}
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows. */
static int
run(struct kiln_ctx *ctx, struct kiln_catalog *c, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(ctx, c, "step");
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

static int add_fixes(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const char *version,
		     const struct kiln_fix *fixes, size_t n);

/*
 * Migration 2 indexes the fixes of the versions released before it, from
 * their manifests in the store, each checked against the hash recorded at
 * release; a version whose manifest is gone or changed gets no entries.
 */
static int
backfill_fixes(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *store)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT family, version, manifest_sha256 FROM versions", "");
	int rc = 0;

	if (!st)
		return -1;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		_cleanup_free_ char *dir = kiln_asprintf("%s/%s/%s", store, col_text(st, 0), col_text(st, 1));
		struct kiln_fix *fx = NULL;
		struct kiln_ctx sub;
		char sha[65];
		json_t *m;
		size_t n;

		kiln_ctx_init(&sub);
		m = kiln_manifest_load(&sub, dir, sha);
		if (!m)
			continue;
		if (strcmp(sha, col_text(st, 2)) == 0) {
			struct kiln_manifest mm;

			kiln_manifest_read(m, &mm);
			n = kiln_manifest_fixes(&mm, &fx);
			kiln_manifest_release(&mm);
			rc = add_fixes(ctx, c, col_text(st, 0), col_text(st, 1), fx, n);
			kiln_fixes_free(fx, n);
		}
		json_decref(m);
	}
	sqlite3_finalize(st);
	return rc;
}

json_t *
kiln_catalog_fixes(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *id)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT f.family, f.version, f.package, f.package_version, f.in_image FROM fixes f"
				" JOIN versions v ON v.family = f.family AND v.version = f.version WHERE f.id = ?1"
				" ORDER BY f.family, v.y, v.m, v.r, f.rowid", "s", id);
	json_t *families = json_array(), *fam = NULL, *versions = NULL;
	int rc;

	if (!st) {
		json_decref(families);
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fam || strcmp(json_string_value(json_object_get(fam, "family")), col_text(st, 0)) != 0) {
			versions = json_array();
			fam = json_pack("{s:s, s:s, s:o}", "family", col_text(st, 0), "first", col_text(st, 1), "versions", versions);
			json_array_append_new(families, fam);
		}
		json_array_append_new(versions, json_pack("{s:s, s:s, s:s, s:b}", "version", col_text(st, 1), "package",
							  col_text(st, 2), "package_version", col_text(st, 3), "in_image",
							  sqlite3_column_int(st, 4)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(families);
		db_error(ctx, c, "select");
		return NULL;
	}
	return json_pack("{s:s, s:o}", "id", id, "families", families);
}

int
kiln_catalog_open(struct kiln_ctx *ctx, const char *store, struct kiln_catalog **ret)
{
	_cleanup_free_ char *path = kiln_asprintf("%s/catalog.db", store);
	struct kiln_catalog *c = kiln_calloc(1, sizeof(*c));
	sqlite3_stmt *st;
	int version;

	c->store = kiln_strdup(store);
	if (kiln_mkdir_p(ctx, store, 0755) < 0) {
		free(c);
		return -1;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot open '%s': %s", path, sqlite3_errmsg(c->db));
		kiln_catalog_close(c);
		return -1;
	}
	sqlite3_busy_timeout(c->db, 10000);
	if (exec(ctx, c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;") < 0 ||
	    exec(ctx, c, "BEGIN IMMEDIATE") < 0) {
		kiln_catalog_close(c);
		return -1;
	}
	st = prep(ctx, c, "PRAGMA user_version", "");
	version = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0 || version > (int)ARRAY_SIZE(migrations)) {
		if (version > 0)
			kiln_error(ctx, KILN_EXIT_USAGE, "'%s' has schema %d, newer than this kiln knows (%d): upgrade kiln",
				   path, version, (int)ARRAY_SIZE(migrations));
		kiln_catalog_rollback(c);
		kiln_catalog_close(c);
		return -1;
	}
	for (int v = version; v < (int)ARRAY_SIZE(migrations); v++) {
		_cleanup_free_ char *set = kiln_asprintf("PRAGMA user_version = %d", v + 1);

		if (exec(ctx, c, migrations[v]) < 0 || exec(ctx, c, set) < 0) {
			kiln_catalog_rollback(c);
			kiln_catalog_close(c);
			return -1;
		}
	}
	/* the fixes index (schema 2) is filled once its table has every column of this schema */
	if (version <= 1 && backfill_fixes(ctx, c, store) < 0) {
		kiln_catalog_rollback(c);
		kiln_catalog_close(c);
		return -1;
	}
	if (exec(ctx, c, "COMMIT") < 0) {
		kiln_catalog_close(c);
		return -1;
	}
	*ret = c;
	return 0;
}

void
kiln_catalog_close(struct kiln_catalog *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	free(c->store);
	free(c);
}

int
kiln_catalog_begin(struct kiln_ctx *ctx, struct kiln_catalog *c)
{
	return exec(ctx, c, "BEGIN IMMEDIATE");
}

int
kiln_catalog_commit(struct kiln_ctx *ctx, struct kiln_catalog *c)
{
	return exec(ctx, c, "COMMIT");
}

void
kiln_catalog_rollback(struct kiln_catalog *c)
{
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

int
kiln_catalog_policy(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, struct kiln_policy *ret)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT keep, disable_after_days, expire_after_days, notice_days, health_timeout_s FROM policies"
				" WHERE family = ? OR family = '*' ORDER BY family = '*' LIMIT 1", "s", family);
	int rc;

	if (!st)
		return -1;
	kiln_policy_default(ret);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->keep = sqlite3_column_int(st, 0);
		ret->disable_after_days = sqlite3_column_int(st, 1);
		ret->expire_after_days = sqlite3_column_int(st, 2);
		ret->notice_days = sqlite3_column_int(st, 3);
		ret->health_timeout_s = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(ctx, c, "policy");
}

int
kiln_catalog_policy_set(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const struct kiln_policy *p)
{
	return run(ctx, c, prep(ctx, c, "INSERT OR REPLACE INTO policies (family, keep, disable_after_days, expire_after_days,"
				" notice_days, health_timeout_s) VALUES (?, ?, ?, ?, ?, ?)", "siiiii", family, (int64_t)p->keep,
				(int64_t)p->disable_after_days, (int64_t)p->expire_after_days, (int64_t)p->notice_days,
				(int64_t)p->health_timeout_s));
}

json_t *
kiln_catalog_policies(struct kiln_ctx *ctx, struct kiln_catalog *c)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT family, keep, disable_after_days, expire_after_days, notice_days,"
				" health_timeout_s FROM policies ORDER BY family", "");
	json_t *out = json_array();
	struct kiln_policy d;

	kiln_policy_default(&d);
	json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:b}", "family", "(built-in)", "keep", d.keep,
					     "disable_after_days", d.disable_after_days, "expire_after_days",
					     d.expire_after_days, "notice_days", d.notice_days, "health_timeout_s",
					     d.health_timeout_s, "default", 1));
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:b}", "family", col_text(st, 0),
						     "keep", sqlite3_column_int(st, 1), "disable_after_days",
						     sqlite3_column_int(st, 2), "expire_after_days", sqlite3_column_int(st, 3),
						     "notice_days", sqlite3_column_int(st, 4), "health_timeout_s",
						     sqlite3_column_int(st, 5), "default", 0));
	sqlite3_finalize(st);
	return out;
}

int
kiln_catalog_trust(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *pem, char ret_fpr[65])
{
	kiln_sha256_hex(pem, strlen(pem), ret_fpr);
	return run(ctx, c, prep(ctx, c, "INSERT OR IGNORE INTO trusted_keys VALUES (?, ?)", "ss", ret_fpr, pem));
}

int
kiln_catalog_trusted(struct kiln_ctx *ctx, struct kiln_catalog *c, struct kiln_strv *ret_pems)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT pem FROM trusted_keys ORDER BY fingerprint", "");

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		kiln_strv_push(ret_pems, col_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static int
add_event(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t at, const char *kind, const char *tenant,
	  const char *deployment, const char *family, const char *version, const char *from, const char *to,
	  const char *reason)
{
	return run(ctx, c, prep(ctx, c, "INSERT INTO events (at, kind, tenant, deployment, family, version, from_version,"
				" to_version, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "issssssss", (int64_t)at, kind,
				tenant, deployment, family, version, from, to, reason));
}

static int
add_fixes(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const char *version,
	  const struct kiln_fix *fixes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (run(ctx, c, prep(ctx, c, "INSERT INTO fixes (id, family, version, package, package_version, in_image)"
				     " VALUES (?, ?, ?, ?, ?, ?)", "sssssi", fixes[i].id, family, version, fixes[i].package,
				     fixes[i].package_version, (int64_t)fixes[i].in_image)) < 0)
			return -1;
	return 0;
}

int
kiln_catalog_release(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_release_info *r, int *ret_new)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT manifest_sha256 FROM versions WHERE family = ? AND version = ?", "ss",
				r->family, r->version);
	unsigned y = 0, m = 0, rr = 0;
	char day[21];
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int same = strcmp(col_text(st, 0), r->manifest_sha256) == 0;

		sqlite3_finalize(st);
		if (!same)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY,
					  "%s/%s is released with another manifest (sha256 differs): a released version never changes",
					  r->family, r->version);
		*ret_new = 0;
		return 0;
	}
	sqlite3_finalize(st);
	sscanf(r->version, "%u.%u.%u", &y, &m, &rr);
	if (run(ctx, c, prep(ctx, c, "INSERT INTO versions (family, version, y, m, r, released, manifest_sha256, signer,"
			     " security_updates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssiiiissi", r->family, r->version,
			     (int64_t)y, (int64_t)m, (int64_t)rr, (int64_t)r->released, r->manifest_sha256, r->signer,
			     (int64_t)r->security_updates)) < 0)
		return -1;
	kiln_format_iso8601(r->released, day);
	day[10] = '\0';
	*ret_new = 1;
	if (add_fixes(ctx, c, r->family, r->version, r->fixes, r->n_fixes) < 0)
		return -1;
	return add_event(ctx, c, r->released, "released", NULL, NULL, r->family, r->version, NULL, NULL, day);
}

/* The versions of one family, oldest first, with everything the lifecycle function needs. */
struct family_versions {
	struct kiln_lc_version *v;
	char **names;
	int *security, n;
	char **state;		/* as the last tick recorded it */
	struct kiln_policy policy;
};

static void
family_release(struct family_versions *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->state[i]);
	}
	free(f->names);
	free(f->state);
	free(f->v);
	free(f->security);
	memset(f, 0, sizeof(*f));
}

static int
family_load(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, struct family_versions *f)
{
	sqlite3_stmt *st = prep(ctx, c, "SELECT version, released, disable_at, extend_until, expire_at, security_updates,"
				" state FROM versions WHERE family = ? ORDER BY y, m, r", "s", family);

	memset(f, 0, sizeof(*f));
	if (!st || kiln_catalog_policy(ctx, c, family, &f->policy) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int i = f->n++;

		f->v = kiln_realloc(f->v, f->n * sizeof(*f->v));
		f->names = kiln_realloc(f->names, f->n * sizeof(*f->names));
		f->state = kiln_realloc(f->state, f->n * sizeof(*f->state));
		f->security = kiln_realloc(f->security, f->n * sizeof(*f->security));
		f->names[i] = kiln_strdup(col_text(st, 0));
		f->state[i] = kiln_strdup(col_text(st, 6));
		memset(&f->v[i], 0, sizeof(f->v[i]));
		f->v[i].released = sqlite3_column_int64(st, 1);
		f->v[i].disable_at = sqlite3_column_int64(st, 2);
		f->v[i].extend_until = sqlite3_column_int64(st, 3);
		f->v[i].expire_at = sqlite3_column_int64(st, 4);
		f->security[i] = sqlite3_column_int(st, 5);
	}
	sqlite3_finalize(st);
	for (int i = 0; i < f->n; i++)
		f->v[i].version = f->names[i];
	return 0;
}


/* Families in the catalog, sorted. */
static void
families(struct kiln_catalog *c, struct kiln_strv *out)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db, "SELECT DISTINCT family FROM versions ORDER BY family", -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW)
		kiln_strv_push(out, col_text(st, 0));
	sqlite3_finalize(st);
}

void
kiln_version_infos_free(struct kiln_version_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].family);
		free(v[i].version);
	}
}

/* What the last kiln assess of @v found: STORE/assessments/FAMILY/VERSION.json, when there is one. */
static void
assessed(const char *store, struct kiln_version_info *v)
{
	_cleanup_free_ char *path = kiln_asprintf("%s/assessments/%s/%s.json", store, v->family, v->version);
	json_t *j = json_load_file(path, 0, NULL);
	time_t at;

	if (j && json_is_integer(json_object_get(j, "security")) && json_is_integer(json_object_get(j, "other")) &&
	    kiln_parse_iso8601(json_string_value(json_object_get(j, "assessed")) ?: "", &at) == 0) {
		v->assessed = 1;
		v->assessed_at = at;
		v->pending_security = (int)json_integer_value(json_object_get(j, "security"));
		v->pending_other = (int)json_integer_value(json_object_get(j, "other"));
	}
	json_decref(j);
}

int
kiln_catalog_versions(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, int all, time_t now,
		      struct kiln_version_info **ret, size_t *ret_n)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv fams = { 0 };
	struct kiln_version_info *out = NULL;
	size_t n = 0;

	if (family)
		kiln_strv_push(&fams, family);
	else
		families(c, &fams);
	for (size_t k = 0; k < fams.n; k++) {
		struct family_versions f;

		if (family_load(ctx, c, fams.v[k], &f) < 0) {
			kiln_version_infos_free(out, n);
			free(out);
			return -1;
		}
		out = kiln_realloc(out, (n + (size_t)f.n + 1) * sizeof(*out));
		for (int i = f.n - 1; i >= 0; i--) {	/* newest first */
			struct kiln_version_info *v = &out[n];

			memset(v, 0, sizeof(*v));
			kiln_lifecycle_dates(&f.policy, f.v, f.n, i, &v->dates);
			v->state = kiln_lifecycle_state(&v->dates, now);
			if (!all && v->state != KILN_ACTIVE)
				continue;
			v->family = kiln_strdup(fams.v[k]);
			v->version = kiln_strdup(f.names[i]);
			v->released = f.v[i].released;
			v->security_updates = f.security[i];
			assessed(c->store, v);
			n++;
		}
		family_release(&f);
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int
family_find(const struct family_versions *f, const char *version)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->names[i], version) == 0)
			return i;
	return -1;
}

int
kiln_catalog_override(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const char *version,
		      const char *what, time_t when, time_t until, const char *reason, time_t now)
{
	struct family_versions f;
	char d1[21], d2[21];
	_cleanup_free_ char *why = NULL;
	int i, rc;

	if (family_load(ctx, c, family, &f) < 0)
		return -1;
	i = family_find(&f, version);
	family_release(&f);
	if (i < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s is not released", family, version);
	kiln_format_iso8601(when, d1);
	kiln_format_iso8601(until, d2);
	d1[10] = d2[10] = '\0';
	if (strcmp(what, "disable") == 0) {
		rc = run(ctx, c, prep(ctx, c, "UPDATE versions SET disable_at = ?, expire_at = ?, override_reason = ?"
				      " WHERE family = ? AND version = ?", "iisss", (int64_t)when, (int64_t)until, reason,
				      family, version));
		why = until ? kiln_asprintf("disabled from %s, expires %s: %s", d1, d2, reason)
			    : kiln_asprintf("disabled from %s: %s", d1, reason);
	} else {
		rc = run(ctx, c, prep(ctx, c, "UPDATE versions SET extend_until = ?, disable_at = 0, override_reason = ?"
				      " WHERE family = ? AND version = ?", "isss", (int64_t)until, reason, family, version));
		why = kiln_asprintf("supported until at least %s: %s", d2, reason);
	}
	if (rc < 0)
		return -1;
	return add_event(ctx, c, now, what, NULL, NULL, family, version, NULL, NULL, why);
}

/* "2026.10.0, 2026.11.0": the active versions, oldest first. */
static char *
supported(const struct family_versions *f, time_t now)
{
	struct kiln_buf b = { 0 };

	for (int i = 0; i < f->n; i++) {
		struct kiln_lc_dates d;

		kiln_lifecycle_dates(&f->policy, f->v, f->n, i, &d);
		if (kiln_lifecycle_state(&d, now) == KILN_ACTIVE)
			kiln_buf_addf(&b, "%s%s", b.len ? ", " : "", f->names[i]);
	}
	if (!b.len)
		kiln_buf_addf(&b, "none");
	return kiln_buf_detach(&b, NULL);
}

static int
newest_active(const struct family_versions *f, time_t now)
{
	return kiln_lifecycle_newest_active(&f->policy, f->v, f->n, now);
}

/*
 * Exit 3 unless version @i is active at @now: "@prefix FAMILY/VERSION is
 * disabled since DATE@suffix; supported: ...".
 */
static int
require_active(struct kiln_ctx *ctx, const struct family_versions *f, const char *family, int i, time_t now,
	       enum kiln_deploy_action a, const char *prefix, const char *suffix)
{
	struct kiln_deploy_verdict v;
	_cleanup_free_ char *sup = NULL;
	char when[21];

	kiln_deploy_decide(&f->policy, f->v, f->n, i, a, now, &v);	/* the rule is lifecycle.c's; here the words */
	if (v.allowed)
		return 0;
	kiln_format_iso8601(v.since, when);
	when[10] = '\0';
	sup = supported(f, now);
	if (prefix)
		return kiln_error(ctx, KILN_EXIT_REFUSED, "%s%s/%s, %s since %s%s; supported: %s", prefix, family,
				  f->names[i], kiln_state_name(v.state), when, suffix ? suffix : "", sup);
	return kiln_error(ctx, KILN_EXIT_REFUSED, "%s/%s is %s since %s; supported: %s", family, f->names[i],
			  kiln_state_name(v.state), when, sup);
}

static void deployment_row(sqlite3_stmt *st, struct kiln_deployment *d);

/* Fills *@ret with tenant/name's deployment: 1, or 0 if there is none. */
static int
deployment_load(struct kiln_catalog *c, const char *tenant, const char *name, struct kiln_deployment *ret)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT tenant, name, family, version, auto_update, config, created, updated, guest"
			       " FROM deployments WHERE tenant = ? AND name = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		deployment_row(st, ret);
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static void
kiln_deployment_releasep(struct kiln_deployment *d)
{
	kiln_deployments_free(d, 1);
}

int
kiln_catalog_deploy_create(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_deploy_req *r,
			   time_t now, struct kiln_deployment *ret)
{
	struct family_versions f;
	struct kiln_deployment existing;
	int i, rc;

	if (!name_valid(r->tenant) || !name_valid(r->name))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad tenant or deployment name: use letters, digits, '-' and '_'");
	if (deployment_load(c, r->tenant, r->name, &existing)) {
		kiln_deployments_free(&existing, 1);
		kiln_error(ctx, KILN_EXIT_USAGE, "deployment '%s' of tenant '%s' exists", r->name, r->tenant);
		return kiln_error_as(ctx, KILN_ERR_CONFLICT, EEXIST);
	}
	if (family_load(ctx, c, r->family, &f) < 0)
		return -1;
	if (f.n == 0) {
		family_release(&f);
		return kiln_error(ctx, KILN_EXIT_USAGE, "family '%s' has no released version", r->family);
	}
	if (r->version) {
		i = family_find(&f, r->version);
		if (i < 0) {
			family_release(&f);
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s is not released", r->family, r->version);
		}
		rc = require_active(ctx, &f, r->family, i, now, KILN_DEPLOY_CREATE, NULL, NULL);
	} else {
		i = newest_active(&f, now);
		rc = i < 0 ? kiln_error(ctx, KILN_EXIT_REFUSED, "family '%s' has no active version", r->family) : 0;
	}
	if (rc == 0) {
		char *cfg = r->config ? json_dumps(r->config, JSON_COMPACT | JSON_SORT_KEYS) : kiln_strdup("{}");

		rc = run(ctx, c, prep(ctx, c, "INSERT INTO deployments (tenant, name, family, version, auto_update, created,"
				      " updated, guest, config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssssiiiss", r->tenant,
				      r->name, r->family, f.names[i], (int64_t)(r->auto_update > 0), (int64_t)now, (int64_t)now,
				      r->guest, cfg));
		free(cfg);
	}
	if (rc == 0)
		rc = add_event(ctx, c, now, "created", r->tenant, r->name, r->family, f.names[i], NULL, f.names[i],
			       r->auto_update > 0 ? "automatic updates" : "pinned");
	family_release(&f);
	if (rc < 0)
		return -1;
	if (!deployment_load(c, r->tenant, r->name, ret))
		return db_error(ctx, c, "the deployment just made");
	return 0;
}

int
kiln_catalog_deploy_update(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_deploy_req *r,
			   time_t now, struct kiln_deployment *ret)
{
	_cleanup_(kiln_deployment_releasep) struct kiln_deployment dep = { 0 };
	const char *family, *cur;
	struct family_versions f;
	json_t *config;
	int ci, ti, rc = 0;
	char *cfg;

	if (!deployment_load(c, r->tenant, r->name, &dep))
		return kiln_error(ctx, KILN_EXIT_USAGE, "no deployment '%s' of tenant '%s'", r->name, r->tenant);
	family = dep.family;
	cur = dep.version;
	if (family_load(ctx, c, family, &f) < 0)
		return -1;
	ci = family_find(&f, cur);
	ti = r->version ? family_find(&f, r->version) : ci;
	if (ti < 0)
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s is not released", family, r->version ? r->version : cur);
	/* a change on a disabled or expired version is refused unless it also moves to an active one */
	if (rc == 0 && ti != ci)
		rc = require_active(ctx, &f, family, ti, now, KILN_DEPLOY_MOVE, "cannot move to ", NULL);
	else if (rc == 0) {
		_cleanup_free_ char *pre = kiln_asprintf("'%s' runs ", r->name);

		rc = require_active(ctx, &f, family, ti, now, KILN_DEPLOY_CHANGE, pre,
				    ": no code or configuration change unless it also moves to an active version (--version)");
	}
	config = json_loads(dep.config, 0, NULL);
	if (!json_is_object(config)) {
		json_decref(config);
		config = json_object();
	}
	if (rc == 0 && r->config) {
		const char *k;
		json_t *v;

		json_object_foreach(r->config, k, v) {
			if (!json_is_string(v) || !*json_string_value(v))
				json_object_del(config, k);
			else
				json_object_set(config, k, v);
		}
	}
	cfg = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(config);
	if (rc == 0)
		rc = run(ctx, c, prep(ctx, c, "UPDATE deployments SET version = ?, config = ?, updated = ?,"
				      " auto_update = CASE WHEN ? < 0 THEN auto_update ELSE ? END WHERE tenant = ? AND name = ?",
				      "ssiiiss", f.names[ti], cfg, (int64_t)now, (int64_t)r->auto_update,
				      (int64_t)(r->auto_update > 0), r->tenant, r->name));
	if (rc == 0)
		rc = add_event(ctx, c, now, "updated", r->tenant, r->name, family, f.names[ti], cur, f.names[ti],
			       r->config ? "configuration" : "version");
	free(cfg);
	family_release(&f);
	if (rc < 0)
		return -1;
	if (!deployment_load(c, r->tenant, r->name, ret))
		return db_error(ctx, c, "the deployment just changed");
	return 0;
}

static void
deployment_row(sqlite3_stmt *st, struct kiln_deployment *d)
{
	d->tenant = kiln_strdup(col_text(st, 0));
	d->name = kiln_strdup(col_text(st, 1));
	d->family = kiln_strdup(col_text(st, 2));
	d->version = kiln_strdup(col_text(st, 3));
	d->auto_update = sqlite3_column_int(st, 4) != 0;
	d->config = kiln_strdup(col_text(st, 5) ? col_text(st, 5) : "{}");
	d->created = (time_t)sqlite3_column_int64(st, 6);
	d->updated = (time_t)sqlite3_column_int64(st, 7);
	d->guest = col_text(st, 8) ? kiln_strdup(col_text(st, 8)) : NULL;
}

void
kiln_deployments_free(struct kiln_deployment *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++) {
		free(d[i].tenant);
		free(d[i].name);
		free(d[i].family);
		free(d[i].version);
		free(d[i].config);
		free(d[i].guest);
	}
}

int
kiln_catalog_deployments(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant,
			 struct kiln_deployment **ret, size_t *ret_n)
{
	/* two statements, so that a tenant's query uses the primary key */
	sqlite3_stmt *st = tenant ? prep(ctx, c, "SELECT tenant, name, family, version, auto_update, config, created,"
					" updated, guest FROM deployments WHERE tenant = ? ORDER BY name", "s", tenant)
				  : prep(ctx, c, "SELECT tenant, name, family, version, auto_update, config, created,"
					" updated, guest FROM deployments ORDER BY tenant, name", "");
	struct kiln_deployment *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = kiln_realloc(v, alloc * sizeof(*v));
		}
		deployment_row(st, &v[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		kiln_deployments_free(v, n);
		free(v);
		return db_error(ctx, c, "select");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Events for every deployment on @version of @family, then the move; all in SQL, for a million deployments. */
static int
move_deployments(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now, const char *kind, const char *family,
		 const char *from, const char *to, const char *reason, int only_auto, int *ret_count)
{
	if (run(ctx, c, prep(ctx, c, "INSERT INTO events (at, kind, tenant, deployment, family, version, from_version,"
			     " to_version, reason) SELECT ?, ?, tenant, name, family, ?, version, ?, ? FROM deployments"
			     " WHERE family = ? AND version = ? AND (? = 0 OR auto_update = 1)", "issssssi", (int64_t)now,
			     kind, to, to, reason, family, from, (int64_t)only_auto)) < 0)
		return -1;
	*ret_count += sqlite3_changes(c->db);
	return run(ctx, c, prep(ctx, c, "UPDATE deployments SET version = ?, auto_update = 1, updated = ?"
				" WHERE family = ? AND version = ? AND (? = 0 OR auto_update = 1)", "sissi", to,
				(int64_t)now, family, from, (int64_t)only_auto));
}

static int
notices(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now, const char *family, const char *version,
	const char *kind, time_t on, int *ret_count)
{
	char day[21];
	_cleanup_free_ char *reason = NULL;

	kiln_format_iso8601(on, day);
	day[10] = '\0';
	reason = kiln_asprintf("%s/%s will be %s on %s", family, version, strcmp(kind, "disable") ? "expired" : "disabled", day);
	if (run(ctx, c, prep(ctx, c, "INSERT INTO events (at, kind, tenant, deployment, family, version, reason)"
			     " SELECT ?, ?, tenant, name, family, version, ? FROM deployments d WHERE family = ? AND version = ?"
			     " AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.tenant = d.tenant AND n.name = d.name"
			     " AND n.family = d.family AND n.version = d.version AND n.kind = ?)", "isssss", (int64_t)now,
			     strcmp(kind, "disable") ? "notice-expire" : "notice-disable", reason, family, version, kind)) < 0)
		return -1;
	*ret_count += sqlite3_changes(c->db);
	return run(ctx, c, prep(ctx, c, "INSERT OR IGNORE INTO notices SELECT tenant, name, family, version, ?"
				" FROM deployments WHERE family = ? AND version = ?", "sss", kind, family, version));
}

/* Carries out one family's tick plan: the decisions are lifecycle.c's, the catalog only records and moves. */
static int
tick_family(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, time_t now, int counts[4])
{
	struct family_versions f;
	struct kiln_tick_step *plan;
	enum kiln_state *recorded;
	int rc = 0;

	if (family_load(ctx, c, family, &f) < 0)
		return -1;
	plan = kiln_calloc(f.n ? f.n : 1, sizeof(*plan));
	recorded = kiln_calloc(f.n ? f.n : 1, sizeof(*recorded));
	for (int i = 0; i < f.n; i++)
		recorded[i] = !strcmp(f.state[i], "expired") ? KILN_EXPIRED : !strcmp(f.state[i], "disabled") ? KILN_DISABLED
													  : KILN_ACTIVE;
	kiln_tick_plan(&f.policy, f.v, f.n, recorded, now, plan);
	for (int i = 0; i < f.n && rc == 0; i++) {
		const struct kiln_tick_step *s = &plan[i];
		const char *name = kiln_state_name(s->state);
		char when[21];

		if (s->transition) {
			kiln_format_iso8601(s->since, when);
			when[10] = '\0';
			rc = add_event(ctx, c, now, name, NULL, NULL, family, f.names[i], f.state[i], name, when);
			if (rc == 0)
				rc = run(ctx, c, prep(ctx, c, "UPDATE versions SET state = ? WHERE family = ? AND version = ?",
						      "sss", name, family, f.names[i]));
			counts[0]++;
		}
		if (rc == 0 && s->move == KILN_TICK_FORCED) {
			_cleanup_free_ char *why = NULL;

			kiln_format_iso8601(s->expired_on, when);
			when[10] = '\0';
			why = kiln_asprintf("%s/%s expired on %s", family, f.names[i], when);
			rc = move_deployments(ctx, c, now, "forced-upgrade", family, f.names[i], f.names[s->to], why, 0, &counts[1]);
		} else if (rc == 0 && s->move == KILN_TICK_AUTO) {
			rc = move_deployments(ctx, c, now, "auto-update", family, f.names[i], f.names[s->to],
					      "automatic updates", 1, &counts[2]);
		}
		if (rc == 0 && s->notice_disable)
			rc = notices(ctx, c, now, family, f.names[i], "disable", s->disables_on, &counts[3]);
		if (rc == 0 && s->notice_expire)
			rc = notices(ctx, c, now, family, f.names[i], "expire", s->expires_on, &counts[3]);
	}
	free(plan);
	free(recorded);
	family_release(&f);
	return rc;
}

/* How many deployments of @family are on @version (with automatic updates only, when @only_auto). */
static long long
count_deployments(struct kiln_catalog *c, const char *family, const char *version, int only_auto)
{
	struct kiln_ctx sub;
	sqlite3_stmt *st;
	long long n = 0;

	kiln_ctx_init(&sub);
	st = prep(&sub, c, "SELECT count(*) FROM deployments WHERE family = ? AND version = ? AND (? = 0 OR auto_update = 1)",
		  "ssi", family, version, (int64_t)only_auto);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

json_t *
kiln_catalog_tick_plan(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv fams = { 0 };
	json_t *out = json_array();

	families(c, &fams);
	for (size_t k = 0; k < fams.n; k++) {
		struct family_versions f;
		struct kiln_tick_step *plan;
		enum kiln_state *recorded;

		if (family_load(ctx, c, fams.v[k], &f) < 0) {
			json_decref(out);
			return NULL;
		}
		plan = kiln_calloc(f.n ? f.n : 1, sizeof(*plan));
		recorded = kiln_calloc(f.n ? f.n : 1, sizeof(*recorded));
		for (int i = 0; i < f.n; i++)
			recorded[i] = !strcmp(f.state[i], "expired") ? KILN_EXPIRED
				      : !strcmp(f.state[i], "disabled") ? KILN_DISABLED : KILN_ACTIVE;
		kiln_tick_plan(&f.policy, f.v, f.n, recorded, now, plan);
		for (int i = 0; i < f.n; i++) {
			const struct kiln_tick_step *s = &plan[i];
			long long n = s->move == KILN_TICK_STAY ? 0 : count_deployments(c, fams.v[k], f.names[i], s->move == KILN_TICK_AUTO);
			int moves = n > 0;	/* a move of no deployment is no step */
			json_t *notices = json_array();

			if (s->notice_disable)
				json_array_append_new(notices, json_pack("{s:s, s:o}", "kind", "disable", "on", kiln_day_json(1, s->disables_on)));
			if (s->notice_expire)
				json_array_append_new(notices, json_pack("{s:s, s:o}", "kind", "expire", "on", kiln_day_json(1, s->expires_on)));
			if (!s->transition && !moves && !json_array_size(notices)) {
				json_decref(notices);
				continue;
			}
			json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o}", "family", fams.v[k], "version",
							     f.names[i],
							     "transition", s->transition ? json_pack("{s:s, s:s}", "from", f.state[i], "to",
												  kiln_state_name(s->state)) : json_null(),
							     "move", !moves ? json_null() : json_string(s->move == KILN_TICK_FORCED ? "forced-upgrade"
																	 : "auto-update"),
							     "to", moves ? json_string(f.names[s->to]) : json_null(),
							     "deployments", (json_int_t)n, "notices", notices));
		}
		free(plan);
		free(recorded);
		family_release(&f);
	}
	return out;
}

int
kiln_catalog_tick(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now, json_t **ret_summary)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv fams = { 0 };
	int counts[4] = { 0 };

	families(c, &fams);
	for (size_t i = 0; i < fams.n; i++)
		if (tick_family(ctx, c, fams.v[i], now, counts) < 0)
			return -1;
	*ret_summary = json_pack("{s:o, s:i, s:i, s:i, s:i}", "now", kiln_day_json(1, now), "transitions", counts[0],
				 "forced_upgrades", counts[1], "auto_updates", counts[2], "notices", counts[3]);
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? kiln_strdup(s) : NULL;
}

void
kiln_events_free(struct kiln_event *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].kind);
		free(e[i].tenant);
		free(e[i].deployment);
		free(e[i].family);
		free(e[i].version);
		free(e[i].from);
		free(e[i].to);
		free(e[i].reason);
	}
}

int
kiln_catalog_events(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, time_t since,
		    struct kiln_event **ret, size_t *ret_n)
{
	sqlite3_stmt *st = tenant ? prep(ctx, c, "SELECT id, at, kind, tenant, deployment, family, version, from_version,"
					" to_version, reason FROM events WHERE tenant = ? AND at >= ? ORDER BY id", "si",
					tenant, (int64_t)since)
				  : prep(ctx, c, "SELECT id, at, kind, tenant, deployment, family, version, from_version,"
					" to_version, reason FROM events WHERE at >= ? ORDER BY id", "i", (int64_t)since);
	struct kiln_event *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kiln_event *e;

		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			v = kiln_realloc(v, alloc * sizeof(*v));
		}
		e = &v[n++];
		e->id = sqlite3_column_int64(st, 0);
		e->at = (time_t)sqlite3_column_int64(st, 1);
		e->kind = kiln_strdup(col_text(st, 2));
		e->tenant = dup_or_null(col_text(st, 3));
		e->deployment = dup_or_null(col_text(st, 4));
		e->family = dup_or_null(col_text(st, 5));
		e->version = dup_or_null(col_text(st, 6));
		e->from = dup_or_null(col_text(st, 7));
		e->to = dup_or_null(col_text(st, 8));
		e->reason = dup_or_null(col_text(st, 9));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		kiln_events_free(v, n);
		free(v);
		return db_error(ctx, c, "select");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
kiln_catalog_token_new(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, char **ret_token)
{
	char hex[65], *tok;

	if (!name_valid(tenant))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad tenant name '%s'", tenant);
	if (kiln_random_hex(hex, 32) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "no randomness for a token");
	tok = kiln_asprintf("kiln_%s", hex);
	kiln_sha256_hex(tok, strlen(tok), hex);
	if (run(ctx, c, prep(ctx, c, "INSERT INTO tokens VALUES (?, ?, ?)", "ssi", hex, tenant, (int64_t)time(NULL))) < 0) {
		free(tok);
		return -1;
	}
	*ret_token = tok;
	return 0;
}

char *
kiln_catalog_token_tenant(struct kiln_catalog *c, const char *token)
{
	sqlite3_stmt *st = NULL;
	char hex[65], *tenant = NULL;

	kiln_sha256_hex(token, strlen(token), hex);
	if (sqlite3_prepare_v2(c->db, "SELECT tenant FROM tokens WHERE sha256 = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		tenant = kiln_strdup(col_text(st, 0));
	sqlite3_finalize(st);
	return tenant;
}

long long
kiln_catalog_data_version(struct kiln_catalog *c)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(c->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
kiln_catalog_released_versions(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, struct kiln_strv *ret)
{
	sqlite3_stmt *st = family ? prep(ctx, c, "SELECT version FROM versions WHERE family = ?1 ORDER BY y, m, r", "s", family)
				  : prep(ctx, c, "SELECT family || '/' || version FROM versions ORDER BY family, y, m, r", "");
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		kiln_strv_push(ret, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(ctx, c, "select");
	return 0;
}

int
kiln_catalog_manifest_sha256(struct kiln_catalog *c, const char *family, const char *version, char ret[65])
{
	struct kiln_ctx sub;
	sqlite3_stmt *st;
	int found = -1;

	kiln_ctx_init(&sub);
	st = prep(&sub, c, "SELECT manifest_sha256 FROM versions WHERE family = ?1 AND version = ?2", "ss", family, version);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 64) {
		memcpy(ret, sqlite3_column_text(st, 0), 64);
		ret[64] = '\0';
		found = 0;
	}
	sqlite3_finalize(st);
	return found;
}

int
kiln_catalog_event(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_event *e)
{
	return add_event(ctx, c, e->at, e->kind, e->tenant, e->deployment, e->family, e->version, e->from, e->to,
			 e->reason);
}

int
kiln_catalog_deployment(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
			struct kiln_deployment *ret)
{
	if (!deployment_load(c, tenant, name, ret))
		return kiln_error(ctx, KILN_EXIT_USAGE, "no deployment '%s' of tenant '%s'", name, tenant);
	return 0;
}

int
kiln_catalog_deploy_delete(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
			   time_t now)
{
	_cleanup_(kiln_deployment_releasep) struct kiln_deployment d = { 0 };

	if (kiln_catalog_deployment(ctx, c, tenant, name, &d) < 0)
		return -1;
	if (run(ctx, c, prep(ctx, c, "DELETE FROM instances WHERE tenant = ? AND name = ?", "ss", tenant, name)) < 0 ||
	    run(ctx, c, prep(ctx, c, "DELETE FROM notices WHERE tenant = ? AND name = ?", "ss", tenant, name)) < 0 ||
	    run(ctx, c, prep(ctx, c, "DELETE FROM deployments WHERE tenant = ? AND name = ?", "ss", tenant, name)) < 0)
		return -1;
	return add_event(ctx, c, now, "deleted", tenant, name, d.family, d.version, d.version, NULL, NULL);
}

void
kiln_instances_free(struct kiln_instance *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].tenant);
		free(v[i].name);
		free(v[i].host);
		free(v[i].domain);
		free(v[i].uuid);
		free(v[i].version);
		free(v[i].upgrading);
		free(v[i].failed_version);
		free(v[i].address);
	}
}

int
kiln_catalog_instances(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
		       struct kiln_instance **ret, size_t *ret_n)
{
#define INSTANCE_COLUMNS "SELECT tenant, name, idx, host, domain, uuid, version, upgrading, failed_version, failed_at," \
	" stopped, updated, address FROM instances"
	/* one deployment's by its primary key (the executor asks once per deployment); the rest are listings */
	sqlite3_stmt *st = tenant && name ? prep(ctx, c, INSTANCE_COLUMNS " WHERE tenant = ? AND name = ? ORDER BY idx", "ss",
						 tenant, name)
					  : prep(ctx, c, INSTANCE_COLUMNS " WHERE (?1 IS NULL OR tenant = ?1) AND"
						 " (?2 IS NULL OR name = ?2) ORDER BY tenant, name, idx", "ss", tenant, name);
	struct kiln_instance *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kiln_instance *i;

		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			v = kiln_realloc(v, alloc * sizeof(*v));
		}
		i = &v[n++];
		i->tenant = kiln_strdup(col_text(st, 0));
		i->name = kiln_strdup(col_text(st, 1));
		i->idx = sqlite3_column_int(st, 2);
		i->host = kiln_strdup(col_text(st, 3));
		i->domain = kiln_strdup(col_text(st, 4));
		i->uuid = dup_or_null(col_text(st, 5));
		i->version = kiln_strdup(col_text(st, 6));
		i->upgrading = dup_or_null(col_text(st, 7));
		i->failed_version = dup_or_null(col_text(st, 8));
		i->failed_at = (time_t)sqlite3_column_int64(st, 9);
		i->stopped = sqlite3_column_int(st, 10) != 0;
		i->updated = (time_t)sqlite3_column_int64(st, 11);
		i->address = dup_or_null(col_text(st, 12));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		kiln_instances_free(v, n);
		free(v);
		return db_error(ctx, c, "select");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
kiln_catalog_instance_put(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_instance *i)
{
	return run(ctx, c, prep(ctx, c, "INSERT OR REPLACE INTO instances (tenant, name, idx, host, domain, uuid, version,"
				" upgrading, failed_version, failed_at, stopped, updated, address) VALUES (?, ?, ?, ?, ?, ?, ?,"
				" ?, ?, ?, ?, ?, ?)", "ssissssssiiis", i->tenant, i->name, (int64_t)i->idx, i->host, i->domain,
				i->uuid, i->version, i->upgrading, i->failed_version, (int64_t)i->failed_at,
				(int64_t)i->stopped, (int64_t)i->updated, i->address));
}

int
kiln_catalog_host_addresses(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *host, struct kiln_strv *ret)
{
	sqlite3_stmt *st = host ? prep(ctx, c, "SELECT address FROM instances WHERE host = ? AND address IS NOT NULL", "s", host)
			       : prep(ctx, c, "SELECT address FROM instances WHERE address IS NOT NULL", "");
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		kiln_strv_push(ret, col_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(ctx, c, "select");
}
