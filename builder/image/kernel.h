/* kernel.h - the kernel artifact: vmlinuz and the closure of the modules a recipe names. */
#ifndef KILN_KERNEL_H
#define KILN_KERNEL_H

#include "kiln.h"

struct kiln_module {
	char *name;		/* "virtio_net" */
	char *relpath;		/* "kernel/drivers/net/virtio_net.ko" below /lib/modules/RELEASE */
	char *data;
	size_t len;
	struct kiln_strv depends;
	int wanted;		/* in the closure */
};

struct kiln_kernel {
	char *release;		/* "6.1.0-28-cloud-amd64" */
	char *vmlinuz;
	size_t vmlinuz_len;
	struct kiln_module *mods;	/* every module of the package */
	size_t n_mods;
	size_t *load_order;	/* indexes into mods: the closure, dependencies first */
	size_t n_load;
	struct kiln_strv builtin;	/* names of built-in modules */
	struct kiln_strv skipped_builtin;	/* requested but built in */
	struct kiln_strv missing_optional;	/* requested as "?NAME" and in neither */
	/* modules.* files kept as the package ships them */
	char *order, *builtin_file, *builtin_modinfo;
	size_t order_len, builtin_file_len, builtin_modinfo_len;
	char *config;		/* /boot/config-RELEASE, or NULL when the package has none */
	size_t config_len;
};

/* The kernel's build option @name ("CONFIG_RD_XZ"): 'y', 'm', 'n' (not set), or 0 when the package has no config. */
char kiln_kernel_config(const struct kiln_kernel *k, const char *name);

/*
 * kiln_kernel_load() - read vmlinuz and modules from the kernel .deb at @deb
 * @release: the kernel release the package is for; @modules: the names to
 * load (their dependency closure, from each module's .modinfo, is added);
 * "?NAME" loads NAME when the kernel has it (else it goes to missing_optional).
 * Errors: exit 2 for a module that is neither in the package nor built in,
 * exit 4 for a malformed package.
 */
int kiln_kernel_load(struct kiln_ctx *ctx, const char *deb, const char *data_tar, const char *what, const char *release,
		     const struct kiln_strv *modules, struct kiln_kernel *ret);
void kiln_kernel_release(struct kiln_kernel *k);

/* modules.dep for the closure (relative paths, as depmod writes them); caller frees. */
char *kiln_kernel_modules_dep(const struct kiln_kernel *k);

/*
 * kiln_modinfo_parse() - name and depends= of a kernel module (read with libelf)
 * @data is writable (see kiln_elf_read()). Returns 0 (depends appended to
 * @deps, *@ret_name new or NULL if absent) or -1 if @data is not an ELF
 * object with a .modinfo section.
 */
int kiln_modinfo_parse(char *data, size_t len, char **ret_name, struct kiln_strv *deps);

#endif
