/*
 * fuzz-compose.c - a package's data.tar (arbitrary bytes) streamed into an
 * image: paths, links, conflicts, limits. Whatever image comes out, its
 * files.tsv must pass verify's line check and equal what the initramfs
 * reader finds in the archive (the --deep comparison).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char tar[64], img[64];
	struct kiln_strv exclude = { 0 }, reserved = { 0 };
	struct kiln_changelog *logs = NULL;
	struct kiln_compose *c;
	struct kiln_ctx ctx;
	char *tsv = NULL;
	size_t count, n_logs;
	FILE *f;

	if (!tar[0]) {
		snprintf(tar, sizeof(tar), "/tmp/kiln-fuzz-compose-%d.tar", (int)getpid());
		snprintf(img, sizeof(img), "/tmp/kiln-fuzz-compose-%d.cpio", (int)getpid());
	}
	f = fopen(tar, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	{
		/* as kiln's cache has it: the data.tar and, beside it, its own hash */
		char side[80], hex[65];

		snprintf(side, sizeof(side), "%s.sha256", tar);
		kiln_sha256_hex(data, size, hex);
		f = fopen(side, "w");
		if (!f)
			return 0;
		fprintf(f, "%s\n", hex);
		fclose(f);
	}
	kiln_ctx_init(&ctx);
	kiln_strv_push(&exclude, "/usr/share/doc/*");
	kiln_strv_push(&reserved, "/etc/passwd");
	{
		/* small limits, so the fuzzer reaches them */
		struct kiln_limits lim = { 1 << 20, 200, 2 << 20, 400 };
		struct kiln_initrd_opts out = { "none", 0, NULL };

		c = kiln_compose_new(&ctx, img, &out, 1700000000, &exclude, &reserved, &lim);
	}
	if (c) {
		/* twice: the second package meets the first one's entries (conflicts, symlinks); a failure
		 * ends the image as a failed build does */
		if (kiln_compose_add_deb(&ctx, c, "/nonexistent.deb", tar, "pkg-a") < 0 ||
		    kiln_compose_add_deb(&ctx, c, "/nonexistent.deb", tar, "pkg-b") < 0) {
			kiln_compose_abort(c);
		} else if (kiln_compose_finish(&ctx, c, &tsv, &count, &logs, &n_logs, NULL) == 0) {
			char *real = NULL, *bare;
			size_t real_count;

			if (kiln_files_tsv_check(&ctx, "fuzz", tsv, strlen(tsv), (long long)count) < 0)
				abort();
			bare = kiln_files_tsv_without_packages(tsv);
			if (kiln_initrd_files_tsv(&ctx, img, &real, &real_count) < 0 || real_count != count ||
			    strcmp(real, bare) != 0)
				abort();
			free(real);
			free(bare);
			free(tsv);
			kiln_changelogs_free(logs, n_logs);
		}
	}
	kiln_strv_release(&exclude);
	kiln_strv_release(&reserved);
	unlink(tar);
	unlink(img);
	{
		char side[80];

		snprintf(side, sizeof(side), "%s.sha256", tar);
		unlink(side);
	}
	return 0;
}
