/* util.c - the error context, allocation, strings, buffers, files and dates. */
#define _GNU_SOURCE
#include "kiln.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

void
kiln_settings_init(struct kiln_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->now = time(NULL);
	s->store = "images";
}

void
kiln_ctx_init(struct kiln_ctx *ctx)
{
	static struct kiln_settings defaults;
	static int ready;

	if (!ready) {
		kiln_settings_init(&defaults);
		ready = 1;
	}
	memset(ctx, 0, sizeof(*ctx));
	ctx->set = &defaults;
}

void
kiln_ctx_sub(struct kiln_ctx *sub, const struct kiln_ctx *parent)
{
	kiln_ctx_init(sub);
	sub->set = parent->set;
}

static int
error_v(struct kiln_ctx *ctx, int replace, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int
error_v(struct kiln_ctx *ctx, int replace, int code, const char *fmt, va_list ap)
{
	char msg[sizeof(ctx->msg)];

	if (ctx->code && !replace)
		return -1;
	/* into a buffer of its own first: context is often added to the message in ctx->msg */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	memcpy(ctx->msg, msg, sizeof(msg));
	ctx->code = code ? code : KILN_EXIT_FAILED;
	if (!replace) {		/* a message replaced with context keeps the kind of what it wraps */
		ctx->kind = KILN_ERR_OTHER;
		ctx->err = 0;
	}
	return -1;
}

int
kiln_error(struct kiln_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(ctx, 0, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
kiln_error_replace(struct kiln_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(ctx, 1, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
kiln_error_clear(struct kiln_ctx *ctx)
{
	ctx->code = 0;
	ctx->kind = KILN_ERR_OTHER;
	ctx->err = 0;
	ctx->msg[0] = '\0';
}

int
kiln_error_as(struct kiln_ctx *ctx, enum kiln_err_kind kind, int err)
{
	ctx->kind = kind;
	ctx->err = err;
	return -1;
}

void
kiln_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static void *
oom(void)
{
	fputs("kiln: out of memory\n", stderr);
	abort();
}

void *
kiln_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom();
}

void *
kiln_calloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	return p ? p : oom();
}

void *
kiln_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

char *
kiln_strdup(const char *s)
{
	char *p = strdup(s);

	return p ? p : oom();
}

char *
kiln_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	return p ? p : oom();
}

char *
kiln_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

void
kiln_strv_push_take(struct kiln_strv *sv, char *s)
{
	if (sv->n + 2 > sv->alloc) {
		sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
		sv->v = kiln_realloc(sv->v, sv->alloc * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
kiln_strv_push(struct kiln_strv *sv, const char *s)
{
	kiln_strv_push_take(sv, kiln_strdup(s));
}

int
kiln_strv_contains(const struct kiln_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void
kiln_strv_release(struct kiln_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

void
kiln_strv_split(struct kiln_strv *sv, const char *s)
{
	while (*s) {
		const char *e;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (e = s; *e && !isspace((unsigned char)*e); e++)
			;
		kiln_strv_push_take(sv, kiln_strndup(s, e - s));
		s = e;
	}
}

void
kiln_buf_add(struct kiln_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->alloc) {
		size_t a = b->alloc ? b->alloc : 256;

		while (a < b->len + n + 1)
			a *= 2;
		b->data = kiln_realloc(b->data, a);
		b->alloc = a;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
kiln_buf_addf(struct kiln_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	kiln_buf_add(b, s, n);
	free(s);
}

void
kiln_buf_release(struct kiln_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *
kiln_buf_detach(struct kiln_buf *b, size_t *ret_len)
{
	char *p;

	if (!b->data)
		kiln_buf_add(b, "", 0);
	p = b->data;
	if (ret_len)
		*ret_len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

int
kiln_read_file(struct kiln_ctx *ctx, const char *path, size_t max,
	       char **ret_data, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct kiln_buf b = { 0 };
	char chunk[65536];
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		kiln_error(ctx, KILN_EXIT_USAGE, "cannot open '%s': %s", path, strerror(e));
		return kiln_error_as(ctx, e == ENOENT ? KILN_ERR_NOT_FOUND : KILN_ERR_OTHER, e);
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kiln_buf_release(&b);
			return kiln_error(ctx, KILN_EXIT_USAGE, "cannot read '%s': %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			kiln_buf_release(&b);
			kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is too large (over %zu bytes)", path, max);
			return kiln_error_as(ctx, KILN_ERR_TOO_LARGE, 0);
		}
		kiln_buf_add(&b, chunk, n);
	}
	*ret_data = kiln_buf_detach(&b, ret_len);
	return 0;
}

/* openat2() with RESOLVE_BENEATH; where the kernel lacks it, a resolved-path check that is as strict but racy. */
static int
open_beneath(const char *dir, const char *relpath)
{
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *rdir = NULL, *full = NULL, *rfull = NULL;
	int fd;

	if (dfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, relpath, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	if (relpath[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	full = kiln_asprintf("%s/%s", dir, relpath);
	rdir = realpath(dir, NULL);
	rfull = realpath(full, NULL);
	if (!rdir || !rfull)
		return -1;
	if (strncmp(rfull, rdir, strlen(rdir)) != 0 || rfull[strlen(rdir)] != '/' || kiln_startswith(rfull, "/proc/")) {
		errno = EXDEV;
		return -1;
	}
	return open(rfull, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
}

int
kiln_read_file_beneath(struct kiln_ctx *ctx, const char *dir, const char *relpath, size_t max,
		       char **ret_data, size_t *ret_len)
{
	_cleanup_close_ int fd = open_beneath(dir, relpath);
	struct kiln_buf b = { 0 };
	char chunk[65536];
	struct stat st;
	ssize_t n;

	if (fd < 0 && errno == EXDEV)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' leads outside '%s' (an absolute path, '..' or a symlink out of it)",
				  relpath, dir);
	if (fd < 0 && errno == ELOOP)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' goes through a link kiln does not follow", relpath);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "cannot open '%s' in '%s': %s", relpath, dir, strerror(errno));
	if (fstat(fd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "cannot stat '%s': %s", relpath, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not a regular file", relpath);
	if ((uint64_t)st.st_size > max)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is too large (%lld bytes, at most %zu)", relpath,
				  (long long)st.st_size, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kiln_buf_release(&b);
			return kiln_error(ctx, KILN_EXIT_USAGE, "cannot read '%s': %s", relpath, strerror(errno));
		}
		if (b.len + (size_t)n > max) {	/* it grew while being read */
			kiln_buf_release(&b);
			return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is too large (over %zu bytes)", relpath, max);
		}
		kiln_buf_add(&b, chunk, n);
	}
	kiln_buf_add(&b, "", 0);
	*ret_data = kiln_buf_detach(&b, ret_len);
	return 0;
}

int
kiln_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
kiln_tmpfile_beside(struct kiln_ctx *ctx, const char *path)
{
	_cleanup_free_ char *copy = kiln_strdup(path);
	_cleanup_free_ char *tmpl = NULL;
	const char *dir = dirname(copy);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	tmpl = kiln_asprintf("%s/.kiln-tmp-XXXXXX", dir);	/* mkostemp's template: a filesystem without O_TMPFILE */
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
	unlink(tmpl);
	return fd;
}

int
kiln_write_atomic(struct kiln_ctx *ctx, const char *path, const void *data,
		  size_t len, int mode)
{
	_cleanup_free_ char *tmp = kiln_asprintf("%s.tmp.%d.XXXXXX", path, (int)getpid());
	_cleanup_close_ int fd = -1;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 || kiln_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;

		unlink(tmp);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", tmp, strerror(e));
	}
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
	}
	return 0;
}

int
kiln_mkdir_p(struct kiln_ctx *ctx, const char *path, int mode)
{
	_cleanup_free_ char *p = kiln_strdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create directory '%s': %s", p, strerror(errno));
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int
kiln_is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return i == 64;
}

static int
days_from_civil(int y, unsigned m, unsigned d, int64_t *ret)
{
	/* Howard Hinnant's algorithm, proleptic Gregorian. */
	int era;
	unsigned yoe, doy, doe;

	if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1 || y > 9999)
		return -1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*ret = (int64_t)era * 146097 + (int64_t)doe - 719468;
	return 0;
}

static int
make_time(int y, int mo, int d, int h, int mi, int s, time_t *ret)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t days;

	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	if (days_from_civil(y, mo, d, &days) < 0)
		return -1;
	*ret = (time_t)(days * 86400 + h * 3600 + mi * 60 + s);
	return 0;
}

int
kiln_parse_iso8601(const char *s, time_t *ret)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
			return -1;
		s += n;
		if (*s == 'Z')
			s++;
	}
	if (*s)
		return -1;
	return make_time(y, mo, d, h, mi, sec, ret);
}

int
kiln_parse_rfc2822(const char *s, time_t *ret)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], zone[8] = "";
	int d, y, h, mi, sec, n = 0;
	const char *p, *comma = strchr(s, ',');
	time_t t;

	if (comma)
		s = comma + 1;
	if (sscanf(s, " %2d %3s %4d %2d:%2d:%2d %7s%n", &d, mon, &y, &h, &mi, &sec, zone, &n) != 7)
		return -1;
	p = strstr(months, mon);
	if (!p || strlen(mon) != 3 || (p - months) % 3)
		return -1;
	if (make_time(y, (int)(p - months) / 3 + 1, d, h, mi, sec, &t) < 0)
		return -1;
	if (strcmp(zone, "UTC") && strcmp(zone, "GMT") && strcmp(zone, "+0000") && strcmp(zone, "Z"))
		return -1;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -1;
	*ret = t;
	return 0;
}

void
kiln_format_iso8601(time_t t, char out[21])
{
	struct tm tm;

	/* a time past year 9999 does not fit: an empty string, never an unterminated one */
	if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

int
kiln_streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int
kiln_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
kiln_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kiln_strv_sort(struct kiln_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), kiln_strcmp_p);
}

int
kiln_foreach_config_line(struct kiln_ctx *ctx, const char *text, size_t len, const char *origin, void *user,
			 int (*fn)(struct kiln_ctx *ctx, void *user, char *line, int lineno))
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	if (memchr(text, '\0', len))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: NUL byte", origin);
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		_cleanup_free_ char *line = kiln_strndup(p, (nl ? nl : end) - p);
		char *s = line;

		lineno++;
		p = nl ? nl + 1 : end;
		while (*s == ' ' || *s == '\t')
			s++;
		for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); )
			*--e = '\0';
		if (!*s || *s == '#')
			continue;
		if (fn(ctx, user, s, lineno) < 0)
			return -1;
	}
	return 0;
}

double
kiln_monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
kiln_parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end || v == 0 || v > (~0ULL >> shift))
		return -1;
	*ret = (uint64_t)v << shift;
	return 0;
}
