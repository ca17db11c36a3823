/*
 * model.h - the one type a manifest is: written from it, read into it.
 *
 * struct kiln_manifest is manifest.json (schema kiln.manifest/1) as plain
 * data: the builder fills it from the recipe, the resolution and the kernel,
 * and kiln_manifest_format() turns it into the canonical bytes that are
 * signed. On the way back in, kiln_manifest_parse() (manifest.h) checks the
 * document's shape and kiln_manifest_read() fills the same struct from it,
 * which is what diff, VEX and the fix index read. Strings are borrowed (from
 * the builder's data, or from the parsed document); the struct owns none of
 * them, except the previous version and lists of a security update (see
 * kiln_manifest_updates_free()) and, when read, its arrays. The README's
 * "Manifest fields" section documents every field.
 */
#ifndef KILN_MANIFEST_MODEL_H
#define KILN_MANIFEST_MODEL_H

#include "kiln.h"

#include <jansson.h>
#include <stdint.h>
#include <time.h>

struct kiln_manifest_source {
	const char *uri, *suite, *inrelease_sha256;
	time_t date;
	time_t accepted_older_than;	/* 0: the index was not older than the last one seen */
};

struct kiln_manifest_pkg {
	const char *name, *version, *arch, *suite, *sha256;
	long long files;	/* its entries in the image but directories (0: dropped); -1: not recorded (older manifests) */
};

struct kiln_manifest_artifact {
	const char *name;
	uint64_t size;
	char sha256[65];
};

/* One entry of security_updates; @previous and the three lists are owned. */
struct kiln_manifest_update {
	const char *package, *version, *suite;
	char *previous;			/* NULL: null (no earlier version known) */
	int security;			/* classification "security", else "other" */
	struct kiln_strv cves, advisories, fixed_cves;
	int changelog;			/* the package's changelog was read */
};

struct kiln_manifest_exec {
	const struct kiln_strv *argv;
	int first_boot;			/* "first-boot", else "every-boot" */
};

struct kiln_manifest_owned;

struct kiln_manifest {
	const char *family, *version;
	time_t built;			/* SOURCE_DATE_EPOCH of the build */
	const char *recipe_name, *recipe_sha256;

	const struct kiln_manifest_source *sources;
	size_t n_sources;

	struct {
		const char *package, *version, *release, *cmdline, *sha256;
		const char *const *modules;	/* in load order */
		size_t n_modules;
	} kernel;
	struct {
		const char *package, *version, *suite, *sha256;
	} base;
	/* the disk images' common parts ([Output] Formats= raw, qcow2, vhd); cmdline NULL: none */
	struct {
		const char *cmdline;	/* embedded in the unified kernel image */
		const char *stub_package, *stub_version, *stub_sha256;	/* the EFI stub's package */
		const char *disk_guid, *esp_guid, *fat_serial;
		uint64_t size;		/* the raw disk's size: the virtual size of every format */
	} disk;

	const struct kiln_manifest_pkg *packages;
	size_t n_packages;
	const struct kiln_manifest_artifact *artifacts;
	size_t n_artifacts;
	struct {
		uint64_t count;
		char sha256[65];
	} files;			/* files.tsv */
	const struct kiln_manifest_update *updates;
	size_t n_updates;

	struct {
		const struct kiln_strv *argv, *environment, *not_acted_on;
		const char *user;
		const struct kiln_manifest_exec *exec_start_pre;
		size_t n_exec_start_pre;
		const char *state;	/* NULL: no state path declared */
	} image;

	const char *rebake;		/* JSON text: why kiln rebake built it (its assessment), or NULL */

	const char *previous_version;	/* NULL: first version of the family in the store */
	const char *previous_sha256;

	struct kiln_manifest_owned *owned;	/* what kiln_manifest_read() allocated; NULL when built by hand */
};

/*
 * kiln_manifest_format() - manifest.json's bytes for @m: sorted keys, two
 * spaces of indentation, a final newline; the same @m gives the same bytes,
 * which is what makes builds reproducible. Returns a new string.
 */
char *kiln_manifest_format(const struct kiln_manifest *m);

/* A JSON array of @sv's strings (an empty one for NULL). */
json_t *kiln_strv_json(const struct kiln_strv *sv);

/* Releases what @n updates own and the array itself. */
void kiln_manifest_updates_free(struct kiln_manifest_update *u, size_t n);

/*
 * kiln_manifest_read() - @m from @root, a document kiln_manifest_parse()
 * accepted. Strings point into @root, which must outlive @m; the arrays are
 * new: kiln_manifest_release() frees them. Optional fields a document may
 * lack read as NULL (strings) or 0 (built, when absent or not a date).
 */
void kiln_manifest_read(json_t *root, struct kiln_manifest *m);
void kiln_manifest_release(struct kiln_manifest *m);

#endif
