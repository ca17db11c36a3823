/* volume.c - every libguestfs call. */
#define _GNU_SOURCE
#include "volume.h"
#include "disk.h"

#include <guestfs.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
gfail(struct kiln_ctx *ctx, guestfs_h *g, const char *what, const char *path)
{
	const char *e = guestfs_last_error(g);

	return kiln_error(ctx, KILN_EXIT_FAILED, "cannot %s '%s' (libguestfs): %s", what, path, e ? e : "unknown error");
}

int
kiln_volume_create(struct kiln_ctx *ctx, const char *path, uint64_t bytes)
{
	_cleanup_free_ char *tmp = kiln_asprintf("%s.tmp", path);
	guestfs_h *g = kiln_guestfs_new(ctx);
	int rc = -1;

	if (!g)
		return -1;
	unlink(tmp);
	if (guestfs_disk_create(g, tmp, "qcow2", (int64_t)bytes, -1) < 0)
		gfail(ctx, g, "create", tmp);
	else if (guestfs_add_drive_opts(g, tmp, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) < 0 || guestfs_launch(g) < 0)
		gfail(ctx, g, "start the appliance for", tmp);
	else if (guestfs_mkfs(g, "ext4", "/dev/sda") < 0 || guestfs_set_label(g, "/dev/sda", "kiln-state") < 0)
		gfail(ctx, g, "make the filesystem of", tmp);
	else if (guestfs_shutdown(g) < 0)
		gfail(ctx, g, "finish", tmp);
	else if (rename(tmp, path) < 0)
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot rename '%s': %s", tmp, strerror(errno));
	else
		rc = 0;
	guestfs_close(g);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
