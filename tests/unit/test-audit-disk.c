/*
 * test-audit-disk.c - kiln audit's libguestfs reads, one appliance for all:
 * a clean kiln disk (clean, and identical to its files.tsv), the same disk
 * tampered with (a 0666 /etc/passwd, a stray setuid file, a modified
 * binary: each found, nothing else), and a foreign Debian disk made in the
 * same appliance (its OS found, its findings, its dpkg packages).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "disk.h"
#include "image.h"
#include "initrd.h"
#include "policy.h"

static char tmp[] = "/tmp/kiln-test-audit-disk.XXXXXX";
static guestfs_h *g;
static char *signed_tsv;	/* the clean initramfs's files.tsv */
static struct kiln_audit_policy policy;

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/var/lib/app:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\napp:x:1000:\n";

/* A kiln-like initramfs: account files, a binary, a state directory; @tampered changes three things. */
static void
make_initrd(const char *path, int tampered)
{
	struct kiln_ctx ctx;
	struct kiln_cpio *c;
	const char *app = tampered ? "#!app v2 (modified)\n" : "#!app v1\n";

	kiln_ctx_init(&ctx);
	c = kiln_cpio_open(&ctx, path, "gzip");
	assert_non_null(c);
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc/passwd", KILN_ENT_FILE, tampered ? 0666 : 0644, 0, 0, 0, passwd,
				       strlen(passwd), NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "etc/group", KILN_ENT_FILE, 0644, 0, 0, 0, group, strlen(group), NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "tmp", KILN_ENT_DIR, 01777, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "usr", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "usr/bin", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "usr/bin/app", KILN_ENT_FILE, 0755, 0, 0, 0, app, strlen(app), NULL, 0, 0), 0);
	if (tampered)
		assert_int_equal(kiln_cpio_add(&ctx, c, "usr/bin/stray", KILN_ENT_FILE, 04755, 0, 0, 0, "x", 1, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "var", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "var/lib", KILN_ENT_DIR, 0755, 0, 0, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_add(&ctx, c, "var/lib/app", KILN_ENT_DIR, 0750, 1000, 1000, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(kiln_cpio_close(&ctx, c), 0);
}

static void
make_kiln_disk(const char *name, int tampered)
{
	_cleanup_free_ char *initrd = kiln_asprintf("%s/%s.initrd", tmp, name), *vmlinuz = kiln_asprintf("%s/vmlinuz", tmp);
	_cleanup_free_ char *raw = kiln_asprintf("%s/%s.raw", tmp, name);
	struct kiln_disk_input in = { KILN_UKI_STUB_PATH, vmlinuz, initrd, "console=ttyS0 panic=-1",
				      "NAME=\"kiln app\"\nID=kiln\nIMAGE_ID=app\nIMAGE_VERSION=2026.01.0\n", "app/2026.01.0",
				      1767225600, tmp };
	struct kiln_disk_ids ids;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	make_initrd(initrd, tampered);
	if (!tampered) {
		size_t n;

		assert_int_equal(kiln_initrd_files_tsv(&ctx, initrd, &signed_tsv, &n), 0);
	}
	assert_int_equal(kiln_disk_make_raw(&ctx, &in, raw, &ids), 0);
}

static int
setup(void **state)
{
	_cleanup_free_ char *vmlinuz = NULL, *foreign = NULL, *a = NULL, *b = NULL;
	struct kiln_ctx ctx;
	int fd;

	kiln_ctx_init(&ctx);
	if (access(KILN_UKI_STUB_PATH, R_OK) < 0) {
		fprintf(stderr, "systemd-boot-efi is not installed (make deps)\n");
		return -1;
	}
	assert_non_null(mkdtemp(tmp));
	vmlinuz = kiln_asprintf("%s/vmlinuz", tmp);
	assert_int_equal(kiln_write_atomic(&ctx, vmlinuz, "not really a kernel", 19, 0644), 0);
	make_kiln_disk("clean", 0);
	make_kiln_disk("tampered", 1);
	foreign = kiln_asprintf("%s/foreign.raw", tmp);
	fd = open(foreign, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && ftruncate(fd, 64 << 20) == 0);
	close(fd);
	assert_int_equal(kiln_audit_policy_parse(&ctx, "default", kiln_audit_default_policy,
						 strlen(kiln_audit_default_policy), &policy), 0);

	/* one appliance: the two kiln disks read-only, the foreign one made here */
	g = kiln_guestfs_new(&ctx);
	assert_non_null(g);
	a = kiln_asprintf("%s/clean.raw", tmp);
	b = kiln_asprintf("%s/tampered.raw", tmp);
	assert_int_equal(guestfs_add_drive_opts(g, a, GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1), 0);
	assert_int_equal(guestfs_add_drive_opts(g, b, GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1), 0);
	assert_int_equal(guestfs_add_drive_opts(g, foreign, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1), 0);
	assert_int_equal(guestfs_launch(g), 0);
	assert_int_equal(guestfs_part_disk(g, "/dev/sdc", "mbr"), 0);
	assert_int_equal(guestfs_mkfs(g, "ext4", "/dev/sdc1"), 0);
	assert_int_equal(guestfs_set_label(g, "/dev/sdc1", "debroot"), 0);
	assert_int_equal(guestfs_mount(g, "/dev/sdc1", "/"), 0);
	{
		static const char *const dirs[] = { "/etc", "/bin", "/usr/bin", "/var/lib/dpkg", "/tmp", NULL };
		static const char status[] = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n\n"
					     "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n\n"
					     "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n";
		static const char fpasswd[] = "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n";
		static const char fshadow[] = "root:*:19000:0:99999:7:::\ntoor::19000:0:99999:7:::\n";
		static const char osrel[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
					    "VERSION_ID=\"12\"\nID=debian\n";

		for (size_t i = 0; dirs[i]; i++)
			assert_int_equal(guestfs_mkdir_p(g, dirs[i]), 0);
		assert_int_equal(guestfs_write(g, "/etc/os-release", osrel, strlen(osrel)), 0);
		assert_int_equal(guestfs_write(g, "/etc/debian_version", "12.4\n", 5), 0);
		/* by label, as real images do by UUID: /dev/sda here is another disk */
		assert_int_equal(guestfs_write(g, "/etc/fstab", "LABEL=debroot / ext4 defaults 0 1\n", 34), 0);
		assert_int_equal(guestfs_write(g, "/etc/passwd", fpasswd, strlen(fpasswd)), 0);
		assert_int_equal(guestfs_write(g, "/etc/group", "root:x:0:\n", 10), 0);
		assert_int_equal(guestfs_write(g, "/etc/shadow", fshadow, strlen(fshadow)), 0);
		assert_int_equal(guestfs_write(g, "/var/lib/dpkg/status", status, strlen(status)), 0);
		assert_int_equal(guestfs_write(g, "/usr/bin/stray", "x", 1), 0);
		assert_int_equal(guestfs_chmod(g, 0644, "/etc/passwd"), 0);
		assert_int_equal(guestfs_chmod(g, 0640, "/etc/shadow"), 0);
		assert_int_equal(guestfs_chmod(g, 02755, "/usr/bin/stray"), 0);
		assert_int_equal(guestfs_chmod(g, 01777, "/tmp"), 0);
		assert_int_equal(guestfs_chmod(g, 0777, "/var/lib/dpkg"), 0);
	}
	assert_int_equal(guestfs_umount_all(g), 0);
	(void)state;
	return 0;
}

static int
teardown(void **state)
{
	_cleanup_free_ char *cmd = kiln_asprintf("rm -rf '%s'", tmp);

	if (g)
		guestfs_close(g);
	free(signed_tsv);
	kiln_audit_policy_release(&policy);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	(void)state;
	return 0;
}

/* The findings of @img: policy, then integrity when @integrity. */
static size_t
audit(struct kiln_audit_image *img, int integrity, struct kiln_finding **f)
{
	struct kiln_audit_file *files = NULL;
	char *tsv = kiln_strdup(img->tsv);
	size_t n = 0, nf = kiln_audit_files(tsv, &files);

	*f = NULL;
	kiln_audit_evaluate(&policy, files, nf, img->passwd, img->group, img->shadow, f, &n);
	if (integrity)
		kiln_audit_integrity(signed_tsv, img->tsv, f, &n);
	free(files);
	free(tsv);
	return n;
}

static void
expect_one(struct kiln_finding *f, size_t n, const char *rule, const char *path, const char *actual)
{
	size_t hits = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].rule, rule) && !strcmp(f[i].path, path) && (!actual || strstr(f[i].actual, actual)))
			hits++;
	if (hits != 1) {
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "# finding: %s %s expected '%s' actual '%s'\n", f[i].rule, f[i].path, f[i].expected, f[i].actual);
		fail_msg("%s %s (%s): found %zu times", rule, path, actual ? actual : "", hits);
	}
}

static void
test_clean_kiln_disk(void **state)
{
	struct kiln_audit_image img;
	struct kiln_finding *f;
	struct kiln_ctx ctx;
	size_t n;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_audit_read_guestfs(&ctx, g, "/dev/sda", tmp, &img), 0);
	assert_int_equal(img.kind, KILN_AUDIT_KILN_DISK);
	assert_string_equal(img.family, "app");
	assert_string_equal(img.version, "2026.01.0");
	assert_string_equal(img.uki.cmdline, "console=ttyS0 panic=-1");
	assert_non_null(img.passwd);
	assert_string_equal(img.tsv, signed_tsv);
	n = audit(&img, 1, &f);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "# unexpected: %s %s %s\n", f[i].rule, f[i].path, f[i].actual);
	assert_int_equal(n, 0);
	kiln_findings_free(f, n);
	free(f);
	kiln_audit_image_release(&img);
	(void)state;
}

static void
test_tampered_kiln_disk(void **state)
{
	struct kiln_audit_image img;
	struct kiln_finding *f;
	struct kiln_ctx ctx;
	size_t n;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_audit_read_guestfs(&ctx, g, "/dev/sdb", tmp, &img), 0);
	assert_int_equal(img.kind, KILN_AUDIT_KILN_DISK);
	n = audit(&img, 1, &f);
	/* policy */
	expect_one(f, n, "mode", "/etc/passwd", "0666");
	expect_one(f, n, "world-writable", "/etc/passwd", "0666");
	expect_one(f, n, "setuid", "/usr/bin/stray", "4755");
	/* integrity against the signed files.tsv */
	expect_one(f, n, "changed-mode", "/etc/passwd", "0666");
	expect_one(f, n, "added", "/usr/bin/stray", NULL);
	expect_one(f, n, "changed-content", "/usr/bin/app", "20 bytes");
	assert_int_equal(n, 6);
	kiln_findings_free(f, n);
	free(f);
	kiln_audit_image_release(&img);
	(void)state;
}

static void
test_foreign_debian_disk(void **state)
{
	struct kiln_audit_image img;
	struct kiln_finding *f;
	struct kiln_ctx ctx;
	json_t *pkgs;
	char *dump;
	size_t n;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_audit_read_guestfs(&ctx, g, "/dev/sdc", tmp, &img), 0);
	assert_int_equal(img.kind, KILN_AUDIT_FOREIGN);
	assert_string_equal(img.distro, "debian");
	assert_non_null(strstr(img.os, "debian 12"));
	n = audit(&img, 0, &f);
	expect_one(f, n, "setuid", "/usr/bin/stray", "2755");
	expect_one(f, n, "world-writable", "/var/lib/dpkg", "0777");
	expect_one(f, n, "empty-password", "toor", NULL);
	expect_one(f, n, "uid0", "toor", NULL);
	/* ext4's lost+found is root's and 0700: nothing; the shadow file is 0640: nothing */
	assert_int_equal(n, 4);
	kiln_findings_free(f, n);
	free(f);
	pkgs = kiln_audit_dpkg_packages(img.dpkg_status);
	dump = json_dumps(pkgs, JSON_COMPACT);
	assert_string_equal(dump, "[{\"name\":\"base-files\",\"version\":\"12.4+deb12u5\",\"arch\":\"amd64\"},"
				  "{\"name\":\"libc6\",\"version\":\"2.36-9+deb12u4\",\"arch\":\"amd64\"}]");
	free(dump);
	json_decref(pkgs);
	kiln_audit_image_release(&img);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_kiln_disk),
		cmocka_unit_test(test_tampered_kiln_disk),
		cmocka_unit_test(test_foreign_debian_disk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
