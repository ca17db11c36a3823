/* catalog.h - the lifecycle catalog (SQLite, STORE/catalog.db): releases, policy, deployments, events. */
#ifndef KILN_CATALOG_H
#define KILN_CATALOG_H

#include "kiln.h"
#include "lifecycle.h"

#include <jansson.h>


struct kiln_catalog;

/*
 * kiln_catalog_open() - open (creating it) STORE/catalog.db
 * WAL mode; migrations run in order inside one transaction; a catalog with a
 * newer schema than this kiln knows is refused (exit 2).
 */
int kiln_catalog_open(struct kiln_ctx *ctx, const char *store, struct kiln_catalog **ret);
void kiln_catalog_close(struct kiln_catalog *c);
static inline void kiln_catalog_closep(struct kiln_catalog **c) { kiln_catalog_close(*c); }

/* Every command is one transaction: begin, then commit or rollback. */
int kiln_catalog_begin(struct kiln_ctx *ctx, struct kiln_catalog *c);
int kiln_catalog_commit(struct kiln_ctx *ctx, struct kiln_catalog *c);
void kiln_catalog_rollback(struct kiln_catalog *c);

/* Policy of @family (its own, else the default '*', else the defaults the README gives). */
int kiln_catalog_policy(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, struct kiln_policy *ret);
int kiln_catalog_policy_set(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const struct kiln_policy *p);
/* All policies as JSON: [{family, keep, disable_after_days, expire_after_days, notice_days, health_timeout_s}]. */
json_t *kiln_catalog_policies(struct kiln_ctx *ctx, struct kiln_catalog *c);

/* Trusted signing keys (PEM public keys); returns the stored key's fingerprint (sha256 of its PEM). */
int kiln_catalog_trust(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *pem, char ret_fpr[65]);
/* The trusted keys' PEM texts (caller releases). */
int kiln_catalog_trusted(struct kiln_ctx *ctx, struct kiln_catalog *c, struct kiln_strv *ret_pems);

struct kiln_fix;
struct kiln_release_info {
	const char *family, *version;
	time_t released;
	const char *manifest_sha256;
	const char *signer;		/* fingerprint of the key that verified it */
	int security_updates;
	const struct kiln_fix *fixes;	/* the fixes its manifest lists (kiln_manifest_fixes()), indexed for /v1/fixes */
	size_t n_fixes;
};

/* {id, families: [{family, first, versions: [{version, package, package_version}]}]}: the released versions that carry the fix @id. */
json_t *kiln_catalog_fixes(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *id);

/*
 * kiln_catalog_release() - record a released version. The same version with
 * the same manifest again: no-op (*@ret_new = 0); with another manifest:
 * exit 4. Records a "released" event.
 */
int kiln_catalog_release(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_release_info *r,
			 int *ret_new);

/* The versions of @family ever released (appended to @ret; all families' as "FAMILY/VERSION" when @family is NULL). */
int kiln_catalog_released_versions(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family,
				   struct kiln_strv *ret);

/* The SHA-256 of the manifest recorded when @family/@version was released, into @ret[65]: 0, or -1 (no error recorded) if not released. */
int kiln_catalog_manifest_sha256(struct kiln_catalog *c, const char *family, const char *version, char ret[65]);

/* A released version and its lifecycle at a given time (render.c makes its JSON). */
struct kiln_version_info {
	char *family, *version;
	enum kiln_state state;
	time_t released;
	struct kiln_lc_dates dates;	/* disabled_at / expires_at when known, else newer_needed */
	int security_updates;
	/* kiln assess's last count for it (STORE/assessments/), when it ran */
	int assessed, pending_security, pending_other;
	time_t assessed_at;
};
void kiln_version_infos_free(struct kiln_version_info *v, size_t n);

/*
 * kiln_catalog_versions() - the versions of @family (all families when
 * NULL, by family), newest first, with their lifecycle at @now; only active
 * ones unless @all. *@ret (n entries; kiln_version_infos_free()).
 */
int kiln_catalog_versions(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, int all, time_t now,
			  struct kiln_version_info **ret, size_t *ret_n);

/* kiln version disable|extend: an override with its reason, recorded as an event. */
int kiln_catalog_override(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *family, const char *version,
			  const char *what, time_t when, time_t until, const char *reason, time_t now);

struct kiln_deploy_req {
	const char *tenant, *name, *family, *version;	/* version NULL: the newest active one */
	int auto_update;		/* -1: keep */
	json_t *config;			/* {KEY: VALUE} set (create) or merged in (update; "" removes KEY); NULL: none */
	const char *guest;		/* create: where and how it runs (deploy/fleet.h's JSON); NULL: a record only */
};

/* A deployment as the catalog records it (render.c makes its JSON). */
struct kiln_deployment {
	char *tenant, *name, *family, *version;
	int auto_update;
	char *config;		/* a JSON object's text */
	time_t created, updated;
	char *guest;		/* JSON text of where and how it runs; NULL: kiln only records it */
};
void kiln_deployments_free(struct kiln_deployment *d, size_t n);

/* One event of the log. */
struct kiln_event {
	long long id;
	time_t at;
	char *kind, *tenant, *deployment, *family, *version, *from, *to, *reason;	/* NULL when absent */
};
void kiln_events_free(struct kiln_event *e, size_t n);

/*
 * Deployments, by the README's lifecycle table (kiln_deploy_decide()):
 * refusals are exit 3 with the reason and the supported versions. *@ret is
 * the deployment as it now is (free with kiln_deployments_free(ret, 1)).
 */
int kiln_catalog_deploy_create(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_deploy_req *r,
			       time_t now, struct kiln_deployment *ret);
int kiln_catalog_deploy_update(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_deploy_req *r,
			       time_t now, struct kiln_deployment *ret);
/* The deployments of @tenant (all when NULL), by tenant and name: *@ret (n entries; kiln_deployments_free()). */
int kiln_catalog_deployments(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant,
			     struct kiln_deployment **ret, size_t *ret_n);

/*
 * kiln_catalog_tick() - apply the clock at @now: state transitions as
 * events, forced upgrades of deployments on expired versions (auto_update
 * on), auto-updates, notices once each. Idempotent. *@ret_summary counts.
 */
int kiln_catalog_tick(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now, json_t **ret_summary);

/* Events, oldest first, of @tenant (all when NULL) since @since. */
/*
 * kiln_catalog_tick_plan() - what kiln_catalog_tick() would do at @now,
 * changing nothing: [{family, version, transition: {from, to} | null, move:
 * "forced-upgrade" | "auto-update" | null, to, deployments, notices: [...]}]
 * for every version with something to do; deployments counts those a move
 * concerns.
 */
json_t *kiln_catalog_tick_plan(struct kiln_ctx *ctx, struct kiln_catalog *c, time_t now);

/* The events (of @tenant, when not NULL) at or after @since, oldest first: *@ret (n; kiln_events_free()). */
int kiln_catalog_events(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, time_t since,
			struct kiln_event **ret, size_t *ret_n);

/* A new bearer token for @tenant (only its hash is stored); caller frees. */
int kiln_catalog_token_new(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, char **ret_token);
/* The tenant a token belongs to (caller frees), or NULL. */
char *kiln_catalog_token_tenant(struct kiln_catalog *c, const char *token);

/* One deployment: 0, or -1 (exit 2) when there is none. */
int kiln_catalog_deployment(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
			    struct kiln_deployment *ret);
/* Removes a deployment's records (instances, notices) and records a "deleted" event; its guests are the caller's. */
int kiln_catalog_deploy_delete(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
			       time_t now);
/* Appends @e to the event log (its id is ignored). */
int kiln_catalog_event(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_event *e);

/*
 * One guest of a deployment: a libvirt domain on a host. @version is what
 * the domain is defined for; @upgrading, when not NULL, an upgrade that was
 * under way (a tick killed midway leaves it: the next one reconciles);
 * @failed_version and @failed_at the last upgrade that did not become
 * healthy; @stopped, stopped by the operator (kept stopped).
 */
struct kiln_instance {
	char *tenant, *name;
	int idx;
	char *host, *domain, *uuid, *version, *upgrading, *failed_version;
	char *address;		/* its IPv4 address on the deployment's network, or NULL */
	time_t failed_at, updated;
	int stopped;
};
void kiln_instances_free(struct kiln_instance *v, size_t n);
/* The instances of @tenant/@name (either NULL: all), by tenant, name, index. */
int kiln_catalog_instances(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *tenant, const char *name,
			   struct kiln_instance **ret, size_t *ret_n);
/* The addresses the instances on @host (any host when NULL) hold (appended to @ret). */
int kiln_catalog_host_addresses(struct kiln_ctx *ctx, struct kiln_catalog *c, const char *host, struct kiln_strv *ret);
/* Records @i (inserted or replaced). */
int kiln_catalog_instance_put(struct kiln_ctx *ctx, struct kiln_catalog *c, const struct kiln_instance *i);

/* Changes whenever another connection commits: what cached answers are checked against. */
long long kiln_catalog_data_version(struct kiln_catalog *c);

#endif
