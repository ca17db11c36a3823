/* names.h - the names kiln gives things: image families and YYYY.MM.R versions (validators used everywhere). */
#ifndef KILN_NAMES_H
#define KILN_NAMES_H

/* Is @s a valid family name ([a-z0-9-]+, 1..63, not starting with '-')? */
int kiln_family_name_valid(const char *s);

/* Is @v of the form YYYY.MM.R? */
int kiln_version_valid(const char *v);
/* Compares two valid versions part by part: <0, 0, >0. */
int kiln_version_cmp(const char *a, const char *b);

#endif
