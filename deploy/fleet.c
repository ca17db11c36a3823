/* fleet.c - deployments as libvirt domains, and the executor that upgrades them. */
#define _GNU_SOURCE
#include "fleet.h"
#include "disk.h"
#include "virt.h"
#include "qemu.h"
#include "volume.h"
#include "render.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a deployment's guest configuration ---- */

void
kiln_guest_init(struct kiln_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->instances = 1;
	g->memory_mib = 512;
	g->cpus = 1;
	g->max_unavailable = 1;
	g->health_timeout = 0;	/* the family's policy */
	g->reboot = KILN_REBOOT_IF_REQUIRED;
}

void
kiln_guest_release(struct kiln_guest *g)
{
	kiln_strv_release(&g->hosts);
	free(g->network);
	g->network = NULL;
}

const char *
kiln_reboot_name(enum kiln_reboot r)
{
	return r == KILN_REBOOT_ALWAYS ? "always" : r == KILN_REBOOT_NEVER ? "never" : "if-required";
}

int
kiln_reboot_parse(const char *s, enum kiln_reboot *ret)
{
	if (!strcmp(s, "if-required"))
		*ret = KILN_REBOOT_IF_REQUIRED;
	else if (!strcmp(s, "always"))
		*ret = KILN_REBOOT_ALWAYS;
	else if (!strcmp(s, "never"))
		*ret = KILN_REBOOT_NEVER;
	else
		return -1;
	return 0;
}

char *
kiln_guest_format(const struct kiln_guest *g)
{
	json_t *hosts = json_array(), *ports = json_array(), *j;
	char window[64] = "";
	char *out;

	for (size_t i = 0; i < g->hosts.n; i++)
		json_array_append_new(hosts, json_string(g->hosts.v[i]));
	for (int i = 0; i < g->n_ports; i++)
		json_array_append_new(ports, json_integer(g->ports[i]));
	if (g->has_window)
		kiln_window_format(&g->window, window, sizeof(window));
	j = json_pack("{s:o, s:i, s:i, s:i, s:i, s:I, s:o, s:o, s:s, s:i, s:o}", "hosts", hosts, "instances", g->instances,
		      "memory_mib", g->memory_mib, "cpus", g->cpus, "max_unavailable", g->max_unavailable, "volume_bytes",
		      (json_int_t)g->volume_bytes, "ports", ports, "window", g->has_window ? json_string(window) : json_null(),
		      "reboot", kiln_reboot_name(g->reboot), "health_timeout", g->health_timeout, "network",
		      g->network ? json_string(g->network) : json_null());
	if (g->boot_disk)	/* absent: the kernel, as every guest before disks */
		json_object_set_new(j, "boot", json_string("disk"));
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

int
kiln_guest_parse(struct kiln_ctx *ctx, const char *text, struct kiln_guest *g)
{
	json_t *j = json_loads(text, 0, NULL), *v;
	const char *why = NULL;
	json_int_t volume = 0;
	size_t i;

	kiln_guest_init(g);
	if (!json_is_object(j) ||
	    json_unpack(j, "{s?i, s?i, s?i, s?i, s?I, s?i}", "instances", &g->instances, "memory_mib", &g->memory_mib, "cpus",
			&g->cpus, "max_unavailable", &g->max_unavailable, "volume_bytes", &volume, "health_timeout",
			&g->health_timeout) < 0)
		why = "not a guest object";
	json_array_foreach(json_object_get(j, "hosts"), i, v)
		if (json_is_string(v))
			kiln_strv_push(&g->hosts, json_string_value(v));
	json_array_foreach(json_object_get(j, "ports"), i, v)
		if (json_is_integer(v) && g->n_ports < KILN_FLEET_MAX_PORTS)
			g->ports[g->n_ports++] = (int)json_integer_value(v);
	v = json_object_get(j, "window");
	if (!why && json_is_string(v)) {
		const char *bad;

		g->has_window = 1;
		if (kiln_window_parse(json_string_value(v), &g->window, &bad) < 0)
			why = bad;
	}
	v = json_object_get(j, "reboot");
	if (!why && json_is_string(v) && kiln_reboot_parse(json_string_value(v), &g->reboot) < 0)
		why = "bad reboot policy";
	v = json_object_get(j, "network");
	if (json_is_string(v))
		g->network = kiln_strdup(json_string_value(v));
	v = json_object_get(j, "boot");
	if (!why && v && !(json_is_string(v) && (!strcmp(json_string_value(v), "disk") || !strcmp(json_string_value(v), "kernel"))))
		why = "bad boot";
	g->boot_disk = json_is_string(v) && !strcmp(json_string_value(v), "disk");
	g->volume_bytes = volume > 0 ? (uint64_t)volume : 0;
	if (!why && (!g->hosts.n || g->instances < 1 || g->instances > KILN_FLEET_MAX_INSTANCES || g->memory_mib < 64 ||
		     g->cpus < 1 || g->max_unavailable < 1 || g->health_timeout < 0))
		why = "a field is out of range";
	json_decref(j);
	if (why) {
		kiln_guest_release(g);
		return kiln_error(ctx, KILN_EXIT_FAILED, "catalog: a deployment's guest record: %s", why);
	}
	return 0;
}

char *
kiln_fleet_domain_name(const char *tenant, const char *name, int idx)
{
	return idx ? kiln_asprintf("kiln-%s-%s.%d", tenant, name, idx) : kiln_asprintf("kiln-%s-%s", tenant, name);
}

/* ---- the fleet: hosts, specs ---- */

struct host {
	char *uri;
	struct kiln_virt *v;
	int failed;		/* could not be reached: its error, once */
	char why[1024];
};

struct kiln_fleet {
	struct kiln_catalog *cat;
	char *store;		/* absolute: libvirt reads the images by path */
	struct kiln_fleet_ops ops;
	struct host *hosts;
	size_t n_hosts;
	int own_txn;		/* the executor commits each step itself (kiln tick) */
	int parallel;		/* deployments the executor works on at once */
	/* the catalog (one SQLite connection) and the host table are used by one thread at a time */
	pthread_mutex_t lock;
};

static void
lock(struct kiln_fleet *f)
{
	pthread_mutex_lock(&f->lock);
}

static void
unlock(struct kiln_fleet *f)
{
	pthread_mutex_unlock(&f->lock);
}

void
kiln_fleet_set_parallel(struct kiln_fleet *f, int n)
{
	f->parallel = n < 1 ? 1 : n;
}

struct kiln_fleet *
kiln_fleet_new(struct kiln_catalog *cat, const char *store, const struct kiln_fleet_ops *ops)
{
	struct kiln_fleet *f = kiln_calloc(1, sizeof(*f));
	char *abs = realpath(store, NULL);

	f->cat = cat;
	f->store = abs ? abs : kiln_strdup(store);
	f->parallel = KILN_FLEET_PARALLEL;
	pthread_mutex_init(&f->lock, NULL);
	if (ops)
		f->ops = *ops;
	if (!f->ops.health)
		f->ops.health = kiln_fleet_health_probe;
	return f;
}

void
kiln_fleet_free(struct kiln_fleet *f)
{
	for (size_t i = 0; i < f->n_hosts; i++) {
		if (f->hosts[i].v)
			kiln_virt_close(f->hosts[i].v);
		free(f->hosts[i].uri);
	}
	free(f->hosts);
	free(f->store);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* The connection to @uri, opened once; an unreachable host is remembered (exit 5 naming it). */
static struct kiln_virt *host_get_locked(struct kiln_ctx *ctx, struct kiln_fleet *f, const char *uri);

static struct kiln_virt *
host_get(struct kiln_ctx *ctx, struct kiln_fleet *f, const char *uri)
{
	struct kiln_virt *v;

	lock(f);
	v = host_get_locked(ctx, f, uri);
	unlock(f);
	return v;
}

static struct kiln_virt *
host_get_locked(struct kiln_ctx *ctx, struct kiln_fleet *f, const char *uri)
{
	struct host *h = NULL;

	for (size_t i = 0; i < f->n_hosts; i++)
		if (!strcmp(f->hosts[i].uri, uri))
			h = &f->hosts[i];
	if (!h) {
		struct kiln_ctx sub;

		f->hosts = kiln_realloc(f->hosts, (f->n_hosts + 1) * sizeof(*f->hosts));
		h = &f->hosts[f->n_hosts++];
		memset(h, 0, sizeof(*h));
		h->uri = kiln_strdup(uri);
		kiln_ctx_sub(&sub, ctx);
		h->v = kiln_virt_open(&sub, uri);
		if (!h->v) {
			h->failed = 1;
			snprintf(h->why, sizeof(h->why), "%s", sub.msg);
		}
	}
	if (h->failed) {
		kiln_error(ctx, KILN_EXIT_FETCH, "%s", h->why);
		return NULL;
	}
	return h->v;
}

static void
step(struct kiln_fleet *f, const char *what)
{
	const char *kill_at = getenv("KILN_TEST_KILL_AT");

	if (f->ops.step)
		f->ops.step(f->ops.data, what);
	/* tests: a tick killed at this step of an upgrade (qemu-check, against a real libvirtd) */
	if (kill_at && !strcmp(kill_at, what))
		raise(SIGKILL);
}

/* Everything a domain definition points at, owned. */
struct inst_spec {
	struct kiln_domain_spec s;
	char *name, *dir, *kernel, *initrd, *cmdline, *console, *volume;
	char *boot_disk, *nvram, *ip;	/* a disk-booted guest's overlay and UEFI variables; its kiln.ip */
	char *address;		/* the guest's IPv4 address, for the health probe */
	struct kiln_strv env;
};

static void
inst_spec_release(struct inst_spec *is)
{
	free(is->name);
	free(is->dir);
	free(is->kernel);
	free(is->initrd);
	free(is->cmdline);
	free(is->console);
	free(is->volume);
	free(is->boot_disk);
	free(is->nvram);
	free(is->ip);
	free(is->address);
	kiln_strv_release(&is->env);
}

static char *
deployment_dir(const struct kiln_fleet *f, const char *tenant, const char *name)
{
	return kiln_asprintf("%s/deployments/%s/%s", f->store, tenant, name);
}

/*
 * The domain of instance @idx of @d on @version with @d's configuration;
 * @ip, when not NULL, its address on the network as kiln-init takes it
 * ("ADDR/PREFIX,GATEWAY", the kernel's kiln.ip=).
 */
static int
inst_spec_make(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g,
	       int idx, const char *host, const char *version, const char *ip, struct inst_spec *is)
{
	_cleanup_free_ char *ddir = deployment_dir(f, d->tenant, d->name), *image = NULL;
	json_t *config;
	const char *k;
	json_t *v;
	struct stat st;

	memset(is, 0, sizeof(*is));
	is->dir = kiln_asprintf("%s/%s/%s", f->store, d->family, version);
	is->kernel = kiln_asprintf("%s/vmlinuz", is->dir);
	is->initrd = kiln_asprintf("%s/initrd.img", is->dir);
	if (stat(is->kernel, &st) < 0 || stat(is->initrd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "%s/%s is not in the store '%s' (no vmlinuz or initrd.img)",
				  d->family, version, f->store);
	/* 0711: QEMU (libvirt's user, not root) must reach the volume by its path; the consoles are libvirtd's, 0600 */
	if (kiln_image_cmdline(ctx, is->dir, &image) < 0 || kiln_mkdir_p(ctx, ddir, 0711) < 0)
		return -1;
	is->cmdline = ip ? kiln_asprintf("%s panic=-1 kiln.ip=%s", image, ip) : kiln_asprintf("%s panic=-1", image);
	if (g->boot_disk) {
		/* the store's disk never changes: each instance boots an overlay of its own (only UEFI writes to it) */
		_cleanup_free_ char *base = kiln_asprintf("%s/disk.qcow2", is->dir);

		if (stat(base, &st) < 0)
			return kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s has no disk.qcow2 to boot (its recipe's [Output] Formats= needs qcow2)",
					  d->family, version);
		is->boot_disk = kiln_asprintf("%s/boot.%d.%s.qcow2", ddir, idx, version);
		is->nvram = kiln_asprintf("%s/nvram.%d.fd", ddir, idx);
		if (stat(is->boot_disk, &st) < 0 && kiln_disk_overlay(ctx, base, is->boot_disk) < 0)
			return -1;
		is->ip = ip ? kiln_strdup(ip) : NULL;
	}
	if (ip)
		is->address = kiln_strndup(ip, strcspn(ip, "/"));
	is->name = kiln_fleet_domain_name(d->tenant, d->name, idx);
	is->console = kiln_asprintf("%s/console.%d.log", ddir, idx);
	if (g->volume_bytes)
		is->volume = kiln_asprintf("%s/data.%d.qcow2", ddir, idx);
	config = json_loads(d->config ? d->config : "{}", 0, NULL);
	json_object_foreach(config, k, v)
		if (json_is_string(v))
			kiln_strv_push_take(&is->env, kiln_asprintf("%s=%s", k, json_string_value(v)));
	json_decref(config);
	is->s = (struct kiln_domain_spec){
		.name = is->name,
		.type = !strncmp(host, "test:", 5) ? "test" : "qemu",
		.memory_mib = (unsigned)g->memory_mib,
		.cpus = (unsigned)g->cpus,
		.kernel = is->kernel,
		.initrd = is->initrd,
		.cmdline = is->cmdline,
		.boot_disk = is->boot_disk,
		.nvram = is->nvram,
		.ip = is->ip,
		.console_log = is->console,
		.volume = is->volume,
		.network = g->network,
		.env = (const char *const *)is->env.v,
		.n_env = is->env.n,
		.tenant = d->tenant,
		.deployment = d->name,
		.family = d->family,
		.version = version,
		.instance = (unsigned)idx,
	};
	return 0;
}

/*
 * Defines instance @is on @v, refusing a domain of that name that is some
 * other deployment's (names can collide: kiln-a-b-c is tenant a's b-c and
 * tenant a-b's c).
 */
static int
define(struct kiln_ctx *ctx, struct kiln_virt *v, const struct inst_spec *is, char uuid[37])
{
	struct kiln_dom_info info;
	int other;

	if (kiln_virt_lookup(ctx, v, is->name, &info) < 0)
		return -1;
	other = info.ours && (strcmp(info.meta.tenant, is->s.tenant) || strcmp(info.meta.deployment, is->s.deployment) ||
			      info.meta.instance != is->s.instance);
	kiln_dom_info_release(&info);
	if (other)
		return kiln_error(ctx, KILN_EXIT_REFUSED, "domain '%s' belongs to another deployment: left alone", is->name);
	return kiln_virt_define(ctx, v, &is->s, uuid);
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The last @lines lines of @path after @from, for an event (a new string). */
static char *
console_tail(const char *path, long from, int lines)
{
	struct kiln_ctx sub;
	char *data = NULL, *out;
	size_t len = 0;
	const char *p;
	int n = 0;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, path, 64 << 20, &data, &len) < 0)
		return kiln_strdup("(no console output)");
	p = data + (from >= 0 && (size_t)from <= len ? (size_t)from : 0);
	for (const char *q = data + len; q > p; q--)
		if (q[-1] == '\n' && q != data + len && ++n == lines) {
			p = q;
			break;
		}
	out = kiln_strndup(p, (size_t)(data + len - p));
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\n')
			*c = ' ';
	free(data);
	return out;
}

/* Stops, then starts @is; the console's size before the start goes to *@ret_from. */
static int
restart(struct kiln_ctx *ctx, struct kiln_fleet *f, struct kiln_virt *v, const struct inst_spec *is, long *ret_from)
{
	if (kiln_virt_stop(ctx, v, is->name) < 0)
		return -1;
	*ret_from = file_size(is->console);
	step(f, "stopped");
	return kiln_virt_start(ctx, v, is->name);
}

/* The seconds a started guest of @d has: the deployment's own, else its family's policy. */
static int
health_timeout(struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g)
{
	struct kiln_policy p;
	struct kiln_ctx sub;

	if (g->health_timeout > 0)
		return g->health_timeout;
	kiln_ctx_init(&sub);
	lock(f);
	if (kiln_catalog_policy(&sub, f->cat, d->family, &p) < 0)
		kiln_policy_default(&p);
	unlock(f);
	return p.health_timeout_s > 0 ? p.health_timeout_s : 180;
}

static int
healthy(struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g, const struct inst_spec *is,
	const char *version, long from, char **ret_why)
{
	struct kiln_health_req r = {
		.domain = is->name, .console = is->console, .family = d->family, .version = version,
		.console_from = from, .ports = g->ports, .n_ports = g->n_ports, .timeout = health_timeout(f, d, g),
		.address = is->address,
	};

	*ret_why = NULL;
	return f->ops.health(f->ops.data, &r, ret_why);
}

/* healthy(), or an error naming the domain with why and the console's last lines. */
static int
require_healthy(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g,
		const struct inst_spec *is, const char *version, long from)
{
	char *why = NULL;
	int rc = 0;

	if (!healthy(f, d, g, is, version, from, &why)) {
		_cleanup_free_ char *tail = console_tail(is->console, from, 8);

		rc = kiln_error(ctx, KILN_EXIT_FAILED, "%s did not become healthy on %s: %s; console:\n%s", is->name,
				version, why ? why : "no reason given", tail);
	}
	free(why);
	return rc;
}

/* ---- catalog steps ---- */

static int
txn_begin(struct kiln_ctx *ctx, struct kiln_fleet *f)
{
	return f->own_txn ? kiln_catalog_begin(ctx, f->cat) : 0;
}

static int
txn_end(struct kiln_ctx *ctx, struct kiln_fleet *f, int rc)
{
	if (!f->own_txn)
		return rc;
	if (rc < 0) {
		kiln_catalog_rollback(f->cat);
		return -1;
	}
	if (kiln_catalog_commit(ctx, f->cat) < 0) {
		kiln_catalog_rollback(f->cat);
		return -1;
	}
	return 0;
}

static int
event(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, const char *kind, const struct kiln_deployment *d,
      const char *version, const char *from, const char *to, const char *reason)
{
	struct kiln_event e = {
		.at = now, .kind = (char *)kind, .tenant = d->tenant, .deployment = d->name, .family = d->family,
		.version = (char *)version, .from = (char *)from, .to = (char *)to, .reason = (char *)reason,
	};

	return kiln_catalog_event(ctx, f->cat, &e);
}

/* Records @i, and @kind's event when not NULL, in one step. */
static int
record(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, const struct kiln_instance *i,
       const struct kiln_deployment *d, const char *kind, const char *from, const char *to, const char *reason)
{
	int rc;

	lock(f);
	if (txn_begin(ctx, f) < 0) {
		unlock(f);
		return -1;
	}
	rc = kiln_catalog_instance_put(ctx, f->cat, i);
	if (rc == 0 && kind)
		rc = event(ctx, f, now, kind, d, to ? to : from, from, to, reason);
	rc = txn_end(ctx, f, rc);
	unlock(f);
	return rc;
}

static void
set_str(char **p, const char *s)
{
	free(*p);
	*p = s ? kiln_strdup(s) : NULL;
}

/* ---- create, stop, start, delete ---- */

static int
guest_of(struct kiln_ctx *ctx, const struct kiln_deployment *d, struct kiln_guest *g)
{
	if (!d->guest)
		return kiln_error(ctx, KILN_EXIT_USAGE, "deployment '%s' of tenant '%s' is a record only (no guest)",
				  d->name, d->tenant);
	return kiln_guest_parse(ctx, d->guest, g);
}

/*
 * An address for a new guest on @network of @host, as "ADDR/PREFIX,GATEWAY"
 * into @ret (64 bytes): the lowest from the tenth of the network up that no
 * instance holds on any host (two URIs may name one machine, whose network
 * they then share); the host's own is the gateway.
 */
static int
allocate_ip(struct kiln_ctx *ctx, struct kiln_fleet *f, struct kiln_virt *v, const char *host, const char *network,
	    char ret[64])
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv used = { 0 };
	struct in_addr gw;
	char addr[16];
	int prefix;
	uint32_t base, size;

	if (kiln_virt_network(ctx, v, network, addr, &prefix) < 0 ||
	    kiln_catalog_host_addresses(ctx, f->cat, NULL, &used) < 0)
		return -1;
	inet_pton(AF_INET, addr, &gw);
	size = 1u << (32 - prefix);
	base = ntohl(gw.s_addr) & ~(size - 1);
	for (uint32_t h = 10; h < size - 1; h++) {
		struct in_addr a = { .s_addr = htonl(base + h) };
		char text[16], *p;
		int taken = a.s_addr == gw.s_addr;

		inet_ntop(AF_INET, &a, text, sizeof(text));
		snprintf(ret, 64, "%s/%d,%s", text, prefix, addr);
		for (size_t k = 0; k < used.n && !taken; k++) {
			p = used.v[k];
			taken = !strncmp(p, text, strlen(text)) && p[strlen(text)] == '/';
		}
		if (!taken)
			return 0;
	}
	return kiln_error(ctx, KILN_EXIT_FAILED, "libvirt network '%s' on '%s' has no free address left", network, host);
}

/* @i's host (*@ret_v) and what libvirt says of its domain (*@ret): 0, or -1 with the error (exit 5: host unreachable). */
static int
look_up(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_instance *i, struct kiln_virt **ret_v,
	struct kiln_dom_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	*ret_v = host_get(ctx, f, i->host);
	return *ret_v ? kiln_virt_lookup(ctx, *ret_v, i->domain, ret) : -1;
}

/* Is @uri a host of this machine ("qemu:///system", "test:///default"), not "qemu+ssh://other/system"? */
static int
host_is_local(const char *uri)
{
	const char *p = strstr(uri, "://");

	return p && p[3] == '/';
}

/* Removes what kiln_fleet_create() made of instances [0, @n). */
static void
undo_create(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g, int n)
{
	for (int idx = 0; idx < n; idx++) {
		_cleanup_free_ char *name = kiln_fleet_domain_name(d->tenant, d->name, idx);
		struct kiln_virt *v;
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		v = host_get(&sub, f, g->hosts.v[idx % g->hosts.n]);
		if (v)
			kiln_virt_undefine(&sub, v, name);
	}
}

int
kiln_fleet_create(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d)
{
	struct kiln_strv made = { 0 };	/* volumes made here: removed on failure */
	struct kiln_guest g;
	time_t now = ctx->set->now;
	int idx, rc = 0;

	if (guest_of(ctx, d, &g) < 0)
		return -1;
	for (idx = 0; idx < g.instances && rc == 0; idx++) {
		const char *host = g.hosts.v[idx % g.hosts.n];
		_cleanup_free_ char *name = kiln_fleet_domain_name(d->tenant, d->name, idx);
		struct kiln_instance probe = { .host = (char *)host, .domain = name };
		struct kiln_virt *v;
		struct inst_spec is;
		char uuid[37] = "", ip[64];
		long from = 0;
		struct kiln_dom_info info;

		if (look_up(ctx, f, &probe, &v, &info) < 0) {
			rc = -1;
			break;
		}
		/* a domain of that name, kiln's or not, is not ours to take: create refuses */
		if (info.state != KILN_DOM_MISSING)
			rc = kiln_error(ctx, KILN_EXIT_REFUSED, "domain '%s' exists on '%s'%s: left alone", name, host,
					info.ours ? " (a deployment kiln lost track of: 'virsh undefine' it first)" : "");
		kiln_dom_info_release(&info);
		if (rc < 0)
			break;
		if (g.network && allocate_ip(ctx, f, v, host, g.network, ip) < 0) {
			rc = -1;
			break;
		}
		if (inst_spec_make(ctx, f, d, &g, idx, host, d->version, g.network ? ip : NULL, &is) < 0) {
			inst_spec_release(&is);
			rc = -1;
			break;
		}
		if (is.volume && access(is.volume, F_OK) != 0) {
			/* a volume kept by 'deploy delete' (without --purge) is taken up again as it is */
			if (!host_is_local(host))
				rc = kiln_error(ctx, KILN_EXIT_USAGE, "--volume needs a local host: '%s' is remote", host);
			else if ((rc = kiln_volume_create(ctx, is.volume, g.volume_bytes)) == 0)
				kiln_strv_push(&made, is.volume);
		}
		if (rc == 0)
			rc = define(ctx, v, &is, uuid);
		if (rc == 0)
			step(f, "defined");
		if (rc == 0)
			rc = restart(ctx, f, v, &is, &from);
		if (rc == 0)
			rc = require_healthy(ctx, f, d, &g, &is, d->version, from);
		if (rc == 0) {
			struct kiln_instance i = {
				.tenant = d->tenant, .name = d->name, .idx = idx, .host = (char *)host, .domain = is.name,
				.uuid = uuid, .version = d->version, .updated = now, .address = g.network ? ip : NULL,
			};

			rc = kiln_catalog_instance_put(ctx, f->cat, &i);
		}
		inst_spec_release(&is);
	}
	if (rc < 0) {
		undo_create(ctx, f, d, &g, idx);
		for (size_t k = 0; k < made.n; k++)
			unlink(made.v[k]);
	}
	kiln_strv_release(&made);
	kiln_guest_release(&g);
	return rc;
}

static int
instances_of(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, struct kiln_instance **ret,
	     size_t *ret_n)
{
	int rc;

	lock(f);
	rc = kiln_catalog_instances(ctx, f->cat, d->tenant, d->name, ret, ret_n);
	unlock(f);
	return rc;
}

/* deploy stop / start: each instance, recorded as stopped or not. */
static int
stop_start(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, int stop)
{
	struct kiln_instance *in = NULL;
	struct kiln_guest g;
	size_t n = 0;
	int rc = 0;

	if (guest_of(ctx, d, &g) < 0)
		return -1;
	if (instances_of(ctx, f, d, &in, &n) < 0) {
		kiln_guest_release(&g);
		return -1;
	}
	for (size_t k = 0; k < n && rc == 0; k++) {
		struct kiln_virt *v;
		struct kiln_dom_info info;

		if (look_up(ctx, f, &in[k], &v, &info) < 0) {
			rc = -1;
			break;
		}
		if (stop)
			rc = kiln_virt_stop(ctx, v, in[k].domain);
		else if (info.state != KILN_DOM_RUNNING) {
			struct inst_spec is;
			long from = 0;

			rc = inst_spec_make(ctx, f, d, &g, in[k].idx, in[k].host, in[k].version, in[k].address, &is);
			if (rc == 0) {
				from = file_size(is.console);
				rc = kiln_virt_start(ctx, v, in[k].domain);
			}
			if (rc == 0)
				rc = require_healthy(ctx, f, d, &g, &is, in[k].version, from);
			inst_spec_release(&is);
		}
		kiln_dom_info_release(&info);
		in[k].stopped = stop;
		in[k].updated = ctx->set->now;
		if (rc == 0)
			rc = kiln_catalog_instance_put(ctx, f->cat, &in[k]);
	}
	if (rc == 0)
		rc = event(ctx, f, ctx->set->now, stop ? "stopped" : "started", d, d->version, NULL, NULL, "by the operator");
	kiln_instances_free(in, n);
	free(in);
	kiln_guest_release(&g);
	return rc;
}

int
kiln_fleet_stop(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d)
{
	return stop_start(ctx, f, d, 1);
}

int
kiln_fleet_start(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d)
{
	return stop_start(ctx, f, d, 0);
}

/* A disk-booted guest's overlays (boot.IDX.VERSION.qcow2) and UEFI variables: derived, nothing of the tenant's in them. */
static void
remove_boot_disks(struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_instance *in, size_t n)
{
	_cleanup_free_ char *dir = deployment_dir(f, d->tenant, d->name);

	for (size_t k = 0; k < n; k++) {
		_cleanup_free_ char *pattern = kiln_asprintf("%s/boot.%d.*.qcow2", dir, in[k].idx);
		_cleanup_free_ char *nvram = kiln_asprintf("%s/nvram.%d.fd", dir, in[k].idx);
		glob_t gl;

		if (glob(pattern, 0, NULL, &gl) == 0) {
			for (size_t i = 0; i < gl.gl_pathc; i++)
				unlink(gl.gl_pathv[i]);
			globfree(&gl);
		}
		unlink(nvram);
	}
}

int
kiln_fleet_delete(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, int purge)
{
	struct kiln_instance *in = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d->guest)
		return 0;
	if (instances_of(ctx, f, d, &in, &n) < 0)
		return -1;
	for (size_t k = 0; k < n && rc == 0; k++) {
		struct kiln_virt *v;
		struct kiln_dom_info info;

		if (look_up(ctx, f, &in[k], &v, &info) < 0) {
			rc = -1;
			break;
		}
		if (info.state != KILN_DOM_MISSING && info.ours)
			rc = kiln_virt_undefine(ctx, v, in[k].domain);
		kiln_dom_info_release(&info);
	}
	if (rc == 0)
		remove_boot_disks(f, d, in, n);
	if (rc == 0 && purge) {
		_cleanup_free_ char *dir = deployment_dir(f, d->tenant, d->name);

		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *vol = kiln_asprintf("%s/data.%d.qcow2", dir, in[k].idx);
			_cleanup_free_ char *con = kiln_asprintf("%s/console.%d.log", dir, in[k].idx);

			if ((unlink(vol) < 0 && errno != ENOENT) || (unlink(con) < 0 && errno != ENOENT))
				rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot remove the files of '%s': %s", in[k].domain,
						strerror(errno));
		}
		if (rc == 0 && rmdir(dir) < 0 && errno != ENOENT)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot remove '%s': %s", dir, strerror(errno));
	}
	kiln_instances_free(in, n);
	free(in);
	return rc;
}

/* ---- upgrades ---- */

/* Do two versions of @family boot the same files (kernel, initramfs, command line)? */
static int
same_image(struct kiln_fleet *f, const char *family, const char *a, const char *b)
{
	json_t *m[2] = { NULL, NULL };
	const char *v[2] = { a, b };
	int same;

	for (int k = 0; k < 2; k++) {
		_cleanup_free_ char *p = kiln_asprintf("%s/%s/%s/manifest.json", f->store, family, v[k]);

		m[k] = json_load_file(p, 0, NULL);
	}
	same = m[0] && m[1] && json_equal(json_object_get(m[0], "artifacts"), json_object_get(m[1], "artifacts")) &&
	       json_equal(json_object_get(json_object_get(m[0], "kernel"), "cmdline"),
			  json_object_get(json_object_get(m[1], "kernel"), "cmdline"));
	json_decref(m[0]);
	json_decref(m[1]);
	return same;
}

enum outcome { UPGRADED, STAGED, FAILED, ERROR };

/* Keeps the newest @keep of kiln's snapshots of @name; errors are dropped (a snapshot too many is no harm). */
static void
prune_snapshots(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, size_t keep)
{
	_cleanup_(kiln_strv_releasep) struct kiln_strv snaps = { 0 };
	struct kiln_ctx sub;

	kiln_ctx_sub(&sub, ctx);
	if (kiln_virt_snapshots(&sub, v, name, &snaps) < 0)
		return;
	for (size_t k = 0; k + keep < snaps.n; k++)
		kiln_virt_snapshot_delete(&sub, v, name, snaps.v[k]);
}

/*
 * Moves instance @i of @d to @to (its configuration re-read as well). The
 * row names the upgrade first. Without a restart, the domain is only
 * redefined. With one: stopped, its volume snapshotted (the snapshot keeps
 * the old definition too), redefined, started and checked; when it is not
 * healthy, stopped, the snapshot reverted, the old definition put back and
 * started again (with @prev's configuration when not NULL: the record
 * before a change). @force: restart even when nothing the guest boots
 * changed (a configuration change).
 */
static enum outcome
upgrade(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_deployment *prev,
	const struct kiln_guest *g, struct kiln_instance *i, const char *to, int force, const char *kind,
	const char *why_move)
{
	_cleanup_free_ char *from = kiln_strdup(i->version), *snap = NULL, *reason = NULL;
	struct inst_spec is = { 0 }, old = { 0 };
	struct kiln_virt *v = host_get(ctx, f, i->host);
	time_t now = ctx->set->now;
	char uuid[37], *why = NULL;
	long con = 0;
	int restart_it, staged, ok, snapped = 0;
	enum outcome out = ERROR;

	if (!v)
		return ERROR;
	if (inst_spec_make(ctx, f, d, g, i->idx, i->host, to, i->address, &is) < 0 ||
	    inst_spec_make(ctx, f, prev ? prev : d, g, i->idx, i->host, from, i->address, &old) < 0)
		goto done;
	set_str(&i->upgrading, to);
	i->updated = now;
	if (record(ctx, f, now, i, d, NULL, NULL, NULL, NULL) < 0)
		goto done;
	step(f, "recorded");
	restart_it = !i->stopped && (force || g->reboot == KILN_REBOOT_ALWAYS ||
				     (g->reboot == KILN_REBOOT_IF_REQUIRED && !same_image(f, d->family, from, to)));
	if (!restart_it) {
		/* the definition is the new version; a running guest (if any) stays on the old one */
		staged = !i->stopped && g->reboot == KILN_REBOOT_NEVER;
		if (define(ctx, v, &is, uuid) < 0)
			goto define_failed;
		step(f, "defined");
		reason = kiln_asprintf("%s; %s", why_move, i->stopped ? "stopped: takes effect at its next start"
							   : staged ? "reboot policy never: pending until its next restart"
								    : "the same image: no restart needed");
		set_str(&i->upgrading, NULL);
		set_str(&i->version, to);
		set_str(&i->failed_version, NULL);
		i->failed_at = 0;
		out = record(ctx, f, now, i, d, staged ? "upgrade-pending" : kind, from, to, reason) == 0
			      ? (staged ? STAGED : UPGRADED) : ERROR;
		goto done;
	}
	if (kiln_virt_stop(ctx, v, is.name) < 0)
		goto define_failed;
	step(f, "stopped");
	if (g->volume_bytes) {
		_cleanup_free_ char *desc = kiln_asprintf("before the upgrade from %s to %s", from, to);

		snap = kiln_asprintf("kiln-%010lld-%s", (long long)now, from);
		if (kiln_virt_snapshot(ctx, v, is.name, snap, desc) < 0)
			goto restart_old;
		snapped = 1;
		step(f, "snapshot");
	}
	if (define(ctx, v, &is, uuid) < 0)
		goto restart_old;
	step(f, "defined");
	con = file_size(is.console);
	ok = kiln_virt_start(ctx, v, is.name) == 0;
	if (ok) {
		step(f, "started");
		ok = healthy(f, d, g, &is, to, con, &why);
	} else {
		why = kiln_strdup(ctx->msg);
		kiln_error_clear(ctx);
	}
	if (ok) {
		reason = kiln_asprintf("%s; healthy%s%s", why_move, snapped ? "; volume snapshot " : "", snapped ? snap : "");
		set_str(&i->upgrading, NULL);
		set_str(&i->version, to);
		set_str(&i->failed_version, NULL);
		i->failed_at = 0;
		out = record(ctx, f, now, i, d, kind, from, to, reason) == 0 ? UPGRADED : ERROR;
		if (snapped)
			prune_snapshots(ctx, v, is.name, KILN_FLEET_SNAPSHOTS);
		goto done;
	}
	/* not healthy: the volume and the definition as they were, restarted; the failure with the console's last lines */
	{
		_cleanup_free_ char *tail = console_tail(is.console, con, 8);
		struct kiln_ctx sub;
		long con2;
		char *why2 = NULL;

		reason = kiln_asprintf("%s: not healthy (%s); rolled back to %s%s%s; console:\n%s", to,
				       why ? why : "no reason given", from, snapped ? " and the volume to snapshot " : "",
				       snapped ? snap : "", tail);
		kiln_ctx_sub(&sub, ctx);
		if (kiln_virt_stop(&sub, v, is.name) < 0 || (snapped && kiln_virt_revert(&sub, v, is.name, snap) < 0) ||
		    define(&sub, v, &old, uuid) < 0 || (con2 = file_size(old.console), kiln_virt_start(&sub, v, old.name)) < 0)
			kiln_error(ctx, KILN_EXIT_FAILED, "%s: rollback to %s failed: %s", is.name, from, sub.msg);
		else if (!healthy(f, d, g, &old, from, con2, &why2))
			kiln_error(ctx, KILN_EXIT_FAILED, "%s: rolled back to %s, which is not healthy either: %s", is.name,
				   from, why2 ? why2 : "no reason given");
		free(why2);
		set_str(&i->upgrading, NULL);
		set_str(&i->failed_version, to);
		i->failed_at = now;
		kiln_ctx_sub(&sub, ctx);
		record(&sub, f, now, i, d, "upgrade-failed", from, to, reason);
		if (!ctx->code)
			kiln_error(ctx, KILN_EXIT_FAILED, "%s: %s", is.name, reason);
		out = FAILED;
		goto done;
	}
restart_old:
	/* stopped, not redefined: started again on what it ran */
	{
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		if (kiln_virt_start(&sub, v, old.name) < 0)
			kiln_error(ctx, KILN_EXIT_FAILED, "%s: could not be started again on %s: %s", old.name, from, sub.msg);
	}
define_failed:
	/* nothing changed in libvirt (or it was put back): the failure is the event */
	{
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		set_str(&i->upgrading, NULL);
		set_str(&i->failed_version, to);
		i->failed_at = now;
		record(&sub, f, now, i, d, "upgrade-failed", from, to, ctx->msg);
		out = FAILED;
	}
done:
	free(why);
	inst_spec_release(&is);
	inst_spec_release(&old);
	return out;
}

int
kiln_fleet_apply(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d,
		 const struct kiln_deployment *before, const char *why)
{
	struct kiln_instance *in = NULL;
	struct kiln_guest g;
	size_t n = 0, k;
	int rc = 0;

	if (!d->guest)
		return 0;
	if (guest_of(ctx, d, &g) < 0)
		return -1;
	if (instances_of(ctx, f, d, &in, &n) < 0) {
		kiln_guest_release(&g);
		return -1;
	}
	/* one instance at a time, each healthy before the next; a failure stops the walk */
	for (k = 0; k < n && rc == 0; k++)
		if (upgrade(ctx, f, d, before, &g, &in[k], d->version, 1, "updated", why) >= FAILED)
			rc = -1;
	/* and puts the ones already changed back as they were: the caller keeps the record as it was */
	for (size_t j = 0; rc < 0 && before && j + 1 < k; j++) {
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		if (upgrade(&sub, f, before, NULL, &g, &in[j], before->version, 1, "updated", "the update failed on a later instance")
		    >= FAILED)
			kiln_error(ctx, KILN_EXIT_FAILED, "%s: could not be put back: %s", in[j].domain, sub.msg);
	}
	kiln_instances_free(in, n);
	free(in);
	kiln_guest_release(&g);
	return rc;
}

/* ---- status ---- */

static int port_answers(const char *address, int port, int timeout_ms);

json_t *
kiln_fleet_status(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d)
{
	struct kiln_instance *in = NULL;
	json_t *out = json_array();
	struct kiln_guest g;
	size_t n = 0;

	if (!d->guest)
		return out;
	if (kiln_guest_parse(ctx, d->guest, &g) < 0 || instances_of(ctx, f, d, &in, &n) < 0) {
		json_decref(out);
		kiln_guest_release(&g);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		_cleanup_free_ char *addr = in[k].address ? kiln_strndup(in[k].address, strcspn(in[k].address, "/")) : NULL;
		const char *health = NULL;
		struct kiln_ctx sub;
		struct kiln_virt *v;
		struct kiln_dom_info info;
		const char *state = "unreachable", *running = NULL;
		json_t *j;

		kiln_ctx_sub(&sub, ctx);
		if (look_up(&sub, f, &in[k], &v, &info) == 0) {
			state = info.state == KILN_DOM_MISSING ? "missing" : !info.ours ? "foreign"
												: kiln_dom_state_name(info.state);
			running = info.running_version;
		}
		j = json_pack("{s:i, s:s, s:s, s:o, s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "index", in[k].idx, "host",
			      in[k].host, "domain", in[k].domain, "uuid",
			      in[k].uuid ? json_string(in[k].uuid) : json_null(), "state", state, "version", in[k].version,
			      "running_version", running ? json_string(running) : json_null(), "stopped", in[k].stopped,
			      "upgrading", in[k].upgrading ? json_string(in[k].upgrading) : json_null(), "failed_version",
			      in[k].failed_version ? json_string(in[k].failed_version) : json_null(), "error",
			      sub.code ? json_string(sub.msg) : json_null());
		/* what libvirt says against what the catalog says */
		{
			_cleanup_(kiln_strv_releasep) struct kiln_strv snaps = { 0 };
			json_t *a = json_array();
			struct kiln_ctx sub2;

			kiln_ctx_sub(&sub2, ctx);
			if (v && info.state != KILN_DOM_MISSING && info.ours && kiln_virt_snapshots(&sub2, v, in[k].domain, &snaps) == 0)
				for (size_t q = 0; q < snaps.n; q++)
					json_array_append_new(a, json_string(snaps.v[q]));
			json_object_set_new(j, "snapshots", a);
		}
		json_object_set_new(j, "address", addr ? json_string(addr) : json_null());
		/* live: a running guest whose application ports answer now (unknown with no port or address to ask) */
		if (info.state == KILN_DOM_RUNNING && info.ours) {
			health = addr && g.n_ports ? "healthy" : "unknown";
			for (int q = 0; addr && q < g.n_ports && !strcmp(health, "healthy"); q++)
				if (!port_answers(addr, g.ports[q], 300))
					health = "unhealthy";
		}
		json_object_set_new(j, "health", health ? json_string(health) : json_null());
		json_object_set_new(j, "pending", json_boolean(running && strcmp(running, in[k].version)));
		json_object_set_new(j, "drift", json_boolean(info.ours && info.meta.version &&
							     strcmp(info.meta.version, in[k].version)));
		json_array_append_new(out, j);
		kiln_dom_info_release(&info);
	}
	kiln_instances_free(in, n);
	free(in);
	kiln_guest_release(&g);
	return out;
}

json_t *
kiln_fleet_deployment_json(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d)
{
	json_t *j = kiln_deployment_json(d), *inst = kiln_fleet_status(ctx, f, d), *i;
	json_t *guest = d->guest ? json_loads(d->guest, 0, NULL) : NULL;
	size_t k, running = 0;

	json_object_set_new(j, "guest", guest ? guest : json_null());
	json_object_set_new(j, "instances", inst ? inst : json_array());
	json_array_foreach(json_object_get(j, "instances"), k, i)
		running += !strcmp(json_string_value(json_object_get(i, "state")), "running");
	json_object_set_new(j, "running", json_integer((json_int_t)running));
	return j;
}

/* ---- the executor ---- */

/*
 * Makes @i's domain agree with its row: an upgrade a killed tick left
 * midway (the row names it; libvirt may have the new definition, even a
 * started guest) goes back to the version the row records, restarted, and
 * is retried like any other. Returns 1 when something was done.
 */
static int
reconcile(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, const struct kiln_guest *g,
	  struct kiln_instance *i)
{
	struct kiln_virt *v;
	struct kiln_dom_info info;
	struct inst_spec is;
	_cleanup_free_ char *reason = NULL;
	char uuid[37];
	long from = 0;
	int drift, rc = 0;

	if (look_up(ctx, f, i, &v, &info) < 0)
		return -1;
	if (info.state != KILN_DOM_MISSING && !info.ours) {
		kiln_dom_info_release(&info);
		return kiln_error(ctx, KILN_EXIT_REFUSED, "domain '%s' on '%s' is no longer kiln's: left alone", i->domain,
				  i->host);
	}
	drift = info.state == KILN_DOM_MISSING || strcmp(info.meta.version, i->version) ||
		(info.running_version && strcmp(info.running_version, i->version) && g->reboot != KILN_REBOOT_NEVER);
	if (!drift && !i->upgrading) {
		kiln_dom_info_release(&info);
		return 0;
	}
	if (info.state == KILN_DOM_MISSING)
		reason = kiln_strdup("the domain was missing: defined again");
	else if (drift)
		reason = kiln_asprintf("the domain was defined for %s%s: put back on %s", info.meta.version,
				       i->upgrading ? " (a tick stopped during the upgrade)" : "", i->version);
	else
		reason = kiln_asprintf("an upgrade to %s was interrupted before it changed anything", i->upgrading);
	if (drift) {
		rc = inst_spec_make(ctx, f, d, g, i->idx, i->host, i->version, i->address, &is);
		if (rc == 0)
			rc = define(ctx, v, &is, uuid);
		if (rc == 0 && !i->stopped)
			rc = restart(ctx, f, v, &is, &from);
		if (rc == 0 && !i->stopped)
			rc = require_healthy(ctx, f, d, g, &is, i->version, from);
		if (rc == 0 && !i->uuid)
			i->uuid = kiln_strdup(uuid);
		inst_spec_release(&is);
	}
	kiln_dom_info_release(&info);
	if (rc < 0)
		return -1;
	if (i->upgrading) {
		set_str(&i->failed_version, i->upgrading);
		i->failed_at = ctx->set->now;
	}
	set_str(&i->upgrading, NULL);
	return record(ctx, f, ctx->set->now, i, d, "reconciled", NULL, i->version, reason) < 0 ? -1 : 1;
}

struct tally {
	int upgraded, failed, deferred, waiting, unreachable, reconciled, pending;
	json_t *errors;
};

static void
tally_error(struct tally *t, const char *msg)
{
	json_array_append_new(t->errors, json_string(msg));
}

/* One instance's upgrade in a batch of several (--max-unavailable), on a thread of its own. */
struct batch_job {
	struct kiln_fleet *f;
	const struct kiln_deployment *d;
	const struct kiln_guest *g;
	struct kiln_instance *i;
	struct kiln_ctx ctx;
	enum outcome out;
	pthread_t thread;
};

static void *
batch_run(void *arg)
{
	struct batch_job *j = arg;
	_cleanup_free_ char *why = kiln_asprintf("the deployment moved to %s", j->d->version);

	j->out = upgrade(&j->ctx, j->f, j->d, NULL, j->g, j->i, j->d->version, 0, "upgraded", why);
	return NULL;
}

/*
 * The deployment's walk: its instances that differ from it, in order,
 * max_unavailable at a time, each batch healthy before the next, while its
 * window allows; a failure stops the walk.
 */
static void
converge(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, time_t now, double t0,
	 struct tally *t)
{
	struct kiln_instance *in = NULL;
	struct batch_job jobs[KILN_FLEET_MAX_INSTANCES];
	struct kiln_guest g;
	size_t n = 0, k = 0;
	int stop = 0;

	if (guest_of(ctx, d, &g) < 0 || instances_of(ctx, f, d, &in, &n) < 0) {
		tally_error(t, ctx->msg);
		kiln_error_clear(ctx);
		if (d->guest)
			kiln_guest_release(&g);
		return;
	}
	while (k < n) {
		time_t at = now + (time_t)(kiln_monotonic_s() - t0), end = 0, next = 0;
		int nb = 0;

		/* the next batch: up to max_unavailable instances the window lets go now */
		while (k < n && nb < g.max_unavailable) {
			struct kiln_instance *i = &in[k++];
			char when[21];

			if (!strcmp(i->version, d->version) && !i->upgrading)
				continue;
			if (stop || i->upgrading) {	/* upgrading: kiln_fleet_tick() could not reconcile it, told already */
				t->waiting++;
				stop = 1;
				continue;
			}
			if (g.has_window && !kiln_window_at(&g.window, at, &end, &next)) {
				t->waiting++;
				continue;
			}
			/* a failed version is tried again at the next window (with none, at the next tick) */
			if (i->failed_version && !strcmp(i->failed_version, d->version) &&
			    (g.has_window ? i->failed_at >= end - (time_t)g.window.minutes * 60 : i->failed_at >= at)) {
				t->waiting++;
				stop = 1;
				continue;
			}
			/* an upgrade and its rollback must fit in what is left of the window */
			if (g.has_window && end - at < 2 * (time_t)health_timeout(f, d, &g)) {
				_cleanup_free_ char *reason = NULL;

				kiln_window_at(&g.window, end, NULL, &next);
				kiln_format_iso8601(next, when);
				reason = kiln_asprintf("not enough of the window left for an upgrade and its rollback;"
						       " next window %s", when);
				record(ctx, f, at, i, d, "deferred", i->version, d->version, reason);
				t->deferred++;
				stop = 1;
				continue;
			}
			jobs[nb] = (struct batch_job){ .f = f, .d = d, .g = &g, .i = i };
			kiln_ctx_sub(&jobs[nb].ctx, ctx);
			nb++;
		}
		if (nb == 1)
			batch_run(&jobs[0]);
		else
			for (int b = 0; b < nb; b++)
				if (pthread_create(&jobs[b].thread, NULL, batch_run, &jobs[b]) != 0)
					batch_run(&jobs[b]), jobs[b].thread = 0;
		for (int b = 0; b < nb; b++) {
			if (nb > 1 && jobs[b].thread)
				pthread_join(jobs[b].thread, NULL);
			if (jobs[b].out == UPGRADED)
				t->upgraded++;
			else if (jobs[b].out == STAGED)
				t->pending++;
			else {
				t->failed++;
				stop = 1;	/* a failed instance stops the rollout: the rest stay on the old version */
			}
			if (jobs[b].ctx.code)
				tally_error(t, jobs[b].ctx.msg);
		}
	}
	kiln_instances_free(in, n);
	free(in);
	kiln_guest_release(&g);
}

/* The executor's workers: deployments taken in turn, each with its own error slot and counts. */
struct tick_pool {
	struct kiln_fleet *f;
	const struct kiln_deployment *ds;
	size_t n, next;
	time_t now;
	double t0;
	const struct kiln_ctx *parent;
	struct tally *t;	/* merged under the fleet's lock */
	const unsigned char *skip;	/* deployments whose host could not be reached */
};

static void *
tick_worker(void *arg)
{
	struct tick_pool *p = arg;
	struct tally mine = { .errors = json_array() };
	struct kiln_ctx ctx;

	kiln_ctx_sub(&ctx, p->parent);
	for (;;) {
		size_t k;

		lock(p->f);
		k = p->next++;
		unlock(p->f);
		if (k >= p->n)
			break;
		if (p->ds[k].guest && !p->skip[k])
			converge(&ctx, p->f, &p->ds[k], p->now, p->t0, &mine);
	}
	lock(p->f);
	p->t->upgraded += mine.upgraded;
	p->t->pending += mine.pending;
	p->t->failed += mine.failed;
	p->t->deferred += mine.deferred;
	p->t->waiting += mine.waiting;
	json_array_extend(p->t->errors, mine.errors);
	unlock(p->f);
	json_decref(mine.errors);
	return NULL;
}

int
kiln_fleet_tick(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, json_t **ret_summary)
{
	struct kiln_deployment *ds = NULL;
	struct tally t = { .errors = json_array() };
	double t0 = kiln_monotonic_s();
	unsigned char *skip;
	size_t n = 0;

	f->own_txn = 1;
	if (kiln_catalog_deployments(ctx, f->cat, NULL, &ds, &n) < 0) {
		json_decref(t.errors);
		return -1;
	}
	skip = kiln_calloc(n ? n : 1, 1);
	/* first the catalog and libvirt agree, then instances move */
	for (size_t k = 0; k < n; k++) {
		struct kiln_instance *in = NULL;
		struct kiln_guest g;
		size_t m = 0;

		if (!ds[k].guest)
			continue;
		if (guest_of(ctx, &ds[k], &g) < 0 || instances_of(ctx, f, &ds[k], &in, &m) < 0) {
			tally_error(&t, ctx->msg);
			kiln_error_clear(ctx);
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			int r = reconcile(ctx, f, &ds[k], &g, &in[i]);

			if (r > 0)
				t.reconciled++;
			if (r < 0 && ctx->code == KILN_EXIT_FETCH) {
				/* its host is down: the deployment waits for the next tick, the others go on */
				struct kiln_ctx sub;

				kiln_ctx_sub(&sub, ctx);
				lock(f);
				if (kiln_catalog_begin(&sub, f->cat) == 0 &&
				    event(&sub, f, now, "host-unreachable", &ds[k], ds[k].version, NULL, NULL, ctx->msg) == 0)
					kiln_catalog_commit(&sub, f->cat);
				else
					kiln_catalog_rollback(f->cat);
				unlock(f);
				t.unreachable++;
				skip[k] = 1;
				tally_error(&t, ctx->msg);
				kiln_error_clear(ctx);
				break;
			}
			if (r < 0) {
				tally_error(&t, ctx->msg);
				kiln_error_clear(ctx);
			}
		}
		kiln_instances_free(in, m);
		free(in);
		kiln_guest_release(&g);
	}
	{
		struct tick_pool pool = { .f = f, .ds = ds, .n = n, .now = now, .t0 = t0, .parent = ctx, .t = &t, .skip = skip };
		int workers = f->parallel < (int)n ? f->parallel : (int)n;
		pthread_t th[KILN_FLEET_MAX_PARALLEL];

		if (workers > KILN_FLEET_MAX_PARALLEL)
			workers = KILN_FLEET_MAX_PARALLEL;
		if (workers <= 1)
			tick_worker(&pool);
		else {
			int started = 0;

			for (; started < workers; started++)
				if (pthread_create(&th[started], NULL, tick_worker, &pool) != 0)
					break;
			if (!started)
				tick_worker(&pool);
			for (int w = 0; w < started; w++)
				pthread_join(th[w], NULL);
		}
	}
	kiln_deployments_free(ds, n);
	free(ds);
	free(skip);
	f->own_txn = 0;
	*ret_summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "reconciled", t.reconciled, "upgraded",
				 t.upgraded, "pending", t.pending, "failed", t.failed, "deferred", t.deferred, "waiting",
				 t.waiting, "unreachable", t.unreachable, "errors", t.errors);
	if (json_array_size(t.errors))
		return kiln_error(ctx, KILN_EXIT_FAILED, "%s%s", json_string_value(json_array_get(t.errors, 0)),
				  json_array_size(t.errors) > 1 ? " (and more: see the events)" : "");
	return 0;
}

/* ---- the real health probe ---- */

static int
port_answers(const char *address, int port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct pollfd p;
	int fd, ok = 0, err = 0;
	socklen_t len = sizeof(err);

	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		ok = 1;
	else if (errno == EINPROGRESS) {
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		ok = poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

int
kiln_fleet_health_probe(void *data, const struct kiln_health_req *r, char **ret_why)
{
	_cleanup_free_ char *banner = kiln_asprintf("kiln-init: %s %s starting", r->family, r->version);
	double deadline = kiln_monotonic_s() + r->timeout, seen = 0, answering = 0;

	(void)data;
	for (;;) {
		struct kiln_ctx sub;
		char *text = NULL, *b;
		size_t len = 0;
		int ended = 0, ports = 1;

		kiln_ctx_init(&sub);
		if (kiln_read_file(&sub, r->console, 64 << 20, &text, &len) == 0 && (size_t)r->console_from <= len) {
			if (strstr(text + r->console_from, "Kernel panic - not syncing")) {
				free(text);
				*ret_why = kiln_strdup("the kernel panicked (too little memory for the image?)");
				return 0;
			}
			b = strstr(text + r->console_from, banner);
			if (b) {
				if (!seen)
					seen = kiln_monotonic_s();
				ended = strstr(b, "exited; exit status") || strstr(b, "killed by signal");
			}
		}
		free(text);
		if (ended) {
			*ret_why = kiln_asprintf("the application ended after kiln-init started it");
			return 0;
		}
		/* with no address to ask (no network), the banner is all that can be checked */
		for (int k = 0; seen && r->address && k < r->n_ports && ports; k++)
			ports = port_answers(r->address, r->ports[k], 1000);
		/*
		 * the banner, and the ports have answered for two seconds (a service that
		 * answered once may not yet answer every client: the next instance waits
		 * on this); with no port to ask, it kept running two seconds
		 */
		if (seen && ports && !answering)
			answering = kiln_monotonic_s();
		if (!ports)
			answering = 0;
		if (seen && answering && kiln_monotonic_s() - (r->n_ports && r->address ? answering : seen) >= 2)
			return 1;
		if (kiln_monotonic_s() >= deadline) {
			*ret_why = seen ? kiln_asprintf("a port did not answer within %d s", r->timeout)
					: kiln_asprintf("no banner '%s' within %d s", banner, r->timeout);
			return 0;
		}
		usleep(200 * 1000);
	}
}

int
kiln_fleet_restore(struct kiln_ctx *ctx, struct kiln_fleet *f, const struct kiln_deployment *d, int idx, const char *snap)
{
	struct kiln_instance *in = NULL, *i = NULL;
	struct kiln_guest g;
	struct inst_spec is = { 0 };
	struct kiln_virt *v;
	_cleanup_free_ char *reason = NULL;
	char uuid[37];
	size_t n = 0;
	long from = 0;
	int rc = -1;

	if (guest_of(ctx, d, &g) < 0)
		return -1;
	if (instances_of(ctx, f, d, &in, &n) < 0)
		goto out;
	for (size_t k = 0; k < n; k++)
		if (in[k].idx == idx)
			i = &in[k];
	if (!i) {
		kiln_error(ctx, KILN_EXIT_USAGE, "deployment '%s' has no instance %d", d->name, idx);
		goto out;
	}
	v = host_get(ctx, f, i->host);
	/* the volume as it was; the definition of now put back over the one the snapshot kept */
	if (!v || inst_spec_make(ctx, f, d, &g, i->idx, i->host, i->version, i->address, &is) < 0 ||
	    kiln_virt_stop(ctx, v, i->domain) < 0 || kiln_virt_revert(ctx, v, i->domain, snap) < 0 ||
	    define(ctx, v, &is, uuid) < 0)
		goto out;
	if (!i->stopped) {
		from = file_size(is.console);
		if (kiln_virt_start(ctx, v, i->domain) < 0 || require_healthy(ctx, f, d, &g, &is, i->version, from) < 0)
			goto out;
	}
	reason = kiln_asprintf("%s: volume restored from snapshot %s by the operator", i->domain, snap);
	rc = event(ctx, f, ctx->set->now, "restored", d, i->version, NULL, NULL, reason);
out:
	inst_spec_release(&is);
	kiln_instances_free(in, n);
	free(in);
	kiln_guest_release(&g);
	return rc;
}

json_t *
kiln_fleet_plan(struct kiln_ctx *ctx, struct kiln_fleet *f, time_t now, json_t *catalog_plan)
{
	struct kiln_deployment *ds = NULL;
	json_t *out = json_array();
	size_t n = 0;

	if (kiln_catalog_deployments(ctx, f->cat, NULL, &ds, &n) < 0) {
		json_decref(out);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		const struct kiln_deployment *d = &ds[k];
		const char *target = d->version, *why = "the deployment's version";
		struct kiln_instance *in = NULL;
		struct kiln_guest g;
		size_t m = 0, q;
		json_t *s;

		if (!d->guest || kiln_guest_parse(ctx, d->guest, &g) < 0) {
			kiln_error_clear(ctx);
			continue;
		}
		/* where the catalog's tick moves it first */
		json_array_foreach(catalog_plan, q, s) {
			const char *move = json_string_value(json_object_get(s, "move"));

			if (move && !strcmp(json_string_value(json_object_get(s, "family")), d->family) &&
			    !strcmp(json_string_value(json_object_get(s, "version")), d->version) &&
			    (!strcmp(move, "forced-upgrade") || d->auto_update)) {
				target = json_string_value(json_object_get(s, "to"));
				why = move;
			}
		}
		if (instances_of(ctx, f, d, &in, &m) < 0) {
			kiln_guest_release(&g);
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			time_t end = 0, next = 0;
			char when[21] = "";
			const char *action;

			if (!strcmp(in[i].version, target) && !in[i].upgrading)
				continue;
			if (in[i].upgrading)
				action = "reconcile";	/* a tick stopped midway: put back, then retried */
			else if (g.has_window && !kiln_window_at(&g.window, now, &end, &next)) {
				action = "wait";
				kiln_format_iso8601(next, when);
			} else if (g.has_window && end - now < 2 * (time_t)health_timeout(f, d, &g)) {
				action = "defer";
				kiln_window_at(&g.window, end, NULL, &next);
				kiln_format_iso8601(next, when);
			} else if (in[i].failed_version && !strcmp(in[i].failed_version, target))
				action = "retry";
			else
				action = g.reboot == KILN_REBOOT_NEVER ? "stage" : "upgrade";
			json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "tenant", d->tenant,
							     "name", d->name, "instance", in[i].idx, "host", in[i].host,
							     "from", in[i].version, "to", target, "why", why, "action",
							     action, "window_opens", *when ? json_string(when) : json_null()));
		}
		kiln_instances_free(in, m);
		free(in);
		kiln_guest_release(&g);
	}
	kiln_deployments_free(ds, n);
	free(ds);
	return out;
}
