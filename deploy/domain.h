/*
 * domain.h - a deployment's libvirt domain, as XML (every libxml2 call).
 *
 * A deployment instance is a domain named kiln-TENANT-NAME[-I] that boots
 * its version's kernel and initramfs directly (or, with boot_disk, the
 * version's disk under UEFI: an overlay of the store's disk.qcow2, the
 * command line the one signed into the unified kernel image, the address
 * an OEM string), writes its serial console to
 * a file kiln reads, has one virtio NIC and, when the image declares a state
 * directory, a qcow2 data volume. The deployment's configuration reaches the
 * guest as SMBIOS type 11 OEM strings "kiln.env:KEY=VALUE" (the mechanism
 * systemd uses for credentials; no disk or network needed), and the domain's
 * <metadata> records which tenant, deployment, family and version it runs,
 * so kiln can tell what libvirt runs from what its catalog says.
 */
#ifndef KILN_DOMAIN_H
#define KILN_DOMAIN_H

#include <stddef.h>

#define KILN_DOMAIN_NS "urn:kiln:deployment:1"
/* A domain's XML kiln reads back is a few KiB; anything over this is not one of ours. */
#define KILN_DOMAIN_XML_MAX (1024 * 1024)

struct kiln_domain_spec {
	const char *name;		/* the domain's name */
	const char *uuid;		/* NULL: libvirt chooses (a new domain) */
	const char *type;		/* "qemu" (TCG), "kvm"; "test" for libvirt's test driver */
	unsigned memory_mib, cpus;
	const char *kernel, *initrd, *cmdline;
	/* or a disk booted under UEFI (OVMF, q35): its qcow2, its variable store (libvirt copies OVMF's template there) */
	const char *boot_disk, *nvram;
	const char *ip;			/* with a disk: the guest's kiln.ip, as SMBIOS OEM string "kiln.ip:ADDR/PREFIX,GW" */
	const char *console_log;	/* the serial console goes to this file */
	const char *volume;		/* a qcow2 data volume, or NULL */
	const char *network;		/* the libvirt network of the NIC, or NULL for none */
	const char *const *env;		/* KEY=VALUE, the deployment's configuration */
	size_t n_env;
	/* what the domain runs, in <metadata> */
	const char *tenant, *deployment, *family, *version;
	unsigned instance;
};

/* kiln_domain_xml() - the domain definition for @s (a new string), or NULL if a field cannot be written. */
char *kiln_domain_xml(const struct kiln_domain_spec *s);

/*
 * What a domain's <metadata> says it runs (strings the caller frees), read
 * back from the XML libvirt gives. Returns 0, or -1 when the XML has no kiln
 * metadata (a domain kiln did not define), is not well-formed or is over
 * KILN_DOMAIN_XML_MAX. Read without network access, DTDs or entity
 * substitution.
 */
struct kiln_domain_meta {
	char *tenant, *deployment, *family, *version;
	unsigned instance;
};
int kiln_domain_meta_parse(const char *xml, size_t len, struct kiln_domain_meta *ret);
void kiln_domain_meta_release(struct kiln_domain_meta *m);

/*
 * The IPv4 address and prefix of a libvirt network (its <ip>, the host's
 * side of the bridge), from the network's XML: 0, or -1 when it has none.
 */
int kiln_network_ipv4_parse(const char *xml, size_t len, char ret_addr[16], int *ret_prefix);

#endif
