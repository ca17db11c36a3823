/* sbom.c - a signed manifest as the ecosystem's SBOM formats: CycloneDX 1.5 and SPDX 2.3 (JSON). */
#include "manifest.h"

#include <ctype.h>
#include <string.h>

/* One thing of the image: a Debian package (purl) or an artifact (a file). */
struct part {
	const char *name, *version, *arch, *sha256, *role;
	uint64_t size;		/* artifacts */
	int file;
};

/* Everything the manifest names, in its order: kernel, packages, base, stub, artifacts. */
static struct part *
parts_of(const struct kiln_manifest *m, size_t *ret_n)
{
	struct part *v = kiln_calloc(m->n_packages + m->n_artifacts + 4, sizeof(*v));
	size_t n = 0;

	v[n++] = (struct part){ .name = m->kernel.package, .version = m->kernel.version, .arch = "amd64",
				.sha256 = m->kernel.sha256, .role = "kernel" };
	for (size_t i = 0; i < m->n_packages; i++) {
		const struct kiln_manifest_pkg *p = &m->packages[i];

		v[n++] = (struct part){ .name = p->name, .version = p->version, .arch = p->arch, .sha256 = p->sha256,
					.role = "package" };
	}
	if (m->base.package)
		v[n++] = (struct part){ .name = m->base.package, .version = m->base.version, .arch = "all",
					.sha256 = m->base.sha256, .role = "base (account files)" };
	if (m->disk.stub_package)
		v[n++] = (struct part){ .name = m->disk.stub_package, .version = m->disk.stub_version, .arch = "amd64",
					.sha256 = m->disk.stub_sha256, .role = "uefi-stub" };
	for (size_t i = 0; i < m->n_artifacts; i++) {
		const struct kiln_manifest_artifact *a = &m->artifacts[i];

		v[n++] = (struct part){ .name = a->name, .sha256 = a->sha256, .role = "artifact", .size = a->size, .file = 1 };
	}
	*ret_n = n;
	return v;
}

/* A UUID (version 4 bits) from a SHA-256 hex string: the same manifest, the same serial number. */
static void
uuid_from(const char *sha, char out[37])
{
	char h[33];

	memcpy(h, sha, 32);
	h[32] = '\0';
	h[12] = '4';
	h[16] = "89ab"[(h[16] >= 'a' ? h[16] - 'a' + 10 : h[16] - '0') & 3];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

json_t *
kiln_manifest_cyclonedx(const struct kiln_manifest *m, const char *manifest_sha256)
{
	_cleanup_free_ char *image_ref = kiln_asprintf("urn:kiln:image:%s/%s", m->family, m->version);
	_cleanup_free_ char *serial = NULL;
	json_t *components = json_array(), *deps = json_array(), *seen = json_object(), *root, *meta;
	size_t n;
	struct part *parts = parts_of(m, &n);
	char built[21], uuid[37];

	kiln_format_iso8601(m->built, built);
	uuid_from(manifest_sha256, uuid);
	serial = kiln_asprintf("urn:uuid:%s", uuid);
	for (size_t i = 0; i < n; i++) {
		const struct part *p = &parts[i];
		json_t *c;

		if (p->file) {
			_cleanup_free_ char *ref = kiln_asprintf("%s#%s", image_ref, p->name);

			c = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:o}]}", "type", "file", "bom-ref", ref, "name",
				      p->name, "hashes", "alg", "SHA-256", "content", p->sha256, "properties", "name",
				      "kiln:size", "value", json_sprintf("%llu", (unsigned long long)p->size));
		} else {
			_cleanup_free_ char *purl = kiln_purl(p->name, p->version, p->arch);

			c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]}", "type",
				      !strcmp(p->role, "kernel") ? "operating-system" : !strcmp(p->role, "uefi-stub") ? "firmware" : "library",
				      "bom-ref", purl, "name", p->name, "version", p->version, "purl", purl, "hashes", "alg", "SHA-256",
				      "content", p->sha256, "properties", "name", "kiln:role", "value", p->role);
		}
		/* a bom-ref is unique: a package listed twice (base-passwd installed too) once */
		if (json_object_get(seen, json_string_value(json_object_get(c, "bom-ref")))) {
			json_decref(c);
			continue;
		}
		json_object_set_new(seen, json_string_value(json_object_get(c, "bom-ref")), json_true());
		json_array_append(deps, json_object_get(c, "bom-ref"));
		json_array_append_new(components, c);
	}
	free(parts);
	json_decref(seen);
	meta = json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}}", "timestamp", built,
			 "tools", "components", "type", "application", "name", "kiln", "version", KILN_VERSION,
			 "component", "type", "operating-system", "bom-ref", image_ref, "name", m->family, "version", m->version,
			 "description", "a kiln image: its signed manifest's SHA-256 below", "hashes", "alg", "SHA-256", "content",
			 manifest_sha256);
	root = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:[{s:s, s:o}]}", "bomFormat", "CycloneDX", "specVersion", "1.5",
			 "serialNumber", serial, "version", 1, "metadata", meta, "components", components, "dependencies",
			 "ref", image_ref, "dependsOn", deps);
	return root;
}

/* An SPDX element id from @name: letters, digits, '.' and '-' only, and an index that keeps it unique. */
static char *
spdx_id(const char *kind, size_t i, const char *name)
{
	char *id = kiln_asprintf("SPDXRef-%s-%zu-%s", kind, i, name);

	for (char *c = id + 8; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
			*c = '-';
	return id;
}

json_t *
kiln_manifest_spdx(const struct kiln_manifest *m, const char *manifest_sha256)
{
	_cleanup_free_ char *ns = kiln_asprintf("urn:kiln:spdx:%s:%s:%s", m->family, m->version, manifest_sha256);
	_cleanup_free_ char *name = kiln_asprintf("%s-%s", m->family, m->version);
	json_t *pkgs = json_array(), *rels = json_array(), *root;
	size_t n;
	struct part *parts = parts_of(m, &n);
	char built[21];

	kiln_format_iso8601(m->built, built);
	json_array_append_new(pkgs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:[{s:s, s:s}], s:s, s:s, s:s}", "SPDXID",
					      "SPDXRef-Image", "name", m->family, "versionInfo", m->version,
					      "downloadLocation", "NOASSERTION", "filesAnalyzed", 0, "primaryPackagePurpose",
					      "OPERATING-SYSTEM", "comment", "a kiln image; the checksum is its signed manifest's",
					      "checksums", "algorithm", "SHA256", "checksumValue", manifest_sha256,
					      "licenseConcluded", "NOASSERTION", "licenseDeclared", "NOASSERTION", "copyrightText",
					      "NOASSERTION"));
	json_array_append_new(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-DOCUMENT", "relationshipType",
					      "DESCRIBES", "relatedSpdxElement", "SPDXRef-Image"));
	for (size_t i = 0; i < n; i++) {
		const struct part *p = &parts[i];
		_cleanup_free_ char *id = spdx_id(p->file ? "File" : "Package", i, p->name);
		json_t *e = json_pack("{s:s, s:s, s:s, s:b, s:s, s:[{s:s, s:s}], s:s, s:s, s:s, s:s}", "SPDXID", id, "name",
				      p->name, "downloadLocation", "NOASSERTION", "filesAnalyzed", 0, "primaryPackagePurpose",
				      p->file ? "FILE" : !strcmp(p->role, "kernel") ? "OPERATING-SYSTEM"
						: !strcmp(p->role, "uefi-stub") ? "FIRMWARE" : "LIBRARY",
				      "checksums", "algorithm", "SHA256", "checksumValue", p->sha256, "licenseConcluded",
				      "NOASSERTION", "licenseDeclared", "NOASSERTION", "copyrightText", "NOASSERTION", "comment",
				      p->role);

		if (!p->file) {
			_cleanup_free_ char *purl = kiln_purl(p->name, p->version, p->arch);

			json_object_set_new(e, "versionInfo", json_string(p->version));
			json_object_set_new(e, "supplier", json_string("Organization: Debian"));
			json_object_set_new(e, "externalRefs", json_pack("[{s:s, s:s, s:s}]", "referenceCategory",
									   "PACKAGE-MANAGER", "referenceType", "purl",
									   "referenceLocator", purl));
		}
		json_array_append_new(pkgs, e);
		json_array_append_new(rels, json_pack("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-Image", "relationshipType",
						      "CONTAINS", "relatedSpdxElement", id));
	}
	free(parts);
	root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[s]}, s:[s], s:o, s:o}", "spdxVersion", "SPDX-2.3", "dataLicense",
			 "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT", "name", name, "documentNamespace", ns, "creationInfo",
			 "created", built, "creators", "Tool: kiln-" KILN_VERSION, "documentDescribes", "SPDXRef-Image",
			 "packages", pkgs, "relationships", rels);
	return root;
}
