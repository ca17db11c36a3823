/* replay.c - run a fuzz target over every file of a corpus directory (for make check, any compiler). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct dirent **names;
	int n, count = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	n = scandir(argv[1], &names, NULL, alphasort);
	if (n < 0) {
		perror(argv[1]);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *path = kiln_asprintf("%s/%s", argv[1], names[i]->d_name), *data;
			struct kiln_ctx ctx;
			size_t len;

			kiln_ctx_init(&ctx);
			if (kiln_read_file(&ctx, path, 64 << 20, &data, &len) < 0) {
				fprintf(stderr, "%s\n", ctx.msg);
				return 1;
			}
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			free(data);
			free(path);
			count++;
		}
		free(names[i]);
	}
	free(names);
	if (count == 0) {
		fprintf(stderr, "%s: empty corpus\n", argv[1]);
		return 1;
	}
	printf("%d inputs replayed\n", count);
	return 0;
}
