/* test-deploy.c - deployment domains: their XML, and libvirt calls against the test:///default driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"
#include "virt.h"

static const char *const env[] = { "maxmemory=64mb", "motd=<a & 'b' \"c\">" };

static struct kiln_domain_spec
spec(const char *name, const char *version)
{
	return (struct kiln_domain_spec){
		.name = name, .type = "test", .memory_mib = 256, .cpus = 1,
		.kernel = "/store/redis/v/vmlinuz", .initrd = "/store/redis/v/initrd.img",
		.cmdline = "console=ttyS0 quiet", .console_log = "/var/log/kiln/console.log",
		.volume = "/store/volumes/acme/web1.qcow2", .env = env, .n_env = ARRAY_SIZE(env),
		.tenant = "acme", .deployment = "web1", .family = "redis", .version = version, .instance = 0,
	};
}

static void
test_xml(void **state)
{
	struct kiln_domain_spec s = spec("kiln-acme-web1", "2026.11.0");
	struct kiln_domain_meta m;
	char *xml;

	(void)state;
	xml = kiln_domain_xml(&s);
	assert_non_null(xml);
	/* the configuration is escaped, not spliced */
	assert_non_null(strstr(xml, "<entry>kiln.env:motd=&lt;a &amp; 'b'"));
	assert_null(strstr(xml, "<a &"));
	assert_non_null(strstr(xml, "<smbios mode=\"sysinfo\"/>"));
	assert_non_null(strstr(xml, "<memory unit=\"MiB\">256</memory>"));
	assert_int_equal(kiln_domain_meta_parse(xml, strlen(xml), &m), 0);
	assert_string_equal(m.tenant, "acme");
	assert_string_equal(m.deployment, "web1");
	assert_string_equal(m.family, "redis");
	assert_string_equal(m.version, "2026.11.0");
	kiln_domain_meta_release(&m);
	free(xml);

	/* no configuration, no volume: no sysinfo, no disk */
	s.n_env = 0;
	s.volume = NULL;
	xml = kiln_domain_xml(&s);
	assert_null(strstr(xml, "sysinfo"));
	assert_null(strstr(xml, "<disk"));
	free(xml);

	/* a network's host address: prefix or netmask, IPv6 skipped, none at all refused */
	{
		char addr[16];
		int prefix = 0;
		const char *n1 = "<network><ip address='10.1.2.1' netmask='255.255.255.0'/></network>";
		const char *n2 = "<network><ip family='ipv6' address='fd00::1' prefix='64'/><ip address='192.168.5.1' prefix='16'/></network>";
		const char *n3 = "<network><ip address='10.1.2.1' netmask='255.0.255.0'/></network>";

		assert_int_equal(kiln_network_ipv4_parse(n1, strlen(n1), addr, &prefix), 0);
		assert_string_equal(addr, "10.1.2.1");
		assert_int_equal(prefix, 24);
		assert_int_equal(kiln_network_ipv4_parse(n2, strlen(n2), addr, &prefix), 0);
		assert_string_equal(addr, "192.168.5.1");
		assert_int_equal(prefix, 16);
		assert_int_equal(kiln_network_ipv4_parse(n3, strlen(n3), addr, &prefix), -1);
		assert_int_equal(kiln_network_ipv4_parse("<network/>", 10, addr, &prefix), -1);
	}

	/* a required field missing gives no document */
	s.kernel = NULL;
	assert_null(kiln_domain_xml(&s));

	/* a domain without kiln's metadata, or with another namespace's, is not ours; garbage is not either */
	{
		static const char *const foreign[] = {
			"<domain type='test'><name>x</name></domain>",
			"<domain><metadata><kiln:deployment xmlns:kiln='urn:other' tenant='a'/></metadata></domain>",
			"<domain><metadata>",
			"",
		};

		static const char lol[] = "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
			"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
			"<domain><metadata><kiln:deployment xmlns:kiln='urn:kiln:deployment:1' tenant='&d;'/></metadata></domain>";
		static const char foreign_ok[] = "<domain><metadata><kiln:deployment xmlns:kiln='urn:kiln:deployment:1'/>"
			"</metadata></domain>";
		char *big;

		for (size_t i = 0; i < ARRAY_SIZE(foreign); i++)
			assert_int_equal(kiln_domain_meta_parse(foreign[i], strlen(foreign[i]), &m), -1);
		/* entities are not substituted: the attribute stays short */
		if (kiln_domain_meta_parse(lol, strlen(lol), &m) == 0) {
			assert_true(strlen(m.tenant) < 100);
			kiln_domain_meta_release(&m);
		}
		/* over the size limit: not read at all */
		big = malloc(KILN_DOMAIN_XML_MAX + 2);
		memset(big, ' ', KILN_DOMAIN_XML_MAX + 1);
		memcpy(big, foreign_ok, strlen(foreign_ok));
		assert_int_equal(kiln_domain_meta_parse(big, strlen(foreign_ok), &m), 0);
		kiln_domain_meta_release(&m);
		assert_int_equal(kiln_domain_meta_parse(big, KILN_DOMAIN_XML_MAX + 1, &m), -1);
		free(big);
	}
}

static void
test_virt(void **state)
{
	struct kiln_domain_spec s = spec("kiln-acme-web1", "2026.11.0");
	struct kiln_virt *v;
	struct kiln_dom_info info;
	struct kiln_ctx ctx;
	char uuid[37], uuid2[37];

	(void)state;
	kiln_ctx_init(&ctx);
	v = kiln_virt_open(&ctx, "test:///default");
	assert_non_null(v);

	assert_int_equal(kiln_virt_lookup(&ctx, v, "kiln-acme-web1", &info), 0);
	assert_int_equal(info.state, KILN_DOM_MISSING);

	if (kiln_virt_define(&ctx, v, &s, uuid) < 0)
		fail_msg("%s", ctx.msg);
	assert_int_equal(kiln_virt_lookup(&ctx, v, "kiln-acme-web1", &info), 0);
	assert_int_equal(info.state, KILN_DOM_SHUTOFF);
	assert_true(info.ours);
	assert_string_equal(info.uuid, uuid);
	assert_string_equal(info.meta.version, "2026.11.0");
	kiln_dom_info_release(&info);

	assert_int_equal(kiln_virt_start(&ctx, v, s.name), 0);
	assert_int_equal(kiln_virt_lookup(&ctx, v, s.name, &info), 0);
	assert_int_equal(info.state, KILN_DOM_RUNNING);
	kiln_dom_info_release(&info);

	/* redefined on a new version: same domain (UUID), the metadata says the new version */
	s.version = "2026.12.0";
	if (kiln_virt_define(&ctx, v, &s, uuid2) < 0)
		fail_msg("%s", ctx.msg);
	assert_string_equal(uuid, uuid2);
	assert_int_equal(kiln_virt_lookup(&ctx, v, s.name, &info), 0);
	assert_string_equal(info.meta.version, "2026.12.0");
	kiln_dom_info_release(&info);

	assert_int_equal(kiln_virt_stop(&ctx, v, s.name), 0);
	assert_int_equal(kiln_virt_stop(&ctx, v, s.name), 0);	/* already stopped: fine */
	assert_int_equal(kiln_virt_lookup(&ctx, v, s.name, &info), 0);
	assert_int_equal(info.state, KILN_DOM_SHUTOFF);
	kiln_dom_info_release(&info);

	/* the driver's own domain "test" is not kiln's: never redefined */
	s.name = "test";
	assert_int_equal(kiln_virt_define(&ctx, v, &s, uuid2), -1);
	assert_int_equal(ctx.code, KILN_EXIT_REFUSED);
	assert_non_null(strstr(ctx.msg, "not made by kiln"));
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_virt_lookup(&ctx, v, "test", &info), 0);
	assert_false(info.ours);
	assert_int_equal(info.state, KILN_DOM_RUNNING);
	kiln_dom_info_release(&info);

	if (kiln_virt_undefine(&ctx, v, "kiln-acme-web1") < 0)
		fail_msg("%s", ctx.msg);
	assert_int_equal(kiln_virt_lookup(&ctx, v, "kiln-acme-web1", &info), 0);
	assert_int_equal(info.state, KILN_DOM_MISSING);
	assert_int_equal(kiln_virt_start(&ctx, v, "kiln-acme-web1"), -1);
	assert_non_null(strstr(ctx.msg, "no such domain"));
	kiln_virt_close(v);

	/* a host that cannot be reached: exit 5 naming it */
	kiln_ctx_init(&ctx);
	assert_null(kiln_virt_open(&ctx, "qemu+unix:///system?socket=/nonexistent/kiln.sock"));
	assert_int_equal(ctx.code, KILN_EXIT_FETCH);
	assert_non_null(strstr(ctx.msg, "/nonexistent/kiln.sock"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_virt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
