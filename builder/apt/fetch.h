/* fetch.h - download a URL into memory (http, https by libcurl; file://). */
#ifndef KILN_FETCH_H
#define KILN_FETCH_H

#include "kiln.h"

/* Told of each chunk as it arrives (for a progress display); the bytes received so far. */
struct kiln_fetch_watch {
	void (*fn)(void *data, uint64_t received);
	void *data;
};

/*
 * kiln_fetch() - fetch @url, at most @max bytes
 * Returns 0 and a new buffer in *@ret (caller frees), or -1 with an error on
 * @ctx (exit 5). *@ret_notfound (if not NULL) tells a 404 / missing file from
 * other failures, so callers can fall back to another name. Refuses to run
 * when @ctx->set->offline. @watch (may be NULL) hears of the bytes as they come.
 */
int kiln_fetch(struct kiln_ctx *ctx, const char *url, size_t max, char **ret, size_t *ret_len,
	       int *ret_notfound, const struct kiln_fetch_watch *watch);

#endif
