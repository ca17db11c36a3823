/*
 * fuzz-deploy.c - what the deployment side reads from outside: a domain's
 * XML as libvirt returns it (a domain anyone on the host may have defined)
 * (and a network's, read for its address), maintenance-window text, and the DMI table kiln-init reads the
 * deployment's configuration from (the hypervisor's). The first byte picks
 * which; a window that
 * parses must print to text that parses to the same window, and a moment
 * is either inside it or before its next start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "smbios.h"
#include "kiln.h"
#include "window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *lo, *hi;
};

/* Every OEM string lies inside the table and has no NUL within its length. */
static void
oem(const char *s, size_t len, void *data)
{
	struct span *sp = data;

	if ((const uint8_t *)s < sp->lo || (const uint8_t *)s + len >= sp->hi || memchr(s, 0, len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct kiln_domain_meta m;

		char addr[16];
		int prefix;

		if (kiln_domain_meta_parse((const char *)data + 1, size - 1, &m) == 0)
			kiln_domain_meta_release(&m);
		/* the same text as a network's XML: an address that parses is a dotted quad and a prefix in range */
		if (kiln_network_ipv4_parse((const char *)data + 1, size - 1, addr, &prefix) == 0 &&
		    (prefix < 8 || prefix > 30 || strnlen(addr, 16) < 7 || strnlen(addr, 16) > 15))
			abort();
	} else if (data[0] & 2) {
		struct span sp = { data + 1, data + size };

		kiln_smbios_oem_strings(data + 1, size - 1, oem, &sp);
	} else {
		char *s = kiln_strndup((const char *)data + 1, size - 1);
		struct kiln_window w, again;
		const char *why;
		char text[128];

		if (kiln_window_parse(s, &w, &why) == 0) {
			time_t now = 1764000000, end = 0, next = 0;

			kiln_window_format(&w, text, sizeof(text));
			if (kiln_window_parse(text, &again, &why) != 0 || again.days != w.days || again.start != w.start ||
			    again.minutes != w.minutes)
				abort();
			if (kiln_window_at(&w, now, &end, &next) ? end <= now : next <= now)
				abort();
		}
		free(s);
	}
	return 0;
}
