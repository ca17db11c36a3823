/*
 * test-initrd.c - the initramfs as segments: written with each compressor,
 * taken from the cache when a segment's content is the same (bit for bit
 * the same file), a changed cache entry noticed and made again; read back
 * as the kernel unpacks it (every archive, zero padding between, a path
 * given twice is its last entry, hard links per archive), and the refusals:
 * junk, a stream cut short, a misaligned archive, data inside a stream that
 * is not an archive, a cpio format or a name length the kernel does not take.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "initrd.h"

static char dir[] = "/tmp/kiln-test-initrd.XXXXXX";

static char *
at(const char *name)
{
	return kiln_asprintf("%s/%s", dir, name);
}

/* Three segments: a directory and a file; a file with a hard link; the first file again, replaced. */
static void
write_image(const char *path, const char *compression, const char *cache, struct kiln_initrd_stats *st)
{
	struct kiln_initrd_opts o = { compression, 1, cache };
	struct kiln_ctx ctx;
	struct kiln_initrd *w;
	struct kiln_cpio *c;
	int64_t ino = 0;

	kiln_ctx_init(&ctx);
	w = kiln_initrd_create(&ctx, path, &o);
	assert_non_null(w);
	assert_non_null(c = kiln_initrd_segment(&ctx, w));
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc/a", KILN_ENT_FILE, 0644, 0, 0, 0, "first\n", 6, NULL, 0, 0), 0);
	assert_int_equal(kiln_initrd_segment_end(&ctx, w), 0);
	assert_non_null(c = kiln_initrd_segment(&ctx, w));
	assert_int_equal(kiln_cpio_begin_file(&ctx, c, "etc/b", 0755, 0, 0, 0, 4, 2, &ino), 0);
	assert_int_equal(kiln_cpio_write(&ctx, c, "bbb\n", 4), 0);
	assert_int_equal(kiln_cpio_begin_file(&ctx, c, "etc/b2", 0755, 0, 0, 0, 0, 2, &ino), 0);
	assert_int_equal(kiln_initrd_segment_end(&ctx, w), 0);
	assert_non_null(c = kiln_initrd_segment(&ctx, w));
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc/a", KILN_ENT_FILE, 0600, 7, 7, 0, "second\n", 7, NULL, 0, 0), 0);
	assert_int_equal(kiln_initrd_segment_end(&ctx, w), 0);
	assert_int_equal(kiln_initrd_close(&ctx, w, st), 0);
}

static void
check_scan(const char *path)
{
	_cleanup_free_ char *tsv = NULL;
	char a_hex[65], b_hex[65];
	struct kiln_ctx ctx;
	size_t n;
	char *line;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_initrd_files_tsv(&ctx, path, &tsv, &n), 0);
	assert_int_equal(n, 4);
	kiln_sha256_hex("second\n", 7, a_hex);
	kiln_sha256_hex("bbb\n", 4, b_hex);
	line = kiln_asprintf("/etc/a\t100600\t7\t7\t7\t%s\n", a_hex);	/* the last entry wins */
	assert_non_null(strstr(tsv, line));
	free(line);
	line = kiln_asprintf("/etc/b\t100755\t0\t0\t4\t%s\n/etc/b2\t100755\t0\t0\t4\t%s\n", b_hex, b_hex);
	assert_non_null(strstr(tsv, line));	/* the link's name has its inode's content */
	free(line);
	assert_non_null(strstr(tsv, "/etc\t040755\t0\t0\t0\t-\n"));
}

static void
test_compressors(void **state)
{
	static const char *const algs[] = { "xz", "xz:1", "zstd", "gzip", "none" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		_cleanup_free_ char *p = at("img");
		struct kiln_initrd_stats st;

		write_image(p, algs[i], NULL, &st);
		assert_int_equal(st.segments, 3);
		assert_int_equal(st.reused, 0);
		kiln_initrd_stats_release(&st);
		check_scan(p);
		unlink(p);
	}
}

static char *
slurp(const char *path, size_t *len)
{
	struct kiln_ctx ctx;
	char *data;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file(&ctx, path, 1 << 24, &data, len), 0);
	return data;
}

static void
test_cache(void **state)
{
	_cleanup_free_ char *cache = at("cache"), *one = at("one"), *two = at("two"), *three = at("three");
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *victim = NULL;
	struct kiln_initrd_stats st;
	size_t la, lb, lc;
	struct dirent *de;
	DIR *d;
	FILE *f;

	(void)state;
	write_image(one, "xz", cache, &st);
	assert_int_equal(st.reused, 0);
	kiln_initrd_stats_release(&st);
	write_image(two, "xz", cache, &st);
	assert_int_equal(st.segments, 3);
	assert_int_equal(st.reused, 3);
	assert_int_equal(st.warnings.n, 0);
	kiln_initrd_stats_release(&st);
	a = slurp(one, &la);
	b = slurp(two, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);	/* reproducible through the cache */

	/* a cached segment changed behind kiln's back: not used, made again, said */
	d = opendir(cache);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !strstr(de->d_name, ".sha256") && !victim)
			victim = kiln_asprintf("%s/%s", cache, de->d_name);
	closedir(d);
	assert_non_null(victim);
	f = fopen(victim, "r+");
	assert_non_null(f);
	fputs("tampered", f);
	fclose(f);
	write_image(three, "xz", cache, &st);
	assert_int_equal(st.reused, 2);
	assert_int_equal(st.warnings.n, 1);
	assert_non_null(strstr(st.warnings.v[0], "changed since kiln made it"));
	kiln_initrd_stats_release(&st);
	c = slurp(three, &lc);
	assert_int_equal(la, lc);
	assert_memory_equal(a, c, la);
	check_scan(three);

	/* another compressor is another cache entry */
	write_image(three, "gzip", cache, &st);
	assert_int_equal(st.reused, 0);
	kiln_initrd_stats_release(&st);
	check_scan(three);
}

static void
append(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_write_atomic(&ctx, path, data, len, 0644), 0);
}

/* 0, or the exit code; @needle in the message when it fails. */
static int
scan(const char *path, const char *needle)
{
	_cleanup_free_ char *tsv = NULL;
	struct kiln_ctx ctx;
	size_t n;

	kiln_ctx_init(&ctx);
	if (kiln_initrd_files_tsv(&ctx, path, &tsv, &n) == 0)
		return 0;
	if (needle && !strstr(ctx.msg, needle))
		fail_msg("'%s' not in '%s'", needle, ctx.msg);
	return ctx.code;
}

/* A single-archive image of one file, @name = @content, as @compression. */
static char *
one_file(const char *file, const char *compression, const char *name, const char *content)
{
	struct kiln_initrd_opts o = { compression, 0, NULL };
	char *p = at(file);
	struct kiln_ctx ctx;
	struct kiln_initrd *w;
	struct kiln_cpio *c;
	size_t len;

	kiln_ctx_init(&ctx);
	w = kiln_initrd_create(&ctx, p, &o);
	assert_non_null(w);
	assert_non_null(c = kiln_initrd_segment(&ctx, w));
	assert_int_equal(kiln_cpio_add(&ctx, c, name, KILN_ENT_FILE, 0644, 0, 0, 0, content, strlen(content), NULL, 0, 0), 0);
	assert_int_equal(kiln_initrd_segment_end(&ctx, w), 0);
	assert_int_equal(kiln_initrd_close(&ctx, w, NULL), 0);
	free(slurp(p, &len));
	return p;
}

static void
test_walk(void **state)
{
	_cleanup_free_ char *x = one_file("x", "xz", "x", "from xz\n"), *g = one_file("g", "gzip", "g", "from gzip\n");
	_cleanup_free_ char *z = one_file("z", "zstd", "z", "from zstd\n"), *r = one_file("r", "none", "r", "raw\n");
	_cleanup_free_ char *img = at("walk"), *tsv = NULL, *buf = NULL;
	_cleanup_free_ char *xd = NULL, *gd = NULL, *zd = NULL, *rd = NULL;
	size_t lx, lg, lz, lr, n;
	struct kiln_ctx ctx;
	static const char zeros[8];

	(void)state;
	xd = slurp(x, &lx);
	gd = slurp(g, &lg);
	zd = slurp(z, &lz);
	rd = slurp(r, &lr);
	assert_int_equal(lr % 4, 0);

	/* uncompressed first, then each compressor, zero padding anywhere between */
	write_file(img, rd, lr);
	append(img, zeros, 4);
	append(img, xd, lx);
	append(img, zeros, 3);
	append(img, gd, lg);
	append(img, zd, lz);
	append(img, zeros, 8);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_initrd_files_tsv(&ctx, img, &tsv, &n), 0);
	assert_int_equal(n, 4);
	assert_non_null(strstr(tsv, "/g\t"));
	assert_non_null(strstr(tsv, "/r\t"));
	assert_non_null(strstr(tsv, "/x\t"));
	assert_non_null(strstr(tsv, "/z\t"));

	/* an uncompressed archive after a compressed one: the kernel reads it too */
	write_file(img, xd, lx);
	append(img, rd, lr);
	assert_int_equal(scan(img, NULL), 0);

	/* junk after the last stream */
	write_file(img, xd, lx);
	append(img, "junk", 4);
	assert_int_equal(scan(img, "neither a cpio archive nor"), KILN_EXIT_INTEGRITY);

	/* a stream cut short */
	write_file(img, xd, lx - 5);
	assert_int_equal(scan(img, NULL), KILN_EXIT_INTEGRITY);
	write_file(img, gd, lg / 2);
	assert_int_equal(scan(img, NULL), KILN_EXIT_INTEGRITY);

	/* an uncompressed archive off the 4-byte boundary */
	write_file(img, zeros, 1);
	append(img, rd, lr);
	assert_int_equal(scan(img, "4-byte boundary"), KILN_EXIT_INTEGRITY);
	write_file(img, zeros, 4);
	append(img, rd, lr);
	assert_int_equal(scan(img, NULL), 0);

	/* what libarchive reads but the kernel does not: the old portable format; a name longer than PATH_MAX */
	{
		static const char odc[] = "070707000000000000000000100644000000000000000001000000000000000000002"
					  "00000000004x\0abcd" "0707070000000000000000000000000000000000000001"
					  "0000000000000000000001300000000000TRAILER!!!\0";
		static const char longname[] = "070701" "00000001" "000081a4" "00000000" "00000000" "00000001"
					       "00000000" "00000000" "00000000" "00000000" "00000000" "00000000"
					       "00100000" "00000000" "x";

		write_file(img, odc, sizeof(odc) - 1);
		assert_int_equal(scan(img, "not in the kernel's cpio format"), KILN_EXIT_INTEGRITY);
		write_file(img, longname, sizeof(longname) - 1);
		assert_int_equal(scan(img, "longer than the kernel allows"), KILN_EXIT_INTEGRITY);
	}

	/* nothing at all, and only zeros */
	write_file(img, "", 0);
	assert_int_equal(scan(img, "no archive"), KILN_EXIT_INTEGRITY);
	write_file(img, zeros, 8);
	assert_int_equal(scan(img, "no archive"), KILN_EXIT_INTEGRITY);

	/* inside one compressed stream: two archives are read, junk after an archive is refused */
	{
		_cleanup_free_ char *raw = at("raw");
		int in, out;

		write_file(raw, rd, lr);
		append(raw, zeros, 4);
		append(raw, rd, lr);	/* the same name twice: fine, the last wins */
		in = open(raw, O_RDONLY);
		out = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(kiln_compress_fd(&ctx, in, out, "gzip"), 0);
		close(in);
		close(out);
		assert_int_equal(scan(img, NULL), 0);

		append(raw, "junk", 4);
		in = open(raw, O_RDONLY);
		out = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(kiln_compress_fd(&ctx, in, out, "xz"), 0);
		close(in);
		close(out);
		assert_int_equal(scan(img, "not an archive"), KILN_EXIT_INTEGRITY);
		unlink(raw);
	}
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	_cleanup_free_ char *cmd = kiln_asprintf("rm -rf '%s'", dir);

	(void)state;
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compressors),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
