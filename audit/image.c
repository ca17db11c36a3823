/* image.c - reading an image for kiln audit: initramfs (libarchive), any disk (libguestfs, read-only). */
#define _GNU_SOURCE
#include "image.h"
#include "initrd.h"
#include "deb822.h"
#include "solve.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
kiln_audit_image_release(struct kiln_audit_image *img)
{
	free(img->os);
	free(img->family);
	free(img->version);
	free(img->distro);
	free(img->tsv);
	free(img->passwd);
	free(img->group);
	free(img->shadow);
	free(img->dpkg_status);
	kiln_uki_release(&img->uki);
	memset(img, 0, sizeof(*img));
}

void
kiln_finding_add(struct kiln_finding **f, size_t *n, const char *rule, const char *path, const char *expected,
		 const char *actual)
{
	*f = kiln_realloc(*f, (*n + 1) * sizeof(**f));
	(*f)[(*n)++] = (struct kiln_finding){ kiln_strdup(rule), kiln_strdup(path), kiln_strdup(expected),
					      kiln_strdup(actual) };
}

/* The account files, as the archive names its entries */
static const char *const account_files[] = { "etc/passwd", "etc/group", "etc/shadow", NULL };

int
kiln_audit_read_initrd(struct kiln_ctx *ctx, const char *path, struct kiln_audit_image *ret)
{
	struct kiln_audit_image img = { .kind = KILN_AUDIT_INITRAMFS };
	char *got[3];

	if (kiln_initrd_scan(ctx, path, account_files, got, &img.tsv, &img.n_files) < 0)
		return -1;
	img.passwd = got[0];
	img.group = got[1];
	img.shadow = got[2];
	img.os = kiln_strdup("kiln initramfs");
	*ret = img;
	return 0;
}

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * A deployment's boot overlay: its backing file (name at the offset and of
 * the length the qcow2 header gives, relative to the image's directory) is
 * a version's disk.qcow2 in @store, itself without a backing file.
 */
static int
backing_in_store(const char *path, int fd, const unsigned char *head, const char *store)
{
	uint64_t off = be(head + 8, 8), len = be(head + 16, 4);
	_cleanup_free_ char *name = NULL, *dir = NULL, *full = NULL, *real = NULL, *root = NULL;
	unsigned char bh[16];
	int bfd, ok;

	if (!store || len == 0 || len > 1023 || off > 1 << 20)
		return 0;
	name = kiln_malloc(len + 1);
	if (pread(fd, name, len, (off_t)off) != (ssize_t)len)
		return 0;
	name[len] = '\0';
	if (strlen(name) != len)
		return 0;
	if (name[0] == '/') {
		full = kiln_strdup(name);
	} else {
		char *slash;

		dir = kiln_strdup(path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		full = kiln_asprintf("%s/%s", slash ? dir : ".", name);
	}
	real = realpath(full, NULL);
	root = realpath(store, NULL);
	if (!real || !root || strncmp(real, root, strlen(root)) || real[strlen(root)] != '/' ||
	    strlen(real) < 11 || strcmp(real + strlen(real) - 11, "/disk.qcow2"))
		return 0;
	bfd = open(real, O_RDONLY | O_CLOEXEC);
	ok = bfd >= 0 && pread(bfd, bh, sizeof(bh), 0) == (ssize_t)sizeof(bh) && !memcmp(bh, "QFI\xfb", 4) && be(bh + 8, 8) == 0;
	if (bfd >= 0)
		close(bfd);
	return ok;
}

int
kiln_audit_image_format(struct kiln_ctx *ctx, const char *path, const char *store, const char **ret)
{
	_cleanup_(kiln_closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char head[512] = { 0 }, tail[512] = { 0 };
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot open '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a file", path);
	if (pread(fd, head, sizeof(head), 0) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read '%s': %s", path, strerror(errno));
	if (memcmp(head, "QFI\xfb", 4) == 0) {
		/* a backing file would have the appliance open a host file the image names */
		for (int i = 8; i < 16; i++)
			if (head[i] && !backing_in_store(path, fd, head, store))
				return kiln_error(ctx, KILN_EXIT_INTEGRITY,
						  "'%s': a qcow2 image with a backing file is not audited (unless it is a version's disk.qcow2 in the store)",
						  path);
		*ret = "qcow2";
	} else if (memcmp(head, "KDMV", 4) == 0 || memcmp(head, "# Disk DescriptorFile", 21) == 0) {
		if (memcmp(head, "KDMV", 4) != 0)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': a VMDK descriptor names other files: audit its extent", path);
		*ret = "vmdk";
	} else if (memcmp(head, "conectix", 8) == 0) {
		*ret = "vpc";	/* a dynamic VHD: its footer's copy leads */
	} else if (st.st_size >= 512 && pread(fd, tail, sizeof(tail), st.st_size - 512) == 512 &&
		   memcmp(tail, "conectix", 8) == 0) {
		*ret = "vpc";
	} else {
		*ret = "raw";
	}
	return 0;
}

static int
gfail(struct kiln_ctx *ctx, guestfs_h *g, const char *what)
{
	const char *e = guestfs_last_error(g);

	return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot %s: %s", what, e ? e : "unknown libguestfs error");
}

/* The text of @path in the mounted tree, at most @max bytes; NULL when absent (not an error). */
static int
read_text(struct kiln_ctx *ctx, guestfs_h *g, const char *path, size_t max, char **ret)
{
	int64_t size;
	size_t len;
	char *data;

	*ret = NULL;
	if (guestfs_is_file_opts(g, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 0, -1) != 1)
		return 0;
	size = guestfs_filesize(g, path);
	if (size < 0)
		return gfail(ctx, g, "read the size of a file");
	if ((uint64_t)size > max)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s is %lld bytes, more than kiln audit reads (%zu)", path,
				  (long long)size, max);
	data = guestfs_read_file(g, path, &len);
	if (!data)
		return gfail(ctx, g, "read a file");
	*ret = kiln_realloc(data, len + 1);
	(*ret)[len] = '\0';
	return 0;
}

/* Is @dev a vfat ESP holding a kiln UKI? Then read it (1), else 0. */
static int
try_kiln_esp(struct kiln_ctx *ctx, guestfs_h *g, const char *dev, const char *tmpdir, struct kiln_audit_image *img)
{
	_cleanup_free_ char *uki = kiln_asprintf("%s/uki.efi", tmpdir), *initrd = kiln_asprintf("%s/initrd.img", tmpdir);
	struct kiln_uki u = { 0 };
	char *got[3];
	int64_t size;
	int rc = 0;

	if (guestfs_mount_ro(g, dev, "/") < 0)
		return 0;
	if (guestfs_is_file(g, KILN_ESP_BOOT_PATH) != 1 || (size = guestfs_filesize(g, KILN_ESP_BOOT_PATH)) < 0 ||
	    (uint64_t)size > KILN_UKI_MAX) {
		guestfs_umount_all(g);
		return 0;
	}
	if (guestfs_download(g, KILN_ESP_BOOT_PATH, uki) < 0)
		rc = gfail(ctx, g, "copy the unified kernel image out of the ESP");
	guestfs_umount_all(g);
	if (rc == 0)
		rc = kiln_uki_read(ctx, uki, initrd, &u);
	unlink(uki);
	if (rc < 0)
		return -1;
	if (!u.has_initrd || !u.osrel || !strstr(u.osrel, "\nID=kiln\n")) {
		unlink(initrd);
		kiln_uki_release(&u);
		return 0;	/* some other UKI: not a kiln disk */
	}
	for (char *line = u.osrel; line && *line;) {
		char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);

		if (kiln_startswith(line, "IMAGE_ID=") && !img->family)
			img->family = kiln_strndup(line + 9, n - 9);
		else if (kiln_startswith(line, "IMAGE_VERSION=") && !img->version)
			img->version = kiln_strndup(line + 14, n - 14);
		line = eol ? eol + 1 : NULL;
	}
	rc = kiln_initrd_scan(ctx, initrd, account_files, got, &img->tsv, &img->n_files);
	unlink(initrd);
	if (rc < 0) {
		kiln_uki_release(&u);
		return -1;
	}
	img->passwd = got[0];
	img->group = got[1];
	img->shadow = got[2];
	img->kind = KILN_AUDIT_KILN_DISK;
	img->uki = u;
	img->os = kiln_asprintf("kiln %s %s (unified kernel image on %s)", img->family ? img->family : "?",
				img->version ? img->version : "?", dev);
	return 1;
}

struct entry {
	char *dir, *name;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);

	return c ? c : strcmp(x->name, y->name);
}

static int
line_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strcspn(x, "\t"), ly = strcspn(y, "\t");
	int c = memcmp(x, y, lx < ly ? lx : ly);

	return c ? c : (lx > ly) - (lx < ly);
}

/* Every file below / of the mounted tree as files.tsv lines (no hashes): find0, then lstatnslist per directory. */
static int
walk(struct kiln_ctx *ctx, guestfs_h *g, const char *tmpdir, char **ret_tsv, size_t *ret_n)
{
	_cleanup_free_ char *list = kiln_asprintf("%s/find0", tmpdir), *names = NULL;
	struct entry *e = NULL;
	struct kiln_strv lines = { 0 };
	struct kiln_buf out = { 0 };
	size_t len, n = 0;
	int rc = 0;

	if (guestfs_find0(g, "/", list) < 0)
		return gfail(ctx, g, "list the image's files");
	rc = kiln_read_file(ctx, list, (size_t)KILN_AUDIT_FILES_MAX * 256, &names, &len);
	unlink(list);
	if (rc < 0)
		return kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "the image's file list: %s", ctx->msg);
	for (size_t off = 0; off < len;) {
		const char *p = names + off;
		size_t l = strnlen(p, len - off);
		const char *slash;

		off += l + 1;
		if (!l)
			continue;
		if (n >= KILN_AUDIT_FILES_MAX) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "the image has more than %d files", KILN_AUDIT_FILES_MAX);
			break;
		}
		e = n % 4096 ? e : kiln_realloc(e, (n + 4096) * sizeof(*e));
		slash = memrchr(p, '/', l);
		e[n].dir = slash ? kiln_asprintf("/%.*s", (int)(slash - p), p) : kiln_strdup("/");
		e[n].name = kiln_strdup(slash ? slash + 1 : p);
		n++;
	}
	if (n)
		qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t j = i, k = 0;
		char **batch;
		struct guestfs_statns_list *st;

		while (j < n && !strcmp(e[j].dir, e[i].dir) && j - i < 1000)
			j++;
		batch = kiln_calloc(j - i + 1, sizeof(*batch));
		for (size_t x = i; x < j; x++)
			batch[k++] = e[x].name;
		st = guestfs_lstatnslist(g, e[i].dir, batch);
		free(batch);
		if (!st || st->len != (uint32_t)(j - i)) {
			if (st)
				guestfs_free_statns_list(st);
			rc = gfail(ctx, g, "read the files' modes and owners");
			break;
		}
		for (size_t x = 0; x < st->len; x++) {
			const struct guestfs_statns *s = &st->val[x];
			const char *sep = strcmp(e[i].dir, "/") ? "/" : "";

			kiln_strv_push_take(&lines, kiln_asprintf("%s%s%s\t%06llo\t%lld\t%lld\t%lld\t-\n", e[i].dir, sep,
								  e[i + x].name, (unsigned long long)s->st_mode,
								  (long long)s->st_uid, (long long)s->st_gid,
								  (long long)(S_ISREG(s->st_mode) || S_ISLNK(s->st_mode) ? s->st_size : 0)));
		}
		guestfs_free_statns_list(st);
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		free(e[i].dir);
		free(e[i].name);
	}
	free(e);
	if (rc < 0) {
		kiln_strv_release(&lines);
		return -1;
	}
	if (lines.n)
		qsort(lines.v, lines.n, sizeof(*lines.v), line_cmp);
	for (size_t i = 0; i < lines.n; i++)
		kiln_buf_add(&out, lines.v[i], strlen(lines.v[i]));
	kiln_buf_add(&out, "", 0);
	*ret_n = lines.n;
	kiln_strv_release(&lines);
	*ret_tsv = kiln_buf_detach(&out, NULL);
	return 0;
}

static int
mp_cmp(const void *a, const void *b)
{
	/* the pairs [mountpoint, device]: shorter mountpoints first, so / comes before /usr */
	const char *const *x = a, *const *y = b;
	size_t lx = strlen(x[0]), ly = strlen(y[0]);

	return (lx > ly) - (lx < ly);
}

static int
read_foreign(struct kiln_ctx *ctx, guestfs_h *g, const char *root, const char *tmpdir, struct kiln_audit_image *img)
{
	char **mps = guestfs_inspect_get_mountpoints(g, root);
	char *distro = guestfs_inspect_get_distro(g, root), *product = guestfs_inspect_get_product_name(g, root);
	int major = guestfs_inspect_get_major_version(g, root), minor = guestfs_inspect_get_minor_version(g, root);
	size_t n = 0;
	int rc = 0;

	if (!mps) {
		free(distro);
		free(product);
		return gfail(ctx, g, "read the OS's mount points");
	}
	while (mps[n])
		n++;
	qsort(mps, n / 2, 2 * sizeof(*mps), mp_cmp);
	for (size_t i = 0; i + 1 < n; i += 2)
		if (guestfs_mount_ro(g, mps[i + 1], mps[i]) < 0)	/* one that does not mount is left out */
			continue;
	for (size_t i = 0; i < n; i++)
		free(mps[i]);
	free(mps);
	img->kind = KILN_AUDIT_FOREIGN;
	img->distro = kiln_strdup(distro ? distro : "unknown");
	{
		_cleanup_free_ char *ver = minor > 0 ? kiln_asprintf("%d.%d", major, minor) : kiln_asprintf("%d", major);

		/* the product name when it says more than the version (Ubuntu's does; Debian's is the version) */
		img->os = product && strcmp(product, ver) && strcmp(product, "unknown")
				  ? kiln_asprintf("%s %s (%s)", img->distro, ver, product)
				  : kiln_asprintf("%s %s", img->distro, ver);
	}
	free(distro);
	free(product);
	rc = walk(ctx, g, tmpdir, &img->tsv, &img->n_files);
	if (rc == 0)
		rc = read_text(ctx, g, "/etc/passwd", KILN_AUDIT_TEXT_MAX, &img->passwd);
	if (rc == 0)
		rc = read_text(ctx, g, "/etc/group", KILN_AUDIT_TEXT_MAX, &img->group);
	if (rc == 0)
		rc = read_text(ctx, g, "/etc/shadow", KILN_AUDIT_TEXT_MAX, &img->shadow);
	if (rc == 0 && (!strcmp(img->distro, "debian") || !strcmp(img->distro, "ubuntu")))
		rc = read_text(ctx, g, "/var/lib/dpkg/status", KILN_AUDIT_TEXT_MAX, &img->dpkg_status);
	guestfs_umount_all(g);
	return rc;
}

int
kiln_audit_read_guestfs(struct kiln_ctx *ctx, guestfs_h *g, const char *device, const char *tmpdir,
			struct kiln_audit_image *ret)
{
	struct kiln_audit_image img = { 0 };
	char **roots = guestfs_inspect_os(g), **fs = NULL;
	const char *root = NULL;
	size_t dl = strlen(device);
	int rc = 0;

	if (!roots)
		return gfail(ctx, g, "inspect the image");
	/* an OS of this disk (the handle may hold others) */
	for (size_t i = 0; roots[i] && !root; i++)
		if (!strncmp(roots[i], device, dl))
			root = roots[i];
	if (root) {
		rc = read_foreign(ctx, g, root, tmpdir, &img);
	} else {
		fs = guestfs_list_filesystems(g);
		if (!fs)
			rc = gfail(ctx, g, "list the image's filesystems");
		for (size_t i = 0; rc == 0 && fs[i] && img.kind != KILN_AUDIT_KILN_DISK; i += 2)
			if (!strncmp(fs[i], device, dl) && fs[i + 1] && !strcmp(fs[i + 1], "vfat"))
				rc = try_kiln_esp(ctx, g, fs[i], tmpdir, &img) < 0 ? -1 : 0;
		if (rc == 0 && img.kind != KILN_AUDIT_KILN_DISK)
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "no operating system and no kiln EFI system partition found on it");
	}
	for (size_t i = 0; roots[i]; i++)
		free(roots[i]);
	free(roots);
	for (size_t i = 0; fs && fs[i]; i++)
		free(fs[i]);
	free(fs);
	if (rc < 0) {
		kiln_audit_image_release(&img);
		return -1;
	}
	*ret = img;
	return 0;
}

int
kiln_audit_read_disk(struct kiln_ctx *ctx, const char *path, const char *store, struct kiln_audit_image *ret)
{
	_cleanup_free_ char *tmpdir = kiln_asprintf("%s/kiln-audit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	const char *format;
	guestfs_h *g;
	int rc;

	if (kiln_audit_image_format(ctx, path, store, &format) < 0)
		return -1;
	if (!mkdtemp(tmpdir))
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create a temporary directory: %s", strerror(errno));
	g = kiln_guestfs_new(ctx);
	rc = g ? 0 : -1;
	if (rc == 0 && (guestfs_add_drive_opts(g, path, GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
					       format, -1) < 0 ||
			guestfs_launch(g) < 0))
		rc = gfail(ctx, g, "open the image");
	if (rc == 0)
		rc = kiln_audit_read_guestfs(ctx, g, "/dev/sda", tmpdir, ret);
	if (g)
		guestfs_close(g);
	rmdir(tmpdir);
	if (rc < 0)
		return kiln_error_replace(ctx, ctx->code, "%s: %s", path, ctx->msg);
	return 0;
}
