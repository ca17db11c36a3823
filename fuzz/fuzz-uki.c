/*
 * fuzz-uki.c - what kiln audit reads of an untrusted disk without the
 * appliance's help: the unified kernel image's PE section table and
 * sections (kiln_uki_read), and, when the input holds a tab, the image's
 * file list against a signed files.tsv (kiln_audit_integrity, both halves
 * of the input split at the first NUL) and as audit files.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kiln.h"
#include "disk.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-uki", MFD_CLOEXEC);
	char path[64];
	struct kiln_uki u;
	struct kiln_ctx ctx;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	kiln_ctx_init(&ctx);
	if (kiln_uki_read(&ctx, path, NULL, &u) == 0)
		kiln_uki_release(&u);
	else if (ctx.code != KILN_EXIT_INTEGRITY && ctx.code != KILN_EXIT_FAILED)
		abort();
	close(fd);
	if (memchr(data, '\t', size)) {
		char *text = kiln_malloc(size + 2);
		const char *image;
		struct kiln_finding *f = NULL;
		struct kiln_audit_file *files = NULL;
		size_t n = 0, nf;

		memcpy(text, data, size);
		text[size] = text[size + 1] = '\0';
		image = text + strlen(text) + 1;
		if (image > text + size)
			image = "";
		kiln_audit_integrity(text, image, &f, &n);
		for (size_t i = 0; i < n; i++)
			if (!f[i].rule || !f[i].path || !f[i].expected || !f[i].actual)
				abort();
		kiln_findings_free(f, n);
		free(f);
		nf = kiln_audit_files(text, &files);
		for (size_t i = 0; i < nf; i++)
			if (files[i].path[0] != '/')
				abort();
		free(files);
		free(text);
	}
	return 0;
}
