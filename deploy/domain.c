/* domain.c - a deployment's libvirt domain XML, written and read with libxml2. */
#include "domain.h"
#include "disk.h"
#include "kiln.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define X(s) BAD_CAST(s)

/* Every write checks; one failure makes the whole document NULL. */
struct w {
	xmlTextWriterPtr x;
	int bad;
};

static void
el(struct w *w, const char *name)
{
	w->bad |= xmlTextWriterStartElement(w->x, X(name)) < 0;
}

static void
end(struct w *w)
{
	w->bad |= xmlTextWriterEndElement(w->x) < 0;
}

static void
attr(struct w *w, const char *name, const char *value)
{
	w->bad |= xmlTextWriterWriteAttribute(w->x, X(name), X(value)) < 0;
}

static void
text_el(struct w *w, const char *name, const char *value)
{
	w->bad |= xmlTextWriterWriteElement(w->x, X(name), X(value)) < 0;
}

/* <NAME ATTR='VALUE'/> */
static void
empty1(struct w *w, const char *name, const char *a, const char *v)
{
	el(w, name);
	attr(w, a, v);
	end(w);
}

/* A qcow2 file as virtio disk @dev: the boot disk (@boot, left out of snapshots) or the data volume. */
static void
qcow2_disk(struct w *w, const char *file, const char *dev, int boot)
{
	el(w, "disk");
	attr(w, "type", "file");
	attr(w, "device", "disk");
	if (boot)	/* derived from the version, nothing to keep: volume snapshots leave it out */
		attr(w, "snapshot", "no");
	el(w, "driver");
	attr(w, "name", "qemu");
	attr(w, "type", "qcow2");
	end(w);
	empty1(w, "source", "file", file);
	el(w, "target");
	attr(w, "dev", dev);
	attr(w, "bus", "virtio");
	end(w);
	if (boot)
		empty1(w, "boot", "order", "1");
	else	/* kiln-init finds its data volume by this serial, whatever else the guest has */
		text_el(w, "serial", "kiln-state");
	end(w);
}

static void
devices(struct w *w, const struct kiln_domain_spec *s)
{
	el(w, "devices");
	if (s->boot_disk)
		qcow2_disk(w, s->boot_disk, "vda", 1);
	if (s->volume)
		qcow2_disk(w, s->volume, s->boot_disk ? "vdb" : "vda", 0);
	if (s->network) {
		el(w, "interface");
		attr(w, "type", "network");
		empty1(w, "source", "network", s->network);
		empty1(w, "model", "type", "virtio");
		end(w);
	}
	el(w, "serial");
	attr(w, "type", "file");
	el(w, "source");
	attr(w, "path", s->console_log);
	attr(w, "append", "on");
	end(w);
	empty1(w, "target", "port", "0");
	end(w);
	empty1(w, "console", "type", "file");
	empty1(w, "memballoon", "model", "none");
	end(w);
}

char *
kiln_domain_xml(const struct kiln_domain_spec *s)
{
	xmlBufferPtr buf = xmlBufferCreate();
	struct w w = { xmlNewTextWriterMemory(buf, 0), 0 };
	char num[32];
	char *out = NULL;

	if (!w.x || !s->name || !s->type || !s->console_log || (!s->boot_disk && (!s->kernel || !s->initrd)) ||
	    (s->boot_disk && !s->nvram))
		goto done;
	xmlTextWriterSetIndent(w.x, 1);
	xmlTextWriterSetIndentString(w.x, X("  "));
	el(&w, "domain");
	attr(&w, "type", s->type);
	text_el(&w, "name", s->name);
	if (s->uuid)
		text_el(&w, "uuid", s->uuid);
	snprintf(num, sizeof(num), "%u", s->memory_mib);
	el(&w, "memory");
	attr(&w, "unit", "MiB");
	w.bad |= xmlTextWriterWriteString(w.x, X(num)) < 0;
	end(&w);
	snprintf(num, sizeof(num), "%u", s->cpus ? s->cpus : 1);
	text_el(&w, "vcpu", num);

	el(&w, "metadata");
	w.bad |= xmlTextWriterStartElementNS(w.x, X("kiln"), X("deployment"), X(KILN_DOMAIN_NS)) < 0;
	attr(&w, "tenant", s->tenant ? s->tenant : "");
	attr(&w, "name", s->deployment ? s->deployment : "");
	attr(&w, "family", s->family ? s->family : "");
	attr(&w, "version", s->version ? s->version : "");
	snprintf(num, sizeof(num), "%u", s->instance);
	attr(&w, "instance", num);
	end(&w);
	end(&w);

	if (s->n_env || (s->boot_disk && s->ip)) {
		el(&w, "sysinfo");
		attr(&w, "type", "smbios");
		el(&w, "oemStrings");
		for (size_t i = 0; i < s->n_env; i++) {
			_cleanup_free_ char *e = kiln_asprintf("kiln.env:%s", s->env[i]);

			text_el(&w, "entry", e);
		}
		if (s->boot_disk && s->ip) {
			_cleanup_free_ char *e = kiln_asprintf("kiln.ip:%s", s->ip);

			text_el(&w, "entry", e);
		}
		end(&w);
		end(&w);
	}
	el(&w, "os");
	el(&w, "type");
	attr(&w, "arch", "x86_64");
	if (s->boot_disk)
		attr(&w, "machine", "q35");
	w.bad |= xmlTextWriterWriteString(w.x, X("hvm")) < 0;
	end(&w);
	if (s->boot_disk) {
		el(&w, "loader");
		attr(&w, "readonly", "yes");
		attr(&w, "type", "pflash");
		w.bad |= xmlTextWriterWriteString(w.x, X(KILN_OVMF_CODE)) < 0;
		end(&w);
		el(&w, "nvram");
		attr(&w, "template", KILN_OVMF_VARS);
		w.bad |= xmlTextWriterWriteString(w.x, X(s->nvram)) < 0;
		end(&w);
	} else {
		text_el(&w, "kernel", s->kernel);
		text_el(&w, "initrd", s->initrd);
		text_el(&w, "cmdline", s->cmdline ? s->cmdline : "");
	}
	if (s->n_env || (s->boot_disk && s->ip))
		empty1(&w, "smbios", "mode", "sysinfo");
	end(&w);
	/* ACPI: the kernel finds its tables (and could be shut down gracefully) */
	el(&w, "features");
	el(&w, "acpi");
	end(&w);
	el(&w, "apic");
	end(&w);
	end(&w);
	text_el(&w, "on_poweroff", "destroy");
	text_el(&w, "on_reboot", "restart");
	text_el(&w, "on_crash", "destroy");
	devices(&w, s);
	end(&w);
	w.bad |= xmlTextWriterEndDocument(w.x) < 0;
	xmlFreeTextWriter(w.x);
	w.x = NULL;
	if (!w.bad)
		out = kiln_strdup((const char *)xmlBufferContent(buf));
done:
	if (w.x)
		xmlFreeTextWriter(w.x);
	xmlBufferFree(buf);
	return out;
}

static char *
prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, X(name));
	char *out = kiln_strdup(v ? (const char *)v : "");

	xmlFree(v);
	return out;
}

int
kiln_domain_meta_parse(const char *xml, size_t len, struct kiln_domain_meta *ret)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	int rc = -1;

	memset(ret, 0, sizeof(*ret));
	if (len > KILN_DOMAIN_XML_MAX)
		return -1;
	/* no network, no entities, no DTD: the XML comes from libvirt, but is read as untrusted */
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	for (n = root ? root->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, X("metadata")) == 0)
			break;
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, X("deployment")) == 0 && n->ns &&
		    xmlStrcmp(n->ns->href, X(KILN_DOMAIN_NS)) == 0) {
			char *inst = prop(n, "instance");

			ret->tenant = prop(n, "tenant");
			ret->deployment = prop(n, "name");
			ret->family = prop(n, "family");
			ret->version = prop(n, "version");
			ret->instance = (unsigned)strtoul(inst, NULL, 10);
			free(inst);
			rc = 0;
			break;
		}
	xmlFreeDoc(doc);
	return rc;
}

int
kiln_network_ipv4_parse(const char *xml, size_t len, char ret_addr[16], int *ret_prefix)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	int rc = -1;

	if (len > KILN_DOMAIN_XML_MAX)
		return -1;
	doc = xmlReadMemory(xml, (int)len, "network.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	for (n = root ? root->children : NULL; n && rc < 0; n = n->next) {
		_cleanup_free_ char *family = NULL, *addr = NULL, *prefix = NULL, *mask = NULL;
		struct in_addr a, m;
		char *end;
		long p = -1;

		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, X("ip")))
			continue;
		family = prop(n, "family");
		addr = prop(n, "address");
		prefix = prop(n, "prefix");
		mask = prop(n, "netmask");
		if ((*family && strcmp(family, "ipv4")) || inet_pton(AF_INET, addr, &a) != 1)
			continue;
		if (*prefix) {
			p = strtol(prefix, &end, 10);
			if (*end)
				p = -1;
		} else if (*mask && inet_pton(AF_INET, mask, &m) == 1) {
			uint32_t bits = ntohl(m.s_addr);

			p = __builtin_popcount(bits);
			if (bits != (p ? 0xffffffffu << (32 - p) : 0))
				p = -1;
		}
		if (p < 8 || p > 30)
			continue;
		snprintf(ret_addr, 16, "%s", addr);
		*ret_prefix = (int)p;
		rc = 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

void
kiln_domain_meta_release(struct kiln_domain_meta *m)
{
	free(m->tenant);
	free(m->deployment);
	free(m->family);
	free(m->version);
	memset(m, 0, sizeof(*m));
}
