/* gfs.c - a libguestfs handle as kiln uses them: backend direct, TCG unless KVM is asked for. */
#define _GNU_SOURCE
#include "disk.h"

#include <guestfs.h>
#include <stdlib.h>
#include <string.h>

guestfs_h *
kiln_guestfs_new(struct kiln_ctx *ctx)
{
	const char *accel = getenv("KILN_ACCEL");
	guestfs_h *g = guestfs_create();

	if (!g) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create a libguestfs handle");
		return NULL;
	}
	guestfs_set_error_handler(g, NULL, NULL);	/* errors are reported once, by kiln */
	/*
	 * The appliance under libvirt or with KVM aborts on machines where KVM
	 * half-works; direct + TCG always starts (KILN_ACCEL=kvm opts back in).
	 */
	if (guestfs_set_backend(g, "direct") < 0 ||
	    (!(accel && !strcmp(accel, "kvm")) && guestfs_set_backend_setting(g, "force_tcg", "1") < 0)) {
		const char *e = guestfs_last_error(g);

		kiln_error(ctx, KILN_EXIT_FAILED, "cannot configure libguestfs's appliance: %s", e ? e : "unknown error");
		guestfs_close(g);
		return NULL;
	}
	return g;
}
