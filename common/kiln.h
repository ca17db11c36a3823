/* kiln.h - the error context, exit codes and small helpers every part of kiln shares. */
#ifndef KILN_H
#define KILN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Exit codes: a contract, listed in the README ("Exit codes"). */
enum {
	KILN_EXIT_OK = 0,
	KILN_EXIT_FAILED = 1,
	KILN_EXIT_USAGE = 2,	/* bad usage or bad input */
	KILN_EXIT_REFUSED = 3,	/* refused by lifecycle policy */
	KILN_EXIT_INTEGRITY = 4,	/* hash or signature mismatch */
	KILN_EXIT_FETCH = 5,	/* fetch or network error */
};

/*
 * The one error a failed call records. Library code never prints: it fills
 * this and returns -1 (or NULL); the CLI prints "kiln CMD: message".
 */
/* What kind of failure an error is, for code to test (never the message's text). */
enum kiln_err_kind {
	KILN_ERR_OTHER = 0,
	KILN_ERR_NOT_FOUND,	/* a file or resource that is not there */
	KILN_ERR_TOO_LARGE,	/* over the size allowed */
	KILN_ERR_CONFLICT,	/* a clash with what exists (HTTP 409) */
};

/* The run's settings: one struct, set up once (the CLI's options), passed by reference. */
struct kiln_settings {
	time_t now;		/* the clock (--now / KILN_NOW), for Valid-Until etc. */
	int offline;		/* never touch the network */
	int allow_expired;	/* accept a Valid-Until in the past */
	int allow_older_index;	/* accept a signed index older than one already accepted (rollback) */
	const char *store;	/* borrowed: image store directory */
};

/* Defaults: the real time, online, store "images". */
void kiln_settings_init(struct kiln_settings *s);

/*
 * A call's context: the error slot, which is its own, and the run's
 * settings, which are borrowed (@set is never NULL after kiln_ctx_init()).
 */
struct kiln_ctx {
	int code;		/* KILN_EXIT_* of the last error, 0 if none */
	enum kiln_err_kind kind;	/* of the last error */
	int err;		/* its errno, where there is one, else 0 */
	char msg[1024];
	const struct kiln_settings *set;
};

/* An empty error slot with default settings (a process-wide default, real time at its first use). */
void kiln_ctx_init(struct kiln_ctx *ctx);
/* An empty error slot of its own that shares @parent's settings (for a try whose error may be dropped). */
void kiln_ctx_sub(struct kiln_ctx *sub, const struct kiln_ctx *parent);

/* Records an error on @ctx and returns -1. The first error wins until reset. */
int kiln_error(struct kiln_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like kiln_error() but replaces an error already recorded. */
int kiln_error_replace(struct kiln_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kiln_error_clear(struct kiln_ctx *ctx);
/* Sets the kind (and errno) of the error just recorded; returns -1, for "return kiln_error_as(...)". */
int kiln_error_as(struct kiln_ctx *ctx, enum kiln_err_kind kind, int err);

/* Cleanup helpers (systemd style). */
static inline void kiln_freep(void *p) { free(*(void **)p); }
static inline void kiln_fclosep(FILE **f) { if (*f) fclose(*f); }
void kiln_closep(int *fd);
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(kiln_freep)
#define _cleanup_fclose_ _cleanup_(kiln_fclosep)
#define _cleanup_close_ _cleanup_(kiln_closep)
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on OOM: kiln treats running out of memory as fatal. */
void *kiln_malloc(size_t n);
void *kiln_calloc(size_t n, size_t m);
void *kiln_realloc(void *p, size_t n);
char *kiln_strdup(const char *s);
char *kiln_strndup(const char *s, size_t n);
char *kiln_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NULL-terminated, growable vector of owned strings. */
struct kiln_strv {
	char **v;
	size_t n, alloc;
};
void kiln_strv_push(struct kiln_strv *sv, const char *s);
void kiln_strv_push_take(struct kiln_strv *sv, char *s);
int kiln_strv_contains(const struct kiln_strv *sv, const char *s);
void kiln_strv_release(struct kiln_strv *sv);
static inline void kiln_strv_releasep(struct kiln_strv *sv) { kiln_strv_release(sv); }
/* Splits @s at ASCII whitespace, appending each word. */
void kiln_strv_split(struct kiln_strv *sv, const char *s);

/* A map from strings (copied in) to numbers, e.g. paths to indexes; open addressing. */
struct kiln_strmap {
	struct kiln_strmap_slot *slots;
	size_t size, n;
};
/* 1 and *@ret_val when @key is there, else 0. */
int kiln_strmap_get(const struct kiln_strmap *m, const char *key, size_t *ret_val);
/* Sets @key to @val (a new key or a new value). */
void kiln_strmap_put(struct kiln_strmap *m, const char *key, size_t val);
void kiln_strmap_release(struct kiln_strmap *m);

/* A growable byte buffer, always NUL-terminated. */
struct kiln_buf {
	char *data;
	size_t len, alloc;
};
void kiln_buf_add(struct kiln_buf *b, const void *p, size_t n);
void kiln_buf_addf(struct kiln_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kiln_buf_release(struct kiln_buf *b);
char *kiln_buf_detach(struct kiln_buf *b, size_t *ret_len);

/*
 * kiln_read_file() - read a whole file of at most @max bytes
 * Returns 0 and a new NUL-terminated buffer in *@ret_data (caller frees), or
 * -1 with an error on @ctx (exit 2: the file is input).
 */
int kiln_read_file(struct kiln_ctx *ctx, const char *path, size_t max,
		   char **ret_data, size_t *ret_len);

/*
 * kiln_read_file_beneath() - read @relpath, which must stay inside @dir
 * Resolved by the kernel beneath @dir (openat2 RESOLVE_BENEATH: no absolute
 * path, no ".." out of it, no symlink leading out, no /proc magic links);
 * only a regular file of at most @max bytes is read, so a FIFO or a device
 * cannot hang or feed the caller. Errors are exit 2 with the reason.
 */
int kiln_read_file_beneath(struct kiln_ctx *ctx, const char *dir, const char *relpath, size_t max,
			   char **ret_data, size_t *ret_len);

/* An unlinked file open for reading and writing beside @path (same filesystem, gone with the process); -1 with one error. */
int kiln_tmpfile_beside(struct kiln_ctx *ctx, const char *path);

/* Writes all @len bytes to @fd (retrying short writes and EINTR); -1 with errno. */
int kiln_write_all(int fd, const void *data, size_t len);

/*
 * kiln_write_atomic() - write @len bytes to @path through a temporary file
 * in the same directory, fsync and rename. Nothing is left on failure.
 */
int kiln_write_atomic(struct kiln_ctx *ctx, const char *path, const void *data,
		      size_t len, int mode);

/* mkdir -p; returns 0 or -1 with an error on @ctx. */
int kiln_mkdir_p(struct kiln_ctx *ctx, const char *path, int mode);

/* SHA-256 of the file at @path, streamed, into @hex[65]; -1 (errno set) if it cannot be read. */
int kiln_file_sha256(const char *path, char hex[65]);

/* SHA-256 of @len bytes as 64 lowercase hex digits into @hex[65]. */
void kiln_sha256_hex(const void *data, size_t len, char hex[65]);
int kiln_is_sha256_hex(const char *s);
/* Incremental SHA-256 (for streams). */
struct kiln_sha256_stream *kiln_sha256_stream_new(void);
void kiln_sha256_stream_add(struct kiln_sha256_stream *h, const void *data, size_t len);
/* Writes the hex digest and frees @h. */
void kiln_sha256_stream_end(struct kiln_sha256_stream *h, char hex[65]);
/* @bytes (at most 64) random bytes as hex into @hex[2 * bytes + 1]; -1 without randomness. */
int kiln_random_hex(char *hex, size_t bytes);
/* Sorts @sv (byte order); empty vectors are fine. */
void kiln_strv_sort(struct kiln_strv *sv);
/* strcmp for qsort over char *. */
int kiln_strcmp_p(const void *a, const void *b);
/* Decodes base64 (newlines allowed) into a new buffer; -1 if malformed. */
int kiln_base64_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len);

/*
 * Ed25519 (OpenSSL): kiln_keygen() writes PATH (PEM private key, 0600) and
 * PATH.pub, refusing to overwrite either (exit 2); kiln_sign() returns the
 * base64 signature of @data plus a newline (caller frees); kiln_verify()
 * checks one, exit 4 when it does not verify. @what names the signed file.
 */
int kiln_keygen(struct kiln_ctx *ctx, const char *path);
int kiln_sign(struct kiln_ctx *ctx, const char *key_path, const void *data, size_t len, char **ret_b64);
int kiln_verify(struct kiln_ctx *ctx, const char *pub_path, const void *data, size_t len, const char *sig_b64,
		size_t sig_len, const char *what);
/* Same, with the public key's PEM text. */
int kiln_verify_pem(struct kiln_ctx *ctx, const char *pem, const void *data, size_t len, const char *sig_b64,
		    size_t sig_len, const char *what);

/*
 * Ed25519 in TUF's encoding (raw keys and signatures as hex): the public
 * half of the key at @key_path (a private key when @private, else a
 * public one); a signature of @data; whether @sig_hex verifies @data with
 * @pub_hex (1), else 0 (malformed input included).
 */
int kiln_key_public_hex(struct kiln_ctx *ctx, const char *key_path, int private, char hex[65]);
int kiln_sign_hex(struct kiln_ctx *ctx, const char *key_path, const void *data, size_t len, char hex[129]);
int kiln_verify_raw_hex(const char *pub_hex, const void *data, size_t len, const char *sig_hex);

/* A size: N, or N with K, M, G or T (binary multiples), not 0: 0, or -1 if not one (recipes' [Limits], --volume). */
int kiln_parse_size(const char *s, uint64_t *ret);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" (UTC); -1 if not one. */
int kiln_parse_iso8601(const char *s, time_t *ret);
/* Parses an RFC 2822 date as in Release files ("Sat, 17 May 2025 08:33:43 UTC"). */
int kiln_parse_rfc2822(const char *s, time_t *ret);
/* Formats @t as "YYYY-MM-DDTHH:MM:SSZ" into @out[21]. */
void kiln_format_iso8601(time_t t, char out[21]);

/*
 * kiln_foreach_config_line() - call @fn for each line of @text that is
 * neither blank nor a '#' comment, with surrounding blanks trimmed and its
 * line number; stops at the first -1. A NUL byte is exit 2 naming @origin.
 * For the line-based files packages ship (sysusers.d, tmpfiles.d, passwd).
 */
int kiln_foreach_config_line(struct kiln_ctx *ctx, const char *text, size_t len, const char *origin, void *user,
			     int (*fn)(struct kiln_ctx *ctx, void *user, char *line, int lineno));

/* Seconds on the monotonic clock, for durations. */
/*
 * kiln_run() - run @argv (argv[0] looked up in PATH) to its end, stdin and
 * stdout on /dev/null, LC_ALL=C plus @env ("NAME=VALUE", NULL-terminated,
 * may be NULL). 0 when it exits 0; else exit 1 with the last line of its
 * stderr, or naming @package (the Debian package that ships it) when it is
 * not installed.
 */
int kiln_run(struct kiln_ctx *ctx, const char *const *argv, const char *const *env, const char *package);

double kiln_monotonic_s(void);

int kiln_streq_ptr(const char *a, const char *b);
int kiln_startswith(const char *s, const char *prefix);

#endif
