/* serve.h - the HTTP JSON API over the catalog and the store (libmicrohttpd). */
#ifndef KILN_SERVE_H
#define KILN_SERVE_H

#include "kiln.h"

#define KILN_HTTP_BODY_MAX (16 * 1024)

struct kiln_serve_opts {
	const char *listen;	/* "127.0.0.1:8080" */
	const char *store;
	time_t fixed_now;	/* --now: the clock for every request (0: the real time) */
	unsigned threads;	/* worker threads (default 2) */
};

/* Runs the API until SIGINT/SIGTERM. Exit 2 for a bad address, 1 if it cannot listen. */
int kiln_serve(struct kiln_ctx *ctx, const struct kiln_serve_opts *o);

#endif
