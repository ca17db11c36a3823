/* bounds.h - how far untrusted packages may expand (a recipe's [Limits]). */
#ifndef KILN_BOUNDS_H
#define KILN_BOUNDS_H

#include <stdint.h>

/* What one package, and the whole image, may expand to: bytes of content and entries. */
struct kiln_limits {
	uint64_t package_bytes, package_entries;
	uint64_t image_bytes, image_entries;
};
/* Generous for real Debian packages (the largest a server image holds are ~150 MB, ~10,000 files). */
#define KILN_LIMITS_DEFAULT { (uint64_t)1 << 30, 100000, (uint64_t)4 << 30, 500000 }

#endif
