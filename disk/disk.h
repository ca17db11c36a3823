/* disk.h - cloud disk images: a unified kernel image in the EFI system partition of a GPT disk. */
#ifndef KILN_DISK_H
#define KILN_DISK_H

#include "kiln.h"

/* Where systemd-boot-efi ships the EFI stub a unified kernel image starts from. */
#define KILN_UKI_STUB_PACKAGE "systemd-boot-efi"
#define KILN_UKI_STUB_PATH "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#define KILN_UKI_STUB_MAX (4 * 1024 * 1024)

/* Where the default boot entry lives on the ESP (UEFI's removable-media path). */
#define KILN_ESP_BOOT_PATH "/EFI/BOOT/BOOTX64.EFI"

struct kiln_disk_input {
	const char *stub;		/* the EFI stub, a file */
	const char *vmlinuz, *initrd;	/* files */
	const char *cmdline;		/* embedded in the UKI's .cmdline */
	const char *osrel;		/* the UKI's .osrel (os-release text) */
	const char *seed;		/* every identifier is derived from it (e.g. the image's hashes) */
	int64_t epoch;			/* SOURCE_DATE_EPOCH: every timestamp */
	const char *workdir;		/* for the UKI on its way onto the ESP */
};

struct kiln_disk_ids {
	char disk_guid[37], esp_guid[37];	/* GPT's disk and partition GUIDs */
	char fat_serial[10];			/* "XXXX-XXXX", the ESP's volume id */
	uint64_t size;				/* the raw disk's size in bytes, a multiple of 1 MiB */
	uint64_t uki_size;
};

/*
 * kiln_uki_make() - a unified kernel image at @out: @in's stub with .osrel,
 * .cmdline, .linux and .initrd sections (objcopy), its PE timestamp set to
 * @in->epoch and its checksum recomputed, so the same input gives the same
 * bytes. Errors: exit 2 for a stub that is not an x86-64 PE image, 1 when
 * objcopy fails.
 */
int kiln_uki_make(struct kiln_ctx *ctx, const struct kiln_disk_input *in, const char *out);

/*
 * kiln_disk_make_raw() - a GPT disk at @out whose only partition is an EFI
 * system partition (FAT32) holding the unified kernel image as
 * KILN_ESP_BOOT_PATH. The partition table is written with libfdisk and the
 * filesystem with mtools, both into the file: no loop device, no mount, no
 * root. GUIDs and the volume id come from @in->seed, every FAT timestamp is
 * @in->epoch: the same input gives the same bytes.
 */
int kiln_disk_make_raw(struct kiln_ctx *ctx, const struct kiln_disk_input *in, const char *out,
		       struct kiln_disk_ids *ret);

/* qcow2 of the raw disk @raw (qemu-img convert: unallocated clusters are left out). */
int kiln_disk_qcow2(struct kiln_ctx *ctx, const char *raw, const char *out);

/*
 * kiln_disk_vhd() - a fixed VHD: @raw's bytes and a 512-byte footer whose
 * current size is the raw size (a multiple of 1 MiB, as Azure requires),
 * its timestamp @epoch and its unique id derived from @seed.
 */
int kiln_disk_vhd(struct kiln_ctx *ctx, const char *raw, const char *out, const char *seed, int64_t epoch);

/* A GUID string ("8-4-4-4-12", version 4 and RFC 4122 variant bits set) derived from @role and @seed. */
void kiln_disk_guid(const char *role, const char *seed, char out[37]);

/* The VHD footer for a fixed disk of @size bytes (exposed for the tests). */
void kiln_vhd_footer(uint64_t size, const char *seed, int64_t epoch, unsigned char footer[512]);

/* OVMF, as Debian's ovmf package installs it: the firmware, and the variable store each guest gets a copy of. */
#define KILN_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define KILN_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/*
 * kiln_disk_find() - the disk image of version directory @dir: disk.qcow2,
 * else disk.raw, else disk.vhd. Returns 1 with *@ret_path (caller frees) and
 * *@ret_format (QEMU's name: qcow2, raw, vpc), or 0 when it has none.
 */
int kiln_disk_find(const char *dir, char **ret_path, const char **ret_format);

/* A fresh copy of OVMF's variable store in @dir for one guest (caller frees the path, and removes the file). */
int kiln_ovmf_vars_copy(struct kiln_ctx *ctx, const char *dir, char **ret_path);

/* What kiln reads back from a unified kernel image. */
struct kiln_uki {
	char *osrel, *cmdline;		/* NULL when the section is absent */
	char linux_sha256[65];		/* "" when absent */
	uint64_t linux_size, initrd_size;
	int has_initrd;
};

#define KILN_UKI_MAX (2ULL * 1024 * 1024 * 1024)

/*
 * kiln_uki_read() - the sections of the PE image at @path (untrusted: every
 * offset is checked): .osrel and .cmdline as text (at most 64 KiB each), the
 * SHA-256 of .linux, and .initrd copied to @initrd_out when not NULL. Exit 4
 * for a file that is not a PE image or whose sections lie outside it.
 */
int kiln_uki_read(struct kiln_ctx *ctx, const char *path, const char *initrd_out, struct kiln_uki *ret);
void kiln_uki_release(struct kiln_uki *u);

/* A libguestfs handle (backend direct; TCG unless KILN_ACCEL=kvm), or NULL with an error. */
typedef struct guestfs_h guestfs_h;
guestfs_h *kiln_guestfs_new(struct kiln_ctx *ctx);

/* A qcow2 overlay at @out over the qcow2 @base (by its absolute path), written through a temporary file. */
int kiln_disk_overlay(struct kiln_ctx *ctx, const char *base, const char *out);

#endif
