/* fuzz-compose.c - a package's data.tar (arbitrary bytes) streamed into an image: paths, links, conflicts. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char tar[64];
	struct kiln_strv exclude = { 0 }, reserved = { 0 };
	struct kiln_changelog *logs = NULL;
	struct kiln_compose *c;
	struct kiln_ctx ctx;
	char *tsv = NULL;
	size_t count, n_logs;
	FILE *f;

	if (!tar[0])
		snprintf(tar, sizeof(tar), "/tmp/kiln-fuzz-compose-%d.tar", (int)getpid());
	f = fopen(tar, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	kiln_ctx_init(&ctx);
	kiln_strv_push(&exclude, "/usr/share/doc/*");
	kiln_strv_push(&reserved, "/etc/passwd");
	c = kiln_compose_new(&ctx, "/dev/null", "none", 1700000000, &exclude, &reserved, NULL);
	if (c) {
		/* twice: the second package meets the first one's entries (conflicts, symlinks) */
		kiln_compose_add_deb(&ctx, c, "/nonexistent.deb", tar, "pkg-a");
		kiln_error_clear(&ctx);
		kiln_compose_add_deb(&ctx, c, "/nonexistent.deb", tar, "pkg-b");
		if (kiln_compose_finish(&ctx, c, &tsv, &count, &logs, &n_logs) == 0) {
			free(tsv);
			kiln_changelogs_free(logs, n_logs);
		}
	}
	kiln_strv_release(&exclude);
	kiln_strv_release(&reserved);
	unlink(tar);
	return 0;
}
