/*
 * fleet-sim.c - the executor's own cost, without guests: N deployments on
 * libvirt's test:///default driver (in this process), every one moved by
 * one tick to a new version: the catalog's tick (the plan and its records),
 * then the executor (reconcile, redefine, restart, health, two catalog
 * commits per instance), with parallelism 1 and the default. The health
 * probe answers at once: what is measured is kiln and libvirt, not a boot.
 *   usage: build/bench/fleet-sim [N]      (make bench-fleet)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <libvirt/libvirt.h>

#include "catalog.h"
#include "fleet.h"

static int
healthy(void *data, const struct kiln_health_req *r, char **ret_why)
{
	(void)data;
	(void)r;
	(void)ret_why;
	return 1;
}

static const struct kiln_fleet_ops ops = { .health = healthy };

static void
die(const struct kiln_ctx *ctx, const char *what)
{
	fprintf(stderr, "fleet-sim: %s: %s\n", what, ctx->msg);
	exit(1);
}

static void
image(struct kiln_ctx *ctx, const char *store, const char *version)
{
	char *dir = kiln_asprintf("%s/app/%s", store, version), *p;
	const char *names[] = { "vmlinuz", "initrd.img", "manifest.json" };

	if (kiln_mkdir_p(ctx, dir, 0755) < 0)
		die(ctx, "mkdir");
	for (int i = 0; i < 3; i++) {
		FILE *f;

		p = kiln_asprintf("%s/%s", dir, names[i]);
		f = fopen(p, "w");
		fprintf(f, i == 2 ? "{\"kernel\": {\"cmdline\": \"console=ttyS0\"}, \"artifacts\": [{\"sha256\": \"%s\"}]}" : "%s",
			version);
		fclose(f);
		free(p);
	}
	free(dir);
}

static void
release(struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *store, const char *version, const char *when)
{
	struct kiln_release_info r = { .family = "app", .version = version, .manifest_sha256 = version, .signer = "bench" };
	int isnew;

	image(ctx, store, version);
	kiln_parse_iso8601(when, &r.released);
	if (kiln_catalog_begin(ctx, cat) < 0 || kiln_catalog_release(ctx, cat, &r, &isnew) < 0 ||
	    kiln_catalog_commit(ctx, cat) < 0)
		die(ctx, "release");
}

static double
rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

/* One tick at @when: the catalog's, then the executor's with @parallel; prints the figures. */
static void
tick(struct kiln_ctx *ctx, struct kiln_settings *set, struct kiln_catalog *cat, const char *store, const char *when,
     int parallel, long n)
{
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	json_t *sum = NULL;
	double t0, t1, t2;

	kiln_parse_iso8601(when, &set->now);
	t0 = kiln_monotonic_s();
	if (kiln_catalog_begin(ctx, cat) < 0 || kiln_catalog_tick(ctx, cat, set->now, &sum) < 0 ||
	    kiln_catalog_commit(ctx, cat) < 0)
		die(ctx, "tick");
	json_decref(sum);
	t1 = kiln_monotonic_s();
	kiln_fleet_set_parallel(f, parallel);
	if (kiln_fleet_tick(ctx, f, set->now, &sum) < 0)
		die(ctx, "executor");
	t2 = kiln_monotonic_s();
	printf("  tick, parallelism %d: plan + catalog %.2f s; executor %.2f s for %lld upgraded = %.0f us per deployment"
	       " (max RSS %.0f MiB)\n", parallel, t1 - t0, t2 - t1, (long long)json_integer_value(json_object_get(sum, "upgraded")),
	       (t2 - t1) * 1e6 / (double)n, rss_mib());
	if (json_integer_value(json_object_get(sum, "upgraded")) != n)
		die(ctx, "not every deployment was upgraded");
	json_decref(sum);
	kiln_fleet_free(f);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	char store[] = "/tmp/kiln-fleet-sim-XXXXXX";
	struct kiln_settings set;
	struct kiln_ctx ctx;
	struct kiln_catalog *cat;
	struct kiln_fleet *f;
	virConnectPtr keep;
	char *guest, *cmd;
	double t0;
	struct kiln_guest g;

	if (!mkdtemp(store))
		return 1;
	kiln_settings_init(&set);
	set.store = store;
	kiln_ctx_init(&ctx);
	ctx.set = &set;
	keep = virConnectOpen("test:///default");	/* the test driver keeps its domains while a connection is open */
	if (!keep || kiln_catalog_open(&ctx, store, &cat) < 0)
		die(&ctx, "open");
	release(&ctx, cat, store, "2026.01.0", "2026-01-05");
	kiln_guest_init(&g);
	kiln_strv_push(&g.hosts, "test:///default");
	guest = kiln_guest_format(&g);

	/* N deployments with automatic updates, each a domain defined and started */
	kiln_parse_iso8601("2026-01-10", &set.now);
	f = kiln_fleet_new(cat, store, &ops);
	t0 = kiln_monotonic_s();
	if (kiln_catalog_begin(&ctx, cat) < 0)
		die(&ctx, "begin");
	for (long i = 0; i < n; i++) {
		char name[32];
		struct kiln_deploy_req r = { .tenant = "bench", .name = name, .family = "app", .auto_update = 1, .guest = guest };
		struct kiln_deployment d = { 0 };

		snprintf(name, sizeof(name), "d%06ld", i);
		if (kiln_catalog_deploy_create(&ctx, cat, &r, set.now, &d) < 0 || kiln_fleet_create(&ctx, f, &d) < 0)
			die(&ctx, "create");
		kiln_deployments_free(&d, 1);
	}
	if (kiln_catalog_commit(&ctx, cat) < 0)
		die(&ctx, "commit");
	kiln_fleet_free(f);
	printf("== %ld deployments on test:///default, one instance each\n", n);
	printf("  created (catalog + define + start + health): %.2f s, %.0f us per deployment\n", kiln_monotonic_s() - t0,
	       (kiln_monotonic_s() - t0) * 1e6 / (double)n);

	release(&ctx, cat, store, "2026.02.0", "2026-02-01");
	tick(&ctx, &set, cat, store, "2026-02-02", 1, n);
	release(&ctx, cat, store, "2026.03.0", "2026-03-01");
	tick(&ctx, &set, cat, store, "2026-03-02", KILN_FLEET_PARALLEL, n);

	kiln_catalog_close(cat);
	virConnectClose(keep);
	kiln_guest_release(&g);
	free(guest);
	cmd = kiln_asprintf("rm -rf '%s'", store);
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	return 0;
}
