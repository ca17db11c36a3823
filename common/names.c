/* names.c - the names kiln gives things: image families and YYYY.MM.R versions. */
#define _GNU_SOURCE
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
kiln_family_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

int
kiln_version_valid(const char *v)
{
	unsigned y, m, r;
	int n = 0;

	if (sscanf(v, "%4u.%2u.%u%n", &y, &m, &r, &n) != 3 || v[n] || y < 1970 || m < 1 || m > 12 || r > 999)
		return 0;
	return strlen(v) >= 9 && v[4] == '.' && v[7] == '.' && (v[8] != '0' || !v[9]);
}

int
kiln_version_cmp(const char *a, const char *b)
{
	unsigned x[3] = { 0 }, y[3] = { 0 };

	sscanf(a, "%u.%u.%u", &x[0], &x[1], &x[2]);
	sscanf(b, "%u.%u.%u", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

