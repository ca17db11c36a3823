/* cmdline.h - command lines and environment assignments, split as systemd's ExecStart= and Environment= split them. */
#ifndef KILN_CMDLINE_H
#define KILN_CMDLINE_H

#include "kiln.h"

/* Refuse $NAME and ${NAME} (kiln expands no variables); "$$" is a literal '$'. For command lines. */
#define KILN_CMDLINE_DOLLAR 1u

/*
 * kiln_cmdline_split() - split @s into words as systemd does for ExecStart=
 * Words are separated by whitespace; double and single quotes group (and may
 * start or end inside a word: a"b c" is one word "ab c"); backslash escapes
 * are C's (\n \t \\ \" \' \s \xHH \NNN \uHHHH \UHHHHHHHH) inside and outside
 * quotes. A value holding a line break or a NUL byte is refused, since the
 * argv travels to the guest one word per line. Appends the words to @out and
 * returns 0, or -1 with a static reason in *@ret_err (@out unchanged).
 */
int kiln_cmdline_split(const char *s, unsigned flags, struct kiln_strv *out, const char **ret_err);

/* The inverse, for messages and files: words quoted only where needed, so that splitting gives @argv back. Caller frees. */
char *kiln_cmdline_quote(const struct kiln_strv *argv);

#endif
