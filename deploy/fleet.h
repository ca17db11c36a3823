/*
 * fleet.h - deployments that run: the catalog's deployments made real as
 * libvirt domains, and the executor that moves them between versions.
 *
 * The catalog says which version a deployment should run (kiln tick moves
 * it by the lifecycle's rules); each of its instances records the version
 * its domain is defined for. The executor makes the two agree: inside the
 * deployment's maintenance window, one instance at a time, it redefines the
 * domain on the new version (same UUID, same volume, same configuration),
 * restarts it as the reboot policy says, waits for health and rolls back
 * to the version it ran when the new one is not healthy in time. Every
 * step is an event. An instance's row names an upgrade before libvirt is
 * touched, so a tick killed anywhere leaves something the next tick
 * reconciles (kiln_fleet_reconcile()).
 */
#ifndef KILN_FLEET_H
#define KILN_FLEET_H

#include "kiln.h"
#include "catalog.h"
#include "window.h"

#include <jansson.h>
#include <stdint.h>

#define KILN_FLEET_MAX_HOSTS 16
#define KILN_FLEET_MAX_INSTANCES 64
#define KILN_FLEET_MAX_PORTS 8
#define KILN_FLEET_PARALLEL 4		/* deployments the executor works on at once, by default */
#define KILN_FLEET_MAX_PARALLEL 64
#define KILN_FLEET_SNAPSHOTS 3	/* volume snapshots kept per instance */

enum kiln_reboot {
	KILN_REBOOT_IF_REQUIRED,	/* restart when what the guest boots changed (the default) */
	KILN_REBOOT_ALWAYS,		/* restart at every upgrade, even to identical files */
	KILN_REBOOT_NEVER,		/* stage the new version for the next restart: pending */
};

/* Where and how a deployment runs: the catalog's deployments.guest, as JSON. */
struct kiln_guest {
	struct kiln_strv hosts;		/* libvirt URIs; instance i runs on hosts[i % n] */
	int instances, memory_mib, cpus, max_unavailable;
	uint64_t volume_bytes;		/* 0: no data volume */
	int ports[KILN_FLEET_MAX_PORTS], n_ports;	/* --forward: the guest's TCP ports */
	int has_window;
	struct kiln_window window;
	enum kiln_reboot reboot;
	int health_timeout;		/* seconds an instance has to become healthy */
	char *network;			/* the libvirt network of its NIC, or NULL */
	int boot_disk;			/* boot the version's disk.qcow2 under UEFI (OVMF), not its kernel directly */
};

void kiln_guest_init(struct kiln_guest *g);
void kiln_guest_release(struct kiln_guest *g);
/* The JSON text stored in the catalog (a new string). */
char *kiln_guest_format(const struct kiln_guest *g);
/* Reads the catalog's text; -1 (exit 1) when it is not a guest kiln wrote. */
int kiln_guest_parse(struct kiln_ctx *ctx, const char *text, struct kiln_guest *g);
const char *kiln_reboot_name(enum kiln_reboot r);
int kiln_reboot_parse(const char *s, enum kiln_reboot *ret);

/* The domain name of instance @idx: kiln-TENANT-NAME, then kiln-TENANT-NAME.1 ... */
char *kiln_fleet_domain_name(const char *tenant, const char *name, int idx);

/*
 * Is an instance healthy? The executor asks after each start. The real
 * probe reads the console from @console_from for kiln-init's banner naming
 * @family and @version (and fails at once when kiln-init reports the
 * application ended), then connects to each of @ports at @address. Tests
 * put their own in struct kiln_fleet_ops.
 */
struct kiln_health_req {
	const char *domain, *console, *family, *version, *address;
	long console_from;
	const int *ports;
	int n_ports;
	int timeout;
};

struct kiln_fleet_ops {
	/* 1 healthy, 0 not healthy in time (*@ret_why says why, caller frees) */
	int (*health)(void *data, const struct kiln_health_req *r, char **ret_why);
	void *data;
	/* tests: called between the steps of an upgrade, by name ("defined", "started") */
	void (*step)(void *data, const char *what);
};

/* The probe the executor uses unless told otherwise. */
int kiln_fleet_health_probe(void *data, const struct kiln_health_req *r, char **ret_why);

struct kiln_fleet;

/* A fleet on @cat (borrowed) with the images and volumes of @store; @ops NULL: the real probe. */
struct kiln_fleet *kiln_fleet_new(struct kiln_catalog *cat, const char *store, const struct kiln_fleet_ops *ops);
void kiln_fleet_free(struct kiln_fleet *f);
/* kiln tick --parallel: how many deployments the executor works on at once (1..KILN_FLEET_MAX_PARALLEL). */
void kiln_fleet_set_parallel(struct kiln_fleet *f, int n);
static inline void kiln_fleet_freep(struct kiln_fleet **f) { if (*f) kiln_fleet_free(*f); }

/*
 * kiln_fleet_create() - deployment @d (just recorded, in the caller's open
 * transaction) made real: each instance's volume, domain defined and
 * started, its row recorded. On failure, whatever was made is removed and
 * the caller rolls back: nothing is left behind.
 */
int kiln_fleet_create(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d);

/* deploy stop / start: the instances, and that the executor should keep them so. */
int kiln_fleet_stop(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d);
int kiln_fleet_start(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d);
/* deploy delete: the domains undefined; the volumes and consoles kept unless @purge. */
int kiln_fleet_delete(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, int purge);

/*
 * kiln_fleet_restore() - deploy restore: instance @idx's volume back to
 * snapshot @snap (kiln-EPOCH-VERSION, listed by kiln_fleet_status()), under
 * the version the instance runs now; restarted and checked unless stopped.
 */
int kiln_fleet_restore(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, int idx,
		       const char *snap);

/*
 * kiln_fleet_apply() - bring @d's instances to the version and configuration
 * the catalog records now, at once (deploy update), with health checks and
 * rollback. Returns 0, or -1 when an instance failed (rolled back): the
 * instances changed before it are put back to @before (the record as it
 * was, which the caller keeps), when not NULL.
 */
int kiln_fleet_apply(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d,
		     const struct kiln_deployment *before, const char *why);

/*
 * kiln_fleet_status() - what the catalog and libvirt say of @d, as JSON:
 * the deployment's fields plus guest and instances [{index, host, domain,
 * uuid, state, version (defined), running_version, health, upgrading,
 * failed_version}]; a host that cannot be reached gives state
 * "unreachable", not an error.
 */
json_t *kiln_fleet_status(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d);

/*
 * kiln_fleet_deployment_json() - the deployment as the CLI and the API show
 * it: its record (render.h), "guest" (its settings, null for a record
 * only), "instances" (kiln_fleet_status(), health included: "healthy" when
 * its ports answer now, "unhealthy", "unknown" with none to ask, null when
 * not running) and "running" (how many run).
 */
json_t *kiln_fleet_deployment_json(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d);

/*
 * kiln_fleet_plan() - what the executor would do at @now after the
 * catalog's tick whose plan is @catalog_plan (kiln_catalog_tick_plan()),
 * changing nothing: [{tenant, name, instance, host, from, to, why, action:
 * upgrade | stage (reboot never) | retry (failed before) | wait (outside
 * its window) | defer (too little of it left) | reconcile, window_opens}].
 */
json_t *kiln_fleet_plan(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, json_t *catalog_plan);

/*
 * kiln_fleet_tick() - the executor, after the catalog's tick at @now:
 * reconcile every instance an earlier tick left midway, then move every
 * instance whose version differs from its deployment's, window by window.
 * *@ret_summary counts {upgraded, failed, deferred, waiting, unreachable}.
 * Returns 0, or -1 (exit 1) when some host could not be reached or some
 * upgrade failed; the rest was still done.
 */
int kiln_fleet_tick(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, json_t **ret_summary);

#endif
