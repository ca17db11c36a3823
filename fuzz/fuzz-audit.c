/*
 * fuzz-audit.c - kiln audit's policy parser, and the evaluation of what
 * parses over a fixed file list and account files (the input's first line,
 * when it starts with "#passwd:", stands in for /etc/passwd: the accounts
 * come from the audited image, which is untrusted too); and the input as
 * a foreign image's dpkg status, read into packages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"
#include "policy.h"
#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kiln_audit_file files[] = {
		{ "/etc/passwd", 'f', 0644, 0, 0 }, { "/tmp", 'd', 01777, 0, 0 }, { "/x", 'f', 04777, 5, 5 },
		{ "/", 'd', 0755, 0, 0 }, { "/l", 'l', 0777, 0, 0 },
	};
	char *text = kiln_strndup((const char *)data, size), *passwd = NULL;
	struct kiln_audit_policy p;
	struct kiln_finding *f = NULL;
	struct kiln_ctx ctx;
	size_t n = 0;

	if (!strncmp(text, "#passwd:", 8))
		passwd = kiln_strndup(text + 8, strcspn(text + 8, "\n"));
	kiln_ctx_init(&ctx);
	if (kiln_audit_policy_parse(&ctx, "fuzz", (const char *)data, size, &p) == 0) {
		kiln_audit_evaluate(&p, files, sizeof(files) / sizeof(files[0]), passwd ? passwd : text, text, text, &f, &n);
		for (size_t i = 0; i < n; i++)
			if (!f[i].rule || !f[i].path || !f[i].expected || !f[i].actual)
				abort();
		kiln_findings_free(f, n);
		free(f);
		kiln_audit_policy_release(&p);
	} else if (ctx.code != KILN_EXIT_USAGE) {
		abort();	/* a bad policy is exit 2, always */
	}
	{
		json_t *pkgs = kiln_audit_dpkg_packages(text);
		size_t i;
		json_t *pkg;

		json_array_foreach(pkgs, i, pkg)
			if (!json_string_value(json_object_get(pkg, "name")) || !json_string_value(json_object_get(pkg, "version")))
				abort();
		json_decref(pkgs);
	}
	free(passwd);
	free(text);
	return 0;
}
