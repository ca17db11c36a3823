/*
 * image.h - what kiln audit reads of an image: its files (as files.tsv
 * lines), its account files, and for foreign Debian images the dpkg status.
 * A kiln initramfs is read with libarchive; any disk image through
 * libguestfs, read-only: a kiln disk's unified kernel image from its EFI
 * system partition, or the filesystems inspection finds for another OS.
 */
#ifndef KILN_AUDIT_IMAGE_H
#define KILN_AUDIT_IMAGE_H

#include "kiln.h"
#include "disk.h"
#include "policy.h"

#include <guestfs.h>
#include <jansson.h>

#define KILN_AUDIT_FILES_MAX 5000000
#define KILN_AUDIT_TEXT_MAX (64 * 1024 * 1024)	/* dpkg status, account files */

enum kiln_audit_kind {
	KILN_AUDIT_INITRAMFS,	/* a kiln version's initrd.img */
	KILN_AUDIT_KILN_DISK,	/* a disk whose ESP holds a kiln unified kernel image */
	KILN_AUDIT_FOREIGN,	/* another OS, found by libguestfs's inspection */
};

struct kiln_audit_image {
	enum kiln_audit_kind kind;
	char *os;		/* what it is: "kiln redis 2026.11.0", "debian 12 (Debian GNU/Linux 12 (bookworm))" */
	char *family, *version;	/* kiln disks: from the UKI's .osrel */
	char *distro;		/* foreign: libguestfs's distro name ("debian", "ubuntu", ...) */
	char *tsv;		/* every file as a files.tsv line; sha256 "-" where not hashed (foreign images) */
	size_t n_files;
	char *passwd, *group, *shadow;	/* NULL: absent */
	char *dpkg_status;	/* foreign Debian and Ubuntu: /var/lib/dpkg/status, else NULL */
	struct kiln_uki uki;	/* kiln disks */
};

void kiln_audit_image_release(struct kiln_audit_image *img);

/* A kiln initramfs (exit 4 when it cannot be read). */
int kiln_audit_read_initrd(struct kiln_ctx *ctx, const char *path, struct kiln_audit_image *ret);

/*
 * kiln_audit_read_disk() - open the disk image at @path read-only (its
 * format from its own magic: qcow2, vmdk, vpc or raw; no backing file but
 * a version's disk.qcow2 in @store, which a deployment's overlay has)
 * in an appliance of its own, and read it. Exit 4 for an image libguestfs
 * cannot open or where neither a kiln ESP nor an OS is found.
 */
int kiln_audit_read_disk(struct kiln_ctx *ctx, const char *path, const char *store, struct kiln_audit_image *ret);

/*
 * kiln_audit_read_guestfs() - the same over a launched handle @g, for the
 * disk @device ("/dev/sda"); @tmpdir holds the downloads for as long as
 * the call. (Tests share one appliance over several disks this way.)
 */
int kiln_audit_read_guestfs(struct kiln_ctx *ctx, guestfs_h *g, const char *device, const char *tmpdir,
			    struct kiln_audit_image *ret);

/*
 * The qemu format name of the image at @path by its magic ("qcow2", "vmdk",
 * "vpc", "raw"); exit 4 for a qcow2 with a backing file other than a
 * version's disk.qcow2 in @store (may be NULL: none).
 */
int kiln_audit_image_format(struct kiln_ctx *ctx, const char *path, const char *store, const char **ret);

/*
 * kiln_audit_files() - @tsv's lines as files for kiln_audit_evaluate()
 * (paths point into @tsv, which the caller keeps). Returns the count.
 */
size_t kiln_audit_files(char *tsv, struct kiln_audit_file **ret);

/*
 * kiln_audit_integrity() - @image_tsv against @signed_tsv (both sorted by
 * path, as files.tsv is): findings "added", "removed", "changed-type",
 * "changed-mode", "changed-owner", "changed-content" (size or SHA-256;
 * not compared where the image side has "-"), appended to *@ret.
 */
void kiln_audit_integrity(const char *signed_tsv, const char *image_tsv, struct kiln_finding **ret, size_t *ret_n);

/* A finding, appended (the strings are copied). */
void kiln_finding_add(struct kiln_finding **f, size_t *n, const char *rule, const char *path, const char *expected,
		      const char *actual);

/* The dpkg status's installed packages as a manifest's packages: [{name, version, arch}] sorted by name. */
json_t *kiln_audit_dpkg_packages(const char *status);

#endif
