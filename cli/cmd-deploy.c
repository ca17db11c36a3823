/* cmd-deploy.c - kiln deploy: deployments under the lifecycle's rules, run as libvirt guests. */
#define _GNU_SOURCE
#include "catalog.h"
#include "render.h"
#include "fleet.h"
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct kiln_opt deploy_opts[] = {
	{ "tenant", "T", 't', "the tenant (default: default)" },
	{ "family", "F", 'f', "create: the image family" },
	{ "version", "V", 'v', "the version to run" },
	{ "auto", NULL, 'a', "follow the newest active version at each tick" },
	{ "pin", NULL, 'p', "stay on the version (default for create)" },
	{ "config", "K=V", 'c', "set a configuration key (repeatable; K= removes it): the\n"
				"application's environment; update applies it by a restart" },
	{ "host", "URI", 'H', "create: a libvirt host (default qemu:///system); repeat\n"
			      "it to spread the instances over several" },
	{ "instances", "N", 'i', "create: identical guests (default 1), upgraded one at a time" },
	{ "max-unavailable", "K", 'u', "create: instances an upgrade may take down at once (1)" },
	{ "memory", "MIB", 'm', "create: guest memory (default 512)" },
	{ "cpus", "N", 'C', "create: virtual CPUs (default 1)" },
	{ "volume", "SIZE", 'V', "create: a data volume for the image's State= directory" },
	{ "forward", "PORT", 'P', "create: a TCP port of the application, checked for\n"
				  "health (repeatable)" },
	{ "network", "NET", 'N', "create: the libvirt network of the guest's NIC" },
	{ "window", "W", 'w', "create: the maintenance window, \"DAYS HH:MM+DURATION\"\n"
			      "in UTC (\"Sun 02:00+120m\", \"Mon-Fri 23:00+1h\"; 60 to\n"
			      "235 minutes); none: upgrades go at once" },
	{ "reboot", "POLICY", 'b', "create: if-required (default), always or never" },
	{ "boot", "FROM", 'G', "create: kernel (default: the version's kernel and\n"
			       "initramfs, booted directly) or disk (its disk.qcow2 under\n"
			       "UEFI with OVMF, as a cloud boots it)" },
	{ "health-timeout", "S", 'T', "create: seconds a started guest has to become healthy\n"
					  "(default: its family's policy, health_timeout_s)" },
	{ "record-only", NULL, 'L', "create: record the deployment without running a guest\n"
				    "(it runs elsewhere; the lifecycle applies to the record)" },
	{ "purge", NULL, 'x', "delete: remove the data volumes and console logs too" },
	{ "snapshot", "ID", 'S', "restore: the volume snapshot (deploy show lists them)" },
	{ "instance", "I", 'I', "restore: which instance (default 0)" },
	{ "json", NULL, 'j', "one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

static const char *const subs[] = { "create", "update", "list", "show", "stop", "start", "delete", "restore", NULL };

/* A positive integer option in [lo, hi], else a usage error. */
static int
int_opt(const char *cmd, const char *opt, const char *s, int lo, int hi, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return kiln_cli_usage_error(cmd, "bad --%s '%s': a number from %d to %d", opt, s, lo, hi);
	*ret = (int)v;
	return 0;
}

static const char *
instance_summary(json_t *d, char *buf, size_t size)
{
	json_t *in = json_object_get(d, "instances"), *i;
	size_t k, n = json_array_size(in);

	if (json_is_null(json_object_get(d, "guest")))
		return "record only";
	buf[0] = '\0';
	json_array_foreach(in, k, i) {
		const char *run = json_string_value(json_object_get(i, "running_version"));
		size_t l = strlen(buf);

		snprintf(buf + l, size - l, "%s%s%s%s", k ? ", " : "", json_string_value(json_object_get(i, "state")),
			 run ? " " : "", run ? run : "");
	}
	return n ? buf : "no instance";
}

static void
print_table(json_t *list)
{
	json_t *d;
	size_t i;
	char buf[512];

	printf("%-12s %-16s %-10s %-12s %-5s %s\n", "TENANT", "NAME", "FAMILY", "VERSION", "AUTO", "GUESTS");
	json_array_foreach(list, i, d)
		printf("%-12s %-16s %-10s %-12s %-5s %s\n", json_string_value(json_object_get(d, "tenant")),
		       json_string_value(json_object_get(d, "name")), json_string_value(json_object_get(d, "family")),
		       json_string_value(json_object_get(d, "version")),
		       json_is_true(json_object_get(d, "auto_update")) ? "yes" : "no", instance_summary(d, buf, sizeof(buf)));
}

/* deploy show, as text: the record, the guest's settings, each instance. */
static void
print_one(json_t *d)
{
	json_t *g = json_object_get(d, "guest"), *i, *cfg = json_object_get(d, "config");
	const char *k;
	json_t *v;
	size_t n;

	printf("deployment  %s/%s\nfamily      %s\nversion     %s\nauto        %s\n",
	       json_string_value(json_object_get(d, "tenant")), json_string_value(json_object_get(d, "name")),
	       json_string_value(json_object_get(d, "family")), json_string_value(json_object_get(d, "version")),
	       json_is_true(json_object_get(d, "auto_update")) ? "yes" : "no");
	json_object_foreach(cfg, k, v)
		printf("config      %s=%s\n", k, json_string_value(v));
	if (json_is_null(g)) {
		puts("guests      none: a record only");
		return;
	}
	printf("window      %s\nreboot      %s\nboot        %s\nmemory      %lld MiB, %lld cpus\n",
	       json_is_string(json_object_get(g, "window")) ? json_string_value(json_object_get(g, "window")) : "none (at once)",
	       json_string_value(json_object_get(g, "reboot")),
	       json_is_string(json_object_get(g, "boot")) ? "disk (UEFI)" : "kernel (direct)",
	       (long long)json_integer_value(json_object_get(g, "memory_mib")),
	       (long long)json_integer_value(json_object_get(g, "cpus")));
	json_array_foreach(json_object_get(d, "instances"), n, i) {
		json_t *run = json_object_get(i, "running_version"), *up = json_object_get(i, "upgrading"),
		       *fail = json_object_get(i, "failed_version");

		printf("instance %lld  %s on %s: %s, defined for %s", (long long)json_integer_value(json_object_get(i, "index")),
		       json_string_value(json_object_get(i, "domain")), json_string_value(json_object_get(i, "host")),
		       json_string_value(json_object_get(i, "state")), json_string_value(json_object_get(i, "version")));
		if (json_is_string(json_object_get(i, "health")))
			printf(", %s", json_string_value(json_object_get(i, "health")));
		if (json_is_string(json_object_get(i, "address")))
			printf(", address %s", json_string_value(json_object_get(i, "address")));
		if (json_is_string(run))
			printf(", running %s%s", json_string_value(run),
			       json_is_true(json_object_get(i, "pending")) ? " (new version pending a restart)" : "");
		if (json_is_string(up))
			printf(", upgrade to %s under way", json_string_value(up));
		if (json_is_string(fail))
			printf(", last upgrade to %s failed", json_string_value(fail));
		if (json_is_true(json_object_get(i, "stopped")))
			printf(", stopped by the operator");
		if (json_is_true(json_object_get(i, "drift")))
			printf(", libvirt's definition differs (the next tick reconciles it)");
		if (json_array_size(json_object_get(i, "snapshots"))) {
			json_t *sn;
			size_t q;

			printf("; volume snapshots:");
			json_array_foreach(json_object_get(i, "snapshots"), q, sn)
				printf(" %s", json_string_value(sn));
		}
		if (json_is_string(json_object_get(i, "error")))
			printf(" (%s)", json_string_value(json_object_get(i, "error")));
		putchar('\n');
	}
}

struct deploy_args {
	const char *sub, *tenant;
	struct kiln_deploy_req r;
	struct kiln_guest g;
	int record_only, purge, guest_opts, instance;
	const char *snapshot;
};

static int
parse(int argc, char **argv, struct kiln_cli_common *co, struct deploy_args *a)
{
	const char *why;
	uint64_t size;
	int c, rc, port;

	while ((c = kiln_cli_getopt(argc, argv, deploy_opts, "deploy", "deploy", co, &rc)) != -1) {
		a->guest_opts += strchr("HiumCVPNwbTL", c) != NULL;
		switch (c) {
		case 't': a->tenant = optarg; break;
		case 'f': a->r.family = optarg; break;
		case 'v': a->r.version = optarg; break;
		case 'a': a->r.auto_update = 1; break;
		case 'p': a->r.auto_update = 0; break;
		case 'c': {
			_cleanup_free_ char *key = NULL;

			if (!strchr(optarg, '=') || optarg[0] == '=')
				return kiln_cli_usage_error("deploy", "bad --config '%s': use KEY=VALUE", optarg);
			key = kiln_strndup(optarg, strchr(optarg, '=') - optarg);
			if (strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(key))
				return kiln_cli_usage_error("deploy", "bad --config key '%s': letters, digits, '_', '.', '-'", key);
			if (!a->r.config)
				a->r.config = json_object();
			json_object_set_new(a->r.config, key, json_string(strchr(optarg, '=') + 1));
			break;
		}
		case 'H':
			if (!*optarg || strchr(optarg, ' '))
				return kiln_cli_usage_error("deploy", "bad --host '%s': a libvirt URI", optarg);
			if (a->g.hosts.n == KILN_FLEET_MAX_HOSTS)
				return kiln_cli_usage_error("deploy", "at most %d hosts", KILN_FLEET_MAX_HOSTS);
			kiln_strv_push(&a->g.hosts, optarg);
			break;
		case 'i':
			if (int_opt("deploy", "instances", optarg, 1, KILN_FLEET_MAX_INSTANCES, &a->g.instances) < 0)
				return 2;
			break;
		case 'u':
			if (int_opt("deploy", "max-unavailable", optarg, 1, KILN_FLEET_MAX_INSTANCES, &a->g.max_unavailable) < 0)
				return 2;
			break;
		case 'm':
			if (int_opt("deploy", "memory", optarg, 64, 1 << 20, &a->g.memory_mib) < 0)
				return 2;
			break;
		case 'C':
			if (int_opt("deploy", "cpus", optarg, 1, 256, &a->g.cpus) < 0)
				return 2;
			break;
		case 'T':
			if (int_opt("deploy", "health-timeout", optarg, 1, 3600, &a->g.health_timeout) < 0)
				return 2;
			break;
		case 'V':
			if (kiln_parse_size(optarg, &size) < 0 || size < (16 << 20) || size > (1ULL << 44))
				return kiln_cli_usage_error("deploy", "bad --volume '%s': a size from 16M to 16T (e.g. 1G)", optarg);
			a->g.volume_bytes = size;
			break;
		case 'P':
			if (int_opt("deploy", "forward", optarg, 1, 65535, &port) < 0)
				return 2;
			if (a->g.n_ports == KILN_FLEET_MAX_PORTS)
				return kiln_cli_usage_error("deploy", "at most %d ports", KILN_FLEET_MAX_PORTS);
			a->g.ports[a->g.n_ports++] = port;
			break;
		case 'N':
			free(a->g.network);
			a->g.network = kiln_strdup(optarg);
			break;
		case 'w':
			if (kiln_window_parse(optarg, &a->g.window, &why) < 0)
				return kiln_cli_usage_error("deploy", "bad --window '%s': %s", optarg, why);
			a->g.has_window = 1;
			break;
		case 'G':
			if (strcmp(optarg, "disk") && strcmp(optarg, "kernel"))
				return kiln_cli_usage_error("deploy", "bad --boot '%s': use kernel or disk", optarg);
			a->g.boot_disk = !strcmp(optarg, "disk");
			break;
		case 'b':
			if (kiln_reboot_parse(optarg, &a->g.reboot) < 0)
				return kiln_cli_usage_error("deploy", "bad --reboot '%s': if-required, always or never", optarg);
			break;
		case 'L': a->record_only = 1; break;
		case 'x': a->purge = 1; break;
		case 'S': a->snapshot = optarg; break;
		case 'I':
			if (int_opt("deploy", "instance", optarg, 0, KILN_FLEET_MAX_INSTANCES - 1, &a->instance) < 0)
				return 2;
			break;
		default:
			return rc;
		}
	}
	return 0;
}

/* Creates the record and, unless record-only, its guests: one transaction, nothing left on failure. */
static int
create(struct kiln_ctx *ctx, struct kiln_catalog *cat, struct kiln_fleet *f, struct deploy_args *a,
       struct kiln_deployment *ret)
{
	_cleanup_free_ char *guest = NULL;

	if (!a->record_only) {
		if (!a->g.hosts.n)
			kiln_strv_push(&a->g.hosts, "qemu:///system");
		a->r.guest = guest = kiln_guest_format(&a->g);
	}
	if (kiln_catalog_begin(ctx, cat) < 0)
		return -1;
	if (kiln_catalog_deploy_create(ctx, cat, &a->r, ctx->set->now, ret) < 0 ||
	    (ret->guest && kiln_fleet_create(ctx, f, ret) < 0) || kiln_catalog_commit(ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return -1;
	}
	return 0;
}

/*
 * Changes the record and applies it to the guests at once, each healthy
 * before the next; when one is not, the guests are rolled back, the record
 * stays as it was and the failure is an event.
 */
static int
update(struct kiln_ctx *ctx, struct kiln_catalog *cat, struct kiln_fleet *f, struct deploy_args *a,
       struct kiln_deployment *ret)
{
	struct kiln_ctx sub;
	int rc;

	struct kiln_deployment before = { 0 };

	if (kiln_catalog_begin(ctx, cat) < 0)
		return -1;
	rc = kiln_catalog_deployment(ctx, cat, a->tenant, a->r.name, &before);
	if (rc == 0)
		rc = kiln_catalog_deploy_update(ctx, cat, &a->r, ctx->set->now, ret);
	/* only a change of what the guest runs restarts it (--auto and --pin do not) */
	if (rc == 0 && (strcmp(before.version, ret->version) || strcmp(before.config, ret->config)))
		rc = kiln_fleet_apply(ctx, f, ret, &before, strcmp(before.version, ret->version) ? "version changed"
											   : "configuration changed");
	kiln_deployments_free(&before, 1);
	if (rc == 0)
		return kiln_catalog_commit(ctx, cat) < 0 ? (kiln_catalog_rollback(cat), -1) : 0;
	kiln_catalog_rollback(cat);
	if (ret->tenant) {	/* the guests were touched: the failure is recorded after the rollback */
		struct kiln_event e = { .at = ctx->set->now, .kind = "update-failed", .tenant = (char *)a->tenant,
					.deployment = (char *)a->r.name, .family = ret->family, .version = ret->version,
					.reason = (char *)ctx->msg };

		kiln_ctx_sub(&sub, ctx);
		if (kiln_catalog_begin(&sub, cat) == 0 && kiln_catalog_event(&sub, cat, &e) == 0)
			kiln_catalog_commit(&sub, cat);
		else
			kiln_catalog_rollback(cat);
	}
	return -1;
}

/* stop, start, restore, delete: the guests first, then the record. */
static int
act(struct kiln_ctx *ctx, struct kiln_catalog *cat, struct kiln_fleet *f, struct deploy_args *a,
    struct kiln_deployment *d)
{
	int rc;

	if (kiln_catalog_begin(ctx, cat) < 0)
		return -1;
	rc = kiln_catalog_deployment(ctx, cat, a->tenant, a->r.name, d);
	if (rc == 0 && !strcmp(a->sub, "stop"))
		rc = kiln_fleet_stop(ctx, f, d);
	else if (rc == 0 && !strcmp(a->sub, "start"))
		rc = kiln_fleet_start(ctx, f, d);
	else if (rc == 0 && !strcmp(a->sub, "restore"))
		rc = kiln_fleet_restore(ctx, f, d, a->instance, a->snapshot);
	else if (rc == 0) {
		rc = kiln_fleet_delete(ctx, f, d, a->purge);
		if (rc == 0)
			rc = kiln_catalog_deploy_delete(ctx, cat, a->tenant, a->r.name, ctx->set->now);
	}
	if (rc < 0 || kiln_catalog_commit(ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return -1;
	}
	return 0;
}

static int
check_args(struct deploy_args *a, int argc)
{
	const char *s = a->sub;
	int is_create = !strcmp(s, "create");

	if (strcmp(s, "list") && optind != argc - 1)
		return kiln_cli_usage_error("deploy", "expected one deployment NAME");
	if (!strcmp(s, "list") && optind != argc)
		return kiln_cli_usage_error("deploy list", "unexpected argument");
	if (is_create && !a->r.family)
		return kiln_cli_usage_error("deploy create", "expected --family F");
	if (is_create && a->r.version && a->r.auto_update > 0)
		return kiln_cli_usage_error("deploy create", "--version and --auto exclude each other");
	if (is_create && a->record_only && a->guest_opts > 1)
		return kiln_cli_usage_error("deploy create", "--record-only runs no guest: its options do not apply");
	if (!is_create && a->guest_opts)
		return kiln_cli_usage_error("deploy", "--host, --window and the guest's other settings are given at create");
	if (!strcmp(s, "restore") && !a->snapshot)
		return kiln_cli_usage_error("deploy restore", "expected --snapshot ID ('kiln deploy show' lists them)");
	if (a->snapshot && strcmp(s, "restore"))
		return kiln_cli_usage_error("deploy", "--snapshot is for restore");
	if (a->purge && strcmp(s, "delete"))
		return kiln_cli_usage_error("deploy", "--purge is for delete");
	if (!strcmp(s, "update") && !a->r.version && !a->r.config && a->r.auto_update < 0)
		return kiln_cli_usage_error("deploy update", "expected --config KEY=VALUE, --version V, --auto or --pin");
	if (a->g.max_unavailable > a->g.instances)
		return kiln_cli_usage_error("deploy create", "--max-unavailable is more than --instances");
	return 0;
}

static int
run_sub(struct kiln_ctx *ctx, struct kiln_cli_common *co, struct deploy_args *a, int argc, char **argv)
{
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_(kiln_fleet_freep) struct kiln_fleet *f = NULL;
	struct kiln_deployment one = { 0 };
	_cleanup_free_ char *what = kiln_asprintf("deploy %s", a->sub);
	json_t *out;
	int rc;

	if ((rc = kiln_cli_catalog("deploy", ctx, &cat)) != 0)
		return rc;
	f = kiln_fleet_new(cat, ctx->set->store, NULL);
	if (!strcmp(a->sub, "list")) {
		struct kiln_deployment *list = NULL;
		size_t n = 0;

		if (kiln_catalog_deployments(ctx, cat, a->tenant, &list, &n) < 0)
			return kiln_cli_fail(what, ctx);
		out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, kiln_fleet_deployment_json(ctx, f, &list[i]));
		kiln_deployments_free(list, n);
		free(list);
		co->json ? kiln_cli_print_json(out) : print_table(out);
		json_decref(out);
		return 0;
	}
	a->r.name = argv[optind];
	if (!a->tenant)
		a->tenant = "default";
	a->r.tenant = a->tenant;
	if (!strcmp(a->sub, "create"))
		rc = create(ctx, cat, f, a, &one);
	else if (!strcmp(a->sub, "update"))
		rc = update(ctx, cat, f, a, &one);
	else if (!strcmp(a->sub, "show"))
		rc = kiln_catalog_deployment(ctx, cat, a->tenant, a->r.name, &one);
	else
		rc = act(ctx, cat, f, a, &one);
	if (rc < 0) {
		kiln_deployments_free(&one, 1);
		return kiln_cli_fail(what, ctx);
	}
	if (!strcmp(a->sub, "delete")) {
		if (!co->json)
			printf("deleted %s/%s%s\n", a->tenant, a->r.name,
			       one.guest && !a->purge ? " (its volumes and console logs are kept: --purge removes them)" : "");
		kiln_deployments_free(&one, 1);
		return 0;
	}
	out = kiln_fleet_deployment_json(ctx, f, &one);
	if (co->json)
		kiln_cli_print_json(out);
	else if (!strcmp(a->sub, "show"))
		print_one(out);
	else {
		json_t *l = json_pack("[O]", out);

		print_table(l);
		json_decref(l);
	}
	json_decref(out);
	kiln_deployments_free(&one, 1);
	return 0;
}

int
cmd_deploy(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct deploy_args a = { .r = { .auto_update = -1 } };
	struct kiln_ctx ctx;
	int rc, known = 0;

	for (size_t i = 0; argc >= 2 && subs[i]; i++)
		known |= !strcmp(argv[1], subs[i]);
	if (!known)
		return kiln_cli_usage_error("deploy", "expected create, update, list, show, stop, start or delete");
	a.sub = argv[1];
	kiln_guest_init(&a.g);
	rc = parse(argc - 1, argv + 1, &co, &a);
	if (rc == 0)
		rc = check_args(&a, argc - 1);
	if (rc == 0)
		rc = kiln_cli_setup("deploy", &co, &ctx);
	if (rc == 0)
		rc = run_sub(&ctx, &co, &a, argc - 1, argv + 1);
	kiln_guest_release(&a.g);
	json_decref(a.r.config);
	return rc;
}

/* kiln help deploy: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_deploy = {
	.name = "deploy",
	.fn = cmd_deploy,
	.summary = "create, change, list and run deployments (libvirt guests)",
	.forms = (const struct kiln_form[]){
		{ "create", "NAME", "tenant !family version|auto pin config host instances max-unavailable memory cpus volume "
				    "forward network window reboot boot health-timeout record-only json store now" },
		{ "update", "NAME", "tenant config version auto|pin json store now" },
		{ "list", "", "tenant json store now" },
		{ "show", "NAME", "tenant json store now" },
		{ "stop", "NAME", "tenant json store now" },
		{ "start", "NAME", "tenant json store now" },
		{ "delete", "NAME", "tenant purge json store now" },
		{ "restore", "NAME", "tenant !snapshot instance json store now" },
		{ 0 },
	},
	.usage = "The lifecycle's rules: a deployment is created on, and moves to, active\n"
		 "versions only; a deployment on a disabled version keeps running but may not\n"
		 "change unless it also moves to an active version. Refusals are exit 3 and\n"
		 "name the supported versions. Without --version, the newest active version.\n"
		 "\n"
		 "A deployment runs as libvirt domains kiln-TENANT-NAME (kiln-TENANT-NAME.1 ...\n"
		 "for more instances) booting the version's kernel and initramfs; the\n"
		 "configuration reaches the application as environment variables (SMBIOS OEM\n"
		 "strings kiln.env:KEY=VALUE, read by kiln-init). create waits until each guest\n"
		 "is healthy (kiln-init's banner for the version, the --forward ports answer)\n"
		 "and leaves nothing behind when one is not; update applies a change by a\n"
		 "restart, one instance at a time, and rolls back when the new one is not\n"
		 "healthy. kiln tick upgrades them inside their window. list and show report\n"
		 "the catalog's version and what libvirt runs. An unreachable host is exit 5.\n",
	.opts = { deploy_opts },
};
