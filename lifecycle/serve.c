/* serve.c - every libmicrohttpd call of kiln: routing, tenant tokens, JSON errors, limits. */
#define _GNU_SOURCE
#include "serve.h"
#include "catalog.h"
#include "render.h"
#include "fleet.h"
#include "manifest.h"
#include "names.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

struct server {
	const struct kiln_serve_opts *o;
	int cache;	/* KILN_SERVE_CACHE=0 turns the answer cache off (benchmarks) */
};

/* One catalog connection per worker thread: SQLite handles are not shared. */
static __thread struct kiln_catalog *thread_catalog;

/*
 * Per-thread cache of the public, read-only answers (families, versions):
 * valid while the catalog's data_version and the clock's second are the same.
 */
#define CACHE_SLOTS 64
struct cached {
	char *url;
	long long data_version;
	time_t now;
	char *body;
	size_t len;
};
static __thread struct cached cache[CACHE_SLOTS];

static struct cached *
cache_slot(const char *url)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *c = url; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return &cache[h % CACHE_SLOTS];
}

struct request {
	struct kiln_buf body;
	int too_big;
};

static enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned status, const char *type, char *text, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static __thread struct cached *cache_fill;	/* the slot the current answer should fill, or NULL */

static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	if (!text)
		abort();
	if (cache_fill && status == MHD_HTTP_OK) {
		free(cache_fill->body);
		cache_fill->body = kiln_strdup(text);
		cache_fill->len = strlen(text);
	}
	return send_text(conn, status, "application/json", text, strlen(text));
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return send_json(conn, status, json_pack("{s:s}", "error", msg));
}

static unsigned
status_of(int code)
{
	switch (code) {
	case KILN_EXIT_USAGE: return MHD_HTTP_BAD_REQUEST;
	case KILN_EXIT_REFUSED: return MHD_HTTP_FORBIDDEN;	/* refused by lifecycle policy */
	case KILN_EXIT_INTEGRITY: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* The tenant of the request's bearer token, or NULL (caller frees). */
static char *
tenant_of(struct MHD_Connection *conn, struct kiln_catalog *cat)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth) > 200)
		return NULL;
	return kiln_catalog_token_tenant(cat, auth + 7);
}

int
kiln_api_split_path(const char *url, char seg[4][128])
{
	int n = 0;
	const char *p = url;

	if (strncmp(url, "/v1/", 4) != 0 || url[strlen(url) - 1] == '/')
		return -1;
	p += 4;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (n == 4 || len == 0 || len >= 128)
			return -1;
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		for (size_t i = 0; i < len; i++)
			if (!(seg[n][i] == '-' || seg[n][i] == '.' || seg[n][i] == '_' || (seg[n][i] >= '0' && seg[n][i] <= '9') ||
			      (seg[n][i] >= 'a' && seg[n][i] <= 'z') || (seg[n][i] >= 'A' && seg[n][i] <= 'Z')))
				return -1;
		n++;
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

static json_t *
families_json(struct kiln_ctx *ctx, struct kiln_catalog *cat, time_t now)
{
	struct kiln_version_info *v = NULL;
	size_t n = 0;
	json_t *out;

	if (kiln_catalog_versions(ctx, cat, NULL, 1, now, &v, &n) < 0)
		return NULL;
	out = kiln_families_json(v, n);
	kiln_version_infos_free(v, n);
	free(v);
	return out;
}

static enum MHD_Result
version_detail(struct MHD_Connection *conn, struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *store,
	       const char *f, const char *v, time_t now)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s/%s", store, f, v);
	struct kiln_version_info *all = NULL;
	json_t *found = NULL, *m;
	size_t n = 0;
	char sha[65];

	if (kiln_catalog_versions(ctx, cat, f, 1, now, &all, &n) < 0)
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, ctx->msg);
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(all[i].version, v) == 0)
			found = kiln_version_info_json(&all[i]);
	kiln_version_infos_free(all, n);
	free(all);
	if (!found)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no such released version");
	m = kiln_manifest_load(ctx, dir, sha);
	if (m) {
		json_object_set_new(found, "manifest", json_pack("{s:s, s:O, s:O, s:i, s:O, s:O}", "sha256", sha,
								 "built", json_object_get(m, "built"),
								 "kernel", json_object_get(m, "kernel"),
								 "packages", (int)json_array_size(json_object_get(m, "packages")),
								 "security_updates", json_object_get(m, "security_updates"),
								 "artifacts", json_object_get(m, "artifacts")));
		json_decref(m);
	}
	return send_json(conn, MHD_HTTP_OK, found);
}

static enum MHD_Result
manifest_file(struct MHD_Connection *conn, const char *store, const char *f, const char *v, int sig, const char *recorded)
{
	_cleanup_free_ char *path = kiln_asprintf("%s/%s/%s/manifest.json", store, f, v), *sigpath = NULL;
	char *data = NULL, actual[65];
	size_t len;
	struct kiln_ctx sub;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, path, KILN_MANIFEST_MAX, &data, &len) < 0)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no manifest for this version");
	/* only the bytes that were released, never what the store holds now if it changed */
	kiln_sha256_hex(data, len, actual);
	if (strcmp(actual, recorded) != 0) {
		free(data);
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "the stored manifest is not the one released");
	}
	if (sig) {
		free(data);
		sigpath = kiln_asprintf("%s.sig", path);
		if (kiln_read_file(&sub, sigpath, 4096, &data, &len) < 0)
			return send_error(conn, MHD_HTTP_NOT_FOUND, "no signature for this version");
	}
	return send_text(conn, MHD_HTTP_OK, sig ? "text/plain" : "application/json", data, len);
}

json_t *
kiln_api_deploy_body(struct kiln_ctx *ctx, const char *data, size_t len, struct kiln_deploy_req *r)
{
	json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(body)) {
		json_decref(body);
		kiln_error(ctx, KILN_EXIT_USAGE, "expected a JSON object {name, family, version?, auto?}");
		return NULL;
	}
	r->name = json_string_value(json_object_get(body, "name"));
	r->family = json_string_value(json_object_get(body, "family"));
	r->version = json_string_value(json_object_get(body, "version"));
	r->auto_update = json_is_true(json_object_get(body, "auto"));
	if (!r->name || !r->family || (r->version && r->auto_update)) {
		json_decref(body);
		kiln_error(ctx, KILN_EXIT_USAGE, "expected name and family, and version or auto");
		return NULL;
	}
	return body;
}

/*
 * A POSTed deployment's guest, on the server's --host: the body may set
 * instances, memory_mib, cpus, window, reboot and forward (ports); 0, or
 * -1 with a usage error.
 */
static int
guest_of_body(struct kiln_ctx *ctx, const struct kiln_serve_opts *o, json_t *body, struct kiln_guest *g)
{
	json_t *v, *p;
	const char *why = NULL;
	size_t i;

	kiln_guest_init(g);
	kiln_strv_push(&g->hosts, o->host);
	if (o->network)
		g->network = kiln_strdup(o->network);
	if (json_unpack(body, "{s?i, s?i, s?i}", "instances", &g->instances, "memory_mib", &g->memory_mib, "cpus",
			&g->cpus) < 0 || g->instances < 1 || g->instances > KILN_FLEET_MAX_INSTANCES || g->memory_mib < 64 ||
	    g->memory_mib > (1 << 20) || g->cpus < 1 || g->cpus > 256)
		why = "instances (1 to 64), memory_mib (64 or more) and cpus are numbers in range";
	v = json_object_get(body, "window");
	if (!why && json_is_string(v)) {
		const char *bad;

		if (kiln_window_parse(json_string_value(v), &g->window, &bad) < 0)
			why = bad;
		g->has_window = 1;
	}
	v = json_object_get(body, "reboot");
	if (!why && v && (!json_is_string(v) || kiln_reboot_parse(json_string_value(v), &g->reboot) < 0))
		why = "reboot is if-required, always or never";
	v = json_object_get(body, "boot");
	if (!why && v && !(json_is_string(v) && (!strcmp(json_string_value(v), "disk") || !strcmp(json_string_value(v), "kernel"))))
		why = "boot is kernel or disk";
	g->boot_disk = json_is_string(v) && !strcmp(json_string_value(v), "disk");
	json_array_foreach(json_object_get(body, "forward"), i, p) {
		if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535 ||
		    g->n_ports == KILN_FLEET_MAX_PORTS)
			why = "forward is a list of at most 8 TCP ports";
		else
			g->ports[g->n_ports++] = (int)json_integer_value(p);
	}
	if (why) {
		kiln_guest_release(g);
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s", why);
	}
	return 0;
}

static enum MHD_Result
post_deployment(struct MHD_Connection *conn, struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *tenant,
		const struct request *rq, time_t now, const struct kiln_serve_opts *o)
{
	struct kiln_deploy_req r = { .tenant = tenant };
	json_t *body = kiln_api_deploy_body(ctx, rq->body.data, rq->body.len, &r), *j;
	struct kiln_deployment out = { 0 };
	_cleanup_(kiln_fleet_freep) struct kiln_fleet *f = NULL;
	_cleanup_free_ char *guest = NULL;
	struct kiln_guest g;

	if (!body)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, ctx->msg);
	if (o->host) {
		if (guest_of_body(ctx, o, body, &g) < 0) {
			json_decref(body);
			return send_error(conn, MHD_HTTP_BAD_REQUEST, ctx->msg);
		}
		r.guest = guest = kiln_guest_format(&g);
		kiln_guest_release(&g);
		f = kiln_fleet_new(cat, o->store, NULL);
	}
	/* the record and its guests in one transaction: a guest that is not healthy leaves nothing */
	if (kiln_catalog_begin(ctx, cat) < 0 || kiln_catalog_deploy_create(ctx, cat, &r, now, &out) < 0 ||
	    (f && kiln_fleet_create(ctx, f, &out) < 0) || kiln_catalog_commit(ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		json_decref(body);
		kiln_deployments_free(&out, 1);
		return send_error(conn, ctx->kind == KILN_ERR_CONFLICT ? MHD_HTTP_CONFLICT : status_of(ctx->code), ctx->msg);
	}
	json_decref(body);
	j = f ? kiln_fleet_deployment_json(ctx, f, &out) : kiln_deployment_json(&out);
	kiln_deployments_free(&out, 1);
	return send_json(conn, MHD_HTTP_CREATED, j);
}

/* One request, as the handlers of the route table see it. */
struct call {
	struct server *s;
	struct MHD_Connection *conn;
	struct kiln_ctx *ctx;
	const char *method;
	struct request *rq;
	char (*seg)[128];
	time_t now;
};

static enum MHD_Result
api_families(struct call *c)
{
	json_t *j = families_json(c->ctx, thread_catalog, c->now);

	return j ? send_json(c->conn, MHD_HTTP_OK, j) : send_error(c->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, c->ctx->msg);
}

static enum MHD_Result
api_family_versions(struct call *c)
{
	const char *all = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "all");
	struct kiln_version_info *v = NULL;
	size_t n = 0;
	json_t *j;

	if (!kiln_family_name_valid(c->seg[1]))
		return send_error(c->conn, MHD_HTTP_BAD_REQUEST, "bad family name");
	if (kiln_catalog_versions(c->ctx, thread_catalog, c->seg[1], all && !strcmp(all, "1"), c->now, &v, &n) < 0)
		return send_error(c->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, c->ctx->msg);
	if (!n && !all) {
		struct kiln_version_info *any = NULL;
		size_t k = 0;

		if (kiln_catalog_versions(c->ctx, thread_catalog, c->seg[1], 1, c->now, &any, &k) == 0) {
			kiln_version_infos_free(any, k);
			free(any);
		}
		if (!k) {
			free(v);
			return send_error(c->conn, MHD_HTTP_NOT_FOUND, "no such family");
		}
	}
	j = kiln_version_infos_json(v, n);
	kiln_version_infos_free(v, n);
	free(v);
	return send_json(c->conn, MHD_HTTP_OK, j);
}

/* /v1/versions/F/V and /v1/versions/F/V/{manifest,manifest.sig} */
static enum MHD_Result
api_version(struct call *c)
{
	char recorded[65];

	if (!kiln_family_name_valid(c->seg[1]) || !kiln_version_valid(c->seg[2]))
		return send_error(c->conn, MHD_HTTP_BAD_REQUEST, "bad family or version");
	if (!c->seg[3][0])
		return version_detail(c->conn, c->ctx, thread_catalog, c->s->o->store, c->seg[1], c->seg[2], c->now);
	if (strcmp(c->seg[3], "manifest") && strcmp(c->seg[3], "manifest.sig"))
		return send_error(c->conn, MHD_HTTP_NOT_FOUND, "no such resource");
	if (kiln_catalog_manifest_sha256(thread_catalog, c->seg[1], c->seg[2], recorded) < 0)
		return send_error(c->conn, MHD_HTTP_NOT_FOUND, "no such released version");
	return manifest_file(c->conn, c->s->o->store, c->seg[1], c->seg[2], c->seg[3][8] == '.', recorded);
}

/* public answers come from released versions only: the catalog's index of their fixes */
static enum MHD_Result
api_fixes(struct call *c)
{
	json_t *j;

	if (strncmp(c->seg[1], "CVE-", 4) && strncmp(c->seg[1], "DSA-", 4) && strncmp(c->seg[1], "DLA-", 4))
		return send_error(c->conn, MHD_HTTP_BAD_REQUEST, "expected a CVE, DSA or DLA id");
	j = kiln_catalog_fixes(c->ctx, thread_catalog, c->seg[1]);
	return j ? send_json(c->conn, MHD_HTTP_OK, j) : send_error(c->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, c->ctx->msg);
}

/* /v1/deployments and /v1/events: the token's tenant first, whatever the method */
static enum MHD_Result
api_tenant(struct call *c)
{
	_cleanup_free_ char *tenant = tenant_of(c->conn, thread_catalog);
	int events = !strcmp(c->seg[0], "events");

	if (!tenant)
		return send_error(c->conn, MHD_HTTP_UNAUTHORIZED, "a tenant's bearer token is needed (kiln tenant token)");
	if (!strcmp(c->method, "GET") && events) {
		struct kiln_event *ev = NULL;
		size_t n = 0;
		json_t *j;

		if (kiln_catalog_events(c->ctx, thread_catalog, tenant, 0, &ev, &n) < 0)
			return send_error(c->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, c->ctx->msg);
		j = kiln_events_json(ev, n);
		kiln_events_free(ev, n);
		free(ev);
		return send_json(c->conn, MHD_HTTP_OK, j);
	}
	if (!strcmp(c->method, "GET")) {
		struct kiln_deployment *d = NULL;
		size_t n = 0;
		json_t *j;

		struct kiln_fleet *f;

		if (kiln_catalog_deployments(c->ctx, thread_catalog, tenant, &d, &n) < 0)
			return send_error(c->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, c->ctx->msg);
		/* what the catalog records and, for those that run, what libvirt says now */
		f = kiln_fleet_new(thread_catalog, c->s->o->store, NULL);
		j = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(j, kiln_fleet_deployment_json(c->ctx, f, &d[i]));
		kiln_fleet_free(f);
		kiln_deployments_free(d, n);
		free(d);
		return send_json(c->conn, MHD_HTTP_OK, j);
	}
	if (!events && !strcmp(c->method, "POST"))
		return post_deployment(c->conn, c->ctx, thread_catalog, tenant, c->rq, c->now, c->s->o);
	return send_error(c->conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
}

/* The API: a method (NULL: any, the handler decides) and path segments ("*": any valid segment). */
static const struct route {
	const char *method;
	const char *path[4];
	enum MHD_Result (*fn)(struct call *c);
} routes[] = {
	{ "GET", { "families" }, api_families },
	{ "GET", { "families", "*", "versions" }, api_family_versions },
	{ "GET", { "versions", "*", "*" }, api_version },
	{ "GET", { "versions", "*", "*", "*" }, api_version },
	{ "GET", { "fixes", "*" }, api_fixes },
	{ NULL, { "deployments" }, api_tenant },
	{ NULL, { "events" }, api_tenant },
};

static int
route_matches(const struct route *r, char seg[4][128], int n)
{
	int len = 0;

	while (len < 4 && r->path[len])
		len++;
	if (len != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(r->path[i], "*") != 0 && strcmp(r->path[i], seg[i]) != 0)
			return 0;
	return 1;
}

static enum MHD_Result
route(struct server *s, struct MHD_Connection *conn, const char *url, const char *method, struct request *rq)
{
	const struct kiln_serve_opts *o = s->o;
	time_t now = o->fixed_now ? o->fixed_now : time(NULL);
	struct kiln_settings set;
	struct kiln_ctx ctx;
	char seg[4][128] = { "" };
	int n = kiln_api_split_path(url, seg), get = strcmp(method, "GET") == 0;
	struct call c = { s, conn, &ctx, method, rq, seg, now };

	/* a request's settings: the server's store, the clock of this request */
	kiln_settings_init(&set);
	set.store = o->store;
	set.now = now;
	kiln_ctx_init(&ctx);
	ctx.set = &set;
	if (n < 1)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no such resource");
	if (!thread_catalog && kiln_catalog_open(&ctx, o->store, &thread_catalog) < 0)
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "catalog unavailable");
	cache_fill = NULL;
	if (get && s->cache && (!strcmp(seg[0], "families") || !strcmp(seg[0], "versions"))) {
		const char *all = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "all");
		_cleanup_free_ char *key = kiln_asprintf("%s?%s", url, all ? all : "");
		struct cached *slot = cache_slot(key);
		long long dv = kiln_catalog_data_version(thread_catalog);

		if (slot->url && slot->body && !strcmp(slot->url, key) && slot->data_version == dv && slot->now == now)
			return send_text(conn, MHD_HTTP_OK, "application/json", kiln_strdup(slot->body), slot->len);
		free(slot->url);
		free(slot->body);
		slot->url = TAKE_PTR(key);
		slot->body = NULL;
		slot->data_version = dv;
		slot->now = now;
		if (n < 4)	/* not the manifest files */
			cache_fill = slot;
	}
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if ((!routes[i].method || !strcmp(routes[i].method, method)) && route_matches(&routes[i], seg, n))
			return routes[i].fn(&c);
	if (!get)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	return send_error(conn, MHD_HTTP_NOT_FOUND, "no such resource");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
	   const char *upload, size_t *upload_size, void **con_cls)
{
	struct request *rq = *con_cls;

	(void)version;
	if (!rq) {
		*con_cls = kiln_calloc(1, sizeof(*rq));
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > KILN_HTTP_BODY_MAX)
			rq->too_big = 1;
		else
			kiln_buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_error(conn, 413, "request body too large");
	return route(cls, conn, url, method, rq);
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode code)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)code;
	if (rq) {
		kiln_buf_release(&rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static void *
thread_end(void *cls, struct MHD_Connection *conn, void **socket_ctx)
{
	(void)cls;
	(void)conn;
	(void)socket_ctx;
	return NULL;
}

int
kiln_serve(struct kiln_ctx *ctx, const struct kiln_serve_opts *o)
{
	struct server s = { .o = o, .cache = !getenv("KILN_SERVE_CACHE") || strcmp(getenv("KILN_SERVE_CACHE"), "0") };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *listen = o->listen ? o->listen : "127.0.0.1:8080";
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(listen, ':');
	struct MHD_Daemon *d;
	unsigned long port;
	char *end;
	sigset_t set;
	int sig;

	(void)thread_end;
	if (!colon)
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad --listen '%s': use ADDRESS:PORT", listen);
	host = kiln_strndup(listen, colon - listen);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad --listen '%s': use an IPv4 ADDRESS:PORT", listen);
	sa.sin_port = htons((uint16_t)port);
	/* the handler thread blocks these; the main thread waits for them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port,
			     NULL, NULL, on_request, &s,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 2),
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
			     /* slow clients (slowloris) hold at most per_client connections each, never for long idle */
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(o->per_client ? o->per_client : 64),
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout ? o->timeout : 10),
			     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			     MHD_OPTION_END);
	if (!d)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot listen on %s", listen);
	fprintf(stderr, "kiln serve: listening on http://%s/v1/\n", listen);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
