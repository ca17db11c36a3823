/*
 * volume.h - a deployment's data volume: a qcow2 file holding one ext4
 * filesystem (no partition table: kiln-init mounts /dev/vda over the
 * image's State=), made through libguestfs -- its appliance, not root
 * mounts on the host. The appliance runs under TCG unless KILN_ACCEL=kvm
 * (KVM is often unusable where kiln runs: see the README); it starts in
 * about 10 s.
 */
#ifndef KILN_VOLUME_H
#define KILN_VOLUME_H

#include "kiln.h"

#include <stdint.h>

/* kiln_volume_create() - @path as a new volume of @bytes; nothing is left at @path on failure. */
int kiln_volume_create(struct kiln_ctx *ctx, const char *path, uint64_t bytes);

#endif
