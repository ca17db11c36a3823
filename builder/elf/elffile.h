/* elffile.h - what an ELF file in a package asks of the image: every libelf (elfutils) call is in elffile.c. */
#ifndef KILN_ELFFILE_H
#define KILN_ELFFILE_H

#include "kiln.h"

/* Larger files are not parsed (a build names them and keeps them whole). */
#define KILN_ELF_MAX ((size_t)512 << 20)

/* What the dynamic loader needs to run an ELF file. */
struct kiln_elf {
	char *interp;		/* PT_INTERP (an executable's dynamic loader), or NULL */
	char *soname;		/* DT_SONAME, or NULL */
	struct kiln_strv needed;	/* DT_NEEDED, in the file's order */
	struct kiln_strv runpath;	/* DT_RUNPATH's directories, else DT_RPATH's, as written ($ORIGIN unexpanded) */
	int dynamic;		/* it has a dynamic section */
};

/* Does @data start like an ELF file? (Four bytes are enough to ask.) */
int kiln_elf_magic(const void *data, size_t len);

/*
 * kiln_elf_read() - the interpreter and dynamic entries of the ELF file @data
 * @data must be writable (libelf may convert it in place) and stays the
 * caller's. Returns 0 with *@ret filled (release it with kiln_elf_release()),
 * or -1 with one error (exit 4: not a readable ELF file, and why).
 */
int kiln_elf_read(struct kiln_ctx *ctx, void *data, size_t len, struct kiln_elf *ret);
void kiln_elf_release(struct kiln_elf *e);

/*
 * kiln_elf_section() - the bytes of the section named @name
 * Returns 0 with *@ret_data a new copy (caller frees; NUL-terminated past
 * *@ret_len) and its length, 1 when the file has no such section (or it holds
 * no bytes in the file), -1 with one error when @data is no readable ELF file.
 */
int kiln_elf_section(struct kiln_ctx *ctx, void *data, size_t len, const char *name, char **ret_data,
		     size_t *ret_len);

#endif
