/* test-image.c - image paths (normalization, merged /usr), module .modinfo (through libelf), versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <elf.h>

#include "build.h"
#include "compose.h"
#include "kernel.h"

static void
norm(const char *in, const char *want)
{
	char *got = kiln_path_normalize(in);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_normalize(void **state)
{
	(void)state;
	norm("./usr/bin/redis-server", "/usr/bin/redis-server");
	norm("./", "");
	norm(".", "");
	norm("./etc//redis/./redis.conf", "/etc/redis/redis.conf");
	norm("./usr/share/doc/", "/usr/share/doc");
	norm("./bin/busybox", "/usr/bin/busybox");
	norm("./sbin/", "/usr/sbin");
	norm("./lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6");
	norm("./lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2");
	norm("./binary/x", "/binary/x");
	norm("./usr/bin", "/usr/bin");
	norm("./usr/lib/../../etc/x", NULL);
	norm("../x", NULL);
	norm("./a/..", NULL);
	norm("/etc/passwd", NULL);
	norm("./a/...", "/a/...");
}

/* A minimal ELF64 object with a .modinfo section. */
static size_t
make_ko(char *buf, const char *info, size_t info_len)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { 0 };
	size_t off = sizeof(eh);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_version = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	memcpy(buf + off, info, info_len);
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_offset = off;
	sh[1].sh_size = info_len;
	off += info_len;
	memcpy(buf + off, shstr, sizeof(shstr));
	sh[2].sh_name = 10;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = off;
	sh[2].sh_size = sizeof(shstr);
	off += sizeof(shstr);
	off = (off + 7) & ~(size_t)7;	/* section headers aligned, as linkers write them */
	eh.e_shoff = off;
	memcpy(buf + off, sh, sizeof(sh));
	memcpy(buf, &eh, sizeof(eh));
	return off + sizeof(sh);
}

static void
test_modinfo(void **state)
{
	static const char info[] = "license=GPL\0name=virtio_net\0depends=net_failover,virtio-ring\0";
	char buf[1024];
	size_t len = make_ko(buf, info, sizeof(info));
	struct kiln_strv deps = { 0 };
	char *name;

	(void)state;
	assert_int_equal(kiln_modinfo_parse(buf, len, &name, &deps), 0);
	assert_string_equal(name, "virtio_net");
	assert_int_equal(deps.n, 2);
	assert_string_equal(deps.v[1], "virtio_ring");	/* '-' and '_' are one */
	free(name);
	kiln_strv_release(&deps);

	assert_int_equal(kiln_modinfo_parse(buf, 40, &name, &deps), -1);	/* truncated */
	assert_int_equal(kiln_modinfo_parse("not an elf", 10, &name, &deps), -1);
	buf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(kiln_modinfo_parse(buf, len, &name, &deps), -1);
	len = make_ko(buf, "depends=\0", 9);
	assert_int_equal(kiln_modinfo_parse(buf, len, &name, &deps), 0);
	assert_null(name);
	assert_int_equal(deps.n, 0);
}

static void
test_versions(void **state)
{
	(void)state;
	assert_true(kiln_version_valid("2026.11.0"));
	assert_true(kiln_version_valid("2026.01.12"));
	assert_false(kiln_version_valid("2026.1.0"));
	assert_false(kiln_version_valid("2026.13.0"));
	assert_false(kiln_version_valid("2026.11.01"));
	assert_false(kiln_version_valid("2026.11"));
	assert_false(kiln_version_valid("2026.11.0x"));
	assert_false(kiln_version_valid("../x"));
	assert_true(kiln_version_cmp("2026.11.0", "2026.11.1") < 0);
	assert_true(kiln_version_cmp("2026.11.10", "2026.11.9") > 0);
	assert_true(kiln_version_cmp("2027.01.0", "2026.12.3") > 0);
	assert_int_equal(kiln_version_cmp("2026.11.2", "2026.11.2"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_modinfo),
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
