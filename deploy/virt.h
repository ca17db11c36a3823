/*
 * virt.h - every libvirt call: one connection per host URI
 * ("qemu:///system", "qemu+ssh://host/system"; "test:///default" in unit
 * tests), defining, starting, stopping and looking up kiln's domains.
 * Errors carry libvirt's message; a host that cannot be reached is exit 5
 * naming the URI.
 */
#ifndef KILN_VIRT_H
#define KILN_VIRT_H

#include "kiln.h"
#include "domain.h"

struct kiln_virt;

enum kiln_dom_state {
	KILN_DOM_MISSING,	/* no domain of that name */
	KILN_DOM_RUNNING,
	KILN_DOM_SHUTOFF,
	KILN_DOM_CRASHED,
	KILN_DOM_OTHER,		/* paused, suspended, shutting down ... */
};

const char *kiln_dom_state_name(enum kiln_dom_state s);

struct kiln_dom_info {
	enum kiln_dom_state state;
	char uuid[37];
	int ours;			/* it carries kiln's metadata */
	struct kiln_domain_meta meta;	/* when @ours: what it is defined to run (the next start) */
	char *running_version;		/* when running and ours: what the live guest was started on */
};

struct kiln_virt *kiln_virt_open(struct kiln_ctx *ctx, const char *uri);
void kiln_virt_close(struct kiln_virt *v);
static inline void kiln_virt_closep(struct kiln_virt **v) { if (*v) kiln_virt_close(*v); }

/* kiln_virt_lookup() - the state of domain @name; KILN_DOM_MISSING if none. 0, or -1 with the error. */
int kiln_virt_lookup(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, struct kiln_dom_info *ret);
void kiln_dom_info_release(struct kiln_dom_info *i);

/*
 * kiln_virt_define() - define the persistent domain @s, or redefine it in
 * place (same UUID) when kiln defined it before. Refuses, with exit 3 and
 * nothing touched, a domain of that name that kiln did not define.
 * *@ret_uuid gets its UUID.
 */
int kiln_virt_define(struct kiln_ctx *ctx, struct kiln_virt *v, const struct kiln_domain_spec *s, char ret_uuid[37]);

int kiln_virt_start(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name);
/* Stops @name at once (the guest holds no state but its volume, flushed by kiln-init's sync); not running is fine. */
int kiln_virt_stop(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name);
/* Removes @name's definition (stopping it first); the volume is a file kiln owns, not touched here. */
int kiln_virt_undefine(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name);

/*
 * kiln_virt_network() - the host's IPv4 address and prefix on libvirt
 * network @name (started): guests get addresses in it, the host's is their
 * gateway. Exit 2 when there is no such network or it has no IPv4 address.
 */
int kiln_virt_network(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, char ret_addr[16], int *ret_prefix);

/*
 * Snapshots of a domain's volume, taken while it is shut off: internal
 * qcow2 snapshots, through libvirt (which keeps the domain's definition of
 * the moment with each). kiln names them "kiln-EPOCH-VERSION" (the version
 * the domain ran), so that sorting by name is sorting by age.
 */
int kiln_virt_snapshot(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap,
		       const char *description);
/* Back to @snap: the volume's data, and the definition it had then. */
int kiln_virt_revert(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap);
int kiln_virt_snapshot_delete(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, const char *snap);
/* kiln's snapshots of @name, oldest first (appended to @ret; none for a missing domain). */
int kiln_virt_snapshots(struct kiln_ctx *ctx, struct kiln_virt *v, const char *name, struct kiln_strv *ret);

#endif
