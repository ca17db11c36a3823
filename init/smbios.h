/*
 * smbios.h - the OEM strings (SMBIOS type 11) of a DMI table, as the kernel
 * exposes it in /sys/firmware/dmi/tables/DMI: how a deployment's
 * configuration reaches kiln-init (libvirt's <sysinfo type='smbios'>
 * <oemStrings>, entries "kiln.env:KEY=VALUE"). Header-only: kiln-init is
 * static and links nothing of kiln's; the unit test and the fuzzer include
 * it too. The table comes from the hypervisor: every length is checked
 * against the buffer.
 *
 * A structure is a 4-byte header (type, length of the formatted area,
 * handle), the rest of its formatted area, then its strings, each
 * NUL-terminated, the set ended by an extra NUL (two NULs when there is no
 * string). Type 127 ends the table.
 */
#ifndef KILN_SMBIOS_H
#define KILN_SMBIOS_H

#include <stddef.h>
#include <string.h>

/* Calls @fn for each string of each type 11 structure of @t (@n bytes); returns how many. */
static inline int
kiln_smbios_oem_strings(const unsigned char *t, size_t n, void (*fn)(const char *s, size_t len, void *data), void *data)
{
	size_t p = 0;
	int count = 0;

	while (p + 4 <= n) {
		unsigned type = t[p], len = t[p + 1];
		size_t s = p + len, q;

		if (len < 4 || s + 2 > n || type == 127)
			break;
		/* the end of the string set: the first double NUL at or after s */
		for (q = s; q + 1 < n && !(t[q] == 0 && t[q + 1] == 0); q++)
			;
		if (q + 1 >= n)
			break;
		if (type == 11)
			for (size_t a = s; a < q + 1 && t[a]; ) {
				size_t l = strnlen((const char *)t + a, q + 1 - a);

				fn((const char *)t + a, l, data);
				count++;
				a += l + 1;
			}
		p = q + 2;
	}
	return count;
}

#endif
