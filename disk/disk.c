/* disk.c - the unified kernel image, the GPT disk around it, and its qcow2 and VHD forms. */
#define _GNU_SOURCE
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdisk.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024ULL * 1024)
#define SECTOR 512ULL
/* FAT32 needs 65525 clusters: with 512-byte clusters an ESP is at least this big */
#define ESP_MIN (34 * MIB)
#define ESP_TYPE "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define VHD_EPOCH 946684800	/* 2000-01-01T00:00:00Z, where VHD timestamps count from */

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void
derive(const char *role, const char *seed, unsigned char out[32])
{
	_cleanup_free_ char *text = kiln_asprintf("kiln-disk\n%s\n%s", role, seed);
	char hex[65];

	kiln_sha256_hex(text, strlen(text), hex);
	for (int i = 0; i < 32; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

void
kiln_disk_guid(const char *role, const char *seed, char out[37])
{
	unsigned char b[32];

	derive(role, seed, b);
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4: derived, not time-based */
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static uint32_t
rd32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* The stub's PE header: offset of "PE\0\0", size of the image in memory, section alignment. */
struct pe_info {
	uint32_t pe, size_of_image, align;
};

static int
pe_check(struct kiln_ctx *ctx, const char *what, const unsigned char *d, size_t len, struct pe_info *ret)
{
	uint32_t pe;

	if (len < 0x40 || d[0] != 'M' || d[1] != 'Z')
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: not a PE image (no MZ header)", what);
	pe = rd32(d + 0x3c);
	/* signature 4, COFF header 20, PE32+ optional header up to the checksum and beyond: 112 */
	if (pe > len || len - pe < 24 + 112 || memcmp(d + pe, "PE\0\0", 4) != 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: not a PE image (no PE header)", what);
	if ((d[pe + 4] | d[pe + 5] << 8) != 0x8664 || (d[pe + 24] | d[pe + 25] << 8) != 0x20b)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: not an x86-64 PE32+ image", what);
	ret->pe = pe;
	ret->size_of_image = rd32(d + pe + 24 + 56);
	ret->align = rd32(d + pe + 24 + 32);
	if (ret->align == 0 || ret->align > 64 * 1024 || (ret->align & (ret->align - 1)))
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: bad section alignment %u", what, ret->align);
	return 0;
}

/* The PE checksum (as CheckSumMappedFile computes it): 16-bit one's-complement sum, the field itself as zero, plus the length. */
static uint32_t
pe_checksum(const unsigned char *d, size_t len, size_t field)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = d[i] | (i + 1 < len ? d[i + 1] << 8 : 0);

		if (i >= field && i < field + 4)
			w = 0;
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)(sum + len);
}

/* objcopy stamps PE output with the time of day: put @epoch there instead, and the checksum that goes with it. */
static int
pe_make_deterministic(struct kiln_ctx *ctx, const char *path, int64_t epoch)
{
	_cleanup_(kiln_closep) int fd = open(path, O_RDWR | O_CLOEXEC);
	struct pe_info pi;
	struct stat st;
	unsigned char *d;
	int rc;

	if (fd < 0 || fstat(fd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot open '%s': %s", path, strerror(errno));
	d = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d == MAP_FAILED)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot map '%s': %s", path, strerror(errno));
	rc = pe_check(ctx, path, d, (size_t)st.st_size, &pi);
	if (rc == 0) {
		wr32(d + pi.pe + 8, (uint32_t)(epoch < 0 ? 0 : epoch > UINT32_MAX ? UINT32_MAX : epoch));
		wr32(d + pi.pe + 24 + 64, pe_checksum(d, (size_t)st.st_size, pi.pe + 24 + 64));
		if (msync(d, (size_t)st.st_size, MS_SYNC) < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", path, strerror(errno));
	}
	munmap(d, (size_t)st.st_size);
	return rc;
}

static int
file_size(struct kiln_ctx *ctx, const char *path, uint64_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read '%s': %s", path, strerror(errno));
	*ret = (uint64_t)st.st_size;
	return 0;
}

int
kiln_uki_make(struct kiln_ctx *ctx, const struct kiln_disk_input *in, const char *out)
{
	_cleanup_free_ char *stub = NULL, *osrel = kiln_asprintf("%s/uki.osrel", in->workdir);
	_cleanup_free_ char *cmdline = kiln_asprintf("%s/uki.cmdline", in->workdir);
	_cleanup_(kiln_strv_releasep) struct kiln_strv argv = { 0 };
	const char *names[] = { ".osrel", ".cmdline", ".linux", ".initrd" };
	const char *files[] = { osrel, cmdline, in->vmlinuz, in->initrd };
	struct pe_info pi;
	size_t stub_len;
	uint64_t vma;
	int rc;

	if (kiln_read_file(ctx, in->stub, KILN_UKI_STUB_MAX, &stub, &stub_len) < 0 ||
	    pe_check(ctx, in->stub, (unsigned char *)stub, stub_len, &pi) < 0 ||
	    kiln_write_atomic(ctx, osrel, in->osrel, strlen(in->osrel), 0644) < 0 ||
	    kiln_write_atomic(ctx, cmdline, in->cmdline, strlen(in->cmdline), 0644) < 0)
		return -1;
	/* each section after the stub's image and the one before, page-aligned */
	vma = align_up(pi.size_of_image, 4096);
	kiln_strv_push(&argv, "objcopy");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		uint64_t size = 0;

		if (file_size(ctx, files[i], &size) < 0)
			return -1;
		kiln_strv_push(&argv, "--add-section");
		kiln_strv_push_take(&argv, kiln_asprintf("%s=%s", names[i], files[i]));
		kiln_strv_push(&argv, "--change-section-vma");
		kiln_strv_push_take(&argv, kiln_asprintf("%s=0x%llx", names[i], (unsigned long long)vma));
		vma = align_up(vma + size, 4096);
	}
	kiln_strv_push(&argv, in->stub);
	kiln_strv_push(&argv, out);
	rc = kiln_run(ctx, (const char *const *)argv.v, NULL, "binutils");
	unlink(osrel);
	unlink(cmdline);
	if (rc == 0)
		rc = pe_make_deterministic(ctx, out, in->epoch);
	if (rc < 0)
		unlink(out);
	return rc;
}

/* The GPT: one EFI system partition from 1 MiB, @esp_sectors long. */
static int
write_gpt(struct kiln_ctx *ctx, const char *path, uint64_t esp_sectors, const struct kiln_disk_ids *ids)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_partition *pa = fdisk_new_partition();
	struct fdisk_parttype *type = NULL;
	const char *step = "open";
	int r;

	if (!cxt || !pa) {
		fdisk_unref_partition(pa);
		fdisk_unref_context(cxt);
		return kiln_error(ctx, KILN_EXIT_FAILED, "libfdisk: out of memory");
	}
	fdisk_disable_dialogs(cxt, 1);
	r = fdisk_assign_device(cxt, path, 0);
	if (r == 0) {
		step = "create the GPT";
		r = fdisk_create_disklabel(cxt, "gpt");
	}
	if (r == 0) {
		step = "set the disk GUID";
		r = fdisk_set_disklabel_id_from_string(cxt, ids->disk_guid);
	}
	if (r == 0) {
		step = "describe the partition";
		type = fdisk_label_get_parttype_from_string(fdisk_get_label(cxt, NULL), ESP_TYPE);
		r = type ? 0 : -EINVAL;
	}
	if (r == 0)
		r = fdisk_partition_set_partno(pa, 0);
	if (r == 0)
		r = fdisk_partition_set_start(pa, MIB / SECTOR);
	if (r == 0)
		r = fdisk_partition_set_size(pa, esp_sectors);
	if (r == 0)
		r = fdisk_partition_set_type(pa, type);
	if (r == 0)
		r = fdisk_partition_set_uuid(pa, ids->esp_guid);
	if (r == 0)
		r = fdisk_partition_set_name(pa, "ESP");
	if (r == 0) {
		step = "add the partition";
		r = fdisk_add_partition(cxt, pa, NULL);
	}
	if (r == 0) {
		step = "write the partition table";
		r = fdisk_write_disklabel(cxt);
	}
	if (r == 0) {
		step = "close";
		r = fdisk_deassign_device(cxt, 0);
	}
	fdisk_unref_parttype(type);
	fdisk_unref_partition(pa);
	fdisk_unref_context(cxt);
	if (r < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "libfdisk: cannot %s on '%s': %s", step, path, strerror(-r));
	return 0;
}

/* mtools on the ESP inside the disk file (@@offset), isolated from the host's mtools.conf. */
static int
mtools(struct kiln_ctx *ctx, const char *const *argv, int64_t epoch)
{
	_cleanup_free_ char *sde = kiln_asprintf("SOURCE_DATE_EPOCH=%lld", (long long)epoch);
	const char *env[] = { sde, "MTOOLSRC=/dev/null", "MTOOLS_SKIP_CHECK=1", "TZ=UTC", NULL };

	return kiln_run(ctx, argv, env, "mtools");
}

int
kiln_disk_make_raw(struct kiln_ctx *ctx, const struct kiln_disk_input *in, const char *out, struct kiln_disk_ids *ret)
{
	_cleanup_free_ char *uki = kiln_asprintf("%s/uki.efi", in->workdir);
	_cleanup_free_ char *image = NULL, *total_s = NULL, *serial = NULL;
	struct kiln_disk_ids ids = { 0 };
	unsigned char b[32];
	uint64_t esp;
	int rc, fd;

	if (kiln_uki_make(ctx, in, uki) < 0)
		return -1;
	if (file_size(ctx, uki, &ids.uki_size) < 0)
		goto fail;
	/* FAT32 with 512-byte clusters: two FATs of 4 bytes a cluster, 32 reserved sectors, directories */
	esp = align_up(ids.uki_size + ids.uki_size / 64 + MIB, MIB);
	if (esp < ESP_MIN)
		esp = ESP_MIN;
	ids.size = MIB + esp + MIB;	/* the backup GPT's 33 sectors fit in the last MiB */
	kiln_disk_guid("disk", in->seed, ids.disk_guid);
	kiln_disk_guid("esp", in->seed, ids.esp_guid);
	derive("fat-serial", in->seed, b);
	snprintf(ids.fat_serial, sizeof(ids.fat_serial), "%02X%02X-%02X%02X", b[0], b[1], b[2], b[3]);

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", out, strerror(errno));
		goto fail;
	}
	rc = ftruncate(fd, (off_t)ids.size);
	close(fd);
	if (rc < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot size '%s': %s", out, strerror(errno));
		goto fail;
	}
	if (write_gpt(ctx, out, esp / SECTOR, &ids) < 0)
		goto fail;
	image = kiln_asprintf("%s@@%llu", out, (unsigned long long)MIB);
	total_s = kiln_asprintf("%llu", (unsigned long long)(esp / SECTOR));
	serial = kiln_asprintf("0x%.4s%.4s", ids.fat_serial, ids.fat_serial + 5);
	{
		/* -H: the partition's first sector, as FAT's hidden sectors; -c 1: 512-byte clusters, enough for FAT32 */
		const char *mformat[] = { "mformat", "-i", image, "-F", "-c", "1", "-T", total_s, "-H", "2048", "-h", "64",
					  "-s", "32", "-N", serial, "-v", "ESP", "::", NULL };
		const char *mmd[] = { "mmd", "-i", image, "::/EFI", "::/EFI/BOOT", NULL };
		const char *mcopy[] = { "mcopy", "-i", image, uki, "::" KILN_ESP_BOOT_PATH, NULL };

		if (mtools(ctx, mformat, in->epoch) < 0 || mtools(ctx, mmd, in->epoch) < 0 ||
		    mtools(ctx, mcopy, in->epoch) < 0)
			goto fail;
	}
	unlink(uki);
	*ret = ids;
	return 0;
fail:
	unlink(uki);
	unlink(out);
	return -1;
}

int
kiln_disk_qcow2(struct kiln_ctx *ctx, const char *raw, const char *out)
{
	const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, out, NULL };

	if (kiln_run(ctx, argv, NULL, "qemu-utils") < 0) {
		unlink(out);
		return -1;
	}
	return 0;
}

static void
wr32be(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
wr64be(unsigned char *p, uint64_t v)
{
	wr32be(p, (uint32_t)(v >> 32));
	wr32be(p + 4, (uint32_t)v);
}

/* The CHS geometry the VHD specification's algorithm gives for @size bytes. */
static uint32_t
vhd_geometry(uint64_t size)
{
	uint64_t total = size / SECTOR, cth;
	uint32_t spt, heads;

	if (total > 65535ULL * 16 * 255)
		total = 65535ULL * 16 * 255;
	if (total >= 65535ULL * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = total / spt;
	} else {
		spt = 17;
		cth = total / spt;
		heads = (uint32_t)((cth + 1023) / 1024);
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024ULL || heads > 16) {
			spt = 31;
			heads = 16;
			cth = total / spt;
		}
		if (cth >= heads * 1024ULL) {
			spt = 63;
			heads = 16;
			cth = total / spt;
		}
	}
	return (uint32_t)(cth / heads) << 16 | heads << 8 | spt;
}

void
kiln_vhd_footer(uint64_t size, const char *seed, int64_t epoch, unsigned char f[512])
{
	unsigned char id[32];
	uint32_t sum = 0;
	int64_t ts = epoch - VHD_EPOCH;

	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	wr32be(f + 8, 2);		/* features: reserved bit, always set */
	wr32be(f + 12, 0x00010000);	/* format version 1.0 */
	wr64be(f + 16, UINT64_MAX);	/* data offset: none, a fixed disk */
	wr32be(f + 24, (uint32_t)(ts < 0 ? 0 : ts > UINT32_MAX ? UINT32_MAX : ts));
	/* creator "qem2": what qemu-img writes with force_size=on, telling readers the current size is exact */
	memcpy(f + 28, "qem2", 4);
	wr32be(f + 32, 0x00050003);
	memcpy(f + 36, "Wi2k", 4);
	wr64be(f + 40, size);		/* original size */
	wr64be(f + 48, size);		/* current size */
	wr32be(f + 56, vhd_geometry(size));
	wr32be(f + 60, 2);		/* disk type: fixed */
	derive("vhd-id", seed, id);
	memcpy(f + 68, id, 16);
	for (int i = 0; i < 512; i++)
		sum += f[i];
	wr32be(f + 64, ~sum);
}

int
kiln_disk_vhd(struct kiln_ctx *ctx, const char *raw, const char *out, const char *seed, int64_t epoch)
{
	_cleanup_(kiln_closep) int in = open(raw, O_RDONLY | O_CLOEXEC);
	_cleanup_(kiln_closep) int fd = -1;
	unsigned char footer[512];
	struct stat st;
	off_t off = 0;

	if (in < 0 || fstat(in, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read '%s': %s", raw, strerror(errno));
	if (st.st_size % (off_t)MIB)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': %lld bytes is not a multiple of 1 MiB", raw, (long long)st.st_size);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", out, strerror(errno));
	while (off < st.st_size) {
		ssize_t n = copy_file_range(in, &off, fd, NULL, (size_t)(st.st_size - off), 0);

		if (n <= 0) {
			kiln_error(ctx, KILN_EXIT_FAILED, "cannot copy '%s' to '%s': %s", raw, out, n < 0 ? strerror(errno) : "short read");
			unlink(out);
			return -1;
		}
	}
	kiln_vhd_footer((uint64_t)st.st_size, seed, epoch, footer);
	if (write(fd, footer, sizeof(footer)) != (ssize_t)sizeof(footer)) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", out, strerror(errno));
		unlink(out);
		return -1;
	}
	return 0;
}

int
kiln_disk_find(const char *dir, char **ret_path, const char **ret_format)
{
	static const char *const names[][2] = { { "disk.qcow2", "qcow2" }, { "disk.raw", "raw" }, { "disk.vhd", "vpc" } };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *path = kiln_asprintf("%s/%s", dir, names[i][0]);

		if (access(path, F_OK) == 0) {
			*ret_path = path;
			*ret_format = names[i][1];
			return 1;
		}
		free(path);
	}
	return 0;
}

int
kiln_ovmf_vars_copy(struct kiln_ctx *ctx, const char *dir, char **ret_path)
{
	_cleanup_free_ char *tmpl = kiln_asprintf("%s/kiln-ovmf-vars.XXXXXX", dir);
	_cleanup_free_ char *vars = NULL;
	size_t len;
	int fd;

	if (kiln_read_file(ctx, KILN_OVMF_VARS, 16 * MIB, &vars, &len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_FAILED, "cannot read OVMF's variable store %s: is ovmf installed? (make deps)",
					  KILN_OVMF_VARS);
	fd = mkstemp(tmpl);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create a file in '%s': %s", dir, strerror(errno));
	if (write(fd, vars, len) != (ssize_t)len) {
		int e = errno;

		close(fd);
		unlink(tmpl);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", tmpl, strerror(e));
	}
	close(fd);
	*ret_path = TAKE_PTR(tmpl);
	return 0;
}

void
kiln_uki_release(struct kiln_uki *u)
{
	free(u->osrel);
	free(u->cmdline);
	memset(u, 0, sizeof(*u));
}

#define UKI_TEXT_MAX (64 * 1024)

int
kiln_uki_read(struct kiln_ctx *ctx, const char *path, const char *initrd_out, struct kiln_uki *ret)
{
	_cleanup_(kiln_closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct kiln_uki u = { 0 };
	struct kiln_ctx sub;
	struct pe_info pi;
	struct stat st;
	const unsigned char *d;
	size_t len, nsec, table;
	int rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read '%s': %s", path, strerror(errno));
	if (st.st_size <= 0 || (uint64_t)st.st_size > KILN_UKI_MAX)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': %lld bytes is not a unified kernel image", path,
				  (long long)st.st_size);
	len = (size_t)st.st_size;
	d = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (d == MAP_FAILED)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot map '%s': %s", path, strerror(errno));
	kiln_ctx_sub(&sub, ctx);
	if (pe_check(&sub, path, d, len, &pi) < 0) {
		munmap((void *)d, len);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s", sub.msg);
	}
	nsec = d[pi.pe + 6] | d[pi.pe + 7] << 8;
	table = (size_t)pi.pe + 24 + (d[pi.pe + 20] | d[pi.pe + 21] << 8);
	if (table > len || (len - table) / 40 < nsec)
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': its section table lies outside the file", path);
	for (size_t i = 0; rc == 0 && i < nsec; i++) {
		const unsigned char *sh = d + table + 40 * i;
		char name[9] = { 0 };
		uint32_t vsize = rd32(sh + 8), rsize = rd32(sh + 16), off = rd32(sh + 20);
		size_t size = vsize && vsize < rsize ? vsize : rsize;

		memcpy(name, sh, 8);
		if (off > len || size > len - off) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': section %s lies outside the file", path, name);
			break;
		}
		if (strcmp(name, ".osrel") == 0 || strcmp(name, ".cmdline") == 0) {
			char **to = name[1] == 'o' ? &u.osrel : &u.cmdline;

			if (size > UKI_TEXT_MAX) {
				rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': section %s is %zu bytes", path, name, size);
				break;
			}
			free(*to);
			*to = kiln_strndup((const char *)d + off, size);
		} else if (strcmp(name, ".linux") == 0) {
			kiln_sha256_hex(d + off, size, u.linux_sha256);
			u.linux_size = size;
		} else if (strcmp(name, ".initrd") == 0) {
			u.has_initrd = 1;
			u.initrd_size = size;
			if (initrd_out && kiln_write_atomic(ctx, initrd_out, d + off, size, 0600) < 0)
				rc = -1;
		}
	}
	munmap((void *)d, len);
	if (rc < 0) {
		kiln_uki_release(&u);
		return -1;
	}
	*ret = u;
	return 0;
}

int
kiln_disk_overlay(struct kiln_ctx *ctx, const char *base, const char *out)
{
	_cleanup_free_ char *abs = realpath(base, NULL), *tmp = kiln_asprintf("%s.tmp", out);
	const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", abs, tmp, NULL };

	if (!abs)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot resolve '%s': %s", base, strerror(errno));
	if (kiln_run(ctx, argv, NULL, "qemu-utils") < 0 || rename(tmp, out) < 0) {
		if (ctx->code == 0)
			kiln_error(ctx, KILN_EXIT_FAILED, "cannot rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
