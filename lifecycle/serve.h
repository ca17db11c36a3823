/* serve.h - the HTTP JSON API over the catalog and the store (libmicrohttpd). */
#ifndef KILN_SERVE_H
#define KILN_SERVE_H

#include "kiln.h"

#include <jansson.h>

#define KILN_HTTP_BODY_MAX (16 * 1024)

struct kiln_serve_opts {
	const char *listen;	/* "127.0.0.1:8080" */
	const char *store;
	time_t fixed_now;	/* --now: the clock for every request (0: the real time) */
	unsigned threads;	/* worker threads (default 2) */
	unsigned per_client;	/* connections one client address may hold (default 64) */
	unsigned timeout;	/* seconds a connection may stay idle, mid-request included (default 10) */
	const char *host;	/* --host: where POSTed deployments run (a libvirt URI); NULL: records only */
	const char *network;	/* --network: their NIC's libvirt network, or NULL */
};

/* Runs the API until SIGINT/SIGTERM. Exit 2 for a bad address, 1 if it cannot listen. */
int kiln_serve(struct kiln_ctx *ctx, const struct kiln_serve_opts *o);

/* Splits "/v1/a/b" into at most 4 segments of [A-Za-z0-9._-]; -1 if malformed (no trailing '/'). */
int kiln_api_split_path(const char *url, char seg[4][128]);

struct kiln_deploy_req;
/* Parses a POST /v1/deployments body into @r (strings borrowed from the returned JSON; json_decref() it). */
json_t *kiln_api_deploy_body(struct kiln_ctx *ctx, const char *data, size_t len, struct kiln_deploy_req *r);

#endif
