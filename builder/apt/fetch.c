/* fetch.c - every libcurl call of kiln: bounded downloads into memory. */
#define _GNU_SOURCE
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

struct sink {
	struct kiln_buf b;
	size_t max;
	int too_big;
	const struct kiln_fetch_watch *watch;
};

static size_t
on_data(char *p, size_t size, size_t n, void *user)
{
	struct sink *s = user;

	if (s->b.len + n > s->max) {
		s->too_big = 1;
		return 0;
	}
	kiln_buf_add(&s->b, p, n * size);
	if (s->watch && s->watch->fn)
		s->watch->fn(s->watch->data, s->b.len);
	return n * size;
}

static int
fetch_file(struct kiln_ctx *ctx, const char *url, size_t max, char **ret, size_t *ret_len,
	   int *ret_notfound)
{
	const char *path = url + strlen("file://");
	struct kiln_ctx sub;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, path, max, ret, ret_len) < 0) {
		if (ret_notfound)
			*ret_notfound = sub.kind == KILN_ERR_NOT_FOUND;
		kiln_error(ctx, KILN_EXIT_FETCH, "cannot fetch '%s': %s", url,
			   sub.kind == KILN_ERR_TOO_LARGE ? "too large" : strerror(sub.err ? sub.err : EIO));
		return kiln_error_as(ctx, sub.kind, sub.err);
	}
	return 0;
}

int
kiln_fetch(struct kiln_ctx *ctx, const char *url, size_t max, char **ret, size_t *ret_len,
	   int *ret_notfound, const struct kiln_fetch_watch *watch)
{
	static int curl_ready;
	struct sink s = { .max = max, .watch = watch };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode cc;
	long status = 0;

	if (ret_notfound)
		*ret_notfound = 0;
	if (ctx->set->offline)
		return kiln_error(ctx, KILN_EXIT_FETCH, "'%s' is not in the cache and --offline forbids fetching it", url);
	if (kiln_startswith(url, "file://"))
		return fetch_file(ctx, url, max, ret, ret_len, ret_notfound);
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return kiln_error(ctx, KILN_EXIT_FETCH, "cannot initialise libcurl");
		curl_ready = 1;
	}
	c = curl_easy_init();
	if (!c)
		return kiln_error(ctx, KILN_EXIT_FETCH, "cannot initialise libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kiln/" KILN_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc == CURLE_OK && status == 200) {
		*ret = kiln_buf_detach(&s.b, ret_len);
		return 0;
	}
	kiln_buf_release(&s.b);
	if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return kiln_error(ctx, KILN_EXIT_FETCH, "cannot fetch '%s': larger than %zu bytes", url, max);
	if (cc != CURLE_OK)
		return kiln_error(ctx, KILN_EXIT_FETCH, "cannot fetch '%s': %s", url,
				  *errbuf ? errbuf : curl_easy_strerror(cc));
	if (ret_notfound)
		*ret_notfound = status == 404 || status == 410;
	return kiln_error(ctx, KILN_EXIT_FETCH, "cannot fetch '%s': HTTP status %ld", url, status);
}
