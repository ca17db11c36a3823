/*
 * policy.h - kiln audit's policy: what a guest's filesystem must look like,
 * and its evaluation over a list of files and the image's account files.
 * Pure: the files come from wherever the caller read them (libguestfs, an
 * initramfs, files.tsv).
 *
 * A policy file is INI text (inih):
 *
 *   [Paths]
 *   /etc/passwd=0644 root root        exact mode, then owner and group ('-' or absent: any)
 *   /etc/shadow=max 0640 root -       no permission bit beyond 0640 (an absent file passes;
 *                                     an exact mode makes an absent file a finding, "missing")
 *   [WorldWritable]                   (regular files, and directories without the sticky bit)
 *   Allow=/tmp /var/tmp               directories under which world-writable entries are fine
 *   [Setuid]
 *   Allow=/usr/bin/passwd             setuid/setgid files that may be
 *   [Accounts]
 *   EmptyPasswords=deny               deny or allow (default deny)
 *   ExtraUid0=deny                    users with uid 0 besides root
 *   Unowned=deny                      files whose uid or gid has no account
 *
 * Errors are exit 2 naming FILE:LINE. Each finding is {rule, path,
 * expected, actual}; rules: mode, owner, group, missing, world-writable,
 * setuid, unowned, empty-password, uid0.
 */
#ifndef KILN_AUDIT_POLICY_H
#define KILN_AUDIT_POLICY_H

#include "kiln.h"

#define KILN_AUDIT_POLICY_MAX (256 * 1024)

struct kiln_audit_path {
	char *path;
	int exact;		/* the mode must be @mode; else no bit beyond it */
	unsigned mode;
	char *owner, *group;	/* NULL: any */
	int line;
};

struct kiln_audit_policy {
	struct kiln_audit_path *paths;
	size_t n_paths;
	struct kiln_strv ww_allow, suid_allow;
	int empty_passwords, extra_uid0, unowned;	/* 1: deny (a finding) */
};

int kiln_audit_policy_parse(struct kiln_ctx *ctx, const char *path, const char *data, size_t len,
			    struct kiln_audit_policy *ret);
void kiln_audit_policy_release(struct kiln_audit_policy *p);

/* One file of the audited filesystem. */
struct kiln_audit_file {
	const char *path;	/* absolute, normalized */
	char type;		/* f d l c b p s */
	unsigned mode;		/* permission bits, with setuid/setgid/sticky */
	unsigned uid, gid;
};

struct kiln_finding {
	char *rule, *path, *expected, *actual;
};
void kiln_findings_free(struct kiln_finding *f, size_t n);

/*
 * kiln_audit_evaluate() - the findings of @p over @files (n) and the text
 * of the image's /etc/passwd, /etc/group and /etc/shadow (NULL when the
 * image has none), appended to *@ret (*@ret_n entries), in the order: paths
 * as the policy lists them, then files in their order, then accounts.
 */
void kiln_audit_evaluate(const struct kiln_audit_policy *p, const struct kiln_audit_file *files, size_t n,
			 const char *passwd, const char *group, const char *shadow, struct kiln_finding **ret,
			 size_t *ret_n);

/* The default policy's text (audit/default.policy, compiled in). */
extern const char kiln_audit_default_policy[];

#endif
