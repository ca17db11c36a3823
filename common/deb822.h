/* deb822.h - RFC 822-style control data as Debian uses it (Release, .sources). */
#ifndef KILN_DEB822_H
#define KILN_DEB822_H

#include "kiln.h"

struct kiln_deb822_field {
	char *name;
	char *value;		/* continuation lines joined with '\n', leading space dropped */
	int line;
	int value_line;		/* line of the value's first line (the next one if the header's is empty) */
};

struct kiln_deb822_para {
	struct kiln_deb822_field *fields;
	size_t n_fields;
	int line;		/* first line of the paragraph */
};

struct kiln_deb822 {
	struct kiln_deb822_para *paras;
	size_t n_paras;
};

/*
 * kiln_deb822_parse() - split @len bytes into paragraphs of fields
 * '#' comment lines are skipped. @what names the input in messages.
 * Returns 0 and fills @ret (release with kiln_deb822_release()), or -1 with
 * an error naming "what:line" on @ctx (exit 2).
 */
int kiln_deb822_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		      struct kiln_deb822 *ret);
void kiln_deb822_release(struct kiln_deb822 *d);

/* Case-insensitive field lookup; borrowed from @p, NULL if absent. */
const struct kiln_deb822_field *kiln_deb822_get(const struct kiln_deb822_para *p, const char *name);

#endif
