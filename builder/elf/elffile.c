/* elffile.c - ELF files read with libelf (elfutils): interpreter, dynamic entries, a named section. */
#define _GNU_SOURCE
#include "elffile.h"

#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static int elf_ok;

static void
elf_init(void)
{
	elf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

int
kiln_elf_magic(const void *data, size_t len)
{
	return len >= 4 && memcmp(data, ELFMAG, SELFMAG) == 0;
}

static void
elf_endp(Elf **e)
{
	if (*e)
		elf_end(*e);
}

/* libelf's handle on @data, or NULL with one error recorded. */
static Elf *
elf_open(struct kiln_ctx *ctx, void *data, size_t len)
{
	Elf *e;

	pthread_once(&elf_once, elf_init);
	elf_errno();	/* clears what an earlier file left */
	if (!elf_ok)
		return kiln_error(ctx, KILN_EXIT_FAILED, "libelf: %s", elf_errmsg(-1)), NULL;
	if (!kiln_elf_magic(data, len))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "not an ELF file"), NULL;
	if (len > KILN_ELF_MAX)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "an ELF file of %zu bytes (at most %zu are read)", len,
				  KILN_ELF_MAX), NULL;
	e = elf_memory(data, len);
	if (!e)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "unreadable ELF file: %s", elf_errmsg(-1)), NULL;
	if (elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "not an ELF object"), NULL;
	}
	return e;
}

static int
elf_fail(struct kiln_ctx *ctx, const char *what)
{
	return kiln_error(ctx, KILN_EXIT_INTEGRITY, "unreadable ELF file: %s: %s", what, elf_errmsg(-1));
}

void
kiln_elf_release(struct kiln_elf *e)
{
	free(e->interp);
	free(e->soname);
	kiln_strv_release(&e->needed);
	kiln_strv_release(&e->runpath);
	memset(e, 0, sizeof(*e));
}

static int
read_interp(struct kiln_ctx *ctx, Elf *e, struct kiln_elf *out)
{
	size_t n;

	if (elf_getphdrnum(e, &n) != 0)
		return elf_fail(ctx, "program headers");
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		const char *s;

		if (!gelf_getphdr(e, (int)i, &ph))
			return elf_fail(ctx, "program header");
		if (ph.p_type != PT_INTERP)
			continue;
		d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		if (!d || !d->d_buf || d->d_size == 0)
			return elf_fail(ctx, "PT_INTERP");
		s = d->d_buf;
		if (!memchr(s, '\0', d->d_size) || !*s)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "unreadable ELF file: PT_INTERP is not a path");
		out->interp = kiln_strdup(s);
		return 0;
	}
	return 0;
}

static int
read_dynamic(struct kiln_ctx *ctx, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct kiln_elf *out)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t entsize = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
	const char *rpath = NULL, *runpath = NULL;

	if (!d || entsize == 0)
		return elf_fail(ctx, "the dynamic section");
	out->dynamic = 1;
	for (size_t i = 0; i < d->d_size / entsize; i++) {
		GElf_Dyn dyn;
		const char *s;

		if (!gelf_getdyn(d, (int)i, &dyn))
			return elf_fail(ctx, "a dynamic entry");
		if (dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
			continue;
		s = elf_strptr(e, sh->sh_link, dyn.d_un.d_val);
		if (!s)
			return elf_fail(ctx, "a dynamic entry's string");
		switch (dyn.d_tag) {
		case DT_NEEDED:
			if (!*s || strchr(s, '\n') || strchr(s, '\t'))
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "unreadable ELF file: a DT_NEEDED name that is empty or has control characters");
			kiln_strv_push(&out->needed, s);
			break;
		case DT_SONAME:
			if (!out->soname)
				out->soname = kiln_strdup(s);
			break;
		case DT_RPATH:
			rpath = s;
			break;
		default:
			runpath = s;
			break;
		}
	}
	/* DT_RUNPATH, when present, makes the loader ignore DT_RPATH */
	if (runpath || rpath) {
		_cleanup_free_ char *list = kiln_strdup(runpath ? runpath : rpath);
		char *save = NULL;

		for (char *t = strtok_r(list, ":", &save); t; t = strtok_r(NULL, ":", &save))
			kiln_strv_push(&out->runpath, t);
	}
	return 0;
}

static int
read_all(struct kiln_ctx *ctx, Elf *e, struct kiln_elf *out)
{
	Elf_Scn *scn = NULL;

	if (read_interp(ctx, e, out) < 0)
		return -1;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return elf_fail(ctx, "a section header");
		if (sh.sh_type != SHT_DYNAMIC)
			continue;
		if (out->dynamic)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "unreadable ELF file: two dynamic sections");
		if (read_dynamic(ctx, e, scn, &sh, out) < 0)
			return -1;
	}
	return 0;
}

int
kiln_elf_read(struct kiln_ctx *ctx, void *data, size_t len, struct kiln_elf *ret)
{
	_cleanup_(elf_endp) Elf *e = elf_open(ctx, data, len);
	struct kiln_elf out = { 0 };

	if (!e)
		return -1;
	if (read_all(ctx, e, &out) < 0) {
		kiln_elf_release(&out);
		return -1;
	}
	*ret = out;
	return 0;
}

int
kiln_elf_section(struct kiln_ctx *ctx, void *data, size_t len, const char *name, char **ret_data, size_t *ret_len)
{
	_cleanup_(elf_endp) Elf *e = elf_open(ctx, data, len);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!e)
		return -1;
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		return elf_fail(ctx, "the section names");
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *n;
		Elf_Data *d;
		char *copy;

		if (!gelf_getshdr(scn, &sh))
			return elf_fail(ctx, "a section header");
		n = elf_strptr(e, shstrndx, sh.sh_name);
		if (!n)
			return elf_fail(ctx, "a section name");
		if (strcmp(n, name) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS)
			return 1;
		d = elf_rawdata(scn, NULL);
		if (!d)
			return elf_fail(ctx, name);
		copy = kiln_malloc(d->d_size + 1);
		if (d->d_size)
			memcpy(copy, d->d_buf, d->d_size);
		copy[d->d_size] = '\0';
		*ret_data = copy;
		*ret_len = d->d_size;
		return 0;
	}
	return 1;
}
