/*
 * publish-store.c - a store for bench/publish: FAMILIES x VERSIONS released
 * versions, each a signed manifest made from a real one (TEMPLATE: a
 * manifest.json kiln built) with its family and version changed, recorded
 * in the catalog as kiln release records it (fixes indexed), a month apart.
 *   usage: publish-store STORE KEY TEMPLATE FAMILIES VERSIONS
 */
#include "kiln.h"
#include "catalog.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	struct kiln_settings set;
	struct kiln_ctx ctx;
	struct kiln_catalog *cat = NULL;
	char *tmpl = NULL, *pub = NULL, *pubpath;
	size_t len, plen;
	char fpr[65];
	int nf, nv;

	if (argc != 6)
		return fprintf(stderr, "usage: publish-store STORE KEY TEMPLATE FAMILIES VERSIONS\n"), 2;
	nf = atoi(argv[4]);
	nv = atoi(argv[5]);
	kiln_settings_init(&set);
	set.store = argv[1];
	kiln_ctx_init(&ctx);
	ctx.set = &set;
	pubpath = kiln_asprintf("%s.pub", argv[2]);
	if (kiln_read_file(&ctx, argv[3], KILN_MANIFEST_MAX, &tmpl, &len) < 0 || kiln_read_file(&ctx, pubpath, 1 << 16, &pub, &plen) < 0 ||
	    kiln_catalog_open(&ctx, argv[1], &cat) < 0 || kiln_catalog_trust(&ctx, cat, pub, fpr) < 0) {
		fprintf(stderr, "publish-store: %s\n", ctx.msg);
		return 1;
	}
	if (kiln_catalog_begin(&ctx, cat) < 0)
		return 1;
	for (int f = 0; f < nf; f++)
		for (int v = 0; v < nv; v++) {
			json_t *m = json_loadb(tmpl, len, 0, NULL);
			char *family = kiln_asprintf("fam%02d", f), *version = kiln_asprintf("%04d.%02d.0", 2016 + v / 12, v % 12 + 1);
			char *dir = kiln_asprintf("%s/%s/%s", argv[1], family, version), *text, *body, *sig = NULL, sha[65];
			struct kiln_manifest mm;
			struct kiln_fix *fx = NULL;
			size_t nfx;
			int isnew;

			json_object_set_new(m, "family", json_string(family));
			json_object_set_new(m, "version", json_string(version));
			text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
			body = kiln_asprintf("%s\n", text);
			kiln_sha256_hex(body, strlen(body), sha);
			kiln_manifest_read(m, &mm);
			nfx = kiln_manifest_fixes(&mm, &fx);
			{
				struct kiln_release_info r = { family, version, (time_t)(1451606400 + (long)v * 30 * 86400), sha, fpr,
							       (int)mm.n_updates, fx, nfx };
				char *mp = kiln_asprintf("%s/manifest.json", dir), *sp = kiln_asprintf("%s/manifest.json.sig", dir);

				if (kiln_mkdir_p(&ctx, dir, 0755) < 0 || kiln_write_atomic(&ctx, mp, body, strlen(body), 0644) < 0 ||
				    kiln_sign(&ctx, argv[2], body, strlen(body), &sig) < 0 ||
				    kiln_write_atomic(&ctx, sp, sig, strlen(sig), 0644) < 0 || kiln_catalog_release(&ctx, cat, &r, &isnew) < 0) {
					fprintf(stderr, "publish-store: %s\n", ctx.msg);
					return 1;
				}
				free(mp);
				free(sp);
			}
			kiln_fixes_free(fx, nfx);
			kiln_manifest_release(&mm);
			json_decref(m);
			free(text);
			free(body);
			free(sig);
			free(dir);
			free(family);
			free(version);
		}
	if (kiln_catalog_commit(&ctx, cat) < 0)
		return 1;
	kiln_catalog_close(cat);
	free(tmpl);
	free(pub);
	free(pubpath);
	return 0;
}
