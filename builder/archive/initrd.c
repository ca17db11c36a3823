/* initrd.c - the initramfs as segments: written through the store's cache, read back as the kernel unpacks it. */
#define _GNU_SOURCE
#include "initrd.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK 65536
#define KILN_CPIO_NAME_MAX 4096	/* PATH_MAX: the kernel's bound on a name and a symlink's target */
#define JOBS_MAX 4		/* xz -6 takes about 94 MiB per encoder */

/*
 * A segment waiting for its turn in the file: compressed by a thread of its
 * own (a cache miss), or a cache entry already checked, copied when every
 * segment before it is in (and checked again on the way).
 */
struct job {
	struct job *next;
	int src;			/* the uncompressed segment (a miss), or -1 */
	int dst;			/* what it compressed to: the cache's temporary file, or an unlinked one */
	char *tmp, *file, *side;	/* the cache's names, or NULL without a cache */
	char want[65];			/* a cache entry's recorded SHA-256 */
	const char *compression;
	int x86;
	pthread_t thread;
	int started, rc;
	int done;			/* the thread has finished (under w->lock) */
	struct kiln_initrd *w;
	struct kiln_ctx ctx;		/* the thread's error */
	char buf[CHUNK], zbuf[CHUNK];
};

struct kiln_initrd {
	char *path;
	int out;			/* the initramfs */
	int tmp;			/* the segment being written, uncompressed */
	struct kiln_cpio *cpio;
	struct kiln_sha256_stream *hash;	/* of the segment being written */
	char *compression, *cache_dir;
	int x86;
	size_t jobs_max, running;	/* threads at most, and running now (under lock) */
	pthread_mutex_t lock;
	pthread_cond_t finished;
	struct job *head, *tail;	/* in the file's order */
	struct kiln_initrd_stats st;
	char buf[CHUNK];
};

struct kiln_initrd *
kiln_initrd_create(struct kiln_ctx *ctx, const char *path, const struct kiln_initrd_opts *o)
{
	struct kiln_initrd *w = kiln_calloc(1, sizeof(*w));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	w->path = kiln_strdup(path);
	w->compression = kiln_strdup(o->compression);
	w->cache_dir = o->cache_dir && strcmp(o->compression, "none") != 0 ? kiln_strdup(o->cache_dir) : NULL;
	w->x86 = o->x86;
	w->jobs_max = cpus < 1 ? 1 : cpus > JOBS_MAX ? JOBS_MAX : (size_t)cpus;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->finished, NULL);
	w->tmp = -1;
	w->out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->out < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", path, strerror(errno));
		kiln_initrd_abort(w);
		return NULL;
	}
	w->tmp = kiln_tmpfile_beside(ctx, path);
	if (w->tmp < 0 || (w->cache_dir && kiln_mkdir_p(ctx, w->cache_dir, 0755) < 0)) {
		kiln_initrd_abort(w);
		return NULL;
	}
	return w;
}

struct kiln_cpio *
kiln_initrd_segment(struct kiln_ctx *ctx, struct kiln_initrd *w)
{
	if (ftruncate(w->tmp, 0) < 0 || lseek(w->tmp, 0, SEEK_SET) < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot reuse a temporary file: %s", strerror(errno));
		return NULL;
	}
	w->hash = kiln_sha256_stream_new();
	w->cpio = kiln_cpio_open_fd(ctx, w->tmp, w->hash);
	return w->cpio;
}

/* Copies what @in holds from offset 0 to @out (-1: nowhere), adding it to @hash when not NULL. */
static int
copy_fd(struct kiln_ctx *ctx, const char *what, char *buf, int in, int out, struct kiln_sha256_stream *hash)
{
	ssize_t n;

	if (lseek(in, 0, SEEK_SET) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read a segment back: %s", strerror(errno));
	while ((n = read(in, buf, CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read a segment back: %s", strerror(errno));
		if (hash)
			kiln_sha256_stream_add(hash, buf, (size_t)n);
		if (out >= 0 && kiln_write_all(out, buf, (size_t)n) < 0)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", what, strerror(errno));
	}
	return 0;
}

/*
 * xz through liblzma rather than libarchive, which cannot add the x86
 * branch filter: CRC32, the only check every kernel's decoder knows; one
 * thread per stream, so the bytes depend on the data, the preset and
 * liblzma only.
 */
static int
xz_compress(struct job *j, const char *level)
{
	lzma_options_lzma opt;
	lzma_filter filters[3];
	lzma_stream s = LZMA_STREAM_INIT;
	uint32_t preset = level ? (uint32_t)(level[0] - '0') : 6;
	lzma_action action = LZMA_RUN;
	size_t nf = 0;
	int rc = 0;

	if (level && level[1] == 'e')
		preset |= LZMA_PRESET_EXTREME;
	if (lzma_lzma_preset(&opt, preset))
		return kiln_error(&j->ctx, KILN_EXIT_USAGE, "bad xz level '%s'", level);
	if (j->x86)
		filters[nf++] = (lzma_filter){ LZMA_FILTER_X86, NULL };
	filters[nf++] = (lzma_filter){ LZMA_FILTER_LZMA2, &opt };
	filters[nf] = (lzma_filter){ LZMA_VLI_UNKNOWN, NULL };
	if (lzma_stream_encoder(&s, filters, LZMA_CHECK_CRC32) != LZMA_OK)
		return kiln_error(&j->ctx, KILN_EXIT_FAILED, "cannot start the xz encoder");
	if (lseek(j->src, 0, SEEK_SET) < 0)
		rc = kiln_error(&j->ctx, KILN_EXIT_FAILED, "cannot read a segment back: %s", strerror(errno));
	s.next_out = (uint8_t *)j->zbuf;
	s.avail_out = sizeof(j->zbuf);
	while (rc == 0) {
		lzma_ret r;

		if (s.avail_in == 0 && action == LZMA_RUN) {
			ssize_t n = read(j->src, j->buf, sizeof(j->buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = kiln_error(&j->ctx, KILN_EXIT_FAILED, "cannot read a segment back: %s", strerror(errno));
				break;
			}
			s.next_in = (const uint8_t *)j->buf;
			s.avail_in = (size_t)n;
			if (n == 0)
				action = LZMA_FINISH;
		}
		r = lzma_code(&s, action);
		if (s.avail_out == 0 || r == LZMA_STREAM_END) {
			if (kiln_write_all(j->dst, j->zbuf, sizeof(j->zbuf) - s.avail_out) < 0)
				rc = kiln_error(&j->ctx, KILN_EXIT_FAILED, "cannot write a compressed segment: %s", strerror(errno));
			s.next_out = (uint8_t *)j->zbuf;
			s.avail_out = sizeof(j->zbuf);
		}
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK && rc == 0)
			rc = kiln_error(&j->ctx, KILN_EXIT_FAILED, "xz encoder failed (%d)", (int)r);
	}
	lzma_end(&s);
	return rc;
}

/* A thread: one segment compressed from j->src to j->dst. */
static void *
compress_job(void *arg)
{
	struct job *j = arg;
	const char *level = strchr(j->compression, ':');

	if (kiln_startswith(j->compression, "xz"))
		j->rc = xz_compress(j, level ? level + 1 : NULL);
	else if (lseek(j->src, 0, SEEK_SET) < 0)
		j->rc = kiln_error(&j->ctx, KILN_EXIT_FAILED, "cannot read a segment back: %s", strerror(errno));
	else
		j->rc = kiln_compress_fd(&j->ctx, j->src, j->dst, j->compression);
	pthread_mutex_lock(&j->w->lock);
	j->done = 1;
	j->w->running--;
	pthread_cond_signal(&j->w->finished);
	pthread_mutex_unlock(&j->w->lock);
	return NULL;
}

/* The cache's name for a segment: its content, how it is compressed, and by which library. */
static char *
segment_key(const struct kiln_initrd *w, const char *content)
{
	const char *lib = kiln_startswith(w->compression, "xz") ? lzma_version_string()
		: kiln_startswith(w->compression, "zstd") ? ZSTD_versionString() : zlibVersion();
	_cleanup_free_ char *what = kiln_asprintf("kiln initramfs segment 1\n%s\nx86=%d\n%s %s\n%s\n", w->compression, w->x86,
						  archive_version_string(), lib, content);
	char hex[65];

	kiln_sha256_hex(what, strlen(what), hex);
	return kiln_strdup(hex);
}

static void
job_free(struct job *j)
{
	if (j->started)
		pthread_join(j->thread, NULL);
	if (j->src >= 0)
		close(j->src);
	if (j->dst >= 0)
		close(j->dst);
	if (j->tmp)
		unlink(j->tmp);
	free(j->tmp);
	free(j->file);
	free(j->side);
	free(j);
}

/*
 * The first job in the file: its segment appended (a compressed one once its
 * thread is done, then put in the cache under its hash; a cache entry if it
 * still has its recorded hash).
 */
static int
append_head(struct kiln_ctx *ctx, struct kiln_initrd *w)
{
	struct job *j = w->head;
	struct kiln_sha256_stream *h = kiln_sha256_stream_new();
	char got[65], line[66];
	int rc = 0;

	w->head = j->next;
	if (!w->head)
		w->tail = NULL;
	if (j->started) {
		pthread_join(j->thread, NULL);
		j->started = 0;
		if (j->rc < 0)
			rc = kiln_error(ctx, j->ctx.code, "%s", j->ctx.msg);
	}
	if (rc == 0)
		rc = copy_fd(ctx, w->path, w->buf, j->dst, w->out, h);
	kiln_sha256_stream_end(h, got);
	if (rc == 0 && j->src < 0 && strcmp(got, j->want) != 0) {
		unlink(j->file);
		unlink(j->side);
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY,
				"the cached segment '%s' changed while the build used it (SHA256 %s, not %s); removed", j->file,
				got, j->want);
	}
	if (rc == 0 && j->src >= 0 && j->tmp) {	/* a new cache entry, hash beside it */
		if (fsync(j->dst) < 0 || rename(j->tmp, j->file) < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", j->file, strerror(errno));
		snprintf(line, sizeof(line), "%s\n", got);
		if (rc == 0) {
			free(j->tmp);
			j->tmp = NULL;
			rc = kiln_write_atomic(ctx, j->side, line, strlen(line), 0644);
		}
	}
	job_free(j);
	return rc;
}

static void
enqueue(struct kiln_initrd *w, struct job *j)
{
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
}

/* Appends the jobs at the head that are ready: cache entries, finished threads. */
static int
append_ready(struct kiln_ctx *ctx, struct kiln_initrd *w)
{
	for (;;) {
		int ready;

		if (!w->head)
			return 0;
		pthread_mutex_lock(&w->lock);
		ready = !w->head->started || w->head->done;
		pthread_mutex_unlock(&w->lock);
		if (!ready || append_head(ctx, w) < 0)
			return ready ? -1 : 0;
	}
}

/* The SHA-256 a cache entry should have (0), or -1 when it is absent. */
static int
recorded(const char *side, char want[65])
{
	_cleanup_free_ char *data = NULL;
	struct kiln_ctx sub;
	size_t len;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, side, 128, &data, &len) < 0)
		return -1;
	data[strcspn(data, "\n")] = '\0';
	if (!kiln_is_sha256_hex(data))
		return -1;
	memcpy(want, data, 65);
	return 0;
}

/* A cache entry with its recorded hash, queued: 1; 0 when there is none, or it changed (then removed, with a warning). */
static int
queue_cached(struct kiln_ctx *ctx, struct kiln_initrd *w, const char *file, const char *side)
{
	struct job *j = kiln_calloc(1, sizeof(*j));
	struct kiln_sha256_stream *h;
	char got[65];
	int rc;

	j->src = -1;
	j->dst = -1;
	if (recorded(side, j->want) < 0 || (j->dst = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		job_free(j);
		return 0;
	}
	h = kiln_sha256_stream_new();
	rc = copy_fd(ctx, file, w->buf, j->dst, -1, h);
	kiln_sha256_stream_end(h, got);
	if (rc < 0) {
		job_free(j);
		return -1;
	}
	if (strcmp(got, j->want) != 0) {	/* changed since kiln wrote it: never used, made again */
		unlink(file);
		unlink(side);
		kiln_strv_push_take(&w->st.warnings,
				    kiln_asprintf("the cached segment '%s' changed since kiln made it (SHA256 %s, not %s): removed and made again",
						  file, got, j->want));
		job_free(j);
		return 0;
	}
	j->file = kiln_strdup(file);
	j->side = kiln_strdup(side);
	enqueue(w, j);
	return 1;
}

/* The segment in w->tmp, compressed by a thread of its own; w->tmp is a fresh file for the next one. */
static int
queue_compress(struct kiln_ctx *ctx, struct kiln_initrd *w, const char *file, const char *side)
{
	struct job *j = kiln_calloc(1, sizeof(*j));
	int next;

	j->dst = -1;
	j->src = -1;
	j->compression = w->compression;
	j->x86 = w->x86;
	kiln_ctx_init(&j->ctx);
	if (file) {
		j->tmp = kiln_asprintf("%s.tmp.%d.XXXXXX", file, (int)getpid());
		j->dst = mkostemp(j->tmp, O_CLOEXEC);
		if (j->dst < 0) {
			kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", j->tmp, strerror(errno));
			free(j->tmp);
			j->tmp = NULL;
			job_free(j);
			return -1;
		}
		j->file = kiln_strdup(file);
		j->side = kiln_strdup(side);
	} else if ((j->dst = kiln_tmpfile_beside(ctx, w->path)) < 0) {
		job_free(j);
		return -1;
	}
	if ((next = kiln_tmpfile_beside(ctx, w->path)) < 0) {
		job_free(j);
		return -1;
	}
	j->src = w->tmp;
	w->tmp = next;
	j->w = w;
	/* a free thread: wait for one to finish, appending what is ready meanwhile (in order: a long segment first holds up only the appending) */
	pthread_mutex_lock(&w->lock);
	while (w->running >= w->jobs_max)
		pthread_cond_wait(&w->finished, &w->lock);
	w->running++;
	pthread_mutex_unlock(&w->lock);
	if (pthread_create(&j->thread, NULL, compress_job, j) != 0) {
		pthread_mutex_lock(&w->lock);
		w->running--;
		pthread_mutex_unlock(&w->lock);
		job_free(j);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot start a thread");
	}
	j->started = 1;
	enqueue(w, j);
	return append_ready(ctx, w);
}

int
kiln_initrd_segment_end(struct kiln_ctx *ctx, struct kiln_initrd *w)
{
	_cleanup_free_ char *key = NULL, *file = NULL, *side = NULL;
	char content[65];
	int rc = kiln_cpio_close(ctx, w->cpio);

	w->cpio = NULL;
	kiln_sha256_stream_end(w->hash, content);
	w->hash = NULL;
	if (rc < 0)
		return -1;
	w->st.segments++;
	if (strcmp(w->compression, "none") == 0) {
		while (w->head)
			if (append_head(ctx, w) < 0)
				return -1;
		return copy_fd(ctx, w->path, w->buf, w->tmp, w->out, NULL);
	}
	if (w->cache_dir) {
		key = segment_key(w, content);
		file = kiln_asprintf("%s/%s", w->cache_dir, key);
		side = kiln_asprintf("%s.sha256", file);
		rc = queue_cached(ctx, w, file, side);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			w->st.reused++;
			return append_ready(ctx, w);
		}
	}
	return queue_compress(ctx, w, file, side);
}

int
kiln_initrd_close(struct kiln_ctx *ctx, struct kiln_initrd *w, struct kiln_initrd_stats *ret_stats)
{
	int rc = 0;

	while (w->head && rc == 0)
		rc = append_head(ctx, w);
	if (rc == 0 && fsync(w->out) < 0)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", w->path, strerror(errno));
	if (close(w->out) < 0 && rc == 0)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", w->path, strerror(errno));
	w->out = -1;
	if (ret_stats && rc == 0) {
		*ret_stats = w->st;
		memset(&w->st, 0, sizeof(w->st));
	}
	kiln_initrd_abort(w);
	return rc;
}

void
kiln_initrd_stats_release(struct kiln_initrd_stats *s)
{
	kiln_strv_release(&s->warnings);
	memset(s, 0, sizeof(*s));
}

void
kiln_initrd_abort(struct kiln_initrd *w)
{
	if (!w)
		return;
	while (w->head) {	/* every thread joined, every temporary file gone */
		struct job *j = w->head;

		w->head = j->next;
		job_free(j);
	}
	kiln_cpio_abort(w->cpio);
	if (w->hash) {
		char hex[65];

		kiln_sha256_stream_end(w->hash, hex);
	}
	if (w->out >= 0)
		close(w->out);
	if (w->tmp >= 0)
		close(w->tmp);
	kiln_initrd_stats_release(&w->st);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->finished);
	free(w->path);
	free(w->compression);
	free(w->cache_dir);
	free(w);
}

struct seqline {
	const char *line;
	size_t seq;
};

static size_t
path_len(const char *line)
{
	return strcspn(line, "\t");
}

/* By path, then by position in the archive. */
static int
seqline_cmp(const void *a, const void *b)
{
	const struct seqline *x = a, *y = b;
	size_t lx = path_len(x->line), ly = path_len(y->line);
	int c = memcmp(x->line, y->line, lx < ly ? lx : ly);

	if (c)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
kiln_initrd_files_tsv(struct kiln_ctx *ctx, const char *path, char **ret_tsv, size_t *ret_count)
{
	return kiln_initrd_scan(ctx, path, NULL, NULL, ret_tsv, ret_count);
}

struct head_sum {
	int64_t size;
	char hex[65];
};

struct scan {
	const char *path;
	const char *const *capture;
	char **captured;
	struct kiln_strv lines;
	struct kiln_strmap heads;	/* first names of multiply linked files -> sums */
	struct head_sum *sums;
	uint64_t decoded;	/* bytes all streams decompressed to */
	const char *err;	/* why a source failed, for the message */
	char buf[65536];
};

/* One regular file's content: hashed, and kept when @s->capture names it. */
static int
scan_content(struct scan *s, struct archive *a, const char *name, int64_t *ret_size, char hex[65])
{
	struct kiln_sha256_stream *h = kiln_sha256_stream_new();
	struct kiln_buf keep = { 0 };
	ssize_t want = -1;
	int64_t size = 0;
	la_ssize_t n;

	for (size_t i = 0; s->capture && s->capture[i]; i++)
		if (strcmp(s->capture[i], name) == 0)
			want = (ssize_t)i;
	while ((n = archive_read_data(a, s->buf, sizeof(s->buf))) > 0) {
		kiln_sha256_stream_add(h, s->buf, n);
		size += n;
		if (want >= 0 && keep.len + (size_t)n <= KILN_INITRD_CAPTURE_MAX)
			kiln_buf_add(&keep, s->buf, (size_t)n);
	}
	if (want >= 0 && size <= KILN_INITRD_CAPTURE_MAX) {
		free(s->captured[want]);	/* as the kernel unpacks it: the last one wins */
		kiln_buf_add(&keep, "", 0);
		s->captured[want] = kiln_buf_detach(&keep, NULL);
	}
	kiln_buf_release(&keep);
	kiln_sha256_stream_end(h, hex);
	*ret_size = size;
	return n < 0 ? -1 : 0;
}

/* Every entry of the archive as a files.tsv line in @s->lines; -1 with one error. */
static int
scan_entries(struct kiln_ctx *ctx, struct scan *s, struct archive *a)
{
	struct archive_entry *ae;
	int rc;

	while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		unsigned mode = archive_entry_mode(ae);
		char hex[65] = "-";
		int64_t size = 0;
		size_t at;

		if (!name)
			break;
		for (const char *c = name; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': an entry's name has a control character", s->path);
		if (s->lines.n >= KILN_INITRD_ENTRIES_MAX)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' has more than %d entries", s->path,
					  KILN_INITRD_ENTRIES_MAX);
		if (S_ISREG(mode) && archive_entry_hardlink(ae)) {
			/* another name of an earlier entry's inode: the kernel links it, its content is that entry's */
			if (archive_entry_size(ae) != 0 || !kiln_strmap_get(&s->heads, archive_entry_hardlink(ae), &at))
				return kiln_error(ctx, KILN_EXIT_INTEGRITY,
						  "'%s': the hard link '/%s' carries content of its own (kiln writes it with the link's first name)",
						  s->path, name);
			size = s->sums[at].size;
			memcpy(hex, s->sums[at].hex, sizeof(hex));
		} else if (S_ISREG(mode)) {
			if (scan_content(s, a, name, &size, hex) < 0) {
				rc = ARCHIVE_FATAL;
				break;
			}
			if (archive_entry_nlink(ae) > 1) {	/* its later names say only "hard link to this" */
				s->sums = kiln_realloc(s->sums, (s->heads.n + 1) * sizeof(*s->sums));
				s->sums[s->heads.n].size = size;
				memcpy(s->sums[s->heads.n].hex, hex, sizeof(hex));
				kiln_strmap_put(&s->heads, name, s->heads.n);
			}
		} else if (S_ISLNK(mode) && archive_entry_symlink(ae)) {
			size = (int64_t)strlen(archive_entry_symlink(ae));
			kiln_sha256_hex(archive_entry_symlink(ae), (size_t)size, hex);
		}
		kiln_strv_push_take(&s->lines, kiln_asprintf("/%s\t%06o\t%u\t%u\t%lld\t%s\n", name, mode,
							     (unsigned)archive_entry_uid(ae), (unsigned)archive_entry_gid(ae),
							     (long long)size, hex));
	}
	if (rc != ARCHIVE_EOF)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a readable initramfs: %s", s->path,
				  s->err ? s->err : archive_error_string(a));
	return 0;
}

/* As the kernel unpacks it: a path given twice is what its last entry says. */
static char *
last_wins(const struct kiln_strv *lines, size_t *ret_count)
{
	struct seqline *sl = kiln_calloc(lines->n ? lines->n : 1, sizeof(*sl));
	struct kiln_buf out = { 0 };
	size_t count = 0;

	for (size_t i = 0; i < lines->n; i++) {
		sl[i].line = lines->v[i];
		sl[i].seq = i;
	}
	qsort(sl, lines->n, sizeof(*sl), seqline_cmp);
	for (size_t i = 0; i < lines->n; i++) {
		if (i + 1 < lines->n && path_len(sl[i].line) == path_len(sl[i + 1].line) &&
		    memcmp(sl[i].line, sl[i + 1].line, path_len(sl[i].line)) == 0)
			continue;
		kiln_buf_add(&out, sl[i].line, strlen(sl[i].line));
		count++;
	}
	free(sl);
	*ret_count = count;
	kiln_buf_add(&out, "", 0);
	return kiln_buf_detach(&out, NULL);
}


/*
 * What the kernel reads, as a source of bytes: the file itself, or one
 * compressed stream in it, decoded. A decoder reads its input from its
 * parent and, at the stream's end, gives back what it did not use.
 */
enum src_kind { SRC_FILE, SRC_GZIP, SRC_XZ, SRC_ZSTD };

struct src {
	enum src_kind kind;
	struct scan *scan;
	int fd;				/* SRC_FILE */
	struct src *parent;		/* the decoders' */
	unsigned char *back;		/* given back, read first */
	size_t back_len, back_off;
	uint64_t pos;			/* bytes read from it so far, less those given back */
	int ended;
	unsigned char in[CHUNK];	/* compressed input */
	size_t in_len, in_off;
	z_stream gz;
	lzma_stream xz;
	ZSTD_DStream *zs;
	/* the last two chunks given to libarchive, for what it read ahead of the archive's end */
	unsigned char chunk[2][CHUNK];
	size_t chunk_len[2];
	int cur;
	uint64_t delivered;
	/* the headers of the archive being read, checked before libarchive reads them */
	struct {
		uint64_t next;			/* where the next header starts */
		size_t have, need;		/* of header and name, collected / wanted */
		unsigned long namesize, filesize;
		int done;			/* past the trailer */
		unsigned char buf[110 + KILN_CPIO_NAME_MAX];
	} sh;
};

static void
src_unread(struct src *s, const void *data, size_t len)
{
	unsigned char *b;

	if (!len)
		return;
	b = kiln_malloc(len + s->back_len - s->back_off);
	memcpy(b, data, len);
	if (s->back_len > s->back_off)
		memcpy(b + len, s->back + s->back_off, s->back_len - s->back_off);
	free(s->back);
	s->back = b;
	s->back_len = len + s->back_len - s->back_off;
	s->back_off = 0;
	s->pos -= len;
}

static ssize_t src_read(struct src *s, void *buf, size_t max);

/* One step of the decoder: some output, 0 at the stream's end, -1 for an error in s->scan->err. */
static ssize_t
decode(struct src *s, unsigned char *buf, size_t max)
{
	for (;;) {
		size_t before = s->in_off, out = 0;
		int end = 0;

		if (s->ended)
			return 0;
		if (s->in_off == s->in_len) {
			ssize_t n = src_read(s->parent, s->in, sizeof(s->in));

			if (n < 0)
				return -1;
			if (n == 0) {
				s->scan->err = "a compressed stream is cut short";
				return -1;
			}
			s->in_len = (size_t)n;
			s->in_off = before = 0;
		}
		if (s->kind == SRC_GZIP) {
			int r;

			s->gz.next_in = s->in + s->in_off;
			s->gz.avail_in = (uInt)(s->in_len - s->in_off);
			s->gz.next_out = buf;
			s->gz.avail_out = (uInt)max;
			r = inflate(&s->gz, Z_NO_FLUSH);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
				s->scan->err = "corrupt gzip data";
				return -1;
			}
			s->in_off = s->in_len - s->gz.avail_in;
			out = max - s->gz.avail_out;
			end = r == Z_STREAM_END;
		} else if (s->kind == SRC_XZ) {
			lzma_ret r;

			s->xz.next_in = s->in + s->in_off;
			s->xz.avail_in = s->in_len - s->in_off;
			s->xz.next_out = buf;
			s->xz.avail_out = max;
			r = lzma_code(&s->xz, LZMA_RUN);
			if (r != LZMA_OK && r != LZMA_STREAM_END && r != LZMA_BUF_ERROR) {
				s->scan->err = "corrupt xz data";
				return -1;
			}
			s->in_off = s->in_len - s->xz.avail_in;
			out = max - s->xz.avail_out;
			end = r == LZMA_STREAM_END;
		} else {
			ZSTD_inBuffer zin = { s->in + s->in_off, s->in_len - s->in_off, 0 };
			ZSTD_outBuffer zout = { buf, max, 0 };
			size_t r = ZSTD_decompressStream(s->zs, &zout, &zin);

			if (ZSTD_isError(r)) {
				s->scan->err = "corrupt zstd data";
				return -1;
			}
			s->in_off += zin.pos;
			out = zout.pos;
			end = r == 0;	/* a frame decoded and flushed */
		}
		if (end) {
			s->ended = 1;
			src_unread(s->parent, s->in + s->in_off, s->in_len - s->in_off);
			s->in_off = s->in_len;
		}
		if (out || end)
			return (ssize_t)out;
		if (s->in_off == before && s->in_off < s->in_len) {
			s->scan->err = "a compressed stream does not progress";
			return -1;
		}
	}
}

static ssize_t
src_read(struct src *s, void *buf, size_t max)
{
	ssize_t n;

	if (s->back_off < s->back_len) {
		n = (ssize_t)(s->back_len - s->back_off < max ? s->back_len - s->back_off : max);
		memcpy(buf, s->back + s->back_off, (size_t)n);
		s->back_off += (size_t)n;
		s->pos += (uint64_t)n;
		return n;
	}
	if (s->kind == SRC_FILE) {
		do
			n = read(s->fd, buf, max);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			s->scan->err = strerror(errno);
	} else {
		n = decode(s, buf, max);
		if (n > 0 && (s->scan->decoded += (uint64_t)n) > KILN_INITRD_DECODED_MAX) {
			s->scan->err = "it decompresses to more than 16 GiB";
			return -1;
		}
	}
	if (n > 0)
		s->pos += (uint64_t)n;
	return n;
}

/* Skips zero bytes: the next one, without taking it; -1 at the end, -2 for an error. */
static int
src_peek(struct src *s)
{
	unsigned char c;
	ssize_t n;

	while ((n = src_read(s, &c, 1)) == 1)
		if (c) {
			src_unread(s, &c, 1);
			return c;
		}
	return n == 0 ? -1 : -2;
}

static int
hex8(const unsigned char *p, unsigned long *ret)
{
	unsigned long v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned long)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (unsigned long)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/*
 * The newc headers in @n bytes at the archive's offset s->delivered, checked
 * before libarchive reads them: the kernel's formats only ("070701", or
 * "070702" with a checksum; libarchive would also read formats the kernel
 * does not), hex fields, a name and a symlink's target of at most
 * KILN_CPIO_NAME_MAX bytes (libarchive reads each whole, in a buffer of the
 * size the header claims). -1 with s->scan->err.
 */
static int
check_headers(struct src *s, const unsigned char *p, size_t n)
{
	size_t pos = 0;

	while (!s->sh.done) {
		uint64_t at = s->delivered + pos;
		size_t take;

		if (s->sh.have == 0 && at < s->sh.next) {
			if (s->sh.next - at >= n - pos)
				return 0;
			pos += (size_t)(s->sh.next - at);
		}
		take = s->sh.need - s->sh.have < n - pos ? s->sh.need - s->sh.have : n - pos;
		memcpy(s->sh.buf + s->sh.have, p + pos, take);
		s->sh.have += take;
		pos += take;
		if (s->sh.have < s->sh.need)
			return 0;
		if (s->sh.need == 110) {
			unsigned long f[13];

			if (memcmp(s->sh.buf, "07070", 5) != 0 || (s->sh.buf[5] != '1' && s->sh.buf[5] != '2')) {
				s->scan->err = "an entry is not in the kernel's cpio format (newc)";
				return -1;
			}
			for (int i = 0; i < 13; i++)
				if (hex8(s->sh.buf + 6 + 8 * i, &f[i]) < 0) {
					s->scan->err = "a cpio header has a field that is not hexadecimal";
					return -1;
				}
			s->sh.namesize = f[11];
			s->sh.filesize = f[6];
			if (!s->sh.namesize || s->sh.namesize > KILN_CPIO_NAME_MAX ||
			    ((f[1] & 0170000) == 0120000 && s->sh.filesize > KILN_CPIO_NAME_MAX)) {
				s->scan->err = "a cpio entry's name or symlink target is longer than the kernel allows";
				return -1;
			}
			s->sh.need = 110 + s->sh.namesize;
			continue;
		}
		if (s->sh.namesize == 11 && memcmp(s->sh.buf + 110, "TRAILER!!!", 11) == 0) {
			s->sh.done = 1;
			break;
		}
		s->sh.next = ((s->sh.next + 110 + s->sh.namesize + 3) & ~(uint64_t)3) + ((s->sh.filesize + 3) & ~3UL);
		s->sh.have = 0;
		s->sh.need = 110;
	}
	return 0;
}

static la_ssize_t
archive_src_read(struct archive *a, void *user, const void **buf)
{
	struct src *s = user;
	int k = s->cur ^= 1;
	ssize_t n = src_read(s, s->chunk[k], CHUNK);

	(void)a;
	if (n < 0) {
		archive_set_error(a, EIO, "%s", s->scan->err ? s->scan->err : "read error");
		return -1;
	}
	if (check_headers(s, s->chunk[k], (size_t)n) < 0) {
		archive_set_error(a, EINVAL, "%s", s->scan->err);
		return -1;
	}
	s->chunk_len[k] = (size_t)n;
	s->delivered += (uint64_t)n;
	*buf = s->chunk[k];
	return n;
}


/* One cpio archive at the source's position; what libarchive read past its end goes back to the source. */
static int
scan_archive(struct kiln_ctx *ctx, struct scan *sc, struct src *s)
{
	struct archive *a = archive_read_new();
	uint64_t consumed, extra;
	int rc;

	s->delivered = 0;
	s->chunk_len[0] = s->chunk_len[1] = 0;
	memset(&s->sh, 0, sizeof(s->sh));
	s->sh.need = 110;
	archive_read_support_format_cpio(a);
	kiln_strmap_release(&sc->heads);	/* hard links are per archive, as the kernel forgets them at each trailer */
	if (archive_read_open(a, s, NULL, archive_src_read, NULL) != ARCHIVE_OK)
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a readable initramfs: %s", sc->path,
				sc->err ? sc->err : archive_error_string(a));
	else
		rc = scan_entries(ctx, sc, a);
	consumed = (uint64_t)archive_filter_bytes(a, 0);
	archive_read_free(a);
	if (rc < 0)
		return -1;
	extra = s->delivered - consumed;
	if (consumed > s->delivered || extra > s->chunk_len[0] + s->chunk_len[1])
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': cannot tell where an archive ends", sc->path);
	if (extra > s->chunk_len[s->cur]) {	/* it began in the chunk before */
		size_t from_prev = extra - s->chunk_len[s->cur];

		src_unread(s, s->chunk[s->cur], s->chunk_len[s->cur]);
		src_unread(s, s->chunk[s->cur ^ 1] + s->chunk_len[s->cur ^ 1] - from_prev, from_prev);
	} else {
		src_unread(s, s->chunk[s->cur] + s->chunk_len[s->cur] - extra, extra);
	}
	return 0;
}

/*
 * The archives of a source, up to its end (a decoder) or to data that is not
 * an archive (in the file: a compressed stream). The byte there, -1 at the
 * end, -2 after an error.
 */
static int
scan_archives(struct kiln_ctx *ctx, struct scan *sc, struct src *s)
{
	int c;

	while ((c = src_peek(s)) >= 0) {
		if (c != '0')
			return c;
		if (s->pos % 4) {
			kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': an archive does not start on a 4-byte boundary", sc->path);
			return -2;
		}
		if (scan_archive(ctx, sc, s) < 0)
			return -2;
	}
	if (c == -2) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a readable initramfs: %s", sc->path, sc->err);
		return -2;
	}
	return -1;
}

/* A compressed stream at the file's position: every archive in it, which must end with one. */
static int
scan_stream(struct kiln_ctx *ctx, struct scan *sc, struct src *file, int magic)
{
	struct src *d = kiln_calloc(1, sizeof(*d));
	unsigned char m[6] = { 0 };
	ssize_t n = 0, got;
	int rc = 0;

	while (n < (ssize_t)sizeof(m) && (got = src_read(file, m + n, sizeof(m) - (size_t)n)) > 0)
		n += got;
	if (n > 0)
		src_unread(file, m, (size_t)n);
	d->scan = sc;
	d->parent = file;
	d->fd = -1;
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		d->kind = SRC_GZIP;
		if (inflateInit2(&d->gz, 16 + MAX_WBITS) != Z_OK)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot start the gzip decoder");
	} else if (n == 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
		d->kind = SRC_XZ;
		d->xz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&d->xz, (uint64_t)1 << 30, 0) != LZMA_OK)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot start the xz decoder");
	} else if (n >= 4 && memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0) {
		d->kind = SRC_ZSTD;
		d->zs = ZSTD_createDStream();
		if (!d->zs || ZSTD_isError(ZSTD_initDStream(d->zs)))
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot start the zstd decoder");
	} else {
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY,
				"'%s' is not an initramfs kiln reads: at byte %llu, 0x%02x is neither a cpio archive nor gzip, xz or zstd data",
				sc->path, (unsigned long long)file->pos, magic);
		free(d);
		return rc;
	}
	if (rc == 0) {
		int c = scan_archives(ctx, sc, d);

		if (c >= 0)
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY,
					"'%s': a compressed stream holds data that is not an archive (the kernel stops unpacking there)",
					sc->path);
		else if (c == -2)
			rc = -1;
	}
	if (d->kind == SRC_GZIP)
		inflateEnd(&d->gz);
	else if (d->kind == SRC_XZ)
		lzma_end(&d->xz);
	else
		ZSTD_freeDStream(d->zs);
	free(d->back);
	free(d);
	return rc;
}

int
kiln_initrd_scan(struct kiln_ctx *ctx, const char *path, const char *const *capture, char **captured, char **ret_tsv,
		 size_t *ret_count)
{
	struct scan *s = kiln_calloc(1, sizeof(*s));
	struct src *file = kiln_calloc(1, sizeof(*file));
	int rc = 0, c;

	s->path = path;
	s->capture = capture;
	s->captured = captured;
	for (size_t i = 0; capture && capture[i]; i++)
		captured[i] = NULL;
	file->kind = SRC_FILE;
	file->scan = s;
	file->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (file->fd < 0)
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read '%s': %s", path, strerror(errno));
	while (rc == 0 && (c = scan_archives(ctx, s, file)) != -1)
		rc = c == -2 ? -1 : scan_stream(ctx, s, file, c);
	if (rc == 0 && !s->lines.n)
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a readable initramfs: it holds no archive", path);
	if (rc == 0)
		*ret_tsv = last_wins(&s->lines, ret_count);
	for (size_t i = 0; rc < 0 && capture && capture[i]; i++) {
		free(captured[i]);
		captured[i] = NULL;
	}
	if (file->fd >= 0)
		close(file->fd);
	free(file->back);
	free(file);
	kiln_strv_release(&s->lines);
	kiln_strmap_release(&s->heads);
	free(s->sums);
	free(s);
	return rc;
}
