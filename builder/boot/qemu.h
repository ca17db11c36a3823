/* qemu.h - boot an image version under QEMU: direct kernel boot, serial console. */
#ifndef KILN_QEMU_H
#define KILN_QEMU_H

#include "kiln.h"

struct kiln_boot_opts {
	const char *dir;		/* STORE/FAMILY/VERSION */
	int disk;			/* boot its disk image under UEFI (OVMF), not its kernel directly */
	const char *store;		/* STORE, where a failed KVM is remembered; may be NULL */
	int timeout;			/* seconds, 0: none */
	struct kiln_strv forwards;	/* "HOSTPORT:GUESTPORT" */
	const char *append;		/* extra kernel arguments, or NULL */
	int memory_mb;
	const char *accel;		/* auto (KVM when usable, else TCG), kvm, tcg */
	FILE *console;			/* where the guest's console goes (stdout) */
};

/*
 * kiln_boot() - run the image until it powers off, reports, or times out
 * Uses KVM when /dev/kvm is usable, TCG otherwise. *@ret_status is the exit
 * status kiln-init reported for the image's command. Errors: exit 2 for a
 * missing image, 1 for a timeout or a guest that ended without reporting,
 * 5... never: QEMU user networking needs no host network.
 */
int kiln_boot(struct kiln_ctx *ctx, const struct kiln_boot_opts *o, int *ret_status);

/* The kernel command line the manifest of @dir records (caller frees). */
int kiln_image_cmdline(struct kiln_ctx *ctx, const char *dir, char **ret);

#endif
