/* virt.c - every libvirt call. */
#include "virt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

struct kiln_virt {
	virConnectPtr conn;
	char *uri;
};

/* libvirt prints every error to stderr by default; kiln reports them itself. */
static void
quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static int
fail(struct kiln_ctx *ctx, int code, const char *what, const char *uri)
{
	const char *msg = virGetLastErrorMessage();

	return kiln_error(ctx, code, "%s on '%s': %s", what, uri, msg ? msg : "unknown libvirt error");
}

const char *
kiln_dom_state_name(enum kiln_dom_state s)
{
	static const char *const names[] = { "missing", "running", "shut-off", "crashed", "other" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "other";
}

struct kiln_virt *
kiln_virt_open(struct kiln_ctx *ctx, const char *uri)
{
	struct kiln_virt *v;
	virConnectPtr c;

	virSetErrorFunc(NULL, quiet);
	c = virConnectOpen(uri);
	if (!c) {
		fail(ctx, KILN_EXIT_FETCH, "cannot connect to libvirt", uri);
		return NULL;
	}
	v = kiln_calloc(1, sizeof(*v));
	v->conn = c;
	v->uri = kiln_strdup(uri);
	return v;
}

void
kiln_virt_close(struct kiln_virt *v)
{
	virConnectClose(v->conn);
	free(v->uri);
	free(v);
}

static enum kiln_dom_state
state_of(virDomainPtr d)
{
	int st, reason;

	if (virDomainGetState(d, &st, &reason, 0) < 0)
		return KILN_DOM_OTHER;
	switch (st) {
	case VIR_DOMAIN_RUNNING: return KILN_DOM_RUNNING;
	case VIR_DOMAIN_SHUTOFF: return reason == VIR_DOMAIN_SHUTOFF_CRASHED ? KILN_DOM_CRASHED : KILN_DOM_SHUTOFF;
	case VIR_DOMAIN_CRASHED: return KILN_DOM_CRASHED;
	default: return KILN_DOM_OTHER;
	}
}

/* The domain @name, NULL with *@ret_missing set if there is none, NULL with an error otherwise. */
static virDomainPtr
find(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, int *ret_missing)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);
	virErrorPtr e;

	*ret_missing = 0;
	if (d)
		return d;
	e = virGetLastError();
	if (e && e->code == VIR_ERR_NO_DOMAIN) {
		*ret_missing = 1;
		return NULL;
	}
	fail(ctx, KILN_EXIT_FAILED, "cannot look up the domain", v->uri);
	return NULL;
}

int
kiln_virt_lookup(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, struct kiln_dom_info *ret)
{
	int missing;
	virDomainPtr d = find(ctx, v, name, &missing);
	char *xml;

	memset(ret, 0, sizeof(*ret));
	if (!d)
		return missing ? 0 : -1;
	ret->state = state_of(d);
	if (virDomainGetUUIDString(d, ret->uuid) < 0) {
		fail(ctx, KILN_EXIT_FAILED, "cannot read the domain's UUID", v->uri);
		virDomainFree(d);
		return -1;
	}
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	ret->ours = xml && kiln_domain_meta_parse(xml, strlen(xml), &ret->meta) == 0;
	free(xml);
	if (ret->ours && ret->state == KILN_DOM_RUNNING) {
		struct kiln_domain_meta live;

		xml = virDomainGetXMLDesc(d, 0);
		if (xml && kiln_domain_meta_parse(xml, strlen(xml), &live) == 0) {
			ret->running_version = live.version;
			live.version = NULL;
			kiln_domain_meta_release(&live);
		}
		free(xml);
	}
	virDomainFree(d);
	return 0;
}

void
kiln_dom_info_release(struct kiln_dom_info *i)
{
	kiln_domain_meta_release(&i->meta);
	free(i->running_version);
	i->running_version = NULL;
}

int
kiln_virt_define(struct kiln_ctx *ctx, struct kiln_virt *v, const struct kiln_domain_spec *s, char ret_uuid[37])
{
	struct kiln_domain_spec again = *s;
	struct kiln_dom_info info;
	_cleanup_free_ char *xml = NULL;
	virDomainPtr d;
	int rc = 0;

	if (kiln_virt_lookup(ctx, v, s->name, &info) < 0)
		return -1;
	if (info.state != KILN_DOM_MISSING && !info.ours)
		rc = kiln_error(ctx, KILN_EXIT_REFUSED, "domain '%s' on '%s' exists and was not made by kiln: left alone",
				s->name, v->uri);
	if (info.state != KILN_DOM_MISSING)
		again.uuid = info.uuid;	/* the same domain, redefined */
	xml = rc < 0 ? NULL : kiln_domain_xml(&again);
	kiln_dom_info_release(&info);
	if (rc < 0)
		return -1;
	if (!xml)
		return kiln_error(ctx, KILN_EXIT_USAGE, "cannot write domain '%s': a required field is missing", s->name);
	d = virDomainDefineXML(v->conn, xml);
	if (!d)
		return fail(ctx, KILN_EXIT_FAILED, "cannot define the domain", v->uri);
	if (virDomainGetUUIDString(d, ret_uuid) < 0)
		rc = fail(ctx, KILN_EXIT_FAILED, "cannot read the domain's UUID", v->uri);
	virDomainFree(d);
	return rc < 0 ? -1 : 0;
}

/* Runs @op on domain @name; a missing domain is an error naming it. */
static int
with_domain(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *what,
	    int (*op)(virDomainPtr d))
{
	int missing, rc;
	virDomainPtr d = find(ctx, v, name, &missing);

	if (!d)
		return missing ? kiln_error(ctx, KILN_EXIT_FAILED, "cannot %s '%s' on '%s': no such domain", what, name,
					    v->uri)
			       : -1;
	rc = op(d);
	if (rc < 0) {	/* before virDomainFree(), which resets libvirt's last error */
		_cleanup_free_ char *m = kiln_asprintf("cannot %s '%s'", what, name);

		fail(ctx, KILN_EXIT_FAILED, m, v->uri);
	}
	virDomainFree(d);
	return rc < 0 ? -1 : 0;
}

static int
op_start(virDomainPtr d)
{
	return virDomainCreate(d);
}

static int
op_stop(virDomainPtr d)
{
	if (virDomainIsActive(d) != 1 || virDomainDestroy(d) == 0)
		return 0;
	/* it may have powered itself off in between (an application that ended): stopped all the same */
	return virDomainIsActive(d) == 0 ? 0 : -1;
}

static int
op_undefine(virDomainPtr d)
{
	unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
	char *xml;

	if (op_stop(d) < 0)
		return -1;
	/* a disk-booted guest's UEFI variables go with it (libvirt refuses to undefine it otherwise; not every driver knows the flag) */
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	if (xml && strstr(xml, "<nvram"))
		flags |= VIR_DOMAIN_UNDEFINE_NVRAM;
	free(xml);
	if (virDomainUndefineFlags(d, flags) == 0)
		return 0;
	/* a driver that keeps no NVRAM (the test driver) refuses the flag: kiln removes the file itself */
	if (!(flags & VIR_DOMAIN_UNDEFINE_NVRAM) || virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
		return -1;
	return virDomainUndefineFlags(d, flags & ~VIR_DOMAIN_UNDEFINE_NVRAM);
}

int
kiln_virt_start(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name)
{
	return with_domain(ctx, v, name, "start", op_start);
}

int
kiln_virt_stop(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name)
{
	return with_domain(ctx, v, name, "stop", op_stop);
}

int
kiln_virt_undefine(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name)
{
	return with_domain(ctx, v, name, "undefine", op_undefine);
}

int
kiln_virt_network(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, char ret_addr[16], int *ret_prefix)
{
	virNetworkPtr n = virNetworkLookupByName(v->conn, name);
	char *xml;
	int active, rc;

	if (!n) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_NETWORK)
			return kiln_error(ctx, KILN_EXIT_USAGE, "no libvirt network '%s' on '%s'", name, v->uri);
		return fail(ctx, KILN_EXIT_FAILED, "cannot look up the network", v->uri);
	}
	active = virNetworkIsActive(n);
	xml = virNetworkGetXMLDesc(n, 0);
	virNetworkFree(n);
	if (active != 1) {
		free(xml);
		return kiln_error(ctx, KILN_EXIT_FAILED, "libvirt network '%s' on '%s' is not started ('virsh net-start %s')",
				  name, v->uri, name);
	}
	rc = xml ? kiln_network_ipv4_parse(xml, strlen(xml), ret_addr, ret_prefix) : -1;
	free(xml);
	if (rc < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "libvirt network '%s' on '%s' has no IPv4 address for the host: "
				  "kiln gives each guest an address in it", name, v->uri);
	return 0;
}

/* ---- snapshots of a shut-off domain's volume (internal qcow2 snapshots, made by libvirt) ---- */

int
kiln_virt_snapshot(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap, const char *description)
{
	int missing;
	virDomainPtr d = find(ctx, v, name, &missing);
	virDomainSnapshotPtr s;
	_cleanup_free_ char *xml = NULL;

	if (!d)
		return missing ? kiln_error(ctx, KILN_EXIT_FAILED, "cannot snapshot '%s': no such domain", name) : -1;
	xml = kiln_asprintf("<domainsnapshot><name>%s</name><description>%s</description></domainsnapshot>", snap,
			    description);
	s = virDomainSnapshotCreateXML(d, xml, 0);
	if (!s) {
		_cleanup_free_ char *m = kiln_asprintf("cannot snapshot the volume of '%s'", name);

		fail(ctx, KILN_EXIT_FAILED, m, v->uri);
		virDomainFree(d);
		return -1;
	}
	virDomainSnapshotFree(s);
	virDomainFree(d);
	return 0;
}

/* Runs @op on snapshot @snap of @name. */
static int
with_snapshot(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap, const char *what,
	      int (*op)(virDomainSnapshotPtr s))
{
	int missing, rc = -1;
	virDomainPtr d = find(ctx, v, name, &missing);
	virDomainSnapshotPtr s;

	if (!d)
		return missing ? kiln_error(ctx, KILN_EXIT_FAILED, "cannot %s '%s': no such domain", what, name) : -1;
	s = virDomainSnapshotLookupByName(d, snap, 0);
	if (!s) {
		kiln_error(ctx, KILN_EXIT_USAGE, "'%s' has no snapshot '%s'", name, snap);
	} else {
		rc = op(s);
		if (rc < 0) {
			_cleanup_free_ char *m = kiln_asprintf("cannot %s '%s' of '%s'", what, snap, name);

			fail(ctx, KILN_EXIT_FAILED, m, v->uri);
		}
		virDomainSnapshotFree(s);
	}
	virDomainFree(d);
	return rc < 0 ? -1 : 0;
}

static int
op_revert(virDomainSnapshotPtr s)
{
	return virDomainRevertToSnapshot(s, 0);
}

static int
op_snapshot_delete(virDomainSnapshotPtr s)
{
	return virDomainSnapshotDelete(s, 0);
}

int
kiln_virt_revert(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap)
{
	return with_snapshot(ctx, v, name, snap, "revert to", op_revert);
}

int
kiln_virt_snapshot_delete(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap)
{
	return with_snapshot(ctx, v, name, snap, "delete the snapshot", op_snapshot_delete);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
kiln_virt_snapshots(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, struct kiln_strv *ret)
{
	int missing, n;
	virDomainPtr d = find(ctx, v, name, &missing);
	virDomainSnapshotPtr *snaps = NULL;
	size_t first = ret->n;

	if (!d)
		return missing ? 0 : -1;
	n = virDomainListAllSnapshots(d, &snaps, 0);
	if (n < 0) {
		fail(ctx, KILN_EXIT_FAILED, "cannot list the snapshots", v->uri);
		virDomainFree(d);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *s = virDomainSnapshotGetName(snaps[i]);

		if (s && !strncmp(s, "kiln-", 5))
			kiln_strv_push(ret, s);
		virDomainSnapshotFree(snaps[i]);
	}
	free(snaps);
	virDomainFree(d);
	if (ret->n > first)
		qsort(ret->v + first, ret->n - first, sizeof(char *), by_name);
	return 0;
}
