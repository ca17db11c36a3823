/* initrd.h - an initramfs as a chain of compressed segments, written through a cache, and read back as the kernel does. */
#pragma once

#include "pkgarchive.h"

/*
 * The kernel unpacks an initramfs that is several archives one after the
 * other, each compressed on its own (Documentation/driver-api/early-userspace/
 * buffer-format.rst). kiln writes one segment per owner: first its own nodes
 * (directories, kiln-init, accounts, kernel modules), then each package's
 * files. A segment's compressed bytes depend on its content only, so a
 * store keeps them by content (STORE/cache/initrd/) and a build whose
 * packages did not change compresses only what kiln generates for it.
 */
struct kiln_initrd_opts {
	const char *compression;	/* "xz", "zstd:19", "gzip", "none" ([Output] Compression=) */
	int x86;			/* xz: add the x86 branch filter (the kernel has CONFIG_XZ_DEC_X86) */
	const char *cache_dir;		/* compressed segments by content, or NULL for none */
};

struct kiln_initrd_stats {
	size_t segments, reused;	/* written; of them, taken from the cache */
	struct kiln_strv warnings;	/* cache entries that changed since kiln made them, redone */
};

struct kiln_initrd;

/* Creates the initramfs at @path (truncated); NULL with one error (exit 1). */
struct kiln_initrd *kiln_initrd_create(struct kiln_ctx *ctx, const char *path, const struct kiln_initrd_opts *o);
/* Starts a segment: the archive its entries go to, with inode numbers of its own. */
struct kiln_cpio *kiln_initrd_segment(struct kiln_ctx *ctx, struct kiln_initrd *w);
/* Ends the segment: compressed (or taken from the cache) and appended. */
int kiln_initrd_segment_end(struct kiln_ctx *ctx, struct kiln_initrd *w);
/* Finishes the file; fills @ret_stats (release it with kiln_initrd_stats_release()). Frees @w either way. */
int kiln_initrd_close(struct kiln_ctx *ctx, struct kiln_initrd *w, struct kiln_initrd_stats *ret_stats);
void kiln_initrd_abort(struct kiln_initrd *w);
void kiln_initrd_stats_release(struct kiln_initrd_stats *s);

/*
 * kiln_initrd_files_tsv() - files.tsv as the initramfs at @path really is:
 * one sorted line per entry (path, mode with type, uid, gid, size, sha256).
 */
int kiln_initrd_files_tsv(struct kiln_ctx *ctx, const char *path, char **ret_tsv, size_t *ret_count);

#define KILN_INITRD_ENTRIES_MAX 1000000
#define KILN_INITRD_CAPTURE_MAX (4 * 1024 * 1024)
#define KILN_INITRD_DECODED_MAX ((uint64_t)16 << 30)	/* what all its segments decompress to */
/*
 * kiln_initrd_scan() - kiln_initrd_files_tsv(), and the content of the
 * files @capture names (NULL-terminated, "etc/passwd" as the archive names
 * them) in @captured[i] (NUL-terminated, caller frees; NULL when absent or
 * bigger than KILN_INITRD_CAPTURE_MAX).
 *
 * It walks the file as the kernel's unpack_to_rootfs() does: zero bytes
 * between archives are skipped; an archive starts on a 4-byte boundary with
 * its "070701" magic, uncompressed, or is inside a gzip, xz or zstd stream,
 * which may hold several archives and must end with one; every archive is
 * read, and a path given twice is what its last entry says. Exit 4 for
 * anything else (another compressor, data that is not an archive, a stream
 * cut short), more than KILN_INITRD_ENTRIES_MAX entries or
 * KILN_INITRD_DECODED_MAX bytes.
 */
int kiln_initrd_scan(struct kiln_ctx *ctx, const char *path, const char *const *capture, char **captured, char **ret_tsv,
		     size_t *ret_count);
