/*
 * fuzz-initrd.c - kiln's reader of an initramfs (manifest verify --deep, kiln
 * audit): any bytes as initrd.img, walked as the kernel walks it (zero
 * padding, uncompressed archives, gzip, xz and zstd streams one after the
 * other). It must refuse or read, never crash, and what it reads must be
 * well-formed files.tsv lines.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initrd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const capture[] = { "etc/passwd", NULL };
	char path[] = "/tmp/kiln-fuzz-initrd.XXXXXX";
	char *captured[1], *tsv = NULL;
	struct kiln_ctx ctx;
	size_t n;
	int fd = mkstemp(path);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	kiln_ctx_init(&ctx);
	if (kiln_initrd_scan(&ctx, path, capture, captured, &tsv, &n) == 0) {
		size_t lines = 0;

		for (const char *l = tsv; *l; l = strchr(l, '\n') + 1) {
			if (l[0] != '/' || !strchr(l, '\n'))
				__builtin_trap();	/* every line a path, every line ended */
			lines++;
		}
		if (lines != n)
			__builtin_trap();
		free(captured[0]);
		free(tsv);
	} else if (ctx.code != KILN_EXIT_INTEGRITY && ctx.code != KILN_EXIT_FAILED) {
		__builtin_trap();
	}
	unlink(path);
	return 0;
}
