/*
 * test-fleet.c - the executor against libvirt's test:///default driver:
 * create, update, forced upgrade, auto-update, windows, reboot policies,
 * failures that roll back, and a tick that was killed midway. libvirt's
 * calls are real; the health probe is the test's (the test driver runs no
 * guest), told which versions are "bad".
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "catalog.h"
#include "fleet.h"
#include "virt.h"

static char store[] = "/tmp/kiln-fleet-XXXXXX";
static struct kiln_settings set;
static struct kiln_ctx ctx;
static struct kiln_catalog *cat;

/* test:///default keeps its domains while a connection to it is open: this one, for the whole run */
static virConnectPtr keep;

struct probe {
	const char *bad[4];	/* versions that never become healthy */
	const char *bad_domain;	/* a domain that never becomes healthy */
	int calls;
	int last_timeout;	/* the time limit the executor gave the last check */
	const char *kill_at;	/* step name at which the "tick is killed" */
	jmp_buf *killed;
	const char *start_at;	/* step name at which someone else starts the domain (kiln's start then fails) */
	const char *domain;
};
static struct probe probe;

static int
fake_health(void *data, const struct kiln_health_req *r, char **ret_why)
{
	struct probe *p = data;

	__atomic_fetch_add(&p->calls, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&p->last_timeout, r->timeout, __ATOMIC_SEQ_CST);
	if (p->bad_domain && !strcmp(p->bad_domain, r->domain)) {
		*ret_why = kiln_asprintf("%s is broken", r->domain);
		return 0;
	}
	for (int i = 0; i < 4 && p->bad[i]; i++)
		if (!strcmp(p->bad[i], r->version)) {
			*ret_why = kiln_asprintf("%s exits at start", r->version);
			return 0;
		}
	return 1;
}

static void
fake_step(void *data, const char *what)
{
	struct probe *p = data;

	if (p->start_at && !strcmp(p->start_at, what)) {
		virDomainPtr d = virDomainLookupByName(keep, p->domain);

		virDomainCreate(d);
		virDomainFree(d);
		p->start_at = NULL;
	}
}

static uint64_t volume_bytes;	/* create(): with a data volume of this size */
static int boot_disk;		/* create(): boot the version's disk under UEFI */
static int max_unavailable = 1;	/* create(): instances an upgrade may take at once */
static int tick_parallel = 1;	/* tick(): deployments at once (1: the steps in a known order) */

static const struct kiln_fleet_ops ops = { .health = fake_health, .data = &probe, .step = fake_step };

static time_t
day(const char *s)
{
	time_t t;

	assert_int_equal(kiln_parse_iso8601(s, &t), 0);
	return t;
}

/* A built image in the store: what the executor points libvirt at. */
static void
image(const char *version)
{
	char *dir = kiln_asprintf("%s/app/%s", store, version), *p;
	FILE *f;

	assert_int_equal(kiln_mkdir_p(&ctx, dir, 0755), 0);
	p = kiln_asprintf("%s/vmlinuz", dir);
	f = fopen(p, "w");
	fputs("kernel", f);
	fclose(f);
	free(p);
	p = kiln_asprintf("%s/initrd.img", dir);
	f = fopen(p, "w");
	fprintf(f, "initramfs %s", version);
	fclose(f);
	free(p);
	/* a disk image too (a real qcow2: disk-booted instances get overlays of it) */
	p = kiln_asprintf("qemu-img create -q -f qcow2 '%s/disk.qcow2' 1M", dir);
	assert_int_equal(system(p), 0);
	free(p);
	p = kiln_asprintf("%s/manifest.json", dir);
	f = fopen(p, "w");
	fprintf(f, "{\"kernel\": {\"cmdline\": \"console=ttyS0\"}, \"artifacts\": [{\"name\": \"initrd.img\", \"sha256\": \"%s\"}]}",
		version);
	fclose(f);
	free(p);
	free(dir);
}

static void
release(const char *version, const char *when)
{
	struct kiln_release_info r = { .family = "app", .version = version, .released = day(when),
				       .manifest_sha256 = version, .signer = "test" };
	int isnew;

	image(version);
	assert_int_equal(kiln_catalog_release(&ctx, cat, &r, &isnew), 0);
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(store));
	keep = virConnectOpen("test:///default");
	assert_non_null(keep);
	kiln_settings_init(&set);
	set.store = store;
	set.now = day("2026-01-10");
	kiln_ctx_init(&ctx);
	ctx.set = &set;
	assert_int_equal(kiln_catalog_open(&ctx, store, &cat), 0);
	release("2026.01.0", "2026-01-05");
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = kiln_asprintf("rm -rf '%s'", store);

	(void)state;
	kiln_catalog_close(cat);
	virConnectClose(keep);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* kiln deploy create as the CLI does it: one transaction, rolled back on failure. */
static int
create(const char *name, int auto_update, int instances, const char *window, enum kiln_reboot reboot)
{
	struct kiln_guest g;
	struct kiln_deployment d = { 0 };
	struct kiln_deploy_req r = { .tenant = "acme", .name = name, .family = "app", .auto_update = auto_update };
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	char *text;
	const char *why;
	int rc;

	kiln_guest_init(&g);
	kiln_strv_push(&g.hosts, "test:///default");
	g.network = kiln_strdup("default");	/* the test driver's: 192.168.122.1/24 */
	g.volume_bytes = volume_bytes;
	g.boot_disk = boot_disk;
	g.max_unavailable = max_unavailable;
	g.instances = instances;
	g.reboot = reboot;
	if (window) {
		assert_int_equal(kiln_window_parse(window, &g.window, &why), 0);
		g.has_window = 1;
	}
	r.guest = text = kiln_guest_format(&g);
	kiln_error_clear(&ctx);
	assert_int_equal(kiln_catalog_begin(&ctx, cat), 0);
	rc = kiln_catalog_deploy_create(&ctx, cat, &r, set.now, &d);
	if (rc == 0)
		rc = kiln_fleet_create(&ctx, f, &d);
	if (rc == 0)
		assert_int_equal(kiln_catalog_commit(&ctx, cat), 0);
	else
		kiln_catalog_rollback(cat);
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
	kiln_guest_release(&g);
	free(text);
	return rc;
}

/* What libvirt says domain @name is defined for (a new string), NULL when missing. */
static char *
defined_version(const char *name, enum kiln_dom_state *ret_state)
{
	struct kiln_virt *v = kiln_virt_open(&ctx, "test:///default");
	struct kiln_dom_info info;
	char *out = NULL;

	assert_non_null(v);
	assert_int_equal(kiln_virt_lookup(&ctx, v, name, &info), 0);
	if (info.state != KILN_DOM_MISSING && info.ours)
		out = kiln_strdup(info.meta.version);
	if (ret_state)
		*ret_state = info.state;
	kiln_dom_info_release(&info);
	kiln_virt_close(v);
	return out;
}

static void
assert_defined(const char *name, const char *version)
{
	char *v = defined_version(name, NULL);

	assert_non_null(v);
	assert_string_equal(v, version);
	free(v);
}

/* The instance row @idx of acme/@name. */
static void
instance(const char *name, int idx, struct kiln_instance *ret)
{
	struct kiln_instance *in = NULL;
	size_t n = 0;

	assert_int_equal(kiln_catalog_instances(&ctx, cat, "acme", name, &in, &n), 0);
	assert_true((size_t)idx < n);
	*ret = in[idx];
	for (size_t i = 0; i < n; i++)
		if ((int)i != idx)
			kiln_instances_free(&in[i], 1);
	free(in);
}

/* How many events of @kind acme/@name has. */
static int
events(const char *name, const char *kind)
{
	struct kiln_event *e = NULL;
	size_t n = 0;
	int count = 0;

	assert_int_equal(kiln_catalog_events(&ctx, cat, "acme", 0, &e, &n), 0);
	for (size_t i = 0; i < n; i++)
		count += !strcmp(e[i].kind, kind) && e[i].deployment && !strcmp(e[i].deployment, name);
	kiln_events_free(e, n);
	free(e);
	return count;
}

/* kiln tick: the catalog's, then the executor's. Returns the executor's result. */
static int
tick(const char *when, json_t **ret)
{
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	json_t *sum = NULL;
	int rc;

	kiln_fleet_set_parallel(f, tick_parallel);
	set.now = day(when);
	kiln_error_clear(&ctx);
	assert_int_equal(kiln_catalog_begin(&ctx, cat), 0);
	assert_int_equal(kiln_catalog_tick(&ctx, cat, set.now, &sum), 0);
	assert_int_equal(kiln_catalog_commit(&ctx, cat), 0);
	json_decref(sum);
	rc = kiln_fleet_tick(&ctx, f, set.now, ret);
	kiln_fleet_free(f);
	return rc;
}

static long long
count(json_t *sum, const char *key)
{
	return json_integer_value(json_object_get(sum, key));
}

static void
test_create(void **state)
{
	struct kiln_instance i;
	enum kiln_dom_state st;
	char *v;

	(void)state;
	set.now = day("2026-01-10");
	probe.calls = 0;
	if (create("web", 0, 2, NULL, KILN_REBOOT_IF_REQUIRED) < 0)
		fail_msg("%s", ctx.msg);
	assert_int_equal(probe.calls, 2);	/* each instance checked */
	assert_int_equal(probe.last_timeout, 180);	/* the built-in policy's time limit */
	v = defined_version("kiln-acme-web", &st);
	assert_string_equal(v, "2026.01.0");
	assert_int_equal(st, KILN_DOM_RUNNING);
	free(v);
	assert_defined("kiln-acme-web.1", "2026.01.0");
	instance("web", 1, &i);
	assert_string_equal(i.version, "2026.01.0");
	assert_string_equal(i.host, "test:///default");
	assert_int_equal(strlen(i.uuid), 36);
	/* each instance its own address on the network, the host's as gateway, on the kernel's command line */
	assert_string_equal(i.address, "192.168.122.11/24,192.168.122.1");
	kiln_instances_free(&i, 1);
	{
		virDomainPtr dom = virDomainLookupByName(keep, "kiln-acme-web");
		char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

		assert_non_null(strstr(xml, "kiln.ip=192.168.122.10/24,192.168.122.1</cmdline>"));
		assert_non_null(strstr(xml, "<source network='default'/>"));
		free(xml);
		virDomainFree(dom);
	}

	/* the same name again: the catalog refuses, libvirt is not touched */
	assert_int_equal(create("web", 0, 1, NULL, KILN_REBOOT_IF_REQUIRED), -1);
	assert_defined("kiln-acme-web", "2026.01.0");
}

static void
test_create_refusals(void **state)
{
	virConnectPtr c = virConnectOpen("test:///default");
	virDomainPtr d;
	struct kiln_instance *in = NULL;
	size_t n = 0;

	(void)state;
	/* a domain of that name kiln did not make: refused (exit 3), left alone, nothing recorded */
	d = virDomainDefineXML(c, "<domain type='test'><name>kiln-acme-taken</name><memory>65536</memory>"
				  "<os><type>hvm</type></os></domain>");
	assert_non_null(d);
	virDomainFree(d);
	assert_int_equal(create("taken", 0, 1, NULL, KILN_REBOOT_IF_REQUIRED), -1);
	assert_int_equal(ctx.code, KILN_EXIT_REFUSED);
	assert_non_null(strstr(ctx.msg, "exists on 'test:///default'"));
	d = virDomainLookupByName(c, "kiln-acme-taken");
	assert_non_null(d);
	virDomainFree(d);
	virConnectClose(c);
	assert_int_equal(kiln_catalog_instances(&ctx, cat, "acme", "taken", &in, &n), 0);
	assert_int_equal(n, 0);
	free(in);

	/* the second instance never becomes healthy: both are removed, nothing recorded */
	probe.bad[0] = "2026.01.0";
	assert_int_equal(create("sick", 0, 2, NULL, KILN_REBOOT_IF_REQUIRED), -1);
	probe.bad[0] = NULL;
	assert_int_equal(ctx.code, KILN_EXIT_FAILED);
	assert_non_null(strstr(ctx.msg, "did not become healthy"));
	assert_null(defined_version("kiln-acme-sick", NULL));
	assert_int_equal(kiln_catalog_instances(&ctx, cat, "acme", "sick", &in, &n), 0);
	assert_int_equal(n, 0);
	free(in);

	/* an unreachable host: exit 5 naming it */
	{
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, &ctx);
		assert_null(kiln_virt_open(&sub, "qemu+tcp://127.0.0.1:1/system"));
		assert_int_equal(sub.code, KILN_EXIT_FETCH);
		assert_non_null(strstr(sub.msg, "qemu+tcp://127.0.0.1:1/system"));
	}
}

static void
test_policy_health_timeout(void **state)
{
	struct kiln_policy p;

	(void)state;
	/* the family's policy gives the time limit (a deployment's --health-timeout would win) */
	assert_int_equal(kiln_catalog_policy(&ctx, cat, "app", &p), 0);
	p.health_timeout_s = 42;
	assert_int_equal(kiln_catalog_policy_set(&ctx, cat, "app", &p), 0);
	assert_int_equal(create("quick", 0, 1, NULL, KILN_REBOOT_IF_REQUIRED), 0);
	assert_int_equal(probe.last_timeout, 42);
	p.health_timeout_s = 180;
	assert_int_equal(kiln_catalog_policy_set(&ctx, cat, "app", &p), 0);
	{
		struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
		struct kiln_deployment d;

		assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "quick", &d), 0);
		assert_int_equal(kiln_fleet_delete(&ctx, f, &d, 1), 0);
		assert_int_equal(kiln_catalog_deploy_delete(&ctx, cat, "acme", "quick", set.now), 0);
		assert_null(defined_version("kiln-acme-quick", NULL));
		kiln_deployments_free(&d, 1);
		kiln_fleet_free(f);
	}
}

static void
test_update_config(void **state)
{
	json_t *cfg = json_pack("{s:s}", "maxmemory", "64mb");
	struct kiln_deploy_req r = { .tenant = "acme", .name = "web", .auto_update = -1, .config = cfg };
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	struct kiln_deployment d = { 0 };
	virConnectPtr c;
	virDomainPtr dom;
	char *xml;

	(void)state;
	set.now = day("2026-01-11");
	probe.calls = 0;
	assert_int_equal(kiln_catalog_begin(&ctx, cat), 0);
	assert_int_equal(kiln_catalog_deploy_update(&ctx, cat, &r, set.now, &d), 0);
	assert_int_equal(kiln_fleet_apply(&ctx, f, &d, NULL, "configuration"), 0);
	assert_int_equal(kiln_catalog_commit(&ctx, cat), 0);
	assert_int_equal(probe.calls, 2);	/* restarted and checked, one by one */
	c = virConnectOpen("test:///default");
	dom = virDomainLookupByName(c, "kiln-acme-web.1");
	xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	assert_non_null(strstr(xml, "<entry>kiln.env:maxmemory=64mb</entry>"));
	free(xml);
	virDomainFree(dom);
	assert_int_equal(events("web", "updated"), 3);	/* the catalog's, then one per instance */

	/* the second instance fails the next change: both end as they were, and so does the record */
	{
		struct kiln_deployment before = { 0 }, after = { 0 };
		json_t *cfg2 = json_pack("{s:s}", "motd", "hello");
		struct kiln_deploy_req r2 = { .tenant = "acme", .name = "web", .auto_update = -1, .config = cfg2 };

		probe.bad_domain = "kiln-acme-web.1";
		assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "web", &before), 0);
		assert_int_equal(kiln_catalog_begin(&ctx, cat), 0);
		assert_int_equal(kiln_catalog_deploy_update(&ctx, cat, &r2, set.now, &after), 0);
		assert_int_equal(kiln_fleet_apply(&ctx, f, &after, &before, "configuration"), -1);
		kiln_catalog_rollback(cat);
		kiln_error_clear(&ctx);
		probe.bad_domain = NULL;
		for (int k = 0; k < 2; k++) {
			dom = virDomainLookupByName(c, k ? "kiln-acme-web.1" : "kiln-acme-web");
			xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
			assert_null(strstr(xml, "motd"));
			assert_non_null(strstr(xml, "kiln.env:maxmemory=64mb"));
			free(xml);
			virDomainFree(dom);
		}
		kiln_deployments_free(&before, 1);
		kiln_deployments_free(&after, 1);
		json_decref(cfg2);
	}
	virConnectClose(c);
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
	json_decref(cfg);
}

static void
test_forced_upgrade(void **state)
{
	json_t *sum = NULL;
	struct kiln_deployment d;

	(void)state;
	release("2026.02.0", "2026-02-05");
	release("2026.03.0", "2026-03-05");
	/* 2026.01.0 expired on 2026-04-05 (disabled 03-06, 30 days): the pinned deployment is moved */
	assert_int_equal(tick("2026-04-10", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 2);
	assert_int_equal(count(sum, "failed"), 0);
	json_decref(sum);
	assert_defined("kiln-acme-web", "2026.03.0");
	assert_defined("kiln-acme-web.1", "2026.03.0");
	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "web", &d), 0);
	assert_int_equal(d.auto_update, 1);
	assert_string_equal(d.version, "2026.03.0");
	kiln_deployments_free(&d, 1);
	assert_int_equal(events("web", "upgraded"), 2);

	/* a second tick: nothing to do */
	assert_int_equal(tick("2026-04-10", &sum), 0);
	assert_int_equal(count(sum, "upgraded") + count(sum, "reconciled") + count(sum, "failed"), 0);
	json_decref(sum);
}

static void
test_rollback(void **state)
{
	struct kiln_instance i;
	json_t *sum = NULL;

	(void)state;
	/* an auto-update to a version whose application exits: instance 0 rolled back, instance 1 untouched */
	probe.bad[0] = "2026.04.0";
	release("2026.04.0", "2026-04-12");
	assert_int_equal(tick("2026-04-13", &sum), -1);
	assert_int_equal(ctx.code, KILN_EXIT_FAILED);
	assert_int_equal(count(sum, "failed"), 1);
	assert_int_equal(count(sum, "upgraded"), 0);
	json_decref(sum);
	assert_defined("kiln-acme-web", "2026.03.0");
	assert_defined("kiln-acme-web.1", "2026.03.0");
	instance("web", 0, &i);
	assert_string_equal(i.version, "2026.03.0");
	assert_string_equal(i.failed_version, "2026.04.0");
	assert_null(i.upgrading);
	kiln_instances_free(&i, 1);
	assert_int_equal(events("web", "upgrade-failed"), 1);

	/* no window: not again in the same tick's moment, again at the next tick; it is fixed by then */
	assert_int_equal(tick("2026-04-13", &sum), 0);
	assert_int_equal(count(sum, "failed") + count(sum, "upgraded"), 0);
	json_decref(sum);
	probe.bad[0] = NULL;
	assert_int_equal(tick("2026-04-14", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 2);
	json_decref(sum);
	assert_defined("kiln-acme-web.1", "2026.04.0");
}

static void
test_start_fails(void **state)
{
	json_t *sum = NULL;

	(void)state;
	/* someone starts the domain between kiln's define and start: kiln's start fails, the old version is put back */
	probe.start_at = "defined";
	probe.domain = "kiln-acme-web";
	release("2026.05.0", "2026-05-01");
	assert_int_equal(tick("2026-05-02", &sum), -1);
	assert_int_equal(count(sum, "failed"), 1);
	json_decref(sum);
	assert_defined("kiln-acme-web", "2026.04.0");
	assert_defined("kiln-acme-web.1", "2026.04.0");
	assert_int_equal(tick("2026-05-03", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 2);
	json_decref(sum);
}

static void
test_define_fails(void **state)
{
	char *p = kiln_asprintf("%s/app/2026.06.0/vmlinuz", store);
	json_t *sum = NULL;

	(void)state;
	/* the new version's kernel is missing from the store: nothing changes in libvirt */
	release("2026.06.0", "2026-06-01");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(tick("2026-06-02", &sum), -1);
	assert_non_null(strstr(ctx.msg, "is not in the store"));
	json_decref(sum);
	assert_defined("kiln-acme-web", "2026.05.0");
	image("2026.06.0");
	free(p);
	assert_int_equal(tick("2026-06-03", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 2);
	json_decref(sum);
}

static void
test_windows(void **state)
{
	json_t *sum = NULL;

	(void)state;
	/* 2026-06-05 is a Friday */
	set.now = day("2026-06-05T10:00:00Z");
	if (create("win", 1, 1, "Sat 02:00+120m", KILN_REBOOT_IF_REQUIRED) < 0)
		fail_msg("%s", ctx.msg);
	release("2026.07.0", "2026-06-05");
	assert_int_equal(tick("2026-06-05T11:00:00Z", &sum), 0);
	assert_int_equal(count(sum, "waiting"), 1);	/* web moved: no window */
	json_decref(sum);
	assert_defined("kiln-acme-win", "2026.06.0");
	assert_defined("kiln-acme-web", "2026.07.0");
	/* the dry run says so: win waits for Saturday 02:00 */
	{
		struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
		json_t *none = json_array(), *plan = kiln_fleet_plan(&ctx, f, set.now, none), *e = json_array_get(plan, 0);

		assert_int_equal(json_array_size(plan), 1);
		assert_string_equal(json_string_value(json_object_get(e, "name")), "win");
		assert_string_equal(json_string_value(json_object_get(e, "action")), "wait");
		assert_string_equal(json_string_value(json_object_get(e, "window_opens")), "2026-06-06T02:00:00Z");
		json_decref(plan);
		json_decref(none);
		kiln_fleet_free(f);
	}
	/* inside the window but with less left than an upgrade and its rollback need: deferred */
	assert_int_equal(tick("2026-06-06T03:55:00Z", &sum), 0);
	assert_int_equal(count(sum, "deferred"), 1);
	json_decref(sum);
	assert_int_equal(events("win", "deferred"), 1);
	assert_defined("kiln-acme-win", "2026.06.0");
	/* the next window */
	assert_int_equal(tick("2026-06-13T02:00:00Z", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 1);
	json_decref(sum);
	assert_defined("kiln-acme-win", "2026.07.0");
}

static void
test_reboot_never(void **state)
{
	struct kiln_instance i;
	json_t *sum = NULL;

	(void)state;
	set.now = day("2026-06-14");
	assert_int_equal(create("calm", 1, 1, NULL, KILN_REBOOT_NEVER), 0);
	probe.calls = 0;
	release("2026.08.0", "2026-06-15");
	assert_int_equal(tick("2026-06-16", &sum), 0);
	assert_int_equal(count(sum, "pending"), 1);
	json_decref(sum);
	/* defined for the new version, not restarted for it: pending */
	assert_defined("kiln-acme-calm", "2026.08.0");
	instance("calm", 0, &i);
	assert_string_equal(i.version, "2026.08.0");
	kiln_instances_free(&i, 1);
	assert_int_equal(events("calm", "upgrade-pending"), 1);
}

static void
test_killed_tick(void **state)
{
	struct kiln_virt *v = kiln_virt_open(&ctx, "test:///default");
	struct kiln_instance i;
	struct kiln_deployment d;
	struct kiln_guest g;
	struct kiln_domain_spec s;
	json_t *sum = NULL;
	char uuid[37], *kernel, *initrd;

	(void)state;
	/* what a tick killed between "defined" and its health check leaves: the row names the upgrade, libvirt has the new definition */
	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "win", &d), 0);
	instance("win", 0, &i);
	free(i.upgrading);
	i.upgrading = kiln_strdup("2026.08.0");
	assert_int_equal(kiln_catalog_instance_put(&ctx, cat, &i), 0);
	assert_int_equal(kiln_guest_parse(&ctx, d.guest, &g), 0);
	kernel = kiln_asprintf("%s/app/2026.08.0/vmlinuz", store);
	initrd = kiln_asprintf("%s/app/2026.08.0/initrd.img", store);
	s = (struct kiln_domain_spec){ .name = "kiln-acme-win", .type = "test", .memory_mib = 512, .cpus = 1,
				       .kernel = kernel, .initrd = initrd, .console_log = "/dev/null", .tenant = "acme",
				       .deployment = "win", .family = "app", .version = "2026.08.0" };
	assert_int_equal(kiln_virt_define(&ctx, v, &s, uuid), 0);
	assert_defined("kiln-acme-win", "2026.08.0");

	/* outside its window: the next tick puts it back on what the catalog records, and waits */
	assert_int_equal(tick("2026-06-16T12:00:00Z", &sum), 0);
	assert_int_equal(count(sum, "reconciled"), 1);
	json_decref(sum);
	assert_defined("kiln-acme-win", "2026.07.0");
	kiln_instances_free(&i, 1);
	instance("win", 0, &i);
	assert_null(i.upgrading);
	assert_string_equal(i.version, "2026.07.0");
	assert_int_equal(events("win", "reconciled"), 1);
	/* and in its window it is upgraded (the interrupted version counts as failed in that window) */
	assert_int_equal(tick("2026-06-20T02:00:00Z", &sum), 0);
	assert_int_equal(count(sum, "upgraded"), 1);
	json_decref(sum);
	assert_defined("kiln-acme-win", "2026.08.0");
	kiln_instances_free(&i, 1);
	kiln_deployments_free(&d, 1);
	kiln_guest_release(&g);
	kiln_virt_close(v);
	free(kernel);
	free(initrd);
}

static void
test_stop_start_delete(void **state)
{
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	struct kiln_deployment d;
	enum kiln_dom_state st;
	json_t *status;
	char *v;

	(void)state;
	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "web", &d), 0);
	assert_int_equal(kiln_fleet_stop(&ctx, f, &d), 0);
	v = defined_version("kiln-acme-web.1", &st);
	assert_int_equal(st, KILN_DOM_SHUTOFF);
	free(v);
	status = kiln_fleet_status(&ctx, f, &d);
	assert_string_equal(json_string_value(json_object_get(json_array_get(status, 0), "state")), "shut-off");
	assert_true(json_is_true(json_object_get(json_array_get(status, 0), "stopped")));
	json_decref(status);
	assert_int_equal(kiln_fleet_start(&ctx, f, &d), 0);
	v = defined_version("kiln-acme-web.1", &st);
	assert_int_equal(st, KILN_DOM_RUNNING);
	free(v);
	assert_int_equal(kiln_fleet_delete(&ctx, f, &d, 0), 0);
	assert_int_equal(kiln_catalog_deploy_delete(&ctx, cat, "acme", "web", set.now), 0);
	assert_null(defined_version("kiln-acme-web", NULL));
	assert_null(defined_version("kiln-acme-web.1", NULL));
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
}

static void
test_guest_text(void **state)
{
	struct kiln_guest g, back;
	char *t, *t2;

	(void)state;
	kiln_guest_init(&g);
	assert_int_equal(kiln_guest_parse(&ctx, "{\"hosts\": []}", &back), -1);
	assert_int_equal(kiln_guest_parse(&ctx, "not json", &back), -1);
	kiln_error_clear(&ctx);
	kiln_strv_push(&g.hosts, "qemu:///system");
	kiln_strv_push(&g.hosts, "qemu+ssh://h2/system");
	g.instances = 3;
	g.n_ports = 1;
	g.ports[0] = 6379;
	g.volume_bytes = 1 << 30;
	g.reboot = KILN_REBOOT_NEVER;
	t = kiln_guest_format(&g);
	assert_int_equal(kiln_guest_parse(&ctx, t, &back), 0);
	t2 = kiln_guest_format(&back);
	assert_string_equal(t, t2);
	assert_int_equal(back.hosts.n, 2);
	assert_int_equal(back.reboot, KILN_REBOOT_NEVER);
	free(t);
	free(t2);
	kiln_guest_release(&g);
	kiln_guest_release(&back);
	t = kiln_fleet_domain_name("acme", "web", 0);
	assert_string_equal(t, "kiln-acme-web");
	free(t);
	t = kiln_fleet_domain_name("acme", "web", 2);
	assert_string_equal(t, "kiln-acme-web.2");
	free(t);
}

static json_t *
snapshots_of(const char *name)
{
	struct kiln_fleet *f = kiln_fleet_new(cat, store, &ops);
	struct kiln_deployment d;
	json_t *st, *out;

	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", name, &d), 0);
	st = kiln_fleet_status(&ctx, f, &d);
	out = json_incref(json_object_get(json_array_get(st, 0), "snapshots"));
	json_decref(st);
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
	return out;
}

static void
test_volume_snapshots(void **state)
{
	char *dir = kiln_asprintf("%s/deployments/acme/vol", store), *vol = kiln_asprintf("%s/data.0.qcow2", dir);
	struct kiln_fleet *f;
	struct kiln_deployment d;
	json_t *sum = NULL, *snaps;
	FILE *fp;

	(void)state;
	/* a volume 'deploy delete' kept is taken up as it is (libguestfs makes new ones: qemu-check tests that) */
	assert_int_equal(kiln_mkdir_p(&ctx, dir, 0711), 0);
	fp = fopen(vol, "w");
	fputs("kept", fp);
	fclose(fp);
	set.now = day("2026-06-21");
	volume_bytes = 64 << 20;
	assert_int_equal(create("vol", 1, 1, NULL, KILN_REBOOT_IF_REQUIRED), 0);
	volume_bytes = 0;
	snaps = snapshots_of("vol");
	assert_int_equal(json_array_size(snaps), 0);
	json_decref(snaps);

	/* a failed upgrade: snapshot before, reverted after */
	probe.bad[0] = "2026.09.0";
	release("2026.09.0", "2026-06-22");
	assert_int_equal(tick("2026-06-23", &sum), -1);
	assert_int_equal(count(sum, "failed"), 1);
	json_decref(sum);
	assert_defined("kiln-acme-vol", "2026.08.0");
	snaps = snapshots_of("vol");
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(strstr(json_string_value(json_array_get(snaps, 0)), "-2026.08.0"));
	json_decref(snaps);
	assert_int_equal(events("vol", "upgrade-failed"), 1);
	probe.bad[0] = NULL;

	/* upgrades keep the newest three snapshots */
	release("2026.10.0", "2026-06-24");
	assert_int_equal(tick("2026-06-25", &sum), 0);
	json_decref(sum);
	release("2026.11.0", "2026-06-26");
	assert_int_equal(tick("2026-06-27", &sum), 0);
	json_decref(sum);
	release("2026.12.0", "2026-06-28");
	assert_int_equal(tick("2026-06-29", &sum), 0);
	json_decref(sum);
	assert_defined("kiln-acme-vol", "2026.12.0");
	snaps = snapshots_of("vol");
	assert_int_equal(json_array_size(snaps), 3);
	/* four taken (the failed upgrade off 2026.08.0, then off 08, 10 and 11), the oldest pruned */
	assert_non_null(strstr(json_string_value(json_array_get(snaps, 0)), "-2026.08.0"));
	assert_non_null(strstr(json_string_value(json_array_get(snaps, 2)), "-2026.11.0"));
	json_decref(snaps);

	/* restore by hand: the volume back, the version of now kept */
	snaps = snapshots_of("vol");
	f = kiln_fleet_new(cat, store, &ops);
	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "vol", &d), 0);
	assert_int_equal(kiln_fleet_restore(&ctx, f, &d, 0, json_string_value(json_array_get(snaps, 1))), 0);
	assert_defined("kiln-acme-vol", "2026.12.0");
	assert_int_equal(events("vol", "restored"), 1);
	assert_int_equal(kiln_fleet_restore(&ctx, f, &d, 0, "kiln-0000000000-none"), -1);
	assert_non_null(strstr(ctx.msg, "has no snapshot"));
	kiln_error_clear(&ctx);
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
	json_decref(snaps);
	free(dir);
	free(vol);
}

static void
test_parallel(void **state)
{
	json_t *sum = NULL;
	char name[16];

	(void)state;
	/* five deployments at once, one of them four instances two at a time; a bad version among them */
	set.now = day("2026-06-30");
	for (int k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "par%d", k);
		assert_int_equal(create(name, 1, 1, NULL, KILN_REBOOT_IF_REQUIRED), 0);
	}
	max_unavailable = 2;
	assert_int_equal(create("wide", 1, 4, NULL, KILN_REBOOT_IF_REQUIRED), 0);
	max_unavailable = 1;
	release("2027.01.0", "2026-07-01");
	tick_parallel = 4;
	probe.calls = 0;
	assert_int_equal(tick("2026-07-02", &sum), 0);
	tick_parallel = 1;
	/* par0..3, wide's four, and vol (auto); calm (never) is staged */
	assert_int_equal(count(sum, "upgraded"), 9);
	assert_int_equal(count(sum, "failed"), 0);
	json_decref(sum);
	for (int k = 0; k < 4; k++) {
		char *dom = kiln_fleet_domain_name("acme", "wide", k);

		assert_defined(dom, "2027.01.0");
		free(dom);
	}
	assert_defined("kiln-acme-par3", "2027.01.0");

	/* a failure in wide's first batch of two stops its walk: the other two stay */
	probe.bad[0] = "2027.02.0";
	release("2027.02.0", "2026-07-03");
	tick_parallel = 4;
	assert_int_equal(tick("2026-07-04", &sum), -1);
	tick_parallel = 1;
	probe.bad[0] = NULL;
	json_decref(sum);
	assert_defined("kiln-acme-wide.2", "2027.01.0");
	assert_defined("kiln-acme-wide.3", "2027.01.0");
	assert_defined("kiln-acme-wide", "2027.01.0");
}

static void
test_unreachable(void **state)
{
	struct kiln_guest g;
	struct kiln_deploy_req r = { .tenant = "acme", .name = "far", .family = "app", .auto_update = 1 };
	struct kiln_deployment d = { 0 };
	struct kiln_instance i = { .tenant = "acme", .name = "far", .host = "qemu+tcp://127.0.0.1:1/system",
				   .domain = "kiln-acme-far", .version = "2027.01.0" };
	json_t *sum = NULL;
	char *text;

	(void)state;
	/* a deployment on a host that cannot be reached (as a catalog would hold it after the host went away) */
	kiln_guest_init(&g);
	kiln_strv_push(&g.hosts, i.host);
	r.guest = text = kiln_guest_format(&g);
	set.now = day("2026-07-05");
	assert_int_equal(kiln_catalog_deploy_create(&ctx, cat, &r, set.now, &d), 0);
	assert_int_equal(kiln_catalog_instance_put(&ctx, cat, &i), 0);
	release("2027.03.0", "2026-07-05");
	assert_int_equal(tick("2026-07-06", &sum), -1);
	/* exit 1 naming the host; the rest of the fleet moved all the same */
	assert_int_equal(ctx.code, KILN_EXIT_FAILED);
	assert_non_null(strstr(ctx.msg, "qemu+tcp://127.0.0.1:1/system"));
	assert_int_equal(count(sum, "unreachable"), 1);
	assert_true(count(sum, "upgraded") >= 4);
	json_decref(sum);
	assert_int_equal(events("far", "host-unreachable"), 1);
	assert_defined("kiln-acme-par0", "2027.03.0");
	kiln_deployments_free(&d, 1);
	kiln_guest_release(&g);
	free(text);
}

/* The inactive XML of domain @name (a new string). */
static char *
domain_xml(const char *name)
{
	virDomainPtr dom = virDomainLookupByName(keep, name);
	char *xml;

	assert_non_null(dom);
	xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
	virDomainFree(dom);
	assert_non_null(xml);
	return xml;
}

static void
test_disk_boot(void **state)
{
	struct kiln_fleet *f;
	struct kiln_deployment d;
	json_t *sum = NULL;
	char *xml, *path, *saved, *cmd;
	struct stat st;

	(void)state;
	/* the unreachable host's record would fail every tick from here on */
	assert_int_equal(kiln_catalog_deploy_delete(&ctx, cat, "acme", "far", set.now), 0);
	release("2030.01.0", "2030-01-05");
	set.now = day("2030-01-06");
	boot_disk = 1;
	volume_bytes = 0;

	/* a version without disk.qcow2 cannot boot from one: refused, nothing defined */
	path = kiln_asprintf("%s/app/2030.01.0/disk.qcow2", store);
	saved = kiln_asprintf("%s.saved", path);
	assert_int_equal(rename(path, saved), 0);
	assert_int_equal(create("uefi", 1, 1, NULL, KILN_REBOOT_IF_REQUIRED), -1);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	assert_non_null(strstr(ctx.msg, "app/2030.01.0 has no disk.qcow2"));
	assert_null(defined_version("kiln-acme-uefi", NULL));
	assert_int_equal(rename(saved, path), 0);

	if (create("uefi", 1, 1, NULL, KILN_REBOOT_IF_REQUIRED) < 0)
		fail_msg("%s", ctx.msg);
	xml = domain_xml("kiln-acme-uefi");
	assert_non_null(strstr(xml, "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"));
	assert_non_null(strstr(xml, "template='/usr/share/OVMF/OVMF_VARS_4M.fd'"));
	assert_non_null(strstr(xml, "/deployments/acme/uefi/boot.0.2030.01.0.qcow2'/>"));
	assert_non_null(strstr(xml, "<entry>kiln.ip:192.168.122."));	/* the address, with the command line signed */
	assert_null(strstr(xml, "<kernel>"));
	free(xml);
	/* the instance's overlay is backed by the store's disk, which it never writes */
	cmd = kiln_asprintf("qemu-img info -U --output=json '%s/deployments/acme/uefi/boot.0.2030.01.0.qcow2' | grep -q '\"backing-filename\": \"%s\"'",
			    store, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);

	/* an upgrade boots the new version's disk through an overlay of its own; the old one stays for a rollback */
	release("2030.02.0", "2030-02-05");
	assert_int_equal(tick("2030-02-06", &sum), 0);
	json_decref(sum);
	assert_defined("kiln-acme-uefi", "2030.02.0");
	xml = domain_xml("kiln-acme-uefi");
	assert_non_null(strstr(xml, "boot.0.2030.02.0.qcow2'/>"));
	free(xml);
	free(path);
	path = kiln_asprintf("%s/deployments/acme/uefi/boot.0.2030.01.0.qcow2", store);
	assert_int_equal(stat(path, &st), 0);

	/* delete: the domain, its UEFI variables and its overlays go */
	f = kiln_fleet_new(cat, store, &ops);
	assert_int_equal(kiln_catalog_deployment(&ctx, cat, "acme", "uefi", &d), 0);
	if (kiln_fleet_delete(&ctx, f, &d, 0) < 0)
		fail_msg("%s", ctx.msg);
	assert_null(defined_version("kiln-acme-uefi", NULL));
	assert_int_equal(stat(path, &st), -1);
	kiln_deployments_free(&d, 1);
	kiln_fleet_free(f);
	free(path);
	free(saved);
	boot_disk = 0;
}

int
main(void)
{
	/* in order: each builds on the catalog and the domains the one before left */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_text),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_policy_health_timeout),
		cmocka_unit_test(test_update_config),
		cmocka_unit_test(test_forced_upgrade),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_start_fails),
		cmocka_unit_test(test_define_fails),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_reboot_never),
		cmocka_unit_test(test_killed_tick),
		cmocka_unit_test(test_stop_start_delete),
		cmocka_unit_test(test_volume_snapshots),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_disk_boot),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
